/*
 * Unit tests for the route matcher, path decoding and header parsing
 * helpers (route.c, util.c).  Table-driven: {input, expected} rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "util.h"

/* The handlers live in ddi.c and mgmt.c; the matcher only compares them. */

static void
test_match_table(void **state)
{
	/* clang-format off */
	static const struct {
		const char *method, *path;
		enum route_match_result want;
		const char *pattern;	/* of the matched route */
		int nparams;
		const char *p1, *p2;	/* params[1], params[nparams-1] */
	} rows[] = {
		{ "GET", "/DEFAULT/controller/v1/dev-1", ROUTE_FOUND,
		  "/{tenant}/controller/v1/{cid}", 2, "dev-1", "dev-1" },
		{ "HEAD", "/DEFAULT/controller/v1/dev-1", ROUTE_FOUND,
		  "/{tenant}/controller/v1/{cid}", 2, "dev-1", "dev-1" },
		{ "GET", "/DEFAULT/controller/v1/dev-1/", ROUTE_FOUND,
		  "/{tenant}/controller/v1/{cid}", 2, "dev-1", "dev-1" },
		{ "POST", "/DEFAULT/controller/v1/dev-1", ROUTE_BAD_METHOD,
		  NULL, 0, NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/a%2Fb", ROUTE_FOUND,
		  "/{tenant}/controller/v1/{cid}", 2, "a/b", "a/b" },
		{ "GET", "/DEFAULT/controller/v1/caf%C3%A9", ROUTE_FOUND,
		  "/{tenant}/controller/v1/{cid}", 2, "caf\xc3\xa9", NULL },
		{ "GET", "/DEFAULT/controller/v1/dev-1/deploymentBase/42",
		  ROUTE_FOUND, "/{tenant}/controller/v1/{cid}/deploymentBase/{action}",
		  3, "dev-1", "42" },
		{ "POST", "/DEFAULT/controller/v1/d/deploymentBase/7/feedback",
		  ROUTE_FOUND, NULL, 3, "d", "7" },
		{ "GET", "/DEFAULT/controller/v1/d/softwaremodules/3/artifacts/a%20b.swu",
		  ROUTE_FOUND, NULL, 4, "d", "a b.swu" },
		{ "GET", "/DEFAULT/controller/v1/d/softwaremodules/3/artifacts/..",
		  ROUTE_BAD_PATH, NULL, 0, NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/%2e%2e", ROUTE_BAD_PATH, NULL, 0,
		  NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/%00", ROUTE_BAD_PATH, NULL, 0,
		  NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/%zz", ROUTE_BAD_PATH, NULL, 0,
		  NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/%4", ROUTE_BAD_PATH, NULL, 0,
		  NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1/%ff", ROUTE_BAD_PATH, NULL, 0,
		  NULL, NULL },
		{ "GET", "/DEFAULT/controller/v1//x", ROUTE_NOT_FOUND, NULL, 0,
		  NULL, NULL },
		{ "GET", "relative", ROUTE_BAD_PATH, NULL, 0, NULL, NULL },
		{ "GET", "/nope", ROUTE_NOT_FOUND, NULL, 0, NULL, NULL },
		{ "GET", "/", ROUTE_FOUND, "/", 0, NULL, NULL },
		{ "GET", "/ui/", ROUTE_FOUND, "/ui", 0, NULL, NULL },
		{ "GET", "/ui/js/pages/devices.js", ROUTE_FOUND,
		  "/ui/{a}/{b}/{c}", 3, "pages", "devices.js" },
		{ "GET", "/ui/a/b/c/d", ROUTE_NOT_FOUND, NULL, 0, NULL, NULL },
		{ "POST", "/api/v1/devices/bulk", ROUTE_FOUND,
		  "/api/v1/devices/bulk", 0, NULL, NULL },
		{ "GET", "/api/v1/devices/bulk", ROUTE_FOUND,
		  "/api/v1/devices/{id}", 1, NULL, "bulk" },
		{ "GET", "/healthz", ROUTE_FOUND, "/healthz", 0, NULL, NULL },
		{ "DELETE", "/healthz", ROUTE_BAD_METHOD, NULL, 0, NULL, NULL },
		{ "GET", "/api/v1/software", ROUTE_FOUND, "/api/v1/software", 0,
		  NULL, NULL },
		{ "PUT", "/api/v1/software", ROUTE_BAD_METHOD, NULL, 0, NULL,
		  NULL },
		{ "PATCH", "/api/v1/devices/dev%201", ROUTE_FOUND,
		  "/api/v1/devices/{id}", 1, NULL, "dev 1" },
		{ "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", ROUTE_BAD_PATH,
		  NULL, 0, NULL, NULL },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		const struct route *r = NULL;
		char *params[HTTP_PARAMS_MAX];
		int n = -1;
		enum route_match_result got;

		got = route_match(rows[i].method, rows[i].path, &r, params, &n);
		if (got != rows[i].want)
			fail_msg("row %zu %s %s: got %d want %d", i,
			    rows[i].method, rows[i].path, got, rows[i].want);
		if (got != ROUTE_FOUND) {
			assert_int_equal(n, 0);
			continue;
		}
		if (rows[i].pattern)
			assert_string_equal(r->pattern, rows[i].pattern);
		assert_int_equal(n, rows[i].nparams);
		if (rows[i].p1)
			assert_string_equal(params[1], rows[i].p1);
		if (rows[i].p2)
			assert_string_equal(params[n - 1], rows[i].p2);
		for (int k = 0; k < n; k++)
			free(params[k]);
	}
}

static void
test_long_segment(void **state)
{
	char path[4200];
	const struct route *r;
	char *params[HTTP_PARAMS_MAX];
	int n;

	(void)state;
	strcpy(path, "/DEFAULT/controller/v1/");
	memset(path + strlen(path), 'a', 1025);
	path[23 + 1025] = '\0';
	assert_int_equal(
	    route_match("GET", path, &r, params, &n), ROUTE_BAD_PATH);
	path[23 + 1024] = '\0';
	assert_int_equal(route_match("GET", path, &r, params, &n), ROUTE_FOUND);
	for (int k = 0; k < n; k++)
		free(params[k]);
}

static void
test_decode(void **state)
{
	/* clang-format off */
	static const struct { const char *in; int plus; const char *want; } rows[] = {
		{ "a+b", 1, "a b" }, { "a+b", 0, "a+b" }, { "%41%62", 0, "Ab" },
		{ "", 0, "" }, { "%", 0, NULL }, { "%4", 0, NULL },
		{ "%g0", 0, NULL }, { "%00", 0, NULL }, { "%C3%28", 0, NULL },
		{ "%E2%82%AC", 0, "\xe2\x82\xac" }, { "%ED%A0%80", 0, NULL },
		{ "%C0%AF", 0, NULL },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		char *got =
		    route_decode(rows[i].in, strlen(rows[i].in), rows[i].plus);

		if (rows[i].want == NULL) {
			if (got != NULL)
				fail_msg("row %zu: %s decoded", i, rows[i].in);
			continue;
		}
		if (got == NULL)
			fail_msg("row %zu: %s refused", i, rows[i].in);
		assert_string_equal(got, rows[i].want);
		free(got);
	}
}

static void
test_range(void **state)
{
	/* clang-format off */
	static const struct {
		const char *h; uint64_t size; int want; uint64_t start, len;
	} rows[] = {
		{ NULL, 100, 0, 0, 0 },
		{ "bytes=0-3", 100, 1, 0, 4 },
		{ "bytes=10-", 100, 1, 10, 90 },
		{ "bytes=-10", 100, 1, 90, 10 },
		{ "bytes=-1000", 100, 1, 0, 100 },
		{ "bytes=90-1000", 100, 1, 90, 10 },
		{ "bytes=99-99", 100, 1, 99, 1 },
		{ "bytes=100-", 100, -1, 0, 0 },
		{ "bytes=100-200", 100, -1, 0, 0 },
		{ "bytes=5-4", 100, -1, 0, 0 },
		{ "bytes=-0", 100, -1, 0, 0 },
		{ "bytes=abc", 100, -1, 0, 0 },
		{ "bytes=1-2x", 100, -1, 0, 0 },
		{ "bytes=", 100, -1, 0, 0 },
		{ "bytes=0-1,5-6", 100, 0, 0, 0 },
		{ "items=0-1", 100, 0, 0, 0 },
		{ "bytes=0-", 0, -1, 0, 0 },
		{ "bytes=99999999999999999999999-", 100, -1, 0, 0 },
		{ "bytes=0-18446744073709551615", 100, 1, 0, 100 },
		{ " bytes= 3-4 ", 100, 1, 3, 2 },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		uint64_t start = 7, len = 7;
		int got = parse_range(rows[i].h, rows[i].size, &start, &len);

		if (got != rows[i].want)
			fail_msg("row %zu (%s): got %d want %d", i,
			    rows[i].h ? rows[i].h : "NULL", got, rows[i].want);
		if (got == 1) {
			assert_int_equal(start, rows[i].start);
			assert_int_equal(len, rows[i].len);
		}
	}
}

static void
test_numbers(void **state)
{
	int64_t v;
	uint64_t u;
	int secs;
	char buf[9];

	(void)state;
	assert_int_equal(parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int64("-1", 0, 100, &v), -1);
	assert_int_equal(parse_int64("101", 0, 100, &v), -1);
	assert_int_equal(parse_int64("4x", 0, 100, &v), -1);
	assert_int_equal(parse_int64("", 0, 100, &v), -1);
	assert_int_equal(parse_int64(" 4", 0, 100, &v), -1);
	assert_int_equal(parse_int64("+4", 0, 100, &v), -1);
	assert_int_equal(
	    parse_int64("99999999999999999999", 0, INT64_MAX, &v), -1);
	assert_int_equal(parse_int64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);

	assert_int_equal(parse_hms("00:05:00", &secs), 0);
	assert_int_equal(secs, 300);
	assert_int_equal(parse_hms("23:59:59", &secs), 0);
	assert_int_equal(secs, 86399);
	assert_int_equal(parse_hms("24:00:00", &secs), -1);
	assert_int_equal(parse_hms("00:60:00", &secs), -1);
	assert_int_equal(parse_hms("0:05:00", &secs), -1);
	assert_int_equal(parse_hms("PT5M", &secs), -1);
	format_hms(300, buf);
	assert_string_equal(buf, "00:05:00");
	format_hms(100000, buf);
	assert_string_equal(buf, "23:59:59");
	format_hms(-3, buf);
	assert_string_equal(buf, "00:00:00");

	assert_int_equal(parse_size("4G", UINT64_MAX, &u), 0);
	assert_true(u == 4ULL << 30);
	assert_int_equal(parse_size("512", UINT64_MAX, &u), 0);
	assert_true(u == 512);
	assert_int_equal(parse_size("1M", 1000, &u), -1);
	assert_int_equal(parse_size("G", UINT64_MAX, &u), -1);
	assert_int_equal(parse_size("-1K", UINT64_MAX, &u), -1);
}

static void
test_tokens_and_text(void **state)
{
	char tok[41], tok2[41], hex[65];
	char *enc;

	(void)state;
	assert_int_equal(random_token(tok, 40), 0);
	assert_int_equal(random_token(tok2, 40), 0);
	assert_int_equal(strlen(tok), 40);
	assert_true(strcmp(tok, tok2) != 0);
	assert_true(ct_equal("abc", 3, "abc", 3));
	assert_false(ct_equal("abc", 3, "abd", 3));
	assert_false(ct_equal("abc", 3, "abcd", 4));
	sha256_hex("", hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e46"
	                         "49b934ca495991b7852b855");
	enc = url_encode_segment("a b/c~d%");
	assert_string_equal(enc, "a%20b%2Fc~d%25");
	free(enc);
	assert_true(utf8_valid("caf\xc3\xa9", 5));
	assert_false(utf8_valid("\xc3", 1));
	assert_false(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_long_segment),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_tokens_and_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
