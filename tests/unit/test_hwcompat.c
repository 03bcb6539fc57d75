/*
 * Unit tests for hwcompat.c: RAUC compatible strings split into model and
 * revision by a pattern with named groups, and the patterns refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwcompat.h"
#include "util.h"

struct split_case {
	const char *pattern, *compatible, *model, *revision;
};

static void
test_split(void **state)
{
	static const char anchored[] = "(?P<model>[a-z0-9]+)-(?P<revision>"
	                               "rev[0-9.]+)";
	static const struct split_case cases[] = {
	    {NULL, "falconet-board", "falconet-board", NULL},
	    {"", "qemux86-64", "qemux86-64", NULL},
	    {anchored, "myboard-rev1.0", "myboard", "rev1.0"},
	    /* Must match the whole string; else the whole is the model. */
	    {anchored, "myboard-rev1.0-extra", "myboard-rev1.0-extra", NULL},
	    {anchored, "qemux86-64", "qemux86-64", NULL},
	    {"(?P<model>.*)", "any thing", "any thing", NULL},
	    {"(?<model>[^-]+)(-(?<revision>.*))?", "imx8mm", "imx8mm", NULL},
	    {"(?<model>[^-]+)(-(?<revision>.*))?", "imx8mm-evk", "imx8mm",
	        "evk"},
	    /* Escapes and bracket expressions do not open groups. */
	    {"\\((?P<model>[^)(]+)\\)-(?P<revision>.+)", "(b)-2", "b", "2"},
	    {"[(](?P<model>[a-z]+)[)](?P<revision>[]0-9]+)", "(x)1]", "x",
	        "1]"},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct split_case *c = &cases[i];
		char *model, *revision;

		hwcompat_split(c->pattern, c->compatible, &model, &revision);
		assert_non_null(model);
		assert_string_equal(model, c->model);
		if (c->revision == NULL)
			assert_null(revision);
		else {
			assert_non_null(revision);
			assert_string_equal(revision, c->revision);
		}
		free(model);
		free(revision);
	}
}

static void
test_pattern_check(void **state)
{
	(void)state;
	assert_null(hwcompat_pattern_check("(?P<model>.+)"));
	assert_null(hwcompat_pattern_check("(?<model>.+)-(?<revision>.+)"));
	assert_non_null(hwcompat_pattern_check(""));
	assert_non_null(hwcompat_pattern_check("(?P<revision>.+)"));
	assert_non_null(hwcompat_pattern_check("(?P<model>.+)(?P<model>.+)"));
	assert_non_null(hwcompat_pattern_check("(?P<other>.+)"));
	assert_non_null(hwcompat_pattern_check("(?:x)(?P<model>.+)"));
	assert_non_null(hwcompat_pattern_check("(?P<model"));
	assert_non_null(hwcompat_pattern_check("(?P<model>[a-"));
	assert_non_null(hwcompat_pattern_check("(?P<model>(.+)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_pattern_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
