/*
 * ratelimit.c: counting and the window; a full table keeps every locked
 * key (security finding #2: the oldest-slot reuse forgot the lockout of
 * the account under attack), makes room from expired entries first and
 * then from the least-failed, and refuses new keys when everything is
 * locked; deletion keeps every key reachable; address keys count IPv6 per
 * /64 and IPv4-mapped addresses as IPv4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

#define T0 1000000 /* an arbitrary "now" */

static bool
attempt(struct ratelimit *rl, const char *key, int max, int64_t now)
{
	int wait = -1;

	return ratelimit_attempt_at(rl, key, max, 60, &wait, now);
}

static void
test_counts_and_window(void **state)
{
	struct ratelimit *rl = ratelimit_new(16);
	int wait = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(attempt(rl, "user:bob", 3, T0));
	assert_false(
	    ratelimit_attempt_at(rl, "user:bob", 3, 60, &wait, T0 + 10));
	assert_int_equal(wait, 50);
	/* A refund gives one back; a reset forgets the key. */
	ratelimit_refund(rl, "user:bob");
	assert_true(attempt(rl, "user:bob", 3, T0 + 10));
	assert_false(attempt(rl, "user:bob", 3, T0 + 10));
	ratelimit_reset(rl, "user:bob");
	assert_int_equal(ratelimit_count(rl), 0);
	assert_true(attempt(rl, "user:bob", 3, T0 + 10));
	/* A new window counts from zero. */
	for (int i = 0; i < 2; i++)
		assert_true(attempt(rl, "user:bob", 3, T0 + 10));
	assert_false(attempt(rl, "user:bob", 3, T0 + 69));
	assert_true(attempt(rl, "user:bob", 3, T0 + 70));
	ratelimit_free(rl);
}

/* The reproduction: lock a key, then flood the table with junk keys. */
static void
test_full_table_keeps_lockout(void **state)
{
	struct ratelimit *rl = ratelimit_new(64);
	char key[64];

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_true(attempt(rl, "user:admin2", 5, T0));
	assert_false(attempt(rl, "user:admin2", 5, T0));
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "user:junk-%d", i);
		attempt(rl, key, 5, T0 + 1);
	}
	assert_true(ratelimit_count(rl) <= 64);
	assert_false(attempt(rl, "user:admin2", 5, T0 + 2));
	/* Until its window ends. */
	assert_true(attempt(rl, "user:admin2", 5, T0 + 60));
	ratelimit_free(rl);
}

/* A key near its limit outlives junk with fewer failures. */
static void
test_least_failed_go_first(void **state)
{
	struct ratelimit *rl = ratelimit_new(16);
	char key[64];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_true(attempt(rl, "user:admin", 5, T0));
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "user:junk-%d", i);
		assert_true(attempt(rl, key, 5, T0 + 1));
	}
	/* admin still has its four failures: one attempt left. */
	assert_true(attempt(rl, "user:admin", 5, T0 + 2));
	assert_false(attempt(rl, "user:admin", 5, T0 + 2));
	ratelimit_free(rl);
}

/* Every entry locked: new keys are refused, old ones keep counting. */
static void
test_fails_closed_when_all_locked(void **state)
{
	struct ratelimit *rl = ratelimit_new(16);
	char key[64];
	int wait = 0;

	(void)state;
	for (int i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "user:locked-%d", i);
		assert_true(attempt(rl, key, 1, T0 + i));
		assert_false(attempt(rl, key, 1, T0 + i));
	}
	assert_false(
	    ratelimit_attempt_at(rl, "user:new", 5, 60, &wait, T0 + 20));
	assert_int_equal(wait, 40); /* locked-0 ends at T0 + 60 */
	assert_false(attempt(rl, "user:locked-3", 1, T0 + 20));
	/* A refund unlocks one entry: room again (once). */
	ratelimit_refund(rl, "user:locked-9");
	assert_true(attempt(rl, "user:new", 1, T0 + 21));
	assert_false(attempt(rl, "user:newer", 5, T0 + 21));
	/* The first window ends: its slot is free for a new key. */
	assert_true(attempt(rl, "user:newer", 5, T0 + 60));
	assert_false(attempt(rl, "user:locked-15", 1, T0 + 60));
	ratelimit_free(rl);
}

/*
 * A table all locked but for a slot or two: the user name's entry must not
 * push out the address's it is counted with, or alternating two names from
 * one address would be counted against nothing.  The address limit holds.
 */
static void
test_pair_keeps_its_address(void **state)
{
	struct ratelimit *rl = ratelimit_new(16);
	char key[64];
	int wait = 0, allowed = 0;

	(void)state;
	for (int i = 0; i < 14; i++) {
		snprintf(key, sizeof(key), "user:locked-%d", i);
		assert_true(attempt(rl, key, 1, T0));
	}
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "user:name-%d", i % 2);
		allowed += ratelimit_attempt2_at(
		    rl, "addr:192.0.2.1", 12, key, 3, 60, &wait, T0 + 1);
	}
	assert_int_equal(allowed, 12);
	/* A refusal by the name's limit is not the address's failure. */
	ratelimit_free(rl);
	rl = ratelimit_new(16);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_attempt2_at(
		    rl, "addr:a", 12, "user:v", 3, 60, &wait, T0));
	assert_false(ratelimit_attempt2_at(
	    rl, "addr:a", 12, "user:v", 3, 60, &wait, T0));
	assert_int_equal(wait, 60);
	for (int i = 0; i < 9; i++)
		assert_true(ratelimit_attempt2_at(
		    rl, "addr:a", 12, "user:w", 100, 60, &wait, T0));
	assert_false(ratelimit_attempt2_at(
	    rl, "addr:a", 12, "user:w", 100, 60, &wait, T0));
	ratelimit_free(rl);
}

/* Many inserts and removals: every key still found (backward shift). */
static void
test_removal_keeps_keys_reachable(void **state)
{
	struct ratelimit *rl = ratelimit_new(512);
	char key[64];

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(attempt(rl, key, 2, T0));
	}
	for (int i = 0; i < 500; i += 3) {
		snprintf(key, sizeof(key), "k%d", i);
		ratelimit_reset(rl, key);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		/* Reset keys start over (two attempts left), the others
		 * have one left. */
		assert_true(attempt(rl, key, 2, T0));
		if (i % 3 == 0)
			assert_true(attempt(rl, key, 2, T0));
		assert_false(attempt(rl, key, 2, T0));
	}
	assert_int_equal(ratelimit_count(rl), 500);
	ratelimit_free(rl);
}

static void
test_address_keys(void **state)
{
	/* clang-format off */
	static const char *const cases[][2] = {
		{ "192.0.2.7",                "addr:192.0.2.7" },
		{ "192.0.2.8",                "addr:192.0.2.8" },
		{ "::ffff:192.0.2.7",         "addr:192.0.2.7" },
		{ "2001:db8:1:2:aaaa::1",     "addr:2001:db8:1:2::/64" },
		{ "2001:db8:1:2:ffff:ffff:ffff:ffff", "addr:2001:db8:1:2::/64" },
		{ "2001:db8:1:3::1",          "addr:2001:db8:1:3::/64" },
		{ "::1",                      "addr:::/64" },
		{ "fe80::1",                  "addr:fe80::/64" },
		{ "not an address",           "addr:not an address" },
	};
	/* clang-format on */
	char key[RATELIMIT_KEY_MAX], longer[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ratelimit_address_key(cases[i][0], key);
		assert_string_equal(key, cases[i][1]);
	}
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ratelimit_address_key(longer, key);
	assert_int_equal(strlen(key), RATELIMIT_KEY_MAX - 1);
}

/* Two hosts of one /64 share the address budget. */
static void
test_ipv6_slash64_shares_budget(void **state)
{
	struct ratelimit *rl = ratelimit_new(16);
	char a[RATELIMIT_KEY_MAX], b[RATELIMIT_KEY_MAX], c[RATELIMIT_KEY_MAX];

	(void)state;
	ratelimit_address_key("2001:db8::1", a);
	ratelimit_address_key("2001:db8::dead:beef", b);
	ratelimit_address_key("2001:db8:0:1::1", c);
	assert_true(attempt(rl, a, 2, T0));
	assert_true(attempt(rl, b, 2, T0));
	assert_false(attempt(rl, a, 2, T0));
	assert_true(attempt(rl, c, 2, T0));
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_and_window),
	    cmocka_unit_test(test_full_table_keeps_lockout),
	    cmocka_unit_test(test_least_failed_go_first),
	    cmocka_unit_test(test_fails_closed_when_all_locked),
	    cmocka_unit_test(test_pair_keeps_its_address),
	    cmocka_unit_test(test_removal_keeps_keys_reachable),
	    cmocka_unit_test(test_address_keys),
	    cmocka_unit_test(test_ipv6_slash64_shares_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
