/*
 * SQLite access: one connection per thread, opened on first use with the
 * project's pragmas, and a per-connection cache of prepared statements keyed
 * by the address of the SQL literal, so every statement is prepared once.
 */
#ifndef DB_H
#define DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DB_STMT_MAX 512 /* distinct statements per connection */
#define DB_BUSY_MS 5000

struct db;

/* Set the database path every thread opens; call once before db_thread. */
void db_set_path(const char *path);
/*
 * This thread's connection, opened on first call.  Returns NULL (logged) if
 * the database cannot be opened.  Closed by db_thread_close or at exit.
 */
struct db *db_thread(void);
void db_thread_close(void);

/* Open a connection with WAL, foreign keys and the busy timeout.  NULL on
 * failure (logged).  The caller closes it with db_close. */
struct db *db_open(const char *path);
void db_close(struct db *);

/*
 * WAL checkpoints off the request path: with background on, a commit that
 * leaves 1000 pages in the WAL only notes a checkpoint as due, and the
 * thread that calls db_checkpoint_if_due (the last-seen writer, once a
 * second) runs it; off (the default), the committing thread runs it.
 */
void db_checkpoint_background(bool on);
void db_checkpoint_if_due(struct db *);
/* A passive checkpoint now; one noted as due is then done. */
void db_checkpoint(struct db *);
sqlite3 *db_handle(struct db *);

/*
 * The cached statement for `sql`, which must be a string literal (its
 * address is the cache key).  The statement comes back reset with its
 * bindings cleared; the caller calls db_done when finished with it, so no
 * read transaction stays open.  NULL on error (logged).
 */
sqlite3_stmt *db_prepare(struct db *, const char *sql);
/*
 * db_prepare for a read that may see this thread's shared read transaction:
 * the data as of the last commit of this process (any connection), or up
 * to DB_SHARED_MS old for commits by other processes.  Any db_prepare,
 * db_exec or db_begin on the connection ends the shared transaction, so
 * nothing else ever reads through it.  For the device poll.
 */
#define DB_SHARED_MS 100
sqlite3_stmt *db_prepare_shared(struct db *, const char *sql);
void db_done(sqlite3_stmt *);

/* Run SQL without results (may hold several statements).  0 ok, -1 (logged). */
int db_exec(struct db *, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  0 ok, -1 failed (logged). */
int db_begin(struct db *);
int db_commit(struct db *);
void db_rollback(struct db *);

/*
 * Step a statement that returns no rows and reset it: RESULT_OK, or
 * RESULT_CONFLICT for a constraint (a unique key taken), or RESULT_ERROR
 * (logged with `where`).
 */
enum result db_step_done(struct db *, sqlite3_stmt *, const char *where);

/* Step an INSERT ... RETURNING id and reset it: RESULT_OK with *id,
 * RESULT_CONFLICT for a constraint, or RESULT_ERROR (logged). */
enum result db_step_id(
    struct db *, sqlite3_stmt *, int64_t *id, const char *where);

/* db_step_done for an UPDATE or DELETE of one row: RESULT_NOTFOUND when
 * it changed nothing. */
enum result db_step_changed(struct db *, sqlite3_stmt *, const char *where);

/* Step st to the end, collecting column 0 as integers (ids); resets st.
 * Returns an array of *n ids the caller frees (NULL when none). */
int64_t *db_collect_ids(sqlite3_stmt *st, size_t *n);
/* Step st once and return column 0 (a count), 0 if no row; resets st. */
int64_t db_count(sqlite3_stmt *st);

/* Log the connection's last error with the caller's name. */
void db_log_error(struct db *, const char *where);

/*
 * A statement for SQL built at run time (a filter, an order): prepared for
 * this one use, finalized by the caller with sqlite3_finalize; NULL
 * (logged) on error.  Literal SQL goes through db_prepare's cache.
 */
sqlite3_stmt *db_prepare_once(struct db *, const char *sql);
/* Bind a compiled FIQL filter's values (rsql.h) from index first on. */
struct rsql_query;
void db_bind_query(sqlite3_stmt *, int first, const struct rsql_query *);

/* Convenience binders: NULL text binds SQL NULL.  0 ok, -1 failed. */
int db_bind_text(sqlite3_stmt *, int idx, const char *text);
int db_bind_int64(sqlite3_stmt *, int idx, int64_t v);
/* A copy of column i as a string the caller frees, or NULL if SQL NULL. */
char *db_column_strdup(sqlite3_stmt *, int i);

#endif
