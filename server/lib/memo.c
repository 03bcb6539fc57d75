/*
 * The memo: one value, its time, and whether a caller is computing the
 * next, under a mutex; callers with nothing to give wait on a condition.
 */
#include "memo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct memo {
	pthread_mutex_t lock;
	pthread_cond_t done; /* a computation ended */
	int64_t ttl_ms;
	char *text; /* the value, or NULL */
	size_t len;
	int64_t at_ms;  /* when it was computed (monotonic) */
	bool computing; /* a caller is filling */
};

static int64_t
memo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct memo *
memo_new(int64_t ttl_ms)
{
	struct memo *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->done, NULL);
	m->ttl_ms = ttl_ms;
	return m;
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	pthread_cond_destroy(&m->done);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}

static char *
memo_copy(const struct memo *m, size_t *len)
{
	char *c = xmalloc(m->len + 1);

	memcpy(c, m->text, m->len);
	c[m->len] = '\0';
	*len = m->len;
	return c;
}

char *
memo_get(struct memo *m, memo_fill_fn *fill, void *arg, size_t *len)
{
	char *text, *copy = NULL;
	size_t n = 0;

	if (m == NULL)
		return fill(arg, len);
	pthread_mutex_lock(&m->lock);
	for (;;) {
		if (m->text && memo_now() - m->at_ms < m->ttl_ms)
			goto give; /* fresh */
		if (!m->computing)
			break; /* ours to compute */
		if (m->text)
			goto give; /* stale, while another computes */
		pthread_cond_wait(&m->done, &m->lock);
	}
	m->computing = true;
	pthread_mutex_unlock(&m->lock);
	text = fill(arg, &n);
	pthread_mutex_lock(&m->lock);
	m->computing = false;
	if (text) {
		free(m->text);
		m->text = text;
		m->len = n;
		m->at_ms = memo_now();
	}
	pthread_cond_broadcast(&m->done);
	if (m->text == NULL) {
		pthread_mutex_unlock(&m->lock);
		return NULL;
	}
give:
	copy = memo_copy(m, len);
	pthread_mutex_unlock(&m->lock);
	return copy;
}
