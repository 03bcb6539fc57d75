/*
 * Counters for /metrics (Prometheus text format): requests and their
 * durations per route, polls, downloads and bytes sent.  Lock-free: each
 * counter is an atomic updated when a request completes.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;

struct metrics *metrics_new(size_t n);
void metrics_free(struct metrics *);
/* Count one finished request of route index r (nroutes = unmatched). */
void metrics_observe(
    struct metrics *, size_t r, double seconds, uint64_t bytes);
/*
 * Append the counters in Prometheus text format to *buf (a string the
 * caller frees), one series per route with its method and pattern.
 */
void metrics_render(struct metrics *, char **buf, size_t *len);

#endif
