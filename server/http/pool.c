/*
 * The worker pool: a ring of waiting jobs under one mutex, threads that
 * take them in order.  Each thread lowers its own priority first: Linux
 * keeps a nice value per thread, so setpriority on the thread's id leaves
 * the rest of the process alone.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct pool_job {
	pool_job_fn *run;
	void *arg;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job waits, or the pool stops */
	struct pool_job *ring;
	int cap, head, count; /* waiting jobs: ring[head..head+count) */
	bool stopping;
	pthread_t threads[POOL_THREADS_MAX];
	int nthreads;
	char name[16];
};

static void *
pool_main(void *arg)
{
	struct pool *p = arg;
	struct pool_job job;

	errno = 0;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(),
	        getpriority(PRIO_PROCESS, (id_t)gettid()) + POOL_NICE) == -1)
		log_warn("%s: setpriority", p->name);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->count == 0)
			break; /* stopping, and nothing left to run */
		job = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_mutex_unlock(&p->lock);
		job.run(job.arg, false);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *
pool_start(const char *name, int threads, int queue_max)
{
	struct pool *p;

	if (threads < 1 || threads > POOL_THREADS_MAX || queue_max < 1) {
		log_warnx("%s: %d threads, %d queued: out of range", __func__,
		    threads, queue_max);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->cap = queue_max;
	p->ring = xcalloc((size_t)queue_max, sizeof(*p->ring));
	snprintf(p->name, sizeof(p->name), "%s", name);
	for (int i = 0; i < threads; i++) {
		char tname[16];
		int e;

		if ((e = pthread_create(&p->threads[i], NULL, pool_main, p))) {
			errno = e;
			log_warn("%s: pthread_create", __func__);
			pool_free(p);
			return NULL;
		}
		p->nthreads++;
		snprintf(tname, sizeof(tname), "%.10s-%d", name, i + 1);
		pthread_setname_np(p->threads[i], tname);
	}
	return p;
}

int
pool_submit(struct pool *p, pool_job_fn *run, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->count < p->cap) {
		p->ring[(p->head + p->count) % p->cap] =
		    (struct pool_job){.run = run, .arg = arg};
		p->count++;
		pthread_cond_signal(&p->work);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void
pool_stop(struct pool *p)
{
	struct pool_job *left;
	int n;

	if (p == NULL)
		return;
	/* Take the waiting jobs out, so no thread starts them. */
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	n = p->count;
	left = xcalloc((size_t)n + 1, sizeof(*left));
	for (int i = 0; i < n; i++)
		left[i] = p->ring[(p->head + i) % p->cap];
	p->count = 0;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < n; i++)
		left[i].run(left[i].arg, true);
	free(left);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pool_stop(p);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p);
}
