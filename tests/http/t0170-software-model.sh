#!/usr/bin/env bash
# hawkBit's software model: distribution sets of typed modules with
# artifacts.  A database of the previous schema (software rows) migrates
# with every id devices hold still working; the simple upload path makes
# module, artifact and set in one call; deleting follows hawkBit's rules.
. "$(dirname "$0")/lib.sh"

MIG=$(cd "$(dirname "$0")/../../migrations" && pwd)

# --- a database of schema version 3, as the previous release left it ----
mkimg "$T/old.swu" 1.0.0 '1.0' -s 64K
OLD_SHA256=$(sha256sum "$T/old.swu" | cut -d' ' -f1)
OLD_SHA1=$(sha1sum "$T/old.swu" | cut -d' ' -f1)
OLD_MD5=$(md5sum "$T/old.swu" | cut -d' ' -f1)
OLD_SIZE=$(wc -c <"$T/old.swu")
OLD_PATH=7-${OLD_SHA256:0:16}.swu
mkdir -p "$T/data/artifacts"
cp "$T/old.swu" "$T/data/artifacts/$OLD_PATH"
{
	cat "$MIG/0001_init.sql" "$MIG/0002_operators.sql" \
	    "$MIG/0003_device_seen.sql"
	cat <<EOF
INSERT INTO software (id, filename, version, description, size, md5, sha1,
    sha256, is_signed, path, created_at)
VALUES (7, 'image-1.0.0.swu', '1.0.0', 'old image', $OLD_SIZE, '$OLD_MD5',
    '$OLD_SHA1', '$OLD_SHA256', 1, '$OLD_PATH', 1700000000),
    (8, 'gone-0.9.swu', '0.9', NULL, 10, 'x', 'x', 'x', 0, NULL, 1600000000);
UPDATE software SET deleted_at = 1650000000 WHERE id = 8;
INSERT INTO software_hw (software_id, board, revision, is_regex)
VALUES (7, '', '1.0', 0);
INSERT INTO rollout (id, name, feed, software_id, created_at)
VALUES (3, 'old rollout', 'default', 7, 1700000100);
INSERT INTO device (id, controller_id, hw_revision, installed_version,
    request_attributes, assigned_software_id, created_at)
VALUES (1, 'dev-old', '1.0', '0.9', 0, 7, 1700000000),
    (2, 'dev-done', '1.0', '0.9', 0, NULL, 1700000000);
INSERT INTO action (id, device_id, software_id, rollout_id, status,
    created_at, retrieved_at, updated_at)
VALUES (41, 1, 7, 3, 'running', 1700000200, 1700000200, 1700000200),
    (40, 2, 8, NULL, 'succeeded', 1600000100, 1600000100, 1600000100);
PRAGMA user_version = 3;
EOF
} | sqlite3 "$T/data/falconet.db"

start_server
TOKEN=$(make_token admin)
check "the schema is at version 4" [ \
    "$(sqlite3 "$T/data/falconet.db" 'PRAGMA user_version')" -ge 4 ]

api GET /api/v1/software/7
expect_status 200 "migrated software keeps its id"
expect_json .filename image-1.0.0.swu "migrated: file name"
expect_json .version 1.0.0 "migrated: version"
expect_json .description "old image" "migrated: description"
expect_json .size "$OLD_SIZE" "migrated: size"
expect_json .hashes.sha256 "$OLD_SHA256" "migrated: sha256"
expect_json .signed true "migrated: signed"
expect_json .type os "migrated: a set of type os"
expect_json .complete true "migrated: complete"
expect_json '.compatibility[0].revision' 1.0 "migrated: compatibility"
expect_json '.modules | length' 1 "migrated: one module"
expect_json '.modules[0].id' 7 "migrated: the module keeps the id"
expect_json '.modules[0].type' os "migrated: a module of type os"
expect_json '.modules[0].artifacts[0].format' swu "migrated: a swu artifact"
expect_json '.rollouts[0]' 3 "migrated: its rollout"
api GET /api/v1/software
expect_json '.software | map(.id) | index(8)' null \
    "a deleted software stays hidden"
api GET /api/v1/rollouts/3
expect_json .software_id 7 "rollout: software_id names the set"
expect_json .distribution_id 7 "rollout: distribution_id beside it"
api GET /api/v1/devices/dev-old
expect_json .assigned_software_id 7 "device: assignment kept"
api GET /api/v1/devices/dev-done/actions
expect_json '.actions[0].version' 0.9 "history of a deleted software kept"

# The device with an open action goes on where it was.
ddi GET dev-old
DB=$(link deploymentBase)
check "open action id kept ($DB)" [ "$(action_id_of_href "$DB")" = 41 ]
req GET "$DB"
expect_status 200 "deploymentBase of the migrated action"
expect_json '.deployment.chunks | length' 1 "one chunk"
expect_json '.deployment.chunks[0].part' os "chunk part os"
expect_json '.deployment.chunks[0].name' image-1.0.0.swu "chunk name: the file name, as before"
expect_json '.deployment.chunks[0].version' 1.0.0 "chunk version"
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
check "the artifact URL is the old one ($DL)" \
    sh -c "echo '$DL' | grep -q '/softwaremodules/7/artifacts/image-1.0.0.swu$'"
curl -s -o "$T/dl.swu" "$DL"
check "the download is the stored image" cmp -s "$T/dl.swu" "$T/old.swu"
req GET "$DL.MD5SUM"
check "MD5SUM of the migrated artifact" [ "$BODY" = "$OLD_MD5  image-1.0.0.swu" ]
feedback dev-old 41 closed success
expect_status 200 "feedback on the migrated action"
api GET /api/v1/devices/dev-old
expect_json .installed_version 1.0.0 "installed after the migrated action"

# --- the simple upload path makes set, module and artifact --------------
mkimg "$T/new.swu" 2.0.0 '1.0' -s 32K
upload "$T/new.swu" image-2.0.0.swu
expect_status 201 "upload a .swu"
NEW=$SW_ID
expect_json .type os "upload: a set of type os"
expect_json .name image-2.0.0.swu "upload: named as the file"
expect_json .version_scheme swupdate "upload: SWUpdate's version order"
expect_json '.modules[0].type' os "upload: one os module"
expect_json '.modules[0].artifacts[0].filename' image-2.0.0.swu \
    "upload: its artifact"
expect_json '.modules[0].artifacts[0].info.signed' true "upload: reader found the signature"
head -c 5000 /dev/urandom >"$T/random.bin"
upload "$T/random.bin" random.bin
expect_status 400 "random bytes are refused"
check "the error names both formats" \
    sh -c "jq -r .detail '$T/body' | grep -q 'neither an SWUpdate image'"

# A set no device was ever given goes entirely; its file too.
FILES_BEFORE=$(ls "$T/data/artifacts" | wc -l)
api DELETE "/api/v1/software/$NEW"
expect_status 204 "delete a set never assigned"
api GET "/api/v1/software/$NEW"
expect_status 404 "it is gone"
check "its file is gone" [ "$(ls "$T/data/artifacts" | wc -l)" -eq $((FILES_BEFORE - 1)) ]
check "its module is gone" [ \
    "$(sqlite3 "$T/data/falconet.db" "SELECT count(*) FROM software_module WHERE name = 'image-2.0.0.swu'")" = 0 ]

# One a device installed keeps its rows, hidden; its bytes go.
api DELETE /api/v1/rollouts/3
expect_status 204 "delete the rollout first"
api DELETE /api/v1/software/7
expect_status 204 "delete a set devices installed"
check "its file is gone" [ ! -e "$T/data/artifacts/$OLD_PATH" ]
api GET /api/v1/software/7
expect_json .deleted true "kept as deleted"
check "its module is kept as deleted" [ \
    "$(sqlite3 "$T/data/falconet.db" "SELECT deleted_at IS NOT NULL FROM software_module WHERE id = 7")" = 1 ]
api GET /api/v1/devices/dev-old/actions
expect_json '.actions[0].version' 1.0.0 "device history keeps it"
upload "$T/old.swu" image-1.0.0.swu
expect_status 201 "the same version can be uploaded again"
check "under another module name" [ \
    "$(sqlite3 "$T/data/falconet.db" "SELECT count(*) FROM software_module WHERE version = '1.0.0'")" = 2 ]

# --- device metadata: the operators', apart from the device's attributes --
ddi GET dm-1
api_json PATCH /api/v1/devices/dm-1 '{"metadata":[{"key":"site","value":"hall 3"},{"key":"owner","value":"ops"}]}'
expect_status 200 "device metadata set"
expect_json '.metadata | length' 2 "device metadata: two entries"
expect_json '.metadata[0].key' owner "device metadata: sorted by key"
api_json PATCH /api/v1/devices/dm-1 '{"metadata":[{"key":"site","value":"x"},{"key":"site","value":"y"}]}'
expect_status 400 "device metadata: a key twice is refused"
api_json PATCH /api/v1/devices/dm-1 '{"metadata":"nope"}'
expect_status 400 "device metadata: not an array"
config_data dm-1 '{"site":"device says"}'
api GET /api/v1/devices/dm-1
expect_json '.metadata[1].value' "hall 3" "configData leaves the metadata alone"
expect_json '.attributes.site' "device says" "and the metadata leaves the attributes alone"

# --- SWUpdate signatures, checked as Debian's swupdate checks them -------
mkimg "$T/signed.swu" 5.0.0 '1.0' -s 8K -k "$T/keys-a"
mkimg "$T/stranger.swu" 5.1.0 '1.0' -s 8K -k "$T/keys-b"
mkimg "$T/unsigned.swu" 5.2.0 '1.0' -s 8K -U
start_server "swupdate:
  keyring: $T/keys-a/signing.cert.pem"
upload "$T/signed.swu" signed-5.0.0.swu
expect_status 201 "warn: a signed image is stored"
expect_json .signature verified "warn: its signature verified"
expect_json '.modules[0].artifacts[0].info.signature.signer_subject' \
    "CN = falconet test signing" "warn: the signer is shown"
upload "$T/stranger.swu" stranger-5.1.0.swu
expect_status 201 "warn: another signer's image is stored"
expect_json .signature failed "warn: its signature failed"
check "warn: with the verification error" [ \
    "$(jq -r '.modules[0].artifacts[0].info.signature.error // empty' "$T/body")" != "" ]
start_server "swupdate:
  keyring: $T/keys-a/signing.cert.pem
  signature: require"
mkimg "$T/stranger2.swu" 5.3.0 '1.0' -s 8K -k "$T/keys-b"
upload "$T/stranger2.swu" stranger-5.3.0.swu
expect_status 400 "require: another signer's image is refused"
check "require: it says why" sh -c "jq -r .detail '$T/body' | grep -q 'does not verify'"
upload "$T/unsigned.swu" unsigned-5.2.0.swu
expect_status 400 "require: an unsigned image is refused"
mkimg "$T/signed2.swu" 5.4.0 '1.0' -s 8K -k "$T/keys-a"
upload "$T/signed2.swu" signed-5.4.0.swu
expect_status 201 "require: the devices' signer's image is accepted"

# --- a database the previous release (schema 3) wrote itself -------------
# tests/data/release-3 was made by that release's daemon over its API: two
# images uploaded (1: image-1.0.0.swu, 2: image-2.0.0.swu), a rollout of 1
# with dev-old's action 1 running, and dev-done's action 2 (assigned 2)
# succeeded.
FIX=$(cd "$(dirname "$0")/../data/release-3" && pwd)
mkdir -p "$T/rel/data"
cp -r "$FIX/falconet.db" "$FIX/artifacts" "$T/rel/data/"
start_server "data_dir: $T/rel/data"
TOKEN=$(make_token release-check)
api GET /api/v1/software/1
expect_status 200 "release 3: software 1 kept"
expect_json .filename image-1.0.0.swu "release 3: its file name"
expect_json '.modules[0].artifacts[0].hashes.sha256' \
    "$(sha256sum "$FIX"/artifacts/1-*.swu | cut -d' ' -f1)" "release 3: its hash"
ddi GET dev-old
DB=$(link deploymentBase)
check "release 3: the running action goes on ($DB)" [ "$(action_id_of_href "$DB")" = 1 ]
req GET "$DB"
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
check "release 3: the same artifact URL" \
    sh -c "echo '$DL' | grep -q '/softwaremodules/1/artifacts/image-1.0.0.swu$'"
curl -s -o "$T/rel.swu" "$DL"
check "release 3: the download is the stored image" cmp -s "$T/rel.swu" "$FIX"/artifacts/1-*.swu
api GET /api/v1/devices/dev-done
expect_json .installed_version 2.0.0 "release 3: the installed version kept"
expect_json .installed_distribution_id 2 "release 3: the installed set"
ddi GET dev-done
check "release 3: installedBase of the succeeded action" [ \
    "$(action_id_of_href "$(link installedBase)")" = 2 ]

finish
