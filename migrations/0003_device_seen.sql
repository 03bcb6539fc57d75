-- Last contact of each device, in a table of its own.  The last-seen
-- writer rewrites the row of about every device that polled in the last
-- second; a narrow table keeps those writes small and leaves the device
-- table's pages out of the WAL, so the polls that read them do not have to
-- look there first.
CREATE TABLE device_seen (
	device_id INTEGER PRIMARY KEY REFERENCES device (id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	address TEXT
);
INSERT INTO device_seen (device_id, at, address)
    SELECT id, last_seen, last_address FROM device
    WHERE last_seen IS NOT NULL;
ALTER TABLE device DROP COLUMN last_seen;
ALTER TABLE device DROP COLUMN last_address;
