-- Falconet schema, first version.  Plain SQL that PostgreSQL also accepts
-- (INTEGER PRIMARY KEY becomes an identity column there).  Times are Unix
-- seconds; booleans are 0/1 integers.

-- Software: one uploaded .swu image.  path is the file name under
-- data_dir/artifacts; NULL once the file was deleted but the row is kept for
-- the history of devices that installed it (deleted_at set).
CREATE TABLE software (
	id INTEGER PRIMARY KEY,
	filename TEXT NOT NULL,
	version TEXT NOT NULL,
	description TEXT,
	size INTEGER NOT NULL,
	md5 TEXT NOT NULL,
	sha1 TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	is_signed INTEGER NOT NULL DEFAULT 0,
	path TEXT,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER
);
CREATE INDEX software_version ON software (version);

-- Hardware compatibility of a software: board '' means any board; revision
-- NULL means any revision; is_regex marks SWUpdate "#RE:" entries.
CREATE TABLE software_hw (
	software_id INTEGER NOT NULL REFERENCES software (id) ON DELETE CASCADE,
	board TEXT NOT NULL,
	revision TEXT,
	is_regex INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX software_hw_software ON software_hw (software_id);

-- Rollouts: every device in rollout mode on `feed` whose hardware fits
-- should run `software_id`.  The newest unpaused fitting rollout of a feed
-- wins.  Thresholds of 0 mean "no limit".
CREATE TABLE rollout (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	feed TEXT NOT NULL,
	software_id INTEGER NOT NULL REFERENCES software (id),
	paused INTEGER NOT NULL DEFAULT 0,
	pause_reason TEXT,
	max_running INTEGER NOT NULL DEFAULT 0,
	failure_threshold_count INTEGER NOT NULL DEFAULT 0,
	failure_threshold_percent INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX rollout_feed ON rollout (feed, paused, id);

-- Devices, identified by the DDI controller id.  token_hash is the SHA-256
-- of the TargetToken (never the token).  hw_model, hw_revision and
-- installed_version are copied from the configured attribute names.
CREATE TABLE device (
	id INTEGER PRIMARY KEY,
	controller_id TEXT NOT NULL UNIQUE,
	name TEXT,
	token_hash TEXT,
	mode TEXT NOT NULL DEFAULT 'rollout'
	    CHECK (mode IN ('rollout', 'latest', 'assigned', 'pinned')),
	feed TEXT NOT NULL DEFAULT 'default',
	assigned_software_id INTEGER REFERENCES software (id) ON DELETE SET NULL,
	force_update INTEGER NOT NULL DEFAULT 0,
	allow_downgrade INTEGER NOT NULL DEFAULT 0,
	hw_model TEXT,
	hw_revision TEXT,
	installed_version TEXT,
	request_attributes INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	last_seen INTEGER,
	last_address TEXT
);
CREATE INDEX device_feed ON device (feed);

CREATE TABLE device_attribute (
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT,
	PRIMARY KEY (device_id, key)
);

-- Actions: one deployment of one software to one device.  status moves
-- scheduled -> running -> succeeded | failed | canceled, with canceling
-- between running and canceled when an operator cancels.  superseded marks
-- a scheduled action withdrawn because the policy chose otherwise; stale an
-- open action with no feedback for updates.stale_timeout.
CREATE TABLE action (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	software_id INTEGER NOT NULL REFERENCES software (id),
	rollout_id INTEGER REFERENCES rollout (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'scheduled'
	    CHECK (status IN ('scheduled', 'running', 'canceling',
	    'succeeded', 'failed', 'canceled')),
	forced INTEGER NOT NULL DEFAULT 0,
	progress INTEGER,
	result_code INTEGER,
	stale INTEGER NOT NULL DEFAULT 0,
	superseded INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	retrieved_at INTEGER,
	updated_at INTEGER NOT NULL,
	closed_at INTEGER
);
CREATE INDEX action_device ON action (device_id, id);
CREATE INDEX action_open ON action (status, rollout_id);
CREATE INDEX action_rollout ON action (rollout_id, status);

-- What happened to an action, oldest first: status changes and feedback.
CREATE TABLE action_status (
	id INTEGER PRIMARY KEY,
	action_id INTEGER NOT NULL REFERENCES action (id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	status TEXT NOT NULL,
	message TEXT
);
CREATE INDEX action_status_action ON action_status (action_id, id);

-- The device log: feedback details lines, in arrival order.
CREATE TABLE action_log (
	id INTEGER PRIMARY KEY,
	action_id INTEGER NOT NULL REFERENCES action (id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	line TEXT NOT NULL
);
CREATE INDEX action_log_action ON action_log (action_id, id);

-- Management API tokens: only the SHA-256 of each token is stored.
CREATE TABLE api_token (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	last_used_at INTEGER
);
CREATE UNIQUE INDEX api_token_name ON api_token (name);
