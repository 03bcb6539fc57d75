/*
 * RAUC bundle reader.  A bundle is a payload, a CMS (DER) and the CMS size
 * as 8 bytes big-endian at the very end; the trailer and the CMS say what
 * the payload is, never its first bytes (a crypt payload is ciphertext):
 *
 *	SignedData, detached	plain: the payload is a squashfs holding
 *				manifest.raucm; the signature covers [0,P)
 *	SignedData, inline	verity or crypt: the eContent is the manifest,
 *				the payload a squashfs (encrypted for crypt)
 *				and a dm-verity hash tree over it
 *	EnvelopedData		crypt, encrypted for recipients: nothing but
 *				the recipients is readable without their key
 *
 * Everything is read by pread in bounded pieces: the CMS (at most
 * RAUC_CMS_MAX), squashfs metadata through a sqfs_file_t of our own that
 * refuses reads beyond the payload, the manifest (RAUC_MANIFEST_MAX), the
 * verity tree one hash block and 128 data blocks at a time, and a plain
 * bundle's payload streamed through CMS_verify by a file-range BIO.
 * libsquashfs sizes some allocations by on-disk fields, so the root
 * directory and manifest inodes are read and bounded here before
 * libsquashfs sees them.  The manifest parser is our own, bounded, and
 * follows GLib's key-file rules as RAUC writes and reads them.
 *
 * The crypt-key of an unencrypted crypt bundle is validated and never
 * copied; the buffers that held it are wiped (best effort: OpenSSL keeps
 * transient copies while verifying).
 */
#include "rauc.h"

#include <sys/stat.h>

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_reader.h>
#include <sqfs/predef.h>
#include <sqfs/super.h>

#include "log.h"
#include "trust.h"
#include "util.h"

#define RAUC_TRAILER 8  /* big-endian CMS size after the CMS */
#define RAUC_BLOCK 4096 /* dm-verity data and hash block */
#define RAUC_DIGEST 32  /* SHA-256, also the salt size */
#define RAUC_HEX 64     /* verity-hash, verity-salt, crypt-key, sha256 */
#define RAUC_PER_BLOCK (RAUC_BLOCK / RAUC_DIGEST) /* digests per block */
#define RAUC_LEVELS_MAX 10       /* verity levels that 64-bit sizes allow */
#define RAUC_KEYID_MAX 64        /* bytes of a subject key identifier shown */
#define RAUC_FRAGMENTS_MAX 65536 /* squashfs fragment table entries */
#define RAUC_DIRENTS_MAX 65536   /* root directory entries looked at */
#define RAUC_MANIFEST_NAME "manifest.raucm"
#define RAUC_IMAGE_PREFIX "image."

/* F, S and P of rauc.md §2.1. */
struct rauc_layout {
	uint64_t file;
	uint64_t cms;
	uint64_t payload;
};

/* clang-format off */
static const char *const rauc_errstr[] = {
	[RAUC_OK]		= "no error",
	[RAUC_ERR_IO]		= "the bundle could not be read",
	[RAUC_ERR_NOT_BUNDLE]	= "not a RAUC bundle (no valid trailer and CMS)",
	[RAUC_ERR_FORMAT]	= "the bundle is corrupt or inconsistent",
	[RAUC_ERR_COMPRESSION]	= "the bundle's squashfs compression is not supported",
	[RAUC_ERR_MANIFEST]	= "the bundle's manifest is missing or invalid",
	[RAUC_ERR_LIMIT]	= "the bundle exceeds a limit",
	[RAUC_ERR_PAYLOAD]	= "the bundle's payload does not match its verity hash tree",
	[RAUC_ERR_SIGNATURE]	= "the bundle's signature does not verify",
};

static const char *const rauc_formatstr[] = {
	[RAUC_FORMAT_PLAIN]		= "plain",
	[RAUC_FORMAT_VERITY]		= "verity",
	[RAUC_FORMAT_CRYPT]		= "crypt",
	[RAUC_FORMAT_CRYPT_ENCRYPTED]	= "crypt-encrypted",
};

static const char *const rauc_sigstr[] = {
	[RAUC_SIG_UNCHECKED]	= "unchecked",
	[RAUC_SIG_VERIFIED]	= "verified",
	[RAUC_SIG_FAILED]	= "failed",
	[RAUC_SIG_UNREADABLE]	= "unreadable",
};
/* clang-format on */

const char *
rauc_strerror(enum rauc_err err)
{
	if ((size_t)err >= NELEM(rauc_errstr) || rauc_errstr[err] == NULL)
		return "unknown error";
	return rauc_errstr[err];
}

const char *
rauc_format_name(enum rauc_format f)
{
	if ((size_t)f >= NELEM(rauc_formatstr))
		return "unknown";
	return rauc_formatstr[f];
}

const char *
rauc_sig_name(enum rauc_sig s)
{
	if ((size_t)s >= NELEM(rauc_sigstr))
		return "unknown";
	return rauc_sigstr[s];
}

/* Write the reason into why (if any) and return err. */
static enum rauc_err rauc_fail(char *why, size_t whylen, enum rauc_err err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum rauc_err
rauc_fail(char *why, size_t whylen, enum rauc_err err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

void
rauc_info_clear(struct rauc_info *info)
{
	struct rauc_image *im;
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nimages; i++) {
		im = &info->images[i];
		free(im->slotclass);
		free(im->variant);
		free(im->filename);
		free(im->sha256);
		free(im->hooks);
		free(im->adaptive);
	}
	free(info->images);
	for (i = 0; i < info->nrecipients; i++)
		free(info->recipients[i]);
	free(info->recipients);
	free(info->compatible);
	free(info->version);
	free(info->description);
	free(info->build);
	free(info->hooks);
	free(info->verity_hash);
	free(info->verity_salt);
	free(info->sig_error);
	free(info->signer_subject);
	free(info->signer_issuer);
	free(info->signer_spki_sha256);
	memset(info, 0, sizeof(*info));
}

/* Reading. */

/* Read exactly len bytes at off.  0 ok; -1 with errno (EIO: end of file). */
static int
rauc_pread(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		if (off > (uint64_t)INT64_MAX - len) {
			errno = EOVERFLOW;
			return -1;
		}
		n = pread(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static bool
rauc_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* True if s is exactly n hex digits. */
static bool
rauc_is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

static void
rauc_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = isdigit((unsigned char)hex[2 * i])
		         ? hex[2 * i] - '0'
		         : tolower((unsigned char)hex[2 * i]) - 'a' + 10;
		lo = isdigit((unsigned char)hex[2 * i + 1])
		         ? hex[2 * i + 1] - '0'
		         : tolower((unsigned char)hex[2 * i + 1]) - 'a' + 10;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
}

/* A decimal in [0, INT64_MAX], digits only.  0 ok, -1 not one. */
static int
rauc_u63(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    v > ((uint64_t)INT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Trailer and CMS. */

/*
 * Read the trailer and the CMS of the bundle on fd into *lay and *cmsp.
 * RAUC_ERR_NOT_BUNDLE unless the trailer is sane and the CMS parses to
 * exactly S bytes of SignedData or EnvelopedData.
 */
static enum rauc_err
rauc_open_cms(int fd, struct rauc_layout *lay, CMS_ContentInfo **cmsp,
    char *why, size_t whylen)
{
	unsigned char trailer[RAUC_TRAILER], *der;
	const unsigned char *p;
	CMS_ContentInfo *cms;
	struct stat st;
	uint64_t s;
	int nid;

	*cmsp = NULL;
	if (fstat(fd, &st) == -1)
		return rauc_fail(
		    why, whylen, RAUC_ERR_IO, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rauc_fail(why, whylen, RAUC_ERR_IO,
		    "the bundle is not a regular file");
	lay->file = (uint64_t)st.st_size;
	if (lay->file < RAUC_TRAILER + RAUC_BLOCK)
		return rauc_fail(why, whylen, RAUC_ERR_NOT_BUNDLE,
		    "not a RAUC bundle: %llu bytes are too few",
		    (unsigned long long)lay->file);
	if (rauc_pread(
	        fd, trailer, sizeof(trailer), lay->file - RAUC_TRAILER) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_IO, "read error: %s",
		    strerror(errno));
	memcpy(&s, trailer, sizeof(s));
	s = be64toh(s);
	if (s == 0 || s > RAUC_CMS_MAX || s > lay->file - RAUC_TRAILER)
		return rauc_fail(why, whylen, RAUC_ERR_NOT_BUNDLE,
		    "not a RAUC bundle: the trailer gives a CMS size of %llu",
		    (unsigned long long)s);
	lay->cms = s;
	lay->payload = lay->file - RAUC_TRAILER - s;
	der = xmalloc(s);
	if (rauc_pread(fd, der, s, lay->payload) == -1) {
		free(der);
		return rauc_fail(why, whylen, RAUC_ERR_IO, "read error: %s",
		    strerror(errno));
	}
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)s);
	if (cms != NULL && p != der + s) {
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	/* An unencrypted crypt bundle's CMS holds the crypt-key in clear. */
	OPENSSL_cleanse(der, s);
	free(der);
	if (cms == NULL)
		return rauc_fail(why, whylen, RAUC_ERR_NOT_BUNDLE,
		    "not a RAUC bundle: no CMS of %llu bytes before the "
		    "trailer",
		    (unsigned long long)s);
	nid = OBJ_obj2nid(CMS_get0_type(cms));
	if (nid != NID_pkcs7_signed && nid != NID_pkcs7_enveloped) {
		CMS_ContentInfo_free(cms);
		return rauc_fail(why, whylen, RAUC_ERR_NOT_BUNDLE,
		    "not a RAUC bundle: the CMS is %s, not signed or enveloped "
		    "data",
		    OBJ_nid2sn(nid));
	}
	*cmsp = cms;
	return RAUC_OK;
}

bool
rauc_detect(int fd)
{
	struct rauc_layout lay;
	CMS_ContentInfo *cms;
	enum rauc_err err;

	err = rauc_open_cms(fd, &lay, &cms, NULL, 0);
	CMS_ContentInfo_free(cms); /* accepts NULL */
	ERR_clear_error();
	return err == RAUC_OK;
}

/*
 * Manifest.  GLib key-file rules as GLib 2.74 applies them: lines end at
 * '\n' (a '\r' before it is dropped), leading white space is skipped, '#'
 * starts a comment line, "[name]" opens or reopens a group (a name holds
 * no '[', ']' or control characters; spaces may follow the ']'), and
 * "key = value" sets a key (spaces around the key and before the value
 * dropped, the last setting wins).  Anything else is an error.  Values
 * keep GLib's escapes (\s \n \t \r \\) until read; lists split at ';'.
 * Unknown groups and keys are accepted: newer RAUC adds some.
 */

/* Groups the reader gives a meaning to; the rest are kept and ignored. */
enum rauc_gkind {
	RAUC_G_OTHER,
	RAUC_G_UPDATE,
	RAUC_G_BUNDLE,
	RAUC_G_HOOKS,
	RAUC_G_HANDLER,
	RAUC_G_IMAGE,
};

/* Value slots of the singleton groups. */
enum rauc_key {
	RAUC_K_COMPATIBLE,
	RAUC_K_VERSION,
	RAUC_K_DESCRIPTION,
	RAUC_K_BUILD,
	RAUC_K_FORMAT,
	RAUC_K_VERITY_HASH,
	RAUC_K_VERITY_SALT,
	RAUC_K_VERITY_SIZE,
	RAUC_K_CRYPT_KEY,
	RAUC_K_HOOK_FILE,
	RAUC_K_HOOKS,
	RAUC_K_HANDLER_FILE,
	RAUC_K_COUNT
};

/* Value slots of an image group. */
enum rauc_ikey {
	RAUC_IK_FILENAME,
	RAUC_IK_SHA256,
	RAUC_IK_SIZE,
	RAUC_IK_HOOKS,
	RAUC_IK_ADAPTIVE,
	RAUC_IK_COUNT
};

/*
 * Keys read: group kind, key, and its slot (enum rauc_key, or enum
 * rauc_ikey for RAUC_G_IMAGE).
 */
struct rauc_keydef {
	enum rauc_gkind group;
	const char *name;
	int slot;
};

/* clang-format off */
static const struct rauc_keydef rauc_keys[] = {
	{ RAUC_G_UPDATE,	"compatible",	RAUC_K_COMPATIBLE },
	{ RAUC_G_UPDATE,	"version",	RAUC_K_VERSION },
	{ RAUC_G_UPDATE,	"description",	RAUC_K_DESCRIPTION },
	{ RAUC_G_UPDATE,	"build",	RAUC_K_BUILD },
	{ RAUC_G_BUNDLE,	"format",	RAUC_K_FORMAT },
	{ RAUC_G_BUNDLE,	"verity-hash",	RAUC_K_VERITY_HASH },
	{ RAUC_G_BUNDLE,	"verity-salt",	RAUC_K_VERITY_SALT },
	{ RAUC_G_BUNDLE,	"verity-size",	RAUC_K_VERITY_SIZE },
	{ RAUC_G_BUNDLE,	"crypt-key",	RAUC_K_CRYPT_KEY },
	{ RAUC_G_HOOKS,		"filename",	RAUC_K_HOOK_FILE },
	{ RAUC_G_HOOKS,		"hooks",	RAUC_K_HOOKS },
	{ RAUC_G_HANDLER,	"filename",	RAUC_K_HANDLER_FILE },
	{ RAUC_G_IMAGE,		"filename",	RAUC_IK_FILENAME },
	{ RAUC_G_IMAGE,		"sha256",	RAUC_IK_SHA256 },
	{ RAUC_G_IMAGE,		"size",		RAUC_IK_SIZE },
	{ RAUC_G_IMAGE,		"hooks",	RAUC_IK_HOOKS },
	{ RAUC_G_IMAGE,		"adaptive",	RAUC_IK_ADAPTIVE },
};

static const struct {
	const char *name;
	enum rauc_gkind kind;
} rauc_groups[] = {
	{ "update",	RAUC_G_UPDATE },
	{ "bundle",	RAUC_G_BUNDLE },
	{ "hooks",	RAUC_G_HOOKS },
	{ "handler",	RAUC_G_HANDLER },
};
/* clang-format on */

struct rauc_group {
	const char *name;
	enum rauc_gkind kind;
	size_t image; /* index into images for RAUC_G_IMAGE */
};

struct rauc_rawimage {
	const char *group;
	const char *v[RAUC_IK_COUNT];
};

/* A manifest split in place: every name and value points into text. */
struct rauc_mf {
	char *text;
	size_t len;
	struct rauc_group *groups;
	size_t ngroups;
	struct rauc_rawimage *images;
	size_t nimages;
	const char *v[RAUC_K_COUNT];
};

static enum rauc_gkind
rauc_group_kind(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(rauc_groups); i++)
		if (strcmp(name, rauc_groups[i].name) == 0)
			return rauc_groups[i].kind;
	if (strncmp(name, RAUC_IMAGE_PREFIX, strlen(RAUC_IMAGE_PREFIX)) == 0)
		return RAUC_G_IMAGE;
	return RAUC_G_OTHER;
}

/* A "[name]" line: make its group current, adding it if new. */
static enum rauc_err
rauc_mf_group(struct rauc_mf *mf, char *line, size_t lineno, size_t *cur,
    char *why, size_t whylen)
{
	struct rauc_group *g;
	char *name = line + 1, *end, *p;
	size_t i;

	end = strchr(name, ']');
	for (p = end == NULL ? NULL : end + 1; p != NULL && *p != '\0'; p++)
		if (*p != ' ' && *p != '\t')
			break;
	if (end == NULL || *p != '\0' || end == name)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest line %zu is not a valid [group]", lineno);
	*end = '\0';
	for (p = name; *p != '\0'; p++)
		if (*p == '[' || iscntrl((unsigned char)*p))
			return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
			    "manifest line %zu: invalid group name", lineno);
	for (i = 0; i < mf->ngroups; i++) {
		if (strcmp(mf->groups[i].name, name) == 0) {
			*cur = i;
			return RAUC_OK;
		}
	}
	if (mf->ngroups == RAUC_GROUPS_MAX)
		return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
		    "manifest has more than %d groups", RAUC_GROUPS_MAX);
	g = &mf->groups[mf->ngroups];
	g->name = name;
	g->kind = rauc_group_kind(name);
	if (g->kind == RAUC_G_IMAGE) {
		if (mf->nimages == RAUC_IMAGES_MAX)
			return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
			    "manifest has more than %d images",
			    RAUC_IMAGES_MAX);
		g->image = mf->nimages++;
		mf->images[g->image].group = name;
	}
	*cur = mf->ngroups++;
	return RAUC_OK;
}

/* key=value of the group g: keep the value if the key is one we read. */
static void
rauc_mf_set(struct rauc_mf *mf, const struct rauc_group *g, const char *key,
    const char *value)
{
	size_t i;

	for (i = 0; i < NELEM(rauc_keys); i++) {
		if (rauc_keys[i].group != g->kind ||
		    strcmp(rauc_keys[i].name, key) != 0)
			continue;
		if (g->kind == RAUC_G_IMAGE)
			mf->images[g->image].v[rauc_keys[i].slot] = value;
		else
			mf->v[rauc_keys[i].slot] = value;
		return;
	}
}

/* One NUL-ended line; *cur is the current group or SIZE_MAX before one. */
static enum rauc_err
rauc_mf_line(struct rauc_mf *mf, char *line, size_t lineno, size_t *cur,
    char *why, size_t whylen)
{
	char *eq, *kend, *value;

	while (rauc_is_space(*line))
		line++;
	if (*line == '\0' || *line == '#')
		return RAUC_OK;
	if (*line == '[')
		return rauc_mf_group(mf, line, lineno, cur, why, whylen);
	if ((eq = strchr(line, '=')) == NULL || eq == line)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest line %zu is not a key=value pair, a [group] or "
		    "a comment",
		    lineno);
	if (*cur == SIZE_MAX)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest line %zu: key before the first [group]", lineno);
	for (kend = eq; kend > line && rauc_is_space(kend[-1]); kend--)
		;
	*kend = '\0';
	for (value = eq + 1; rauc_is_space(*value); value++)
		;
	rauc_mf_set(mf, &mf->groups[*cur], line, value);
	return RAUC_OK;
}

/* Split mf->text (NUL-ended, mutable) into groups and values. */
static enum rauc_err
rauc_mf_split(struct rauc_mf *mf, char *why, size_t whylen)
{
	char *p = mf->text, *end = mf->text + mf->len, *nl;
	size_t lineno = 0, linelen, cur = SIZE_MAX;
	enum rauc_err err;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		linelen = (size_t)((nl != NULL ? nl : end) - p);
		if (++lineno > RAUC_LINES_MAX)
			return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
			    "manifest has more than %d lines", RAUC_LINES_MAX);
		if (linelen > RAUC_LINE_MAX)
			return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
			    "manifest line %zu is longer than %d bytes", lineno,
			    RAUC_LINE_MAX);
		p[linelen] = '\0';
		if (linelen > 0 && p[linelen - 1] == '\r')
			p[linelen - 1] = '\0';
		if ((err = rauc_mf_line(mf, p, lineno, &cur, why, whylen)) !=
		    RAUC_OK)
			return err;
		p += linelen + 1;
	}
	return RAUC_OK;
}

/*
 * Undo GLib's escapes in raw into a new string, or NULL for an invalid
 * escape.  A list (list=true) is split at unescaped ';', its empty items
 * dropped and the rest joined with ';' ("a;;b;" gives "a;b").
 */
static char *
rauc_unescape(const char *raw, bool list)
{
	char *out = xmalloc(strlen(raw) + 1), *o = out, c;
	bool open = false;
	size_t items = 0;
	const char *p;

	for (p = raw; *p != '\0'; p++) {
		c = *p;
		if (c == ';' && list) {
			open = false;
			continue;
		}
		if (c == '\\') {
			switch (*++p) {
			case 's':
				c = ' ';
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '\\':
				c = '\\';
				break;
			case ';':
				if (list) {
					c = ';';
					break;
				}
				/* FALLTHROUGH */
			default: /* also a backslash at the end of the line */
				free(out);
				return NULL;
			}
		}
		if (list && !open) {
			if (items++ > 0)
				*o++ = ';';
			open = true;
		}
		*o++ = c;
	}
	*o = '\0';
	return out;
}

/*
 * The value raw (may be NULL) as a string or list; *out is NULL when it is
 * absent or empty.  -1 for an invalid escape.
 */
static int
rauc_mf_value(const char *raw, bool list, char **out)
{
	*out = NULL;
	if (raw == NULL)
		return 0;
	if ((*out = rauc_unescape(raw, list)) == NULL)
		return -1;
	if (**out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* True if the ';'-joined list holds item. */
static bool
rauc_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, item, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
		if ((p = strchr(p, ';')) != NULL)
			p++;
	}
	return false;
}

/*
 * s cut to at most 64 bytes on a UTF-8 boundary, control characters as
 * '?', for quoting manifest text in a one-line reason.
 */
static const char *
rauc_quote(const char *s, char buf[65])
{
	size_t i, n = utf8_cut(s, 64);

	for (i = 0; i < n; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* An image filename must name a file in the bundle's top directory. */
static bool
rauc_plain_name(const char *s)
{
	const char *p;

	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (p = s; *p != '\0'; p++)
		if (*p == '/' || iscntrl((unsigned char)*p))
			return false;
	return true;
}

/* The image of raw group r into *im, checked as RAUC's manifest.c does. */
static enum rauc_err
rauc_mf_image(const struct rauc_rawimage *r, struct rauc_image *im, char *why,
    size_t whylen)
{
	const char *rest = r->group + strlen(RAUC_IMAGE_PREFIX), *dot;
	const char *size = r->v[RAUC_IK_SIZE], *sha = r->v[RAUC_IK_SHA256];
	char q[65];

	dot = strchr(rest, '.');
	im->slotclass =
	    dot == NULL ? xstrdup(rest) : xstrndup(rest, (size_t)(dot - rest));
	im->variant = dot == NULL ? NULL : xstrdup(dot + 1);
	if (im->slotclass[0] == '\0' ||
	    (im->variant != NULL && im->variant[0] == '\0'))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "image group [%s] lacks a slot class or variant",
		    rauc_quote(r->group, q));
	if (rauc_mf_value(r->v[RAUC_IK_FILENAME], false, &im->filename) == -1 ||
	    rauc_mf_value(r->v[RAUC_IK_HOOKS], true, &im->hooks) == -1 ||
	    rauc_mf_value(r->v[RAUC_IK_ADAPTIVE], true, &im->adaptive) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "image [%s]: invalid escape sequence",
		    rauc_quote(r->group, q));
	if (im->filename == NULL) {
		/* Only an install hook may do without an image file. */
		if (im->hooks == NULL || !rauc_list_has(im->hooks, "install"))
			return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
			    "image [%s] has no filename",
			    rauc_quote(r->group, q));
		return RAUC_OK;
	}
	if (!rauc_plain_name(im->filename))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "image filename '%s' is not a plain name",
		    rauc_quote(im->filename, q));
	if (sha == NULL || !rauc_is_hex(sha, RAUC_HEX))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "image %s has no valid sha256",
		    rauc_quote(im->filename, q));
	im->sha256 = xstrdup(sha);
	if (size == NULL &&
	    rauc_list_has(im->hooks ? im->hooks : "", "install"))
		im->size = 0;
	else if (size == NULL || rauc_u63(size, &im->size) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "image %s has no valid size", rauc_quote(im->filename, q));
	return RAUC_OK;
}

/*
 * [bundle]: format and, for verity and crypt, the keys those need in the
 * signed (external) manifest.  The manifest inside a squashfs (internal)
 * has none: its format is only checked against the CMS.
 */
static enum rauc_err
rauc_mf_bundle(const struct rauc_mf *mf, bool external, struct rauc_info *out,
    char *why, size_t whylen)
{
	const char *hash = mf->v[RAUC_K_VERITY_HASH];
	const char *salt = mf->v[RAUC_K_VERITY_SALT];
	const char *size = mf->v[RAUC_K_VERITY_SIZE];
	const char *key = mf->v[RAUC_K_CRYPT_KEY];
	char *format, q[65];

	if (rauc_mf_value(mf->v[RAUC_K_FORMAT], false, &format) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[bundle] format: invalid escape sequence");
	if (format == NULL || strcmp(format, "plain") == 0)
		out->format = RAUC_FORMAT_PLAIN;
	else if (strcmp(format, "verity") == 0)
		out->format = RAUC_FORMAT_VERITY;
	else if (strcmp(format, "crypt") == 0)
		out->format = RAUC_FORMAT_CRYPT;
	else {
		enum rauc_err err = rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "invalid bundle format '%s'", rauc_quote(format, q));
		free(format);
		return err;
	}
	free(format);
	if (out->format == RAUC_FORMAT_PLAIN || !external)
		return RAUC_OK;
	if (hash == NULL || !rauc_is_hex(hash, RAUC_HEX))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[bundle] verity-hash is missing or not %d hex digits",
		    RAUC_HEX);
	if (salt == NULL || !rauc_is_hex(salt, RAUC_HEX))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[bundle] verity-salt is missing or not %d hex digits",
		    RAUC_HEX);
	if (size == NULL || rauc_u63(size, &out->verity_size) == -1 ||
	    out->verity_size == 0 || out->verity_size % RAUC_BLOCK != 0)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[bundle] verity-size is missing or not a multiple of %d",
		    RAUC_BLOCK);
	/* Checked, never copied, never quoted. */
	if (out->format == RAUC_FORMAT_CRYPT &&
	    (key == NULL || !rauc_is_hex(key, RAUC_HEX)))
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[bundle] crypt-key is missing or not %d hex digits",
		    RAUC_HEX);
	out->verity_hash = xstrdup(hash);
	out->verity_salt = xstrdup(salt);
	return RAUC_OK;
}

/* The split manifest into out (zeroed by the caller except sizes). */
static enum rauc_err
rauc_mf_build(const struct rauc_mf *mf, bool external, struct rauc_info *out,
    char *why, size_t whylen)
{
	enum rauc_err err;
	char *file = NULL;
	bool slot_hooks = false;
	size_t i;

	if (rauc_mf_value(mf->v[RAUC_K_COMPATIBLE], false, &out->compatible) ==
	        -1 ||
	    rauc_mf_value(mf->v[RAUC_K_VERSION], false, &out->version) == -1 ||
	    rauc_mf_value(
	        mf->v[RAUC_K_DESCRIPTION], false, &out->description) == -1 ||
	    rauc_mf_value(mf->v[RAUC_K_BUILD], false, &out->build) == -1 ||
	    rauc_mf_value(mf->v[RAUC_K_HOOKS], true, &out->hooks) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest: invalid escape sequence");
	if (out->compatible == NULL)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest has no [update] compatible");
	if ((err = rauc_mf_bundle(mf, external, out, why, whylen)) != RAUC_OK)
		return err;
	if (rauc_mf_value(mf->v[RAUC_K_HOOK_FILE], false, &file) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[hooks] filename: invalid escape sequence");
	out->has_hook_file = file != NULL;
	free(file);
	if (rauc_mf_value(mf->v[RAUC_K_HANDLER_FILE], false, &file) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "[handler] filename: invalid escape sequence");
	out->has_handler = file != NULL;
	free(file);
	if (mf->nimages > 0)
		out->images = xcalloc(mf->nimages, sizeof(*out->images));
	for (i = 0; i < mf->nimages; i++) {
		out->nimages++;
		err =
		    rauc_mf_image(&mf->images[i], &out->images[i], why, whylen);
		if (err != RAUC_OK)
			return err;
		slot_hooks |= out->images[i].hooks != NULL;
	}
	if ((out->hooks != NULL || slot_hooks) && !out->has_hook_file)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "hooks are used, but [hooks] has no filename");
	return RAUC_OK;
}

/*
 * Parse text into out, which holds nothing yet but the layout sizes;
 * external: the signed manifest of a verity or crypt bundle.
 */
static enum rauc_err
rauc_manifest_into(const char *text, size_t len, bool external,
    struct rauc_info *out, char *why, size_t whylen)
{
	struct rauc_mf mf;
	enum rauc_err err;

	if (len > RAUC_MANIFEST_MAX)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest of %zu bytes is larger than %d", len,
		    RAUC_MANIFEST_MAX);
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "manifest contains a NUL byte");
	if (!utf8_valid(text, len))
		return rauc_fail(
		    why, whylen, RAUC_ERR_MANIFEST, "manifest is not UTF-8");
	memset(&mf, 0, sizeof(mf));
	mf.len = len;
	mf.text = xmalloc(len + 1);
	if (len > 0)
		memcpy(mf.text, text, len);
	mf.text[len] = '\0';
	mf.groups = xcalloc(RAUC_GROUPS_MAX, sizeof(*mf.groups));
	mf.images = xcalloc(RAUC_IMAGES_MAX, sizeof(*mf.images));
	err = rauc_mf_split(&mf, why, whylen);
	if (err == RAUC_OK)
		err = rauc_mf_build(&mf, external, out, why, whylen);
	OPENSSL_cleanse(mf.text, len + 1); /* may hold the crypt-key */
	free(mf.text);
	free(mf.groups);
	free(mf.images);
	return err;
}

enum rauc_err
rauc_parse_manifest(const char *text, size_t len, struct rauc_info *out,
    char *why, size_t whylen)
{
	enum rauc_err err;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		len = 0;
	err = rauc_manifest_into(
	    text == NULL ? "" : text, len, true, out, why, whylen);
	if (err != RAUC_OK)
		rauc_info_clear(out);
	return err;
}

/*
 * Squashfs.  Our sqfs_file_t reads [0, size) of the bundle and nothing
 * else; it lives on the caller's stack, so destroy does nothing.
 */
struct rauc_sqfile {
	sqfs_file_t base;
	int fd;
	uint64_t size;
	int io_errno; /* 0, or errno of the first failed read */
};

static int
rauc_sq_read_at(sqfs_file_t *base, sqfs_u64 off, void *buf, size_t len)
{
	struct rauc_sqfile *f = (struct rauc_sqfile *)base;

	if (off > f->size || len > f->size - off)
		return SQFS_ERROR_OUT_OF_BOUNDS;
	if (rauc_pread(f->fd, buf, len, off) == -1) {
		if (f->io_errno == 0)
			f->io_errno = errno;
		return SQFS_ERROR_IO;
	}
	return 0;
}

static int
rauc_sq_write_at(sqfs_file_t *base, sqfs_u64 off, const void *buf, size_t len)
{
	(void)base;
	(void)off;
	(void)buf;
	(void)len;
	return SQFS_ERROR_UNSUPPORTED;
}

static sqfs_u64
rauc_sq_get_size(const sqfs_file_t *base)
{
	return ((const struct rauc_sqfile *)base)->size;
}

static int
rauc_sq_truncate(sqfs_file_t *base, sqfs_u64 size)
{
	(void)base;
	(void)size;
	return SQFS_ERROR_UNSUPPORTED;
}

static void
rauc_sq_destroy(sqfs_object_t *obj)
{
	(void)obj;
}

static void
rauc_sq_init(struct rauc_sqfile *f, int fd, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->base.base.destroy = rauc_sq_destroy;
	f->base.read_at = rauc_sq_read_at;
	f->base.write_at = rauc_sq_write_at;
	f->base.get_size = rauc_sq_get_size;
	f->base.truncate = rauc_sq_truncate;
	f->fd = fd;
	f->size = size;
}

/* clang-format off */
static const struct {
	int code;
	const char *text;
} rauc_sqerrs[] = {
	{ SQFS_ERROR_ALLOC,		"out of memory" },
	{ SQFS_ERROR_COMPRESSOR,	"decompression failed" },
	{ SQFS_ERROR_CORRUPTED,		"corrupted" },
	{ SQFS_ERROR_UNSUPPORTED,	"unsupported feature" },
	{ SQFS_ERROR_OVERFLOW,		"size overflow" },
	{ SQFS_ERROR_OUT_OF_BOUNDS,	"reference out of bounds" },
	{ SFQS_ERROR_SUPER_MAGIC,	"not a squashfs image" },
	{ SFQS_ERROR_SUPER_VERSION,	"not squashfs 4.0" },
	{ SQFS_ERROR_SUPER_BLOCK_SIZE,	"invalid block size" },
};
/* clang-format on */

/* A libsquashfs error code as RAUC_ERR_IO (if a read failed) or FORMAT. */
static enum rauc_err
rauc_sq_fail(const struct rauc_sqfile *f, int code, const char *what, char *why,
    size_t whylen)
{
	const char *text = "error";
	size_t i;

	if (f->io_errno != 0)
		return rauc_fail(why, whylen, RAUC_ERR_IO, "read error: %s",
		    strerror(f->io_errno));
	for (i = 0; i < NELEM(rauc_sqerrs); i++)
		if (rauc_sqerrs[i].code == code)
			text = rauc_sqerrs[i].text;
	return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
	    "payload squashfs, %s: %s (%d)", what, text, code);
}

/* The superblock's tables must lie in order inside the payload. */
static enum rauc_err
rauc_sq_check_super(
    const sqfs_super_t *sb, uint64_t size, char *why, size_t whylen)
{
	if (sb->bytes_used > size || sb->bytes_used < sizeof(*sb))
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "payload squashfs claims %llu bytes of a %llu-byte payload",
		    (unsigned long long)sb->bytes_used,
		    (unsigned long long)size);
	if (sb->inode_table_start < sizeof(*sb) ||
	    sb->inode_table_start >= sb->directory_table_start ||
	    sb->directory_table_start >= sb->bytes_used)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "payload squashfs tables are out of place");
	if (sb->fragment_entry_count > RAUC_FRAGMENTS_MAX)
		return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
		    "payload squashfs has more than %d fragments",
		    RAUC_FRAGMENTS_MAX);
	return RAUC_OK;
}

static enum rauc_err
rauc_sq_compressor(const sqfs_super_t *sb, struct rauc_sqfile *f,
    sqfs_compressor_t **cmpp, char *why, size_t whylen)
{
	sqfs_compressor_config_t cfg;
	const char *name;
	int r;

	r = sqfs_compressor_config_init(&cfg,
	    (SQFS_COMPRESSOR)sb->compression_id, sb->block_size,
	    SQFS_COMP_FLAG_UNCOMPRESS);
	if (r == 0)
		r = sqfs_compressor_create(&cfg, cmpp);
	if (r != 0) {
		*cmpp = NULL;
		name = sqfs_compressor_name_from_id(
		    (SQFS_COMPRESSOR)sb->compression_id);
		return rauc_fail(why, whylen, RAUC_ERR_COMPRESSION,
		    "squashfs compression %s is not supported",
		    name != NULL ? name : "unknown");
	}
	if ((sb->flags & SQFS_FLAG_COMPRESSOR_OPTIONS) != 0 &&
	    (r = (*cmpp)->read_options(*cmpp, &f->base)) != 0)
		return rauc_sq_fail(f, r, "compressor options", why, whylen);
	return RAUC_OK;
}

/* What rauc_sq_peek learns of an inode before libsquashfs reads it. */
struct rauc_sqpeek {
	uint16_t type;
	uint64_t size;      /* file size, or directory listing size */
	uint32_t dir_block; /* directory listing: block and offset */
	uint16_t dir_offset;
};

/*
 * Read the fixed part of the inode at ref (block << 16 | offset).  Dir
 * index entries and block lists are not read: their sizes are what
 * libsquashfs would trust for allocation.
 */
static int
rauc_sq_peek(sqfs_meta_reader_t *ir, const sqfs_super_t *sb, uint64_t ref,
    struct rauc_sqpeek *pk)
{
	sqfs_inode_t base;
	sqfs_inode_dir_t dir;
	sqfs_inode_dir_ext_t xdir;
	sqfs_inode_file_t file;
	sqfs_inode_file_ext_t xfile;
	int r;

	memset(pk, 0, sizeof(*pk));
	if ((r = sqfs_meta_reader_seek(ir, sb->inode_table_start + (ref >> 16),
	         (size_t)(ref & 0xffff))) != 0 ||
	    (r = sqfs_meta_reader_read(ir, &base, sizeof(base))) != 0)
		return r;
	pk->type = le16toh(base.type);
	switch (pk->type) {
	case SQFS_INODE_DIR:
		if ((r = sqfs_meta_reader_read(ir, &dir, sizeof(dir))) != 0)
			return r;
		pk->size = le16toh(dir.size);
		pk->dir_block = le32toh(dir.start_block);
		pk->dir_offset = le16toh(dir.offset);
		break;
	case SQFS_INODE_EXT_DIR:
		if ((r = sqfs_meta_reader_read(ir, &xdir, sizeof(xdir))) != 0)
			return r;
		pk->size = le32toh(xdir.size);
		pk->dir_block = le32toh(xdir.start_block);
		pk->dir_offset = le16toh(xdir.offset);
		break;
	case SQFS_INODE_FILE:
		if ((r = sqfs_meta_reader_read(ir, &file, sizeof(file))) != 0)
			return r;
		pk->size = le32toh(file.file_size);
		break;
	case SQFS_INODE_EXT_FILE:
		if ((r = sqfs_meta_reader_read(ir, &xfile, sizeof(xfile))) != 0)
			return r;
		pk->size = le64toh(xfile.file_size);
		break;
	}
	return 0;
}

/*
 * Look for manifest.raucm in the root listing.  0 found (*ref, *type),
 * 1 absent, 2 more than RAUC_DIRENTS_MAX entries, < 0 a libsquashfs error.
 * As libsquashfs' readdir, the listing size counts 3 bytes more than the
 * headers and entries hold.
 */
static int
rauc_sq_find(sqfs_meta_reader_t *dr, const sqfs_super_t *sb,
    const struct rauc_sqpeek *root, uint64_t *ref, uint16_t *type)
{
	const size_t want = strlen(RAUC_MANIFEST_NAME);
	uint64_t left = root->size;
	sqfs_dir_header_t hdr;
	sqfs_dir_entry_t *ent;
	size_t seen = 0, n, len;
	int r;

	if (left <= sizeof(hdr))
		return 1;
	if ((r = sqfs_meta_reader_seek(dr,
	         sb->directory_table_start + root->dir_block,
	         root->dir_offset)) != 0)
		return r;
	while (left > sizeof(hdr)) {
		if ((r = sqfs_meta_reader_read_dir_header(dr, &hdr)) != 0)
			return r;
		left -= sizeof(hdr);
		for (n = (size_t)hdr.count + 1; n > 0 && left > sizeof(*ent);
		     n--) {
			if (++seen > RAUC_DIRENTS_MAX)
				return 2;
			if ((r = sqfs_meta_reader_read_dir_ent(dr, &ent)) != 0)
				return r;
			len = (size_t)ent->size + 1;
			left -= sizeof(*ent);
			left = len >= left ? 0 : left - len;
			if (len == want &&
			    memcmp(ent->name, RAUC_MANIFEST_NAME, want) == 0) {
				*ref = (uint64_t)hdr.start_block << 16 |
				       ent->offset;
				*type = ent->type;
				sqfs_free(ent);
				return 0;
			}
			sqfs_free(ent);
		}
	}
	return 1;
}

/* Find and check the manifest inode; *inodep as libsquashfs reads it. */
static enum rauc_err
rauc_sq_inode(struct rauc_sqfile *f, const sqfs_super_t *sb,
    sqfs_compressor_t *cmp, sqfs_inode_generic_t **inodep, char *why,
    size_t whylen)
{
	sqfs_meta_reader_t *ir, *dr;
	struct rauc_sqpeek pk;
	enum rauc_err err = RAUC_OK;
	uint64_t ref = 0;
	uint16_t type = 0;
	int r;

	ir = sqfs_meta_reader_create(
	    &f->base, cmp, sb->inode_table_start, sb->directory_table_start);
	dr = sqfs_meta_reader_create(
	    &f->base, cmp, sb->directory_table_start, sb->bytes_used);
	if (ir == NULL || dr == NULL)
		fatalx("%s: out of memory", __func__);
	if ((r = rauc_sq_peek(ir, sb, sb->root_inode_ref, &pk)) != 0) {
		err = rauc_sq_fail(f, r, "root inode", why, whylen);
		goto done;
	}
	if (pk.type != SQFS_INODE_DIR && pk.type != SQFS_INODE_EXT_DIR) {
		err = rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "payload squashfs root is not a directory");
		goto done;
	}
	r = rauc_sq_find(dr, sb, &pk, &ref, &type);
	if (r < 0)
		err = rauc_sq_fail(f, r, "root directory", why, whylen);
	else if (r == 1)
		err = rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    "the bundle has no " RAUC_MANIFEST_NAME);
	else if (r == 2)
		err = rauc_fail(why, whylen, RAUC_ERR_LIMIT,
		    "the bundle's root directory has more than %d entries",
		    RAUC_DIRENTS_MAX);
	if (err != RAUC_OK)
		goto done;
	if (type != SQFS_INODE_FILE ||
	    (r = rauc_sq_peek(ir, sb, ref, &pk)) != 0 ||
	    (pk.type != SQFS_INODE_FILE && pk.type != SQFS_INODE_EXT_FILE)) {
		err = r != 0 ? rauc_sq_fail(f, r, "manifest inode", why, whylen)
		             : rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		                   RAUC_MANIFEST_NAME " is not a regular file");
		goto done;
	}
	if (pk.size > RAUC_MANIFEST_MAX) {
		err = rauc_fail(why, whylen, RAUC_ERR_MANIFEST,
		    RAUC_MANIFEST_NAME " of %llu bytes is larger than %d",
		    (unsigned long long)pk.size, RAUC_MANIFEST_MAX);
		goto done;
	}
	/* Its block is relative to the inode table, unlike seek's. */
	if ((r = sqfs_meta_reader_read_inode(
	         ir, sb, ref >> 16, (size_t)(ref & 0xffff), inodep)) != 0)
		err = rauc_sq_fail(f, r, "manifest inode", why, whylen);
done:
	sqfs_destroy(dr);
	sqfs_destroy(ir);
	return err;
}

/* manifest.raucm of the squashfs in [0, size) into a new *textp. */
static enum rauc_err
rauc_sq_manifest(
    int fd, uint64_t size, char **textp, size_t *lenp, char *why, size_t whylen)
{
	struct rauc_sqfile f;
	sqfs_super_t sb;
	sqfs_compressor_t *cmp = NULL;
	sqfs_data_reader_t *data = NULL;
	sqfs_inode_generic_t *inode = NULL;
	enum rauc_err err;
	sqfs_u64 len = 0;
	sqfs_s32 got;
	uint16_t id;
	char *text;
	int r;

	*textp = NULL;
	rauc_sq_init(&f, fd, size);
	if ((r = sqfs_super_read(&sb, &f.base)) != 0) {
		/* Only an unknown compressor id gives this (read_super.c). */
		if (r == SQFS_ERROR_UNSUPPORTED && f.io_errno == 0 &&
		    rauc_sq_read_at(&f.base,
		        offsetof(sqfs_super_t, compression_id), &id,
		        sizeof(id)) == 0)
			return rauc_fail(why, whylen, RAUC_ERR_COMPRESSION,
			    "squashfs compression id %u is not supported",
			    (unsigned)le16toh(id));
		return rauc_sq_fail(&f, r, "superblock", why, whylen);
	}
	if ((err = rauc_sq_check_super(&sb, size, why, whylen)) != RAUC_OK)
		return err;
	f.size = sb.bytes_used;
	if ((err = rauc_sq_compressor(&sb, &f, &cmp, why, whylen)) != RAUC_OK ||
	    (err = rauc_sq_inode(&f, &sb, cmp, &inode, why, whylen)) != RAUC_OK)
		goto done;
	if ((data = sqfs_data_reader_create(&f.base, sb.block_size, cmp, 0)) ==
	    NULL)
		fatalx("%s: out of memory", __func__);
	if (sb.fragment_entry_count > 0 &&
	    (r = sqfs_data_reader_load_fragment_table(data, &sb)) != 0) {
		err = rauc_sq_fail(&f, r, "fragment table", why, whylen);
		goto done;
	}
	if (sqfs_inode_get_file_size(inode, &len) != 0 ||
	    len > RAUC_MANIFEST_MAX) {
		err = rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "payload squashfs: manifest inode changed size");
		goto done;
	}
	text = xmalloc((size_t)len + 1);
	got = len == 0
	          ? 0
	          : sqfs_data_reader_read(data, inode, 0, text, (sqfs_u32)len);
	if (got < 0 || (sqfs_u64)got != len) {
		free(text);
		err = got < 0 ? rauc_sq_fail(
		                    &f, got, RAUC_MANIFEST_NAME, why, whylen)
		              : rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		                    RAUC_MANIFEST_NAME " is truncated");
		goto done;
	}
	text[len] = '\0';
	*textp = text;
	*lenp = (size_t)len;
done:
	sqfs_free(inode);
	sqfs_destroy(data);
	sqfs_destroy(cmp);
	return err;
}

/*
 * dm-verity (rauc/rauc:src/verity_hash.c): format 1, SHA-256, 4096-byte
 * blocks, salt first, no superblock, the tree right after the D data
 * bytes.  Level i (0 = leaves) has ceil(blocks / 128^(i+1)) hash blocks;
 * levels are stored top level first; unused digest slots are zero.
 */
struct rauc_tree {
	uint64_t data_blocks;
	int levels;
	uint64_t start[RAUC_LEVELS_MAX]; /* first block of level i */
	uint64_t count[RAUC_LEVELS_MAX]; /* blocks of level i */
	uint64_t end;                    /* data and tree blocks */
};

static int
rauc_tree_layout(uint64_t data_blocks, struct rauc_tree *t)
{
	uint64_t pos = data_blocks;
	unsigned shift;
	int i;

	memset(t, 0, sizeof(*t));
	t->data_blocks = data_blocks;
	while (
	    7 * t->levels < 64 && ((data_blocks - 1) >> (7 * t->levels)) != 0)
		t->levels++;
	if (t->levels == 0 || t->levels > RAUC_LEVELS_MAX)
		return -1;
	for (i = t->levels - 1; i >= 0; i--) {
		shift = 7 * (unsigned)(i + 1);
		if (shift > 63)
			return -1;
		t->count[i] = (data_blocks >> shift) +
		              ((data_blocks & ((1ULL << shift) - 1)) != 0);
		t->start[i] = pos;
		pos += t->count[i];
	}
	t->end = pos;
	return 0;
}

/* SHA-256(salt || block): salted holds the state after the salt. */
static void
rauc_block_digest(EVP_MD_CTX *ctx, const EVP_MD_CTX *salted,
    const unsigned char *block, unsigned char out[RAUC_DIGEST])
{
	unsigned int n;

	if (EVP_MD_CTX_copy_ex(ctx, salted) != 1 ||
	    EVP_DigestUpdate(ctx, block, RAUC_BLOCK) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1)
		fatalx("%s: SHA-256 failed", __func__);
}

static bool
rauc_all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Check hash block p of level lv against its children: one hash block
 * and up to 128 children in memory.
 */
static enum rauc_err
rauc_tree_block(int fd, const struct rauc_tree *t, int lv, uint64_t p,
    EVP_MD_CTX *ctx, const EVP_MD_CTX *salted, unsigned char *hbuf,
    unsigned char *cbuf, char *why, size_t whylen)
{
	uint64_t child0 = lv == 0 ? 0 : t->start[lv - 1];
	uint64_t nchild = lv == 0 ? t->data_blocks : t->count[lv - 1];
	uint64_t first = p * RAUC_PER_BLOCK, c, n;
	unsigned char digest[RAUC_DIGEST];

	n = nchild - first < RAUC_PER_BLOCK ? nchild - first : RAUC_PER_BLOCK;
	if (rauc_pread(fd, hbuf, RAUC_BLOCK, (t->start[lv] + p) * RAUC_BLOCK) ==
	        -1 ||
	    rauc_pread(fd, cbuf, (size_t)n * RAUC_BLOCK,
	        (child0 + first) * RAUC_BLOCK) == -1)
		return rauc_fail(why, whylen, RAUC_ERR_IO, "read error: %s",
		    strerror(errno));
	for (c = 0; c < n; c++) {
		rauc_block_digest(ctx, salted, cbuf + c * RAUC_BLOCK, digest);
		if (memcmp(hbuf + c * RAUC_DIGEST, digest, RAUC_DIGEST) != 0)
			return rauc_fail(why, whylen, RAUC_ERR_PAYLOAD,
			    "verity hash tree does not match the payload "
			    "(level %d, block %llu)",
			    lv, (unsigned long long)(child0 + first + c));
	}
	if (!rauc_all_zero(
	        hbuf + n * RAUC_DIGEST, RAUC_BLOCK - (size_t)n * RAUC_DIGEST))
		return rauc_fail(why, whylen, RAUC_ERR_PAYLOAD,
		    "verity hash tree has data in unused digest slots");
	return RAUC_OK;
}

/*
 * The check reads every byte of the payload once.  Through the page cache
 * that means a fresh page per 4 KiB, which on some machines costs more
 * than hashing it; so the bulk reads go around it (O_DIRECT, into the
 * same two buffers over and over) where the file system allows, checked
 * with one aligned read.  Every read of the check is 4 KiB-aligned in
 * offset and length.  The file's other flags are left as found.
 */
static int
rauc_direct_begin(int fd, unsigned char *probe)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || (fl & O_DIRECT) ||
	    fcntl(fd, F_SETFL, fl | O_DIRECT) == -1)
		return -1;
	if (pread(fd, probe, RAUC_BLOCK, 0) != RAUC_BLOCK) {
		fcntl(fd, F_SETFL, fl);
		return -1;
	}
	return fl;
}

static void
rauc_direct_end(int fd, int fl)
{
	if (fl != -1)
		fcntl(fd, F_SETFL, fl);
}

/*
 * One thread's share of a level: hash blocks [p0, p1).  Two share the
 * big levels, so that one hashes while the other waits for the disk.
 */
struct rauc_tree_job {
	int fd;
	const struct rauc_tree *t;
	const unsigned char *salt;
	int lv;
	uint64_t p0, p1;
	enum rauc_err err;
	char why[256];
};

#define RAUC_TREE_SPLIT 16 /* hash blocks (8 MiB of data) worth a thread */
#ifndef RAUC_TREE_JOBS
#define RAUC_TREE_JOBS 4
#endif

static void *
rauc_tree_run(void *arg)
{
	struct rauc_tree_job *j = arg;
	unsigned char *hbuf, *cbuf;
	EVP_MD_CTX *ctx, *salted;
	uint64_t p;

	if ((hbuf = aligned_alloc(RAUC_BLOCK, RAUC_BLOCK)) == NULL ||
	    (cbuf = aligned_alloc(
	         RAUC_BLOCK, (size_t)RAUC_PER_BLOCK * RAUC_BLOCK)) == NULL)
		fatalx("%s: out of memory", __func__);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (salted = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(salted, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(salted, j->salt, RAUC_DIGEST) != 1)
		fatalx("%s: SHA-256 setup failed", __func__);
	j->err = RAUC_OK;
	for (p = j->p0; p < j->p1 && j->err == RAUC_OK; p++)
		j->err = rauc_tree_block(j->fd, j->t, j->lv, p, ctx, salted,
		    hbuf, cbuf, j->why, sizeof(j->why));
	EVP_MD_CTX_free(ctx);
	EVP_MD_CTX_free(salted);
	free(hbuf);
	free(cbuf);
	return NULL;
}

/* Level lv against its children; the lowest failing block is reported. */
static enum rauc_err
rauc_tree_level(int fd, const struct rauc_tree *t, int lv,
    const unsigned char *salt, char *why, size_t whylen)
{
	struct rauc_tree_job j[RAUC_TREE_JOBS];
	pthread_t thread[RAUC_TREE_JOBS];
	bool threaded[RAUC_TREE_JOBS] = {false};
	uint64_t n = t->count[lv];
	int i,
	    jobs = n >= RAUC_TREE_JOBS * RAUC_TREE_SPLIT ? RAUC_TREE_JOBS : 1;

	for (i = 0; i < jobs; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].fd = fd;
		j[i].t = t;
		j[i].salt = salt;
		j[i].lv = lv;
		j[i].p0 = n * (uint64_t)i / (uint64_t)jobs;
		j[i].p1 = n * (uint64_t)(i + 1) / (uint64_t)jobs;
		if (i > 0)
			threaded[i] = pthread_create(&thread[i], NULL,
			                  rauc_tree_run, &j[i]) == 0;
	}
	for (i = 0; i < jobs; i++)
		if (i == 0 || !threaded[i])
			rauc_tree_run(&j[i]);
	for (i = 1; i < jobs; i++)
		if (threaded[i])
			pthread_join(thread[i], NULL);
	for (i = 0; i < jobs; i++)
		if (j[i].err != RAUC_OK)
			return rauc_fail(why, whylen, j[i].err, "%s", j[i].why);
	return RAUC_OK;
}

/* The whole tree of [0, P) against in's verity-hash, salt and size. */
static enum rauc_err
rauc_verity_check(int fd, uint64_t payload, const struct rauc_info *in,
    char *why, size_t whylen)
{
	unsigned char salt[RAUC_DIGEST], root[RAUC_DIGEST], digest[RAUC_DIGEST];
	unsigned char *hbuf;
	EVP_MD_CTX *ctx, *salted;
	enum rauc_err err = RAUC_OK;
	struct rauc_tree t;
	int lv, direct;

	if (rauc_tree_layout((payload - in->verity_size) / RAUC_BLOCK, &t) ==
	        -1 ||
	    t.end * RAUC_BLOCK != payload)
		return rauc_fail(why, whylen, RAUC_ERR_PAYLOAD,
		    "verity-size %llu does not fit a hash tree over the "
		    "payload's data",
		    (unsigned long long)in->verity_size);
	rauc_unhex(in->verity_salt, salt, sizeof(salt));
	rauc_unhex(in->verity_hash, root, sizeof(root));
	if ((hbuf = aligned_alloc(RAUC_BLOCK, RAUC_BLOCK)) == NULL)
		fatalx("%s: out of memory", __func__);
	direct = rauc_direct_begin(fd, hbuf);
	for (lv = 0; lv < t.levels && err == RAUC_OK; lv++)
		err = rauc_tree_level(fd, &t, lv, salt, why, whylen);
	if (err == RAUC_OK) {
		if (rauc_pread(fd, hbuf, RAUC_BLOCK,
		        t.start[t.levels - 1] * RAUC_BLOCK) == -1)
			err = rauc_fail(why, whylen, RAUC_ERR_IO,
			    "read error: %s", strerror(errno));
		else {
			if ((ctx = EVP_MD_CTX_new()) == NULL ||
			    (salted = EVP_MD_CTX_new()) == NULL ||
			    EVP_DigestInit_ex(salted, EVP_sha256(), NULL) !=
			        1 ||
			    EVP_DigestUpdate(salted, salt, sizeof(salt)) != 1)
				fatalx("%s: SHA-256 setup failed", __func__);
			rauc_block_digest(ctx, salted, hbuf, digest);
			EVP_MD_CTX_free(ctx);
			EVP_MD_CTX_free(salted);
			if (memcmp(digest, root, sizeof(root)) != 0)
				err = rauc_fail(why, whylen, RAUC_ERR_PAYLOAD,
				    "verity root hash does not match the "
				    "signed verity-hash");
		}
	}
	rauc_direct_end(fd, direct);
	free(hbuf);
	return err;
}

/* Signatures. */

/* What the first SignerInfo's certificate says, verified or not. */
static void
rauc_signer(CMS_ContentInfo *cms, struct rauc_info *out)
{
	struct trust_signer sg;

	trust_cms_signer(cms, &sg);
	out->signer_subject = sg.subject;
	out->signer_issuer = sg.issuer;
	out->signer_spki_sha256 = sg.spki_sha256;
	out->signer_not_after = sg.not_after;
}

/* A BIO reading [off, end) of fd by pread, for CMS_verify's content. */
struct rauc_range {
	int fd;
	uint64_t off, end;
	int io_errno;
};

static int
rauc_range_read(BIO *b, char *buf, int len)
{
	struct rauc_range *r = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0 || r->off >= r->end)
		return 0;
	n = r->end - r->off < (uint64_t)len ? (size_t)(r->end - r->off)
	                                    : (size_t)len;
	if (rauc_pread(r->fd, buf, n, r->off) == -1) {
		r->io_errno = errno;
		return -1;
	}
	r->off += n;
	return (int)n;
}

static long
rauc_range_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct rauc_range *r = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_EOF:
		return r->off >= r->end;
	case BIO_CTRL_FLUSH:
		return 1;
	default: /* BIO_CTRL_PENDING and the rest: nothing buffered */
		return 0;
	}
}

/*
 * Record the signer and check the signature against kr: a detached one
 * over [0, payload) of fd, streamed, or an inline one over its eContent.
 */
static enum rauc_err
rauc_signature(CMS_ContentInfo *cms, const struct trust_store *kr, int fd,
    uint64_t payload, bool detached, bool require, struct rauc_info *out,
    char *why, size_t whylen)
{
	struct rauc_range range = {fd, 0, payload, 0};
	unsigned int flags = CMS_BINARY;
	BIO_METHOD *meth = NULL;
	BIO *content = NULL;
	int ok;

	rauc_signer(cms, out);
	if (kr == NULL) {
		out->sig = RAUC_SIG_UNCHECKED;
		if (require)
			return rauc_fail(why, whylen, RAUC_ERR_SIGNATURE,
			    "signature: no keyring to check it against");
		return RAUC_OK;
	}
	if (detached) {
		/* A fixed type: BIO_get_new_index would run out of indexes. */
		if ((meth = BIO_meth_new(
		         BIO_TYPE_SOURCE_SINK, "rauc file range")) == NULL ||
		    BIO_meth_set_read(meth, rauc_range_read) != 1 ||
		    BIO_meth_set_ctrl(meth, rauc_range_ctrl) != 1 ||
		    (content = BIO_new(meth)) == NULL)
			fatalx("%s: out of memory", __func__);
		BIO_set_data(content, &range);
		BIO_set_init(content, 1);
		flags |= CMS_DETACHED;
	}
	ERR_clear_error();
	ok = CMS_verify(
	         cms, NULL, trust_store_x509(kr), content, NULL, flags) == 1;
	BIO_free(content);
	BIO_meth_free(meth);
	if (range.io_errno != 0) {
		ERR_clear_error();
		return rauc_fail(why, whylen, RAUC_ERR_IO, "read error: %s",
		    strerror(range.io_errno));
	}
	if (ok) {
		out->sig = RAUC_SIG_VERIFIED;
		ERR_clear_error();
		return RAUC_OK;
	}
	out->sig = RAUC_SIG_FAILED;
	out->sig_error = trust_ssl_error();
	if (require)
		return rauc_fail(why, whylen, RAUC_ERR_SIGNATURE,
		    "signature: %s", out->sig_error);
	return RAUC_OK;
}

/* Bundle formats. */

/* Detached SignedData: the manifest is in the squashfs of [0, P). */
static enum rauc_err
rauc_parse_plain(int fd, CMS_ContentInfo *cms, const struct rauc_layout *lay,
    const struct trust_store *kr, bool require, struct rauc_info *out,
    char *why, size_t whylen)
{
	enum rauc_err err;
	size_t len = 0;
	char *text;

	err = rauc_sq_manifest(fd, lay->payload, &text, &len, why, whylen);
	if (err != RAUC_OK)
		return err;
	err = rauc_manifest_into(text, len, false, out, why, whylen);
	OPENSSL_cleanse(text, len);
	free(text);
	if (err != RAUC_OK)
		return err;
	if (out->format != RAUC_FORMAT_PLAIN)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "a plain bundle (detached signature) whose manifest says "
		    "format=%s",
		    rauc_format_name(out->format));
	return rauc_signature(
	    cms, kr, fd, lay->payload, true, require, out, why, whylen);
}

/* Inline SignedData: the eContent is the manifest of verity or crypt. */
static enum rauc_err
rauc_parse_inline(int fd, CMS_ContentInfo *cms, const struct rauc_layout *lay,
    const struct trust_store *kr, bool require, struct rauc_info *out,
    char *why, size_t whylen)
{
	ASN1_OCTET_STRING **content = CMS_get0_content(cms);
	enum rauc_err err;
	uint64_t data;
	int len;

	if (content == NULL || *content == NULL ||
	    (len = ASN1_STRING_length(*content)) < 0)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "inline signature without content");
	err = rauc_manifest_into((const char *)ASN1_STRING_get0_data(*content),
	    (size_t)len, true, out, why, whylen);
	if (err != RAUC_OK)
		return err;
	if (out->format == RAUC_FORMAT_PLAIN)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "signed manifest says format=plain, which needs a "
		    "detached signature");
	data =
	    lay->payload -
	    (out->verity_size < lay->payload ? out->verity_size : lay->payload);
	if (lay->payload % RAUC_BLOCK != 0 || data % RAUC_BLOCK != 0 ||
	    data <= RAUC_BLOCK)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "payload of %llu bytes with a %llu-byte hash tree leaves "
		    "no whole data blocks",
		    (unsigned long long)lay->payload,
		    (unsigned long long)out->verity_size);
	err = rauc_signature(
	    cms, kr, fd, lay->payload, false, require, out, why, whylen);
	if (err != RAUC_OK)
		return err;
	return rauc_verity_check(fd, lay->payload, out, why, whylen);
}

/* One recipient identifier as rauc.h describes it. */
static char *
rauc_recipient_id(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
    const ASN1_INTEGER *sno)
{
	char hex[2 * RAUC_KEYID_MAX + 1], *name, *serial, *s;
	BIGNUM *bn;
	int n;

	if (keyid != NULL) {
		n = ASN1_STRING_length(keyid);
		n = n > RAUC_KEYID_MAX ? RAUC_KEYID_MAX : n < 0 ? 0 : n;
		hex_encode(ASN1_STRING_get0_data(keyid), (size_t)n, hex);
		return xasprintf("skid=%s", hex);
	}
	if (issuer == NULL || sno == NULL ||
	    (bn = ASN1_INTEGER_to_BN(sno, NULL)) == NULL)
		return xstrdup("unknown recipient");
	if ((serial = BN_bn2hex(bn)) == NULL)
		fatalx("%s: out of memory", __func__);
	name = trust_x509_name(issuer);
	s = xasprintf("issuer=%s, serial=%s", name, serial);
	free(name);
	OPENSSL_free(serial);
	BN_free(bn);
	return s;
}

static enum rauc_err
rauc_add_recipient(struct rauc_info *out, char *id, char *why, size_t whylen)
{
	if (out->nrecipients == RAUC_RECIPIENTS_MAX) {
		free(id);
		return rauc_fail(why, whylen, RAUC_ERR_LIMIT,
		    "encrypted CMS has more than %d recipients",
		    RAUC_RECIPIENTS_MAX);
	}
	if (out->recipients == NULL)
		out->recipients =
		    xcalloc(RAUC_RECIPIENTS_MAX, sizeof(*out->recipients));
	out->recipients[out->nrecipients++] = id;
	return RAUC_OK;
}

/* The recipients of ri: one for key transport, one per key for agreement. */
static enum rauc_err
rauc_recipient(
    CMS_RecipientInfo *ri, struct rauc_info *out, char *why, size_t whylen)
{
	STACK_OF(CMS_RecipientEncryptedKey) * reks;
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	enum rauc_err err;
	int i;

	switch (CMS_RecipientInfo_type(ri)) {
	case CMS_RECIPINFO_TRANS:
		if (CMS_RecipientInfo_ktri_get0_signer_id(
		        ri, &keyid, &issuer, &sno) != 1)
			keyid = NULL, issuer = NULL, sno = NULL;
		return rauc_add_recipient(
		    out, rauc_recipient_id(keyid, issuer, sno), why, whylen);
	case CMS_RECIPINFO_AGREE:
		reks = CMS_RecipientInfo_kari_get0_reks(ri);
		for (i = 0; i < sk_CMS_RecipientEncryptedKey_num(reks); i++) {
			keyid = NULL, issuer = NULL, sno = NULL;
			if (CMS_RecipientEncryptedKey_get0_id(
			        sk_CMS_RecipientEncryptedKey_value(reks, i),
			        &keyid, NULL, NULL, &issuer, &sno) != 1)
				keyid = NULL, issuer = NULL, sno = NULL;
			err = rauc_add_recipient(out,
			    rauc_recipient_id(keyid, issuer, sno), why, whylen);
			if (err != RAUC_OK)
				return err;
		}
		return RAUC_OK;
	default:
		return rauc_add_recipient(out,
		    xasprintf(
		        "recipient of type %d", CMS_RecipientInfo_type(ri)),
		    why, whylen);
	}
}

/* EnvelopedData: an encrypted crypt bundle; list who can open it. */
static enum rauc_err
rauc_parse_enveloped(CMS_ContentInfo *cms, const struct rauc_layout *lay,
    struct rauc_info *out, char *why, size_t whylen)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	enum rauc_err err;
	int i, n;

	out->format = RAUC_FORMAT_CRYPT_ENCRYPTED;
	out->sig = RAUC_SIG_UNREADABLE;
	if (lay->payload % RAUC_BLOCK != 0 || lay->payload <= RAUC_BLOCK)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "encrypted bundle payload of %llu bytes is not whole "
		    "data blocks and a hash tree",
		    (unsigned long long)lay->payload);
	if ((n = sk_CMS_RecipientInfo_num(ris)) < 1)
		return rauc_fail(why, whylen, RAUC_ERR_FORMAT,
		    "encrypted CMS has no recipients");
	for (i = 0; i < n; i++) {
		err = rauc_recipient(
		    sk_CMS_RecipientInfo_value(ris, i), out, why, whylen);
		if (err != RAUC_OK)
			return err;
	}
	return RAUC_OK;
}

/* Wipe an inline CMS's eContent, which may hold a crypt-key, before free. */
static void
rauc_cms_free(CMS_ContentInfo *cms)
{
	ASN1_OCTET_STRING **content;

	if (cms == NULL)
		return;
	if (OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed &&
	    (content = CMS_get0_content(cms)) != NULL && *content != NULL &&
	    (*content)->data != NULL && (*content)->length > 0)
		OPENSSL_cleanse((*content)->data, (size_t)(*content)->length);
	CMS_ContentInfo_free(cms);
}

enum rauc_err
rauc_parse_fd(int fd, const struct trust_store *keyring, bool require_signature,
    struct rauc_info *out, char *why, size_t whylen)
{
	CMS_ContentInfo *cms = NULL;
	struct rauc_layout lay;
	enum rauc_err err;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	ERR_clear_error();
	if ((err = rauc_open_cms(fd, &lay, &cms, why, whylen)) != RAUC_OK)
		goto done;
	out->payload_size = lay.payload;
	out->cms_size = lay.cms;
	if (OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_enveloped)
		err = rauc_parse_enveloped(cms, &lay, out, why, whylen);
	else if (CMS_is_detached(cms) == 1)
		err = rauc_parse_plain(fd, cms, &lay, keyring,
		    require_signature, out, why, whylen);
	else
		err = rauc_parse_inline(fd, cms, &lay, keyring,
		    require_signature, out, why, whylen);
done:
	rauc_cms_free(cms);
	ERR_clear_error();
	if (err != RAUC_OK)
		rauc_info_clear(out);
	return err;
}

/* JSON. */

static json_t *
rauc_image_json(const struct rauc_image *im)
{
	return json_pack("{s:s, s:s*, s:s*, s:I, s:s*, s:s*, s:s*}", "class",
	    im->slotclass, "variant", im->variant, "filename", im->filename,
	    "size", (json_int_t)im->size, "sha256", im->sha256, "hooks",
	    im->hooks, "adaptive", im->adaptive);
}

static json_t *
rauc_signature_json(const struct rauc_info *in)
{
	json_t *sig;

	sig = json_pack("{s:s, s:s*, s:s*, s:s*, s:s*}", "status",
	    rauc_sig_name(in->sig), "error", in->sig_error, "signer_subject",
	    in->signer_subject, "signer_issuer", in->signer_issuer,
	    "signer_spki_sha256", in->signer_spki_sha256);
	if (sig != NULL && in->signer_subject != NULL &&
	    json_object_set_new(sig, "signer_not_after",
	        json_integer((json_int_t)in->signer_not_after)) == -1) {
		json_decref(sig);
		return NULL;
	}
	return sig;
}

/* A JSON array of the n strings of v. */
static json_t *
rauc_strings_json(char *const *v, size_t n)
{
	json_t *list;
	size_t i;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(list, json_string(v[i])) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static json_t *
rauc_images_json(const struct rauc_info *in)
{
	json_t *list;
	size_t i;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < in->nimages; i++) {
		if (json_array_append_new(
		        list, rauc_image_json(&in->images[i])) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *
rauc_info_json(const struct rauc_info *in)
{
	json_t *root, *v;

	root = json_pack("{s:s, s:s*, s:s*, s:s*, s:s*, s:s*, s:b, s:b, s:I, "
	                 "s:I}",
	    "format", rauc_format_name(in->format), "compatible",
	    in->compatible, "version", in->version, "description",
	    in->description, "build", in->build, "hooks", in->hooks, "handler",
	    in->has_handler, "hook_file", in->has_hook_file, "payload_size",
	    (json_int_t)in->payload_size, "cms_size", (json_int_t)in->cms_size);
	if (root == NULL)
		return NULL;
	if ((v = rauc_images_json(in)) == NULL ||
	    json_object_set_new(root, "images", v) == -1)
		goto fail;
	if (in->verity_hash != NULL &&
	    ((v = json_pack("{s:s, s:I}", "hash", in->verity_hash, "size",
	          (json_int_t)in->verity_size)) == NULL ||
	        json_object_set_new(root, "verity", v) == -1))
		goto fail;
	if ((v = rauc_signature_json(in)) == NULL ||
	    json_object_set_new(root, "signature", v) == -1)
		goto fail;
	if (in->nrecipients > 0 &&
	    ((v = rauc_strings_json(in->recipients, in->nrecipients)) == NULL ||
	        json_object_set_new(root, "recipients", v) == -1))
		goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}
