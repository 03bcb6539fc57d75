/*
 * Audit entries are written by http.c after every state-changing
 * management request, whatever its outcome, so refused attempts show too.
 */
#include "audit.h"

#include "db.h"
#include "log.h"
#include "util.h"

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

json_t *
audit_list_json(struct db *db, int64_t limit, int64_t offset)
{
	static const char sql[] =
	    "SELECT id, at, actor, address, action, target, status FROM audit "
	    "ORDER BY id DESC LIMIT ?1 OFFSET ?2";
	static const char count[] = "SELECT count(*) FROM audit";
	sqlite3_stmt *st;
	json_t *list = json_array();
	int64_t total = 0;

	if ((st = db_prepare(db, count)) != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		db_done(st);
	}
	if ((st = db_prepare(db, sql)) == NULL)
		return NULL;
	db_bind_int64(st, 1, limit);
	db_bind_int64(st, 2, offset);
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* Lossy: a row holding invalid UTF-8 (written by an older
		 * release) is shown, not left out while total counts it. */
		char *text[4];

		for (int i = 0; i < 4; i++)
			text[i] = utf8_lossy(
			    (const char *)sqlite3_column_text(st, 2 + i));
		json_array_append_new(list,
		    json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:i}", "id",
		        (json_int_t)sqlite3_column_int64(st, 0), "at",
		        (json_int_t)sqlite3_column_int64(st, 1), "user",
		        text[0] ? text[0] : "-", "address", text[1], "action",
		        text[2] ? text[2] : "", "target", text[3], "status",
		        sqlite3_column_int(st, 6)));
		for (int i = 0; i < 4; i++)
			free(text[i]);
	}
	db_done(st);
	return json_pack("{s:o, s:I, s:I, s:I}", "entries", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}
