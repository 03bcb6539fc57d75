/*
 * A text computed at most once per interval, however many threads ask:
 * the answers of /api/v1/stats and /metrics' gauges, which scan the
 * fleet.  While one caller computes a new value the others get the last
 * one; only when there is none yet do they wait for it.
 */
#ifndef MEMO_H
#define MEMO_H

#include <stddef.h>
#include <stdint.h>

struct memo;

/* Compute a new value: a malloc'd text and its length, or NULL. */
typedef char *memo_fill_fn(void *arg, size_t *len);

struct memo *memo_new(int64_t ttl_ms);
void memo_free(struct memo *);
/*
 * A copy of the value (the caller frees it) and its length in *len.  If it
 * is older than the interval, or there is none, one caller runs fill(arg).
 * NULL if fill failed and there is no value to give (a NULL memo just
 * runs fill).
 */
char *memo_get(struct memo *, memo_fill_fn *fill, void *arg, size_t *len);

#endif
