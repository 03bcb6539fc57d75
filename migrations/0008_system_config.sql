-- Runtime system configuration (hawkBit's system/configs): a value set
-- through the API is stored here and wins over settings.yaml until it is
-- deleted.  A key without a row has its settings.yaml value.  Times are
-- epoch seconds; updated_by names the user or token that set the value.
CREATE TABLE system_config (
	config_key TEXT PRIMARY KEY,
	config_value TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL
);
