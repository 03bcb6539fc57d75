/*
 * Maintenance windows as hawkBit's assignments carry them: a Quartz cron
 * schedule giving the times a window opens, a duration "HH:MM:SS" it
 * stays open, and the time zone the schedule is read in, a fixed offset
 * "+HH:MM" ("Z", "UTC" and "GMT" are +00:00).  Open at t when some fire
 * time s has s <= t < s + duration.  Pure, on top of cron.h: no clock,
 * no globals.
 */
#ifndef MWINDOW_H
#define MWINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"

#define MWINDOW_DURATION_MAX 16 /* bytes of "HH:MM:SS" and a NUL */
#define MWINDOW_TIMEZONE_MAX 16

struct mwindow {
	struct cron cron;
	int offset_s;       /* seconds east of UTC */
	int64_t duration_s; /* 1 .. 23:59:59 */
};

enum mwindow_state {
	MWINDOW_OPEN,   /* open now; start is when it opened */
	MWINDOW_CLOSED, /* closed; start is when the next one opens */
	MWINDOW_NEVER,  /* closed, and no window opens any more */
};

/*
 * Parse the three parts.  0, or -1 with why (whylen bytes, may be NULL)
 * saying which part is wrong.
 */
int mwindow_parse(const char *schedule, const char *duration,
    const char *timezone, struct mwindow *out, char *why, size_t whylen);

/* The window's state at now (unix seconds), and in *start (may be NULL)
 * the opening it is in or the next one (-1 with MWINDOW_NEVER). */
enum mwindow_state mwindow_state(
    const struct mwindow *, int64_t now, int64_t *start);

/*
 * hawkBit's shorter polling before a window opens: with the window
 * opening in `until` seconds and the device polling every `interval`,
 * the sleep that makes it poll about `count` times before the opening
 * (at least 1 s), or `interval` itself when the opening is further than
 * count intervals away or the window is not closed.
 */
int64_t mwindow_poll_sleep(
    enum mwindow_state, int64_t until, int64_t interval, int count);

#endif
