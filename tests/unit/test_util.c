/*
 * Unit tests for util.c's growing string (struct buf): it grows past its
 * first allocation, and buf_add_json_string writes what jansson reads back
 * as the same string, for every byte that may appear in one.  Then the
 * UTF-8 cuts: utf8_cut never splits a character, for every length of a
 * table of strings, and utf8_snprintf and utf8_lossy give what jansson
 * takes.  The code point classes names are checked with, and the key an
 * address counts under in per-address limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"

static void
test_format_bytes(void **state)
{
	char b[32];

	(void)state;
	format_bytes(0, b);
	assert_string_equal(b, "0 bytes");
	format_bytes(1, b);
	assert_string_equal(b, "1 byte");
	format_bytes(1023, b);
	assert_string_equal(b, "1023 bytes");
	format_bytes(1024, b);
	assert_string_equal(b, "1 KiB");
	format_bytes(262144, b);
	assert_string_equal(b, "256 KiB");
	format_bytes(104857600, b);
	assert_string_equal(b, "100 MiB");
	format_bytes(1536ull * 1024 * 1024, b);
	assert_string_equal(b, "1.5 GiB");
	format_bytes(4ull << 30, b);
	assert_string_equal(b, "4 GiB");
	format_bytes(3ull << 40, b);
	assert_string_equal(b, "3 TiB");
	format_bytes(UINT64_MAX, b);
	assert_string_equal(b, "16384.0 PiB");
}

static void
test_buf_grows(void **state)
{
	struct buf b = {0};
	char *s;
	size_t len;

	(void)state;
	for (int i = 0; i < 1000; i++)
		buf_adds(&b, "0123456789");
	buf_add(&b, "xyz", 2);
	s = buf_take(&b, &len);
	assert_int_equal(len, 10002);
	assert_int_equal(strlen(s), 10002);
	assert_memory_equal(s + 9990, "0123456789xy", 12);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
}

static void
test_buf_take_empty(void **state)
{
	struct buf b = {0};
	char *s;
	size_t len = 99;

	(void)state;
	s = buf_take(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

/* s written as a JSON string and read back by jansson is s again. */
static void
check_round_trip(const char *s)
{
	struct buf b = {0};
	json_error_t err;
	json_t *j;
	char *text;
	size_t len;

	buf_add_json_string(&b, s);
	text = buf_take(&b, &len);
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (j == NULL)
		fail_msg("%s does not parse: %s", text, err.text);
	assert_true(json_is_string(j));
	assert_string_equal(json_string_value(j), s);
	json_decref(j);
	free(text);
}

static void
test_json_string_escapes(void **state)
{
	char all[128];

	(void)state;
	check_round_trip("");
	check_round_trip("plain");
	check_round_trip("\"quoted\" and \\back\\slashed\\");
	check_round_trip("http://h:8080/DEFAULT/controller/v1/a%2Fb?c=-5");
	check_round_trip("caf\xc3\xa9 \xe2\x82\xac");
	/* Every ASCII byte but NUL, controls and DEL included. */
	for (int i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	all[127] = '\0';
	check_round_trip(all);
}

static void
test_json_string_exact(void **state)
{
	struct buf b = {0};
	char *s;

	(void)state;
	buf_add_json_string(&b, "a\"b\\c\nd\x01");
	s = buf_take(&b, NULL);
	assert_string_equal(s, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
	free(s);
}

/* clang-format off */
static const struct {
	const char *s;
	size_t max, want;
} cuts[] = {
	{ "",                     0,  0 },
	{ "",                     5,  0 },
	{ "abc",                  0,  0 },
	{ "abc",                  2,  2 },
	{ "abc",                  9,  3 },
	{ "a\xc3\xa9",              1,  1 }, /* a | é */
	{ "a\xc3\xa9",              2,  1 }, /* inside é */
	{ "a\xc3\xa9",              3,  3 },
	{ "\xe2\x82\xac!",          1,  0 }, /* inside € */
	{ "\xe2\x82\xac!",          2,  0 },
	{ "\xe2\x82\xac!",          3,  3 },
	{ "\xf0\x9f\x98\x80x",      3,  0 }, /* inside U+1F600 */
	{ "\xf0\x9f\x98\x80x",      4,  4 },
	{ "\xf0\x9f\x98\x80x",      5,  5 },
	{ "x\xf0\x9f\x98\x80",      4,  1 },
	/* Not UTF-8: no lead byte within reach, so the cut stays. */
	{ "\x80\x80\x80\x80\x80",    4,  4 },
	{ "\xff\xfe",               1,  1 },
	/* A string ending in half a character is trimmed too: that is
	 * what a truncating snprintf leaves. */
	{ "ab\xc3",                3,  2 },
	{ "ab\xe2\x82",             9,  2 },
};
/* clang-format on */

static void
test_utf8_cut_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cuts); i++) {
		size_t got = utf8_cut(cuts[i].s, cuts[i].max);

		if (got != cuts[i].want)
			fail_msg("row %zu: utf8_cut(.., %zu) = %zu, want %zu",
			    i, cuts[i].max, got, cuts[i].want);
	}
}

/* Every cut of a mixed string is valid UTF-8 that jansson takes, and at
 * most 3 bytes short of the cap. */
static void
test_utf8_cut_every_length(void **state)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	                "b\xc3\xa9\xc3\xa9z";
	size_t len = strlen(s);

	(void)state;
	for (size_t max = 0; max <= len + 2; max++) {
		size_t n = utf8_cut(s, max);
		json_t *j;

		assert_true(n <= max && n <= len);
		assert_true(n + 3 >= (max < len ? max : len));
		assert_true(utf8_valid(s, n));
		j = json_stringn(s, n);
		assert_non_null(j);
		json_decref(j);
	}
}

static void
test_utf8_snprintf(void **state)
{
	char buf[8];
	size_t n;

	(void)state;
	/* "ab" + 3 x é is 8 bytes: the buffer holds 7, so the last é goes
	 * whole rather than half. */
	n = utf8_snprintf(buf, sizeof(buf), "ab%s", "\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_int_equal(n, 6);
	assert_string_equal(buf, "ab\xc3\xa9\xc3\xa9");
	n = utf8_snprintf(buf, sizeof(buf), "%s", "short");
	assert_int_equal(n, 5);
	assert_string_equal(buf, "short");
	n = utf8_snprintf(buf, 3, "%s", "\xe2\x82\xac");
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
}

static void
test_utf8_lossy(void **state)
{
	char *s;

	(void)state;
	assert_null(utf8_lossy(NULL));
	s = utf8_lossy("caf\xc3\xa9");
	assert_string_equal(s, "caf\xc3\xa9");
	free(s);
	/* A cut lead byte, a stray continuation, an overlong '/', and a
	 * surrogate: each byte becomes U+FFFD. */
	s = utf8_lossy("a\xc3|\x80|\xc0\xaf|\xed\xa0\x80");
	assert_string_equal(s,
	    "a\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(utf8_valid(s, strlen(s)));
	free(s);
}

static void
test_utf8_char(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_char("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_char("\xc2\x85", 2, &cp), 2);
	assert_int_equal(cp, 0x85);
	assert_int_equal(utf8_char("\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(utf8_char("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(utf8_char("\xe2\x80\xae", 2, &cp), 0); /* short */
	assert_int_equal(utf8_char("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_char("", 1, &cp), 0);
	assert_int_equal(utf8_char("\x80", 1, &cp), 0);
}

/* Each range's ends and their neighbours, and the controls. */
static void
test_unicode_invisible(void **state)
{
	/* clang-format off */
	static const struct { uint32_t cp; bool invisible; } rows[] = {
		{0x00, true}, {0x1f, true}, {0x20, false}, {'A', false},
		{0x7e, false}, {0x7f, true}, {0x85, true}, {0x9f, true},
		{0xa0, false}, {0xac, false}, {0xad, true}, {0xae, false},
		{0xe9, false}, {0x034f, true}, {0x0600, true}, {0x0605, true},
		{0x0606, false}, {0x061c, true}, {0x06dd, true},
		{0x070f, true}, {0x08e2, true}, {0x115f, true}, {0x1160, true},
		{0x1161, false}, {0x180e, true}, {0x200a, false},
		{0x200b, true}, {0x200d, true}, {0x200f, true},
		{0x2010, false}, {0x2027, false}, {0x2028, true},
		{0x2029, true}, {0x202a, true}, {0x202e, true},
		{0x202f, false}, {0x205f, false}, {0x2060, true},
		{0x2066, true}, {0x2069, true}, {0x206f, true},
		{0x2070, false}, {0x3000, false}, {0x3164, true},
		{0xfe00, true}, {0xfe0f, true}, {0xfe10, false},
		{0xfeff, true}, {0xffa0, true}, {0xfff9, true},
		{0xfffb, true}, {0xfffc, false}, {0xfffd, false},
		{0x110bd, true}, {0x13430, true}, {0x1343f, true},
		{0x1bca3, true}, {0x1d173, true}, {0x1d17a, true},
		{0x1d17b, false}, {0x1f600, false}, {0xe0001, true},
		{0xe007f, true}, {0xe0100, true}, {0xe0fff, true},
		{0xe1000, false}, {0x10ffff, false},
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++)
		if (unicode_invisible(rows[i].cp) != rows[i].invisible)
			fail_msg("U+%04X: want %s", (unsigned)rows[i].cp,
			    rows[i].invisible ? "invisible" : "visible");
}

static void
test_unicode_space(void **state)
{
	static const uint32_t spaces[] = {
	    0x20, 0xa0, 0x1680, 0x2000, 0x200a, 0x202f, 0x205f, 0x3000};
	static const uint32_t others[] = {
	    'a', 0x09, 0x1f, 0x200b, 0x2028, 0x1681, 0x3001, 0xfeff};

	(void)state;
	for (size_t i = 0; i < NELEM(spaces); i++)
		assert_true(unicode_space(spaces[i]));
	for (size_t i = 0; i < NELEM(others); i++)
		assert_false(unicode_space(others[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_grows),
	    cmocka_unit_test(test_buf_take_empty),
	    cmocka_unit_test(test_json_string_escapes),
	    cmocka_unit_test(test_json_string_exact),
	    cmocka_unit_test(test_utf8_cut_table),
	    cmocka_unit_test(test_utf8_cut_every_length),
	    cmocka_unit_test(test_utf8_snprintf),
	    cmocka_unit_test(test_utf8_lossy),
	    cmocka_unit_test(test_utf8_char),
	    cmocka_unit_test(test_unicode_invisible),
	    cmocka_unit_test(test_unicode_space),
	    cmocka_unit_test(test_format_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
