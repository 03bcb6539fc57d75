-- Failed requests made without credentials (a login flood, say) are folded
-- into one audit entry per action, status, address and minute: count says
-- how many there were, last_at when the last came (NULL for an entry of
-- one request).  Retention (audit.max_age, audit.max_rows) deletes the
-- oldest entries by id.
ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit ADD COLUMN last_at INTEGER;
