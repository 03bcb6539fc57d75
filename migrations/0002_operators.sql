-- Operator accounts, login sessions, personal API tokens and the audit log.

-- Users log in to the dashboard.  password is an argon2id encoded hash;
-- permissions a JSON array of grants ("*", "device", "device.read",
-- "!users.write", ...).
CREATE TABLE app_user (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	password TEXT NOT NULL,
	permissions TEXT NOT NULL DEFAULT '[]',
	enabled INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	last_login_at INTEGER
);

-- Login sessions: only the SHA-256 of the cookie value is stored.  The
-- CSRF token is sent back by the browser in X-CSRF-Token.
CREATE TABLE session (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE,
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	address TEXT
);
CREATE INDEX session_user ON session (user_id);

-- Personal tokens belong to a user and carry their own grants (never more
-- than the user's).  Tokens made with `falconet token create` have no user
-- and full access.
ALTER TABLE api_token ADD COLUMN user_id INTEGER
    REFERENCES app_user (id) ON DELETE CASCADE;
ALTER TABLE api_token ADD COLUMN permissions TEXT NOT NULL DEFAULT '["*"]';
DROP INDEX api_token_name;
CREATE UNIQUE INDEX api_token_name ON api_token (COALESCE(user_id, 0), name);

-- Who changed what, when and from where.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	address TEXT,
	action TEXT NOT NULL,
	target TEXT,
	status INTEGER NOT NULL
);
CREATE INDEX audit_at ON audit (at);
