-- User ids are never given twice.  app_user.id is an INTEGER PRIMARY KEY,
-- for which SQLite hands out the highest id plus one: deleting the newest
-- user gave its id to the next one, and with it anything that keys on the
-- id.  user_create takes the next id from this counter instead (portable:
-- PostgreSQL would use a sequence).
CREATE TABLE id_counter (
	name TEXT PRIMARY KEY,
	last_id BIGINT NOT NULL
);
INSERT INTO id_counter (name, last_id)
    SELECT 'app_user', COALESCE(MAX(id), 0) FROM app_user;
