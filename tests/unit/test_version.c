/*
 * Unit tests for version.c: default numbering, SemVer, the strcmp fallback,
 * equality and version_valid.  Every table row is checked both ways round,
 * so each also proves the comparison is antisymmetric.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "version.h"

/* One comparison: the sign version_compare(a, b) must have. */
struct cmp_case {
	const char *a;
	const char *b;
	int want;
};

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

static void
check_cmp_cases(const struct cmp_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct cmp_case *c = &cases[i];
		int ab = sign(version_compare(c->a, c->b));
		int ba = sign(version_compare(c->b, c->a));

		if (ab != c->want || ba != -c->want)
			fail_msg("row %zu: compare(\"%s\", \"%s\") = %d, "
			         "reversed %d, want %d",
			    i, c->a ? c->a : "(null)", c->b ? c->b : "(null)",
			    ab, ba, c->want);
		if (version_equal(c->a, c->b) != (c->want == 0))
			fail_msg("row %zu: version_equal(\"%s\", \"%s\")", i,
			    c->a ? c->a : "(null)", c->b ? c->b : "(null)");
	}
}

/* Every earlier entry of a sorted list must compare below every later one. */
static void
check_sorted(const char *const *list, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		assert_int_equal(version_compare(list[i], list[i]), 0);
		for (j = i + 1; j < n; j++)
			if (version_compare(list[i], list[j]) >= 0 ||
			    version_compare(list[j], list[i]) <= 0)
				fail_msg("\"%s\" should sort before \"%s\"",
				    list[i], list[j]);
	}
}

static void
test_default_numbering(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		{ "1.2.3.4",		"1.2.3.5",		-1 },
		{ "1.2.3.4",		"1.2.4.0",		-1 },
		{ "1.2.3.65535",	"1.2.4",		-1 },
		{ "1.10",		"1.9",			1 },
		{ "2",			"1.65535.65535.65535",	1 },
		{ "65535.65535.65535.65535", "65535.65535.65535.65534", 1 },
		{ "1.2.3",		"1.2.3.0",		0 },
		{ "1",			"1.0.0.0",		0 },
		{ "1.0",		"1.0.0",		0 },
		/* Leading zeros are accepted, as by SWUpdate's strtoul. */
		{ "01.002",		"1.2",			0 },
		{ "1.2.3.4",		"1.2.3.4",		0 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_default_limits(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		/* A field above 65535 is not default numbering; with three
		 * fields or fewer it is still SemVer, compared by value. */
		{ "1.65536",		"1.65535",		1 },
		{ "70000",		"1.2",			1 },
		{ "99999999999999999999.0.0", "1.0.0",	1 },
		/* Four fields with one too big: strcmp, so 65536 < 9. */
		{ "1.2.3.65536",	"1.2.3.4",		1 },
		{ "1.2.3.65536",	"1.2.3.9",		-1 },
		/* Five fields are not default numbering: strcmp, never
		 * SWUpdate's "1.2.3.4" == "1.2.3.4.5". */
		{ "1.2.3.4.5",		"1.2.3.4",		1 },
		{ "1.2.3.4.5",		"1.2.3.4.6",		-1 },
		{ "1.2.3.4.5.6",	"1.2.3.4",		1 },
		{ "1.2.3.4.10",		"1.2.3.4.9",		-1 },
		/* Empty fields are neither scheme. */
		{ "1..2",		"1.1",			-1 },
		{ "1.",			"1",			1 },
		{ ".1",			"0.1",			-1 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_zero_is_a_version(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		{ "0",			"0.0.0",		0 },
		{ "0",			"0.0.0.0",		0 },
		{ "0",			"0.0.0.1",		-1 },
		{ "0",			"1",			-1 },
		{ "0.0.0-alpha",	"0",			-1 },
		{ "0.0.0+build",	"0",			0 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
	assert_true(version_valid("0"));
	assert_true(version_equal("0", "0.0"));
	assert_false(version_equal("0", NULL));
}

/* The precedence example of semver.org section 11.4, in order. */
static void
test_semver_spec_order(void **state)
{
	static const char *const spec[] = {
	    "1.0.0-alpha",
	    "1.0.0-alpha.1",
	    "1.0.0-alpha.beta",
	    "1.0.0-beta",
	    "1.0.0-beta.2",
	    "1.0.0-beta.11",
	    "1.0.0-rc.1",
	    "1.0.0",
	    "1.0.1-0",
	    "1.0.1",
	    "1.1-rc",
	    "1.1.0",
	    "2",
	};

	(void)state;
	check_sorted(spec, NELEM(spec));
}

static void
test_semver(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		/* Minor and patch are optional. */
		{ "1",			"1.0.0",		0 },
		{ "1-rc.1",		"1.0.0-rc.1",		0 },
		{ "2-rc.1",		"1.9.9",		1 },
		/* Default numbering on one side only: both are SemVer. */
		{ "1.2",		"1.2.1-rc1",		-1 },
		{ "1.2.1-rc1",		"1.2.1",		-1 },
		{ "1.10.0-rc.1",	"1.9",			1 },
		/* Numeric identifiers by value, numeric below alphanumeric. */
		{ "1.0.0-rc.10",	"1.0.0-rc.9",		1 },
		{ "1.0.0-rc.99999999999999999999", "1.0.0-rc.9", 1 },
		{ "1.0.0-1",		"1.0.0-a",		-1 },
		{ "1.0.0-9",		"1.0.0-10a",		-1 },
		/* Alphanumeric identifiers in ASCII order. */
		{ "1.0.0-RC",		"1.0.0-rc",		-1 },
		{ "1.0.0-rc-1",		"1.0.0-rc",		1 },
		{ "1.0.0-a.b.c",	"1.0.0-a.b",		1 },
		{ "100.0.0",		"99.99.99",		1 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_build_metadata(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		{ "1.0.0+build7",	"1.0.0",		0 },
		{ "1.0+build7",		"1.0.0",		0 },
		{ "1.0.0+a",		"1.0.0+b",		0 },
		{ "1.0.0+001.x-y",	"1.0.0",		0 },
		{ "1.0.0-rc.1+b",	"1.0.0-rc.1",		0 },
		{ "1.0.0-rc.1+b",	"1.0.0",		-1 },
		{ "1.0.1+a",		"1.0.0+z",		1 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_mixed_schemes_strcmp(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		/* Four fields vs a pre-release: '.' > '-'. */
		{ "1.2.3.4",		"1.2.3-beta",		1 },
		/* A leading "v" is not special. */
		{ "v1.2",		"v1.10",		1 },
		{ "v1.0",		"1.0",			1 },
		{ "v1.0",		"v1.0",			0 },
		/* Malformed SemVer falls back to strcmp. */
		{ "1.02.3-rc",		"1.2.3-rc",		-1 },
		{ "1.0.0-01",		"1.0.0-1",		-1 },
		{ "1.0.0-",		"1.0.0",		1 },
		{ "1.0.0+",		"1.0.0",		1 },
		{ "1.0.0-a..b",		"1.0.0-a",		1 },
		{ "1.0.0_1",		"1.0.0",		1 },
		{ "abc",		"abd",			-1 },
		{ "",			"0",			-1 },
		{ "",			"",			0 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_null(void **state)
{
	/* clang-format off */
	static const struct cmp_case cases[] = {
		{ NULL,			NULL,			0 },
		{ NULL,			"",			-1 },
		{ NULL,			"0",			-1 },
		{ NULL,			"junk",			-1 },
	};
	/* clang-format on */

	(void)state;
	check_cmp_cases(cases, NELEM(cases));
}

static void
test_equal(void **state)
{
	/* clang-format off */
	static const struct {
		const char *a;
		const char *b;
		bool want;
	} cases[] = {
		{ "1.0",		"1.0.0",		true },
		{ "1.0.0",		"1.0.0+build7",		true },
		{ "1.0",		"1.0.0+build7",		true },
		{ "1.0.0.0",		"1",			true },
		{ "1.2.3.4",		"1.2.3.4.5.6",		false },
		{ "1.0.0-rc.1",		"1.0.0",		false },
		{ "v1.0",		"1.0",			false },
		{ "1.0",		NULL,			false },
		{ NULL,			NULL,			true },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (version_equal(cases[i].a, cases[i].b) != cases[i].want)
			fail_msg("row %zu: version_equal(\"%s\", \"%s\")", i,
			    cases[i].a ? cases[i].a : "(null)",
			    cases[i].b ? cases[i].b : "(null)");
}

static void
test_valid(void **state)
{
	char len255[256], len256[257];
	/* clang-format off */
	const struct {
		const char *s;
		bool want;
	} cases[] = {
		{ "1.0",		true },
		{ "0",			true },
		{ "v1.2-rc.1+build.7",	true },
		{ "1.2.3.4.5.6",	true },
		{ "!~",			true },
		{ len255,		true },
		{ len256,		false },
		{ NULL,			false },
		{ "",			false },
		{ "1.0 beta",		false },
		{ " 1.0",		false },
		{ "1.0\t",		false },
		{ "1.0\n",		false },
		{ "1.0\x7f",		false },
		{ "1.0-\xc3\xa9",	false },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	memset(len255, 'a', sizeof(len255) - 1);
	len255[sizeof(len255) - 1] = '\0';
	memset(len256, 'a', sizeof(len256) - 1);
	len256[sizeof(len256) - 1] = '\0';
	for (i = 0; i < NELEM(cases); i++)
		if (version_valid(cases[i].s) != cases[i].want)
			fail_msg("row %zu: version_valid(\"%.20s\") != %d", i,
			    cases[i].s ? cases[i].s : "(null)", cases[i].want);
}

/* RAUC bundles: SemVer with relaxed cores, as min-bundle-version orders. */
static void
test_scheme_semver(void **state)
{
	static const struct cmp_case cases[] = {
	    {"2024.05", "2024.5", 0}, {"2024.05.1", "2024.05", 1},
	    {"2024.05.1-rc1", "2024.05.1", -1},
	    {"2024.05.1-rc1+g1234", "2024.05.1-rc1", 0},
	    {"2024", "2023.12.31", 1}, {"1.10.0", "1.9.0", 1},
	    {"01.2", "1.2.0", 0}, {"1.0.0-alpha", "1.0.0-beta", -1},
	    {"v1", "v2", -1}, /* no SemVer: strcmp */
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct cmp_case *c = &cases[i];

		assert_int_equal(
		    sign(version_compare_scheme("semver", c->a, c->b)),
		    c->want);
		assert_int_equal(
		    sign(version_compare_scheme("semver", c->b, c->a)),
		    -c->want);
	}
	/* Other schemes are SWUpdate's order. */
	assert_int_equal(
	    sign(version_compare_scheme("swupdate", "1.2.3.4", "1.2.3.5")), -1);
	assert_int_equal(
	    sign(version_compare_scheme(NULL, "2024.05", "2024.5")),
	    sign(version_compare("2024.05", "2024.5")));
	assert_int_equal(sign(version_compare_scheme("semver", NULL, "1")), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_numbering),
	    cmocka_unit_test(test_default_limits),
	    cmocka_unit_test(test_zero_is_a_version),
	    cmocka_unit_test(test_semver_spec_order),
	    cmocka_unit_test(test_semver),
	    cmocka_unit_test(test_build_metadata),
	    cmocka_unit_test(test_mixed_schemes_strcmp),
	    cmocka_unit_test(test_null),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_scheme_semver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
