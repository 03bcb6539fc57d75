-- Rollouts in waves (hawkBit's rollout groups).  A rollout's devices are
-- placed in its groups when it starts: each group takes a share of the
-- devices (of its feed, in rollout mode, that fit the set and its filter)
-- not placed by an earlier one, the last takes the rest, and a device that
-- joins later goes to the last group.  A group runs once the one before
-- it met its success condition (a share of its devices updated) and, if it
-- asks for it, an operator approved it; a group that meets its error
-- condition (a share failed) pauses the rollout.
--
-- state: ready (created, not started: its start_at, or an operator,
-- starts it), starting (placing devices), running, paused.  paused stays
-- as before (1 while state is paused), for the older API.
ALTER TABLE rollout ADD COLUMN state TEXT NOT NULL DEFAULT 'running'
    CHECK (state IN ('ready', 'starting', 'running', 'paused'));
-- A FIQL filter over the feed's devices (attributes, metadata, ...);
-- NULL: every device of the feed.
ALTER TABLE rollout ADD COLUMN target_filter TEXT;
ALTER TABLE rollout ADD COLUMN start_at BIGINT;
ALTER TABLE rollout ADD COLUMN started_at BIGINT;
UPDATE rollout SET state = CASE WHEN paused = 1 THEN 'paused'
    ELSE 'running' END, started_at = created_at;

-- A rollout's groups, in order.  target_percent is of the devices not
-- placed by earlier groups (hawkBit's targetPercentage), target_count a
-- number of them; neither: the rest.  Counters hold how many of the
-- group's devices are in each state (rollout_target.state); pending is
-- total minus the others.  retry marks a follow-up wave of devices that
-- failed: they are offered the set again although their last update
-- failed.  retried counts the devices moved out of the group into one.
CREATE TABLE rollout_group (
	id INTEGER PRIMARY KEY,
	rollout_id INTEGER NOT NULL REFERENCES rollout (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	name TEXT NOT NULL,
	target_percent INTEGER,
	target_count BIGINT,
	success_percent INTEGER NOT NULL DEFAULT 100,
	error_percent INTEGER NOT NULL DEFAULT 0,
	approval INTEGER NOT NULL DEFAULT 0,
	retry INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'scheduled'
	    CHECK (state IN ('scheduled', 'waiting_approval', 'running',
	    'finished', 'error')),
	total BIGINT NOT NULL DEFAULT 0,
	running BIGINT NOT NULL DEFAULT 0,
	succeeded BIGINT NOT NULL DEFAULT 0,
	failed BIGINT NOT NULL DEFAULT 0,
	canceled BIGINT NOT NULL DEFAULT 0,
	retried BIGINT NOT NULL DEFAULT 0,
	started_at BIGINT,
	finished_at BIGINT
);
CREATE UNIQUE INDEX rollout_group_position
    ON rollout_group (rollout_id, position);

-- Which group each device of a rollout is in, and how far it got there
-- (pending, running, succeeded, failed, canceled).  group_id NULL: the
-- device was considered and is not targeted (its filter or hardware did
-- not fit), so that it is not considered again.
CREATE TABLE rollout_target (
	rollout_id INTEGER NOT NULL REFERENCES rollout (id) ON DELETE CASCADE,
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	group_id INTEGER REFERENCES rollout_group (id) ON DELETE CASCADE,
	state TEXT NOT NULL DEFAULT 'pending'
	    CHECK (state IN ('pending', 'running', 'succeeded', 'failed',
	    'canceled')),
	PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX rollout_target_group ON rollout_target (group_id, state);
CREATE INDEX rollout_target_device ON rollout_target (device_id);

-- Every existing rollout becomes one running group of its whole feed.
-- The devices that had an action of it are placed with the state of
-- their newest one; the others join when they next poll.
INSERT INTO rollout_group (rollout_id, position, name, state, started_at)
    SELECT id, 1, 'All devices', 'running', created_at FROM rollout;
INSERT INTO rollout_target (rollout_id, device_id, group_id, state)
    SELECT a.rollout_id, a.device_id, g.id,
        CASE WHEN a.status IN ('scheduled', 'running', 'canceling')
                THEN 'running'
            WHEN a.status = 'succeeded' THEN 'succeeded'
            WHEN a.status = 'failed' THEN 'failed'
            WHEN a.superseded = 1 THEN 'pending'
            ELSE 'canceled' END
    FROM action a JOIN rollout_group g ON g.rollout_id = a.rollout_id
    WHERE a.id = (SELECT max(b.id) FROM action b
        WHERE b.device_id = a.device_id AND b.rollout_id = a.rollout_id);
UPDATE rollout_group SET
    total = (SELECT count(*) FROM rollout_target t
        WHERE t.group_id = rollout_group.id),
    running = (SELECT count(*) FROM rollout_target t
        WHERE t.group_id = rollout_group.id AND t.state = 'running'),
    succeeded = (SELECT count(*) FROM rollout_target t
        WHERE t.group_id = rollout_group.id AND t.state = 'succeeded'),
    failed = (SELECT count(*) FROM rollout_target t
        WHERE t.group_id = rollout_group.id AND t.state = 'failed'),
    canceled = (SELECT count(*) FROM rollout_target t
        WHERE t.group_id = rollout_group.id AND t.state = 'canceled');

-- Saved target filters (hawkBit's target filter queries): a name and a
-- FIQL query over devices that a rollout can take as its target filter
-- (the query is copied into the rollout when it is made).
CREATE TABLE target_filter (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	query TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT,
	modified_at BIGINT NOT NULL,
	modified_by TEXT
);
