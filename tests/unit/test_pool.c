/*
 * Unit tests for the management pool (server/http/pool.c) and the memo
 * (server/lib/memo.c).  The pool runs every job it accepts, refuses one
 * over its queue, and when stopped cancels the jobs still waiting while
 * it lets the running ones finish.  The memo computes a value once for
 * many callers at once, gives the cached one within its interval and the
 * stale one while another caller computes, and keeps no failed value.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "memo.h"
#include "pool.h"
#include "util.h"

static atomic_int ran, canceled;

static void
job_count(void *arg, bool was_canceled)
{
	(void)arg;
	atomic_fetch_add(was_canceled ? &canceled : &ran, 1);
}

/* A job that holds its thread until *gate is set. */
static void
job_wait(void *arg, bool was_canceled)
{
	atomic_bool *gate = arg;

	if (!was_canceled)
		while (!atomic_load(gate))
			usleep(1000);
	atomic_fetch_add(was_canceled ? &canceled : &ran, 1);
}

static void
test_pool_runs_jobs(void **state)
{
	struct pool *p = pool_start("t", 3, 1000);

	(void)state;
	atomic_store(&ran, 0);
	atomic_store(&canceled, 0);
	assert_non_null(p);
	for (int i = 0; i < 500; i++)
		assert_int_equal(pool_submit(p, job_count, NULL), 0);
	for (int i = 0; i < 5000 && atomic_load(&ran) < 500; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&ran), 500);
	pool_stop(p);
	assert_int_equal(pool_submit(p, job_count, NULL), -1);
	pool_free(p);
	assert_int_equal(atomic_load(&canceled), 0);
}

static void
test_pool_queue_full_and_stop(void **state)
{
	struct pool *p = pool_start("t", 1, 2);
	atomic_bool gate = false;

	(void)state;
	atomic_store(&ran, 0);
	atomic_store(&canceled, 0);
	assert_non_null(p);
	/* One runs (and waits at the gate), two wait in the queue. */
	assert_int_equal(pool_submit(p, job_wait, &gate), 0);
	for (int i = 0; i < 100; i++)
		usleep(1000); /* the thread takes the first job */
	assert_int_equal(pool_submit(p, job_wait, &gate), 0);
	assert_int_equal(pool_submit(p, job_wait, &gate), 0);
	assert_int_equal(pool_submit(p, job_count, NULL), -1);
	atomic_store(&gate, true);
	pool_free(p);
	/* The running one finished; the waiting ones ran or were canceled,
	 * each exactly once. */
	assert_true(atomic_load(&ran) >= 1);
	assert_int_equal(atomic_load(&ran) + atomic_load(&canceled), 3);
}

static void *
stop_pool(void *p)
{
	pool_stop(p);
	return NULL;
}

static void
test_pool_stop_cancels_waiting(void **state)
{
	struct pool *p = pool_start("t", 1, 8);
	atomic_bool gate = false;
	pthread_t t;

	(void)state;
	atomic_store(&ran, 0);
	atomic_store(&canceled, 0);
	assert_int_equal(pool_submit(p, job_wait, &gate), 0);
	usleep(100000);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pool_submit(p, job_count, NULL), 0);
	/* Stop while the first job still runs: the five are canceled, and
	 * pool_stop waits for the first. */
	pthread_create(&t, NULL, stop_pool, p);
	usleep(100000);
	assert_int_equal(atomic_load(&canceled), 5);
	assert_int_equal(atomic_load(&ran), 0);
	atomic_store(&gate, true);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&ran), 1);
	pool_free(p);
}

static void
test_pool_bounds(void **state)
{
	(void)state;
	assert_null(pool_start("t", 0, 1));
	assert_null(pool_start("t", POOL_THREADS_MAX + 1, 1));
	assert_null(pool_start("t", 1, 0));
	pool_stop(NULL);
	pool_free(NULL);
}

/* The memo's fill: counts its calls, takes a while, can fail. */
static atomic_int fills;
static atomic_bool fill_fails;

static char *
fill(void *arg, size_t *len)
{
	int n = atomic_fetch_add(&fills, 1) + 1;
	char *s;

	(void)arg;
	usleep(50000);
	if (atomic_load(&fill_fails))
		return NULL;
	s = xasprintf("value %d", n);
	*len = strlen(s);
	return s;
}

static void *
get_one(void *m)
{
	size_t len;

	return memo_get(m, fill, NULL, &len);
}

static void
test_memo_once_for_many(void **state)
{
	struct memo *m = memo_new(60000);
	pthread_t t[16];
	char *v;
	size_t len;

	(void)state;
	atomic_store(&fills, 0);
	atomic_store(&fill_fails, false);
	for (int i = 0; i < 16; i++)
		pthread_create(&t[i], NULL, get_one, m);
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], (void **)&v);
		assert_string_equal(v, "value 1");
		free(v);
	}
	assert_int_equal(atomic_load(&fills), 1);
	v = memo_get(m, fill, NULL, &len);
	assert_string_equal(v, "value 1");
	assert_int_equal(len, 7);
	free(v);
	assert_int_equal(atomic_load(&fills), 1);
	memo_free(m);
}

static void
test_memo_expires_and_serves_stale(void **state)
{
	struct memo *m = memo_new(100);
	pthread_t a, b;
	char *va, *vb;
	size_t len;

	(void)state;
	atomic_store(&fills, 0);
	atomic_store(&fill_fails, false);
	free(memo_get(m, fill, NULL, &len));
	usleep(150000);
	/* a computes "value 2"; b, meanwhile, gets "value 1" at once. */
	pthread_create(&a, NULL, get_one, m);
	usleep(10000);
	pthread_create(&b, NULL, get_one, m);
	pthread_join(b, (void **)&vb);
	pthread_join(a, (void **)&va);
	assert_string_equal(vb, "value 1");
	assert_string_equal(va, "value 2");
	free(va);
	free(vb);
	assert_int_equal(atomic_load(&fills), 2);
	memo_free(m);
}

static void
test_memo_failure(void **state)
{
	struct memo *m = memo_new(100);
	size_t len;
	char *v;

	(void)state;
	atomic_store(&fills, 0);
	atomic_store(&fill_fails, true);
	assert_null(memo_get(m, fill, NULL, &len));
	atomic_store(&fill_fails, false);
	v = memo_get(m, fill, NULL, &len); /* nothing kept: computed again */
	assert_string_equal(v, "value 2");
	free(v);
	usleep(150000);
	atomic_store(&fill_fails, true);
	v = memo_get(m, fill, NULL, &len); /* failed: the last value */
	assert_string_equal(v, "value 2");
	free(v);
	memo_free(m);
	/* No memo: fill every time. */
	atomic_store(&fill_fails, false);
	v = memo_get(NULL, fill, NULL, &len);
	assert_string_equal(v, "value 4");
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pool_runs_jobs),
	    cmocka_unit_test(test_pool_queue_full_and_stop),
	    cmocka_unit_test(test_pool_stop_cancels_waiting),
	    cmocka_unit_test(test_pool_bounds),
	    cmocka_unit_test(test_memo_once_for_many),
	    cmocka_unit_test(test_memo_expires_and_serves_stale),
	    cmocka_unit_test(test_memo_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
