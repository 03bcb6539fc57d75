/*
 * libFuzzer target for rsql_compile: any bytes are either refused with a
 * reason or compiled into a condition that SQLite prepares as it is, with
 * exactly one placeholder per value (values are never written into the
 * SQL), and that runs to the end over a small table.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsql.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct rsql_enum status_enums[] = {
    {"IN_SYNC", "in_sync"},
    {"PENDING", "pending"},
    {"ERROR", "error"},
    {NULL, NULL},
};

static const struct rsql_field fields[] = {
    {"id", RSQL_INT, "d.id", NULL},
    {"controllerId", RSQL_TEXT, "d.cid", NULL},
    {"name", RSQL_TEXT, "d.name", NULL},
    {"updateStatus", RSQL_ENUM, "d.state", status_enums},
    {"valid", RSQL_BOOL, "d.ok", NULL},
    {"metadata.", RSQL_TEXT,
        "(SELECT m.value FROM meta m WHERE m.dev_id = d.id AND "
        "m.meta_key = ?)",
        NULL},
};

static sqlite3 *db;

static void
open_db(void)
{
	static const char schema[] =
	    "CREATE TABLE dev (id INTEGER PRIMARY KEY, cid TEXT NOT NULL, "
	    "  name TEXT, state TEXT NOT NULL, ok INTEGER);"
	    "CREATE TABLE meta (dev_id INTEGER, meta_key TEXT, value TEXT);"
	    "INSERT INTO dev VALUES (1, 'dev-001', 'Kitchen', 'in_sync', 1);"
	    "INSERT INTO dev VALUES (2, 'dev-002', NULL, 'pending', 0);"
	    "INSERT INTO dev VALUES (3, '50%_*''\"', '\\', 'error', NULL);"
	    "INSERT INTO meta VALUES (1, 'location', 'factory-A');";

	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rsql_query q;
	enum rsql_err err;
	sqlite3_stmt *st;
	char why[256], *text, *sql;
	size_t i, marks = 0;
	int rc;

	if (db == NULL)
		open_db();
	text = xstrndup((const char *)data, size);
	err = rsql_compile(text, fields, sizeof(fields) / sizeof(fields[0]), &q,
	    why, sizeof(why));
	free(text);
	if (err != RSQL_OK) {
		/* A reason, valid UTF-8, and nothing left behind. */
		if (why[0] == '\0' || !utf8_valid(why, strlen(why)) ||
		    q.sql != NULL || q.params != NULL || q.nparams != 0)
			abort();
		return 0;
	}
	for (i = 0; q.sql[i] != '\0'; i++)
		marks += q.sql[i] == '?';
	if (marks != q.nparams || q.nparams > RSQL_PARAMS_MAX)
		abort();
	sql = xasprintf("SELECT d.id FROM dev d WHERE %s", q.sql);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "does not prepare: %s\n%s\n",
		    sqlite3_errmsg(db), sql);
		abort();
	}
	if (sqlite3_bind_parameter_count(st) != (int)q.nparams)
		abort();
	for (i = 0; i < q.nparams; i++) {
		if (q.params[i].is_int)
			rc =
			    sqlite3_bind_int64(st, (int)i + 1, q.params[i].num);
		else
			rc = sqlite3_bind_text(st, (int)i + 1, q.params[i].text,
			    -1, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			abort();
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		fprintf(
		    stderr, "does not run: %s\n%s\n", sqlite3_errmsg(db), sql);
		abort();
	}
	sqlite3_finalize(st);
	free(sql);
	rsql_query_free(&q);
	return 0;
}
