/*
 * Request counters.  Durations go into a fixed histogram (seconds) per
 * route, the Prometheus way: cumulative buckets, a sum and a count.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

static const double metrics_bounds[] = {0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10};
#define METRICS_NBUCKETS (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

struct metrics_route {
	atomic_uint_fast64_t count, bytes, micros;
	atomic_uint_fast64_t buckets[METRICS_NBUCKETS];
};

struct metrics {
	size_t nroutes;
	struct metrics_route *r; /* nroutes + 1: the last is "unmatched" */
};

struct metrics *
metrics_new(size_t n)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->nroutes = n;
	m->r = xcalloc(n + 1, sizeof(*m->r));
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->r);
	free(m);
}

void
metrics_observe(struct metrics *m, size_t r, double seconds, uint64_t bytes)
{
	struct metrics_route *mr;

	if (m == NULL)
		return;
	mr = &m->r[r < m->nroutes ? r : m->nroutes];
	atomic_fetch_add(&mr->count, 1);
	atomic_fetch_add(&mr->bytes, bytes);
	atomic_fetch_add(&mr->micros, (uint64_t)(seconds * 1e6));
	for (size_t i = 0; i < METRICS_NBUCKETS; i++)
		if (seconds <= metrics_bounds[i])
			atomic_fetch_add(&mr->buckets[i], 1);
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
	metrics_printf(buf, len,
	    "# HELP falconet_http_requests_total Requests answered, by route.\n"
	    "# TYPE falconet_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *meth = i < m->nroutes ? routes[i].method : "";
		const char *pat =
		    i < m->nroutes ? routes[i].pattern : "unmatched";

		metrics_printf(buf, len,
		    "falconet_http_requests_total{method=\"%s\",route=\"%s\"} "
		    "%llu\n",
		    meth, pat, (unsigned long long)atomic_load(&m->r[i].count));
	}
	metrics_printf(buf, len,
	    "# HELP falconet_http_response_bytes_total Body bytes sent, by "
	    "route.\n# TYPE falconet_http_response_bytes_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++)
		metrics_printf(buf, len,
		    "falconet_http_response_bytes_total{method=\"%s\","
		    "route=\"%s\"} %llu\n",
		    i < m->nroutes ? routes[i].method : "",
		    i < m->nroutes ? routes[i].pattern : "unmatched",
		    (unsigned long long)atomic_load(&m->r[i].bytes));
	metrics_printf(buf, len,
	    "# HELP falconet_http_request_duration_seconds Time to answer, by "
	    "route.\n# TYPE falconet_http_request_duration_seconds "
	    "histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *meth = i < m->nroutes ? routes[i].method : "";
		const char *pat =
		    i < m->nroutes ? routes[i].pattern : "unmatched";
		uint64_t count = atomic_load(&m->r[i].count);

		if (count == 0)
			continue;
		for (size_t b = 0; b < METRICS_NBUCKETS; b++)
			metrics_printf(buf, len,
			    "falconet_http_request_duration_seconds_bucket{"
			    "method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
			    meth, pat, metrics_bounds[b],
			    (unsigned long long)atomic_load(
			        &m->r[i].buckets[b]));
		metrics_printf(buf, len,
		    "falconet_http_request_duration_seconds_bucket{method="
		    "\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n"
		    "falconet_http_request_duration_seconds_sum{method=\"%s\","
		    "route=\"%s\"} %.6f\n"
		    "falconet_http_request_duration_seconds_count{method="
		    "\"%s\",route=\"%s\"} %llu\n",
		    meth, pat, (unsigned long long)count, meth, pat,
		    (double)atomic_load(&m->r[i].micros) / 1e6, meth, pat,
		    (unsigned long long)count);
	}
}
