/*
 * The migration runner.  Each pending migration runs inside BEGIN
 * IMMEDIATE ... COMMIT together with its PRAGMA user_version bump, so a
 * crash leaves the database at the previous version, never half-migrated.
 * A migration that rebuilds a table others refer to (SQLite's way of
 * changing a CHECK) starts with MIGRATE_FK_OFF: foreign keys are off
 * around its transaction, which can only be done outside one, and
 * PRAGMA foreign_key_check must find nothing before it commits.
 */
#include "migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

#define MIGRATE_FK_OFF "-- migrate: foreign_keys off\n"

/* Does PRAGMA foreign_key_check find no violation? */
static bool
migrate_fk_ok(struct db *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db_handle(db), "PRAGMA foreign_key_check", -1,
	        &st, NULL) != SQLITE_OK) {
		db_log_error(db, __func__);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		log_warnx("migration %s leaves a row of %s referring to a "
		          "missing row of %s",
		    name, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		db_log_error(db, __func__);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

/* Apply one migration in its transaction. */
static int
migrate_one(struct db *db, const struct migration *m)
{
	bool fk_off =
	    strncmp(m->sql, MIGRATE_FK_OFF, strlen(MIGRATE_FK_OFF)) == 0;
	char bump[64];
	int rc = -1;

	if (fk_off && db_exec(db, "PRAGMA foreign_keys=OFF") == -1)
		return -1;
	if (db_exec(db, "BEGIN IMMEDIATE") == -1)
		goto done;
	snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", m->version);
	if (db_exec(db, m->sql) == -1 || db_exec(db, bump) == -1 ||
	    (fk_off && !migrate_fk_ok(db, m->name))) {
		log_warnx("migration %s failed", m->name);
		db_exec(db, "ROLLBACK");
		goto done;
	}
	if (db_exec(db, "COMMIT") == -1) {
		db_exec(db, "ROLLBACK");
		goto done;
	}
	log_info("applied migration %s", m->name);
	rc = 0;
done:
	if (fk_off && db_exec(db, "PRAGMA foreign_keys=ON") == -1)
		rc = -1;
	return rc;
}

int
migrate_run(struct db *db)
{
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

		if (m->version > current && migrate_one(db, m) == -1)
			return -1;
	}
	return 0;
}
