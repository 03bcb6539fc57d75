/*
 * Audit entries are written by http.c after every state-changing
 * management request, whatever its outcome, so refused attempts show too.
 *
 * Refusals of requests without credentials go through audit_fold: a
 * fixed table of buckets, one per action, status, address and minute.
 * The first request of a bucket writes its entry at once, as any other
 * request would; the others only count, under a mutex.  Once a second
 * the thread writes the counts that changed, in one transaction, and
 * forgets the buckets of minutes past.  So a flood of bad logins from one
 * address costs one entry a minute, however fast it comes.
 *
 * Retention relies on ids: SQLite gives a new row the largest id plus
 * one, and only the pruner deletes, always from the oldest end, so the
 * ids kept are one unbroken range.  Its span is the number of entries,
 * the cut for audit.max_rows is an id, and a page is an id range.
 */
#include "audit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "settings.h"
#include "util.h"

#define AUDIT_FOLD_SPARE 128   /* buckets for the "*" address */
#define AUDIT_TOTALS_MAX 128   /* action and status pairs for /metrics */
#define AUDIT_FLUSH_MS 1000    /* between writes of the folded entries */
#define AUDIT_PRUNE_S 30       /* between retention passes */
#define AUDIT_PRUNE_BATCH 5000 /* entries deleted per transaction */
#define AUDIT_ADDR_MAX 64
#define AUDIT_ACTOR_MAX 72
#define AUDIT_TARGET_MAX 260

/* A bucket: failures of one action, status and address in one minute. */
struct audit_bucket {
	const char *action; /* a route's literal; NULL = a free slot */
	int status;
	int64_t minute; /* at / 60 */
	char address[AUDIT_ADDR_MAX];
	char actor[AUDIT_ACTOR_MAX];   /* the name tried, "*" if several */
	char target[AUDIT_TARGET_MAX]; /* the object named, "*" if several */
	bool has_target;
	int64_t first_at, last_at;
	int64_t count;   /* failures counted */
	int64_t written; /* of which the database has heard */
	int64_t row_id;  /* the entry, 0 until written */
	bool writing;    /* its first request is writing the entry */
};

struct audit_total {
	const char *action;
	int status;
	int64_t count;
};

struct audit_log {
	pthread_mutex_t lock; /* guards buckets, totals, stop */
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	char *db_path;
	const struct settings *settings;
	struct audit_bucket buckets[AUDIT_FOLD_MAX + AUDIT_FOLD_SPARE];
	struct audit_total totals[AUDIT_TOTALS_MAX];
	size_t ntotals;
	int64_t overflow;   /* folded under "*" */
	int64_t unrecorded; /* not even that: counted in totals only */
};

void
audit_write(struct db *db, const char *actor, const char *address,
    const char *action, const char *target, int status)
{
	static const char sql[] =
	    "INSERT INTO audit (at, actor, address, action, target, status) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return;
	db_bind_int64(st, 1, now_s());
	db_bind_text(st, 2, actor ? actor : "-");
	db_bind_text(st, 3, address);
	db_bind_text(st, 4, action);
	db_bind_text(st, 5, target);
	db_bind_int64(st, 6, status);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_log_error(db, __func__);
	db_done(st);
}

/* The lowest and highest id kept; false when there are none. */
static bool
audit_id_range(struct db *db, int64_t *lo, int64_t *hi)
{
	static const char sql[] = "SELECT (SELECT min(id) FROM audit), "
	                          "(SELECT max(id) FROM audit)";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool ok = false;

	if (st == NULL)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
		ok = true;
	}
	db_done(st);
	return ok;
}

/* The columns of a listed entry; an action's entry names its device
 * (the target of action.cancel and action.force_quit is an action id). */
#define AUDIT_COLS                                                             \
	"SELECT e.id, e.at, e.actor, e.address, e.action, e.target, "          \
	"e.status, e.count, e.last_at, d.controller_id FROM audit e "          \
	"LEFT JOIN action ac ON e.action IN ('action.cancel', "                \
	"'action.force_quit') AND e.target NOT GLOB '*[^0-9]*' AND "           \
	"ac.id = CAST(e.target AS INTEGER) "                                   \
	"LEFT JOIN device d ON d.id = ac.device_id "

/* The filters, ?3 to ?6: NULL (or 0 for the times) does not filter. */
#define AUDIT_WHERE                                                            \
	"(?3 IS NULL OR e.actor = ?3) AND (?4 IS NULL OR e.action = ?4 OR "    \
	"substr(e.action, 1, length(?4) + 1) = ?4 || '.') AND "                \
	"(?5 = 0 OR e.at >= ?5) AND (?6 = 0 OR e.at <= ?6)"

static void
audit_bind_filters(sqlite3_stmt *st, const struct audit_query *q)
{
	if (q->user)
		db_bind_text(st, 3, q->user);
	if (q->action)
		db_bind_text(st, 4, q->action);
	db_bind_int64(st, 5, q->since);
	db_bind_int64(st, 6, q->until);
}

json_t *
audit_list_json(struct db *db, const struct audit_query *q)
{
	/* Unfiltered, the offset-th newest is found by its id. */
	static const char plain[] =
	    AUDIT_COLS "WHERE e.id <= ?2 ORDER BY e.id DESC LIMIT ?1";
	static const char filtered[] =
	    AUDIT_COLS "WHERE " AUDIT_WHERE " ORDER BY e.id DESC "
	               "LIMIT ?1 OFFSET ?2";
	static const char count[] =
	    "SELECT count(*) FROM audit e WHERE " AUDIT_WHERE;
	bool filter = q->user || q->action || q->since || q->until;
	sqlite3_stmt *st;
	json_t *list;
	int64_t total = 0, lo = 0, hi = 0;

	if (!filter) {
		if (audit_id_range(db, &lo, &hi))
			total = hi - lo + 1;
	} else {
		if ((st = db_prepare(db, count)) == NULL)
			return NULL;
		audit_bind_filters(st, q);
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		db_done(st);
	}
	if ((st = db_prepare(db, filter ? filtered : plain)) == NULL)
		return NULL;
	db_bind_int64(st, 1, q->limit);
	db_bind_int64(st, 2, filter ? q->offset : hi - q->offset);
	if (filter)
		audit_bind_filters(st, q);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* Lossy: a row holding invalid UTF-8 (written by an older
		 * release) is shown, not left out while total counts it. */
		char *text[4], *device;

		for (int i = 0; i < 4; i++)
			text[i] = utf8_lossy(
			    (const char *)sqlite3_column_text(st, 2 + i));
		device = utf8_lossy((const char *)sqlite3_column_text(st, 9));
		json_array_append_new(list,
		    json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:i, s:I, s:o, "
		              "s:s?}",
		        "id", (json_int_t)sqlite3_column_int64(st, 0), "at",
		        (json_int_t)sqlite3_column_int64(st, 1), "user",
		        text[0] ? text[0] : "-", "address", text[1], "action",
		        text[2] ? text[2] : "", "target", text[3], "status",
		        sqlite3_column_int(st, 6), "count",
		        (json_int_t)sqlite3_column_int64(st, 7), "last_at",
		        sqlite3_column_type(st, 8) == SQLITE_NULL
		            ? json_null()
		            : json_integer(sqlite3_column_int64(st, 8)),
		        "device", device));
		for (int i = 0; i < 4; i++)
			free(text[i]);
		free(device);
	}
	db_done(st);
	return json_pack("{s:o, s:I, s:I, s:I}", "entries", list, "total",
	    (json_int_t)total, "limit", (json_int_t)q->limit, "offset",
	    (json_int_t)q->offset);
}

int64_t
audit_prune(struct db *db, int64_t now, int64_t max_age_s, int64_t max_rows)
{
	static const char aged[] =
	    "SELECT id FROM audit WHERE at >= ?1 ORDER BY at LIMIT 1";
	static const char del[] =
	    "DELETE FROM audit WHERE id IN (SELECT id FROM audit "
	    "WHERE id < ?1 ORDER BY id LIMIT ?2)";
	struct timespec pause = {0, 5 * 1000000L};
	sqlite3_stmt *st;
	int64_t lo, hi, cut, n, deleted = 0;

	if (!audit_id_range(db, &lo, &hi))
		return 0;
	cut = hi - max_rows + 1; /* ids below it are beyond max_rows */
	/* The first entry young enough to keep; ids grow with time (up to
	 * the second a folded entry waits to be written). */
	if ((st = db_prepare(db, aged)) == NULL)
		return -1;
	db_bind_int64(st, 1, now - max_age_s);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) > cut)
			cut = sqlite3_column_int64(st, 0);
	} else
		cut = hi + 1; /* every entry is too old */
	db_done(st);
	for (n = cut > lo ? AUDIT_PRUNE_BATCH : 0; n == AUDIT_PRUNE_BATCH;) {
		if ((st = db_prepare(db, del)) == NULL)
			return -1;
		db_bind_int64(st, 1, cut);
		db_bind_int64(st, 2, AUDIT_PRUNE_BATCH);
		if (db_step_done(db, st, __func__) != RESULT_OK)
			return -1;
		n = sqlite3_changes(db_handle(db));
		deleted += n;
		/* Let the request threads' writes in between batches. */
		if (n == AUDIT_PRUNE_BATCH)
			nanosleep(&pause, NULL);
	}
	return deleted;
}

/* Count a failure in the totals for /metrics; the lock is held. */
static void
audit_total_add(struct audit_log *a, const char *action, int status)
{
	size_t i;

	for (i = 0; i < a->ntotals; i++)
		if (a->totals[i].status == status &&
		    strcmp(a->totals[i].action, action) == 0)
			break;
	if (i == a->ntotals) {
		if (a->ntotals == AUDIT_TOTALS_MAX)
			return;
		a->totals[a->ntotals].action = action;
		a->totals[a->ntotals].status = status;
		a->ntotals++;
	}
	a->totals[i].count++;
}

/* The bucket for a failure now, a free one made ready if need be; among
 * the first `slots` only.  NULL if they are all taken.  Lock held. */
static struct audit_bucket *
audit_bucket_get(struct audit_log *a, size_t slots, const char *action,
    int status, const char *address, int64_t now)
{
	struct audit_bucket *free_slot = NULL, *b;

	for (size_t i = 0; i < slots; i++) {
		b = &a->buckets[i];
		if (b->action == NULL) {
			if (free_slot == NULL)
				free_slot = b;
			continue;
		}
		if (b->minute == now / 60 && b->status == status &&
		    strcmp(b->action, action) == 0 &&
		    strcmp(b->address, address) == 0)
			return b;
	}
	if ((b = free_slot) == NULL)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->action = action;
	b->status = status;
	b->minute = now / 60;
	snprintf(b->address, sizeof(b->address), "%s", address);
	b->first_at = now;
	return b;
}

/*
 * A bucket's text field (v NULL: none) while every request agrees on it;
 * "*" once two differ.  *has says whether the field is set.
 */
static void
audit_agree(char *field, size_t size, bool *has, bool first, const char *v)
{
	if (first) {
		*has = v != NULL;
		if (v)
			utf8_snprintf(field, size, "%s", v);
		return;
	}
	if (*has == (v != NULL) &&
	    (v == NULL || (strlen(v) < size && strcmp(field, v) == 0)))
		return;
	*has = true;
	snprintf(field, size, "*");
}

static enum result audit_write_bucket(struct db *, struct audit_bucket *);

void
audit_fold(struct audit_log *a, struct db *db, const char *action, int status,
    const char *address, const char *actor, const char *target)
{
	int64_t now = now_s();
	struct audit_bucket *b, copy;
	bool first, has_actor = true;
	size_t slot;

	if (address == NULL || address[0] == '\0')
		address = "-";
	if (strlen(address) >= AUDIT_ADDR_MAX)
		address = "*";
	pthread_mutex_lock(&a->lock);
	audit_total_add(a, action, status);
	b = audit_bucket_get(a, AUDIT_FOLD_MAX, action, status, address, now);
	if (b == NULL) {
		/* A minute with more addresses than buckets: the rest
		 * share one entry per action and status. */
		b = audit_bucket_get(
		    a, NELEM(a->buckets), action, status, "*", now);
		if (b != NULL)
			a->overflow++;
		else
			a->unrecorded++;
	}
	if (b == NULL) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	first = b->count == 0;
	audit_agree(
	    b->actor, sizeof(b->actor), &has_actor, first, actor ? actor : "-");
	audit_agree(
	    b->target, sizeof(b->target), &b->has_target, first, target);
	b->count++;
	b->last_at = now;
	if (!first || db == NULL) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	/* The first of its bucket is written now, like any request. */
	b->writing = true;
	copy = *b;
	slot = (size_t)(b - a->buckets);
	pthread_mutex_unlock(&a->lock);
	if (audit_write_bucket(db, &copy) != RESULT_OK)
		copy.row_id = 0; /* the thread tries again */
	pthread_mutex_lock(&a->lock);
	b = &a->buckets[slot];
	b->writing = false;
	if (copy.row_id != 0) {
		b->row_id = copy.row_id;
		b->written = 1;
	}
	pthread_mutex_unlock(&a->lock);
}

json_t *
audit_fold_counts_json(struct audit_log *a)
{
	json_t *list = json_array();
	int64_t overflow;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->ntotals; i++)
		json_array_append_new(list,
		    json_pack("{s:s, s:i, s:I}", "action", a->totals[i].action,
		        "status", a->totals[i].status, "count",
		        (json_int_t)a->totals[i].count));
	overflow = a->overflow + a->unrecorded;
	pthread_mutex_unlock(&a->lock);
	return json_pack(
	    "{s:o, s:I}", "entries", list, "overflow", (json_int_t)overflow);
}

/* A bucket's state to write, copied out of the table. */
struct audit_pending {
	size_t slot;
	struct audit_bucket b;
};

/* Write one pending bucket: a new entry, or its count.  Sets b.row_id. */
static enum result
audit_write_bucket(struct db *db, struct audit_bucket *b)
{
	static const char ins[] =
	    "INSERT INTO audit (at, actor, address, action, target, status, "
	    "count, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "RETURNING id";
	static const char upd[] =
	    "UPDATE audit SET count = ?2, last_at = ?3, actor = ?4, "
	    "target = ?5 WHERE id = ?1";
	sqlite3_stmt *st;

	if (b->row_id != 0) {
		if ((st = db_prepare(db, upd)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, b->row_id);
		db_bind_int64(st, 2, b->count);
		db_bind_int64(st, 3, b->last_at);
		db_bind_text(st, 4, b->actor);
		db_bind_text(st, 5, b->has_target ? b->target : NULL);
		return db_step_done(db, st, __func__);
	}
	if ((st = db_prepare(db, ins)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, b->first_at);
	db_bind_text(st, 2, b->actor);
	db_bind_text(st, 3, b->address);
	db_bind_text(st, 4, b->action);
	db_bind_text(st, 5, b->has_target ? b->target : NULL);
	db_bind_int64(st, 6, b->status);
	db_bind_int64(st, 7, b->count);
	if (b->count > 1)
		db_bind_int64(st, 8, b->last_at);
	return db_step_id(db, st, &b->row_id, __func__);
}

/*
 * Write what changed since the last flush in one transaction, then free
 * the buckets of minutes past (all of them when stopping) that are fully
 * written.  Only this thread frees buckets, so the slots copied out stay
 * the same buckets while the lock is released.
 */
static void
audit_flush(struct audit_log *a, struct db *db, bool all)
{
	struct audit_pending *p = NULL;
	size_t n = 0;
	int64_t minute = now_s() / 60;
	bool ok = true;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < NELEM(a->buckets); i++) {
		const struct audit_bucket *b = &a->buckets[i];

		if (b->action == NULL || b->writing || b->count == b->written)
			continue;
		p = xrealloc(p, (n + 1) * sizeof(*p));
		p[n].slot = i;
		p[n++].b = *b;
	}
	pthread_mutex_unlock(&a->lock);
	if (n > 0 && (ok = db_begin(db) == 0)) {
		for (size_t k = 0; k < n && ok; k++)
			ok = audit_write_bucket(db, &p[k].b) == RESULT_OK;
		if (ok)
			ok = db_commit(db) == 0;
		if (!ok)
			db_rollback(db); /* tried again at the next flush */
	}
	pthread_mutex_lock(&a->lock);
	for (size_t k = 0; k < n && ok; k++) {
		struct audit_bucket *b = &a->buckets[p[k].slot];

		b->row_id = p[k].b.row_id;
		b->written = p[k].b.count;
	}
	for (size_t i = 0; i < NELEM(a->buckets); i++) {
		struct audit_bucket *b = &a->buckets[i];

		if (b->action && !b->writing && b->count == b->written &&
		    (all || b->minute < minute))
			b->action = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	free(p);
}

static void
audit_retain(struct audit_log *a, struct db *db)
{
	const struct settings *s = a->settings;
	int64_t n = audit_prune(
	    db, now_s(), (int64_t)s->audit_max_age * 86400, s->audit_max_rows);

	if (n > 0)
		log_info("audit log: %lld old entries deleted (audit.max_age "
		         "%d days, audit.max_rows %d)",
		    (long long)n, s->audit_max_age, s->audit_max_rows);
}

static void *
audit_main(void *arg)
{
	struct audit_log *a = arg;
	struct db *db = db_open(a->db_path);
	int64_t pruned = now_s() - AUDIT_PRUNE_S + 1; /* first pass soon */
	struct timespec ts;

	if (db == NULL)
		fatalx("%s: cannot open the database", __func__);
	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += AUDIT_FLUSH_MS % 1000 * 1000000L;
		ts.tv_sec += AUDIT_FLUSH_MS / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
		if (a->stop)
			break;
		pthread_mutex_unlock(&a->lock);
		audit_flush(a, db, false);
		if (now_s() - pruned >= AUDIT_PRUNE_S) {
			audit_retain(a, db);
			pruned = now_s();
		}
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	audit_flush(a, db, true);
	db_close(db);
	return NULL;
}

struct audit_log *
audit_start(const char *db_path, const struct settings *s)
{
	struct audit_log *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->db_path = xstrdup(db_path);
	a->settings = s;
	if (pthread_create(&a->thread, NULL, audit_main, a) != 0) {
		log_warnx("%s: pthread_create failed", __func__);
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->cond);
		free(a->db_path);
		free(a);
		return NULL;
	}
	return a;
}

void
audit_stop(struct audit_log *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a->db_path);
	free(a);
}
