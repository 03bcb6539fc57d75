-- Bounds on what one device can make an action store (security finding
-- #1: 200,000 feedbacks made 200,000 history rows, and every view of the
-- action held them all).
--
-- A history entry or log line identical to the action's newest one is
-- folded into it: repeats counts them and last_at is the newest time.
-- Past a cap (ACTION_HISTORY_MAX and ACTION_LOG_MAX in
-- server/model/action.h: 1,000 entries and 20,000 lines) an action keeps
-- its first entries (the head: 100 and 1,000) and its newest ones, and
-- drops the oldest of the middle.  The action row counts what it holds
-- (history_rows, log_rows) and what it dropped, and history_head and
-- log_head hold the id of the last head row once something was dropped,
-- so that no feedback ever counts rows.
ALTER TABLE action_status ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE action_status ADD COLUMN last_at INTEGER;
ALTER TABLE action_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE action_log ADD COLUMN last_at INTEGER;
ALTER TABLE action ADD COLUMN history_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action ADD COLUMN history_dropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action ADD COLUMN history_head INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action ADD COLUMN log_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action ADD COLUMN log_dropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action ADD COLUMN log_head INTEGER NOT NULL DEFAULT 0;

-- Actions already over a cap are cut the same way: the head and the
-- newest rows stay.  (The log used to keep its first 20,000 lines and
-- drop the rest uncounted; those are not known.)
UPDATE action SET history_dropped = max(0, (SELECT count(*)
    FROM action_status s WHERE s.action_id = action.id) - 1000);
DELETE FROM action_status WHERE id IN (SELECT id FROM (SELECT id,
    row_number() OVER (PARTITION BY action_id ORDER BY id) AS n,
    count(*) OVER (PARTITION BY action_id) AS total FROM action_status)
    WHERE n > 100 AND n <= total - 900);
UPDATE action SET log_dropped = max(0, (SELECT count(*)
    FROM action_log l WHERE l.action_id = action.id) - 20000);
DELETE FROM action_log WHERE id IN (SELECT id FROM (SELECT id,
    row_number() OVER (PARTITION BY action_id ORDER BY id) AS n,
    count(*) OVER (PARTITION BY action_id) AS total FROM action_log)
    WHERE n > 1000 AND n <= total - 19000);
UPDATE action SET
    history_rows = (SELECT count(*) FROM action_status s
        WHERE s.action_id = action.id),
    log_rows = (SELECT count(*) FROM action_log l
        WHERE l.action_id = action.id);
UPDATE action SET history_head = (SELECT id FROM action_status s
    WHERE s.action_id = action.id ORDER BY id LIMIT 1 OFFSET 99)
    WHERE history_dropped > 0;
UPDATE action SET log_head = (SELECT id FROM action_log l
    WHERE l.action_id = action.id ORDER BY id LIMIT 1 OFFSET 999)
    WHERE log_dropped > 0;
