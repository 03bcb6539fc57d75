/*
 * Unit tests for mwindow.c: maintenance windows open now, closed with
 * their next opening, never again; time zones and offsets; Quartz's ?
 * day fields, the year field, ends of months, windows across midnight;
 * the shorter polling before a window; the parts refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mwindow.h"

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

static void
test_states(void **state)
{
	(void)state;
	/* clang-format off */
	static const struct {
		const char *schedule, *duration, *zone, *now;
		enum mwindow_state want;
		const char *start; /* opened at, next opening, or NULL */
	} cases[] = {
		/* rauc-hawkbit-updater's test: now + 15 s, one minute. */
		{ "5 30 14 ? 12 * 2026", "00:01:00", "+00:00", "2026-12-01 14:29:50", MWINDOW_CLOSED, "2026-12-01 14:30:05" },
		{ "5 30 14 ? 12 * 2026", "00:01:00", "+00:00", "2026-12-01 14:30:05", MWINDOW_OPEN, "2026-12-01 14:30:05" },
		{ "5 30 14 ? 12 * 2026", "00:01:00", "+00:00", "2026-12-01 14:31:04", MWINDOW_OPEN, "2026-12-01 14:30:05" },
		{ "5 30 14 ? 12 * 2026", "00:01:00", "+00:00", "2026-12-01 14:31:05", MWINDOW_CLOSED, "2026-12-02 14:30:05" },
		/* The year field: the last one of 2026 has passed. */
		{ "5 30 14 ? 12 * 2026", "00:01:00", "+00:00", "2026-12-31 14:31:05", MWINDOW_NEVER, NULL },
		{ "0 0 0 1 1 ? 2020", "01:00:00", "Z", "2026-01-01 00:00:00", MWINDOW_NEVER, NULL },
		/* Offsets: 02:00 at +02:00 is 00:00 UTC. */
		{ "0 0 2 * * ?", "00:30:00", "+02:00", "2026-06-10 00:10:00", MWINDOW_OPEN, "2026-06-10 00:00:00" },
		{ "0 0 2 * * ?", "00:30:00", "+02:00", "2026-06-10 00:40:00", MWINDOW_CLOSED, "2026-06-11 00:00:00" },
		{ "0 0 2 * * ?", "00:30:00", "-05:30", "2026-06-10 07:40:00", MWINDOW_OPEN, "2026-06-10 07:30:00" },
		{ "0 0 2 * * ?", "00:30:00", "UTC", "2026-06-10 01:59:59", MWINDOW_CLOSED, "2026-06-10 02:00:00" },
		{ "0 0 2 * * ?", "00:30:00", "GMT", "2026-06-10 02:29:59", MWINDOW_OPEN, "2026-06-10 02:00:00" },
		/* Across midnight: 23:00 for two hours. */
		{ "0 0 23 * * ?", "02:00:00", "+00:00", "2026-03-01 00:59:59", MWINDOW_OPEN, "2026-02-28 23:00:00" },
		{ "0 0 23 * * ?", "02:00:00", "+00:00", "2026-03-01 01:00:00", MWINDOW_CLOSED, "2026-03-01 23:00:00" },
		/* Across midnight and the year in another zone. */
		{ "0 30 23 31 12 ? 2026", "01:00:00", "+01:00", "2026-12-31 22:59:00", MWINDOW_OPEN, "2026-12-31 22:30:00" },
		/* ? in day-of-month, a day-of-week: Sundays (1) at 03:00. */
		{ "0 0 3 ? * 1", "01:00:00", "+00:00", "2026-12-02 12:00:00", MWINDOW_CLOSED, "2026-12-06 03:00:00" },
		{ "0 0 3 ? * SUN", "01:00:00", "+00:00", "2026-12-06 03:30:00", MWINDOW_OPEN, "2026-12-06 03:00:00" },
		/* The end of each month, February of a leap year. */
		{ "0 0 12 L * ?", "00:10:00", "+00:00", "2028-02-10 00:00:00", MWINDOW_CLOSED, "2028-02-29 12:00:00" },
		{ "0 0 12 L * ?", "00:10:00", "+00:00", "2027-02-28 12:05:00", MWINDOW_OPEN, "2027-02-28 12:00:00" },
		/* Day 31 skips the months without one. */
		{ "0 0 0 31 * ?", "00:01:00", "+00:00", "2026-04-01 00:00:00", MWINDOW_CLOSED, "2026-05-31 00:00:00" },
		/* Every minute, ten seconds: open in the first ten. */
		{ "0 * * * * ?", "00:00:10", "+00:00", "2026-05-05 05:05:09", MWINDOW_OPEN, "2026-05-05 05:05:00" },
		{ "0 * * * * ?", "00:00:10", "+00:00", "2026-05-05 05:05:10", MWINDOW_CLOSED, "2026-05-05 05:06:00" },
	};
	/* clang-format on */
	char why[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mwindow w;
		int64_t start = 0;
		enum mwindow_state st;

		if (mwindow_parse(cases[i].schedule, cases[i].duration,
		        cases[i].zone, &w, why, sizeof(why)) != 0)
			fail_msg("case %zu: %s", i, why);
		st = mwindow_state(&w, ts(cases[i].now), &start);
		if (st != cases[i].want)
			fail_msg("case %zu (%s at %s): state %d, want %d", i,
			    cases[i].schedule, cases[i].now, st, cases[i].want);
		if (cases[i].start == NULL)
			assert_int_equal(start, -1);
		else if (start != ts(cases[i].start))
			fail_msg("case %zu (%s at %s): start %lld, want %s", i,
			    cases[i].schedule, cases[i].now, (long long)start,
			    cases[i].start);
	}
}

static void
test_refused(void **state)
{
	(void)state;
	/* clang-format off */
	static const struct {
		const char *schedule, *duration, *zone, *why;
	} cases[] = {
		{ NULL, "00:01:00", "+00:00", "go together" },
		{ "0 0 0 * * ?", NULL, "+00:00", "go together" },
		{ "0 0 0 * * ?", "00:01:00", NULL, "go together" },
		{ "0 0 0 * *", "00:01:00", "+00:00", "schedule" },
		{ "0 0 0 * * *", "00:01:00", "+00:00", "schedule" },
		{ "0 0 0 ? * ?", "00:01:00", "+00:00", "schedule" },
		{ "0 0 0 * * ?", "1:00:00", "+00:00", "duration" },
		{ "0 0 0 * * ?", "00:00:00", "+00:00", "duration" },
		{ "0 0 0 * * ?", "24:00:00", "+00:00", "duration" },
		{ "0 0 0 * * ?", "00:60:00", "+00:00", "duration" },
		{ "0 0 0 * * ?", "00:01:00x", "+00:00", "duration" },
		{ "0 0 0 * * ?", "00:01:00", "Europe/Berlin", "timezone" },
		{ "0 0 0 * * ?", "00:01:00", "+19:00", "timezone" },
		{ "0 0 0 * * ?", "00:01:00", "+0100", "timezone" },
		{ "0 0 0 * * ?", "00:01:00", "", "timezone" },
	};
	/* clang-format on */
	struct mwindow w;
	char why[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		if (mwindow_parse(cases[i].schedule, cases[i].duration,
		        cases[i].zone, &w, why, sizeof(why)) != -1)
			fail_msg("case %zu accepted", i);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why,
			    cases[i].why);
	}
	/* A NULL why is fine. */
	assert_int_equal(
	    mwindow_parse("bad", "00:01:00", "Z", &w, NULL, 0), -1);
}

static void
test_poll_sleep(void **state)
{
	(void)state;
	/* clang-format off */
	static const struct {
		enum mwindow_state st;
		int64_t until, interval;
		int count;
		int64_t want;
	} cases[] = {
		{ MWINDOW_CLOSED, 3600, 30, 3, 30 },  /* far away */
		{ MWINDOW_CLOSED, 90, 30, 3, 30 },    /* three polls already */
		{ MWINDOW_CLOSED, 60, 30, 3, 20 },
		{ MWINDOW_CLOSED, 15, 300, 3, 5 },
		{ MWINDOW_CLOSED, 2, 300, 3, 1 },     /* at least a second */
		{ MWINDOW_CLOSED, 0, 300, 3, 1 },
		{ MWINDOW_OPEN, 10, 300, 3, 300 },
		{ MWINDOW_NEVER, -1, 300, 3, 300 },
		{ MWINDOW_CLOSED, 10, 300, 0, 300 },  /* no count: no change */
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mwindow_poll_sleep(cases[i].st, cases[i].until,
		        cases[i].interval, cases[i].count) != cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i,
			    (long long)mwindow_poll_sleep(cases[i].st,
			        cases[i].until, cases[i].interval,
			        cases[i].count),
			    (long long)cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_poll_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
