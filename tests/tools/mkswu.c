/*
 * mkswu: build SWUpdate test images (.swu) for the end-to-end tests, which
 * feed them to Debian's real swupdate client.  The image holds
 * sw-description, its CMS signature (unless -U), an optional shell script
 * and payload.bin, a deterministic pseudo-random payload of the asked size
 * (AES-128-CTR keystream keyed by SHA-256 of version and size).
 *
 * The payload is never held whole: a first pass over the generated stream
 * computes its SHA-256 (and the crc-format checksum) for sw-description, a
 * second pass writes it.  cpio headers (newc 070701 or crc 070702) are
 * written here, as libarchive cannot write the crc variant.  The signing
 * key and a self-signed certificate are created in KEYDIR on first use,
 * under a lock so parallel runs agree on one pair.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MKSWU_SIZE_MAX 0xffffffffULL /* newc's 8-hex-digit size field */
#define MKSWU_CHUNK (64 * 1024)
#define MKSWU_BLOCK 512 /* archive padded like GNU cpio */
#define MKSWU_DEFAULT_SIZE "64K"
#define MKSWU_DEFAULT_PATH "/tmp/swupdate-acceptance/payload.bin"
#define MKSWU_KEY_FILE "signing.key.pem"
#define MKSWU_CERT_FILE "signing.cert.pem"
#define MKSWU_CERT_DAYS 3650
#define MKSWU_CERT_CN "falconet test signing"

/* The script installed with -S: every phase succeeds. */
static const char mkswu_script[] =
    "#!/bin/sh\n"
    "# falconet test image: nothing to do before or after installing.\n"
    "case \"$1\" in\n"
    "preinst|postinst) exit 0 ;;\n"
    "esac\n"
    "exit 0\n";

struct mkswu_opts {
	const char *out;
	const char *version;
	const char *revs;  /* comma list, "" none */
	const char *model; /* board subtree or NULL */
	const char *path;  /* install path of payload.bin */
	const char *keydir;
	const char *extra; /* libconfig text inside software, or NULL */
	uint64_t size;
	bool is_unsigned;
	bool script;
	bool crc;
};

/* Digest and crc-format checksum of one member's data. */
struct mkswu_sum {
	char sha256[65];
	uint32_t check;
};

/* The archive being written: its fd, offset and running SHA-256. */
struct mkswu_out {
	int fd;
	uint64_t off;
	uint32_t ino;
	bool crc;
	EVP_MD_CTX *sha;
};

/* The deterministic payload stream. */
struct mkswu_payload {
	EVP_CIPHER_CTX *ctx;
	uint64_t left;
};

/* The image being written, removed if mkswu dies before renaming it. */
static char *mkswu_tmp;

static void mkswu_die(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
mkswu_die(const char *fmt, ...)
{
	va_list ap;

	if (mkswu_tmp != NULL)
		unlink(mkswu_tmp);
	fputs("mkswu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void
mkswu_usage(FILE *f)
{
	fprintf(f,
	    "usage: mkswu -o OUT -v VERSION [-r REVS] [-m MODEL] [-s SIZE]\n"
	    "             [-d PATH] [-k KEYDIR] [-U] [-F crc|newc] [-S]\n"
	    "             [-D TEXT] [-h]\n"
	    "  -o OUT      image to write (replaced atomically)\n"
	    "  -v VERSION  software.version\n"
	    "  -r REVS     hardware-compatibility, comma separated; ''"
	    " for none;\n"
	    "              '#RE:regex' entries allowed, commas inside {} or "
	    "[]\n"
	    "              do not split (default: none)\n"
	    "  -m MODEL    put compatibility, files and scripts under"
	    " software.MODEL\n"
	    "  -s SIZE     payload bytes, K/M/G suffixes (default %s)\n"
	    "  -d PATH     install path of the payload (default %s)\n"
	    "  -k KEYDIR   signing key dir (default <dir of OUT>/swu-signing);"
	    "\n"
	    "              %s and %s are created on first use\n"
	    "  -U          unsigned: no sw-description.sig\n"
	    "  -F FORMAT   cpio format, newc (070701, default) or crc"
	    " (070702)\n"
	    "  -S          add install.sh, a shellscript exiting 0\n"
	    "  -D TEXT     extra libconfig text inside software\n"
	    "  -h          this help\n"
	    "Prints \"OUT SIZE SHA256\" of the image on success.\n",
	    MKSWU_DEFAULT_SIZE, MKSWU_DEFAULT_PATH, MKSWU_KEY_FILE,
	    MKSWU_CERT_FILE);
}

static void
mkswu_sha256(const void *buf, size_t len, unsigned char md[32])
{
	if (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) != 1)
		mkswu_die("SHA-256 failed");
}

/* Payload generator. */

static void
mkswu_payload_open(struct mkswu_payload *p, const char *version, uint64_t size)
{
	unsigned char seed[32];
	char *text;

	text = xasprintf(
	    "falconet-mkswu\n%s\n%llu", version, (unsigned long long)size);
	mkswu_sha256(text, strlen(text), seed);
	free(text);
	if ((p->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(
	        p->ctx, EVP_aes_128_ctr(), NULL, seed, seed + 16) != 1)
		mkswu_die("AES-128-CTR setup failed");
	p->left = size;
}

/* Next chunk of the payload into buf (MKSWU_CHUNK bytes); 0 at the end. */
static size_t
mkswu_payload_next(struct mkswu_payload *p, unsigned char *buf)
{
	static const unsigned char zero[MKSWU_CHUNK];
	size_t n = p->left < MKSWU_CHUNK ? (size_t)p->left : MKSWU_CHUNK;
	int outl;

	if (n == 0)
		return 0;
	if (EVP_EncryptUpdate(p->ctx, buf, &outl, zero, (int)n) != 1 ||
	    (size_t)outl != n)
		mkswu_die("AES-128-CTR failed");
	p->left -= n;
	return n;
}

static void
mkswu_payload_close(struct mkswu_payload *p)
{
	EVP_CIPHER_CTX_free(p->ctx);
	p->ctx = NULL;
}

static uint32_t
mkswu_bytesum(const unsigned char *p, size_t n, uint32_t sum)
{
	while (n-- > 0)
		sum += *p++;
	return sum;
}

static void
mkswu_sum_buf(const void *buf, size_t len, struct mkswu_sum *sum)
{
	unsigned char md[32];

	mkswu_sha256(buf, len, md);
	hex_encode(md, sizeof(md), sum->sha256);
	sum->check = mkswu_bytesum(buf, len, 0);
}

/* First pass over the payload: its digest and checksum. */
static void
mkswu_sum_payload(
    const struct mkswu_opts *o, unsigned char *buf, struct mkswu_sum *sum)
{
	struct mkswu_payload p;
	unsigned char md[32];
	EVP_MD_CTX *sha;
	size_t n;

	if ((sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
		mkswu_die("SHA-256 setup failed");
	sum->check = 0;
	mkswu_payload_open(&p, o->version, o->size);
	while ((n = mkswu_payload_next(&p, buf)) > 0) {
		EVP_DigestUpdate(sha, buf, n);
		sum->check = mkswu_bytesum(buf, n, sum->check);
	}
	mkswu_payload_close(&p);
	EVP_DigestFinal_ex(sha, md, NULL);
	EVP_MD_CTX_free(sha);
	hex_encode(md, sizeof(md), sum->sha256);
}

/* sw-description. */

/* A libconfig string literal: quotes, backslashes and controls escaped. */
static void
mkswu_put_str(FILE *f, const char *s, size_t len)
{
	const char *end = s + len;

	fputc('"', f);
	for (; s < end; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < ' ')
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * hardware-compatibility from the -r list.  Entries are split at commas
 * outside braces and brackets, so "#RE:^1\\.[0-9]{1,3}$" stays whole;
 * empty entries are dropped, and no entries write no list.
 */
static void
mkswu_put_hw(FILE *f, const char *ind, const char *revs)
{
	const char *p, *start = revs;
	bool first = true;
	int depth = 0;

	for (p = revs;; p++) {
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && depth > 0)
			depth--;
		if (*p != '\0' && (*p != ',' || depth > 0))
			continue;
		if (p > start) {
			fprintf(f,
			    first ? "%shardware-compatibility = [ " : ", ",
			    ind);
			mkswu_put_str(f, start, (size_t)(p - start));
			first = false;
		}
		if (*p == '\0')
			break;
		start = p + 1;
	}
	if (!first)
		fputs(" ];\n", f);
}

/* The board-specific part: compatibility, files and scripts. */
static void
mkswu_put_body(FILE *f, const struct mkswu_opts *o, const char *ind,
    const struct mkswu_sum *payload, const struct mkswu_sum *script)
{
	mkswu_put_hw(f, ind, o->revs);
	fprintf(f, "%sfiles: (\n%s\t{\n", ind, ind);
	fprintf(f, "%s\t\tfilename = \"payload.bin\";\n", ind);
	fprintf(f, "%s\t\tpath = ", ind);
	mkswu_put_str(f, o->path, strlen(o->path));
	fprintf(f, ";\n%s\t\tsha256 = \"%s\";\n", ind, payload->sha256);
	fprintf(
	    f, "%s\t\tproperties = { create-destination = \"true\"; };\n", ind);
	fprintf(f, "%s\t}\n%s);\n", ind, ind);
	if (o->script)
		fprintf(f,
		    "%sscripts: ( { filename = \"install.sh\"; "
		    "type = \"shellscript\"; sha256 = \"%s\"; } );\n",
		    ind, script->sha256);
}

/* Build sw-description into a new string the caller frees. */
static char *
mkswu_description(const struct mkswu_opts *o, const struct mkswu_sum *payload,
    const struct mkswu_sum *script, size_t *lenp)
{
	char *text = NULL;
	FILE *f;

	if ((f = open_memstream(&text, lenp)) == NULL)
		mkswu_die("open_memstream: %s", strerror(errno));
	fputs("software =\n{\n\tversion = ", f);
	mkswu_put_str(f, o->version, strlen(o->version));
	fputs(";\n\tdescription = \"falconet test image\";\n", f);
	if (o->model != NULL) {
		fprintf(f, "\t%s = {\n", o->model);
		mkswu_put_body(f, o, "\t\t", payload, script);
		fputs("\t};\n", f);
	} else
		mkswu_put_body(f, o, "\t", payload, script);
	if (o->extra != NULL)
		fprintf(f, "\t%s\n", o->extra);
	fputs("};\n", f);
	if (fclose(f) != 0)
		mkswu_die("writing sw-description: %s", strerror(errno));
	return text;
}

/* Signing key and certificate. */

static void
mkswu_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		mkswu_die("certificate extension %s failed", value);
	X509_EXTENSION_free(ext);
}

/*
 * A self-signed RSA-2048 certificate shaped like `openssl req -x509`
 * makes: v3, key identifiers, CA:TRUE and no extended key usage, which
 * satisfies swupdate's default emailProtection purpose check.
 */
static X509 *
mkswu_new_cert(EVP_PKEY *key)
{
	unsigned char serial[8];
	uint64_t sn = 0;
	X509_NAME *name;
	X509 *x;
	size_t i;

	if (random_bytes(serial, sizeof(serial)) == -1)
		mkswu_die("no random bytes");
	for (i = 0; i < sizeof(serial); i++)
		sn = sn << 8 | serial[i];
	sn &= INT64_MAX;
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), sn) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(
	        X509_getm_notAfter(x), (long)MKSWU_CERT_DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		mkswu_die("certificate setup failed");
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)MKSWU_CERT_CN, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		mkswu_die("certificate name failed");
	mkswu_add_ext(x, NID_subject_key_identifier, "hash");
	mkswu_add_ext(x, NID_authority_key_identifier, "keyid:always");
	mkswu_add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	if (X509_sign(x, key, EVP_sha256()) == 0)
		mkswu_die("certificate signing failed");
	return x;
}

/* Write a PEM file through a temporary name, then rename it into place. */
static void
mkswu_write_pem(const char *dir, const char *file, EVP_PKEY *key, X509 *cert)
{
	char *path = xasprintf("%s/%s", dir, file);
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	FILE *f;
	int fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	         key != NULL ? 0600 : 0644)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		mkswu_die("%s: %s", tmp, strerror(errno));
	if ((key != NULL
	            ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	            : PEM_write_X509(f, cert)) != 1 ||
	    fclose(f) != 0)
		mkswu_die("%s: write failed", tmp);
	if (rename(tmp, path) == -1)
		mkswu_die("rename %s: %s", path, strerror(errno));
	free(tmp);
	free(path);
}

/* mkdir -p, mode 0700 for what it creates. */
static void
mkswu_mkdirs(const char *dir)
{
	char *copy = xstrdup(dir), *p;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == -1 && errno != EEXIST)
			mkswu_die("mkdir %s: %s", copy, strerror(errno));
		*p = '/';
	}
	if (mkdir(copy, 0700) == -1 && errno != EEXIST)
		mkswu_die("mkdir %s: %s", copy, strerror(errno));
	free(copy);
}

/* Load KEYDIR's key pair, creating it first if either file is missing. */
static void
mkswu_load_keys(const char *dir, EVP_PKEY **keyp, X509 **certp)
{
	char *kpath = xasprintf("%s/%s", dir, MKSWU_KEY_FILE);
	char *cpath = xasprintf("%s/%s", dir, MKSWU_CERT_FILE);
	char *lpath = xasprintf("%s/.lock", dir);
	FILE *f;
	int lock;

	mkswu_mkdirs(dir);
	if ((lock = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lock, LOCK_EX) == -1)
		mkswu_die("%s: %s", lpath, strerror(errno));
	if (access(kpath, F_OK) == -1 || access(cpath, F_OK) == -1) {
		if ((*keyp = EVP_RSA_gen(2048)) == NULL)
			mkswu_die("RSA key generation failed");
		*certp = mkswu_new_cert(*keyp);
		mkswu_write_pem(dir, MKSWU_KEY_FILE, *keyp, NULL);
		mkswu_write_pem(dir, MKSWU_CERT_FILE, NULL, *certp);
	} else {
		if ((f = fopen(kpath, "r")) == NULL ||
		    (*keyp = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
			mkswu_die("%s: cannot read key", kpath);
		fclose(f);
		if ((f = fopen(cpath, "r")) == NULL ||
		    (*certp = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
			mkswu_die("%s: cannot read certificate", cpath);
		fclose(f);
		if (X509_check_private_key(*certp, *keyp) != 1)
			mkswu_die("%s does not match %s", cpath, kpath);
	}
	close(lock); /* releases the lock */
	free(lpath);
	free(cpath);
	free(kpath);
}

/*
 * The detached CMS signature of sw-description, DER, as made by `openssl
 * cms -sign -outform DER -nosmimecap -binary`.  The caller frees *sigp.
 */
static void
mkswu_sign(const struct mkswu_opts *o, const char *text, size_t len,
    unsigned char **sigp, size_t *siglenp)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	CMS_ContentInfo *cms;
	BIO *in;
	int n;

	mkswu_load_keys(o->keydir, &key, &cert);
	if ((in = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (cms = CMS_sign(cert, key, NULL, in,
	         CMS_BINARY | CMS_NOSMIMECAP | CMS_DETACHED)) == NULL)
		mkswu_die("CMS signing failed");
	*sigp = NULL;
	if ((n = i2d_CMS_ContentInfo(cms, sigp)) <= 0)
		mkswu_die("CMS encoding failed");
	*siglenp = (size_t)n;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* cpio writer. */

static void
mkswu_write(struct mkswu_out *w, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	EVP_DigestUpdate(w->sha, buf, len);
	w->off += len;
	while (len > 0) {
		if ((n = write(w->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			mkswu_die("write: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Zeros up to the next multiple of `align` bytes. */
static void
mkswu_pad(struct mkswu_out *w, unsigned align)
{
	static const char zero[MKSWU_BLOCK];
	size_t n = (align - w->off % align) % align;

	mkswu_write(w, zero, n);
}

/* One newc/crc header with its name; check is used by the crc format. */
static void
mkswu_header(struct mkswu_out *w, const char *name, unsigned mode,
    uint64_t size, uint32_t check)
{
	char hdr[111];
	bool trailer = strcmp(name, "TRAILER!!!") == 0;

	snprintf(hdr, sizeof(hdr),
	    "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	    w->crc ? "070702" : "070701", trailer ? 0 : ++w->ino, mode, 0, 0,
	    trailer ? 0 : 1, 0, (unsigned)size, 0, 0, 0, 0,
	    (unsigned)strlen(name) + 1, w->crc ? check : 0);
	mkswu_write(w, hdr, 110);
	mkswu_write(w, name, strlen(name) + 1);
	mkswu_pad(w, 4);
}

static void
mkswu_member(struct mkswu_out *w, const char *name, unsigned mode,
    const void *data, size_t len)
{
	mkswu_header(w, name, mode, len, mkswu_bytesum(data, len, 0));
	mkswu_write(w, data, len);
	mkswu_pad(w, 4);
}

/* Second pass over the payload: write it as payload.bin. */
static void
mkswu_member_payload(struct mkswu_out *w, const struct mkswu_opts *o,
    unsigned char *buf, const struct mkswu_sum *sum)
{
	struct mkswu_payload p;
	size_t n;

	mkswu_header(w, "payload.bin", 0100644, o->size, sum->check);
	mkswu_payload_open(&p, o->version, o->size);
	while ((n = mkswu_payload_next(&p, buf)) > 0)
		mkswu_write(w, buf, n);
	mkswu_payload_close(&p);
	mkswu_pad(w, 4);
}

/* Options. */

/* libconfig setting names: [A-Za-z*][-A-Za-z0-9_*]*. */
static bool
mkswu_name_ok(const char *s)
{
	const char *p;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	        *s == '*'))
		return false;
	for (p = s + 1; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		        *p == '*'))
			return false;
	return true;
}

static void
mkswu_parse_opts(int argc, char **argv, struct mkswu_opts *o, char **keydir)
{
	const char *size = MKSWU_DEFAULT_SIZE;
	char *dir;
	int c;

	memset(o, 0, sizeof(*o));
	o->revs = "";
	o->path = MKSWU_DEFAULT_PATH;
	while ((c = getopt(argc, argv, "o:v:r:m:s:d:k:UF:SD:h")) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'v':
			o->version = optarg;
			break;
		case 'r':
			o->revs = optarg;
			break;
		case 'm':
			o->model = optarg;
			break;
		case 's':
			size = optarg;
			break;
		case 'd':
			o->path = optarg;
			break;
		case 'k':
			o->keydir = optarg;
			break;
		case 'U':
			o->is_unsigned = true;
			break;
		case 'S':
			o->script = true;
			break;
		case 'D':
			o->extra = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "crc") == 0)
				o->crc = true;
			else if (strcmp(optarg, "newc") != 0)
				mkswu_die("-F takes crc or newc");
			break;
		case 'h':
			mkswu_usage(stdout);
			exit(0);
		default:
			mkswu_usage(stderr);
			exit(1);
		}
	}
	if (optind != argc || o->out == NULL || o->version == NULL) {
		mkswu_usage(stderr);
		exit(1);
	}
	if (parse_size(size, MKSWU_SIZE_MAX, &o->size) == -1)
		mkswu_die("-s %s: not a size up to 4G-1", size);
	if (o->path[0] != '/')
		mkswu_die("-d %s: not an absolute path", o->path);
	if (o->model != NULL && !mkswu_name_ok(o->model))
		mkswu_die("-m %s: not a libconfig setting name", o->model);
	*keydir = NULL;
	if (o->keydir == NULL && !o->is_unsigned) {
		dir = xstrdup(o->out);
		*keydir = xasprintf("%s/swu-signing", dirname(dir));
		free(dir);
		o->keydir = *keydir;
	}
}

/* Write the image to a temporary file beside OUT and rename it over OUT. */
static void
mkswu_build(const struct mkswu_opts *o)
{
	struct mkswu_sum psum, ssum;
	struct mkswu_out w;
	unsigned char *buf, md[32], *sig = NULL;
	char *desc, *tmp, hex[65];
	size_t desclen, siglen = 0;

	buf = xmalloc(MKSWU_CHUNK);
	mkswu_sum_payload(o, buf, &psum);
	mkswu_sum_buf(mkswu_script, strlen(mkswu_script), &ssum);
	desc = mkswu_description(o, &psum, &ssum, &desclen);
	if (!o->is_unsigned)
		mkswu_sign(o, desc, desclen, &sig, &siglen);

	memset(&w, 0, sizeof(w));
	w.crc = o->crc;
	tmp = xasprintf("%s.XXXXXX", o->out);
	if ((w.fd = mkstemp(tmp)) == -1)
		mkswu_die("%s: %s", tmp, strerror(errno));
	mkswu_tmp = tmp;
	if ((w.sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(w.sha, EVP_sha256(), NULL) != 1)
		mkswu_die("SHA-256 setup failed");
	mkswu_member(&w, "sw-description", 0100644, desc, desclen);
	if (sig != NULL)
		mkswu_member(&w, "sw-description.sig", 0100644, sig, siglen);
	if (o->script)
		mkswu_member(&w, "install.sh", 0100755, mkswu_script,
		    strlen(mkswu_script));
	mkswu_member_payload(&w, o, buf, &psum);
	mkswu_header(&w, "TRAILER!!!", 0, 0, 0);
	mkswu_pad(&w, MKSWU_BLOCK);
	if (fchmod(w.fd, 0644) == -1 || fsync(w.fd) == -1 || close(w.fd) == -1)
		mkswu_die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, o->out) == -1)
		mkswu_die("rename %s: %s", o->out, strerror(errno));
	mkswu_tmp = NULL;
	EVP_DigestFinal_ex(w.sha, md, NULL);
	hex_encode(md, sizeof(md), hex);
	printf("%s %llu %s\n", o->out, (unsigned long long)w.off, hex);

	EVP_MD_CTX_free(w.sha);
	OPENSSL_free(sig);
	free(tmp);
	free(desc);
	free(buf);
}

int
main(int argc, char **argv)
{
	struct mkswu_opts o;
	char *keydir;

	mkswu_parse_opts(argc, argv, &o, &keydir);
	mkswu_build(&o);
	free(keydir);
	return 0;
}
