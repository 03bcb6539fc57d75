/*
 * How many of a rollout's pending devices another rollout (or a move off
 * its feed) has taken over: WAVE_SUPERSEDED, counted per group.  Counting
 * reads every pending row of the rollout, which for a rollout over
 * 1,000,000 devices takes seconds; such counts are kept here and
 * recounted in the background while somebody reads them, so that a
 * rollout list stays fast at any fleet size.
 */
#ifndef SUPERSEDED_H
#define SUPERSEDED_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Up to this many pending devices, a rollout is counted on every read. */
#define SUPERSEDED_DIRECT_MAX 4096
/* Kept counts are recounted when older than this... */
#define SUPERSEDED_TTL_MS 5000
/* ...and only while read within this long. */
#define SUPERSEDED_WANTED_MS 60000

struct superseded_count {
	int64_t group_id, count;
};

/*
 * The superseded devices of rollout_id's groups into out (at most max
 * entries, groups without any left out); returns the number of entries.
 * pending: the rollout's pending devices by its groups' counters.  A
 * rollout with more than SUPERSEDED_DIRECT_MAX pending devices is counted
 * by its first reader and then read from what was kept, at most
 * SUPERSEDED_TTL_MS plus a recount old.
 */
size_t superseded_counts(struct db *, int64_t rollout_id, int64_t pending,
    struct superseded_count *out, size_t max);

/* From the main loop, once a second: recount the kept rollout that is
 * still read and whose counts are the oldest past SUPERSEDED_TTL_MS. */
void superseded_tick(struct db *);

#endif
