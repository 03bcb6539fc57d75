/*
 * Superseded counts of rollouts: see superseded.h.  Large rollouts' counts
 * live in a small table of slots under one lock; a slot is given to the
 * rollout read least recently when the table is full.  Nothing here runs
 * inside a write transaction: a recount is one read.
 */
#include "superseded.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "db.h"
#include "util.h"
#include "wave.h"

#define SUPERSEDED_SLOTS 32

struct superseded_slot {
	int64_t rollout_id; /* 0: free */
	int64_t counted_ms; /* when its counts were taken; 0: being taken */
	int64_t read_ms;    /* when somebody last read them */
	bool busy;          /* a recount is under way */
	size_t n;
	struct superseded_count c[WAVE_GROUPS_MAX];
};

static pthread_mutex_t superseded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct superseded_slot superseded_slots[SUPERSEDED_SLOTS];

/* Count rollout_id's superseded devices per group: one read of its
 * pending rows, by index. */
static size_t
superseded_count(
    struct db *db, int64_t rollout_id, struct superseded_count *out, size_t max)
{
	static const char sql[] =
	    "SELECT t.group_id, count(*) FROM rollout_group g JOIN "
	    "rollout_target t ON t.group_id = g.id AND t.state = 'pending' "
	    "JOIN rollout r ON r.id = t.rollout_id JOIN device dv ON dv.id = "
	    "t.device_id WHERE g.rollout_id = ?1 AND " WAVE_SUPERSEDED
	    " GROUP BY t.group_id";
	sqlite3_stmt *st = db_prepare(db, sql);
	size_t n = 0;

	if (st == NULL)
		return 0;
	db_bind_int64(st, 1, rollout_id);
	while (sqlite3_step(st) == SQLITE_ROW && n < max) {
		out[n].group_id = sqlite3_column_int64(st, 0);
		out[n].count = sqlite3_column_int64(st, 1);
		n++;
	}
	db_done(st);
	return n;
}

static struct superseded_slot *
superseded_find(int64_t rollout_id)
{
	for (size_t i = 0; i < SUPERSEDED_SLOTS; i++)
		if (superseded_slots[i].rollout_id == rollout_id)
			return &superseded_slots[i];
	return NULL;
}

/* A slot for rollout_id: a free one, else the one read least recently
 * that no recount holds. */
static struct superseded_slot *
superseded_claim(int64_t rollout_id)
{
	struct superseded_slot *pick = NULL;

	for (size_t i = 0; i < SUPERSEDED_SLOTS; i++) {
		struct superseded_slot *s = &superseded_slots[i];

		if (s->busy)
			continue;
		if (s->rollout_id == 0) {
			pick = s;
			break;
		}
		if (pick == NULL || s->read_ms < pick->read_ms)
			pick = s;
	}
	if (pick != NULL) {
		memset(pick, 0, sizeof(*pick));
		pick->rollout_id = rollout_id;
	}
	return pick;
}

/* Recount slot s (marked busy by the caller, lock not held) and keep the
 * result, unless the slot was given to another rollout meanwhile. */
static void
superseded_recount(struct db *db, struct superseded_slot *s, int64_t rollout_id)
{
	struct superseded_count c[WAVE_GROUPS_MAX];
	size_t n = superseded_count(db, rollout_id, c, WAVE_GROUPS_MAX);

	pthread_mutex_lock(&superseded_lock);
	if (s->rollout_id == rollout_id) {
		memcpy(s->c, c, n * sizeof(c[0]));
		s->n = n;
		s->counted_ms = now_ms();
	}
	s->busy = false;
	pthread_mutex_unlock(&superseded_lock);
}

size_t
superseded_counts(struct db *db, int64_t rollout_id, int64_t pending,
    struct superseded_count *out, size_t max)
{
	struct superseded_slot *s;
	size_t n;

	if (pending == 0)
		return 0;
	if (pending <= SUPERSEDED_DIRECT_MAX)
		return superseded_count(db, rollout_id, out, max);
	pthread_mutex_lock(&superseded_lock);
	if ((s = superseded_find(rollout_id)) == NULL) {
		/* Never counted: this reader counts, in its own read. */
		if ((s = superseded_claim(rollout_id)) == NULL) {
			pthread_mutex_unlock(&superseded_lock);
			return superseded_count(db, rollout_id, out, max);
		}
		s->busy = true;
		s->read_ms = now_ms();
		pthread_mutex_unlock(&superseded_lock);
		superseded_recount(db, s, rollout_id);
		pthread_mutex_lock(&superseded_lock);
	}
	/* Being counted for the first time by another reader (no counts
	 * yet), or the slot went to another rollout since: this reader
	 * counts for itself. */
	if (s->rollout_id != rollout_id || s->counted_ms == 0) {
		pthread_mutex_unlock(&superseded_lock);
		return superseded_count(db, rollout_id, out, max);
	}
	s->read_ms = now_ms();
	n = s->n < max ? s->n : max;
	memcpy(out, s->c, n * sizeof(out[0]));
	pthread_mutex_unlock(&superseded_lock);
	return n;
}

void
superseded_tick(struct db *db)
{
	struct superseded_slot *pick = NULL;
	int64_t now = now_ms(), rollout_id;

	pthread_mutex_lock(&superseded_lock);
	for (size_t i = 0; i < SUPERSEDED_SLOTS; i++) {
		struct superseded_slot *s = &superseded_slots[i];

		if (s->rollout_id == 0 || s->busy || s->counted_ms == 0)
			continue;
		if (now - s->read_ms > SUPERSEDED_WANTED_MS) {
			s->rollout_id = 0; /* nobody looks: forget it */
			continue;
		}
		if (now - s->counted_ms >= SUPERSEDED_TTL_MS &&
		    (pick == NULL || s->counted_ms < pick->counted_ms))
			pick = s;
	}
	if (pick == NULL) {
		pthread_mutex_unlock(&superseded_lock);
		return;
	}
	pick->busy = true;
	rollout_id = pick->rollout_id;
	pthread_mutex_unlock(&superseded_lock);
	superseded_recount(db, pick, rollout_id);
}
