/*
 * The memory of refused requests (store/refused.c) on a real, migrated
 * database: notes of one id coalesce into one row per reason, attempts
 * add up across flushes and start again once the device was accepted, an
 * id keeps REFUSED_PER_ID reasons, the table keeps rows_max rows (the
 * most recent), and a flood of new ids within one flush is bounded at
 * REFUSED_PENDING_MAX: the rest is counted as dropped, not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "refused.h"

static char path[64];
static struct db *db;

static int
setup(void **state)
{
	int fd;

	(void)state;
	log_init(LOG_LVL_ERROR, false);
	snprintf(path, sizeof(path), "/tmp/test_refused.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	close(fd);
	if ((db = db_open(path)) == NULL || migrate_run(db) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char aux[80];

	(void)state;
	db_close(db);
	unlink(path);
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
	return 0;
}

/* An integer the SQL answers (its first column). */
static int64_t
q(const char *sql)
{
	sqlite3_stmt *st = db_prepare_once(db, sql);
	int64_t v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_coalesced(void **state)
{
	struct refused *m = refused_new(1000);

	(void)state;
	assert_int_equal(db_exec(db, "DELETE FROM refused_request"), 0);
	for (int i = 0; i < 500; i++)
		refused_note(m, "dev-1", "10.0.0.1", REFUSED_WRONG_TOKEN);
	refused_note(m, "dev-1", "10.0.0.2", REFUSED_MISSING_TOKEN);
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(q("SELECT count(*) FROM refused_request"), 2);
	assert_int_equal(q("SELECT attempts FROM refused_request WHERE "
	                   "reason = 'wrong_target_token'"),
	    500);
	/* Added up by the next flush. */
	refused_note(m, "dev-1", "10.0.0.1", REFUSED_WRONG_TOKEN);
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(q("SELECT attempts FROM refused_request WHERE "
	                   "reason = 'wrong_target_token'"),
	    501);
	/* Nothing noted: the flush writes nothing. */
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(q("SELECT count(*) FROM refused_request"), 2);
	refused_free(m);
}

static void
test_reset_after_accepted(void **state)
{
	struct refused *m = refused_new(1000);

	(void)state;
	assert_int_equal(
	    db_exec(db, "DELETE FROM refused_request;"
	                "INSERT INTO device (controller_id, "
	                "created_at) VALUES ('dev-2', 1);"
	                "INSERT INTO refused_request "
	                "(controller_id, reason, attempts, "
	                "first_at, last_at, last_ms) VALUES ('dev-2', "
	                "'wrong_target_token', 99, 1, 2, 2000);"
	                "INSERT INTO device_seen (device_id, at) "
	                "SELECT id, 3 FROM device WHERE "
	                "controller_id = 'dev-2';"),
	    0);
	refused_note(m, "dev-2", NULL, REFUSED_WRONG_TOKEN);
	assert_int_equal(refused_flush(m, db), 0);
	/* Accepted at 3, after the old trouble: counting starts again. */
	assert_int_equal(q("SELECT attempts FROM refused_request WHERE "
	                   "controller_id = 'dev-2'"),
	    1);
	assert_true(q("SELECT first_at FROM refused_request WHERE "
	              "controller_id = 'dev-2'") > 2);
	refused_free(m);
}

static void
test_bounds(void **state)
{
	struct refused *m = refused_new(50);
	char cid[32];

	(void)state;
	assert_int_equal(db_exec(db, "DELETE FROM refused_request"), 0);
	/* Every reason for one id: REFUSED_PER_ID rows stay. */
	for (int r = 0; r < REFUSED_NREASONS; r++)
		refused_note(m, "many", "a", (enum refused_reason)r);
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(q("SELECT count(*) FROM refused_request WHERE "
	                   "controller_id = 'many'"),
	    REFUSED_PER_ID);
	/* 200 ids, 50 rows kept. */
	for (int i = 0; i < 200; i++) {
		snprintf(cid, sizeof(cid), "stranger-%d", i);
		refused_note(m, cid, "b", REFUSED_UNKNOWN_DEVICE);
	}
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(q("SELECT count(*) FROM refused_request"), 50);
	/* The most recent stay, in the order they came within a second. */
	assert_int_equal(q("SELECT count(*) FROM refused_request WHERE "
	                   "controller_id = 'stranger-199'"),
	    1);
	assert_int_equal(q("SELECT count(*) FROM refused_request WHERE "
	                   "controller_id = 'stranger-150'"),
	    1);
	assert_int_equal(q("SELECT count(*) FROM refused_request WHERE "
	                   "controller_id = 'stranger-149'"),
	    0);
	refused_free(m);
}

static void
test_flood_bounded(void **state)
{
	struct refused *m = refused_new(1000000);
	char cid[32];

	(void)state;
	assert_int_equal(db_exec(db, "DELETE FROM refused_request"), 0);
	for (int i = 0; i < REFUSED_PENDING_MAX + 100; i++) {
		snprintf(cid, sizeof(cid), "flood-%d", i);
		refused_note(m, cid, "c", REFUSED_UNKNOWN_DEVICE);
	}
	/* Known keys still count while the table is full. */
	refused_note(m, "flood-0", "c", REFUSED_UNKNOWN_DEVICE);
	assert_int_equal(refused_dropped(m), 100);
	assert_int_equal(refused_flush(m, db), 0);
	assert_int_equal(
	    q("SELECT count(*) FROM refused_request"), REFUSED_PENDING_MAX);
	assert_int_equal(q("SELECT attempts FROM refused_request WHERE "
	                   "controller_id = 'flood-0'"),
	    2);
	/* After the flush there is room again. */
	refused_note(m, "late", "c", REFUSED_UNKNOWN_DEVICE);
	assert_int_equal(refused_dropped(m), 100);
	refused_free(m);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(
	    refused_reason_code(REFUSED_WRONG_TOKEN), "wrong_target_token");
	assert_string_equal(
	    refused_text_of_code("wrong_target_token"), "wrong TargetToken");
	assert_string_equal(refused_text_of_code("certificate_mismatch"),
	    "certificate mismatch");
	assert_string_equal(refused_reason_code(REFUSED_NREASONS), "unknown");
	refused_note(NULL, "x", "y", REFUSED_WRONG_TOKEN); /* no memory */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_coalesced),
	    cmocka_unit_test(test_reset_after_accepted),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_flood_bounded),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
