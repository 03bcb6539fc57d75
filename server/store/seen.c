/*
 * The last-seen writer.  Pending entries live in an open-addressing hash
 * table keyed by device id (a device polled twice within a second costs one
 * UPDATE).  The flusher swaps the table out under the lock and writes it
 * without holding the lock, so pollers never wait for SQLite.  The same
 * thread marks actions stale that have had no feedback for the stale
 * timeout (they stop counting against the update limits).
 */
#include "seen.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "util.h"

#define SEEN_SLOTS_MIN 256
#define SEEN_ADDR_MAX 48    /* an IPv6 address in text is at most 45 */
#define SEEN_STALE_EVERY 15 /* seconds between stale sweeps */

/* One cache line: with a million devices the table is megabytes, and
 * every poll touches one slot at random. */
struct seen_entry {
	int64_t device_id; /* 0 = empty slot */
	int64_t at;
	char addr[SEEN_ADDR_MAX];
};

struct seen_table {
	struct seen_entry *slots;
	size_t nslots, used;
};

struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	struct seen_table cur;
	struct seen_table spare; /* the flusher's: cleared, to swap in */
	char *db_path;
	int stale_timeout;
};

static void
seen_table_init(struct seen_table *t, size_t nslots)
{
	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->nslots = nslots;
	t->used = 0;
}

static void
seen_table_put(struct seen_table *t, int64_t id, int64_t at, const char *addr)
{
	size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 20) &
	           (t->nslots - 1);
	struct seen_entry *e;
	size_t n;

	while (t->slots[i].device_id != 0 && t->slots[i].device_id != id)
		i = (i + 1) & (t->nslots - 1);
	e = &t->slots[i];
	if (e->device_id == 0)
		t->used++;
	e->device_id = id;
	e->at = at;
	n = addr ? strnlen(addr, SEEN_ADDR_MAX - 1) : 0;
	if (n > 0)
		memcpy(e->addr, addr, n);
	e->addr[n] = '\0';
}

/* Double the table when it is over half full. */
static void
seen_table_grow(struct seen_table *t)
{
	struct seen_table n;

	seen_table_init(&n, t->nslots * 2);
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].device_id != 0)
			seen_table_put(&n, t->slots[i].device_id,
			    t->slots[i].at, t->slots[i].addr);
	free(t->slots);
	*t = n;
}

void
seen_note(struct seen *s, int64_t device_id, const char *address)
{
	if (s == NULL || device_id <= 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->cur.used * 2 >= s->cur.nslots)
		seen_table_grow(&s->cur);
	seen_table_put(&s->cur, device_id, now_s(), address);
	pthread_mutex_unlock(&s->lock);
}

static int
seen_entry_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct seen_entry *)a)->device_id;
	int64_t y = ((const struct seen_entry *)b)->device_id;

	return (x > y) - (x < y);
}

/* One device's last contact: an UPDATE of its row, which needs no
 * foreign-key check, or on first contact an INSERT, unless the device has
 * been deleted since its poll. */
static int
seen_write_one(struct db *db, const struct seen_entry *e)
{
	static const char update[] =
	    "UPDATE device_seen SET at = ?1, address = ?2 WHERE device_id = ?3";
	static const char insert[] =
	    "INSERT INTO device_seen (device_id, at, address) "
	    "SELECT ?3, ?1, ?2 WHERE EXISTS (SELECT 1 FROM device WHERE "
	    "id = ?3)";
	const char *sql = update;
	sqlite3_stmt *st;
	int rc;

	for (;;) {
		if ((st = db_prepare(db, sql)) == NULL)
			return -1;
		db_bind_int64(st, 1, e->at);
		db_bind_text(st, 2, e->addr[0] ? e->addr : NULL);
		db_bind_int64(st, 3, e->device_id);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE) {
			db_log_error(db, __func__);
			return -1;
		}
		if (sql == insert || sqlite3_changes(db_handle(db)) > 0)
			return 0;
		sql = insert;
	}
}

/*
 * Write a swapped-out table in one transaction.  The entries are packed
 * to the front and sorted by device id first: in key order, consecutive
 * rows share B-tree pages, which a flush of tens of thousands of devices
 * in hash order would touch at random.
 */
static int
seen_write(struct db *db, struct seen_table *t)
{
	size_t n = 0;

	if (t->used == 0)
		return 0;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].device_id != 0)
			t->slots[n++] = t->slots[i];
	qsort(t->slots, n, sizeof(*t->slots), seen_entry_cmp);
	if (db_begin(db) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (seen_write_one(db, &t->slots[i]) == -1) {
			db_rollback(db);
			return -1;
		}
	return db_commit(db);
}

static void
seen_mark_stale(struct db *db, int timeout)
{
	static const char sql[] =
	    "UPDATE action SET stale = 1 WHERE stale = 0 AND status IN "
	    "('scheduled', 'running', 'canceling') AND updated_at < ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int n;

	if (st == NULL)
		return;
	db_bind_int64(st, 1, now_s() - timeout);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_log_error(db, __func__);
	else if ((n = sqlite3_changes(db_handle(db))) > 0)
		log_info("%d update(s) had no feedback for %d s and no "
		         "longer count against the limits",
		    n, timeout);
	db_done(st);
}

/*
 * Swap out the pending table and write it.  Called by the flusher only.
 * The written table is cleared and kept as the next spare: a fresh calloc
 * of megabytes every second would fault its pages in again under the
 * pollers.  It shrinks when it was mostly empty.
 */
static int
seen_flush_locked_out(struct seen *s, struct db *db)
{
	struct seen_table t;
	int rc;

	pthread_mutex_lock(&s->lock);
	t = s->cur;
	s->cur = s->spare;
	pthread_mutex_unlock(&s->lock);
	rc = seen_write(db, &t);
	/* Polls keep readers active all the time, so the automatic
	 * checkpoint rarely finds a moment to reset the WAL: try after
	 * every flush, without waiting for readers. */
	if (t.used > 0)
		db_checkpoint(db);
	if (t.nslots > SEEN_SLOTS_MIN && t.used * 8 < t.nslots) {
		free(t.slots);
		seen_table_init(&s->spare, t.nslots / 2);
	} else {
		memset(t.slots, 0, t.nslots * sizeof(*t.slots));
		t.used = 0;
		s->spare = t;
	}
	return rc;
}

static void *
seen_main(void *arg)
{
	struct seen *s = arg;
	struct db *db = db_open(s->db_path);
	int64_t last_sweep = 0;
	struct timespec ts;

	if (db == NULL)
		fatalx("%s: cannot open the database", __func__);
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
		seen_flush_locked_out(s, db);
		db_checkpoint_if_due(db);
		if (now_s() - last_sweep >= SEEN_STALE_EVERY) {
			seen_mark_stale(db, s->stale_timeout);
			last_sweep = now_s();
		}
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	seen_flush_locked_out(s, db);
	db_close(db);
	return NULL;
}

struct seen *
seen_start(const char *db_path, int stale_timeout)
{
	struct seen *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	seen_table_init(&s->cur, SEEN_SLOTS_MIN);
	seen_table_init(&s->spare, SEEN_SLOTS_MIN);
	s->db_path = xstrdup(db_path);
	s->stale_timeout = stale_timeout;
	db_checkpoint_background(true);
	if (pthread_create(&s->thread, NULL, seen_main, s) != 0) {
		db_checkpoint_background(false);
		log_warnx("%s: pthread_create failed", __func__);
		free(s->cur.slots);
		free(s->spare.slots);
		free(s->db_path);
		free(s);
		return NULL;
	}
	return s;
}

void
seen_stop(struct seen *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	db_checkpoint_background(false);
	free(s->cur.slots);
	free(s->spare.slots);
	free(s->db_path);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
