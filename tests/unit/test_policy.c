/*
 * Unit tests for policy.c: the hardware compatibility rule, the choice of
 * software per mode and the checks after it (parked, up to date,
 * downgrade), and the mode and reason names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "util.h"

/* A compatibility set as a struct swu_info carries it. */
struct hwset {
	const struct swu_hw *hw;
	size_t nhw;
};

/* clang-format off */
/* Board-specific rows beside any-board rows. */
static const struct swu_hw hw_mixed[] = {
	{ "boardA",	"1.0",		false },
	{ "boardA",	"1.1",		false },
	{ "",		"2.0",		false },
};
/* Any revision of boardA. */
static const struct swu_hw hw_a_anyrev[] = {
	{ "boardA",	NULL,		false },
};
/* Any revision of boardB. */
static const struct swu_hw hw_b_anyrev[] = {
	{ "boardB",	NULL,		false },
};
/* Anything at all. */
static const struct swu_hw hw_any[] = {
	{ "",		NULL,		false },
};
/* A regex without anchors matches a substring, as in SWUpdate. */
static const struct swu_hw hw_re_open[] = {
	{ "",		"1\\.[0-9]",	true },
};
static const struct swu_hw hw_re_anchored[] = {
	{ "",		"^1\\.[0-9]$",	true },
};
/* A regex that does not compile matches nothing. */
static const struct swu_hw hw_re_bad[] = {
	{ "",		"(",		true },
};
/* A regex row beside an exact row of the same board. */
static const struct swu_hw hw_a_re_exact[] = {
	{ "boardA",	"^rev[ab]$",	true },
	{ "boardA",	"1.0",		false },
};
/* A regex-looking revision that is not a regex is compared exactly. */
static const struct swu_hw hw_literal[] = {
	{ "",		"1.[0-9]",	false },
};

static const struct hwset set_empty	  = { NULL,		0 };
static const struct hwset set_mixed	  = { hw_mixed,		NELEM(hw_mixed) };
static const struct hwset set_a_anyrev	  = { hw_a_anyrev,	NELEM(hw_a_anyrev) };
static const struct hwset set_any	  = { hw_any,		NELEM(hw_any) };
static const struct hwset set_re_open	  = { hw_re_open,	NELEM(hw_re_open) };
static const struct hwset set_re_anchored = { hw_re_anchored,	NELEM(hw_re_anchored) };
static const struct hwset set_re_bad	  = { hw_re_bad,	NELEM(hw_re_bad) };
static const struct hwset set_a_re_exact  = { hw_a_re_exact,	NELEM(hw_a_re_exact) };
static const struct hwset set_literal	  = { hw_literal,	NELEM(hw_literal) };
/* clang-format on */

static const char *
str(const char *s)
{
	return s != NULL ? s : "(null)";
}

static void
test_compatible(void **state)
{
	/* clang-format off */
	static const struct {
		const struct hwset *set;
		const char *model;
		const char *revision;
		bool want;
	} cases[] = {
		/* An empty set fits every device. */
		{ &set_empty,		"boardA",	"1.0",		true },
		{ &set_empty,		NULL,		NULL,		true },
		/* boardA rows shadow the "" rows for boardA. */
		{ &set_mixed,		"boardA",	"1.0",		true },
		{ &set_mixed,		"boardA",	"1.1",		true },
		{ &set_mixed,		"boardA",	"2.0",		false },
		{ &set_mixed,		"boardA",	"1.0.0",	false },
		{ &set_mixed,		"boardA",	NULL,		false },
		/* Other boards, and devices without a model, use "" rows. */
		{ &set_mixed,		"boardB",	"2.0",		true },
		{ &set_mixed,		"boardB",	"1.0",		false },
		{ &set_mixed,		NULL,		"2.0",		true },
		{ &set_mixed,		NULL,		"1.0",		false },
		{ &set_mixed,		"",		"2.0",		true },
		{ &set_mixed,		NULL,		NULL,		false },
		/* No "" rows: only the named board fits. */
		{ &set_a_anyrev,	"boardA",	"x",		true },
		{ &set_a_anyrev,	"boardA",	NULL,		true },
		{ &set_a_anyrev,	"boarda",	"x",		false },
		{ &set_a_anyrev,	"boardB",	"x",		false },
		{ &set_a_anyrev,	NULL,		"x",		false },
		{ &set_a_anyrev,	NULL,		NULL,		false },
		{ &set_any,		NULL,		NULL,		true },
		{ &set_any,		"boardZ",	"whatever",	true },
		/* Regex rows. */
		{ &set_re_open,		NULL,		"1.5",		true },
		{ &set_re_open,		"boardA",	"rev1.5b",	true },
		{ &set_re_open,		NULL,		"2.0",		false },
		{ &set_re_open,		NULL,		NULL,		false },
		{ &set_re_anchored,	NULL,		"1.5",		true },
		{ &set_re_anchored,	NULL,		"rev1.5b",	false },
		{ &set_re_anchored,	NULL,		"1.55",		false },
		{ &set_re_bad,		NULL,		"(",		false },
		{ &set_a_re_exact,	"boardA",	"reva",		true },
		{ &set_a_re_exact,	"boardA",	"revb",		true },
		{ &set_a_re_exact,	"boardA",	"1.0",		true },
		{ &set_a_re_exact,	"boardA",	"revc",		false },
		{ &set_a_re_exact,	"boardA",	"xreva",	false },
		{ &set_a_re_exact,	"boardB",	"reva",		false },
		/* Non-regex rows compare exactly. */
		{ &set_literal,		NULL,		"1.[0-9]",	true },
		{ &set_literal,		NULL,		"1.5",		false },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const struct hwset *s = cases[i].set;

		if (policy_compatible(s->hw, s->nhw, cases[i].model,
		        cases[i].revision) != cases[i].want)
			fail_msg("row %zu: model %s revision %s: want %d", i,
			    str(cases[i].model), str(cases[i].revision),
			    cases[i].want);
	}
}

/* clang-format off */
/*
 * A feed in precedence order for a boardA device: the newest software is
 * for boardB only, so the rollout offers index 1 and Latest index 2.
 * Columns: id, version, compatibility rows, their count, rollout id,
 * version scheme (NULL: SWUpdate's), RAUC compatible.
 */
static const struct policy_sw feed[] = {
	{ 10, "2.0",	hw_b_anyrev, NELEM(hw_b_anyrev), 3, NULL, NULL },
	{ 11, "1.5",	hw_a_anyrev, NELEM(hw_a_anyrev), 2, NULL, NULL },
	{ 12, "1.8",	hw_a_anyrev, NELEM(hw_a_anyrev), 1, NULL, NULL },
};
/* Equal versions for Latest: the first wins. */
static const struct policy_sw ties[] = {
	{ 20, "1.0",		NULL, 0, 0, NULL, NULL },
	{ 21, "1.0.0",		NULL, 0, 0, NULL, NULL },
	{ 22, "0.9",		NULL, 0, 0, NULL, NULL },
};
/* Pre-releases for Latest: the release wins. */
static const struct policy_sw prereleases[] = {
	{ 30, "1.0.0-rc.1",	NULL, 0, 0, NULL, NULL },
	{ 31, "1.0.0",		NULL, 0, 0, NULL, NULL },
	{ 32, "1.0.0-beta",	NULL, 0, 0, NULL, NULL },
};
/* Only software for another board. */
static const struct policy_sw only_b[] = {
	{ 40, "2.0",	hw_b_anyrev, NELEM(hw_b_anyrev), 4, NULL, NULL },
};
/* One software for any hardware, version 0. */
static const struct policy_sw zero[] = {
	{ 50, "0.0.0",	hw_any, NELEM(hw_any), 0, NULL, NULL },
};
/* clang-format on */

struct candset {
	const struct policy_sw *sw;
	size_t n;
};

static void
test_choose(void **state)
{
	/* clang-format off */
	static const struct candset c_none   = { NULL,		0 };
	static const struct candset c_feed   = { feed,		NELEM(feed) };
	static const struct candset c_ties   = { ties,		NELEM(ties) };
	static const struct candset c_pre    = { prereleases,	NELEM(prereleases) };
	static const struct candset c_only_b = { only_b,	NELEM(only_b) };
	static const struct candset c_zero   = { zero,		NELEM(zero) };
	/* clang-format on */
	/* Flags: F force, D allow_downgrade, X last action failed. */
	enum { F = 1, D = 2, X = 4 };
	/* clang-format off */
	static const struct {
		enum policy_mode mode;
		const char *model;
		const char *installed;
		int flags;
		const struct candset *cands;
		enum policy_reason want;
		int want_chosen;
	} cases[] = {
		/* Every mode, nothing installed that we know of. */
		{ MODE_ROLLOUT,	"boardA", NULL,	0, &c_feed, POLICY_OFFER, 1 },
		{ MODE_ASSIGNED, "boardA", NULL, 0, &c_feed, POLICY_OFFER, 1 },
		{ MODE_LATEST,	"boardA", NULL,	0, &c_feed, POLICY_OFFER, 2 },
		{ MODE_PINNED,	"boardA", NULL,	0, &c_feed, POLICY_NONE, -1 },
		{ MODE_PINNED,	"boardA", NULL,	F, &c_feed, POLICY_NONE, -1 },
		{ (enum policy_mode)99, "boardA", NULL, 0, &c_feed,
		    POLICY_NONE, -1 },
		/* The newest software fits boardB: first compatible wins. */
		{ MODE_ROLLOUT,	"boardB", NULL,	0, &c_feed, POLICY_OFFER, 0 },
		{ MODE_LATEST,	"boardB", NULL,	0, &c_feed, POLICY_OFFER, 0 },
		/* No candidates at all, or none compatible. */
		{ MODE_ROLLOUT,	"boardA", NULL,	0, &c_none, POLICY_NONE, -1 },
		{ MODE_LATEST,	"boardA", NULL,	0, &c_none, POLICY_NONE, -1 },
		{ MODE_ASSIGNED, "boardA", NULL, 0, &c_none, POLICY_NONE, -1 },
		{ MODE_ROLLOUT,	"boardA", NULL,	0, &c_only_b,
		    POLICY_INCOMPATIBLE, -1 },
		{ MODE_LATEST,	"boardA", NULL,	F | D | X, &c_only_b,
		    POLICY_INCOMPATIBLE, -1 },
		{ MODE_ROLLOUT,	NULL,	  NULL,	0, &c_feed,
		    POLICY_INCOMPATIBLE, -1 },
		/* Latest: ties keep the first, pre-releases lose. */
		{ MODE_LATEST,	NULL,	  NULL,	0, &c_ties, POLICY_OFFER, 0 },
		{ MODE_LATEST,	NULL,	  NULL,	0, &c_pre, POLICY_OFFER, 1 },
		/* Parked unless forced; parked is checked first. */
		{ MODE_ROLLOUT,	"boardA", NULL,	X, &c_feed, POLICY_PARKED, 1 },
		{ MODE_ROLLOUT,	"boardA", NULL,	X | F, &c_feed, POLICY_OFFER, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.5", X, &c_feed, POLICY_PARKED, 1 },
		{ MODE_ROLLOUT,	"boardA", "9.0", X, &c_feed, POLICY_PARKED, 1 },
		/* Up to date, with semantic equality; force re-offers. */
		{ MODE_ROLLOUT,	"boardA", "1.5", 0, &c_feed,
		    POLICY_UP_TO_DATE, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.5.0+b7", 0, &c_feed,
		    POLICY_UP_TO_DATE, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.5", F, &c_feed, POLICY_OFFER, 1 },
		{ MODE_LATEST,	"boardA", "1.8.0", 0, &c_feed,
		    POLICY_UP_TO_DATE, 2 },
		{ MODE_LATEST,	NULL,	  "0",	0, &c_zero,
		    POLICY_UP_TO_DATE, 0 },
		/* Downgrades: blocked, force does not help, allowed by D. */
		{ MODE_ROLLOUT,	"boardA", "1.6", 0, &c_feed,
		    POLICY_DOWNGRADE, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.6", F, &c_feed,
		    POLICY_DOWNGRADE, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.6", D, &c_feed, POLICY_OFFER, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.5.1-rc.1", 0, &c_feed,
		    POLICY_DOWNGRADE, 1 },
		{ MODE_ASSIGNED, "boardA", "1.6", 0, &c_feed,
		    POLICY_DOWNGRADE, 1 },
		{ MODE_LATEST,	"boardA", "9.0", 0, &c_feed,
		    POLICY_DOWNGRADE, 2 },
		{ MODE_LATEST,	"boardA", "9.0", D, &c_feed, POLICY_OFFER, 2 },
		/* Upgrades. */
		{ MODE_ROLLOUT,	"boardA", "1.4", 0, &c_feed, POLICY_OFFER, 1 },
		{ MODE_ROLLOUT,	"boardA", "1.5-rc.1", 0, &c_feed,
		    POLICY_OFFER, 1 },
		{ MODE_LATEST,	NULL,	  "0.9", 0, &c_ties, POLICY_OFFER, 0 },
		/* An installed version of another scheme compares as a
		 * string: "1.5" < "custom" blocks, "1.5" > "0-x_y" offers. */
		{ MODE_ROLLOUT,	"boardA", "custom", 0, &c_feed,
		    POLICY_DOWNGRADE, 1 },
		{ MODE_ROLLOUT,	"boardA", "0-x_y", 0, &c_feed,
		    POLICY_OFFER, 1 },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct policy_device dev = {
		    .mode = cases[i].mode,
		    .hw_model = cases[i].model,
		    .hw_revision = "r1",
		    .installed_version = cases[i].installed,
		    .force = (cases[i].flags & F) != 0,
		    .allow_downgrade = (cases[i].flags & D) != 0,
		    .last_action_failed = (cases[i].flags & X) != 0,
		};
		enum policy_reason got;
		int chosen = 12345;

		got = policy_choose(
		    &dev, cases[i].cands->sw, cases[i].cands->n, &chosen);
		if (got != cases[i].want || chosen != cases[i].want_chosen)
			fail_msg("row %zu: got %s chosen %d, want %s chosen %d",
			    i, policy_reason_str(got), chosen,
			    policy_reason_str(cases[i].want),
			    cases[i].want_chosen);
	}
}

/* The device's revision reaches the compatibility check. */
static void
test_choose_revision(void **state)
{
	/* clang-format off */
	static const struct policy_sw cands[] = {
		{ 60, "3.0",	hw_re_anchored, NELEM(hw_re_anchored), 6, NULL, NULL },
		{ 61, "2.0",	hw_mixed, NELEM(hw_mixed), 5, NULL, NULL },
	};
	static const struct {
		const char *model;
		const char *revision;
		enum policy_reason want;
		int want_chosen;
	} cases[] = {
		{ "boardA",	"1.5",	POLICY_OFFER,		0 },
		{ "boardA",	"1.1",	POLICY_OFFER,		0 },
		{ "boardA",	"1.0",	POLICY_OFFER,		0 },
		{ "boardA",	"2.0",	POLICY_INCOMPATIBLE,	-1 },
		{ "boardB",	"2.0",	POLICY_OFFER,		1 },
		{ NULL,		NULL,	POLICY_INCOMPATIBLE,	-1 },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct policy_device dev = {
		    .mode = MODE_ROLLOUT,
		    .hw_model = cases[i].model,
		    .hw_revision = cases[i].revision,
		};
		int chosen;
		enum policy_reason got;

		got = policy_choose(&dev, cands, NELEM(cands), &chosen);
		if (got != cases[i].want || chosen != cases[i].want_chosen)
			fail_msg("row %zu: got %s chosen %d", i,
			    policy_reason_str(got), chosen);
	}
}

static void
test_mode_names(void **state)
{
	/* clang-format off */
	static const struct {
		enum policy_mode mode;
		const char *name;
	} cases[] = {
		{ MODE_ROLLOUT,		"rollout" },
		{ MODE_LATEST,		"latest" },
		{ MODE_ASSIGNED,	"assigned" },
		{ MODE_PINNED,		"pinned" },
	};
	static const char *const bad[] = {
		"", "Rollout", "none", "rollout ", "pin", NULL,
	};
	/* clang-format on */
	enum policy_mode mode;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_string_equal(
		    policy_mode_str(cases[i].mode), cases[i].name);
		mode = MODE_PINNED;
		assert_int_equal(policy_mode_parse(cases[i].name, &mode), 0);
		assert_int_equal(mode, cases[i].mode);
	}
	for (i = 0; i < NELEM(bad); i++) {
		mode = MODE_LATEST;
		assert_int_equal(policy_mode_parse(bad[i], &mode), -1);
		assert_int_equal(mode, MODE_LATEST);
	}
	assert_string_equal(policy_mode_str((enum policy_mode)99), "unknown");
}

static void
test_reason_names(void **state)
{
	/* clang-format off */
	static const struct {
		enum policy_reason reason;
		const char *name;
	} cases[] = {
		{ POLICY_OFFER,		"offer" },
		{ POLICY_NONE,		"none" },
		{ POLICY_INCOMPATIBLE,	"incompatible" },
		{ POLICY_UP_TO_DATE,	"up_to_date" },
		{ POLICY_DOWNGRADE,	"downgrade" },
		{ POLICY_PARKED,	"parked" },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		assert_string_equal(
		    policy_reason_str(cases[i].reason), cases[i].name);
	assert_string_equal(
	    policy_reason_str((enum policy_reason)99), "unknown");
}

/* RAUC's rule: a device that reports its compatible matches it exactly. */
static void
test_fits_rauc_compatible(void **state)
{
	static const struct swu_hw model_a[] = {{"board-a", NULL, false}};
	struct policy_sw sw = {
	    1, "1.0", model_a, NELEM(model_a), 0, "semver", "board-a"};

	(void)state;
	assert_true(policy_fits(&sw, "other", NULL, "board-a"));
	assert_false(policy_fits(&sw, "board-a", NULL, "board-b"));
	/* No compatible reported: the model decides. */
	assert_true(policy_fits(&sw, "board-a", "1.0", NULL));
	assert_false(policy_fits(&sw, "board-b", NULL, NULL));
	/* A set without a RAUC compatible: the model decides, always. */
	sw.rauc_compatible = NULL;
	assert_true(policy_fits(&sw, "board-a", NULL, "board-b"));
}

/* Latest never picks a set whose version scheme is none; semver sets
 * order as RAUC does. */
static void
test_latest_schemes(void **state)
{
	static const struct policy_sw cands[] = {
	    {1, "9.0", NULL, 0, 0, "none", NULL},
	    {2, "2024.05", NULL, 0, 0, "semver", NULL},
	    {3, "2024.10.1-rc1", NULL, 0, 0, "semver", NULL},
	};
	struct policy_device dev = {.mode = MODE_LATEST};
	int chosen;

	(void)state;
	assert_int_equal(policy_choose(&dev, cands, 3, &chosen), POLICY_OFFER);
	assert_int_equal(chosen, 2);
	assert_int_equal(
	    policy_choose(&dev, cands, 1, &chosen), POLICY_INCOMPATIBLE);
	/* Assigned mode takes a none-scheme set as it is. */
	dev.mode = MODE_ASSIGNED;
	assert_int_equal(policy_choose(&dev, cands, 1, &chosen), POLICY_OFFER);
	/* Installed 2024.10.1: the rc is older; semver order. */
	dev.mode = MODE_LATEST;
	dev.installed_version = "2024.10.1";
	assert_int_equal(
	    policy_choose(&dev, cands + 1, 2, &chosen), POLICY_DOWNGRADE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits_rauc_compatible),
	    cmocka_unit_test(test_latest_schemes),
	    cmocka_unit_test(test_compatible),
	    cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_choose_revision),
	    cmocka_unit_test(test_mode_names),
	    cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
