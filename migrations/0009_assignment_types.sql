-- migrate: foreign_keys off
--
-- Assignments as hawkBit makes them.  An action gains its type (forced,
-- soft, downloadonly, timeforced; forced for every existing one), the
-- time a timeforced action becomes forced (force_time, Unix
-- milliseconds), an optional maintenance window (a Quartz cron schedule,
-- an HH:MM:SS duration and a +HH:MM time zone, all three or none), and
-- whether an operator's explicit assignment made it (explicit: the
-- poll's policy never withdraws or replaces it), and whether the device
-- was ever told to install it (update_offered: deploymentBase answered
-- update attempt or forced; a device told to skip that reports success
-- has not installed it).  A closed status
-- 'downloaded' ends a download-only action the device has downloaded.
--
-- A history entry gains hawkBit's status type (type: finished, error,
-- running, retrieved, download, downloaded, canceling, canceled,
-- warning, cancel_rejected; NULL for an entry of Falconet's own that
-- hawkBit would not show), the device's messages of one feedback as a
-- JSON array of strings (bounded in server/model/action.h) and the code
-- the device sent.
--
-- The CHECK on action.status cannot be altered, so both tables are
-- rebuilt as SQLite documents it (https://sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"): the runner turns foreign keys
-- off outside the transaction for this file and runs
-- PRAGMA foreign_key_check before it commits.  Ids and rows are kept.
CREATE TABLE action_new (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	ds_id INTEGER NOT NULL REFERENCES distribution_set (id),
	rollout_id INTEGER REFERENCES rollout (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'scheduled'
	    CHECK (status IN ('scheduled', 'running', 'canceling',
	    'succeeded', 'failed', 'canceled', 'downloaded')),
	forced INTEGER NOT NULL DEFAULT 0,
	progress INTEGER,
	result_code INTEGER,
	stale INTEGER NOT NULL DEFAULT 0,
	superseded INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	retrieved_at INTEGER,
	updated_at INTEGER NOT NULL,
	closed_at INTEGER,
	history_rows INTEGER NOT NULL DEFAULT 0,
	history_dropped INTEGER NOT NULL DEFAULT 0,
	history_head INTEGER NOT NULL DEFAULT 0,
	log_rows INTEGER NOT NULL DEFAULT 0,
	log_dropped INTEGER NOT NULL DEFAULT 0,
	log_head INTEGER NOT NULL DEFAULT 0,
	type TEXT NOT NULL DEFAULT 'forced'
	    CHECK (type IN ('forced', 'soft', 'downloadonly', 'timeforced')),
	force_time INTEGER,
	mw_schedule TEXT,
	mw_duration TEXT,
	mw_timezone TEXT,
	explicit INTEGER NOT NULL DEFAULT 0,
	update_offered INTEGER NOT NULL DEFAULT 0,
	CHECK ((mw_schedule IS NULL) = (mw_duration IS NULL) AND
	    (mw_schedule IS NULL) = (mw_timezone IS NULL))
);
INSERT INTO action_new (id, device_id, ds_id, rollout_id, status, forced,
    progress, result_code, stale, superseded, created_at, retrieved_at,
    updated_at, closed_at, history_rows, history_dropped, history_head,
    log_rows, log_dropped, log_head, update_offered)
    SELECT id, device_id, ds_id, rollout_id, status, forced, progress,
        result_code, stale, superseded, created_at, retrieved_at,
        updated_at, closed_at, history_rows, history_dropped, history_head,
        log_rows, log_dropped, log_head, retrieved_at IS NOT NULL
    FROM action;
DROP TABLE action;
ALTER TABLE action_new RENAME TO action;
CREATE INDEX action_device ON action (device_id, id);
CREATE INDEX action_open ON action (status, rollout_id);
CREATE INDEX action_rollout ON action (rollout_id, status);

-- Older entries get the type their status or feedback meant, and their
-- message as the one message; Falconet's status changes (no message)
-- stay without a type.
CREATE TABLE action_status_new (
	id INTEGER PRIMARY KEY,
	action_id INTEGER NOT NULL REFERENCES action (id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	status TEXT NOT NULL,
	message TEXT,
	repeats INTEGER NOT NULL DEFAULT 1,
	last_at INTEGER,
	type TEXT,
	messages TEXT,
	code INTEGER
);
INSERT INTO action_status_new (id, action_id, at, status, message, repeats,
    last_at, type, messages)
    SELECT id, action_id, at, status, message, repeats, last_at,
        CASE WHEN message IS NULL THEN NULL
        WHEN status = 'closed' AND message LIKE '%/failure%' THEN 'error'
        WHEN status = 'closed' AND message LIKE 'cancel %' THEN 'canceled'
        WHEN status = 'closed' THEN 'finished'
        WHEN status IN ('retrieved', 'download', 'downloaded', 'canceled',
            'canceling') THEN status
        WHEN status = 'rejected' THEN 'warning'
        ELSE 'running' END,
        CASE WHEN message IS NULL THEN NULL ELSE json_array(message) END
    FROM action_status;
DROP TABLE action_status;
ALTER TABLE action_status_new RENAME TO action_status;
CREATE INDEX action_status_action ON action_status (action_id, id);
