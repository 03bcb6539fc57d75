/*
 * Unit tests for log.c's escaping: what a client may put in a controller
 * id, a user name or a URL comes out of log_escape as \xNN when it could
 * end a line, forge one or drive a terminal, and unchanged otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"

/* clang-format off */
static const struct {
	const char *in, *want;
} escapes[] = {
	{ "",                         "" },
	{ "plain text, 100% ok",      "plain text, 100% ok" },
	{ "x\n2026-12-01T18:40:00Z",  "x\\x0a2026-12-01T18:40:00Z" },
	{ "cr\rlf\n",                 "cr\\x0dlf\\x0a" },
	{ "esc\x1b[2J\x1b[31mRED",    "esc\\x1b[2J\\x1b[31mRED" },
	{ "tab\there",                "tab\\x09here" },
	{ "del\x7f",                  "del\\x7f" },
	{ "back\\slash",              "back\\x5cslash" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" }, /* kept */
	{ "nel\xc2\x85",              "nel\\xc2\\x85" },        /* U+0085 */
	{ "csi\xc2\x9b",              "csi\\xc2\\x9b" },        /* U+009B */
	{ "rlo\xe2\x80\xae",          "rlo\\xe2\\x80\\xae" },    /* U+202E */
	{ "ls\xe2\x80\xa8",           "ls\\xe2\\x80\\xa8" },     /* U+2028 */
	{ "fsi\xe2\x81\xa8",          "fsi\\xe2\\x81\\xa8" },    /* U+2068 */
	{ "bad\xff\xfe",              "bad\\xff\\xfe" },
	{ "cut\xc3",                  "cut\\xc3" },
	{ "over\xc0\xaf",             "over\\xc0\\xaf" },
};
/* clang-format on */

static void
test_escape_table(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < NELEM(escapes); i++) {
		size_t n = log_escape(out, sizeof(out), escapes[i].in);

		if (strcmp(out, escapes[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, out,
			    escapes[i].want);
		assert_int_equal(n, strlen(out));
	}
}

/* The output is one line of valid UTF-8 without controls, for any input
 * byte, and a full buffer never ends in half an escape or character. */
static void
test_escape_every_byte(void **state)
{
	char in[3], out[16];

	(void)state;
	for (int b = 1; b < 256; b++) {
		in[0] = (char)b;
		in[1] = 'z';
		in[2] = '\0';
		log_escape(out, sizeof(out), in);
		assert_true(utf8_valid(out, strlen(out)));
		for (const char *p = out; *p; p++)
			assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
	}
	assert_int_equal(log_escape(out, 4, "\n"), 0); /* \x0a needs 5 */
	assert_string_equal(out, "");
	assert_int_equal(log_escape(out, 5, "ab\xe2\x82\xac"), 2);
	assert_string_equal(out, "ab");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_escape_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
