/*
 * The pure rules of device.c: which controller ids a new device may take
 * (none that passes for another in the dashboard), which ids every DDI
 * path still takes (those of devices registered before), and which
 * TargetTokens an operator may set or tofu may store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"

/* clang-format off */
static const struct {
	const char *cid;
	bool new_ok;  /* device_cid_problem is NULL */
	bool ddi_ok;  /* device_cid_valid */
} cid_rows[] = {
	{"k-001", true, true},
	{"K-001", true, true},                 /* case is a real difference */
	{"aa:bb:cc_dd.ee-ff", true, true},
	{"dev space", true, true},             /* inside is fine */
	{"caf\xc3\xa9", true, true},
	{"\xe6\xb8\xac\xe8\xa9\xa6", true, true},
	{"k-001\xf0\x9f\x98\x80", true, true}, /* an emoji shows */
	{"", false, false},
	{"k-001 ", false, true},
	{" k-001", false, true},
	{" ", false, true},
	{"k-001\xc2\xa0", false, true},         /* U+00A0 */
	{"\xe3\x80\x80k-001", false, true},     /* U+3000 */
	{"k-001\xe2\x80\x8b", false, true},     /* U+200B zero width space */
	{"k-\xe2\x80\x8d" "001", false, true},  /* U+200D ZWJ inside */
	{"k-001\xef\xbb\xbf", false, true},     /* U+FEFF */
	{"\xe2\x80\xae" "100-k", false, true},  /* U+202E RLO */
	{"k-\xe2\x81\xa6" "001", false, true},  /* U+2066 LRI */
	{"k-001\xe2\x80\xa8", false, true},     /* U+2028 Zl */
	{"k-001\xe2\x80\xa9", false, true},     /* U+2029 Zp */
	{"k-001\xc2\xad", false, true},         /* soft hyphen, Cf */
	{"k-001\xc2\x85", false, true},         /* C1 NEL */
	{"k-001\xf3\xa0\x80\x81", false, true}, /* U+E0001 tag */
	{"k-001\xef\xb8\x8f", false, true},     /* U+FE0F selector */
	{"k-001\xe3\x85\xa4", false, true},     /* U+3164 Hangul filler */
	{"k-001\xff", false, true},             /* not UTF-8 */
	{"k-001\xc3", false, true},             /* cut short */
	{"k-001\t", false, false},
	{"k-001\n", false, false},
	{"k-\x7f" "001", false, false},
};
/* clang-format on */

static void
test_cid_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cid_rows); i++) {
		const char *why = device_cid_problem(cid_rows[i].cid);

		if ((why == NULL) != cid_rows[i].new_ok)
			fail_msg(
			    "row %zu: new id: %s", i, why ? why : "accepted");
		if (device_cid_valid(cid_rows[i].cid) != cid_rows[i].ddi_ok)
			fail_msg("row %zu: DDI check", i);
	}
}

static void
test_cid_lengths(void **state)
{
	char cid[DEVICE_ID_MAX + 2];

	(void)state;
	memset(cid, 'd', sizeof(cid));
	cid[DEVICE_ID_MAX] = '\0';
	assert_null(device_cid_problem(cid));
	assert_true(device_cid_valid(cid));
	cid[DEVICE_ID_MAX] = 'd';
	cid[DEVICE_ID_MAX + 1] = '\0';
	assert_non_null(device_cid_problem(cid));
	assert_false(device_cid_valid(cid));
	/* A character that starts at byte 255 and ends past 256. */
	memset(cid, 'd', sizeof(cid));
	memcpy(cid + DEVICE_ID_MAX - 1, "\xc3\xa9", 2);
	cid[DEVICE_ID_MAX + 1] = '\0';
	assert_non_null(device_cid_problem(cid));
}

static void
test_tokens(void **state)
{
	/* clang-format off */
	static const struct { const char *token; bool ok; } rows[] = {
		{"x", false},
		{"1234567", false},
		{"12345678", true},
		{"tofu-first-aaa", true},
		{"A-Za.z0_9~+/=", true},
		{"with space", false},
		{"semi;colon", false},
		{"caf\xc3\xa9-token", false},
		{"", false},
	};
	/* clang-format on */
	char t[DEVICE_TOKEN_MAX + 2];

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++)
		if (device_token_valid(rows[i].token) != rows[i].ok)
			fail_msg("%s: want %s", rows[i].token,
			    rows[i].ok ? "valid" : "refused");
	memset(t, 'a', sizeof(t));
	t[DEVICE_TOKEN_MAX] = '\0';
	assert_true(device_token_valid(t));
	t[DEVICE_TOKEN_MAX] = 'a';
	t[DEVICE_TOKEN_MAX + 1] = '\0';
	assert_false(device_token_valid(t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cid_rules),
	    cmocka_unit_test(test_cid_lengths),
	    cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
