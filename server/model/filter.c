/*
 * Saved target filters.  A query is checked as a rollout's target filter
 * is (wave_filter_problem), so that any saved one can be rolled out to.
 */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "wave.h"

#define FILTER_COLUMNS                                                         \
	"id, name, query, created_at, created_by, modified_at, modified_by"

static const char *
filter_problem(const char *name, const char *query)
{
	static __thread char why[200];
	char buf[160];
	const char *p;

	if (name && (name[0] == '\0' || strlen(name) > FILTER_NAME_MAX ||
	                !utf8_valid(name, strlen(name))))
		return "name: 1 to 128 bytes of UTF-8";
	if (query && (query[0] == '\0' || strlen(query) > WAVE_FILTER_MAX))
		return "query: 1 to 4096 bytes";
	if (query && (p = wave_filter_problem(query, buf, sizeof(buf)))) {
		/* Per thread: it lives until this thread's handler answered. */
		snprintf(why, sizeof(why), "query: %s", p);
		return why;
	}
	return NULL;
}

enum result
filter_create(struct db *db, const char *name, const char *query,
    const char *by, int64_t *id, const char **why)
{
	static const char sql[] =
	    "INSERT INTO target_filter (name, query, created_at, created_by, "
	    "modified_at, modified_by) VALUES (?1, ?2, ?3, ?4, ?3, ?4) "
	    "RETURNING id";
	sqlite3_stmt *st;

	if (name == NULL || query == NULL)
		return *why = "name and query are needed", RESULT_INVALID;
	if ((*why = filter_problem(name, query)) != NULL)
		return RESULT_INVALID;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, query);
	db_bind_int64(st, 3, now_s());
	db_bind_text(st, 4, by);
	return db_step_id(db, st, id, __func__);
}

enum result
filter_update(struct db *db, int64_t id, const char *name, const char *query,
    const char *by, const char **why)
{
	static const char sql[] =
	    "UPDATE target_filter SET name = COALESCE(?2, name), query = "
	    "COALESCE(?3, query), modified_at = ?4, modified_by = ?5 "
	    "WHERE id = ?1";
	sqlite3_stmt *st;

	if ((*why = filter_problem(name, query)) != NULL)
		return RESULT_INVALID;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, query);
	db_bind_int64(st, 4, now_s());
	db_bind_text(st, 5, by);
	return db_step_changed(db, st, __func__);
}

enum result
filter_delete(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM target_filter WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_changed(db, st, __func__);
}

static void
filter_from_row(sqlite3_stmt *st, struct target_filter *f)
{
	f->id = sqlite3_column_int64(st, 0);
	f->name = db_column_strdup(st, 1);
	f->query = db_column_strdup(st, 2);
	f->created_at = sqlite3_column_int64(st, 3);
	f->created_by = db_column_strdup(st, 4);
	f->modified_at = sqlite3_column_int64(st, 5);
	f->modified_by = db_column_strdup(st, 6);
}

enum result
filter_load(struct db *db, int64_t id, struct target_filter *f)
{
	static const char sql[] =
	    "SELECT " FILTER_COLUMNS " FROM target_filter WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	memset(f, 0, sizeof(*f));
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		filter_from_row(st, f);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

void
filter_clear(struct target_filter *f)
{
	free(f->name);
	free(f->query);
	free(f->created_by);
	free(f->modified_by);
	memset(f, 0, sizeof(*f));
}

const struct rsql_field filter_fields[] = {
    {"id", RSQL_INT, "f.id", NULL},
    {"name", RSQL_TEXT, "f.name", NULL},
    {"query", RSQL_TEXT, "f.query", NULL},
};
const size_t nfilter_fields = NELEM(filter_fields);

enum result
filter_list(struct db *db, const struct rsql_query *q, int64_t limit,
    int64_t offset, struct target_filter **out, size_t *n, int64_t *total)
{
	const char *where = q && q->sql ? q->sql : "1 = 1";
	size_t np = q ? q->nparams : 0, cap = 0;
	sqlite3_stmt *st;
	char *sql;

	*out = NULL;
	*n = 0;
	sql = xasprintf("SELECT count(*) FROM target_filter f WHERE %s", where);
	st = db_prepare_once(db, sql);
	free(sql);
	if (st == NULL)
		return RESULT_ERROR;
	if (q)
		db_bind_query(st, 1, q);
	*total =
	    sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	sql = xasprintf("SELECT " FILTER_COLUMNS " FROM target_filter f "
	                "WHERE %s ORDER BY id LIMIT ?%zu OFFSET ?%zu",
	    where, np + 1, np + 2);
	st = db_prepare_once(db, sql);
	free(sql);
	if (st == NULL)
		return RESULT_ERROR;
	if (q)
		db_bind_query(st, 1, q);
	db_bind_int64(st, (int)np + 1, limit);
	db_bind_int64(st, (int)np + 2, offset);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		filter_from_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return RESULT_OK;
}

void
filter_list_free(struct target_filter *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		filter_clear(&f[i]);
	free(f);
}
