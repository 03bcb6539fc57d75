/*
 * libFuzzer target for mwindow.c.  The input's first three lines are a
 * schedule, a duration and a time zone; bytes after them pick the times
 * to look from.  A parsed window must be open exactly when its start is
 * at or before the time and less than the duration ago, a closed one
 * must open at its start, a window that never opens again has no start,
 * and the shorter polling stays between 1 s and the interval.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwindow.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end) as a new string; *p moves past it. */
static char *
next_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = xstrndup((const char *)*p, n);

	*p = nl ? nl + 1 : end;
	return s;
}

static void
check_at(const struct mwindow *w, int64_t now)
{
	int64_t start = 0;
	enum mwindow_state st = mwindow_state(w, now, &start);

	switch (st) {
	case MWINDOW_OPEN:
		if (start > now || now >= start + w->duration_s ||
		    !cron_matches(&w->cron, start, w->offset_s))
			abort();
		break;
	case MWINDOW_CLOSED:
		if (start <= now ||
		    !cron_matches(&w->cron, start, w->offset_s) ||
		    mwindow_state(w, start, NULL) != MWINDOW_OPEN)
			abort();
		if (mwindow_poll_sleep(st, start - now, 300, 3) < 1 ||
		    mwindow_poll_sleep(st, start - now, 300, 3) > 300)
			abort();
		break;
	case MWINDOW_NEVER:
		if (start != -1)
			abort();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 2026-12-01 and spots near the ends of the supported range. */
	static const int64_t bases[] = {1796083200, 0, 4102444800 - 7200};
	const uint8_t *p = data, *end = data + size;
	char *schedule = next_line(&p, end);
	char *duration = next_line(&p, end);
	char *zone = next_line(&p, end);
	struct mwindow w;
	char why[128];

	if (mwindow_parse(schedule, duration, zone, &w, why, sizeof(why)) !=
	    0) {
		if (why[0] == '\0' || !utf8_valid(why, strlen(why)))
			abort();
		goto done;
	}
	if (w.duration_s < 1 || w.duration_s > 86399)
		abort();
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		int64_t now = bases[i];

		if (p + 4 <= end) {
			now += (int64_t)((uint32_t)p[0] << 24 |
			                 (uint32_t)p[1] << 16 |
			                 (uint32_t)p[2] << 8 | p[3]);
			p += 4;
		}
		check_at(&w, now);
	}
done:
	free(schedule);
	free(duration);
	free(zone);
	return 0;
}
