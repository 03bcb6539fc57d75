/*
 * Unit tests for util.c's growing string (struct buf): it grows past its
 * first allocation, and buf_add_json_string writes what jansson reads back
 * as the same string, for every byte that may appear in one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_grows),
	    cmocka_unit_test(test_buf_take_empty),
	    cmocka_unit_test(test_json_string_escapes),
	    cmocka_unit_test(test_json_string_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
