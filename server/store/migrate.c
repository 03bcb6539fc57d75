/*
 * The migration runner.  Each pending migration runs inside BEGIN
 * IMMEDIATE ... COMMIT together with its PRAGMA user_version bump, so a
 * crash leaves the database at the previous version, never half-migrated.
 */
#include "migrate.h"

#include <stdio.h>

#include "db.h"
#include "log.h"

int
migrate_latest(void)
{
	return nmigrations ? migrations[nmigrations - 1].version : 0;
}

static int
migrate_user_version(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db_handle(db), "PRAGMA user_version", -1, &st,
	        NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		db_log_error(db, __func__);
	sqlite3_finalize(st);
	return v;
}

int
migrate_run(struct db *db)
{
	char bump[64];
	int current;

	if ((current = migrate_user_version(db)) < 0)
		return -1;
	if (current > migrate_latest()) {
		log_warnx("database schema version %d is newer than this "
		          "falconet knows (%d); refusing to run",
		    current, migrate_latest());
		return -1;
	}
	for (int i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];

		if (m->version <= current)
			continue;
		if (db_exec(db, "BEGIN IMMEDIATE") == -1)
			return -1;
		snprintf(
		    bump, sizeof(bump), "PRAGMA user_version=%d", m->version);
		if (db_exec(db, m->sql) == -1 || db_exec(db, bump) == -1) {
			log_warnx("migration %s failed", m->name);
			db_exec(db, "ROLLBACK");
			return -1;
		}
		if (db_exec(db, "COMMIT") == -1) {
			db_exec(db, "ROLLBACK");
			return -1;
		}
		log_info("applied migration %s", m->name);
	}
	return 0;
}
