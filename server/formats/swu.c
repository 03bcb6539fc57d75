/*
 * SWUpdate .swu reader.  An image is a cpio archive (newc 070701 or crc
 * 070702) whose first member is sw-description and whose optional second
 * member is sw-description.sig.  libarchive reads the members with only
 * its cpio format enabled; a small header guard of our own sees every
 * header before libarchive does, so a hostile name size never reaches
 * libarchive's read-ahead (which would allocate that much).  Only
 * sw-description is held in memory; every other member is skipped, by
 * lseek on a regular file.  The CRC of crc-format members is not checked:
 * that would mean reading every payload byte, which SWUpdate does anyway.
 *
 * libarchive itself is loaded with dlopen on the first read (see
 * swu_la_load).
 *
 * sw-description is libconfig (Debian's libconfig 1.5) or JSON; both are
 * turned into one jansson tree that the rest of the file reads.
 */
#include "swu.h"

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SWU_BLOCK (64 * 1024)            /* read size on a file descriptor */
#define SWU_HDR_LEN 110                  /* newc/crc header, magic included */
#define SWU_FIELD_LEN 8                  /* each header field: 8 hex digits */
#define SWU_TREE_DEPTH 7                 /* containers kept from libconfig */
#define SWU_STR_MAX 255                  /* board name and revision bytes */
#define SWU_HW_RAW_MAX (SWU_HW_MAX * 16) /* rows before de-duplication */
#define SWU_RE_SIZE_MAX 1024             /* nodes of one regex */
#define SWU_RE_NEST_MAX 2                /* repeats inside repeats */
#define SWU_RE_COST_MAX (32 * 1024)      /* regex nodes per sw-description */

#define SWU_DESC_NAME "sw-description"
#define SWU_SIG_NAME "sw-description.sig"
#define SWU_HW_KEY "hardware-compatibility"
#define SWU_RE_PREFIX "#RE:"

/* Header field indexes after the 6-byte magic. */
enum swu_field {
	SWU_F_INO,
	SWU_F_MODE,
	SWU_F_UID,
	SWU_F_GID,
	SWU_F_NLINK,
	SWU_F_MTIME,
	SWU_F_FILESIZE,
	SWU_F_DEVMAJOR,
	SWU_F_DEVMINOR,
	SWU_F_RDEVMAJOR,
	SWU_F_RDEVMINOR,
	SWU_F_NAMESIZE,
	SWU_F_CHECK,
	SWU_F_COUNT
};

/*
 * The header guard follows the byte stream, header by header, and checks
 * what libarchive would trust: magic, hex fields and the name size.  It
 * stops at the trailer; anything after it is padding.
 */
enum swu_gstate { SWU_G_HEADER, SWU_G_NAME, SWU_G_DATA, SWU_G_DONE };

struct swu_guard {
	enum swu_gstate state;
	unsigned char buf[SWU_HDR_LEN + SWU_NAME_MAX + 1 + 3];
	size_t have;   /* bytes of buf filled */
	size_t want;   /* bytes buf must hold before the next step */
	uint64_t left; /* data and padding still to pass */
	uint64_t datalen;
	enum swu_err err;
};

/* Client state for reading a file descriptor through libarchive. */
struct swu_fdsrc {
	int fd;
	bool seekable;
	off_t size;
	bool io_error;
	struct swu_guard guard;
	unsigned char buf[SWU_BLOCK];
};

/* clang-format off */
static const char *const swu_errstr[] = {
	[SWU_OK]		= "no error",
	[SWU_ERR_IO]		= "the image could not be read",
	[SWU_ERR_FORMAT]	= "the image is not a valid cpio archive, or it is truncated",
	[SWU_ERR_FIRST]		= "the first member of the image is not sw-description",
	[SWU_ERR_LIMIT]		= "the image exceeds a limit (members, name length, sw-description size or compatibility entries)",
	[SWU_ERR_SYNTAX]	= "sw-description is neither valid libconfig nor valid JSON",
	[SWU_ERR_NOSOFTWARE]	= "sw-description has no software group",
	[SWU_ERR_NOVERSION]	= "software.version is missing, not a string or not a valid version",
	[SWU_ERR_HW]		= "hardware-compatibility is malformed",
	[SWU_ERR_DUPLICATE]	= "the image holds the same member name twice",
};
/* clang-format on */

/*
 * Keys SWUpdate gives a meaning under software (or under a board or
 * selection); a group with one of these names is never a board or a
 * selection.
 */
static const char *const swu_keywords[] = {
    "version",
    "description",
    SWU_HW_KEY,
    "images",
    "files",
    "scripts",
    "partitions",
    "bootenv",
    "uboot",
    "embedded-script",
    "reboot",
    "bootloader_transaction_marker",
    "bootloader_state_marker",
    "output",
    "vars",
    "ref",
};

/*
 * Keys that make a group something SWUpdate installs from: a board, a
 * selection or the top level.
 */
static const char *const swu_content_keys[] = {
    "images",
    "files",
    "scripts",
    "partitions",
    "bootenv",
    "uboot",
    SWU_HW_KEY,
};

const char *
swu_strerror(enum swu_err err)
{
	if ((size_t)err >= NELEM(swu_errstr) || swu_errstr[err] == NULL)
		return "unknown error";
	return swu_errstr[err];
}

void
swu_info_clear(struct swu_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nhw; i++) {
		free(info->hw[i].board);
		free(info->hw[i].revision);
	}
	free(info->hw);
	free(info->version);
	free(info->description);
	free(info->sw_description);
	free(info->sig);
	memset(info, 0, sizeof(*info));
}

/* Header guard. */

static void
swu_guard_init(struct swu_guard *g)
{
	memset(g, 0, sizeof(*g));
	g->state = SWU_G_HEADER;
	g->want = SWU_HDR_LEN;
}

static int
swu_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read header field f of the header in p.  0 ok, -1 not hex. */
static int
swu_field(const unsigned char *p, enum swu_field f, uint32_t *out)
{
	uint32_t v = 0;
	int d, i;

	p += 6 + (size_t)f * SWU_FIELD_LEN;
	for (i = 0; i < SWU_FIELD_LEN; i++) {
		if ((d = swu_hexval(p[i])) == -1)
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* A complete fixed header is in g->buf: check it, then wait for the name. */
static enum swu_err
swu_guard_header(struct swu_guard *g)
{
	uint32_t v[SWU_F_COUNT];
	size_t namepad;
	int f;

	if (memcmp(g->buf, "07070", 5) != 0 ||
	    (g->buf[5] != '1' && g->buf[5] != '2'))
		return SWU_ERR_FORMAT;
	for (f = 0; f < SWU_F_COUNT; f++)
		if (swu_field(g->buf, (enum swu_field)f, &v[f]) == -1)
			return SWU_ERR_FORMAT;
	if (v[SWU_F_NAMESIZE] < 2)
		return SWU_ERR_FORMAT;
	if (v[SWU_F_NAMESIZE] > SWU_NAME_MAX + 1)
		return SWU_ERR_LIMIT;
	/* Header and name together end on a multiple of four bytes. */
	namepad = (4 - (SWU_HDR_LEN + v[SWU_F_NAMESIZE]) % 4) % 4;
	g->want = SWU_HDR_LEN + v[SWU_F_NAMESIZE] + namepad;
	g->datalen =
	    (uint64_t)v[SWU_F_FILESIZE] + ((4 - v[SWU_F_FILESIZE] % 4) % 4);
	g->state = SWU_G_NAME;
	return SWU_OK;
}

/* Header and name are in g->buf: check the name, then pass the data. */
static enum swu_err
swu_guard_name(struct swu_guard *g)
{
	const char *name = (const char *)g->buf + SWU_HDR_LEN;
	uint32_t namesize;

	(void)swu_field(g->buf, SWU_F_NAMESIZE, &namesize);
	if (name[namesize - 1] != '\0' || strlen(name) != namesize - 1)
		return SWU_ERR_FORMAT;
	if (strcmp(name, "TRAILER!!!") == 0) {
		g->state = SWU_G_DONE;
		return SWU_OK;
	}
	g->left = g->datalen;
	g->state = SWU_G_DATA;
	return SWU_OK;
}

/* Pass n bytes of the stream through the guard.  Returns SWU_OK or why not. */
static enum swu_err
swu_guard_feed(struct swu_guard *g, const unsigned char *p, size_t n)
{
	size_t take;

	while (n > 0 && g->err == SWU_OK && g->state != SWU_G_DONE) {
		if (g->state == SWU_G_DATA) {
			take = g->left < n ? (size_t)g->left : n;
			g->left -= take;
			p += take;
			n -= take;
			if (g->left == 0) {
				g->state = SWU_G_HEADER;
				g->have = 0;
				g->want = SWU_HDR_LEN;
			}
			continue;
		}
		take = g->want - g->have < n ? g->want - g->have : n;
		memcpy(g->buf + g->have, p, take);
		g->have += take;
		p += take;
		n -= take;
		if (g->have < g->want)
			break;
		if (g->state == SWU_G_HEADER)
			g->err = swu_guard_header(g);
		else
			g->err = swu_guard_name(g);
	}
	return g->err;
}

/* How many of the next `request` bytes may be skipped unseen: data only. */
static uint64_t
swu_guard_skippable(const struct swu_guard *g, uint64_t request)
{
	if (g->state != SWU_G_DATA || g->err != SWU_OK)
		return 0;
	return request < g->left ? request : g->left;
}

static void
swu_guard_skip(struct swu_guard *g, uint64_t n)
{
	g->left -= n;
	if (g->left == 0) {
		g->state = SWU_G_HEADER;
		g->have = 0;
		g->want = SWU_HDR_LEN;
	}
}

/*
 * libarchive is loaded on the first image read, not linked: with libxml2,
 * ICU and libstdc++ behind it, it would be 2 MiB of every idle daemon's
 * memory for a reader that runs once per upload.
 */
#define SWU_LIBARCHIVE "libarchive.so.13"

static struct {
	__typeof__(&archive_read_new) read_new;
	__typeof__(&archive_read_support_format_cpio) read_support_format_cpio;
	__typeof__(&archive_error_string) error_string;
	__typeof__(&archive_set_error) set_error;
	__typeof__(&archive_read_open2) read_open2;
	__typeof__(&archive_read_open_memory) read_open_memory;
	__typeof__(&archive_read_next_header) read_next_header;
	__typeof__(&archive_read_data) read_data;
	__typeof__(&archive_read_free) read_free;
	__typeof__(&archive_format) format;
	__typeof__(&archive_entry_pathname) entry_pathname;
	__typeof__(&archive_entry_size) entry_size;
	__typeof__(&archive_entry_size_is_set) entry_size_is_set;
	__typeof__(&archive_entry_filetype) entry_filetype;
	bool loaded;
} la;

static pthread_once_t swu_la_once = PTHREAD_ONCE_INIT;

/* dlsym into a function pointer (POSIX allows the conversion). */
#define SWU_SYM(h, field)                                                      \
	((*(void **)(&la.field) = dlsym(h, "archive_" #field)) != NULL)

static void
swu_la_load(void)
{
	void *h = dlopen(SWU_LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		log_warnx("cannot load %s: %s", SWU_LIBARCHIVE, dlerror());
		return;
	}
	la.loaded = SWU_SYM(h, read_new) &&
	            SWU_SYM(h, read_support_format_cpio) &&
	            SWU_SYM(h, error_string) && SWU_SYM(h, set_error) &&
	            SWU_SYM(h, read_open2) && SWU_SYM(h, read_open_memory) &&
	            SWU_SYM(h, read_next_header) && SWU_SYM(h, read_data) &&
	            SWU_SYM(h, read_free) && SWU_SYM(h, format) &&
	            SWU_SYM(h, entry_pathname) && SWU_SYM(h, entry_size) &&
	            SWU_SYM(h, entry_size_is_set) && SWU_SYM(h, entry_filetype);
	if (!la.loaded)
		log_warnx("%s lacks a function the .swu reader needs",
		    SWU_LIBARCHIVE);
}

/* libarchive client callbacks for a file descriptor. */

static la_ssize_t
swu_fd_read(struct archive *a, void *cls, const void **buf)
{
	struct swu_fdsrc *src = cls;
	ssize_t n;

	do
		n = read(src->fd, src->buf, sizeof(src->buf));
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		src->io_error = true;
		la.set_error(a, errno, "read failed");
		return -1;
	}
	/* libarchive sees a block only once every header in it passed. */
	if (swu_guard_feed(&src->guard, src->buf, (size_t)n) != SWU_OK) {
		la.set_error(a, EILSEQ, "bad cpio header");
		return -1;
	}
	*buf = src->buf;
	return n;
}

/*
 * Skip member data with lseek, never past the end of the file: a member
 * that claims more bytes than the file holds must end in "truncated", so
 * libarchive is left to read (and miss) the rest.
 */
static la_int64_t
swu_fd_skip(struct archive *a, void *cls, la_int64_t request)
{
	struct swu_fdsrc *src = cls;
	off_t cur;
	uint64_t n;

	(void)a;
	if (!src->seekable || request <= 0)
		return 0;
	if ((cur = lseek(src->fd, 0, SEEK_CUR)) == -1 || cur >= src->size)
		return 0;
	n = swu_guard_skippable(&src->guard, (uint64_t)request);
	if (n > (uint64_t)(src->size - cur))
		n = (uint64_t)(src->size - cur);
	if (n == 0 || lseek(src->fd, (off_t)n, SEEK_CUR) == -1)
		return 0;
	swu_guard_skip(&src->guard, n);
	return (la_int64_t)n;
}

/* Archive walk. */

static struct archive *
swu_archive_new(void)
{
	struct archive *a;

	pthread_once(&swu_la_once, swu_la_load);
	if (!la.loaded)
		return NULL;
	if ((a = la.read_new()) == NULL)
		fatalx("%s: archive_read_new failed", __func__);
	if (la.read_support_format_cpio(a) != ARCHIVE_OK)
		fatalx("%s: %s", __func__, la.error_string(a));
	return a;
}

static int
swu_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Read the current member, sw-description, into a new NUL-ended buffer.
 * Its size was checked by swu_check_member.
 */
static enum swu_err
swu_read_desc(
    struct archive *a, struct archive_entry *e, char **textp, size_t *lenp)
{
	size_t size = (size_t)la.entry_size(e), got = 0;
	la_ssize_t r;
	char *text;

	text = xmalloc(size + 1);
	while (got < size) {
		if ((r = la.read_data(a, text + got, size - got)) <= 0) {
			free(text);
			return SWU_ERR_FORMAT;
		}
		got += (size_t)r;
	}
	text[got] = '\0';
	*textp = text;
	*lenp = got;
	return SWU_OK;
}

/*
 * Check what the member at position index (from 0) may be: sw-description
 * first, a regular file of at most SWU_DESC_MAX bytes; its signature, if
 * any, second.  Sets out->is_signed.
 */
static enum swu_err
swu_check_member(struct archive_entry *e, size_t index, struct swu_info *out)
{
	const char *name = la.entry_pathname(e);

	if (index == 0) {
		if (strcmp(name, SWU_DESC_NAME) != 0)
			return SWU_ERR_FIRST;
		if (la.entry_filetype(e) != AE_IFREG ||
		    !la.entry_size_is_set(e) || la.entry_size(e) < 0)
			return SWU_ERR_FORMAT;
		if (la.entry_size(e) > SWU_DESC_MAX)
			return SWU_ERR_LIMIT;
	}
	if (strcmp(name, SWU_SIG_NAME) == 0) {
		if (index != 1 || la.entry_filetype(e) != AE_IFREG ||
		    !la.entry_size_is_set(e) || la.entry_size(e) < 0)
			return SWU_ERR_FORMAT;
		if (la.entry_size(e) > SWU_SIG_MAX)
			return SWU_ERR_LIMIT;
		out->is_signed = true;
	}
	return SWU_OK;
}

/*
 * Walk every member header of an opened archive.  On SWU_OK *textp holds
 * sw-description (the caller frees it) and out has is_signed and nentries.
 * A broken archive (SWU_ERR_FORMAT from libarchive) wins over what is
 * wrong with its members, so the walk goes on to the trailer after such a
 * finding; only SWU_ENTRIES_MAX stops it early.  Library failures come
 * back as SWU_ERR_FORMAT; the caller refines them.
 */
static enum swu_err
swu_walk(struct archive *a, struct swu_info *out, char **textp, size_t *lenp)
{
	struct archive_entry *e;
	enum swu_err err = SWU_OK, found = SWU_OK;
	const char *name;
	char **names;
	size_t n = 0, i;
	int r, fmt;

	*textp = NULL;
	names = xcalloc(SWU_ENTRIES_MAX, sizeof(*names));
	for (;;) {
		if ((r = la.read_next_header(a, &e)) == ARCHIVE_EOF)
			break;
		/* Not even ARCHIVE_WARN: it means garbage was skipped. */
		fmt = la.format(a);
		if (r != ARCHIVE_OK ||
		    (fmt != ARCHIVE_FORMAT_CPIO_SVR4_NOCRC &&
		        fmt != ARCHIVE_FORMAT_CPIO_SVR4_CRC) ||
		    (name = la.entry_pathname(e)) == NULL || *name == '\0') {
			err = SWU_ERR_FORMAT;
			goto done;
		}
		if (n == SWU_ENTRIES_MAX || strlen(name) > SWU_NAME_MAX) {
			err = SWU_ERR_LIMIT;
			goto done;
		}
		names[n++] = xstrdup(name);
		if (found == SWU_OK)
			found = swu_check_member(e, n - 1, out);
		if (n == 1 && found == SWU_OK &&
		    (err = swu_read_desc(a, e, textp, lenp)) != SWU_OK)
			goto done;
		/* The signature: read like sw-description, sized-checked. */
		if (n == 2 && found == SWU_OK && out->is_signed &&
		    out->sig == NULL &&
		    (err = swu_read_desc(a, e, &out->sig, &out->sig_len)) !=
		        SWU_OK)
			goto done;
	}
	if ((err = n == 0 ? SWU_ERR_FIRST : found) != SWU_OK)
		goto done;
	qsort(names, n, sizeof(*names), swu_name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			err = SWU_ERR_DUPLICATE;
			goto done;
		}
	out->nentries = n;
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (err != SWU_OK) {
		free(*textp);
		*textp = NULL;
	}
	return err;
}

/* Walk the opened archive and parse its sw-description into out. */
static enum swu_err
swu_parse_archive(struct archive *a, struct swu_info *out)
{
	enum swu_err err;
	char *text = NULL;
	size_t len = 0, nentries, sig_len;
	char *sig;
	bool is_signed;

	if ((err = swu_walk(a, out, &text, &len)) != SWU_OK) {
		free(out->sig);
		out->sig = NULL;
		return err;
	}
	is_signed = out->is_signed;
	nentries = out->nentries;
	sig = out->sig;
	sig_len = out->sig_len;
	err = swu_parse_description(text, len, out);
	if (err != SWU_OK) {
		free(text);
		free(sig);
		return err;
	}
	out->is_signed = is_signed;
	out->nentries = nentries;
	out->sig = sig;
	out->sig_len = sig_len;
	out->sw_description = text;
	out->sw_description_len = len;
	return SWU_OK;
}

enum swu_err
swu_parse_fd(int fd, struct swu_info *out)
{
	struct swu_fdsrc *src;
	struct archive *a = NULL;
	struct stat st;
	enum swu_err err = SWU_ERR_IO;

	memset(out, 0, sizeof(*out));
	src = xcalloc(1, sizeof(*src));
	src->fd = fd;
	swu_guard_init(&src->guard);
	if (fstat(fd, &st) == -1)
		goto done;
	src->seekable = S_ISREG(st.st_mode);
	src->size = st.st_size;
	if ((a = swu_archive_new()) == NULL)
		err = SWU_ERR_IO; /* logged once: the library is missing */
	else if (la.read_open2(a, src, NULL, swu_fd_read, swu_fd_skip, NULL) !=
	         ARCHIVE_OK)
		err = SWU_ERR_FORMAT;
	else
		err = swu_parse_archive(a, out);
	/* A library failure caused by the file or by the guard says so. */
	if (err == SWU_ERR_FORMAT && src->io_error)
		err = SWU_ERR_IO;
	else if (err == SWU_ERR_FORMAT && src->guard.err != SWU_OK)
		err = src->guard.err;
done:
	if (err != SWU_OK)
		swu_info_clear(out);
	if (a != NULL)
		la.read_free(a);
	free(src);
	return err;
}

enum swu_err
swu_parse_mem(const void *buf, size_t len, struct swu_info *out)
{
	struct swu_guard *g;
	struct archive *a = NULL;
	enum swu_err err;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len == 0)
		return SWU_ERR_FORMAT;
	/* The whole image passes the guard before libarchive sees it. */
	g = xmalloc(sizeof(*g));
	swu_guard_init(g);
	err = swu_guard_feed(g, buf, len);
	if (err == SWU_OK && g->state != SWU_G_DONE)
		err = SWU_ERR_FORMAT; /* truncated: no trailer */
	free(g);
	if (err != SWU_OK)
		return err;
	if ((a = swu_archive_new()) == NULL)
		err = SWU_ERR_IO;
	else if (la.read_open_memory(a, buf, len) != ARCHIVE_OK)
		err = SWU_ERR_FORMAT;
	else
		err = swu_parse_archive(a, out);
	if (err != SWU_OK)
		swu_info_clear(out);
	if (a != NULL)
		la.read_free(a);
	return err;
}

/* sw-description syntax: libconfig or JSON into one jansson tree. */

/*
 * Copy a libconfig setting into jansson.  Containers deeper than
 * SWU_TREE_DEPTH become null: nothing this file reads is that deep, and
 * the copy stays shallow whatever the input.  Strings are copied without
 * a UTF-8 check; the readers check what they keep.
 */
static json_t *
swu_from_config(const config_setting_t *s, int depth)
{
	const config_setting_t *c;
	const char *str;
	json_t *j, *child;
	double d;
	int i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		j = json_integer(config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		/* jansson refuses inf and nan, which libconfig reads. */
		d = config_setting_get_float(s);
		j = isfinite(d) ? json_real(d) : json_null();
		break;
	case CONFIG_TYPE_BOOL:
		j = json_boolean(config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		j = json_stringn_nocheck(str, strlen(str));
		break;
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		if (depth >= SWU_TREE_DEPTH)
			return json_null();
		j = config_setting_is_group(s) ? json_object() : json_array();
		n = config_setting_length(s);
		for (i = 0; i < n && j != NULL; i++) {
			c = config_setting_get_elem(s, (unsigned int)i);
			if ((child = swu_from_config(c, depth + 1)) == NULL ||
			    (config_setting_is_group(s)
			            ? json_object_set_new_nocheck(
			                  j, config_setting_name(c), child)
			            : json_array_append_new(j, child)) == -1) {
				json_decref(j);
				j = NULL;
			}
		}
		break;
	default:
		j = json_null();
		break;
	}
	if (j == NULL)
		fatalx("%s: out of memory", __func__);
	return j;
}

/*
 * libconfig 1.5 opens the file named by an @include directive (a line
 * starting with optional blanks and "@include"), and SWUpdate forbids
 * them: refuse any such line before libconfig sees it.
 */
static bool
swu_has_include(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (len - i >= 8 && strncasecmp(text + i, "@include", 8) == 0)
			return true;
		while (i < len && text[i] != '\n')
			i++;
		i++;
	}
	return false;
}

/*
 * libconfig pre-check.  libconfig 1.5's parser leaks a string token that
 * it meets where the grammar allows none ("x" where a setting name is due,
 * or 1 "x" in a list): bison drops the lookahead without freeing it.  So
 * before libconfig runs, a small recognizer follows the same grammar and
 * refuses a text whose first error is such a string.  Its tokens are cut
 * as libconfig's scanner cuts them and its grammar accepts at least what
 * libconfig's does, so at its first error libconfig fails too, on the same
 * token: a misplaced string is refused here, anything else is left to
 * libconfig (which then fails without leaking).  It also caps nesting at
 * SWU_CFG_NEST_MAX, far beyond any sw-description, where libconfig would
 * recurse or exhaust its stack, and the settings of one group at
 * SWU_CFG_MEMBERS_MAX: libconfig checks each new name against all its
 * siblings, so 40000 of them take it 16 s.
 */
#define SWU_CFG_NEST_MAX 64
#define SWU_CFG_MEMBERS_MAX 1024

enum swu_tok {
	SWU_T_EOF,
	SWU_T_STRING,
	SWU_T_NAME,
	SWU_T_VALUE,  /* number or boolean */
	SWU_T_EQUALS, /* = or : */
	SWU_T_COMMA,
	SWU_T_SEMI,
	SWU_T_GROUP, /* { */
	SWU_T_GROUP_END,
	SWU_T_ARRAY, /* [ */
	SWU_T_ARRAY_END,
	SWU_T_LIST, /* ( */
	SWU_T_LIST_END,
	SWU_T_OTHER
};

/* What the recognizer expects next. */
enum swu_want {
	SWU_W_SETTING, /* a name, or the end of the enclosing group */
	SWU_W_EQUALS,
	SWU_W_VALUE,   /* a setting's value */
	SWU_W_ELEMENT, /* a list or array element, or its end */
	SWU_W_AFTER    /* what may follow a complete value */
};

static size_t
swu_span(const char *s, size_t len, size_t i, const char *set)
{
	size_t n = 0;

	while (i + n < len && s[i + n] != '\0' && strchr(set, s[i + n]) != NULL)
		n++;
	return n;
}

#define SWU_DIGITS "0123456789"
#define SWU_HEXDIGITS "0123456789abcdefABCDEF"
#define SWU_NAMECHARS                                                          \
	"-_*0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Length of an optional "L" or "LL" at i. */
static size_t
swu_cfg_lsuffix(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == 'L')
		return i + 1 < len && s[i + 1] == 'L' ? 2 : 1;
	return 0;
}

/* Length of [eE][-+]?[0-9]+ at i, or 0. */
static size_t
swu_cfg_exponent(const char *s, size_t len, size_t i)
{
	size_t n = 1, d;

	if (i >= len || (s[i] != 'e' && s[i] != 'E'))
		return 0;
	if (i + 1 < len && (s[i + 1] == '-' || s[i + 1] == '+'))
		n++;
	d = swu_span(s, len, i + n, SWU_DIGITS);
	return d == 0 ? 0 : n + d;
}

/* Length of a libconfig float at i, or 0 (both alternatives of {float}). */
static size_t
swu_cfg_float(const char *s, size_t len, size_t i)
{
	size_t sign = i < len && (s[i] == '-' || s[i] == '+'), a = 0, b = 0;
	size_t d = swu_span(s, len, i + sign, SWU_DIGITS), p = i + sign + d;
	size_t frac = 0;

	if (p < len && s[p] == '.') {
		frac = 1 + swu_span(s, len, p + 1, SWU_DIGITS);
		a = sign + d + frac + swu_cfg_exponent(s, len, p + frac);
	}
	if (d > 0 && swu_cfg_exponent(s, len, p + frac) > 0)
		b = sign + d + frac + swu_cfg_exponent(s, len, p + frac);
	return a > b ? a : b;
}

/*
 * A word the way libconfig's flex scanner cuts it: the longest match of
 * its rules, ties going to the earlier rule (true, false, name, float,
 * integer, integer64, hex, hex64).  Sets *n to its length, 0 if no rule
 * matches (a garbage byte).
 */
static enum swu_tok
swu_cfg_word(const char *s, size_t len, size_t i, size_t *n)
{
	size_t best = 0, m, sign, d;
	enum swu_tok t = SWU_T_OTHER;

	if (len - i >= 4 && strncasecmp(s + i, "true", 4) == 0) {
		best = 4;
		t = SWU_T_VALUE;
	} else if (len - i >= 5 && strncasecmp(s + i, "false", 5) == 0) {
		best = 5;
		t = SWU_T_VALUE;
	}
	if (((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	        s[i] == '*') &&
	    (m = 1 + swu_span(s, len, i + 1, SWU_NAMECHARS)) > best) {
		best = m;
		t = SWU_T_NAME;
	}
	if ((m = swu_cfg_float(s, len, i)) > best) {
		best = m;
		t = SWU_T_VALUE;
	}
	sign = s[i] == '-' || s[i] == '+';
	if ((d = swu_span(s, len, i + sign, SWU_DIGITS)) > 0 &&
	    (m = sign + d + swu_cfg_lsuffix(s, len, i + sign + d)) > best) {
		best = m;
		t = SWU_T_VALUE;
	}
	if (len - i > 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'X') &&
	    (d = swu_span(s, len, i + 2, SWU_HEXDIGITS)) > 0 &&
	    (m = 2 + d + swu_cfg_lsuffix(s, len, i + 2 + d)) > best) {
		best = m;
		t = SWU_T_VALUE;
	}
	*n = best;
	return t;
}

/* The next token from *pos, comments and blanks skipped. */
static enum swu_tok
swu_cfg_token(const char *s, size_t len, size_t *pos)
{
	static const char punct[] = "=:,;{}[]()";
	static const enum swu_tok ptok[] = {SWU_T_EQUALS, SWU_T_EQUALS,
	    SWU_T_COMMA, SWU_T_SEMI, SWU_T_GROUP, SWU_T_GROUP_END, SWU_T_ARRAY,
	    SWU_T_ARRAY_END, SWU_T_LIST, SWU_T_LIST_END};
	const char *p, *end;
	enum swu_tok t;
	size_t i = *pos, n;

	for (;;) {
		while (i < len && strchr(" \t\n\r\f", s[i]) != NULL)
			i++;
		if (i >= len) {
			*pos = len;
			return SWU_T_EOF;
		}
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			end = memmem(s + i + 2, len - i - 2, "*/", 2);
			i = end == NULL ? len : (size_t)(end - s) + 2;
		} else if (s[i] == '#' ||
		           (s[i] == '/' && i + 1 < len && s[i + 1] == '/')) {
			while (i < len && s[i] != '\n')
				i++;
		} else
			break;
	}
	if (s[i] == '"') {
		/* A backslash escapes the next byte, a quote included. */
		for (i++; i < len && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		/* libconfig ends quietly at an unterminated string. */
		*pos = i < len ? i + 1 : len;
		return i < len ? SWU_T_STRING : SWU_T_EOF;
	}
	if ((p = strchr(punct, s[i])) != NULL) {
		*pos = i + 1;
		return ptok[p - punct];
	}
	t = swu_cfg_word(s, len, i, &n);
	*pos = i + (n > 0 ? n : 1);
	return t;
}

/*
 * Follow the libconfig grammar over text.  SWU_ERR_SYNTAX if the first
 * error is a misplaced string or nesting is too deep, SWU_ERR_LIMIT if a
 * group has too many settings; SWU_OK otherwise (valid, or an error
 * libconfig reports without leaking).
 */
static enum swu_err
swu_cfg_precheck(const char *text, size_t len)
{
	enum swu_tok stack[SWU_CFG_NEST_MAX], t;
	size_t members[SWU_CFG_NEST_MAX + 1]; /* per open group; 0 is root */
	enum swu_want want = SWU_W_SETTING;
	size_t depth = 0, pos = 0;

	members[0] = 0;
	for (;;) {
		t = swu_cfg_token(text, len, &pos);
		/* A value may be strings in a row: "a" "b" is "ab". */
		if (t == SWU_T_STRING &&
		    (want == SWU_W_VALUE || want == SWU_W_ELEMENT)) {
			while ((t = swu_cfg_token(text, len, &pos)) ==
			       SWU_T_STRING)
				continue;
			want = SWU_W_AFTER;
		}
		if (t == SWU_T_STRING)
			return SWU_ERR_SYNTAX;
		if (want == SWU_W_AFTER) {
			/* After a setting's value: a terminator or not. */
			if (depth == 0 || stack[depth - 1] == SWU_T_GROUP) {
				want = SWU_W_SETTING;
				if (t == SWU_T_SEMI || t == SWU_T_COMMA)
					continue;
			} else if (t == SWU_T_COMMA) {
				want = SWU_W_ELEMENT;
				continue;
			} else if (t != SWU_T_LIST_END && t != SWU_T_ARRAY_END)
				return SWU_OK;
		}
		switch (t) {
		case SWU_T_NAME:
			if (want != SWU_W_SETTING)
				return SWU_OK;
			/* SETTING is only wanted at the root or in a group. */
			if (++members[depth] > SWU_CFG_MEMBERS_MAX)
				return SWU_ERR_LIMIT;
			want = SWU_W_EQUALS;
			continue;
		case SWU_T_EQUALS:
			if (want != SWU_W_EQUALS)
				return SWU_OK;
			want = SWU_W_VALUE;
			continue;
		case SWU_T_VALUE:
			if (want != SWU_W_VALUE && want != SWU_W_ELEMENT)
				return SWU_OK;
			want = SWU_W_AFTER;
			continue;
		case SWU_T_GROUP:
		case SWU_T_LIST:
		case SWU_T_ARRAY:
			/* Arrays hold scalars only. */
			if ((want != SWU_W_VALUE && want != SWU_W_ELEMENT) ||
			    (depth > 0 && stack[depth - 1] == SWU_T_ARRAY))
				return SWU_OK;
			if (depth == SWU_CFG_NEST_MAX)
				return SWU_ERR_SYNTAX;
			stack[depth++] = t;
			members[depth] = 0;
			want = t == SWU_T_GROUP ? SWU_W_SETTING : SWU_W_ELEMENT;
			continue;
		case SWU_T_GROUP_END:
		case SWU_T_LIST_END:
		case SWU_T_ARRAY_END:
			/* Each closing token follows its opening one. */
			if (depth == 0 || stack[depth - 1] != t - 1 ||
			    (t == SWU_T_GROUP_END && want != SWU_W_SETTING) ||
			    (t != SWU_T_GROUP_END && want != SWU_W_ELEMENT &&
			        want != SWU_W_AFTER))
				return SWU_OK;
			depth--;
			want = SWU_W_AFTER;
			continue;
		default:
			/* EOF, a stray terminator, garbage: for libconfig. */
			return SWU_OK;
		}
	}
}

static enum swu_err
swu_load_config(const char *text, size_t len, json_t **rootp)
{
	enum swu_err err;
	config_t cfg;
	char *copy;
	int ok;

	if (swu_has_include(text, len))
		return SWU_ERR_SYNTAX;
	if ((err = swu_cfg_precheck(text, len)) != SWU_OK)
		return err;
	copy = xstrndup(text, len);
	config_init(&cfg);
	ok = config_read_string(&cfg, copy);
	if (ok == CONFIG_TRUE)
		*rootp = swu_from_config(config_root_setting(&cfg), 0);
	config_destroy(&cfg);
	free(copy);
	return ok == CONFIG_TRUE ? SWU_OK : SWU_ERR_SYNTAX;
}

/* Parse text as JSON when it starts with '{', else as libconfig. */
static enum swu_err
swu_load(const char *text, size_t len, json_t **rootp)
{
	json_error_t jerr;
	size_t i;

	*rootp = NULL;
	/* Neither syntax allows NUL; libconfig would stop reading there. */
	if (memchr(text, '\0', len) != NULL)
		return SWU_ERR_SYNTAX;
	for (i = 0; i < len && strchr(" \t\r\n\f\v", text[i]) != NULL; i++)
		continue;
	if (i == len || text[i] != '{')
		return swu_load_config(text, len, rootp);
	*rootp = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*rootp == NULL)
		return SWU_ERR_SYNTAX;
	if (!json_is_object(*rootp)) {
		json_decref(*rootp);
		*rootp = NULL;
		return SWU_ERR_SYNTAX;
	}
	return SWU_OK;
}

/* Field checks. */

/* The same contract as version_valid() in version.h; swu stays a leaf. */
static bool
swu_version_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Board names and revisions: 1..255 bytes of UTF-8 without controls. */
static bool
swu_str_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SWU_STR_MAX || !utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * A copy of the description that is valid UTF-8 (callers put it in JSON):
 * if it is not, every non-ASCII byte becomes '?'.
 */
static char *
swu_text_copy(const char *s, size_t len)
{
	char *copy = xstrndup(s, len);
	size_t i;

	if (!utf8_valid(copy, len))
		for (i = 0; i < len; i++)
			if ((unsigned char)copy[i] >= 0x80)
				copy[i] = '?';
	return copy;
}

static size_t
swu_sat_add(size_t a, size_t b)
{
	return a + b > SWU_RE_SIZE_MAX ? SWU_RE_SIZE_MAX + 1 : a + b;
}

static size_t
swu_sat_mul(size_t a, size_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > (SWU_RE_SIZE_MAX + 1) / b ? SWU_RE_SIZE_MAX + 1 : a * b;
}

/*
 * Copies of its operand glibc makes for the bound at p (just after '{'):
 * n for {m,n} and {,n}, m for {m}, m + 1 for {m,}.  *endp is set after
 * the '}'.  0 if p does not hold a bound.
 */
static size_t
swu_regex_bound(const char *p, const char **endp)
{
	unsigned long m = 0, n;
	const char *q = p;
	char *end;

	if (*q >= '0' && *q <= '9') {
		m = strtoul(q, &end, 10);
		q = end;
	}
	n = m;
	if (*q == ',') {
		q++;
		if (*q >= '0' && *q <= '9') {
			n = strtoul(q, &end, 10);
			q = end;
		} else
			n = m + 1;
	}
	if (*q != '}' || q == p || (q == p + 1 && *p == ','))
		return 0;
	*endp = q + 1;
	if (n < m)
		n = m;
	return n > SWU_RE_SIZE_MAX ? SWU_RE_SIZE_MAX + 1
	                           : (size_t)(n > 0 ? n : 1);
}

/* One group level of a regex being measured. */
struct swu_re_level {
	size_t size; /* nodes so far */
	size_t last; /* nodes of the last atom, 0 if there is none to repeat */
	int nest;    /* deepest nesting of repeats so far */
	int last_nest; /* nesting of repeats in the last atom */
	bool repeated; /* the last token was a repeat */
};

static void
swu_re_atom(struct swu_re_level *l, size_t size, int nest)
{
	l->size = swu_sat_add(l->size, size);
	l->last = size;
	l->last_nest = nest;
	if (nest > l->nest)
		l->nest = nest;
	l->repeated = false;
}

/* Repeat the last atom into `copies` copies.  False if that is refused. */
static bool
swu_re_repeat(struct swu_re_level *l, size_t copies)
{
	if (l->repeated || l->last == 0)
		return false;
	l->size = swu_sat_add(l->size, swu_sat_mul(l->last, copies - 1));
	l->last = swu_sat_mul(l->last, copies);
	if (++l->last_nest > l->nest)
		l->nest = l->last_nest;
	l->repeated = true;
	return l->nest <= SWU_RE_NEST_MAX;
}

/* Skip the bracket expression opening at p ("[a-z]", "[]x]", "[[:digit:]]"). */
static const char *
swu_re_bracket(const char *p)
{
	const char *end;

	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && p[1] != '\0' && strchr(":.=", p[1]) != NULL &&
		    (end = strchr(p + 2, p[1])) != NULL && end[1] == ']')
			p = end + 2;
		else
			p++;
	}
	return *p == ']' ? p + 1 : p;
}

/*
 * Roughly the number of nodes glibc's regcomp builds for an ERE, or
 * SWU_RE_SIZE_MAX + 1 for a pattern refused outright.  An atom is one
 * node, a group its contents; a repeat multiplies what it repeats by the
 * copies glibc makes (x+ becomes x x*, x{2,5} five copies; x* and x? copy
 * nothing), so "1++++" or ((a{9}){9}){9} grow exponentially.  Repeats of
 * repeats are what make regcomp slow (its epsilon closures grow with
 * them: ^6++++*+++++ takes 10 s), so a repeat right after another one
 * (undefined in POSIX anyway) or with nothing to repeat is refused, and
 * so is nesting repeats more than SWU_RE_NEST_MAX deep, as in ((a*)*)*.
 * Within these rules, SWU_RE_SIZE_MAX nodes compile in a few ms.
 */
static size_t
swu_regex_size(const char *re)
{
	struct swu_re_level lv[SWU_STR_MAX + 1], *l = lv;
	const char *p = re, *end;
	size_t k;
	bool ok = true;

	memset(l, 0, sizeof(*l));
	while (*p != '\0' && ok) {
		if (*p == '(') {
			memset(++l, 0, sizeof(*l));
			p++;
		} else if (*p == ')' && l > lv) {
			l--;
			swu_re_atom(l, l[1].size, l[1].nest);
			p++;
		} else if (*p == '|') {
			l->last = 0;
			l->repeated = false;
			p++;
		} else if (*p == '*' || *p == '?' || *p == '+') {
			ok = swu_re_repeat(l, *p == '+' ? 2 : 1);
			p++;
		} else if (*p == '{' &&
		           (k = swu_regex_bound(p + 1, &end)) > 0) {
			ok = swu_re_repeat(l, k);
			p = end;
		} else if (*p == '[') {
			swu_re_atom(l, 1, 0);
			p = swu_re_bracket(p);
		} else {
			swu_re_atom(l, 1, 0);
			p += *p == '\\' && p[1] != '\0' ? 2 : 1;
		}
	}
	for (; l > lv; l--)
		lv[0].size = swu_sat_add(lv[0].size, l->size);
	return ok ? lv[0].size : SWU_RE_SIZE_MAX + 1;
}

/*
 * One revision string: plain, or "#RE:" and a regex that compiles.  A
 * regex larger than SWU_RE_SIZE_MAX is refused, and each spends its size
 * from *budget (SWU_ERR_LIMIT when that runs out), so one image cannot
 * keep regcomp busy for long.
 */
static enum swu_err
swu_check_revision(const char *s, size_t len, size_t *budget)
{
	const char *re;
	regex_t preg;
	size_t cost;

	if (!swu_str_ok(s, len))
		return SWU_ERR_HW;
	if (strncmp(s, SWU_RE_PREFIX, strlen(SWU_RE_PREFIX)) != 0)
		return SWU_OK;
	re = s + strlen(SWU_RE_PREFIX);
	if (*re == '\0' || (cost = swu_regex_size(re)) > SWU_RE_SIZE_MAX)
		return SWU_ERR_HW;
	if (cost > *budget)
		return SWU_ERR_LIMIT;
	*budget -= cost;
	if (regcomp(&preg, re, REG_EXTENDED | REG_NOSUB) != 0)
		return SWU_ERR_HW;
	regfree(&preg);
	return SWU_OK;
}

/*
 * Hardware compatibility.
 *
 * SWUpdate reads each key (hardware-compatibility, images, files, ...) from
 * the first of these that exists, board being the device's board name and
 * set,mode its selection (swupdate -e set,mode):
 *
 *	software.<board>.<set>.<mode>.key
 *	software.<set>.<mode>.key
 *	software.<board>.key
 *	software.key
 *
 * The server knows neither board nor selection ahead of time, so it lists
 * every context the image offers and, for each, the list SWUpdate would
 * find.  Groups are classified by shape (keywords excluded):
 *
 *  - a "content" group holds one of images, files, scripts, partitions,
 *    bootenv, uboot or hardware-compatibility directly;
 *  - software.G is a board if G is a content group (board G's own
 *    content), or if some software.G.S.M is a content group (board G with
 *    selection S,M);
 *  - software.G.M being a content group makes (G,M) a top-level selection,
 *    which every board may run.  A name may play both parts.
 *
 * Rows for board B, each context giving the first list of its chain:
 *	B's own content:		B.hw, top.hw
 *	B's selection S,M:		B.S.M.hw, S.M.hw, B.hw, top.hw
 *	top-level selection S,M:	S.M.hw, B.hw, top.hw
 * Rows for board "" (a device whose board has no subtree):
 *	top-level content:		top.hw
 *	top-level selection S,M:	S.M.hw, top.hw
 * A chain that finds no list gives one row with revision NULL: any
 * revision.  (SWUpdate itself would refuse such a device with "HW
 * compatibility not found"; we leave that to the device.)  Rows are
 * de-duplicated; if all that remains is ("", NULL), nhw is 0: the image
 * fits every device, as it does when it has no content anywhere.
 */

/* A top-level selection: the content group software.<set>.<mode>. */
struct swu_sel {
	const char *set;
	const char *mode;
	json_t *node;
};

struct swu_hwset {
	struct swu_info *out;
	json_t *top;          /* the software group */
	size_t cap;           /* allocated rows */
	size_t raw;           /* rows offered, duplicates included */
	size_t checked;       /* revision strings checked */
	size_t re_budget;     /* regex nodes left; see swu_regex_size */
	struct swu_sel *sels; /* top-level selections */
	size_t nsels;
};

static bool
swu_in_table(const char *key, const char *const *table, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, table[i]) == 0)
			return true;
	return false;
}

static bool
swu_is_content(json_t *g)
{
	size_t i;

	if (!json_is_object(g))
		return false;
	for (i = 0; i < NELEM(swu_content_keys); i++)
		if (json_object_get(g, swu_content_keys[i]) != NULL)
			return true;
	return false;
}

/* A child of software that may be a board or a selection set. */
static bool
swu_is_candidate(const char *key, json_t *g)
{
	return json_is_object(g) &&
	       !swu_in_table(key, swu_keywords, NELEM(swu_keywords));
}

static json_t *
swu_hw_of(json_t *g)
{
	return json_is_object(g) ? json_object_get(g, SWU_HW_KEY) : NULL;
}

/* The content group software.S.M, or NULL. */
static json_t *
swu_top_selection(struct swu_hwset *set, const char *s, const char *m)
{
	json_t *g = json_object_get(set->top, s);

	if (!swu_is_candidate(s, g))
		return NULL;
	g = json_object_get(g, m);
	return swu_is_content(g) ? g : NULL;
}

/* Check the hardware-compatibility list of content group g, if any. */
static enum swu_err
swu_check_list(struct swu_hwset *set, json_t *g)
{
	json_t *list = swu_hw_of(g), *v;
	enum swu_err err;
	size_t i;

	if (list == NULL)
		return SWU_OK;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return SWU_ERR_HW;
	if (json_array_size(list) > SWU_HW_MAX)
		return SWU_ERR_LIMIT;
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v))
			return SWU_ERR_HW;
		if (++set->checked > SWU_HW_RAW_MAX)
			return SWU_ERR_LIMIT;
		err = swu_check_revision(json_string_value(v),
		    json_string_length(v), &set->re_budget);
		if (err != SWU_OK)
			return err;
	}
	return SWU_OK;
}

/* Check every list a context can reach, and every candidate's name. */
static enum swu_err
swu_check_lists(struct swu_hwset *set)
{
	const char *gk, *sk, *mk;
	json_t *g, *s, *m;
	enum swu_err err;

	if ((err = swu_check_list(set, set->top)) != SWU_OK)
		return err;
	json_object_foreach(set->top, gk, g)
	{
		if (!swu_is_candidate(gk, g))
			continue;
		if ((err = swu_check_list(set, g)) != SWU_OK)
			return err;
		json_object_foreach(g, sk, s)
		{
			if (!json_is_object(s))
				continue;
			if (swu_is_content(s) &&
			    (err = swu_check_list(set, s)) != SWU_OK)
				return err;
			json_object_foreach(s, mk, m)
			{
				if (swu_is_content(m) &&
				    (err = swu_check_list(set, m)) != SWU_OK)
					return err;
			}
		}
	}
	return SWU_OK;
}

/* Add one row unless it is already there. */
static enum swu_err
swu_add_row(
    struct swu_hwset *set, const char *board, const char *rev, size_t revlen)
{
	struct swu_info *out = set->out;
	struct swu_hw *row;
	bool is_regex = false;
	size_t i, plen = strlen(SWU_RE_PREFIX);

	if (++set->raw > SWU_HW_RAW_MAX)
		return SWU_ERR_LIMIT;
	if (rev != NULL && revlen >= plen &&
	    strncmp(rev, SWU_RE_PREFIX, plen) == 0) {
		is_regex = true;
		rev += plen;
		revlen -= plen;
	}
	for (i = 0; i < out->nhw; i++) {
		row = &out->hw[i];
		if (strcmp(row->board, board) == 0 &&
		    row->is_regex == is_regex &&
		    (rev == NULL ? row->revision == NULL
		                 : row->revision != NULL &&
		                       strlen(row->revision) == revlen &&
		                       memcmp(row->revision, rev, revlen) == 0))
			return SWU_OK;
	}
	if (out->nhw == SWU_HW_MAX)
		return SWU_ERR_LIMIT;
	if (out->nhw == set->cap) {
		set->cap = set->cap == 0 ? 8 : set->cap * 2;
		out->hw = xrealloc(out->hw, set->cap * sizeof(*out->hw));
	}
	row = &out->hw[out->nhw++];
	row->board = xstrdup(board);
	row->revision = rev == NULL ? NULL : xstrndup(rev, revlen);
	row->is_regex = is_regex;
	return SWU_OK;
}

/*
 * Rows of one context: the first list found among the n groups of chain
 * (NULL entries are absent groups), or a NULL-revision row if none has one.
 */
static enum swu_err
swu_add_context(
    struct swu_hwset *set, const char *board, json_t **chain, size_t n)
{
	json_t *list = NULL, *v;
	enum swu_err err;
	size_t i;

	for (i = 0; i < n && list == NULL; i++)
		list = swu_hw_of(chain[i]);
	if (list == NULL)
		return swu_add_row(set, board, NULL, 0);
	json_array_foreach(list, i, v)
	{
		err = swu_add_row(
		    set, board, json_string_value(v), json_string_length(v));
		if (err != SWU_OK)
			return err;
	}
	return SWU_OK;
}

/*
 * Rows for devices whose board has no subtree.  Also lists the top-level
 * selections in set->sels; each adds a row here, so SWU_HW_RAW_MAX bounds
 * their number.
 */
static enum swu_err
swu_rows_any_board(struct swu_hwset *set)
{
	const char *gk, *mk;
	json_t *g, *m, *chain[2];
	enum swu_err err;
	size_t cap = 0;

	if (swu_is_content(set->top) &&
	    (err = swu_add_context(set, "", &set->top, 1)) != SWU_OK)
		return err;
	json_object_foreach(set->top, gk, g)
	{
		if (!swu_is_candidate(gk, g))
			continue;
		json_object_foreach(g, mk, m)
		{
			if (!swu_is_content(m))
				continue;
			chain[0] = m;
			chain[1] = set->top;
			if ((err = swu_add_context(set, "", chain, 2)) !=
			    SWU_OK)
				return err;
			if (set->nsels == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				set->sels = xrealloc(
				    set->sels, cap * sizeof(*set->sels));
			}
			set->sels[set->nsels].set = gk;
			set->sels[set->nsels].mode = mk;
			set->sels[set->nsels++].node = m;
		}
	}
	return SWU_OK;
}

/* True if software.B has some content group B.S.M. */
static bool
swu_has_selections(json_t *b)
{
	const char *sk, *mk;
	json_t *s, *m;

	json_object_foreach(b, sk, s)
	{
		if (!json_is_object(s))
			continue;
		json_object_foreach(s, mk, m)
		{
			if (swu_is_content(m))
				return true;
		}
	}
	return false;
}

/* Board B's rows for its own selections B.S.M. */
static enum swu_err
swu_rows_board_selections(struct swu_hwset *set, const char *bk, json_t *b)
{
	const char *sk, *mk;
	json_t *s, *m, *chain[4];
	enum swu_err err;

	json_object_foreach(b, sk, s)
	{
		if (!json_is_object(s))
			continue;
		json_object_foreach(s, mk, m)
		{
			if (!swu_is_content(m))
				continue;
			chain[0] = m;
			chain[1] = swu_top_selection(set, sk, mk);
			chain[2] = b;
			chain[3] = set->top;
			if ((err = swu_add_context(set, bk, chain, 4)) !=
			    SWU_OK)
				return err;
		}
	}
	return SWU_OK;
}

/* Board B's rows for top-level selections S,M it has no B.S.M for. */
static enum swu_err
swu_rows_board_top_selections(struct swu_hwset *set, const char *bk, json_t *b)
{
	const struct swu_sel *sel;
	json_t *chain[3];
	enum swu_err err;
	size_t i;

	for (i = 0; i < set->nsels; i++) {
		sel = &set->sels[i];
		if (swu_is_content(json_object_get(
		        json_object_get(b, sel->set), sel->mode)))
			continue;
		chain[0] = sel->node;
		chain[1] = b;
		chain[2] = set->top;
		if ((err = swu_add_context(set, bk, chain, 3)) != SWU_OK)
			return err;
	}
	return SWU_OK;
}

static enum swu_err
swu_rows_boards(struct swu_hwset *set)
{
	const char *bk;
	json_t *b, *chain[2];
	enum swu_err err;

	json_object_foreach(set->top, bk, b)
	{
		if (!swu_is_candidate(bk, b) ||
		    (!swu_is_content(b) && !swu_has_selections(b)))
			continue;
		/* Rows carry the name; a selection set's name goes nowhere. */
		if (!swu_str_ok(bk, strlen(bk)))
			return SWU_ERR_HW;
		chain[0] = b;
		chain[1] = set->top;
		if (swu_is_content(b) &&
		    (err = swu_add_context(set, bk, chain, 2)) != SWU_OK)
			return err;
		if ((err = swu_rows_board_selections(set, bk, b)) != SWU_OK ||
		    (err = swu_rows_board_top_selections(set, bk, b)) != SWU_OK)
			return err;
	}
	return SWU_OK;
}

/* Fill out->hw from the software group; see the rule above. */
static enum swu_err
swu_hw_collect(json_t *software, struct swu_info *out)
{
	struct swu_hwset set;
	enum swu_err err;

	memset(&set, 0, sizeof(set));
	set.out = out;
	set.top = software;
	set.re_budget = SWU_RE_COST_MAX;
	if ((err = swu_check_lists(&set)) != SWU_OK ||
	    (err = swu_rows_any_board(&set)) != SWU_OK ||
	    (err = swu_rows_boards(&set)) != SWU_OK)
		goto done;
	if (out->nhw == 1 && out->hw[0].board[0] == '\0' &&
	    out->hw[0].revision == NULL) {
		free(out->hw[0].board);
		free(out->hw);
		out->hw = NULL;
		out->nhw = 0;
	}
done:
	free(set.sels);
	return err;
}

enum swu_err
swu_parse_description(const char *text, size_t len, struct swu_info *out)
{
	json_t *root = NULL, *software, *v;
	enum swu_err err;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		len = 0;
	if ((err = swu_load(len == 0 ? "" : text, len, &root)) != SWU_OK)
		goto done;
	software = json_object_get(root, "software");
	if (!json_is_object(software)) {
		err = SWU_ERR_NOSOFTWARE;
		goto done;
	}
	v = json_object_get(software, "version");
	if (!json_is_string(v) ||
	    !swu_version_ok(json_string_value(v), json_string_length(v))) {
		err = SWU_ERR_NOVERSION;
		goto done;
	}
	out->version = xstrdup(json_string_value(v));
	v = json_object_get(software, "description");
	if (json_is_string(v))
		out->description =
		    swu_text_copy(json_string_value(v), json_string_length(v));
	err = swu_hw_collect(software, out);
done:
	if (err != SWU_OK)
		swu_info_clear(out);
	json_decref(root); /* accepts NULL */
	return err;
}
