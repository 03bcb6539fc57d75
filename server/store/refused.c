/*
 * The memory of refused requests.  Notes gather in an open-addressing hash
 * table keyed by (controller id, reason) under a mutex; refused_flush, on
 * the main loop's tick, swaps the table out and writes it without holding
 * the lock, as the last-seen writer does (seen.c), so a refusal never
 * waits for SQLite.  The table holds at most REFUSED_PENDING_MAX keys: a
 * flood of new ids within one second fills it and the rest is counted as
 * dropped, never allocated.
 */
#include "refused.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

#define REFUSED_SLOTS_MIN 64
#define REFUSED_SLOTS_MAX (REFUSED_PENDING_MAX * 2)
#define REFUSED_CID_MAX 256 /* bytes kept of an id: DEVICE_ID_MAX */

/* clang-format off */
/* Columns: the code stored and answered, the words for operators. */
static const struct {
	const char *code, *text;
} refused_reasons[REFUSED_NREASONS] = {
	[REFUSED_WRONG_TOKEN]     = { "wrong_target_token",  "wrong TargetToken" },
	[REFUSED_MISSING_TOKEN]   = { "missing_target_token", "missing TargetToken" },
	[REFUSED_UNKNOWN_DEVICE]  = { "unknown_device",      "unknown device (token mode)" },
	[REFUSED_WRONG_GATEWAY]   = { "wrong_gateway_token", "wrong GatewayToken" },
	[REFUSED_TOKEN_DISABLED]  = { "target_token_disabled", "TargetTokens are disabled" },
	[REFUSED_BAD_TOKEN]       = { "invalid_target_token", "TargetToken not storable (8 to 128 of [A-Za-z0-9_.-~+/=])" },
	[REFUSED_BAD_SCHEME]      = { "unknown_scheme",      "unknown Authorization scheme" },
	[REFUSED_TOKEN_CONFLICT]  = { "token_conflict",      "another TargetToken registered first" },
	[REFUSED_CERT_MISMATCH]   = { "certificate_mismatch", "certificate mismatch" },
};
/* clang-format on */

struct refused_entry {
	char *cid; /* NULL: empty slot */
	enum refused_reason reason;
	int64_t count, first_at, last_at, last_ms;
	uint64_t seq; /* of its last note: the order of arrival */
	char addr[REFUSED_ADDR_MAX];
};

struct refused_table {
	struct refused_entry *slots;
	size_t nslots, used;
};

struct refused {
	pthread_mutex_t lock;
	struct refused_table cur;
	int64_t rows_max;
	uint64_t seq;      /* notes so far */
	uint64_t dropped;  /* in all */
	uint64_t unlogged; /* dropped since the last warning */
	int64_t warned;    /* when that was */
};

const char *
refused_reason_code(enum refused_reason r)
{
	if ((size_t)r >= REFUSED_NREASONS)
		return "unknown";
	return refused_reasons[r].code;
}

const char *
refused_text_of_code(const char *code)
{
	for (size_t i = 0; code && i < REFUSED_NREASONS; i++)
		if (strcmp(refused_reasons[i].code, code) == 0)
			return refused_reasons[i].text;
	return code ? code : "unknown";
}

static void
refused_table_init(struct refused_table *t, size_t nslots)
{
	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->nslots = nslots;
	t->used = 0;
}

static void
refused_table_clear(struct refused_table *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		free(t->slots[i].cid);
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->used = 0;
}

static size_t
refused_hash(const char *cid, enum refused_reason reason)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *p = cid; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)((h ^ (uint64_t)reason) * 1099511628211ULL);
}

/* The slot of (cid, reason): its entry, or the empty slot it would take. */
static struct refused_entry *
refused_slot(struct refused_table *t, const char *cid, enum refused_reason r)
{
	size_t i = refused_hash(cid, r) & (t->nslots - 1);

	while (t->slots[i].cid != NULL &&
	       (t->slots[i].reason != r || strcmp(t->slots[i].cid, cid) != 0))
		i = (i + 1) & (t->nslots - 1);
	return &t->slots[i];
}

/* Double the table (it is over half full and below its maximum). */
static void
refused_table_grow(struct refused_table *t)
{
	struct refused_table n;

	refused_table_init(&n, t->nslots * 2);
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].cid != NULL) {
			*refused_slot(&n, t->slots[i].cid, t->slots[i].reason) =
			    t->slots[i];
			n.used++;
		}
	free(t->slots);
	*t = n;
}

struct refused *
refused_new(int64_t rows_max)
{
	struct refused *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	refused_table_init(&m->cur, REFUSED_SLOTS_MIN);
	m->rows_max = rows_max;
	return m;
}

void
refused_free(struct refused *m)
{
	if (m == NULL)
		return;
	refused_table_clear(&m->cur);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void
refused_note(struct refused *m, const char *cid, const char *address,
    enum refused_reason reason)
{
	char key[REFUSED_CID_MAX + 1];
	struct refused_entry *e;
	int64_t ms = now_ms();
	size_t n;

	if (m == NULL || cid == NULL || (size_t)reason >= REFUSED_NREASONS)
		return;
	snprintf(
	    key, sizeof(key), "%.*s", (int)utf8_cut(cid, REFUSED_CID_MAX), cid);
	pthread_mutex_lock(&m->lock);
	e = refused_slot(&m->cur, key, reason);
	if (e->cid == NULL) {
		if (m->cur.used >= REFUSED_PENDING_MAX) {
			m->dropped++;
			m->unlogged++;
			pthread_mutex_unlock(&m->lock);
			return;
		}
		if ((m->cur.used + 1) * 2 > m->cur.nslots &&
		    m->cur.nslots < REFUSED_SLOTS_MAX) {
			refused_table_grow(&m->cur);
			e = refused_slot(&m->cur, key, reason);
		}
		e->cid = xstrdup(key);
		e->reason = reason;
		e->first_at = ms / 1000;
		m->cur.used++;
	}
	e->count++;
	e->last_at = ms / 1000;
	e->last_ms = ms;
	e->seq = ++m->seq;
	n = address ? strnlen(address, REFUSED_ADDR_MAX - 1) : 0;
	memcpy(e->addr, address ? address : "", n);
	e->addr[n] = '\0';
	pthread_mutex_unlock(&m->lock);
}

uint64_t
refused_dropped(struct refused *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = m->dropped;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/*
 * One (id, reason): added to its row, or a new row.  Attempts and the
 * first time start again when the device was accepted since the row's
 * last refusal, so that "14 attempts" counts the current trouble.  Then
 * the id's rows are cut to the REFUSED_PER_ID most recent.
 */
static int
refused_write_one(struct db *db, const struct refused_entry *e)
{
	static const char upsert[] =
	    "INSERT INTO refused_request (controller_id, reason, attempts, "
	    "first_at, last_at, address, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?8) "
	    "ON CONFLICT (controller_id, reason) DO UPDATE SET "
	    "attempts = CASE WHEN refused_request.last_at < ?7 THEN "
	    "excluded.attempts ELSE refused_request.attempts + "
	    "excluded.attempts END, first_at = CASE WHEN "
	    "refused_request.last_at < ?7 THEN excluded.first_at ELSE "
	    "refused_request.first_at END, last_at = excluded.last_at, "
	    "last_ms = excluded.last_ms, address = excluded.address";
	static const char seen[] =
	    "SELECT COALESCE(max(s.at), 0) FROM device d JOIN device_seen s "
	    "ON s.device_id = d.id WHERE d.controller_id = ?1";
	static const char cut[] =
	    "DELETE FROM refused_request WHERE controller_id = ?1 AND id NOT "
	    "IN (SELECT id FROM refused_request WHERE controller_id = ?1 "
	    "ORDER BY last_ms DESC, id DESC LIMIT ?2)";
	sqlite3_stmt *st;
	int64_t accepted;

	if ((st = db_prepare(db, seen)) == NULL)
		return -1;
	db_bind_text(st, 1, e->cid);
	accepted = db_count(st);
	if ((st = db_prepare(db, upsert)) == NULL)
		return -1;
	db_bind_text(st, 1, e->cid);
	db_bind_text(st, 2, refused_reason_code(e->reason));
	db_bind_int64(st, 3, e->count);
	db_bind_int64(st, 4, e->first_at);
	db_bind_int64(st, 5, e->last_at);
	db_bind_text(st, 6, e->addr[0] ? e->addr : NULL);
	db_bind_int64(st, 7, accepted);
	db_bind_int64(st, 8, e->last_ms);
	if (db_step_done(db, st, __func__) != RESULT_OK)
		return -1;
	if ((st = db_prepare(db, cut)) == NULL)
		return -1;
	db_bind_text(st, 1, e->cid);
	db_bind_int64(st, 2, REFUSED_PER_ID);
	return db_step_done(db, st, __func__) == RESULT_OK ? 0 : -1;
}

/* Keep the rows_max most recent rows. */
static int
refused_cut_total(struct db *db, int64_t rows_max)
{
	static const char count[] = "SELECT count(*) FROM refused_request";
	static const char cut[] =
	    "DELETE FROM refused_request WHERE id IN (SELECT id FROM "
	    "refused_request ORDER BY last_ms ASC, id ASC LIMIT ?1)";
	sqlite3_stmt *st;
	int64_t n;

	if ((st = db_prepare(db, count)) == NULL)
		return -1;
	if ((n = db_count(st)) <= rows_max)
		return 0;
	if ((st = db_prepare(db, cut)) == NULL)
		return -1;
	db_bind_int64(st, 1, n - rows_max);
	return db_step_done(db, st, __func__) == RESULT_OK ? 0 : -1;
}

static void
refused_warn_dropped(struct refused *m)
{
	uint64_t n = 0;
	int64_t now = now_s();

	pthread_mutex_lock(&m->lock);
	if (m->unlogged > 0 && now - m->warned >= 60) {
		n = m->unlogged;
		m->unlogged = 0;
		m->warned = now;
	}
	pthread_mutex_unlock(&m->lock);
	if (n > 0)
		log_warnx(
		    "refused requests of %llu new controller ids were not "
		    "recorded: more than %d within a second (said at "
		    "most once a minute)",
		    (unsigned long long)n, REFUSED_PENDING_MAX);
}

static int
refused_entry_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct refused_entry *)a)->seq;
	uint64_t y = ((const struct refused_entry *)b)->seq;

	return (x > y) - (x < y);
}

int
refused_flush(struct refused *m, struct db *db)
{
	struct refused_table t;
	int rc = 0;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	t = m->cur;
	if (t.used > 0)
		refused_table_init(&m->cur, REFUSED_SLOTS_MIN);
	pthread_mutex_unlock(&m->lock);
	refused_warn_dropped(m);
	if (t.used == 0)
		return 0;
	/* Packed to the front, in the order they came: new rows' ids
	 * follow it too. */
	for (size_t i = 0, k = 0; i < t.nslots; i++)
		if (t.slots[i].cid != NULL) {
			struct refused_entry e = t.slots[i];

			t.slots[i] = t.slots[k];
			t.slots[k++] = e;
		}
	qsort(t.slots, t.used, sizeof(*t.slots), refused_entry_cmp);
	if (db_begin(db) == -1) {
		rc = -1;
		goto done;
	}
	for (size_t i = 0; i < t.used && rc == 0; i++)
		rc = refused_write_one(db, &t.slots[i]);
	if (rc == 0)
		rc = refused_cut_total(db, m->rows_max);
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
done:
	refused_table_clear(&t);
	return rc;
}

/* {reason_code, reason, attempts, first_at, last_at, address} of a row
 * whose columns 0..5 are those. */
static json_t *
refused_row_json(sqlite3_stmt *st, int col)
{
	const char *code = (const char *)sqlite3_column_text(st, col);
	const char *addr = (const char *)sqlite3_column_text(st, col + 5);

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s?}", "reason_code",
	    code ? code : "unknown", "reason", refused_text_of_code(code),
	    "attempts", (json_int_t)sqlite3_column_int64(st, col + 1),
	    "first_at", (json_int_t)sqlite3_column_int64(st, col + 2),
	    "last_at", (json_int_t)sqlite3_column_int64(st, col + 3), "address",
	    addr);
}

json_t *
refused_device_json(struct db *db, const char *cid, int64_t since)
{
	static const char sql[] =
	    "SELECT reason, attempts, first_at, last_at, 0, address FROM "
	    "refused_request WHERE controller_id = ?1 AND last_at > ?2 "
	    "ORDER BY last_ms DESC, id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = NULL;

	if (st == NULL)
		return json_null();
	db_bind_text(st, 1, cid);
	db_bind_int64(st, 2, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = refused_row_json(st, 0);
	db_done(st);
	return o ? o : json_null();
}

/* Every row of cid, the most recent first. */
static json_t *
refused_reasons_json(struct db *db, const char *cid)
{
	static const char sql[] =
	    "SELECT reason, attempts, first_at, last_at, 0, address FROM "
	    "refused_request WHERE controller_id = ?1 ORDER BY last_ms DESC, "
	    "id DESC";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_text(st, 1, cid);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, refused_row_json(st, 0));
	db_done(st);
	return a;
}

json_t *
refused_list_json(
    struct db *db, int64_t limit, int64_t offset, bool unknown_only)
{
	/* One row per id: its most recent refusal. */
	static const char sql[] =
	    "SELECT r.controller_id, EXISTS (SELECT 1 FROM device d WHERE "
	    "d.controller_id = r.controller_id), r.reason, r.attempts, "
	    "r.first_at, r.last_at, 0, r.address FROM refused_request r "
	    "WHERE r.id = (SELECT x.id FROM refused_request x WHERE "
	    "x.controller_id = r.controller_id ORDER BY x.last_ms DESC, x.id "
	    "DESC LIMIT 1) AND (?3 = 0 OR NOT EXISTS (SELECT 1 FROM device d "
	    "WHERE d.controller_id = r.controller_id)) "
	    "ORDER BY r.last_ms DESC, r.id DESC LIMIT ?1 OFFSET ?2";
	static const char count[] =
	    "SELECT count(DISTINCT r.controller_id) FROM refused_request r "
	    "WHERE ?1 = 0 OR NOT EXISTS (SELECT 1 FROM device d WHERE "
	    "d.controller_id = r.controller_id)";
	sqlite3_stmt *st;
	json_t *list, *o;
	int64_t total;
	size_t n = 0;
	char **cids;

	if ((st = db_prepare(db, count)) == NULL)
		return NULL;
	db_bind_int64(st, 1, unknown_only);
	total = db_count(st);
	if ((st = db_prepare(db, sql)) == NULL)
		return NULL;
	db_bind_int64(st, 1, limit);
	db_bind_int64(st, 2, offset);
	db_bind_int64(st, 3, unknown_only);
	list = json_array();
	cids = xcalloc((size_t)limit, sizeof(*cids));
	while (n < (size_t)limit && sqlite3_step(st) == SQLITE_ROW) {
		o = refused_row_json(st, 2);
		cids[n++] = db_column_strdup(st, 0);
		json_object_set_new(
		    o, "controller_id", json_string(cids[n - 1]));
		json_object_set_new(
		    o, "known", json_boolean(sqlite3_column_int(st, 1)));
		json_array_append_new(list, o);
	}
	db_done(st);
	/* After the cursor is closed: the same cached statements. */
	for (size_t i = 0; i < n; i++) {
		json_object_set_new(json_array_get(list, i), "reasons",
		    refused_reasons_json(db, cids[i]));
		free(cids[i]);
	}
	free(cids);
	return json_pack("{s:o, s:I, s:I, s:I}", "refused", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}
