#!/usr/bin/env bash
# migrations/0009 rebuilds the action and action_status tables (a new
# CHECK on action.status) with foreign keys off around its transaction:
# on a database of the previous schema, with actions, history and log
# rows, every id and row is kept, old actions become forced ones made by
# the policy, old entries get a hawkBit type and their message as the one
# message, the action's log and history are not cascaded away, foreign
# keys are back on afterwards, and the /rest/v1 and /api/v1 views read
# the old rows.  Also on release 3's own database.
. "$(dirname "$0")/lib.sh"

have sqlite3 || {
	fail "sqlite3 is required"
	finish
}
start_server
TOKEN=$(make_token admin)
DB_FILE=$T/data/falconet.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB_FILE" "$@"; }

setup_open_action 4K
feedback dev-x "$ACT" proceeding none "old line 1"
feedback dev-x "$ACT" closed failure "old line 2"
expect_status 200 "an action of the previous schema's kind, failed"
HIST=$(sql "SELECT count(*) FROM action_status WHERE action_id = $ACT")
LOGS=$(sql "SELECT count(*) FROM action_log WHERE action_id = $ACT")
ROWS=$(sql "SELECT group_concat(id || ':' || status || ':' || COALESCE(message, ''), '|') FROM (SELECT * FROM action_status WHERE action_id = $ACT ORDER BY id)")
stop_server

# The schema before 0009 (and 0008, undone too, as t0210 does): the old
# CHECK, no new columns.
sql "PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE old_action AS SELECT id, device_id, ds_id, rollout_id, status,
    forced, progress, result_code, stale, superseded, created_at,
    retrieved_at, updated_at, closed_at, history_rows, history_dropped,
    history_head, log_rows, log_dropped, log_head FROM action;
DROP TABLE action;
CREATE TABLE action (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	ds_id INTEGER NOT NULL REFERENCES distribution_set (id),
	rollout_id INTEGER REFERENCES rollout (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'scheduled'
	    CHECK (status IN ('scheduled', 'running', 'canceling',
	    'succeeded', 'failed', 'canceled')),
	forced INTEGER NOT NULL DEFAULT 0, progress INTEGER,
	result_code INTEGER, stale INTEGER NOT NULL DEFAULT 0,
	superseded INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
	retrieved_at INTEGER, updated_at INTEGER NOT NULL, closed_at INTEGER,
	history_rows INTEGER NOT NULL DEFAULT 0,
	history_dropped INTEGER NOT NULL DEFAULT 0,
	history_head INTEGER NOT NULL DEFAULT 0,
	log_rows INTEGER NOT NULL DEFAULT 0,
	log_dropped INTEGER NOT NULL DEFAULT 0,
	log_head INTEGER NOT NULL DEFAULT 0);
INSERT INTO action SELECT * FROM old_action;
DROP TABLE old_action;
ALTER TABLE action_status DROP COLUMN type;
ALTER TABLE action_status DROP COLUMN messages;
ALTER TABLE action_status DROP COLUMN code;
DROP TABLE system_config;
DROP TRIGGER IF EXISTS device_update_status_new;
DROP TRIGGER IF EXISTS device_update_status_change;
DROP TRIGGER device_update_status_seen;
DROP INDEX device_cid_lower;
DROP INDEX device_name_lower;
DROP INDEX device_update_status;
DROP INDEX device_attribute_value;
DROP INDEX device_metadata_value;
ALTER TABLE device DROP COLUMN description;
ALTER TABLE device DROP COLUMN created_by;
ALTER TABLE device DROP COLUMN modified_at;
ALTER TABLE device DROP COLUMN modified_by;
ALTER TABLE device DROP COLUMN token_sealed;
ALTER TABLE device DROP COLUMN update_status;
DROP TABLE target_filter;
DROP TABLE rollout_target;
DROP TABLE rollout_group;
ALTER TABLE rollout DROP COLUMN state;
ALTER TABLE rollout DROP COLUMN target_filter;
ALTER TABLE rollout DROP COLUMN start_at;
ALTER TABLE rollout DROP COLUMN started_at;
DROP TABLE refused_request;
PRAGMA user_version = 7;
COMMIT;" 2>&1 | sed 's/^/#   /'
check "the older database has no type column" \
    sh -c "! sqlite3 '$DB_FILE' 'SELECT type FROM action' 2>/dev/null"

start_server
check "the server migrates it" grep -q 'applied migration 0009' "$T/server.log"
expect_json_sql() { check "$2 (got $(sql "$1"))" [ "$(sql "$1")" = "$3" ]; }
LATEST=$(ls "$(dirname "$0")/../../migrations" | sed -n 's/^0*\([0-9][0-9]*\)_.*/\1/p' | sort -n | tail -1)
expect_json_sql "PRAGMA user_version" "schema version $LATEST" "$LATEST"
expect_json_sql "SELECT count(*) FROM action_status WHERE action_id = $ACT" \
    "every history row kept" "$HIST"
expect_json_sql "SELECT count(*) FROM action_log WHERE action_id = $ACT" \
    "every log row kept" "$LOGS"
expect_json_sql "SELECT group_concat(id || ':' || status || ':' || COALESCE(message, ''), '|') FROM (SELECT * FROM action_status WHERE action_id = $ACT ORDER BY id)" \
    "  with their ids, statuses and messages" "$ROWS"
expect_json_sql "SELECT id || ':' || status || ':' || type || ':' || explicit FROM action WHERE id = $ACT" \
    "the action: same id and status, forced, not explicit" "$ACT:failed:forced:0"
expect_json_sql "SELECT count(*) FROM pragma_foreign_key_check" "no dangling reference" 0
expect_json_sql "SELECT type || ' ' || messages FROM action_status WHERE action_id = $ACT AND status = 'closed'" \
    "the old closed/failure entry is an error with its message" \
    'error ["closed/failure: old line 2"]'
expect_json_sql "SELECT count(*) FROM action_status WHERE action_id = $ACT AND message IS NULL AND type IS NOT NULL" \
    "Falconet's status changes stay without a type" 0
expect_json_sql "SELECT count(*) FROM sqlite_master WHERE name IN ('action_device', 'action_open', 'action_rollout', 'action_status_action')" \
    "the indexes are back" 4

api GET "/api/v1/actions/$ACT"
expect_status 200 "/api/v1 reads the migrated action"
expect_json '[.status, .type, .history_count, .log_count]' "[\"failed\",\"forced\",$HIST,$LOGS]"
api GET "/rest/v1/targets/dev-x/actions/$ACT"
expect_json '[.status, .forceType, .active]' '["error","forced",false]' "/rest/v1 reads it"
api GET "/rest/v1/targets/dev-x/actions/$ACT/status?sort=id:DESC"
expect_json '.content[0].messages' '["closed/failure: old line 2"]' "  and its entries"

# Foreign keys are on again: deleting the device cascades.
api DELETE /api/v1/devices/dev-x
expect_status 204 "delete the device"
expect_json_sql "SELECT count(*) FROM action_status WHERE action_id = $ACT" \
    "its history goes with it (foreign keys on)" 0
stop_server

# --- release 3's own database ---------------------------------------------------
FIX=$(cd "$(dirname "$0")/../data/release-3" && pwd)
mkdir -p "$T/rel/data"
cp -r "$FIX/falconet.db" "$FIX/artifacts" "$T/rel/data/"
start_server "data_dir: $T/rel/data"
TOKEN=$(make_token release-check)
DB_FILE=$T/rel/data/falconet.db
expect_json_sql "SELECT group_concat(id || ':' || status || ':' || type, ',') FROM (SELECT * FROM action ORDER BY id)" \
    "release 3: both actions kept" "1:running:forced,2:succeeded:forced"
expect_json_sql "SELECT count(*) FROM action_status" "release 3: the history kept" 8
api GET /rest/v1/targets/dev-done/actions/2
expect_json '[.status, .type]' '["finished","update"]' "release 3: action 2 finished"
finish
