/*
 * Quartz cron expressions, as hawkBit's maintenance windows take them:
 *
 *   second minute hour day-of-month month day-of-week [year]
 *
 * each field `*`, a value, a range `a-b` (wrapping when a > b), a step
 * `*` or `a` or `a-b` followed by `/n`, or a comma list of those; months
 * JAN-DEC and days SUN-SAT by name, day-of-week 1 = Sunday.  Exactly one of
 * day-of-month and day-of-week is `?`.  Day-of-month also takes `L`, `L-n`
 * (n days before the last), `nW` (the weekday nearest to n), `LW`;
 * day-of-week `nL` (the last such day of the month) and `n#k` (the k-th).
 * Years run from 1970 to 2099.  Times are evaluated at a fixed UTC offset,
 * as hawkBit's `+HH:MM` time zones are.  Pure: no globals, no locale, no
 * TZ environment.
 */
#ifndef CRON_H
#define CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRON_EXPR_MAX 256 /* bytes of an expression */
#define CRON_YEAR_MIN 1970
#define CRON_YEAR_MAX 2099
#define CRON_OFFSET_MAX (18 * 3600) /* |UTC offset| in seconds */

struct cron {
	uint64_t sec, min;  /* bit n: value n */
	uint32_t hour, dom; /* dom bit n: day n (1-31) */
	uint16_t month;     /* bit n: month n (1-12) */
	uint8_t dow;        /* bit n: day n (1 = Sunday ... 7) */
	uint64_t year[3];   /* bit y - CRON_YEAR_MIN */
	bool dom_any;       /* day-of-month is `?`: day-of-week decides */
	/* Day-of-month specials (only one per expression, as Quartz). */
	bool dom_last; /* L, or L-n with dom_last_off = n */
	int dom_last_off;
	bool dom_weekday; /* nW (dom_weekday_day = n) or LW (0) */
	int dom_weekday_day;
	/* Day-of-week specials. */
	int dow_last;             /* nL: the last day n of the month, or 0 */
	int dow_nth_day, dow_nth; /* n#k: the k-th day n, or 0 */
};

/* Parse expr.  0, or -1 with why saying what is wrong. */
int cron_parse(const char *expr, struct cron *out, char *why, size_t whylen);

/*
 * The first fire time strictly after `after` (unix seconds), evaluated at
 * UTC offset offset_s.  0 with *next set, or -1 when there is none up to
 * the end of CRON_YEAR_MAX.
 */
int cron_next(const struct cron *, int64_t after, int offset_s, int64_t *next);

/* Whether t (unix seconds) is a fire time at UTC offset offset_s. */
bool cron_matches(const struct cron *, int64_t t, int offset_s);

/*
 * A window of duration_s seconds opening at each fire time: whether it is
 * open at now (then *start is the fire time that opened it), else the
 * start of the next one in *start (-1 if there is none).
 */
bool cron_window(const struct cron *, int64_t now, int offset_s,
    int64_t duration_s, int64_t *start);

/* "+HH:MM" / "-HH:MM" (also "Z" and "+HH") into seconds east of UTC. */
int cron_parse_offset(const char *s, int *offset_s);

#endif
