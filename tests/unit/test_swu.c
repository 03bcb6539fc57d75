/*
 * Unit tests for swu.c: sw-description parsing (libconfig and JSON, every
 * hardware-compatibility form) and the cpio walk (newc and crc, signed or
 * not, and archives that are truncated, lie about sizes or break a limit).
 * Archives are generated here with libarchive's writer, or by hand where
 * libarchive cannot write what a case needs; no binary fixtures.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "swu.h"
#include "util.h"

#define DESC_OK "software = { version = \"1.0\"; };"
#define GIB (1024ULL * 1024 * 1024)

/* A growable byte buffer that libarchive's writer appends to. */
struct tbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
};

/* One archive member; type 0 means a regular file. */
struct tmember {
	const char *name;
	const void *data;
	size_t len;
	unsigned type;
};

static void
tbuf_add(struct tbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
tbuf_pad(struct tbuf *b, size_t align)
{
	static const unsigned char zero[16];

	tbuf_add(b, zero, (align - b->len % align) % align);
}

static void
tbuf_free(struct tbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static la_ssize_t
tbuf_write(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	tbuf_add(cls, buf, n);
	return (la_ssize_t)n;
}

/* Write members as an archive of the given libarchive format into out. */
static void
build_format(struct tbuf *out, int format, const struct tmember *m, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	assert_non_null(a);
	assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_none(a), ARCHIVE_OK);
	assert_int_equal(
	    archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(
	    archive_write_open(a, out, NULL, tbuf_write, NULL), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(
		    e, m[i].type != 0 ? m[i].type : AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		if (m[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, "target");
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].len > 0 && (m[i].type == 0 || m[i].type == AE_IFREG))
			assert_int_equal(
			    archive_write_data(a, m[i].data, m[i].len),
			    (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void
build(struct tbuf *out, const struct tmember *m, size_t n)
{
	build_format(out, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, m, n);
}

static unsigned long
hexfield(const unsigned char *p)
{
	char tmp[9];

	memcpy(tmp, p, 8);
	tmp[8] = '\0';
	return strtoul(tmp, NULL, 16);
}

static void
setfield(unsigned char *p, unsigned long v)
{
	char tmp[9];

	snprintf(tmp, sizeof(tmp), "%08lX", v);
	memcpy(p, tmp, 8);
}

/* Header offsets in a newc archive. */
#define H_FILESIZE (6 + 6 * 8)
#define H_NAMESIZE (6 + 11 * 8)
#define H_CHECK (6 + 12 * 8)

/* Offset of the header of member `name`, or -1. */
static long
find_header(const struct tbuf *b, const char *name)
{
	size_t off = 0, namesize, size;

	while (off + 110 <= b->len) {
		namesize = hexfield(b->p + off + H_NAMESIZE);
		size = hexfield(b->p + off + H_FILESIZE);
		if (strcmp((const char *)b->p + off + 110, name) == 0)
			return (long)off;
		off += (110 + namesize + 3) & ~(size_t)3;
		off += (size + 3) & ~(size_t)3;
	}
	return -1;
}

/* Bytes up to the end of the trailer's header and name. */
static size_t
archive_end(const struct tbuf *b)
{
	long h = find_header(b, "TRAILER!!!");

	assert_true(h >= 0);
	return ((size_t)h + 110 + 11 + 3) & ~(size_t)3;
}

/* Turn a newc archive into the crc variant: magic and data checksums. */
static void
to_crc(struct tbuf *b)
{
	size_t off = 0, namesize, size, data, i;
	unsigned long sum;

	while (off + 110 <= b->len) {
		namesize = hexfield(b->p + off + H_NAMESIZE);
		size = hexfield(b->p + off + H_FILESIZE);
		b->p[off + 5] = '2';
		data = off + ((110 + namesize + 3) & ~(size_t)3);
		for (sum = 0, i = 0; i < size; i++)
			sum += b->p[data + i];
		setfield(b->p + off + H_CHECK, sum & 0xffffffffUL);
		if (strcmp((const char *)b->p + off + 110, "TRAILER!!!") == 0)
			break;
		off = data + ((size + 3) & ~(size_t)3);
	}
}

/* A newc header and name written by hand, for what libarchive won't do. */
static void
put_header(struct tbuf *b, const char *name, uint32_t size)
{
	char hdr[111];

	snprintf(hdr, sizeof(hdr),
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1,
	    0100644, 0, 0, 1, 0, size, 0, 0, 0, 0, (unsigned)strlen(name) + 1,
	    0);
	tbuf_add(b, hdr, 110);
	tbuf_add(b, name, strlen(name) + 1);
	tbuf_pad(b, 4);
}

static char *
rows_str(const struct swu_info *in)
{
	static char buf[4096];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < in->nhw; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s:%s%s",
		    i > 0 ? " " : "", in->hw[i].board,
		    in->hw[i].is_regex ? "~" : "",
		    in->hw[i].revision != NULL ? in->hw[i].revision : "*");
	return buf;
}

/* sw-description cases. */

/*
 * Columns: case name, sw-description text, expected result, and on
 * success the version, description (NULL: none) and rows as
 * "board:revision" joined by spaces ("*" any revision, "~" a regex).
 */
struct desc_case {
	const char *name;
	const char *text;
	enum swu_err err;
	const char *version;
	const char *description;
	const char *rows;
};

#define IMG "images: ( { filename = \"rootfs\"; } );"
#define JIMG "\"images\": [ { \"filename\": \"rootfs\" } ]"

/* clang-format off */
static const struct desc_case desc_cases[] = {
	{ "version only", DESC_OK, SWU_OK, "1.0", NULL, "" },
	{ "top level",
	  "software = { version = \"1.1.0\"; description = \"test\";"
	  " hardware-compatibility = [ \"1.0\", \"1.1\" ]; " IMG " };",
	  SWU_OK, "1.1.0", "test", ":1.0 :1.1" },
	{ "top level as a list",
	  "software = { version = \"1\"; hardware-compatibility = ( \"1.0\" ); };",
	  SWU_OK, "1", NULL, ":1.0" },
	{ "top level without images",
	  "software = { version = \"1\"; hardware-compatibility = [\"1.0\"]; };",
	  SWU_OK, "1", NULL, ":1.0" },
	{ "regex",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^1\\\\.[0-9]+$\", \"2.0\" ]; };",
	  SWU_OK, "1", NULL, ":~^1\\.[0-9]+$ :2.0" },
	{ "duplicates",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"1.0\", \"1.1\", \"1.0\", \"#RE:1\", \"#RE:1\", \"1\" ]; };",
	  SWU_OK, "1", NULL, ":1.0 :1.1 :~1 :1" },
	{ "per board",
	  "software = { version = \"2\";"
	  " boardA = { hardware-compatibility = [ \"1.0\" ]; " IMG " };"
	  " boardB = { hardware-compatibility = [ \"2.0\", \"2.1\" ]; " IMG " }; };",
	  SWU_OK, "2", NULL, "boardA:1.0 boardB:2.0 boardB:2.1" },
	{ "board without compatibility",
	  "software = { version = \"2\"; boardA = { " IMG " }; };",
	  SWU_OK, "2", NULL, "boardA:*" },
	{ "board inherits the top level list",
	  "software = { version = \"2\"; hardware-compatibility = [ \"1.0\" ];"
	  " " IMG " boardA = { " IMG " };"
	  " boardB = { hardware-compatibility = [ \"9\" ]; }; };",
	  SWU_OK, "2", NULL, ":1.0 boardA:1.0 boardB:9" },
	{ "top images without list beside a board",
	  "software = { version = \"2\"; " IMG
	  " boardA = { hardware-compatibility = [ \"1.0\" ]; }; };",
	  SWU_OK, "2", NULL, ":* boardA:1.0" },
	{ "board with selections",
	  "software = { version = \"3\"; boardA = { stable = {"
	  " copy1 = { hardware-compatibility = [ \"1.0\" ]; " IMG " };"
	  " copy2 = { hardware-compatibility = [ \"1.1\", \"1.0\" ]; " IMG " };"
	  " }; }; };",
	  SWU_OK, "3", NULL, "boardA:1.0 boardA:1.1" },
	{ "board selection falls back to the board list",
	  "software = { version = \"3\"; boardA = {"
	  " hardware-compatibility = [ \"4\" ];"
	  " stable = { copy1 = { " IMG " }; }; }; };",
	  SWU_OK, "3", NULL, "boardA:4" },
	{ "selection without board",
	  "software = { version = \"3\"; stable = {"
	  " copy1 = { hardware-compatibility = [ \"1.0\" ]; " IMG " };"
	  " copy2 = { " IMG " }; }; };",
	  SWU_OK, "3", NULL, ":1.0 :*" },
	{ "board selection falls back to the top-level selection",
	  "software = { version = \"3\"; stable = { main = {"
	  " hardware-compatibility = [ \"3.0\" ]; " IMG " }; };"
	  " boardA = { stable = { main = { " IMG " }; }; }; };",
	  SWU_OK, "3", NULL, ":3.0 boardA:3.0" },
	{ "board runs top-level selections too",
	  "software = { version = \"3\"; stable = { main = {"
	  " hardware-compatibility = [ \"1.0\" ]; " IMG " }; };"
	  " boardA = { hardware-compatibility = [ \"2.0\" ]; " IMG " }; };",
	  SWU_OK, "3", NULL, ":1.0 boardA:2.0 boardA:1.0" },
	{ "selection without any list",
	  "software = { version = \"3\"; stable = { main = { " IMG " }; }; };",
	  SWU_OK, "3", NULL, "" },
	{ "no list anywhere",
	  "software = { version = \"3\"; " IMG " scripts = (); };",
	  SWU_OK, "3", NULL, "" },
	{ "keywords and plain groups are not boards",
	  "software = { version = \"3\"; hardware-compatibility = [\"1\"];"
	  " output = { files = (); }; vars = { images = (); };"
	  " misc = { answer = 42; deep = { more = 1; }; };"
	  " embedded-script = \"x\"; reboot = false; };",
	  SWU_OK, "3", NULL, ":1" },
	{ "other top-level groups ignored",
	  "other = { x = 1; }; software = { version = \"3\"; };",
	  SWU_OK, "3", NULL, "" },
	{ "description with invalid UTF-8",
	  "software = { version = \"1\"; description = \"caf\\xe9 ok\"; };",
	  SWU_OK, "1", "caf? ok", "" },
	{ "description not a string",
	  "software = { version = \"1\"; description = 5; };",
	  SWU_OK, "1", NULL, "" },
	{ "longest version",
	  "software = { version = \""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\"; };",
	  SWU_OK,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  NULL, "" },
	{ "floats out of range",
	  "software = { version = \"1\"; big = 1e999; small = -1e999;"
	  " deep = { list = ( 1e999, 2.5 ); }; };",
	  SWU_OK, "1", NULL, "" },
	{ "comments and whitespace",
	  "# comment\n// another\n/* block */\n  software :\n{ version = \"1\"\n;};",
	  SWU_OK, "1", NULL, "" },

	/* JSON syntax. */
	{ "json top level",
	  "  {\"software\": {\"version\": \"1.1.0\", \"description\": \"d\","
	  " \"hardware-compatibility\": [\"1.0\", \"#RE:^2\"]}}",
	  SWU_OK, "1.1.0", "d", ":1.0 :~^2" },
	{ "json per board",
	  "{\"software\": {\"version\": \"2\", \"boardA\": {"
	  "\"hardware-compatibility\": [\"1.0\"], " JIMG "},"
	  " \"boardB\": {" JIMG "}}}",
	  SWU_OK, "2", NULL, "boardA:1.0 boardB:*" },
	{ "json board with selection",
	  "{\"software\": {\"version\": \"2\", \"boardA\": {\"stable\": {"
	  "\"copy1\": {\"hardware-compatibility\": [\"1.0\"], " JIMG "}}}}}",
	  SWU_OK, "2", NULL, "boardA:1.0" },
	{ "json selection without board",
	  "{\"software\": {\"version\": \"2\", \"stable\": {"
	  "\"copy1\": {\"hardware-compatibility\": [\"1.0\", \"1.0\"], "
	  JIMG "}}}}",
	  SWU_OK, "2", NULL, ":1.0" },
	{ "json no list", "{\"software\": {\"version\": \"2\", " JIMG "}}",
	  SWU_OK, "2", NULL, "" },

	/* Errors. */
	{ "empty text", "", SWU_ERR_NOSOFTWARE, NULL, NULL, NULL },
	{ "no software", "other = { version = \"1\"; };", SWU_ERR_NOSOFTWARE,
	  NULL, NULL, NULL },
	{ "software not a group", "software = \"1\";", SWU_ERR_NOSOFTWARE,
	  NULL, NULL, NULL },
	{ "software a list", "software = ( { version = \"1\"; } );",
	  SWU_ERR_NOSOFTWARE, NULL, NULL, NULL },
	{ "json software not an object", "{\"software\": [1]}",
	  SWU_ERR_NOSOFTWARE, NULL, NULL, NULL },
	{ "missing version", "software = { description = \"x\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version not a string", "software = { version = 1.0; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version an integer", "software = { version = 1; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "json version a number", "{\"software\": {\"version\": 1}}",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "empty version", "software = { version = \"\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version with a space", "software = { version = \"1 0\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version with a control", "software = { version = \"1\\n\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version not ASCII", "software = { version = \"1\\xc3\\xa9\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "version too long",
	  "software = { version = \""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\"; };",
	  SWU_ERR_NOVERSION, NULL, NULL, NULL },
	{ "libconfig syntax", "software = { version = \"1\" ",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "libconfig garbage", "\x01\x02\x03 binary", SWU_ERR_SYNTAX, NULL,
	  NULL, NULL },
	{ "libconfig mixed array",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"1\", 2 ]; };",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "libconfig duplicate setting",
	  "software = { version = \"1\"; version = \"2\"; };", SWU_ERR_SYNTAX,
	  NULL, NULL, NULL },
	{ "libconfig include",
	  "@include \"/etc/hostname\"\nsoftware = { version = \"1\"; };",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "libconfig indented include",
	  "software = { version = \"1\"; };\n \t@include \"/etc/passwd\"\n",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	/* libconfig 1.5 leaks a string it meets where none may be. */
	{ "string as a name", "\"x\" = 1; software = { version = \"1\"; };",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "empty string alone", "\"\"", SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "string after a name", "software \"x\"", SWU_ERR_SYNTAX, NULL, NULL,
	  NULL },
	{ "string after a value", "software = { version = 1 \"x\"; };",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "string after a list element", "a = ( 1 \"x\" );", SWU_ERR_SYNTAX,
	  NULL, NULL, NULL },
	{ "string after an array element", "a = [ 1 \"x\" ];",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "string after a group", "a = { } \"x\"", SWU_ERR_SYNTAX, NULL,
	  NULL, NULL },
	{ "string after a float cut by the scanner",
	  "software =.re =.2\" z2\" ztfss\"; ont} )", SWU_ERR_SYNTAX, NULL,
	  NULL, NULL },
	{ "unterminated string ends the text",
	  "software = { version = \"1\"; };\n\"never closed",
	  SWU_OK, "1", NULL, "" },
	{ "json syntax", "{\"software\": {\"version\": \"1\"}",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "json duplicate key",
	  "{\"software\": {\"version\": \"1\", \"version\": \"2\"}}",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
	{ "json array at the top", "[ {\"software\": {}} ]", SWU_ERR_SYNTAX,
	  NULL, NULL, NULL },
	{ "hw element a number",
	  "software = { version = \"1\"; hardware-compatibility = [ 1.0 ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw element a group",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " ( \"1.0\", { a = 1; } ); };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "json hw element a number",
	  "{\"software\": {\"version\": \"1\", \"hardware-compatibility\":"
	  " [\"1.0\", 2]}}",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw element an infinite float",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " ( \"1.0\", 1e999 ); };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw a string",
	  "software = { version = \"1\"; hardware-compatibility = \"1.0\"; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw empty",
	  "software = { version = \"1\"; hardware-compatibility = [ ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw empty string",
	  "software = { version = \"1\"; hardware-compatibility = [ \"\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw control character",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"1\\n\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw invalid UTF-8",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"\\xff\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw invalid regex",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:(1\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw empty regex",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex with nested bounds",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:((a{20}){20}){20}\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex with an open lower bound",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:(a{,70}){,70}\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex with repeated plus",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^3+++++++++++++++++++++++++++++++++++++++++++++++\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex with nested plus",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex repeating a repeat",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^1.[0-9]*+$\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex repeating nothing",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:*1\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex nesting repeats three deep",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:((a*b)*c)*\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex that once took glibc 10 s",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^6++++*+++++e???2;222+++*+++++X+++/++\" ]; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw regex nesting repeats two deep",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^(a*b){2,4}$\" ]; };",
	  SWU_OK, "1", NULL, ":~^(a*b){2,4}$" },
	{ "hw regexes of a usual size",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^[0-9]{1,3}(\\\\.[0-9]{1,3}){3}$\","
	  " \"#RE:^(rev)?[a-z]+-[0-9]+\\\\.[0-9]+\\\\.[0-9]+$\" ]; };",
	  SWU_OK, "1", NULL,
	  ":~^[0-9]{1,3}(\\.[0-9]{1,3}){3}$ :~^(rev)?[a-z]+-[0-9]+\\.[0-9]+\\.[0-9]+$" },
	{ "hw regex with literal braces",
	  "software = { version = \"1\"; hardware-compatibility ="
	  " [ \"#RE:^v\\\\{x\\\\}[{]1{2}$\" ]; };",
	  SWU_OK, "1", NULL, ":~^v\\{x\\}[{]1{2}$" },
	{ "hw invalid under a board",
	  "software = { version = \"1\"; boardA = { hardware-compatibility ="
	  " ( \"1\", 2 ); }; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "hw invalid under a selection",
	  "software = { version = \"1\"; boardA = { s = { m = {"
	  " hardware-compatibility = [ \"#RE:[\" ]; }; }; }; };",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "json empty board name",
	  "{\"software\": {\"version\": \"1\", \"\": {" JIMG "}}}",
	  SWU_ERR_HW, NULL, NULL, NULL },
	{ "text with NUL", "software = { version = \"1\"; };\0junk",
	  SWU_ERR_SYNTAX, NULL, NULL, NULL },
};
/* clang-format on */

static size_t
case_len(const struct desc_case *c)
{
	/* The NUL case carries its length in the name. */
	if (strcmp(c->name, "text with NUL") == 0)
		return strlen(c->text) + 5;
	return strlen(c->text);
}

static void
check_case(
    const struct desc_case *c, enum swu_err got, const struct swu_info *in)
{
	if (got != c->err)
		fail_msg("%s: got %d (%s), want %d", c->name, got,
		    swu_strerror(got), c->err);
	if (got != SWU_OK) {
		if (in->version != NULL || in->hw != NULL || in->nhw != 0)
			fail_msg("%s: error left data behind", c->name);
		return;
	}
	if (strcmp(in->version, c->version) != 0)
		fail_msg("%s: version %s", c->name, in->version);
	if ((c->description == NULL) != (in->description == NULL) ||
	    (c->description != NULL &&
	        strcmp(c->description, in->description) != 0))
		fail_msg("%s: description %s", c->name,
		    in->description != NULL ? in->description : "(null)");
	if (strcmp(rows_str(in), c->rows) != 0)
		fail_msg("%s: rows \"%s\", want \"%s\"", c->name, rows_str(in),
		    c->rows);
}

static void
test_description_table(void **state)
{
	struct swu_info in;
	enum swu_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(desc_cases); i++) {
		err = swu_parse_description(
		    desc_cases[i].text, case_len(&desc_cases[i]), &in);
		check_case(&desc_cases[i], err, &in);
		swu_info_clear(&in);
	}
}

/* The same table, each text wrapped as sw-description in an archive. */
static void
test_description_table_in_archive(void **state)
{
	struct tmember m[2] = {
	    {"sw-description", NULL, 0, 0}, {"payload.bin", "x", 1, 0}};
	struct swu_info in;
	struct tbuf b;
	enum swu_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(desc_cases); i++) {
		m[0].data = desc_cases[i].text;
		m[0].len = case_len(&desc_cases[i]);
		build(&b, m, 2);
		err = swu_parse_mem(b.p, b.len, &in);
		check_case(&desc_cases[i], err, &in);
		if (err == SWU_OK)
			assert_int_equal(in.nentries, 2);
		swu_info_clear(&in);
		tbuf_free(&b);
	}
}

/* Limits on rows: a list longer than SWU_HW_MAX, or too many rows. */
static void
test_description_hw_limits(void **state)
{
	struct swu_info in;
	char *text, *p;
	size_t i, cap = 64 + (SWU_HW_MAX + 1) * 16;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	p = text + sprintf(text, "software = { version = \"1\"; "
	                         "hardware-compatibility = [ ");
	for (i = 0; i < SWU_HW_MAX; i++)
		p += sprintf(p, "%s\"%zu\"", i > 0 ? ", " : "", i);
	strcpy(p, " ]; };");
	assert_int_equal(
	    swu_parse_description(text, strlen(text), &in), SWU_OK);
	assert_int_equal(in.nhw, SWU_HW_MAX);
	swu_info_clear(&in);
	strcpy(p, ", \"x\" ]; };");
	assert_int_equal(
	    swu_parse_description(text, strlen(text), &in), SWU_ERR_LIMIT);
	assert_null(in.hw);
	free(text);

	/* 2 boards x 600 revisions: each list fits, the rows do not. */
	cap = 2 * 600 * 16 + 256;
	text = malloc(cap);
	assert_non_null(text);
	p = text + sprintf(text, "software = { version = \"1\";");
	for (i = 0; i < 1200; i++) {
		if (i % 600 == 0)
			p += sprintf(p, "%s %c = { hardware-compatibility = [ ",
			    i > 0 ? " ]; };" : "", i > 0 ? 'b' : 'a');
		p += sprintf(p, "%s\"%zu\"", i % 600 > 0 ? ", " : "", i);
	}
	strcpy(p, " ]; }; };");
	assert_int_equal(
	    swu_parse_description(text, strlen(text), &in), SWU_ERR_LIMIT);
	free(text);
}

/* Nesting: SWU_CFG_NEST_MAX (64) containers pass, one more does not. */
static void
test_description_nesting(void **state)
{
	struct swu_info in;
	char text[1024], *p;
	int i, depth;

	(void)state;
	for (depth = 63; depth <= 64; depth++) {
		p = text + sprintf(text, "software = { version = \"1\"; x = ");
		for (i = 0; i < depth; i++)
			*p++ = '(';
		for (i = 0; i < depth; i++)
			*p++ = ')';
		strcpy(p, "; };");
		assert_int_equal(swu_parse_description(text, strlen(text), &in),
		    depth == 63 ? SWU_OK : SWU_ERR_SYNTAX);
		swu_info_clear(&in);
	}
}

/* A libconfig group of 1024 settings passes; one more does not. */
static void
test_description_members(void **state)
{
	static char text[32 * 1024];
	struct swu_info in;
	char *p;
	int i, n;

	(void)state;
	for (n = 1024; n <= 1025; n++) {
		p = text + sprintf(text, "software = { version = \"1\"; x = {");
		for (i = 0; i < n; i++)
			p += sprintf(p, " k%d = %d;", i, i);
		strcpy(p, " }; };");
		assert_int_equal(swu_parse_description(text, strlen(text), &in),
		    n == 1024 ? SWU_OK : SWU_ERR_LIMIT);
		swu_info_clear(&in);
	}
}

/*
 * Regexes within their size but costly in bulk: each has 972 nodes, and
 * forty of them pass the budget.
 */
static void
test_description_regex_budget(void **state)
{
	static const char heavy[] = "#RE:(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s"
	                            "|t|u|v|w|x|y|z|0|1|2|3|4|5|6|7|8|9){27}";
	struct swu_info in;
	struct timespec t0, t1;
	char *text, *p;
	size_t i, n = 40;
	double ms;

	(void)state;
	text = malloc(64 + n * (sizeof(heavy) + 8));
	assert_non_null(text);
	p = text + sprintf(text, "software = { version = \"1\"; "
	                         "hardware-compatibility = [ ");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"%s%zu\"", i > 0 ? ", " : "", heavy, i);
	strcpy(p, " ]; };");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(
	    swu_parse_description(text, strlen(text), &in), SWU_ERR_LIMIT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (ms > 1500)
		fail_msg("regex budget: %.0f ms", ms);
	free(text);
}

static void
test_description_null(void **state)
{
	struct swu_info in;

	(void)state;
	assert_int_equal(
	    swu_parse_description(NULL, 0, &in), SWU_ERR_NOSOFTWARE);
	swu_info_clear(&in);
	swu_info_clear(NULL);
}

/* Archive cases. */

static const struct tmember m_unsigned[] = {
    {"sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0},
    {"payload.bin", "0123456789", 10, 0},
};

static const struct tmember m_signed[] = {
    {"sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0},
    {"sw-description.sig", "SIG", 3, 0},
    {"install.sh", "#!/bin/sh\nexit 0\n", 17, 0},
    {"payload.bin", "0123456789", 10, 0},
};

/*
 * Columns: case name, members, expected result, and on success whether
 * the image is signed and how many members it has.
 */
struct archive_case {
	const char *name;
	struct tmember m[4];
	size_t n;
	enum swu_err err;
	bool is_signed;
};

/* clang-format off */
static const struct archive_case archive_cases[] = {
	{ "unsigned", { { "sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0 },
	    { "payload.bin", "0123456789", 10, 0 } }, 2, SWU_OK, false },
	{ "signed", { { "sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0 },
	    { "sw-description.sig", "SIG", 3, 0 },
	    { "payload.bin", "x", 1, 0 } }, 3, SWU_OK, true },
	{ "sw-description alone", { { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 } }, 1, SWU_OK, false },
	{ "empty members", { { "sw-description", DESC_OK, sizeof(DESC_OK) - 1,
	    0 }, { "empty", "", 0, 0 } }, 2, SWU_OK, false },
	{ "not first", { { "payload.bin", "x", 1, 0 },
	    { "sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0 } }, 2,
	    SWU_ERR_FIRST, false },
	{ "not first, signature first", { { "sw-description.sig", "S", 1, 0 },
	    { "sw-description", DESC_OK, sizeof(DESC_OK) - 1, 0 } }, 2,
	    SWU_ERR_FIRST, false },
	{ "leading ./", { { "./sw-description", DESC_OK, sizeof(DESC_OK) - 1,
	    0 } }, 1, SWU_ERR_FIRST, false },
	{ "signature third", { { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 }, { "payload.bin", "x", 1, 0 },
	    { "sw-description.sig", "S", 1, 0 } }, 3, SWU_ERR_FORMAT, false },
	{ "duplicate member", { { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 }, { "a", "x", 1, 0 }, { "b", "x", 1, 0 },
	    { "a", "y", 1, 0 } }, 4, SWU_ERR_DUPLICATE, false },
	{ "sw-description twice", { { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 }, { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 } }, 2, SWU_ERR_DUPLICATE, false },
	{ "duplicate signature", { { "sw-description", DESC_OK,
	    sizeof(DESC_OK) - 1, 0 }, { "sw-description.sig", "S", 1, 0 },
	    { "sw-description.sig", "S", 1, 0 } }, 3, SWU_ERR_FORMAT, false },
	{ "sw-description a directory", { { "sw-description", NULL, 0,
	    AE_IFDIR } }, 1, SWU_ERR_FORMAT, false },
	{ "sw-description a symlink", { { "sw-description", NULL, 0,
	    AE_IFLNK } }, 1, SWU_ERR_FORMAT, false },
	{ "bad description", { { "sw-description", "software = {", 12, 0 } },
	    1, SWU_ERR_SYNTAX, false },
	{ "no members", { { NULL, NULL, 0, 0 } }, 0, SWU_ERR_FIRST, false },
};
/* clang-format on */

static void
test_archive_table(void **state)
{
	const struct archive_case *c;
	struct swu_info in;
	struct tbuf b;
	enum swu_err err;
	size_t i;
	int crc;

	(void)state;
	for (i = 0; i < NELEM(archive_cases); i++) {
		for (crc = 0; crc <= 1; crc++) {
			c = &archive_cases[i];
			build(&b, c->m, c->n);
			if (crc)
				to_crc(&b);
			err = swu_parse_mem(b.p, b.len, &in);
			if (err != c->err)
				fail_msg("%s%s: got %s, want %s", c->name,
				    crc ? " (crc)" : "", swu_strerror(err),
				    swu_strerror(c->err));
			if (err == SWU_OK) {
				assert_string_equal(in.version, "1.0");
				assert_int_equal(in.is_signed, c->is_signed);
				assert_int_equal(in.nentries, c->n);
			} else
				assert_null(in.version);
			swu_info_clear(&in);
			tbuf_free(&b);
		}
	}
}

/* Inputs that are not cpio newc/crc archives at all. */
static void
test_archive_not_cpio(void **state)
{
	static const char text[] = "software = { version = \"1\"; };";
	struct swu_info in;
	struct tbuf b;

	(void)state;
	assert_int_equal(swu_parse_mem(NULL, 0, &in), SWU_ERR_FORMAT);
	assert_int_equal(swu_parse_mem("", 0, &in), SWU_ERR_FORMAT);
	assert_int_equal(
	    swu_parse_mem(text, sizeof(text) - 1, &in), SWU_ERR_FORMAT);
	assert_int_equal(swu_parse_mem("070701", 6, &in), SWU_ERR_FORMAT);
	build_format(&b, ARCHIVE_FORMAT_TAR_USTAR, m_unsigned, 2);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&b);
	/* odc (070707) is cpio, but not a format SWUpdate reads. */
	build_format(&b, ARCHIVE_FORMAT_CPIO_POSIX, m_unsigned, 2);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&b);
	build_format(&b, ARCHIVE_FORMAT_CPIO_BIN_LE, m_unsigned, 2);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&b);
}

/* Write an archive to an unlinked temporary file, offset 0. */
static int
temp_fd(const void *p, size_t len)
{
	char path[] = "/tmp/test_swu.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd != -1);
	unlink(path);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static enum swu_err
parse_via_fd(const void *p, size_t len, struct swu_info *in)
{
	enum swu_err err;
	int fd = temp_fd(p, len);

	err = swu_parse_fd(fd, in);
	close(fd);
	return err;
}

/* Every cut before the end of the trailer fails, in memory and on a file. */
static void
test_archive_truncated(void **state)
{
	struct swu_info in;
	struct tbuf b;
	size_t end, cut;
	int crc;

	(void)state;
	for (crc = 0; crc <= 1; crc++) {
		build(&b, m_signed, NELEM(m_signed));
		if (crc)
			to_crc(&b);
		end = archive_end(&b);
		assert_int_equal(swu_parse_mem(b.p, end, &in), SWU_OK);
		swu_info_clear(&in);
		assert_int_equal(parse_via_fd(b.p, end, &in), SWU_OK);
		swu_info_clear(&in);
		for (cut = 0; cut < end; cut++) {
			if (swu_parse_mem(b.p, cut, &in) != SWU_ERR_FORMAT)
				fail_msg("mem cut at %zu of %zu", cut, end);
			if (parse_via_fd(b.p, cut, &in) != SWU_ERR_FORMAT)
				fail_msg("fd cut at %zu of %zu", cut, end);
		}
		tbuf_free(&b);
	}
}

/*
 * Columns: case name, member whose header is patched, header field
 * offset, new value (-1: filesize + delta), size delta, expected result.
 */
struct lie_case {
	const char *name;
	const char *member;
	size_t field;
	long value;
	long delta;
	enum swu_err err;
};

/* clang-format off */
static const struct lie_case lie_cases[] = {
	{ "payload longer than the archive", "payload.bin", H_FILESIZE, -1,
	  4096, SWU_ERR_FORMAT },
	{ "payload a little longer", "payload.bin", H_FILESIZE, -1, 4,
	  SWU_ERR_FORMAT },
	{ "payload shorter", "payload.bin", H_FILESIZE, -1, -4,
	  SWU_ERR_FORMAT },
	{ "payload size 4G-1", "payload.bin", H_FILESIZE, 0xffffffffL, 0,
	  SWU_ERR_FORMAT },
	{ "description longer", "sw-description", H_FILESIZE, -1, 8,
	  SWU_ERR_FORMAT },
	{ "description shorter", "sw-description", H_FILESIZE, -1, -8,
	  SWU_ERR_FORMAT },
	{ "description above the cap", "sw-description", H_FILESIZE,
	  SWU_DESC_MAX + 1, 0, SWU_ERR_FORMAT },
	{ "name size zero", "payload.bin", H_NAMESIZE, 0, 0, SWU_ERR_FORMAT },
	{ "name size one short", "payload.bin", H_NAMESIZE, 11, 0,
	  SWU_ERR_FORMAT },
	{ "name size one long", "payload.bin", H_NAMESIZE, 13, 0,
	  SWU_ERR_FORMAT },
	{ "name size huge", "payload.bin", H_NAMESIZE, 0xffffffffL, 0,
	  SWU_ERR_LIMIT },
	{ "name size 257", "install.sh", H_NAMESIZE, 257, 0, SWU_ERR_LIMIT },
	{ "trailer name size", "TRAILER!!!", H_NAMESIZE, 0x7fffffffL, 0,
	  SWU_ERR_LIMIT },
};
/* clang-format on */

static void
test_archive_lies(void **state)
{
	const struct lie_case *c;
	struct swu_info in;
	struct tbuf b;
	unsigned char *f;
	enum swu_err err;
	size_t i;
	long h;

	(void)state;
	for (i = 0; i < NELEM(lie_cases); i++) {
		c = &lie_cases[i];
		build(&b, m_signed, NELEM(m_signed));
		h = find_header(&b, c->member);
		assert_true(h >= 0);
		f = b.p + h + c->field;
		setfield(f, c->value >= 0 ? (unsigned long)c->value
		                          : (unsigned long)((long)hexfield(f) +
		                                            c->delta));
		if ((err = swu_parse_mem(b.p, b.len, &in)) != c->err)
			fail_msg("%s: mem got %s", c->name, swu_strerror(err));
		if ((err = parse_via_fd(b.p, b.len, &in)) != c->err)
			fail_msg("%s: fd got %s", c->name, swu_strerror(err));
		tbuf_free(&b);
	}
}

/* Corrupt header bytes and garbage between members. */
static void
test_archive_corrupt(void **state)
{
	static const char *const bad[] = {"070703", "070700", "0707x1"};
	struct swu_info in;
	struct tbuf b, g;
	size_t i;
	long h;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		build(&b, m_signed, NELEM(m_signed));
		h = find_header(&b, "payload.bin");
		memcpy(b.p + h, bad[i], 6);
		assert_int_equal(
		    swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
		assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_ERR_FORMAT);
		tbuf_free(&b);
	}
	/* A non-hex digit in a field. */
	build(&b, m_signed, NELEM(m_signed));
	h = find_header(&b, "install.sh");
	b.p[h + 6 + 8 * 3] = 'g';
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&b);
	/* An early NUL in a name. */
	build(&b, m_signed, NELEM(m_signed));
	h = find_header(&b, "install.sh");
	b.p[h + 110 + 3] = '\0';
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&b);
	/* Garbage between two members, which libarchive would skip over. */
	build(&b, m_signed, NELEM(m_signed));
	h = find_header(&b, "payload.bin");
	memset(&g, 0, sizeof(g));
	tbuf_add(&g, b.p, (size_t)h);
	tbuf_add(&g, "JUNKJUNK", 8);
	tbuf_add(&g, b.p + h, b.len - (size_t)h);
	assert_int_equal(swu_parse_mem(g.p, g.len, &in), SWU_ERR_FORMAT);
	assert_int_equal(parse_via_fd(g.p, g.len, &in), SWU_ERR_FORMAT);
	tbuf_free(&g);
	/* Garbage after the trailer is padding. */
	tbuf_add(&b, "trailing junk", 13);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_OK);
	swu_info_clear(&in);
	assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_OK);
	swu_info_clear(&in);
	tbuf_free(&b);
}

/* Member count, name length and sw-description size limits. */
static void
test_archive_limits(void **state)
{
	struct tmember *m;
	struct swu_info in;
	struct tbuf b;
	char(*names)[16], longname[SWU_NAME_MAX + 2], *desc;
	size_t i, n = SWU_ENTRIES_MAX + 1;

	(void)state;
	m = calloc(n, sizeof(*m));
	names = calloc(n, sizeof(*names));
	assert_non_null(m);
	assert_non_null(names);
	m[0] = m_unsigned[0];
	for (i = 1; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "m%zu", i);
		m[i].name = names[i];
		m[i].data = "x";
		m[i].len = 1;
	}
	build(&b, m, n - 1);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_OK);
	assert_int_equal(in.nentries, SWU_ENTRIES_MAX);
	swu_info_clear(&in);
	tbuf_free(&b);
	build(&b, m, n);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_LIMIT);
	assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_ERR_LIMIT);
	tbuf_free(&b);

	/* Names of SWU_NAME_MAX bytes pass; one more does not. */
	memset(longname, 'n', sizeof(longname));
	longname[SWU_NAME_MAX] = '\0';
	m[1].name = longname;
	build(&b, m, 2);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_OK);
	swu_info_clear(&in);
	tbuf_free(&b);
	longname[SWU_NAME_MAX] = 'n';
	longname[SWU_NAME_MAX + 1] = '\0';
	build(&b, m, 2);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_LIMIT);
	assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_ERR_LIMIT);
	tbuf_free(&b);

	/* sw-description of SWU_DESC_MAX bytes passes; one more does not. */
	desc = malloc(SWU_DESC_MAX + 1);
	assert_non_null(desc);
	memset(desc, ' ', SWU_DESC_MAX + 1);
	memcpy(desc, DESC_OK, strlen(DESC_OK));
	m[0].data = desc;
	m[0].len = SWU_DESC_MAX;
	build(&b, m, 1);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_OK);
	swu_info_clear(&in);
	tbuf_free(&b);
	m[0].len = SWU_DESC_MAX + 1;
	build(&b, m, 1);
	assert_int_equal(swu_parse_mem(b.p, b.len, &in), SWU_ERR_LIMIT);
	assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_ERR_LIMIT);
	tbuf_free(&b);
	free(desc);
	free(names);
	free(m);
}

/* swu_parse_fd: the same answers as swu_parse_mem, from any offset. */
static void
test_fd_basic(void **state)
{
	struct swu_info in;
	struct tbuf b;
	int fd, p[2];

	(void)state;
	build(&b, m_signed, NELEM(m_signed));
	to_crc(&b);
	assert_int_equal(parse_via_fd(b.p, b.len, &in), SWU_OK);
	assert_true(in.is_signed);
	assert_int_equal(in.nentries, 4);
	swu_info_clear(&in);

	/* Reading starts at the current offset. */
	fd = temp_fd("prefix", 6);
	assert_int_equal(lseek(fd, 0, SEEK_END), 6);
	assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
	assert_int_equal(lseek(fd, 6, SEEK_SET), 6);
	assert_int_equal(swu_parse_fd(fd, &in), SWU_OK);
	assert_int_equal(in.nentries, 4);
	swu_info_clear(&in);
	close(fd);

	/* A pipe cannot seek: members are read through instead. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], b.p, b.len), (ssize_t)b.len);
	close(p[1]);
	assert_int_equal(swu_parse_fd(p[0], &in), SWU_OK);
	assert_true(in.is_signed);
	swu_info_clear(&in);
	close(p[0]);
	tbuf_free(&b);

	/* Read errors. */
	assert_int_equal(swu_parse_fd(-1, &in), SWU_ERR_IO);
	assert_null(in.version);
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd != -1);
	assert_int_equal(swu_parse_fd(fd, &in), SWU_ERR_IO);
	close(fd);
}

/* Bytes this process has read with read(2) so far, or 0 if unknown. */
static unsigned long long
bytes_read(void)
{
	unsigned long long rchar = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "rchar: %llu", &rchar) == 1)
			break;
	fclose(f);
	return rchar;
}

/*
 * A 3 GiB member in a sparse file is skipped, not read: the parse reads
 * little and is quick.  The same header over a file cut at 1 GiB fails.
 */
static void
test_fd_sparse_member(void **state)
{
	struct swu_info in;
	struct timespec t0, t1;
	struct tbuf b;
	unsigned long long r0, r1;
	off_t data;
	double ms;
	int fd;

	(void)state;
	memset(&b, 0, sizeof(b));
	put_header(&b, "sw-description", sizeof(DESC_OK) - 1);
	tbuf_add(&b, DESC_OK, sizeof(DESC_OK) - 1);
	tbuf_pad(&b, 4);
	put_header(&b, "payload.bin", (uint32_t)(3 * GIB));
	data = (off_t)b.len;
	fd = temp_fd(b.p, b.len);
	tbuf_free(&b);
	put_header(&b, "TRAILER!!!", 0);
	assert_int_equal(
	    pwrite(fd, b.p, b.len, data + (off_t)(3 * GIB)), (ssize_t)b.len);
	tbuf_free(&b);

	r0 = bytes_read();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(swu_parse_fd(fd, &in), SWU_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r1 = bytes_read();
	assert_int_equal(in.nentries, 2);
	swu_info_clear(&in);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (ms > 500)
		fail_msg("3 GiB member took %.0f ms", ms);
	if (r1 - r0 > 1024 * 1024)
		fail_msg("read %llu bytes for a 3 GiB member", r1 - r0);

	/* The member now claims 2 GiB more than the file holds. */
	assert_int_equal(ftruncate(fd, data + (off_t)GIB), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(swu_parse_fd(fd, &in), SWU_ERR_FORMAT);
	close(fd);
}

/*
 * Images from tests/tools/mkswu (run-all.sh exports MKSWU) read back as
 * mkswu meant them; skipped when MKSWU is not set.  Columns: mkswu
 * arguments after -o and -k, version, rows, signed, members.
 */
struct mkswu_case {
	const char *args;
	const char *version;
	const char *rows;
	bool is_signed;
	size_t nentries;
};

/* clang-format off */
static const struct mkswu_case mkswu_cases[] = {
	{ "-v 1.1.0 -r 1.0,1.1 -s 4K -S", "1.1.0", ":1.0 :1.1", true, 4 },
	{ "-v 2.0.0 -m boardA -r '#RE:^1\\.[0-9]+$' -s 1K -U -F crc", "2.0.0",
	  "boardA:~^1\\.[0-9]+$", false, 2 },
	{ "-v 3.0 -r '' -s 0 -U -D 'bootloader_transaction_marker = false;'",
	  "3.0", "", false, 2 },
	{ "-v 4 -m boardB -U -s 1K -F newc", "4", "boardB:*", false, 2 },
};
/* clang-format on */

static void
test_mkswu_images(void **state)
{
	const struct mkswu_case *c;
	const char *mkswu = getenv("MKSWU");
	char dir[] = "/tmp/test_swu.XXXXXX", cmd[1024], line[512], img[64];
	unsigned long long size;
	struct swu_info in;
	struct stat st;
	FILE *f;
	size_t i;
	int fd;

	(void)state;
	if (mkswu == NULL || access(mkswu, X_OK) == -1)
		skip();
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < NELEM(mkswu_cases); i++) {
		c = &mkswu_cases[i];
		snprintf(img, sizeof(img), "%s/%zu.swu", dir, i);
		snprintf(cmd, sizeof(cmd), "'%s' -o %s -k %s/keys %s", mkswu,
		    img, dir, c->args);
		assert_non_null(f = popen(cmd, "r"));
		assert_non_null(fgets(line, sizeof(line), f));
		assert_int_equal(pclose(f), 0);
		assert_int_equal(sscanf(line, "%*s %llu", &size), 1);
		assert_true((fd = open(img, O_RDONLY)) != -1);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal((unsigned long long)st.st_size, size);
		if (swu_parse_fd(fd, &in) != SWU_OK)
			fail_msg("mkswu %s: not readable", c->args);
		close(fd);
		assert_string_equal(in.version, c->version);
		assert_string_equal(in.description, "falconet test image");
		assert_string_equal(rows_str(&in), c->rows);
		assert_int_equal(in.is_signed, c->is_signed);
		assert_int_equal(in.nentries, c->nentries);
		swu_info_clear(&in);
		unlink(img);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_strerror(void **state)
{
	int i, j;

	(void)state;
	for (i = SWU_OK; i <= SWU_ERR_DUPLICATE; i++) {
		assert_non_null(swu_strerror((enum swu_err)i));
		assert_true(strlen(swu_strerror((enum swu_err)i)) > 0);
		for (j = SWU_OK; j < i; j++)
			assert_string_not_equal(swu_strerror((enum swu_err)i),
			    swu_strerror((enum swu_err)j));
	}
	assert_string_equal(swu_strerror((enum swu_err)99), "unknown error");
	assert_string_equal(swu_strerror((enum swu_err) - 1), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_description_table),
	    cmocka_unit_test(test_description_table_in_archive),
	    cmocka_unit_test(test_description_hw_limits),
	    cmocka_unit_test(test_description_nesting),
	    cmocka_unit_test(test_description_members),
	    cmocka_unit_test(test_description_regex_budget),
	    cmocka_unit_test(test_description_null),
	    cmocka_unit_test(test_archive_table),
	    cmocka_unit_test(test_archive_not_cpio),
	    cmocka_unit_test(test_archive_truncated),
	    cmocka_unit_test(test_archive_lies),
	    cmocka_unit_test(test_archive_corrupt),
	    cmocka_unit_test(test_archive_limits),
	    cmocka_unit_test(test_fd_basic),
	    cmocka_unit_test(test_fd_sparse_member),
	    cmocka_unit_test(test_mkswu_images),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
