/*
 * Unit tests for tokenbox.c: the key file is made once with mode 0600 and
 * read back the same; a sealed token opens to itself under its key only;
 * a sealed text that was altered anywhere, cut, or is not one does not
 * open; two seals of one token differ (fresh nonces); generated tokens
 * are 32 lower-case hex digits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tokenbox.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tokenbox.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, TOKENBOX_FILE);
	unlink(path);
	return rmdir(dir);
}

static void
test_key_file(void **state)
{
	unsigned char a[TOKENBOX_KEY_LEN], b[TOKENBOX_KEY_LEN];
	char path[128];
	struct stat sb;

	(void)state;
	assert_int_equal(tokenbox_key(dir, a), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, TOKENBOX_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, TOKENBOX_KEY_LEN);
	assert_int_equal(tokenbox_key(dir, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(tokenbox_key("/nonexistent/dir", b), -1);
}

static void
test_seal_open(void **state)
{
	static const char *const tokens[] = {
	    "given-token-123", "0123456789abcdef0123456789abcdef", "x", ""};
	unsigned char key[TOKENBOX_KEY_LEN], other[TOKENBOX_KEY_LEN];
	char out[256];

	(void)state;
	assert_int_equal(tokenbox_key(dir, key), 0);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		char *s = tokenbox_seal(key, tokens[i]), *t;

		assert_non_null(s);
		assert_memory_equal(s, "v1:", 3);
		assert_null(strstr(s + 3, tokens[i][0] ? tokens[i] : "-"));
		assert_int_equal(tokenbox_open(key, s, out, sizeof(out)), 0);
		assert_string_equal(out, tokens[i]);
		assert_int_equal(tokenbox_open(other, s, out, sizeof(out)), -1);
		t = tokenbox_seal(key, tokens[i]);
		assert_string_not_equal(s, t);
		free(t);
		/* Every altered hex digit, and every cut, is refused. */
		for (size_t j = 3; j < strlen(s); j++) {
			char c = s[j];

			s[j] = c == '0' ? '1' : '0';
			assert_int_equal(
			    tokenbox_open(key, s, out, sizeof(out)), -1);
			s[j] = c;
		}
		for (size_t j = 0; j < strlen(s); j++) {
			char c = s[j];

			s[j] = '\0';
			assert_int_equal(
			    tokenbox_open(key, s, out, sizeof(out)), -1);
			s[j] = c;
		}
		/* Too small an output buffer. */
		if (tokens[i][0])
			assert_int_equal(tokenbox_open(key, s, out, 1), -1);
		free(s);
	}
	assert_int_equal(tokenbox_open(key, "plain", out, sizeof(out)), -1);
	assert_int_equal(tokenbox_open(key, "v1:zz", out, sizeof(out)), -1);
}

static void
test_new_token(void **state)
{
	char a[33], b[33];

	(void)state;
	assert_int_equal(tokenbox_new_token(a), 0);
	assert_int_equal(tokenbox_new_token(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_file),
	    cmocka_unit_test(test_seal_open),
	    cmocka_unit_test(test_new_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
