-- Requests refused at the door (a wrong or missing TargetToken, an id
-- token mode does not know, a certificate naming another device), per
-- controller id and reason: how often since the device was last accepted,
-- when first and last, and from which address.  refused.c writes them
-- about once a second and keeps a few reasons per id and a bounded number
-- of rows in all.  controller_id is no foreign key: most ids refused are
-- not devices.
CREATE TABLE refused_request (
	id INTEGER PRIMARY KEY,
	controller_id TEXT NOT NULL,
	reason TEXT NOT NULL,
	attempts BIGINT NOT NULL,
	first_at BIGINT NOT NULL,
	last_at BIGINT NOT NULL,
	last_ms BIGINT NOT NULL, -- last_at in ms: orders refusals within a second
	address TEXT
);
CREATE UNIQUE INDEX refused_request_key
    ON refused_request (controller_id, reason);
CREATE INDEX refused_request_last ON refused_request (last_ms);
