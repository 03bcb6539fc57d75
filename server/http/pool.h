/*
 * A small pool of worker threads with a bounded queue.  http.c hands it
 * the management requests that must not run on the threads answering
 * devices: password hashing and fleet-wide queries.  Its threads run at a
 * lower priority (nice), so when they compete with the device threads for
 * the CPU, the devices win.  Knows nothing of HTTP.
 */
#ifndef POOL_H
#define POOL_H

#include <stdbool.h>

#define POOL_THREADS_MAX 16
#define POOL_NICE 10 /* added to the pool threads' nice value */

struct pool;

/*
 * A job.  A pool thread calls run(arg, false); pool_stop calls run(arg,
 * true) for a job still waiting, which should then answer without doing
 * the work.
 */
typedef void pool_job_fn(void *arg, bool canceled);

/* Start `threads` (1..POOL_THREADS_MAX) threads named name-1, name-2...
 * with room for queue_max waiting jobs.  NULL on failure (logged). */
struct pool *pool_start(const char *name, int threads, int queue_max);
/*
 * Queue run(arg) for a pool thread.  0, or -1 when queue_max jobs are
 * already waiting or the pool is stopping: the caller still owns arg.
 */
int pool_submit(struct pool *, pool_job_fn *run, void *arg);
/* Cancel the waiting jobs, wait for the running ones and join the
 * threads; pool_submit fails from then on.  NULL is allowed. */
void pool_stop(struct pool *);
/* Free a stopped pool, once nothing can call pool_submit.  NULL ok. */
void pool_free(struct pool *);

#endif
