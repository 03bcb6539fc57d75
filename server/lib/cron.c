/*
 * Quartz cron: parsing into bit sets, and the next fire time by walking
 * the calendar a day at a time (skipping whole months and years that the
 * expression leaves out), with the civil-date arithmetic done here so no
 * time zone database or TZ variable is involved.
 */
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define CRON_DAY 86400
#define CRON_FIELDS_MAX 7
#define CRON_ITEMS_MAX 64 /* comma-separated items of one field */

static const char *const cron_months[] = {"JAN", "FEB", "MAR", "APR", "MAY",
    "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const cron_days[] = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* Calendar arithmetic (proleptic Gregorian, days since 1970-01-01). */

static int64_t
cron_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
cron_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
cron_days_in_month(int64_t y, int m)
{
	static const int dim[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* 1 = Sunday ... 7 = Saturday; 1970-01-01 was a Thursday. */
static int
cron_weekday(int64_t z)
{
	return (int)((((z % 7) + 7) % 7 + 4) % 7) + 1;
}

static int64_t
cron_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Parsing. */

static int cron_fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cron_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		utf8_vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
cron_bit(const uint64_t *bits, int i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

static void
cron_set(uint64_t *bits, int i)
{
	bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* A number or, where names is given, a three-letter name; the end in *end. */
static int
cron_value(const char *s, const char *const *names, int nnames, int first,
    const char **end)
{
	int v = 0, i, n = 0;

	if (names != NULL)
		for (i = 0; i < nnames; i++)
			if (strncasecmp(s, names[i], 3) == 0) {
				*end = s + 3;
				return first + i;
			}
	while (s[n] >= '0' && s[n] <= '9' && n < 5)
		v = v * 10 + (s[n++] - '0');
	if (n == 0 || n == 5)
		return -1;
	*end = s + n;
	return v;
}

struct cron_range {
	const char *name;
	int lo, hi;
	const char *const *names;
	int nnames;
	int base; /* bit 0 of the set stands for this value */
};

/* One list field: items a, a-b, *, each with an optional /step. */
static int
cron_list(const char *f, const struct cron_range *r, uint64_t *bits, char *why,
    size_t whylen)
{
	const char *p = f, *end;
	int a, b, step, k, span = r->hi - r->lo + 1, items = 0;

	for (;;) {
		if (++items > CRON_ITEMS_MAX)
			return cron_fail(why, whylen, "%s: more than %d items",
			    r->name, CRON_ITEMS_MAX);
		if (*p == '*') {
			a = r->lo;
			b = r->hi;
			p++;
		} else {
			if ((a = cron_value(
			         p, r->names, r->nnames, r->lo, &end)) == -1)
				goto bad;
			p = end;
			b = a;
			if (*p == '-') {
				if ((b = cron_value(p + 1, r->names, r->nnames,
				         r->lo, &end)) == -1)
					goto bad;
				p = end;
			} else if (*p == '/')
				b = r->hi; /* a/n: from a to the end */
			if (a < r->lo || a > r->hi || b < r->lo || b > r->hi)
				return cron_fail(why, whylen,
				    "%s: values run from %d to %d", r->name,
				    r->lo, r->hi);
		}
		step = 1;
		if (*p == '/') {
			if ((step = cron_value(p + 1, NULL, 0, 0, &end)) < 1 ||
			    step > span)
				return cron_fail(why, whylen,
				    "%s: a step from 1 to %d", r->name, span);
			p = end;
		}
		/* a > b wraps: 22-2 in hours is 22, 23, 0, 1, 2. */
		if (b < a)
			b += span;
		for (k = a; k <= b; k += step)
			cron_set(bits, r->lo + (k - r->lo) % span - r->base);
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	return cron_fail(
	    why, whylen, "%s: \"%s\" is not a cron field", r->name, f);
}

static const struct cron_range cron_ranges[] = {
    {"seconds", 0, 59, NULL, 0, 0},
    {"minutes", 0, 59, NULL, 0, 0},
    {"hours", 0, 23, NULL, 0, 0},
    {"day-of-month", 1, 31, NULL, 0, 0},
    {"month", 1, 12, cron_months, 12, 0},
    {"day-of-week", 1, 7, cron_days, 7, 0},
};

/* Day-of-month: L, L-n, LW, nW, or a list. */
static int
cron_dom(const char *f, struct cron *c, char *why, size_t whylen)
{
	uint64_t bits[1] = {0};
	const char *end;
	int n;

	if (strcasecmp(f, "L") == 0 || strcasecmp(f, "LW") == 0) {
		c->dom_last = f[1] == '\0';
		c->dom_weekday = f[1] != '\0';
		return 0;
	}
	if ((f[0] == 'L' || f[0] == 'l') && f[1] == '-') {
		if ((n = cron_value(f + 2, NULL, 0, 0, &end)) < 0 || n > 30 ||
		    *end != '\0')
			return cron_fail(why, whylen,
			    "day-of-month: L-n takes n from 0 to 30");
		c->dom_last = true;
		c->dom_last_off = n;
		return 0;
	}
	n = cron_value(f, NULL, 0, 0, &end);
	if (n != -1 && (*end == 'W' || *end == 'w') && end[1] == '\0') {
		if (n < 1 || n > 31)
			return cron_fail(why, whylen,
			    "day-of-month: nW takes n from 1 to 31");
		c->dom_weekday = true;
		c->dom_weekday_day = n;
		return 0;
	}
	if (cron_list(f, &cron_ranges[3], bits, why, whylen) == -1)
		return -1;
	c->dom = (uint32_t)bits[0];
	return 0;
}

/* Day-of-week: L (Saturday), nL, n#k, or a list. */
static int
cron_dow(const char *f, struct cron *c, char *why, size_t whylen)
{
	uint64_t bits[1] = {0};
	const char *end;
	int n, k;

	if (strcasecmp(f, "L") == 0) {
		c->dow = 1 << 7;
		return 0;
	}
	n = cron_value(f, cron_days, 7, 1, &end);
	if (n != -1 && (*end == 'L' || *end == 'l') && end[1] == '\0') {
		if (n < 1 || n > 7)
			return cron_fail(
			    why, whylen, "day-of-week: nL takes n from 1 to 7");
		c->dow_last = n;
		return 0;
	}
	if (n != -1 && *end == '#') {
		k = cron_value(end + 1, NULL, 0, 0, &end);
		if (n < 1 || n > 7 || k < 1 || k > 5 || *end != '\0')
			return cron_fail(why, whylen,
			    "day-of-week: n#k takes n from 1 to 7, k from 1 to "
			    "5");
		c->dow_nth_day = n;
		c->dow_nth = k;
		return 0;
	}
	if (cron_list(f, &cron_ranges[5], bits, why, whylen) == -1)
		return -1;
	c->dow = (uint8_t)bits[0];
	return 0;
}

int
cron_parse(const char *expr, struct cron *out, char *why, size_t whylen)
{
	static const struct cron_range years = {
	    "year", CRON_YEAR_MIN, CRON_YEAR_MAX, NULL, 0, CRON_YEAR_MIN};
	char buf[CRON_EXPR_MAX + 1], *fields[CRON_FIELDS_MAX + 1], *p;
	uint64_t bits[3];
	size_t len, n = 0;
	int i;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (expr == NULL || (len = strlen(expr)) > CRON_EXPR_MAX)
		return cron_fail(why, whylen,
		    "a cron expression of at most %d "
		    "bytes",
		    CRON_EXPR_MAX);
	memcpy(buf, expr, len + 1);
	for (p = buf; *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == CRON_FIELDS_MAX)
			return cron_fail(why, whylen, "more than %d fields",
			    CRON_FIELDS_MAX);
		fields[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if ((unsigned char)*p < 0x21 ||
			    (unsigned char)*p > 0x7e)
				return cron_fail(why, whylen,
				    "a character a cron expression cannot "
				    "hold");
			p++;
		}
	}
	if (n < 6)
		return cron_fail(why, whylen,
		    "6 or 7 fields: second minute hour day-of-month month "
		    "day-of-week [year]");
	for (i = 0; i < 3; i++) {
		bits[0] = 0;
		if (cron_list(fields[i], &cron_ranges[i], bits, why, whylen) ==
		    -1)
			return -1;
		if (i == 0)
			out->sec = bits[0];
		else if (i == 1)
			out->min = bits[0];
		else
			out->hour = (uint32_t)bits[0];
	}
	bits[0] = 0;
	if (cron_list(fields[4], &cron_ranges[4], bits, why, whylen) == -1)
		return -1;
	out->month = (uint16_t)bits[0];
	if ((strcmp(fields[3], "?") == 0) == (strcmp(fields[5], "?") == 0))
		return cron_fail(why, whylen,
		    "one of day-of-month and "
		    "day-of-week must be ?, and only one");
	out->dom_any = strcmp(fields[3], "?") == 0;
	if (!out->dom_any && cron_dom(fields[3], out, why, whylen) == -1)
		return -1;
	if (out->dom_any && cron_dow(fields[5], out, why, whylen) == -1)
		return -1;
	if (n == 7) {
		if (cron_list(fields[6], &years, out->year, why, whylen) == -1)
			return -1;
	} else
		for (i = CRON_YEAR_MIN; i <= CRON_YEAR_MAX; i++)
			cron_set(out->year, i - CRON_YEAR_MIN);
	return 0;
}

/* Matching. */

static bool
cron_day_ok(const struct cron *c, int64_t z, int64_t y, int m, int d)
{
	int dim = cron_days_in_month(y, m), wd, target, twd;

	if (!c->dom_any) {
		if (c->dom_last)
			return d == dim - c->dom_last_off;
		if (c->dom_weekday) {
			target =
			    c->dom_weekday_day == 0 ? dim : c->dom_weekday_day;
			if (target > dim)
				return false;
			twd = cron_weekday(z + (target - d));
			if (twd ==
			    7) /* Saturday: the Friday, or Monday the 3rd */
				target = target == 1 ? 3 : target - 1;
			else if (twd == 1) /* Sunday: Monday, or Friday */
				target =
				    target == dim ? target - 2 : target + 1;
			return d == target;
		}
		return (c->dom >> d) & 1;
	}
	wd = cron_weekday(z);
	if (c->dow_last)
		return wd == c->dow_last && d + 7 > dim;
	if (c->dow_nth)
		return wd == c->dow_nth_day && (d - 1) / 7 + 1 == c->dow_nth;
	return (c->dow >> wd) & 1;
}

/* The first time of day at or after sod that the expression has, or -1. */
static int
cron_time_of_day(const struct cron *c, int sod)
{
	int h, mi, s, h0 = sod / 3600, m0 = sod % 3600 / 60, s0 = sod % 60;

	for (h = h0; h < 24; h++) {
		if (!((c->hour >> h) & 1))
			continue;
		for (mi = h == h0 ? m0 : 0; mi < 60; mi++) {
			if (!((c->min >> mi) & 1))
				continue;
			for (s = h == h0 && mi == m0 ? s0 : 0; s < 60; s++)
				if ((c->sec >> s) & 1)
					return h * 3600 + mi * 60 + s;
		}
	}
	return -1;
}

int
cron_next(const struct cron *c, int64_t after, int offset_s, int64_t *next)
{
	int64_t first = cron_days_from_civil(CRON_YEAR_MIN, 1, 1) * CRON_DAY;
	int64_t last = cron_days_from_civil(CRON_YEAR_MAX + 1, 1, 1) * CRON_DAY;
	int64_t local, z, y;
	int m, d, sod, tod;

	if (offset_s < -CRON_OFFSET_MAX || offset_s > CRON_OFFSET_MAX ||
	    after >= last - offset_s) /* the end, in local time */
		return -1;
	local = after < first - CRON_OFFSET_MAX ? first : after + 1 + offset_s;
	if (local < first)
		local = first;
	z = cron_floor_div(local, CRON_DAY);
	sod = (int)(local - z * CRON_DAY);
	for (;;) {
		cron_civil_from_days(z, &y, &m, &d);
		if (y > CRON_YEAR_MAX)
			return -1;
		if (!cron_bit(c->year, (int)(y - CRON_YEAR_MIN))) {
			z = cron_days_from_civil(y + 1, 1, 1);
			sod = 0;
			continue;
		}
		if (!((c->month >> m) & 1)) {
			z = m == 12 ? cron_days_from_civil(y + 1, 1, 1)
			            : cron_days_from_civil(y, m + 1, 1);
			sod = 0;
			continue;
		}
		if (cron_day_ok(c, z, y, m, d) &&
		    (tod = cron_time_of_day(c, sod)) != -1) {
			*next = z * CRON_DAY + tod - offset_s;
			return 0;
		}
		z++;
		sod = 0;
	}
}

bool
cron_matches(const struct cron *c, int64_t t, int offset_s)
{
	int64_t local = t + offset_s, z, y;
	int m, d, sod;

	z = cron_floor_div(local, CRON_DAY);
	sod = (int)(local - z * CRON_DAY);
	cron_civil_from_days(z, &y, &m, &d);
	return y >= CRON_YEAR_MIN && y <= CRON_YEAR_MAX &&
	       cron_bit(c->year, (int)(y - CRON_YEAR_MIN)) &&
	       ((c->month >> m) & 1) && cron_day_ok(c, z, y, m, d) &&
	       ((c->hour >> (sod / 3600)) & 1) &&
	       ((c->min >> (sod % 3600 / 60)) & 1) &&
	       ((c->sec >> (sod % 60)) & 1);
}

bool
cron_window(const struct cron *c, int64_t now, int offset_s, int64_t duration_s,
    int64_t *start)
{
	int64_t s;

	*start = -1;
	if (duration_s < 0 || now < INT64_MIN + duration_s)
		return false;
	if (cron_next(c, now - duration_s, offset_s, &s) == -1)
		return false;
	*start = s;
	if (s <= now)
		return true;
	return false;
}

int
cron_parse_offset(const char *s, int *offset_s)
{
	int sign, h, m = 0;

	if (strcmp(s, "Z") == 0) {
		*offset_s = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
		return -1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	if (s[3] == ':') {
		if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' ||
		    s[6] != '\0')
			return -1;
		m = (s[4] - '0') * 10 + (s[5] - '0');
	} else if (s[3] != '\0')
		return -1;
	if (m > 59 || h * 3600 + m * 60 > CRON_OFFSET_MAX)
		return -1;
	*offset_s = sign * (h * 3600 + m * 60);
	return 0;
}
