#!/bin/sh
# seed.sh DB FROM TO: insert devices dev-FROM .. dev-TO (7-digit ids,
# dev-0000001) into a migrated falconet database, in one transaction.
# They look like devices that already reported their hardware
# (hw_model/hw_revision set, request_attributes = 0), so their poll answer
# is the steady-state one, without a configData link; and like devices of
# a running fleet, each has a last contact (an hour ago), so the last-seen
# writer updates rows rather than growing the table through the run.
set -eu
[ $# -eq 3 ] || { echo "usage: seed.sh DB FROM TO" >&2; exit 2; }
db=$1 from=$2 to=$3
case $from$to in *[!0-9]*) echo "seed.sh: FROM and TO are numbers" >&2; exit 2 ;; esac
sqlite3 -bail "$db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -65536;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $to)
INSERT INTO device (controller_id, hw_model, hw_revision, request_attributes,
    created_at)
SELECT printf('dev-%07d', i), 'bench-board', '1.0', 0, unixepoch() FROM n;
INSERT INTO device_seen (device_id, at, address)
SELECT id, unixepoch() - 3600, '127.0.0.1' FROM device
WHERE controller_id BETWEEN printf('dev-%07d', $from) AND printf('dev-%07d', $to);
COMMIT;
SQL
