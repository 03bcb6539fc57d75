-- hawkBit's software model.  A distribution set (what devices are offered)
-- holds software modules of typed kinds; a module holds any number of
-- artifacts (files under data_dir/artifacts, or external URLs).
--
-- Every software row of the earlier schema becomes a distribution set of
-- type os with the same id, holding one module of type os with the same id,
-- holding one artifact with the same id.  Ids devices already hold keep
-- working: open action ids, and the softwaremodules/{id}/artifacts/{file}
-- URLs of their deployments.  Sets and modules are named as the file, the
-- chunk name devices saw.

-- Module types.  max_assignments is how many modules of the type one set
-- may hold (hawkBit's maxAssignments).
CREATE TABLE sm_type (
	id INTEGER PRIMARY KEY,
	type_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	description TEXT,
	max_assignments INTEGER NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL,
	deleted_at BIGINT
);
INSERT INTO sm_type (id, type_key, name, description, max_assignments,
    created_at)
VALUES (1, 'os', 'OS', 'Core firmware or operating system', 1, 0),
       (2, 'application', 'Application', 'Applications on the device',
        2147483647, 0);

-- Set types and the module types each requires (mandatory) or admits.
CREATE TABLE ds_type (
	id INTEGER PRIMARY KEY,
	type_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	description TEXT,
	created_at BIGINT NOT NULL,
	deleted_at BIGINT
);
INSERT INTO ds_type (id, type_key, name, description, created_at)
VALUES (1, 'os', 'OS only', 'An operating system alone', 0),
       (2, 'app', 'App(s) only', 'Applications alone', 0),
       (3, 'os_app', 'OS with app(s)',
        'An operating system with optional applications', 0);

CREATE TABLE ds_type_element (
	ds_type_id INTEGER NOT NULL REFERENCES ds_type (id) ON DELETE CASCADE,
	sm_type_id INTEGER NOT NULL REFERENCES sm_type (id),
	mandatory INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (ds_type_id, sm_type_id)
);
INSERT INTO ds_type_element (ds_type_id, sm_type_id, mandatory)
VALUES (1, 1, 1), (2, 2, 1), (3, 1, 1), (3, 2, 0);

-- Software modules.  (type, name, version) is unique, deleted ones
-- included, as in hawkBit.
CREATE TABLE software_module (
	id INTEGER PRIMARY KEY,
	sm_type_id INTEGER NOT NULL REFERENCES sm_type (id),
	name TEXT NOT NULL,
	version TEXT NOT NULL,
	vendor TEXT,
	description TEXT,
	encrypted INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	deleted_at BIGINT
);
CREATE UNIQUE INDEX software_module_key
    ON software_module (sm_type_id, name, version);

-- Module metadata; target_visible entries go to devices in deploymentBase.
CREATE TABLE sm_metadata (
	module_id INTEGER NOT NULL
	    REFERENCES software_module (id) ON DELETE CASCADE,
	meta_key TEXT NOT NULL,
	meta_value TEXT NOT NULL,
	target_visible INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (module_id, meta_key)
);

-- Artifacts.  Exactly one of path (a file under data_dir/artifacts, NULL
-- once deleted) and url (an external http(s) URL devices get as it is) is
-- set.  format is what the content was read as; info is what its reader
-- found (JSON); signature the result of the signature check ('none' when
-- the format carries none, 'unchecked', 'verified', 'failed', 'unreadable').
CREATE TABLE artifact (
	id INTEGER PRIMARY KEY,
	module_id INTEGER NOT NULL
	    REFERENCES software_module (id) ON DELETE CASCADE,
	filename TEXT NOT NULL,
	size BIGINT NOT NULL,
	md5 TEXT,
	sha1 TEXT NOT NULL,
	sha256 TEXT,
	path TEXT,
	url TEXT,
	format TEXT NOT NULL DEFAULT 'file'
	    CHECK (format IN ('swu', 'raucb', 'file')),
	info TEXT,
	signature TEXT NOT NULL DEFAULT 'none',
	created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX artifact_name ON artifact (module_id, filename);
CREATE INDEX artifact_path ON artifact (path);

INSERT INTO software_module (id, sm_type_id, name, version, description,
    created_at, deleted_at)
    SELECT id, 1, filename, version, description, created_at, deleted_at
    FROM software;

INSERT INTO artifact (id, module_id, filename, size, md5, sha1, sha256,
    path, format, info, signature, created_at)
    SELECT id, id, filename, size, md5, sha1, sha256, path, 'swu',
           '{"signed":' || CASE WHEN is_signed THEN 'true' ELSE 'false' END
           || '}',
           CASE WHEN is_signed THEN 'unchecked' ELSE 'none' END, created_at
    FROM software;

-- The software table becomes the distribution sets.  SQLite rewrites the
-- references of rollout, device and action to it.
ALTER TABLE software RENAME TO distribution_set;
ALTER TABLE distribution_set ADD COLUMN name TEXT;
ALTER TABLE distribution_set ADD COLUMN ds_type_id INTEGER
    REFERENCES ds_type (id);
-- How versions order: 'swupdate', 'semver' (RAUC, SemVer with relaxed
-- cores) or 'none' (never chosen by the latest mode).
ALTER TABLE distribution_set ADD COLUMN version_scheme TEXT NOT NULL
    DEFAULT 'swupdate';
-- Set once every mandatory module type of the set's type is present; only
-- complete sets are assigned or rolled out.
ALTER TABLE distribution_set ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
-- RAUC's [update] compatible of the set's bundle, matched exactly against
-- a device's compatible attribute.
ALTER TABLE distribution_set ADD COLUMN rauc_compatible TEXT;
ALTER TABLE distribution_set ADD COLUMN required_migration INTEGER NOT NULL
    DEFAULT 0;
UPDATE distribution_set SET name = filename, ds_type_id = 1, complete = 1;
ALTER TABLE distribution_set DROP COLUMN filename;
ALTER TABLE distribution_set DROP COLUMN size;
ALTER TABLE distribution_set DROP COLUMN md5;
ALTER TABLE distribution_set DROP COLUMN sha1;
ALTER TABLE distribution_set DROP COLUMN sha256;
ALTER TABLE distribution_set DROP COLUMN is_signed;
ALTER TABLE distribution_set DROP COLUMN path;
CREATE INDEX distribution_set_name ON distribution_set (name, version);

-- The modules of each set; one module may be in several sets.
CREATE TABLE ds_module (
	ds_id INTEGER NOT NULL
	    REFERENCES distribution_set (id) ON DELETE CASCADE,
	module_id INTEGER NOT NULL REFERENCES software_module (id),
	PRIMARY KEY (ds_id, module_id)
);
CREATE INDEX ds_module_module ON ds_module (module_id);
INSERT INTO ds_module (ds_id, module_id)
    SELECT id, id FROM distribution_set;

CREATE TABLE ds_metadata (
	ds_id INTEGER NOT NULL
	    REFERENCES distribution_set (id) ON DELETE CASCADE,
	meta_key TEXT NOT NULL,
	meta_value TEXT NOT NULL,
	PRIMARY KEY (ds_id, meta_key)
);

ALTER TABLE software_hw RENAME TO ds_hw;
ALTER TABLE ds_hw RENAME COLUMN software_id TO ds_id;
DROP INDEX software_hw_software;
CREATE INDEX ds_hw_ds ON ds_hw (ds_id);

ALTER TABLE rollout RENAME COLUMN software_id TO ds_id;
ALTER TABLE action RENAME COLUMN software_id TO ds_id;
ALTER TABLE device RENAME COLUMN assigned_software_id TO assigned_ds_id;

-- The device's RAUC compatible, copied from the attribute that
-- attributes.rauc_compatible names (as hw_model is).
ALTER TABLE device ADD COLUMN compatible TEXT;

-- Operators' own data about a device, apart from the attributes the device
-- reports in configData.
CREATE TABLE device_metadata (
	device_id INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
	meta_key TEXT NOT NULL,
	meta_value TEXT NOT NULL,
	PRIMARY KEY (device_id, meta_key)
);
