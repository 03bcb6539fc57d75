/*
 * Request counters.  Durations go into a fixed histogram (seconds) per
 * route, the Prometheus way: cumulative buckets, a sum and a count.
 *
 * Every request updates its route's counters, so each thread counts in a
 * shard of its own (threads sharing counters would pass their cache lines
 * back and forth on every request), and a request adds to one bucket only:
 * /metrics sums the shards and makes the buckets cumulative.
 */
#include "metrics.h"

#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

static const double metrics_bounds[] = {0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10};
#define METRICS_NBUCKETS (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

#define METRICS_SHARDS 16

struct metrics_route {
	atomic_uint_fast64_t count, bytes, micros;
	atomic_uint_fast64_t buckets[METRICS_NBUCKETS];
} __attribute__((aligned(64)));

/* A route's counters summed over the shards. */
struct metrics_total {
	uint64_t count, bytes, micros;
	uint64_t buckets[METRICS_NBUCKETS]; /* cumulative */
};

struct metrics {
	size_t nroutes;
	/* Per shard, nroutes + 1 routes: the last is "unmatched". */
	struct metrics_route *shard[METRICS_SHARDS];
	atomic_uint next_shard;
};

struct metrics *
metrics_new(size_t n)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->nroutes = n;
	for (size_t s = 0; s < METRICS_SHARDS; s++)
		m->shard[s] = xcalloc(n + 1, sizeof(*m->shard[s]));
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t s = 0; s < METRICS_SHARDS; s++)
		free(m->shard[s]);
	free(m);
}

void
metrics_observe(struct metrics *m, size_t r, double seconds, uint64_t bytes)
{
	static _Thread_local unsigned shard = UINT_MAX;
	struct metrics_route *mr;
	size_t b;

	if (m == NULL)
		return;
	if (shard == UINT_MAX)
		shard = atomic_fetch_add(&m->next_shard, 1) % METRICS_SHARDS;
	mr = &m->shard[shard][r < m->nroutes ? r : m->nroutes];
	atomic_fetch_add_explicit(&mr->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mr->bytes, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &mr->micros, (uint64_t)(seconds * 1e6), memory_order_relaxed);
	for (b = 0; b < METRICS_NBUCKETS && seconds > metrics_bounds[b]; b++)
		;
	if (b < METRICS_NBUCKETS)
		atomic_fetch_add_explicit(
		    &mr->buckets[b], 1, memory_order_relaxed);
}

static void
metrics_sum(struct metrics *m, size_t r, struct metrics_total *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t s = 0; s < METRICS_SHARDS; s++) {
		struct metrics_route *mr = &m->shard[s][r];

		t->count += atomic_load(&mr->count);
		t->bytes += atomic_load(&mr->bytes);
		t->micros += atomic_load(&mr->micros);
		for (size_t b = 0; b < METRICS_NBUCKETS; b++)
			t->buckets[b] += atomic_load(&mr->buckets[b]);
	}
	for (size_t b = 1; b < METRICS_NBUCKETS; b++)
		t->buckets[b] += t->buckets[b - 1];
}

static void metrics_printf(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
metrics_printf(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*buf = xrealloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, s, (size_t)n + 1);
	*len += (size_t)n;
	free(s);
}

void
metrics_render(struct metrics *m, char **buf, size_t *len)
{
	struct metrics_total t;

	metrics_printf(buf, len,
	    "# HELP falconet_http_requests_total Requests answered, by route.\n"
	    "# TYPE falconet_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *meth = i < m->nroutes ? routes[i].method : "";
		const char *pat =
		    i < m->nroutes ? routes[i].pattern : "unmatched";

		metrics_sum(m, i, &t);
		metrics_printf(buf, len,
		    "falconet_http_requests_total{method=\"%s\",route=\"%s\"} "
		    "%llu\n",
		    meth, pat, (unsigned long long)t.count);
	}
	metrics_printf(buf, len,
	    "# HELP falconet_http_response_bytes_total Body bytes sent, by "
	    "route.\n# TYPE falconet_http_response_bytes_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		metrics_sum(m, i, &t);
		metrics_printf(buf, len,
		    "falconet_http_response_bytes_total{method=\"%s\","
		    "route=\"%s\"} %llu\n",
		    i < m->nroutes ? routes[i].method : "",
		    i < m->nroutes ? routes[i].pattern : "unmatched",
		    (unsigned long long)t.bytes);
	}
	metrics_printf(buf, len,
	    "# HELP falconet_http_request_duration_seconds Time to answer, by "
	    "route.\n# TYPE falconet_http_request_duration_seconds "
	    "histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *meth = i < m->nroutes ? routes[i].method : "";
		const char *pat =
		    i < m->nroutes ? routes[i].pattern : "unmatched";
		uint64_t count;

		metrics_sum(m, i, &t);
		if ((count = t.count) == 0)
			continue;
		for (size_t b = 0; b < METRICS_NBUCKETS; b++)
			metrics_printf(buf, len,
			    "falconet_http_request_duration_seconds_bucket{"
			    "method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
			    meth, pat, metrics_bounds[b],
			    (unsigned long long)t.buckets[b]);
		metrics_printf(buf, len,
		    "falconet_http_request_duration_seconds_bucket{method="
		    "\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n"
		    "falconet_http_request_duration_seconds_sum{method=\"%s\","
		    "route=\"%s\"} %.6f\n"
		    "falconet_http_request_duration_seconds_count{method="
		    "\"%s\",route=\"%s\"} %llu\n",
		    meth, pat, (unsigned long long)count, meth, pat,
		    (double)t.micros / 1e6, meth, pat,
		    (unsigned long long)count);
	}
}
