-- What hawkBit's Management API (/rest/v1) keeps about a target beyond
-- Falconet's own device row, and the indexes its filters need.

-- An operator's description, who created and last changed the row, and
-- when (Unix seconds, as created_at).
ALTER TABLE device ADD COLUMN description TEXT;
ALTER TABLE device ADD COLUMN created_by TEXT;
ALTER TABLE device ADD COLUMN modified_at INTEGER;
ALTER TABLE device ADD COLUMN modified_by TEXT;
-- The TargetToken itself, sealed with AES-256-GCM under the key file
-- data_dir/token.key (tokenbox.c), so that /rest/v1 can show it as hawkBit
-- does.  token_hash stays what devices are checked against; a token set
-- before this column existed has a hash only and is not shown.
ALTER TABLE device ADD COLUMN token_sealed TEXT;

-- hawkBit's updateStatus, kept by the triggers below from the device's
-- newest action: pending while it is open, in_sync once it succeeded,
-- error once it failed; a canceled or download-only one leaves in_sync if
-- an earlier update succeeded, else registered.  Without actions: unknown until the first
-- contact, registered from then on.  A column, so that a filter on it is
-- an index lookup among a million devices.
ALTER TABLE device ADD COLUMN update_status TEXT NOT NULL DEFAULT 'unknown';

UPDATE device SET update_status = CASE
    (SELECT a.status FROM action a WHERE a.device_id = device.id
     ORDER BY a.id DESC LIMIT 1)
    WHEN 'scheduled' THEN 'pending' WHEN 'running' THEN 'pending'
    WHEN 'canceling' THEN 'pending' WHEN 'succeeded' THEN 'in_sync'
    WHEN 'failed' THEN 'error'
    WHEN 'canceled' THEN CASE WHEN EXISTS (SELECT 1 FROM action s
        WHERE s.device_id = device.id AND s.status = 'succeeded')
        THEN 'in_sync' ELSE 'registered' END
    ELSE CASE WHEN EXISTS (SELECT 1 FROM device_seen WHERE
        device_seen.device_id = device.id) THEN 'registered'
        ELSE 'unknown' END END;

CREATE TRIGGER device_update_status_new AFTER INSERT ON action
BEGIN
	UPDATE device SET update_status = CASE NEW.status
	    WHEN 'succeeded' THEN 'in_sync' WHEN 'failed' THEN 'error'
	    WHEN 'canceled' THEN CASE WHEN EXISTS (SELECT 1 FROM action s
	        WHERE s.device_id = NEW.device_id AND s.status = 'succeeded')
	        THEN 'in_sync' ELSE 'registered' END
	    WHEN 'downloaded' THEN CASE WHEN EXISTS (SELECT 1 FROM action s
	        WHERE s.device_id = NEW.device_id AND s.status = 'succeeded')
	        THEN 'in_sync' ELSE 'registered' END
	    ELSE 'pending' END
	WHERE id = NEW.device_id;
END;

CREATE TRIGGER device_update_status_change AFTER UPDATE OF status ON action
    WHEN NEW.id = (SELECT max(x.id) FROM action x
                   WHERE x.device_id = NEW.device_id)
BEGIN
	UPDATE device SET update_status = CASE NEW.status
	    WHEN 'succeeded' THEN 'in_sync' WHEN 'failed' THEN 'error'
	    WHEN 'canceled' THEN CASE WHEN EXISTS (SELECT 1 FROM action s
	        WHERE s.device_id = NEW.device_id AND s.status = 'succeeded')
	        THEN 'in_sync' ELSE 'registered' END
	    WHEN 'downloaded' THEN CASE WHEN EXISTS (SELECT 1 FROM action s
	        WHERE s.device_id = NEW.device_id AND s.status = 'succeeded')
	        THEN 'in_sync' ELSE 'registered' END
	    ELSE 'pending' END
	WHERE id = NEW.device_id;
END;

CREATE TRIGGER device_update_status_seen AFTER INSERT ON device_seen
BEGIN
	UPDATE device SET update_status = 'registered'
	WHERE id = NEW.device_id AND update_status = 'unknown';
END;

-- The filters of GET /rest/v1/targets compare text ignoring case
-- (LOWER(field) = LOWER(?)): indexes on the same expressions.
CREATE INDEX device_cid_lower ON device (LOWER(controller_id));
CREATE INDEX device_name_lower ON device (LOWER(name));
CREATE INDEX device_update_status ON device (update_status, controller_id);
-- attribute.KEY and metadata.KEY filters look devices up by key and value
-- (rest_targets.c turns their comparisons into such lookups).
CREATE INDEX device_attribute_value ON device_attribute (key, LOWER(value));
CREATE INDEX device_metadata_value ON device_metadata (meta_key,
    LOWER(meta_value));
