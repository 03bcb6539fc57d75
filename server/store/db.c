/*
 * SQLite connections and prepared-statement caching.  A connection belongs
 * to one thread (opened SQLITE_OPEN_NOMUTEX), so the cache needs no lock.
 *
 * The device poll's read can share one read transaction per thread (see
 * db_prepare_shared): starting a WAL read transaction takes a lock on the
 * shared-memory index, a mutex all threads contend for plus an fcntl(),
 * which cost more than the poll's SELECT itself.
 */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rsql.h"
#include "util.h"
#include "version.h"

struct db_stmt {
	const char *sql;
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *handle;
	struct db_stmt stmts[DB_STMT_MAX];
	size_t nstmts;
	/* The shared read transaction, when open: the commit generation and
	 * the time it began. */
	bool snap_open;
	uint64_t snap_gen;
	int64_t snap_ms;
	sqlite3_stmt *snap_begin, *snap_end;
};

/* Bumped after every commit by any of this process's connections. */
static _Atomic uint64_t db_generation;
/* Checkpoints left to a background thread (db_checkpoint_background). */
static atomic_bool db_ckpt_background, db_ckpt_due;

#define DB_MMAP_SIZE "1073741824" /* bytes of the file mapped, 1 GiB */

static char *db_path;

static sqlite3_stmt *db_prepare_cached(struct db *, const char *sql);
static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void
db_key_free(void *p)
{
	db_close(p);
}

static void
db_key_init(void)
{
	if (pthread_key_create(&db_key, db_key_free) != 0)
		fatalx("%s: pthread_key_create", __func__);
}

void
db_set_path(const char *path)
{
	/* Before SQLite initialises: without memory statistics its allocator
	 * takes no global mutex, which every thread would contend for. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	free(db_path);
	db_path = xstrdup(path);
}

struct db *
db_thread(void)
{
	struct db *db;

	pthread_once(&db_key_once, db_key_init);
	if ((db = pthread_getspecific(db_key)) != NULL)
		return db;
	if (db_path == NULL || (db = db_open(db_path)) == NULL)
		return NULL;
	pthread_setspecific(db_key, db);
	return db;
}

void
db_thread_close(void)
{
	struct db *db;

	pthread_once(&db_key_once, db_key_init);
	if ((db = pthread_getspecific(db_key)) != NULL) {
		pthread_setspecific(db_key, NULL);
		db_close(db);
	}
}

/*
 * After each commit (SQLite calls this once the commit is visible): a new
 * generation for shared read transactions.  Replaces SQLite's automatic
 * checkpoint hook, which checkpoints past 1000 pages in the thread that
 * committed: in the daemon that was a request's thread, and the copy and
 * fsync made the slowest 1 % of failed feedbacks 14 ms instead of 2 to 4
 * (make bench, phase rollout).  There the checkpoint is only noted, for
 * the last-seen thread's next tick (db_checkpoint_if_due); elsewhere (the
 * command line, tests) it runs here as SQLite's would.
 */
static int
db_wal_hook(void *arg, sqlite3 *handle, const char *name, int pages)
{
	(void)arg;
	atomic_fetch_add(&db_generation, 1);
	if (pages < 1000)
		return SQLITE_OK;
	if (atomic_load(&db_ckpt_background))
		atomic_store(&db_ckpt_due, true);
	else
		sqlite3_wal_checkpoint_v2(
		    handle, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

void
db_checkpoint_background(bool on)
{
	atomic_store(&db_ckpt_background, on);
}

void
db_checkpoint(struct db *db)
{
	atomic_store(&db_ckpt_due, false);
	sqlite3_wal_checkpoint_v2(
	    db->handle, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

void
db_checkpoint_if_due(struct db *db)
{
	if (atomic_load(&db_ckpt_due))
		db_checkpoint(db);
}

/* End this connection's shared read transaction, if one is open. */
static void
db_snapshot_end(struct db *db)
{
	if (!db->snap_open)
		return;
	db->snap_open = false;
	if (sqlite3_step(db->snap_end) != SQLITE_DONE)
		db_log_error(db, __func__);
	sqlite3_reset(db->snap_end);
}

/*
 * The collation "version": software versions ordered as the policy orders
 * them (version_compare), so that 1.10.0 sorts after 1.2.0.  Versions are
 * at most DB_VERSION_MAX bytes; longer ones compare by that prefix.
 */
#define DB_VERSION_MAX 256

static int
db_collate_version(void *arg, int na, const void *a, int nb, const void *b)
{
	char x[DB_VERSION_MAX + 1], y[DB_VERSION_MAX + 1];

	(void)arg;
	na = na < DB_VERSION_MAX ? na : DB_VERSION_MAX;
	nb = nb < DB_VERSION_MAX ? nb : DB_VERSION_MAX;
	memcpy(x, a, (size_t)na);
	x[na] = '\0';
	memcpy(y, b, (size_t)nb);
	y[nb] = '\0';
	return version_compare(x, y);
}

struct db *
db_open(const char *path)
{
	struct db *db = xcalloc(1, sizeof(*db));
	sqlite3_stmt *st = NULL;
	const char *mode;

	if (sqlite3_open_v2(path, &db->handle,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, path,
		    db->handle ? sqlite3_errmsg(db->handle) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->handle, 1);
	sqlite3_busy_timeout(db->handle, DB_BUSY_MS);
	if (sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode=WAL", -1, &st,
	        NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    (mode = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(mode, "wal") != 0) {
		log_warnx("%s: %s: cannot enable WAL: %s", __func__, path,
		    sqlite3_errmsg(db->handle));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* mmap: reads of a database larger than the page cache come from
	 * the kernel's page cache without a pread() and a copy each. */
	if (db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
	                "PRAGMA temp_store=MEMORY; "
	                "PRAGMA mmap_size=" DB_MMAP_SIZE ";") == -1)
		goto fail;
	if (sqlite3_create_collation_v2(db->handle, "version", SQLITE_UTF8,
	        NULL, db_collate_version, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(db->handle));
		goto fail;
	}
	sqlite3_wal_hook(db->handle, db_wal_hook, NULL);
	return db;
fail:
	sqlite3_finalize(st);
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_snapshot_end(db);
	sqlite3_finalize(db->snap_begin);
	sqlite3_finalize(db->snap_end);
	for (size_t i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->handle);
	free(db);
}

sqlite3 *
db_handle(struct db *db)
{
	return db->handle;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	db_snapshot_end(db); /* every other statement reads the newest data */
	return db_prepare_cached(db, sql);
}

sqlite3_stmt *
db_prepare_shared(struct db *db, const char *sql)
{
	uint64_t gen = atomic_load(&db_generation);
	int64_t now = now_ms();

	if (db->snap_open &&
	    (gen != db->snap_gen || now - db->snap_ms >= DB_SHARED_MS))
		db_snapshot_end(db);
	if (!db->snap_open && sqlite3_get_autocommit(db->handle)) {
		if (db->snap_begin == NULL &&
		    (sqlite3_prepare_v2(db->handle, "BEGIN", -1,
		         &db->snap_begin, NULL) != SQLITE_OK ||
		        sqlite3_prepare_v2(db->handle, "COMMIT", -1,
		            &db->snap_end, NULL) != SQLITE_OK)) {
			db_log_error(db, __func__);
			return db_prepare(db, sql);
		}
		if (sqlite3_step(db->snap_begin) == SQLITE_DONE) {
			db->snap_open = true;
			db->snap_gen = gen; /* read before the snapshot: safe */
			db->snap_ms = now;
		}
		sqlite3_reset(db->snap_begin);
	}
	return db_prepare_cached(db, sql);
}

static sqlite3_stmt *
db_prepare_cached(struct db *db, const char *sql)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].sql == sql) {
			st = db->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (db->nstmts == DB_STMT_MAX)
		fatalx("%s: more than %d statements", __func__, DB_STMT_MAX);
	if (sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &st, NULL) != SQLITE_OK) {
		log_warnx(
		    "%s: %s: %s", __func__, sqlite3_errmsg(db->handle), sql);
		return NULL;
	}
	db->stmts[db->nstmts].sql = sql;
	db->stmts[db->nstmts].st = st;
	db->nstmts++;
	return st;
}

void
db_done(sqlite3_stmt *st)
{
	if (st != NULL)
		sqlite3_reset(st);
}

int
db_exec(struct db *db, const char *sql)
{
	char *err = NULL;

	db_snapshot_end(db);
	if (sqlite3_exec(db->handle, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("%s: %s", __func__, err ? err : "error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
db_begin(struct db *db)
{
	static const char sql[] = "BEGIN IMMEDIATE";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		return -1;
	}
	return 0;
}

int
db_commit(struct db *db)
{
	static const char sql[] = "COMMIT";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		db_rollback(db);
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *db)
{
	static const char sql[] = "ROLLBACK";
	sqlite3_stmt *st;

	db_snapshot_end(db);
	if (sqlite3_get_autocommit(db->handle))
		return;
	if ((st = db_prepare(db, sql)) == NULL)
		return;
	if (sqlite3_step(st) != SQLITE_DONE)
		db_log_error(db, __func__);
	db_done(st);
}

void
db_log_error(struct db *db, const char *where)
{
	log_warnx("%s: %s", where, sqlite3_errmsg(db->handle));
}

sqlite3_stmt *
db_prepare_once(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK) {
		db_log_error(db, __func__);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

void
db_bind_query(sqlite3_stmt *st, int first, const struct rsql_query *q)
{
	for (size_t i = 0; i < q->nparams; i++) {
		if (q->params[i].is_int)
			db_bind_int64(st, first + (int)i, q->params[i].num);
		else
			db_bind_text(st, first + (int)i, q->params[i].text);
	}
}

int
db_bind_text(sqlite3_stmt *st, int idx, const char *text)
{
	int rc;

	if (text == NULL)
		rc = sqlite3_bind_null(st, idx);
	else
		rc = sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? 0 : -1;
}

int
db_bind_int64(sqlite3_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st, idx, v) == SQLITE_OK ? 0 : -1;
}

char *
db_column_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

enum result
db_step_done(struct db *db, sqlite3_stmt *st, const char *where)
{
	int rc = sqlite3_step(st);

	db_done(st);
	if (rc == SQLITE_DONE)
		return RESULT_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return RESULT_CONFLICT;
	db_log_error(db, where);
	return RESULT_ERROR;
}

enum result
db_step_id(struct db *db, sqlite3_stmt *st, int64_t *id, const char *where)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	db_done(st);
	if (rc == SQLITE_ROW)
		return RESULT_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return RESULT_CONFLICT;
	db_log_error(db, where);
	return RESULT_ERROR;
}

enum result
db_step_changed(struct db *db, sqlite3_stmt *st, const char *where)
{
	enum result r = db_step_done(db, st, where);

	if (r == RESULT_OK && sqlite3_changes(db->handle) == 0)
		r = RESULT_NOTFOUND;
	return r;
}

int64_t *
db_collect_ids(sqlite3_stmt *st, size_t *n)
{
	int64_t *ids = NULL;
	size_t cap = 0;

	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	}
	db_done(st);
	return ids;
}

int64_t
db_count(sqlite3_stmt *st)
{
	int64_t n = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	return n;
}
