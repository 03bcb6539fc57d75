/*
 * Unit tests for rauc.c.  The fixtures are real bundles that
 * tests/tools/mkbundles.sh builds at setup with Debian's rauc, openssl,
 * mksquashfs and mkfs.ext4 (RAUC_FIXTURES=DIR reuses a set built before);
 * for every valid bundle the reader is compared with what `rauc info`
 * printed.  Tampered, truncated and lying copies are made here in memory
 * and parsed through a memfd; manifests alone go through a table.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rauc.h"
#include "trust.h"

#define MKBUNDLES "tests/tools/mkbundles.sh"
#define SKIPPED 77 /* mkbundles.sh: a tool is missing */

static char fixtures[PATH_MAX];
static bool own_fixtures, no_tools;
static struct trust_store *kr_ca, *kr_other;

/* A bundle the reader must accept, and how rauc info saw it. */
struct valid {
	const char *name;
	enum rauc_format format;
	const char *keyring; /* the CA that signed it */
};

/* clang-format off */
static const struct valid valid[] = {
	{ "plain",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "verity",	RAUC_FORMAT_VERITY,	"ca" },
	{ "crypt",	RAUC_FORMAT_CRYPT,	"ca" },
	{ "hooks",	RAUC_FORMAT_VERITY,	"ca" },
	{ "variants",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "comp-gzip",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "comp-xz",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "comp-zstd",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "comp-lz4",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "codesign",	RAUC_FORMAT_PLAIN,	"ca" },
	{ "other",	RAUC_FORMAT_VERITY,	"other-ca" },
};
/* clang-format on */

static const char *
fixture(const char *name)
{
	static char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static const char *
bundle_path(const char *name)
{
	static char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.raucb", fixtures, name);
	return path;
}

/* The whole of a (small) fixture file, NUL-terminated. */
static unsigned char *
load(const char *path, size_t *lenp)
{
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	if (lenp != NULL)
		*lenp = got;
	return buf;
}

static char *
load_text(const char *name)
{
	return (char *)load(fixture(name), NULL);
}

static int
memfd_of(const void *buf, size_t len)
{
	int fd = memfd_create("bundle", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	return fd;
}

static enum rauc_err
parse_buf(const void *buf, size_t len, const struct trust_store *kr,
    bool require, struct rauc_info *in, char *why, size_t whylen)
{
	enum rauc_err err;
	int fd = memfd_of(buf, len);

	err = rauc_parse_fd(fd, kr, require, in, why, whylen);
	close(fd);
	return err;
}

static enum rauc_err
parse_file(const char *name, const struct trust_store *kr, bool require,
    struct rauc_info *in, char *why, size_t whylen)
{
	enum rauc_err err;
	int fd = open(bundle_path(name), O_RDONLY);

	assert_true(fd >= 0);
	err = rauc_parse_fd(fd, kr, require, in, why, whylen);
	close(fd);
	return err;
}

/* An error leaves nothing behind. */
static void
assert_empty(const struct rauc_info *in)
{
	assert_null(in->compatible);
	assert_null(in->version);
	assert_null(in->images);
	assert_int_equal(in->nimages, 0);
	assert_null(in->recipients);
	assert_null(in->sig_error);
	assert_null(in->signer_subject);
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

/* rauc info output. */

/* KEY's value in --output-format=shell output, unquoted; NULL if absent. */
static char *
shell_get(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text, *v;
	char *out, *o;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			v = p + klen + 1;
			out = o = malloc(strlen(v) + 1);
			assert_non_null(out);
			while (*v != '\0' && *v != '\n') {
				if (*v == '\'') {
					for (v++; *v != '\0' && *v != '\'';)
						*o++ = *v++;
					if (*v == '\'')
						v++;
				} else if (*v == '\\' && v[1] != '\0') {
					*o++ = v[1];
					v += 2;
				} else
					*o++ = *v++;
			}
			*o = '\0';
			return out;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

static char *
shell_geti(const char *text, const char *key, int i)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%d", key, i);
	return shell_get(text, name);
}

/*
 * What follows label on its first line in rauc info's plain output,
 * without colour escapes, surrounding blanks and quotes; NULL if absent.
 */
static char *
text_get(const char *text, const char *label)
{
	const char *p = strstr(text, label), *end;
	char *out, *o;
	size_t n;

	if (p == NULL)
		return NULL;
	p += strlen(label);
	end = strchr(p, '\n');
	n = end != NULL ? (size_t)(end - p) : strlen(p);
	out = o = malloc(n + 1);
	assert_non_null(out);
	while (n > 0) {
		if (*p == '\033') {
			while (n > 0 && *p != 'm')
				p++, n--;
			if (n > 0)
				p++, n--;
			continue;
		}
		*o++ = *p++;
		n--;
	}
	*o = '\0';
	for (o = out; *o == ' ' || *o == '\t' || *o == '\''; o++)
		;
	memmove(out, o, strlen(o) + 1);
	for (n = strlen(out);
	     n > 0 &&
	     (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\'');)
		out[--n] = '\0';
	return out;
}

/* rauc info prints '' for absent strings; the reader gives NULL. */
static void
assert_same(const char *info, const char *got)
{
	if (info == NULL || info[0] == '\0')
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(info, got);
	}
}

/* A space-separated rauc info list against our ';'-joined one. */
static void
assert_same_list(const char *info, const char *got)
{
	char *copy, *p;

	if (info == NULL || info[0] == '\0') {
		assert_null(got);
		return;
	}
	copy = strdup(info);
	assert_non_null(copy);
	for (p = copy; *p != '\0'; p++)
		if (*p == ' ')
			*p = ';';
	assert_non_null(got);
	assert_string_equal(copy, got);
	free(copy);
}

static void
check_shell_field(const char *sh, const char *key, const char *got)
{
	char *v = shell_get(sh, key);

	assert_non_null(v);
	assert_same(v, got);
	free(v);
}

/* The reader against rauc info --output-format=shell. */
static void
check_against_shell(const char *name, const struct rauc_info *in)
{
	char file[128], *sh, *v;
	const struct rauc_image *im;
	size_t i;

	snprintf(file, sizeof(file), "%s.info", name);
	sh = load_text(file);
	check_shell_field(sh, "RAUC_MF_COMPATIBLE", in->compatible);
	check_shell_field(sh, "RAUC_MF_VERSION", in->version);
	check_shell_field(sh, "RAUC_MF_DESCRIPTION", in->description);
	check_shell_field(sh, "RAUC_MF_BUILD", in->build);
	v = shell_get(sh, "RAUC_MF_HOOKS");
	assert_same_list(v, in->hooks);
	free(v);
	v = shell_get(sh, "RAUC_MF_IMAGES");
	assert_non_null(v);
	assert_int_equal(strtoul(v, NULL, 10), in->nimages);
	free(v);
	for (i = 0; i < in->nimages; i++) {
		im = &in->images[i];
		v = shell_geti(sh, "RAUC_IMAGE_NAME", (int)i);
		assert_same(v, im->filename);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_CLASS", (int)i);
		assert_same(v, im->slotclass);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_VARIANT", (int)i);
		assert_same(v, im->variant);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_DIGEST", (int)i);
		assert_same(v, im->sha256);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_SIZE", (int)i);
		assert_non_null(v);
		assert_int_equal(strtoull(v, NULL, 10), im->size);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_HOOKS", (int)i);
		assert_same_list(v, im->hooks);
		free(v);
		v = shell_geti(sh, "RAUC_IMAGE_ADAPTIVE", (int)i);
		assert_same_list(v, im->adaptive);
		free(v);
	}
	free(sh);
}

/* Format, verity and the signer against rauc info's plain output. */
static void
check_against_text(const char *name, const struct rauc_info *in)
{
	char file[128], *txt, *v;

	snprintf(file, sizeof(file), "%s.txt", name);
	txt = load_text(file);
	v = text_get(txt, "Bundle Format:");
	assert_non_null(v);
	/* "crypt [unencrypted CMS]" */
	v[strcspn(v, " ")] = '\0';
	assert_string_equal(v, rauc_format_name(in->format));
	free(v);
	v = text_get(txt, "Verity Salt:");
	assert_same(v, in->verity_salt);
	free(v);
	v = text_get(txt, "Verity Hash:");
	assert_same(v, in->verity_hash);
	free(v);
	v = text_get(txt, "Verity Size:");
	if (v != NULL)
		assert_int_equal(strtoull(v, NULL, 10), in->verity_size);
	else
		assert_int_equal(in->verity_size, 0);
	free(v);
	/* The chain is printed only when rauc info verified it. */
	if ((v = text_get(txt, " 0 Subject:")) != NULL) {
		assert_same(v, in->signer_subject);
		free(v);
		v = text_get(txt, "   Issuer:");
		assert_same(v, in->signer_issuer);
		free(v);
		v = text_get(txt, "   SPKI sha256:");
		assert_same(v, in->signer_spki_sha256);
		free(v);
	}
	free(txt);
}

/* Setup. */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	const char *env = getenv("RAUC_FIXTURES");
	char cmd[3 * PATH_MAX], why[256];
	struct stat st;
	int rc;

	(void)state;
	if (env != NULL && env[0] != '\0' && stat(env, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		snprintf(fixtures, sizeof(fixtures), "%s", env);
	} else {
		snprintf(fixtures, sizeof(fixtures), "%s/rauc-test-XXXXXX",
		    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(fixtures) == NULL)
			return -1;
		own_fixtures = true;
		snprintf(cmd, sizeof(cmd),
		    "sh %s '%s' >'%s/mkbundles.log' 2>&1", MKBUNDLES, fixtures,
		    fixtures);
		rc = system(cmd);
		if (WIFEXITED(rc) && WEXITSTATUS(rc) == SKIPPED) {
			no_tools = true;
			return 0;
		}
		if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
			fprintf(stderr,
			    "%s failed (run from the repository root); see "
			    "%s/mkbundles.log\n",
			    MKBUNDLES, fixtures);
			own_fixtures = false; /* keep the log */
			return -1;
		}
	}
	kr_ca = trust_store_load(fixture("keys/ca.pem"), why, sizeof(why));
	kr_other =
	    trust_store_load(fixture("keys/other-ca.pem"), why, sizeof(why));
	if (kr_ca == NULL || kr_other == NULL) {
		fprintf(stderr, "keyring: %s\n", why);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	trust_store_free(kr_ca);
	trust_store_free(kr_other);
	if (own_fixtures)
		nftw(fixtures, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define NEED_TOOLS()                                                           \
	do {                                                                   \
		if (no_tools)                                                  \
			skip();                                                \
	} while (0)

static const struct trust_store *
keyring_named(const char *name)
{
	return strcmp(name, "ca") == 0 ? kr_ca : kr_other;
}

static const struct trust_store *
keyring_other_than(const char *name)
{
	return strcmp(name, "ca") == 0 ? kr_other : kr_ca;
}

/* Tests. */

/*
 * First, while the process is still small: a 64 MiB verity bundle is
 * read and its whole tree checked in constant memory.
 */
static void
test_big_verity(void **state)
{
	struct rusage before, after;
	struct rauc_info in;
	char why[256];

	(void)state;
	NEED_TOOLS();
	assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
	assert_int_equal(
	    parse_file("big", kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	assert_int_equal(in.format, RAUC_FORMAT_VERITY);
	assert_int_equal(in.sig, RAUC_SIG_VERIFIED);
	assert_int_equal(in.nimages, 1);
	assert_int_equal(in.images[0].size, 64 * 1024 * 1024);
	assert_true(in.payload_size > 64 * 1024 * 1024);
	/* ru_maxrss is in KiB; the bundle is over 64 MiB. */
	assert_true(after.ru_maxrss - before.ru_maxrss < 24 * 1024);
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_file("big", NULL, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_UNCHECKED);
	rauc_info_clear(&in);
}

/*
 * The big bundle's tree is checked by several threads, each a share of
 * the data, reading around the page cache where it can: a flipped byte
 * in any share is found, the lowest one is named, and the descriptor's
 * flags are as they were.
 */
static void
test_big_tampered(void **state)
{
	const uint64_t blocks[] = {
	    /* data blocks of the image file: in the last and second share */
	    14000, 6000};
	char path[2 * PATH_MAX], why[256], want[64];
	unsigned char byte;
	struct rauc_info in;
	int fd, fl;
	size_t i;

	(void)state;
	NEED_TOOLS();
	snprintf(path, sizeof(path), "%s/big-tampered.raucb", fixtures);
	{
		size_t len;
		unsigned char *buf = load(bundle_path("big"), &len);

		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
		assert_int_equal(fsync(fd), 0);
		free(buf);
	}
	fl = fcntl(fd, F_GETFL);
	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		assert_int_equal(
		    pread(fd, &byte, 1, (off_t)(blocks[i] * 4096 + 100)), 1);
		byte ^= 0x20;
		assert_int_equal(
		    pwrite(fd, &byte, 1, (off_t)(blocks[i] * 4096 + 100)), 1);
		assert_int_equal(fsync(fd), 0);
		assert_int_equal(
		    rauc_parse_fd(fd, kr_ca, true, &in, why, sizeof(why)),
		    RAUC_ERR_PAYLOAD);
		assert_empty(&in);
		snprintf(want, sizeof(want), "level 0, block %llu)",
		    (unsigned long long)blocks[i]);
		if (strstr(why, want) == NULL)
			fail_msg("want \"%s\" in \"%s\"", want, why);
		assert_int_equal(fcntl(fd, F_GETFL), fl);
	}
	close(fd);
	unlink(path);
}

/* Every valid bundle: no keyring, the right one, another one. */
static void
test_valid_bundles(void **state)
{
	const struct valid *v;
	struct rauc_info in;
	char why[256];
	json_t *j;
	size_t i;
	int fd;

	(void)state;
	NEED_TOOLS();
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		v = &valid[i];
		fd = open(bundle_path(v->name), O_RDONLY);
		assert_true(fd >= 0);
		assert_true(rauc_detect(fd));
		close(fd);

		assert_int_equal(
		    parse_file(v->name, NULL, false, &in, why, sizeof(why)),
		    RAUC_OK);
		assert_int_equal(in.format, v->format);
		assert_int_equal(in.sig, RAUC_SIG_UNCHECKED);
		assert_null(in.sig_error);
		assert_non_null(in.signer_subject);
		assert_true(in.cms_size > 0 && in.payload_size > 0);
		check_against_shell(v->name, &in);
		check_against_text(v->name, &in);
		j = rauc_info_json(&in);
		assert_non_null(j);
		assert_string_equal(
		    json_string_value(json_object_get(j, "format")),
		    rauc_format_name(v->format));
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_object_get(j, "signature"), "status")),
		    "unchecked");
		json_decref(j);
		rauc_info_clear(&in);

		assert_int_equal(parse_file(v->name, keyring_named(v->keyring),
		                     true, &in, why, sizeof(why)),
		    RAUC_OK);
		assert_int_equal(in.sig, RAUC_SIG_VERIFIED);
		assert_null(in.sig_error);
		check_against_shell(v->name, &in);
		check_against_text(v->name, &in);
		rauc_info_clear(&in);

		assert_int_equal(
		    parse_file(v->name, keyring_other_than(v->keyring), false,
		        &in, why, sizeof(why)),
		    RAUC_OK);
		assert_int_equal(in.sig, RAUC_SIG_FAILED);
		assert_non_null(in.sig_error);
		assert_non_null(strstr(in.sig_error, "issuer certificate"));
		check_against_shell(v->name, &in);
		rauc_info_clear(&in);

		assert_int_equal(
		    parse_file(v->name, keyring_other_than(v->keyring), true,
		        &in, why, sizeof(why)),
		    RAUC_ERR_SIGNATURE);
		assert_empty(&in);
		assert_true(strncmp(why, "signature: ", 11) == 0);
	}
}

static void
test_images_and_hooks(void **state)
{
	struct rauc_info in;
	char why[256];

	(void)state;
	NEED_TOOLS();
	assert_int_equal(
	    parse_file("hooks", kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	assert_string_equal(in.hooks, "install-check");
	assert_true(in.has_hook_file);
	assert_true(in.has_handler);
	assert_int_equal(in.nimages, 2);
	assert_string_equal(in.images[0].slotclass, "rootfs");
	assert_null(in.images[0].variant);
	assert_string_equal(in.images[0].hooks, "pre-install;post-install");
	assert_string_equal(in.images[1].slotclass, "appfs");
	assert_string_equal(in.images[1].variant, "variant-x");
	assert_string_equal(in.images[1].adaptive, "block-hash-index");
	rauc_info_clear(&in);

	assert_int_equal(
	    parse_file("variants", kr_ca, true, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.nimages, 4);
	assert_string_equal(in.images[0].variant, "variant-a");
	assert_string_equal(in.images[1].variant, "variant-b");
	assert_string_equal(in.images[1].slotclass, "rootfs");
	assert_null(in.images[2].variant);
	assert_false(in.has_hook_file);
	assert_null(in.hooks);
	rauc_info_clear(&in);

	/* plain.raucb carries an ext4 image beside a raw one. */
	assert_int_equal(
	    parse_file("plain", kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.nimages, 2);
	assert_string_equal(in.images[1].filename, "appfs.ext4");
	rauc_info_clear(&in);
}

static void
test_lzo(void **state)
{
	struct rauc_info in;
	char why[256];

	(void)state;
	NEED_TOOLS();
	assert_int_equal(
	    parse_file("comp-lzo", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_COMPRESSION);
	assert_empty(&in);
	assert_non_null(strstr(why, "lzo"));
	assert_int_equal(
	    parse_file("comp-lzo", NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_COMPRESSION);
}

/* A plain bundle's squashfs superblock, damaged field by field. */
static void
test_squashfs_header(void **state)
{
	struct rauc_info in;
	unsigned char *buf;
	char why[256];
	size_t len;

	(void)state;
	NEED_TOOLS();
	buf = load(bundle_path("plain"), &len);
	buf[20] = 9; /* compression id, little-endian u16 */
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_COMPRESSION);
	assert_non_null(strstr(why, "id 9"));
	buf[20] = 1;
	buf[0] ^= 0x20; /* magic */
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_FORMAT);
	assert_non_null(strstr(why, "squashfs"));
	buf[0] ^= 0x20;
	buf[40 + 5] = 0x7f; /* bytes_used far beyond the payload */
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_FORMAT);
	assert_empty(&in);
	free(buf);
}

static void
test_encrypted(void **state)
{
	struct rauc_info in;
	char why[256], *id;
	json_t *j, *r;
	int fd;

	(void)state;
	NEED_TOOLS();
	id = load_text("keys/recipient.id");
	id[strcspn(id, "\n")] = '\0';
	fd = open(bundle_path("crypt-enc"), O_RDONLY);
	assert_true(fd >= 0);
	assert_true(rauc_detect(fd));
	close(fd);
	/* Even with require_signature: the caller decides. */
	assert_int_equal(
	    parse_file("crypt-enc", kr_ca, true, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.format, RAUC_FORMAT_CRYPT_ENCRYPTED);
	assert_int_equal(in.sig, RAUC_SIG_UNREADABLE);
	assert_null(in.compatible);
	assert_null(in.version);
	assert_int_equal(in.nimages, 0);
	assert_int_equal(in.nrecipients, 1);
	assert_string_equal(in.recipients[0], id);
	j = rauc_info_json(&in);
	assert_non_null(j);
	assert_null(json_object_get(j, "compatible"));
	r = json_object_get(j, "recipients");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_array_get(r, 0)), id);
	json_decref(j);
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_file("crypt-enc", NULL, false, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_UNREADABLE);
	rauc_info_clear(&in);
	free(id);
}

/* The crypt-key must appear nowhere: not in JSON, strings or reasons. */
static void
test_crypt_key_hidden(void **state)
{
	struct rauc_info in;
	char why[256], *key, *dump, upper[80];
	unsigned char *buf;
	size_t len, i;
	json_t *j;

	(void)state;
	NEED_TOOLS();
	key = load_text("crypt.key");
	key[strcspn(key, "\n")] = '\0';
	assert_int_equal(strlen(key), 64);
	for (i = 0; i <= strlen(key); i++)
		upper[i] =
		    (char)(key[i] >= 'a' && key[i] <= 'f' ? key[i] - 'a' + 'A'
		                                          : key[i]);
	assert_int_equal(
	    parse_file("crypt", kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	j = rauc_info_json(&in);
	assert_non_null(j);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(dump);
	assert_null(strstr(dump, key));
	assert_null(strstr(dump, upper));
	assert_null(strstr(dump, "crypt-key"));
	free(dump);
	json_decref(j);
	rauc_info_clear(&in);

	/* Nor in the reason for a corrupt payload. */
	buf = load(bundle_path("crypt"), &len);
	buf[100] ^= 0x01;
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	assert_null(strstr(why, key));
	free(buf);
	free(key);
}

/* Flipped bytes: verity data, verity tree, plain payload. */
static void
test_tampered(void **state)
{
	unsigned char *buf, *head, *img;
	struct rauc_info in;
	uint64_t s, p;
	char why[256];
	size_t len, hlen;

	(void)state;
	NEED_TOOLS();
	buf = load(bundle_path("verity"), &len);
	s = get_be64(buf + len - 8);
	p = len - 8 - s;
	buf[5000] ^= 0x40; /* squashfs data */
	assert_int_equal(
	    parse_buf(buf, len, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	assert_empty(&in);
	assert_non_null(strstr(why, "verity"));
	/* The signature is fine: the payload check still fails. */
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	buf[5000] ^= 0x40;
	buf[p - 4096 + 7] ^= 0x01; /* first digest of the hash tree */
	assert_int_equal(
	    parse_buf(buf, len, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	buf[p - 4096 + 7] ^= 0x01;
	buf[p - 10] ^= 0x01; /* unused digest slot of the hash tree */
	assert_int_equal(
	    parse_buf(buf, len, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	buf[p - 10] ^= 0x01;
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	rauc_info_clear(&in);
	free(buf);

	buf = load(bundle_path("plain"), &len);
	s = get_be64(buf + len - 8);
	p = len - 8 - s;
	buf[p - 1] ^= 0x01; /* padding after the squashfs, still signed */
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_FAILED);
	assert_non_null(in.sig_error);
	assert_string_equal(in.compatible, "falconet-test-board");
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_SIGNATURE);
	assert_empty(&in);
	assert_int_equal(
	    parse_buf(buf, len, NULL, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_UNCHECKED);
	rauc_info_clear(&in);
	buf[p - 1] ^= 0x01;
	/* A byte of image data inside the squashfs (stored uncompressed). */
	head = load(fixture("plain.rootfs-head"), &hlen);
	img = memmem(buf, len, head, hlen);
	assert_non_null(img);
	img[100] ^= 0x01;
	free(head);
	assert_int_equal(
	    parse_buf(buf, len, kr_ca, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_FAILED);
	rauc_info_clear(&in);
	free(buf);
}

/* Every cut point gives an error, never a crash or a success. */
static void
test_truncated(void **state)
{
	static const char *const names[] = {
	    "plain", "verity", "crypt", "crypt-enc", "hooks"};
	unsigned char *buf;
	struct rauc_info in;
	uint64_t s, p, cuts[16];
	char why[256];
	size_t len, i, k, n;

	(void)state;
	NEED_TOOLS();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		buf = load(bundle_path(names[i]), &len);
		s = get_be64(buf + len - 8);
		p = len - 8 - s;
		n = 0;
		cuts[n++] = len - 1;
		cuts[n++] = len - 7;
		cuts[n++] = len - 8;
		cuts[n++] = len - 9;
		cuts[n++] = p + s / 2;
		cuts[n++] = p + 1;
		cuts[n++] = p;
		cuts[n++] = p - 1;
		cuts[n++] = p - 4096;
		cuts[n++] = 8192;
		cuts[n++] = 4104;
		cuts[n++] = 4096;
		cuts[n++] = 100;
		cuts[n++] = 8;
		cuts[n++] = 1;
		cuts[n++] = 0;
		for (k = 0; k < n; k++) {
			if (cuts[k] > len)
				continue;
			assert_int_not_equal(
			    parse_buf(buf, (size_t)cuts[k], kr_ca, false, &in,
			        why, sizeof(why)),
			    RAUC_OK);
			assert_empty(&in);
			assert_true(why[0] != '\0');
		}
		free(buf);
	}
}

/* The CMS size in the trailer lies. */
static void
test_size_lies(void **state)
{
	unsigned char *buf, *big;
	struct rauc_info in;
	uint64_t s, p;
	char why[256];
	size_t len;
	int fd;

	(void)state;
	NEED_TOOLS();
	buf = load(bundle_path("verity"), &len);
	s = get_be64(buf + len - 8);
	p = len - 8 - s;
	/* clang-format off */
	const uint64_t lies[] = {
		len, len - 7, 0, RAUC_CMS_MAX + 1, UINT64_MAX, s + 1, s - 1,
		s + 4096, len - 8 - 96,
	};
	/* clang-format on */
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		put_be64(buf + len - 8, lies[i]);
		fd = memfd_of(buf, len);
		assert_false(rauc_detect(fd));
		assert_int_equal(
		    rauc_parse_fd(fd, kr_ca, false, &in, why, sizeof(why)),
		    RAUC_ERR_NOT_BUNDLE);
		assert_empty(&in);
		close(fd);
	}
	put_be64(buf + len - 8, s);

	/* Over 64 KiB in a file big enough to hold it. */
	big = calloc(1, 80000 + len);
	assert_non_null(big);
	memcpy(big + 80000, buf, len);
	put_be64(big + 80000 + len - 8, 70000);
	assert_int_equal(
	    parse_buf(big, 80000 + len, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_NOT_BUNDLE);
	assert_non_null(strstr(why, "70000"));
	free(big);

	/* A payload that is not whole blocks: the bundle is inconsistent. */
	big = malloc(len + 1);
	assert_non_null(big);
	memcpy(big, buf, p);
	big[p] = 0;
	memcpy(big + p + 1, buf + p, len - p);
	assert_int_equal(
	    parse_buf(big, len + 1, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_FORMAT);
	free(big);
	free(buf);
}

/* The CMS of one bundle pasted on the payload of its twin. */
static void
test_pasted_cms(void **state)
{
	unsigned char *a, *b, *c;
	struct rauc_info in;
	uint64_t pa, sb;
	char why[256];
	size_t la, lb;

	(void)state;
	NEED_TOOLS();
	a = load(bundle_path("verity"), &la);
	b = load(bundle_path("verity-twin"), &lb);
	pa = la - 8 - get_be64(a + la - 8);
	sb = get_be64(b + lb - 8);
	c = malloc(pa + sb + 8);
	assert_non_null(c);
	memcpy(c, a, pa);
	memcpy(c + pa, b + lb - 8 - sb, sb + 8);
	assert_int_equal(
	    parse_buf(c, pa + sb + 8, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	/* Another salt: the leaves already disagree. */
	assert_non_null(strstr(why, "verity hash tree"));
	free(a);
	free(b);
	free(c);

	a = load(bundle_path("plain"), &la);
	b = load(bundle_path("plain-twin"), &lb);
	pa = la - 8 - get_be64(a + la - 8);
	sb = get_be64(b + lb - 8);
	c = malloc(pa + sb + 8);
	assert_non_null(c);
	memcpy(c, a, pa);
	memcpy(c + pa, b + lb - 8 - sb, sb + 8);
	assert_int_equal(
	    parse_buf(c, pa + sb + 8, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_FAILED);
	assert_string_equal(in.description, "falconet plain bundle");
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_buf(c, pa + sb + 8, kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_SIGNATURE);
	free(a);
	free(b);
	free(c);
}

static void
test_signers(void **state)
{
	struct rauc_info in;
	char why[256];

	(void)state;
	NEED_TOOLS();
	assert_int_equal(
	    parse_file("expired", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_FAILED);
	assert_non_null(strstr(in.sig_error, "expired"));
	assert_string_equal(
	    in.signer_subject, "CN = expired-signer, O = falconet");
	assert_string_equal(
	    in.signer_issuer, "O = falconet, CN = falconet-test-ca");
	assert_int_equal(in.signer_not_after, 1577923200); /* 2020-01-02 */
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_file("expired", kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_SIGNATURE);
	assert_non_null(strstr(why, "expired"));
	assert_int_equal(
	    parse_file("expired", NULL, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_UNCHECKED);
	assert_int_equal(in.signer_not_after, 1577923200);
	rauc_info_clear(&in);

	/* A keyring mismatch, and no keyring when one is required. */
	assert_int_equal(
	    parse_file("other", kr_ca, false, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_FAILED);
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_file("other", kr_other, true, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_VERIFIED);
	assert_string_equal(
	    in.signer_issuer, "O = elsewhere, CN = other-test-ca");
	rauc_info_clear(&in);
	assert_int_equal(
	    parse_file("verity", NULL, true, &in, why, sizeof(why)),
	    RAUC_ERR_SIGNATURE);

	/* codeSigning-only: verified with purpose any. */
	assert_int_equal(
	    parse_file("codesign", kr_ca, true, &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_VERIFIED);
	rauc_info_clear(&in);
}

/* Bundles made by hand with openssl cms. */
static void
test_crafted(void **state)
{
	struct rauc_info in, ref;
	char why[256];
	size_t i;

	(void)state;
	NEED_TOOLS();
	/* Unknown groups and keys in a signed manifest are accepted. */
	assert_int_equal(
	    parse_file("custom", kr_ca, true, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(
	    parse_file("verity", kr_ca, true, &ref, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.sig, RAUC_SIG_VERIFIED);
	assert_string_equal(in.compatible, ref.compatible);
	assert_string_equal(in.verity_hash, ref.verity_hash);
	assert_int_equal(in.nimages, ref.nimages);
	for (i = 0; i < in.nimages; i++)
		assert_string_equal(in.images[i].sha256, ref.images[i].sha256);
	rauc_info_clear(&in);
	rauc_info_clear(&ref);

	/* The tree is intact, the signed root hash is another one. */
	assert_int_equal(
	    parse_file("wrong-root", kr_ca, true, &in, why, sizeof(why)),
	    RAUC_ERR_PAYLOAD);
	assert_non_null(strstr(why, "root hash"));
	assert_int_equal(
	    parse_file("inline-plain", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_FORMAT);
	assert_empty(&in);
	assert_int_equal(
	    parse_file("traversal", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_MANIFEST);
	assert_non_null(strstr(why, "is not a plain name"));
	assert_int_equal(
	    parse_file("nomanifest", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_MANIFEST);
	assert_non_null(strstr(why, "manifest.raucm"));
	assert_int_equal(
	    parse_file("plain-verity", kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_FORMAT);
}

/* A newc cpio member header for name, padded. */
static size_t
put_cpio(unsigned char *p, const char *name, size_t size)
{
	size_t n;

	n = (size_t)sprintf((char *)p,
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1,
	    0100644, 0, 0, 1, 0, (unsigned)size, 0, 0, 0, 0,
	    (unsigned)strlen(name) + 1, 0);
	memcpy(p + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	while (n % 4 != 0)
		p[n++] = '\0';
	return n;
}

static void
test_not_bundle(void **state)
{
	static const char desc[] = "software = { version = \"1.0\"; };\n";
	unsigned char buf[16384];
	struct rauc_info in;
	uint32_t x = 12345;
	char why[256];
	size_t n, i;
	int fd, fds[2];

	(void)state;
	/* A .swu: cpio with sw-description, padded as cpio pads. */
	memset(buf, 0, sizeof(buf));
	n = put_cpio(buf, "sw-description", sizeof(desc) - 1);
	memcpy(buf + n, desc, sizeof(desc) - 1);
	n += sizeof(desc) - 1;
	n = (n + 3) / 4 * 4;
	n += put_cpio(buf + n, "TRAILER!!!", 0);
	fd = memfd_of(buf, 8192);
	assert_false(rauc_detect(fd));
	assert_int_equal(rauc_parse_fd(fd, kr_ca, false, &in, why, sizeof(why)),
	    RAUC_ERR_NOT_BUNDLE);
	assert_empty(&in);
	close(fd);
	/* Random bytes (a fixed xorshift stream). */
	for (i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	fd = memfd_of(buf, sizeof(buf));
	assert_false(rauc_detect(fd));
	assert_int_equal(rauc_parse_fd(fd, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_NOT_BUNDLE);
	close(fd);
	/* Empty and tiny files. */
	fd = memfd_of(buf, 0);
	assert_false(rauc_detect(fd));
	assert_int_equal(rauc_parse_fd(fd, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_NOT_BUNDLE);
	close(fd);
	fd = memfd_of(buf, 100);
	assert_int_equal(rauc_parse_fd(fd, NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_NOT_BUNDLE);
	close(fd);
	/* Not a regular file, not a file at all. */
	assert_int_equal(pipe(fds), 0);
	assert_false(rauc_detect(fds[0]));
	assert_int_equal(
	    rauc_parse_fd(fds[0], NULL, false, &in, why, sizeof(why)),
	    RAUC_ERR_IO);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(
	    rauc_parse_fd(-1, NULL, false, &in, NULL, 0), RAUC_ERR_IO);
	assert_false(rauc_detect(-1));
}

/* Manifests alone: rows that must fail, and why. */
struct mfcase {
	const char *text;
	enum rauc_err err;
	const char *why; /* substring of the reason, or NULL */
};

#define UPD "[update]\ncompatible=x\n"
#define IMG "[image.rootfs]\nfilename=r.img\nsize=1\nsha256="
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define VERITY                                                                 \
	"[bundle]\nformat=verity\nverity-hash=" SHA "\nverity-salt=" SHA       \
	"\nverity-size=4096\n"

/* clang-format off */
static const struct mfcase mfcases[] = {
	{ UPD, RAUC_OK, NULL },
	{ "", RAUC_ERR_MANIFEST, "compatible" },
	{ "[update]\nversion=1\n", RAUC_ERR_MANIFEST, "compatible" },
	{ "[update]\ncompatible=\n", RAUC_ERR_MANIFEST, "compatible" },
	{ "compatible=x\n[update]\n", RAUC_ERR_MANIFEST, "before the first" },
	{ UPD "hello\n", RAUC_ERR_MANIFEST, "line 3" },
	{ UPD "=x\n", RAUC_ERR_MANIFEST, "line 3" },
	{ UPD "[image.rootfs\n", RAUC_ERR_MANIFEST, "group" },
	{ UPD "[]\n", RAUC_ERR_MANIFEST, "group" },
	{ UPD "[a]b\n", RAUC_ERR_MANIFEST, "group" },
	{ UPD "[a[b]\n", RAUC_ERR_MANIFEST, "group" },
	{ UPD "[a\tb]\n", RAUC_ERR_MANIFEST, "group" },
	{ UPD "[update]\ndescription=a\\xb\n", RAUC_ERR_MANIFEST, "escape" },
	{ UPD "[update]\ndescription=a\\\n", RAUC_ERR_MANIFEST, "escape" },
	{ UPD "\xff\xfe\n", RAUC_ERR_MANIFEST, "UTF-8" },
	{ UPD "[bundle]\nformat=squash\n", RAUC_ERR_MANIFEST, "format" },
	{ UPD "[bundle]\nformat=verity\n", RAUC_ERR_MANIFEST, "verity-hash" },
	{ UPD "[bundle]\nformat=verity\nverity-hash=" SHA "\nverity-salt=" SHA
	  "\nverity-size=100\n", RAUC_ERR_MANIFEST, "verity-size" },
	{ UPD "[bundle]\nformat=verity\nverity-hash=" SHA "\nverity-salt=" SHA
	  "\nverity-size=0\n", RAUC_ERR_MANIFEST, "verity-size" },
	{ UPD "[bundle]\nformat=verity\nverity-hash=" SHA "\nverity-salt=abc"
	  "\nverity-size=4096\n", RAUC_ERR_MANIFEST, "verity-salt" },
	{ UPD VERITY, RAUC_OK, NULL },
	{ UPD "[bundle]\nformat=crypt\nverity-hash=" SHA "\nverity-salt=" SHA
	  "\nverity-size=4096\n", RAUC_ERR_MANIFEST, "crypt-key" },
	{ UPD "[bundle]\nformat=crypt\nverity-hash=" SHA "\nverity-salt=" SHA
	  "\nverity-size=4096\ncrypt-key=" SHA "\n", RAUC_OK, NULL },
	{ UPD "[image.rootfs]\nfilename=../r.img\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "is not a plain name" },
	{ UPD "[image.rootfs]\nfilename=a/b\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "is not a plain name" },
	{ UPD "[image.rootfs]\nfilename=/etc/passwd\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "is not a plain name" },
	{ UPD "[image.rootfs]\nfilename=..\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "is not a plain name" },
	{ UPD "[image.rootfs]\nfilename=a\\nb\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "is not a plain name" },
	{ UPD "[image.rootfs]\nsize=1\nsha256=" SHA "\n", RAUC_ERR_MANIFEST,
	  "no filename" },
	{ UPD "[image.rootfs]\nfilename=r.img\nsize=1\n", RAUC_ERR_MANIFEST,
	  "sha256" },
	{ UPD IMG "abc\n", RAUC_ERR_MANIFEST, "sha256" },
	{ UPD "[image.rootfs]\nfilename=r.img\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "size" },
	{ UPD "[image.rootfs]\nfilename=r.img\nsize=1k\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "size" },
	{ UPD "[image.rootfs]\nfilename=r.img\nsize=-1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "size" },
	{ UPD "[image.rootfs]\nfilename=r.img\nsize=9223372036854775808\n"
	  "sha256=" SHA "\n", RAUC_ERR_MANIFEST, "size" },
	{ UPD "[image.]\nfilename=r.img\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "slot class" },
	{ UPD "[image.rootfs.]\nfilename=r.img\nsize=1\nsha256=" SHA "\n",
	  RAUC_ERR_MANIFEST, "slot class" },
	{ UPD IMG SHA "\nhooks=post-install\n", RAUC_ERR_MANIFEST,
	  "[hooks] has no filename" },
	{ UPD "[hooks]\nhooks=install-check\n", RAUC_ERR_MANIFEST,
	  "[hooks] has no filename" },
	{ UPD "[hooks]\nfilename=h.sh\n[image.rootfs]\nhooks=install\n",
	  RAUC_OK, NULL },
	{ UPD "[meta.x]\nkey=value\n[rollout]\nx=1\n[update]\nnew-key=1\n",
	  RAUC_OK, NULL },
};
/* clang-format on */

static void
test_manifest_table(void **state)
{
	const struct mfcase *c;
	struct rauc_info in;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mfcases) / sizeof(mfcases[0]); i++) {
		c = &mfcases[i];
		why[0] = '\0';
		if (rauc_parse_manifest(c->text, strlen(c->text), &in, why,
		        sizeof(why)) != c->err ||
		    (c->why != NULL && strstr(why, c->why) == NULL)) {
			fprintf(stderr, "row %zu: %s\n", i, why);
			fail();
		}
		if (c->err != RAUC_OK)
			assert_empty(&in);
		rauc_info_clear(&in);
	}
}

static void
test_manifest_syntax(void **state)
{
	static const char text[] = "# comment\n"
	                           "  [update]  \r\n"
	                           "  compatible = board rev2 \r\n"
	                           "version=1\n"
	                           "version=2\n"
	                           "description=a\\sb\\nc\\\\d\\te\n"
	                           "\n"
	                           "[hooks]\n"
	                           "filename=h.sh\n"
	                           "hooks=install-check;\n"
	                           "[image.rootfs.a.b]\n"
	                           "filename=r.img\n"
	                           "size=0012\n"
	                           "sha256=" SHA "\n"
	                           "hooks=pre-install;;post-install;\n"
	                           "adaptive=block-hash-index\n"
	                           "[other]\n"
	                           "x=y\n"
	                           "[update]\n"
	                           "build=b1";
	static const char hookonly[] =
	    UPD "[hooks]\nfilename=h\n[image.a]\nhooks=install\n";
	struct rauc_info in;
	char why[256];
	json_t *j, *im;

	(void)state;
	assert_int_equal(
	    rauc_parse_manifest(text, strlen(text), &in, why, sizeof(why)),
	    RAUC_OK);
	assert_int_equal(in.format, RAUC_FORMAT_PLAIN);
	/* GLib keeps a value's trailing blanks, drops the \r. */
	assert_string_equal(in.compatible, "board rev2 ");
	assert_string_equal(in.version, "2");
	assert_string_equal(in.description, "a b\nc\\d\te");
	assert_string_equal(in.build, "b1");
	assert_string_equal(in.hooks, "install-check");
	assert_true(in.has_hook_file);
	assert_false(in.has_handler);
	assert_int_equal(in.nimages, 1);
	assert_string_equal(in.images[0].slotclass, "rootfs");
	assert_string_equal(in.images[0].variant, "a.b");
	assert_int_equal(in.images[0].size, 12);
	assert_string_equal(in.images[0].hooks, "pre-install;post-install");
	assert_string_equal(in.images[0].adaptive, "block-hash-index");
	j = rauc_info_json(&in);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(j, "format")), "plain");
	assert_true(json_is_true(json_object_get(j, "hook_file")));
	assert_null(json_object_get(j, "verity"));
	assert_null(json_object_get(j, "recipients"));
	im = json_array_get(json_object_get(j, "images"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(im, "variant")), "a.b");
	assert_int_equal(json_integer_value(json_object_get(im, "size")), 12);
	json_decref(j);
	rauc_info_clear(&in);

	/* An install hook needs no file. */
	assert_int_equal(rauc_parse_manifest(
	                     hookonly, strlen(hookonly), &in, why, sizeof(why)),
	    RAUC_OK);
	assert_null(in.images[0].filename);
	assert_null(in.images[0].sha256);
	rauc_info_clear(&in);

	/* A NUL byte inside, and no text at all. */
	assert_int_equal(rauc_parse_manifest(UPD "\0x", sizeof(UPD "\0x") - 1,
	                     &in, why, sizeof(why)),
	    RAUC_ERR_MANIFEST);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(rauc_parse_manifest(NULL, 10, &in, why, sizeof(why)),
	    RAUC_ERR_MANIFEST);
}

/* head, then n times pre, the index and post. */
static char *
repeat(const char *head, const char *pre, int n, const char *post, size_t *lenp)
{
	size_t cap =
	    strlen(head) + (strlen(pre) + strlen(post) + 12) * (size_t)n + 1;
	char *s = malloc(cap), *p;
	int i;

	if (s == NULL)
		abort();
	p = s + sprintf(s, "%s", head);
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - s), "%s%d%s", pre, i, post);
	*lenp = (size_t)(p - s);
	return s;
}

static void
test_manifest_limits(void **state)
{
	const char *img = "]\nfilename=f\nsize=1\nsha256=" SHA "\n";
	struct rauc_info in;
	char why[256], *s;
	size_t len;

	(void)state;
	s = repeat(UPD, "[image.c", RAUC_IMAGES_MAX, img, &len);
	assert_int_equal(
	    rauc_parse_manifest(s, len, &in, why, sizeof(why)), RAUC_OK);
	assert_int_equal(in.nimages, RAUC_IMAGES_MAX);
	rauc_info_clear(&in);
	free(s);
	s = repeat(UPD, "[image.c", RAUC_IMAGES_MAX + 1, img, &len);
	assert_int_equal(
	    rauc_parse_manifest(s, len, &in, why, sizeof(why)), RAUC_ERR_LIMIT);
	assert_non_null(strstr(why, "images"));
	assert_empty(&in);
	free(s);
	s = repeat(UPD, "[g", RAUC_GROUPS_MAX, "]\n", &len);
	assert_int_equal(
	    rauc_parse_manifest(s, len, &in, why, sizeof(why)), RAUC_ERR_LIMIT);
	assert_non_null(strstr(why, "groups"));
	free(s);
	s = repeat(UPD, "#", RAUC_LINES_MAX, "\n", &len);
	assert_int_equal(
	    rauc_parse_manifest(s, len, &in, why, sizeof(why)), RAUC_ERR_LIMIT);
	assert_non_null(strstr(why, "lines"));
	free(s);
	s = repeat(UPD "[update]\ndescription=", "", RAUC_LINE_MAX, "", &len);
	assert_int_equal(
	    rauc_parse_manifest(s, len, &in, why, sizeof(why)), RAUC_ERR_LIMIT);
	assert_non_null(strstr(why, "longer"));
	free(s);
	s = repeat(UPD, "#", RAUC_MANIFEST_MAX / 50 + 1,
	    "...............................................\n", &len);
	assert_true(len > RAUC_MANIFEST_MAX);
	assert_int_equal(rauc_parse_manifest(s, len, &in, why, sizeof(why)),
	    RAUC_ERR_MANIFEST);
	assert_non_null(strstr(why, "larger"));
	free(s);
}

static void
test_keyring_load(void **state)
{
	char why[256], path[PATH_MAX];
	struct trust_store *kr;
	FILE *f;

	(void)state;
	why[0] = '\0';
	assert_null(trust_store_load("/nonexistent/ca.pem", why, sizeof(why)));
	assert_non_null(strstr(why, "/nonexistent/ca.pem"));
	assert_null(trust_store_load(NULL, why, sizeof(why)));
	snprintf(path, sizeof(path), "%s/rauc-keyring-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	kr = trust_store_load(path, why, sizeof(why));
	assert_null(kr);
	unlink(path);
	trust_store_free(NULL);
}

static void
test_names(void **state)
{
	int i, j;

	(void)state;
	for (i = RAUC_OK; i <= RAUC_ERR_SIGNATURE; i++) {
		assert_true(strlen(rauc_strerror((enum rauc_err)i)) > 0);
		for (j = RAUC_OK; j < i; j++)
			assert_string_not_equal(rauc_strerror((enum rauc_err)i),
			    rauc_strerror((enum rauc_err)j));
	}
	assert_string_equal(rauc_strerror((enum rauc_err)99), "unknown error");
	assert_string_equal(rauc_format_name(RAUC_FORMAT_PLAIN), "plain");
	assert_string_equal(rauc_format_name(RAUC_FORMAT_VERITY), "verity");
	assert_string_equal(rauc_format_name(RAUC_FORMAT_CRYPT), "crypt");
	assert_string_equal(
	    rauc_format_name(RAUC_FORMAT_CRYPT_ENCRYPTED), "crypt-encrypted");
	assert_string_equal(rauc_sig_name(RAUC_SIG_UNCHECKED), "unchecked");
	assert_string_equal(rauc_sig_name(RAUC_SIG_VERIFIED), "verified");
	assert_string_equal(rauc_sig_name(RAUC_SIG_FAILED), "failed");
	assert_string_equal(rauc_sig_name(RAUC_SIG_UNREADABLE), "unreadable");
	rauc_info_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_big_verity),
	    cmocka_unit_test(test_big_tampered),
	    cmocka_unit_test(test_valid_bundles),
	    cmocka_unit_test(test_images_and_hooks),
	    cmocka_unit_test(test_lzo),
	    cmocka_unit_test(test_squashfs_header),
	    cmocka_unit_test(test_encrypted),
	    cmocka_unit_test(test_crypt_key_hidden),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_size_lies),
	    cmocka_unit_test(test_pasted_cms),
	    cmocka_unit_test(test_signers),
	    cmocka_unit_test(test_crafted),
	    cmocka_unit_test(test_not_bundle),
	    cmocka_unit_test(test_manifest_table),
	    cmocka_unit_test(test_manifest_syntax),
	    cmocka_unit_test(test_manifest_limits),
	    cmocka_unit_test(test_keyring_load),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
