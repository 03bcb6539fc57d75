/*
 * Unit tests for cron.c: Quartz expressions, their next fire times at UTC
 * offsets, maintenance windows, the expressions refused, and offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"

/* "YYYY-MM-DD HH:MM:SS" in UTC to unix seconds. */
static int64_t
ts(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%d %H:%M:%S", &tm) == NULL)
		fail_msg("bad time %s", s);
	return (int64_t)timegm(&tm);
}

static const char *
fmt(int64_t t)
{
	static char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

struct ncase {
	const char *expr, *offset, *after, *want; /* want NULL: none */
};

static void
test_next(void **state)
{
	static const struct ncase cases[] = {
	    /* The expression rauc-hawkbit-updater's suite sends. */
	    {"5 30 14 ? 12 * 2026", "+00:00", "2026-12-01 14:30:00",
	        "2026-12-01 14:30:05"},
	    {"5 30 14 ? 12 * 2026", "+00:00", "2026-12-01 14:30:05",
	        "2026-12-02 14:30:05"},
	    {"5 30 14 ? 12 * 2026", "+00:00", "2026-12-31 14:30:05", NULL},
	    {"5 30 14 ? 12 * 2026", "+00:00", "1999-01-01 00:00:00",
	        "2026-12-01 14:30:05"},
	    /* Weekdays: 2026-12-05 is a Saturday. */
	    {"0 0 12 ? * MON-FRI", "Z", "2026-12-05 00:00:00",
	        "2026-12-07 12:00:00"},
	    {"0 0 12 ? * 2-6", "Z", "2026-12-05 00:00:00",
	        "2026-12-07 12:00:00"},
	    {"0 0 12 ? * sat,SUN", "Z", "2026-12-01 00:00:00",
	        "2026-12-05 12:00:00"},
	    {"0 0 12 ? * L", "Z", "2026-12-01 00:00:00", "2026-12-05 12:00:00"},
	    /* Day-of-month specials. */
	    {"0 15 10 L * ?", "Z", "2027-02-01 00:00:00",
	        "2027-02-28 10:15:00"},
	    {"0 15 10 L * ?", "Z", "2028-02-01 00:00:00",
	        "2028-02-29 10:15:00"},
	    {"0 15 10 L-2 * ?", "Z", "2026-12-01 00:00:00",
	        "2026-12-29 10:15:00"},
	    {"0 0 0 15W * ?", "Z", "2026-11-01 00:00:00",
	        "2026-11-16 00:00:00"}, /* the 15th is a Sunday */
	    {"0 0 0 15W * ?", "Z", "2026-08-01 00:00:00",
	        "2026-08-14 00:00:00"}, /* a Saturday */
	    {"0 0 0 1W * ?", "Z", "2026-07-31 00:00:00",
	        "2026-08-03 00:00:00"}, /* Saturday the 1st: Monday */
	    {"0 0 0 LW * ?", "Z", "2027-01-02 00:00:00",
	        "2027-01-29 00:00:00"}, /* Sunday the 31st: Friday */
	    {"0 0 0 31W * ?", "Z", "2026-11-01 00:00:00",
	        "2026-12-31 00:00:00"}, /* no 31st in November */
	    /* Day-of-week specials: the last Friday, the first Monday. */
	    {"0 0 12 ? * 6L", "Z", "2026-12-01 00:00:00",
	        "2026-12-25 12:00:00"},
	    {"0 0 12 ? * FRIL", "Z", "2026-12-01 00:00:00",
	        "2026-12-25 12:00:00"},
	    {"0 0 12 ? * 2#1", "Z", "2026-12-08 00:00:00",
	        "2027-01-04 12:00:00"},
	    {"0 0 12 ? * 1#5", "Z", "2026-12-01 00:00:00",
	        "2027-01-31 12:00:00"}, /* a fifth Sunday */
	    /* Steps, lists, wrapping ranges. */
	    {"0 */15 * ? * *", "Z", "2026-12-01 10:07:00",
	        "2026-12-01 10:15:00"},
	    {"0 5/20 * ? * *", "Z", "2026-12-01 10:46:00",
	        "2026-12-01 11:05:00"},
	    {"30 10-20/5 8 ? * *", "Z", "2026-12-01 08:15:30",
	        "2026-12-01 08:20:30"},
	    {"0 0 22-2 ? * *", "Z", "2026-12-01 23:30:00",
	        "2026-12-02 00:00:00"},
	    {"0 0 22-2 ? * *", "Z", "2026-12-02 02:00:00",
	        "2026-12-02 22:00:00"},
	    {"1,2,3 0 0 ? JAN,jul SUN", "Z", "2026-12-01 00:00:00",
	        "2027-01-03 00:00:01"},
	    {"0 0 0 29 2 ?", "Z", "2026-03-01 00:00:00", "2028-02-29 00:00:00"},
	    {"0 0 0 31 * ?", "Z", "2026-11-01 00:00:00", "2026-12-31 00:00:00"},
	    {"* * * * * ? 2030", "Z", "2026-12-01 00:00:00",
	        "2030-01-01 00:00:00"},
	    {"59 59 23 31 DEC ? 2099", "Z", "2099-12-31 23:59:58",
	        "2099-12-31 23:59:59"},
	    {"59 59 23 31 DEC ? 2099", "Z", "2099-12-31 23:59:59", NULL},
	    /* Offsets: noon at +02:00 is 10:00 UTC, at -05:30 17:30. */
	    {"0 0 12 ? * *", "+02:00", "2026-12-01 00:00:00",
	        "2026-12-01 10:00:00"},
	    {"0 0 12 ? * *", "-05:30", "2026-12-01 00:00:00",
	        "2026-12-01 17:30:00"},
	    /* The last local day of 2099 is past its end in UTC. */
	    {"0 0 22-2 ? * *", "-10:00", "2099-12-31 22:00:00",
	        "2100-01-01 08:00:00"},
	    {"0 0 0 1 1 ? 2027", "+14:00", "2026-01-01 00:00:00",
	        "2026-12-31 10:00:00"},
	};
	struct cron c;
	char why[128];
	int64_t next;
	int off;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cron_parse(cases[i].expr, &c, why, sizeof(why)) != 0)
			fail_msg("%s: %s", cases[i].expr, why);
		assert_int_equal(cron_parse_offset(cases[i].offset, &off), 0);
		if (cron_next(&c, ts(cases[i].after), off, &next) != 0) {
			if (cases[i].want != NULL)
				fail_msg("%s after %s: none, want %s",
				    cases[i].expr, cases[i].after,
				    cases[i].want);
			continue;
		}
		if (cases[i].want == NULL)
			fail_msg("%s after %s: %s, want none", cases[i].expr,
			    cases[i].after, fmt(next));
		if (next != ts(cases[i].want))
			fail_msg("%s after %s: %s, want %s", cases[i].expr,
			    cases[i].after, fmt(next), cases[i].want);
	}
}

static void
test_window(void **state)
{
	struct cron c;
	int64_t start;

	(void)state;
	assert_int_equal(cron_parse("5 30 14 ? 12 * 2026", &c, NULL, 0), 0);
	/* Closed before it opens: the start is the next fire time. */
	assert_false(cron_window(&c, ts("2026-12-01 14:30:00"), 0, 60, &start));
	assert_int_equal(start, ts("2026-12-01 14:30:05"));
	/* Open from the fire time for the duration. */
	assert_true(cron_window(&c, ts("2026-12-01 14:30:05"), 0, 60, &start));
	assert_int_equal(start, ts("2026-12-01 14:30:05"));
	assert_true(cron_window(&c, ts("2026-12-01 14:31:04"), 0, 60, &start));
	assert_false(cron_window(&c, ts("2026-12-01 14:31:05"), 0, 60, &start));
	assert_int_equal(start, ts("2026-12-02 14:30:05"));
	/* After the last one: closed for good. */
	assert_false(cron_window(&c, ts("2027-01-01 00:00:00"), 0, 60, &start));
	assert_int_equal(start, -1);
	/* A zero duration never opens. */
	assert_false(cron_window(&c, ts("2026-12-01 14:30:05"), 0, 0, &start));
	/* At an offset: 14:30:05 at +01:00 is 13:30:05 UTC. */
	assert_true(
	    cron_window(&c, ts("2026-12-01 13:30:10"), 3600, 60, &start));
	assert_int_equal(start, ts("2026-12-01 13:30:05"));
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "* * * * *",
	    "* * * * * ? * *",
	    "* * * * * *", /* no ? */
	    "* * * ? * ?", /* two */
	    "60 * * ? * *",
	    "* 60 * ? * *",
	    "* * 24 ? * *",
	    "* * * 0 * ?",
	    "* * * 32 * ?",
	    "* * * ? 0 *",
	    "* * * ? 13 *",
	    "* * * ? * 0",
	    "* * * ? * 8",
	    "*/0 * * ? * *",
	    "*/61 * * ? * *",
	    "* * * ? * 2#6",
	    "* * * ? * 8#1",
	    "* * * ? * 8L",
	    "* * * L-31 * ?",
	    "* * * 32W * ?",
	    "* * * 0W * ?",
	    "* * * 1-5W * ?",
	    "* * * ? * * 1969",
	    "* * * ? * * 2100",
	    "a * * ? * *",
	    "1-* * * ? * *",
	    "1,,2 * * ? * *",
	    "1, * * ? * *",
	    "-1 * * ? * *",
	    "1- * * ? * *",
	    "99999 * * ? * *",
	    "* * * ? JANX *",
	    "* * * ? * MONDAY",
	    "* * * ?? * *",
	    "* * * ? * ??",
	    "* * * L,1 * ?",
	    "0 0 0 ? * 2#1,3",
	    "\x01 * * ? * *",
	    "* * * ? * *\xc3\xa9",
	};
	char why[128], longexpr[CRON_EXPR_MAX + 2];
	struct cron c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (cron_parse(bad[i], &c, why, sizeof(why)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(why[0] != '\0');
	}
	memset(longexpr, ' ', sizeof(longexpr) - 1);
	longexpr[sizeof(longexpr) - 1] = '\0';
	memcpy(longexpr, "0 0 0 ? * *", 11);
	assert_int_equal(cron_parse(longexpr, &c, why, sizeof(why)), -1);
	/* A list with more items than a field can hold is refused. */
	assert_int_equal(cron_parse("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
	                            "17,18,19,20,21,22,23,24,25,26,27,28,29,30,"
	                            "31,32,33,34,35,36,37,38,39,40,41,42,43,44,"
	                            "45,46,47,48,49,50,51,52,53,54,55,56,57,58,"
	                            "59,0,1,2,3,4,5 * * ? * *",
	                     &c, why, sizeof(why)),
	    -1);
}

static void
test_offsets(void **state)
{
	static const struct {
		const char *s;
		int want; /* 99999: refused */
	} cases[] = {
	    {"+00:00", 0},
	    {"-00:00", 0},
	    {"Z", 0},
	    {"+02:00", 7200},
	    {"-05:30", -19800},
	    {"+14:00", 50400},
	    {"+18:00", 64800},
	    {"+05", 18000},
	    {"+18:01", 99999},
	    {"+19:00", 99999},
	    {"+1:00", 99999},
	    {"+01:60", 99999},
	    {"01:00", 99999},
	    {"+01:00 ", 99999},
	    {"", 99999},
	    {"UTC", 99999},
	};
	size_t i;
	int off;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].want == 99999)
			assert_int_equal(
			    cron_parse_offset(cases[i].s, &off), -1);
		else {
			assert_int_equal(
			    cron_parse_offset(cases[i].s, &off), 0);
			assert_int_equal(off, cases[i].want);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
