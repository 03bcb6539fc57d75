/*
 * Maintenance windows: parsing the three parts of one and telling whether
 * it is open.  The schedule's grammar and its fire times are cron.c's.
 */
#include "mwindow.h"

#include <stdio.h>
#include <string.h>

static void
mwindow_why(char *why, size_t whylen, const char *text)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", text);
}

/* "HH:MM:SS", two digits each, from 00:00:01 to 23:59:59. */
static int
mwindow_parse_duration(const char *s, int64_t *out)
{
	int v[3];

	if (strlen(s) != 8 || s[2] != ':' || s[5] != ':')
		return -1;
	for (int i = 0; i < 3; i++) {
		const char *p = s + 3 * i;

		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return -1;
		v[i] = (p[0] - '0') * 10 + (p[1] - '0');
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 59)
		return -1;
	*out = (int64_t)v[0] * 3600 + v[1] * 60 + v[2];
	return *out > 0 ? 0 : -1;
}

static int
mwindow_parse_zone(const char *s, int *offset_s)
{
	if (strcmp(s, "UTC") == 0 || strcmp(s, "GMT") == 0) {
		*offset_s = 0;
		return 0;
	}
	return cron_parse_offset(s, offset_s);
}

int
mwindow_parse(const char *schedule, const char *duration, const char *timezone,
    struct mwindow *out, char *why, size_t whylen)
{
	char detail[128];

	memset(out, 0, sizeof(*out));
	if (schedule == NULL || duration == NULL || timezone == NULL) {
		mwindow_why(
		    why, whylen, "schedule, duration and timezone go together");
		return -1;
	}
	if (cron_parse(schedule, &out->cron, detail, sizeof(detail)) == -1) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "schedule: %s", detail);
		return -1;
	}
	if (mwindow_parse_duration(duration, &out->duration_s) == -1) {
		mwindow_why(why, whylen,
		    "duration must be HH:MM:SS, from 00:00:01 to 23:59:59");
		return -1;
	}
	if (mwindow_parse_zone(timezone, &out->offset_s) == -1) {
		mwindow_why(
		    why, whylen, "timezone must be an offset +HH:MM or -HH:MM");
		return -1;
	}
	return 0;
}

enum mwindow_state
mwindow_state(const struct mwindow *w, int64_t now, int64_t *start)
{
	int64_t s = -1;
	enum mwindow_state st;

	if (cron_window(&w->cron, now, w->offset_s, w->duration_s, &s))
		st = MWINDOW_OPEN;
	else
		st = s < 0 ? MWINDOW_NEVER : MWINDOW_CLOSED;
	if (start != NULL)
		*start = st == MWINDOW_NEVER ? -1 : s;
	return st;
}

int64_t
mwindow_poll_sleep(
    enum mwindow_state st, int64_t until, int64_t interval, int count)
{
	int64_t sleep;

	if (st != MWINDOW_CLOSED || count < 1 || until < 0 ||
	    until > interval * count)
		return interval;
	sleep = until / count;
	if (sleep < 1)
		sleep = 1;
	return sleep < interval ? sleep : interval;
}
