#!/usr/bin/env bash
# The software model through the management API, as hawkBit has it: module
# and set types, modules with metadata and artifacts of any kind, sets
# built from modules (complete only with every mandatory module type),
# only complete sets assigned or rolled out; then a device given a set of
# an os and an application module gets one chunk per module, downloads
# exactly that set's artifacts while its action is open, and keeps the
# list once it installed it; deleting follows the history rules.
. "$(dirname "$0")/lib.sh"

CORPUS=$(cd "$(dirname "$0")/../fuzz/corpus/rauc" 2>/dev/null && pwd)
start_server
TOKEN=$(make_token admin)
ART_DIR=$T/data/artifacts
TMP_DIR=$T/data/tmp
OCTET=(-H 'Content-Type: application/octet-stream')

# mkmod JSON: create a module; sets MOD (its id) on 201.
mkmod()
{
	api_json POST /api/v1/modules "$1"
	MOD=
	[ "$STATUS" = 201 ] && MOD=$(jq -r .id <"$T/body")
	return 0
}

# art MODULE FILE NAME [QUERY]: a raw upload of FILE as NAME; sets ART.
art()
{
	api POST "/api/v1/modules/$1/artifacts?filename=$3${4:+&$4}" \
	    "${OCTET[@]}" --data-binary "@$2"
	ART=
	[ "$STATUS" = 201 ] && ART=$(jq -r .id <"$T/body")
	return 0
}

# mkset JSON: create a set; sets SET on 201.
mkset()
{
	api_json POST /api/v1/distributions "$1"
	SET=
	[ "$STATUS" = 201 ] && SET=$(jq -r .id <"$T/body")
	return 0
}

# stored: the files under artifacts/ and tmp/.
stored()
{
	echo $(($(count_files "$ART_DIR") + $(count_files "$TMP_DIR")))
}

# --- module types ----------------------------------------------------------
api GET /api/v1/moduletypes
expect_status 200 "list module types"
expect_json '[.types[] | select(.key == "os") | .max_assignments][0]' 1 \
    "os: at most one per set"
expect_json '[.types[] | select(.key == "application") | .max_assignments][0]' \
    2147483647 "application: any number per set"
OS_TYPE=$(jq -r '.types[] | select(.key == "os") | .id' <"$T/body")
APP_TYPE=$(jq -r '.types[] | select(.key == "application") | .id' <"$T/body")

api_json POST /api/v1/moduletypes \
    '{"key":"blob","name":"Blob","description":"data","max_assignments":2}'
expect_status 201 "create module type blob"
expect_json '[.types[] | select(.key == "blob") | .max_assignments][0]' 2 \
    "blob: max_assignments 2"
BLOB_TYPE=$(jq -r '.types[] | select(.key == "blob") | .id' <"$T/body")
api_json POST /api/v1/moduletypes '{"key":"blob","name":"Again"}'
expect_status 409 "module type key taken -> 409"
expect_is_error
api_json POST /api/v1/moduletypes '{"key":"Big Key","name":"x"}'
expect_status 400 "module type key with capitals and a space -> 400"
api_json POST /api/v1/moduletypes '{"key":"zero","name":"x","max_assignments":0}'
expect_status 400 "max_assignments 0 -> 400"
api_json POST /api/v1/moduletypes '{"key":"noname"}'
expect_status 400 "module type without a name -> 400"
api_json POST /api/v1/moduletypes '{"key":"spare","name":"Spare"}'
expect_status 201 "create module type spare"
SPARE_TYPE=$(jq -r '.types[] | select(.key == "spare") | .id' <"$T/body")
expect_json '[.types[] | select(.key == "spare") | .max_assignments][0]' 1 \
    "max_assignments defaults to 1"
api DELETE "/api/v1/moduletypes/$OS_TYPE"
expect_status 409 "delete built-in module type os -> 409"
api DELETE "/api/v1/moduletypes/$APP_TYPE"
expect_status 409 "delete built-in module type application -> 409"
api DELETE "/api/v1/moduletypes/$SPARE_TYPE"
expect_status 204 "delete an unused module type"
api GET /api/v1/moduletypes
expect_json '[.types[].key] | index("spare")' null "it is gone from the list"
api DELETE /api/v1/moduletypes/999999
expect_status 404 "delete an unknown module type -> 404"

# --- set types ---------------------------------------------------------------
api GET /api/v1/distributiontypes
expect_status 200 "list set types"
expect_json '[.types[] | select(.key == "os") | {mandatory, optional}][0]' \
    '{"mandatory":["os"],"optional":[]}' "set type os: an os module"
expect_json '[.types[] | select(.key == "app") | {mandatory, optional}][0]' \
    '{"mandatory":["application"],"optional":[]}' "set type app: applications"
expect_json '[.types[] | select(.key == "os_app") | {mandatory, optional}][0]' \
    '{"mandatory":["os"],"optional":["application"]}' \
    "set type os_app: os, applications optional"
BUILTIN_DS_TYPES=$(jq -r '[.types[] | select(.key == "os" or .key == "app" or .key == "os_app") | .id] | join(" ")' <"$T/body")

api_json POST /api/v1/distributiontypes \
    '{"key":"blobs","name":"Blobs","mandatory":["blob"],"optional":["application"]}'
expect_status 201 "create set type blobs"
expect_json '[.types[] | select(.key == "blobs") | {mandatory, optional}][0]' \
    '{"mandatory":["blob"],"optional":["application"]}' "blobs: its elements"
api_json POST /api/v1/distributiontypes '{"key":"blobs","name":"Again","mandatory":["os"]}'
expect_status 409 "set type key taken -> 409"
api_json POST /api/v1/distributiontypes '{"key":"nope","name":"Nope","mandatory":["no-such-type"]}'
expect_status 400 "set type with an unknown module type -> 400"
api_json POST /api/v1/distributiontypes '{"key":"twice","name":"Twice","mandatory":["os"],"optional":["os"]}'
expect_status 400 "set type listing a module type twice -> 400"
api GET /api/v1/distributiontypes
expect_json '[.types[].key] | (index("nope") == null and index("twice") == null)' true \
    "refused set types left nothing behind"
api_json POST /api/v1/distributiontypes '{"key":"tmp-type","name":"Tmp","mandatory":["os"]}'
expect_status 201 "create set type tmp-type"
TMP_DS_TYPE=$(jq -r '.types[] | select(.key == "tmp-type") | .id' <"$T/body")
for id in $BUILTIN_DS_TYPES; do
	api DELETE "/api/v1/distributiontypes/$id"
	expect_status 409 "delete built-in set type $id -> 409"
done
api DELETE "/api/v1/distributiontypes/$TMP_DS_TYPE"
expect_status 204 "delete an unused set type"
api GET /api/v1/distributiontypes
expect_json '[.types[].key] | index("tmp-type")' null "it is gone from the list"

# --- modules -------------------------------------------------------------------
mkmod '{"type":"os","name":"linux","version":"5.15.1","vendor":"ACME","description":"kernel and rootfs"}'
expect_status 201 "create an os module"
OS=$MOD
expect_json '[.type, .name, .version, .vendor, .description, .encrypted, .deleted, .locked]' \
    '["os","linux","5.15.1","ACME","kernel and rootfs",false,false,false]' \
    "os module: its fields"
expect_json '.artifacts' '[]' "os module: no artifacts yet"
mkmod '{"type":"os","name":"linux","version":"5.15.1"}'
expect_status 409 "same type, name and version -> 409"
expect_is_error
mkmod '{"type":"application","name":"linux","version":"5.15.1"}'
expect_status 201 "the same name and version under another type"
LINUX_APP=$MOD
mkmod '{"type":"os","name":"linux"}'
expect_status 400 "module without a version -> 400"
mkmod '{"type":"no-such-type","name":"x","version":"1"}'
expect_status 400 "module of an unknown type -> 400"
mkmod '{"type":"os","name":"x","version":"1 0"}'
expect_status 400 "module version with a space -> 400"
mkmod '{"type":"application","name":"x","version":"1","metadata":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}'
expect_status 400 "metadata with a key twice -> 400"
mkmod '{"type":"application","name":"x","version":"1","metadata":[{"key":"a","value":1}]}'
expect_status 400 "metadata with a number value -> 400"
mkmod '{"type":"application","name":"x","version":"1","metadata":[{"key":"a","value":"1","target_visible":"yes"}]}'
expect_status 400 "metadata target_visible not a boolean -> 400"
mkmod '{"type":"application","name":"webapp","version":"2.1.0","vendor":"ACME","metadata":[{"key":"z.visible","value":"zv","target_visible":true},{"key":"secret","value":"s3cr3t","target_visible":false},{"key":"a.visible","value":"av","target_visible":true}]}'
expect_status 201 "create an application module with metadata"
APP=$MOD
expect_json '.metadata | length' 3 "all three metadata entries"
expect_json '[.metadata[] | select(.key == "secret") | .target_visible][0]' false \
    "the hidden entry is not target-visible"

api GET /api/v1/modules
expect_status 200 "list modules"
expect_json .total 3 "three modules"
api GET '/api/v1/modules?type=application'
expect_json '[.modules[].type] | unique' '["application"]' "?type=application: only applications"
expect_json .total 2 "?type=application: two"
api GET '/api/v1/modules?q=webapp'
expect_json '[.modules[].id]' "[$APP]" "?q=webapp finds it"
api GET '/api/v1/modules?limit=1&offset=1'
expect_json '[(.modules | length), .total, .limit, .offset]' '[1,3,1,1]' "paging"
api GET "/api/v1/modules/$APP"
expect_status 200 "get one module"
expect_json '[.name, .version, .type_name]' '["webapp","2.1.0","Application"]'
api GET /api/v1/modules/999999
expect_status 404 "unknown module -> 404"
api_json PATCH "/api/v1/modules/$LINUX_APP" '{"vendor":"Other","description":"patched","metadata":[{"key":"k","value":"v"}]}'
expect_status 200 "patch vendor, description and metadata"
expect_json '[.vendor, .description, (.metadata | map(.key))]' '["Other","patched",["k"]]' \
    "patched fields"
api_json PATCH "/api/v1/modules/$LINUX_APP" '{"version":"9"}'
expect_status 400 "patch the version -> 400"
api_json PATCH "/api/v1/modules/$LINUX_APP" '{"vendor":null}'
expect_json .vendor null "vendor null clears it"

# --- artifacts ---------------------------------------------------------------
mkimg "$T/os.swu" 5.15.1 '1.0' -s 40K
OS_SIZE=$(wc -c <"$T/os.swu")
art "$OS" "$T/os.swu" linux-5.15.1.swu
expect_status 201 "a .swu artifact"
OS_ART=$ART
expect_json '[.filename, .format, .size, .stored, .url]' \
    "[\"linux-5.15.1.swu\",\"swu\",$OS_SIZE,true,null]" "the .swu: read as swu"
expect_json '.info.signed' true "the .swu: its signature seen"
expect_json '.hashes.sha256' "$(sha256sum "$T/os.swu" | cut -d' ' -f1)" "the .swu: sha256"

head -c 3000 /dev/urandom >"$T/app.bin"
printf '{"name":"webapp","port":8080}\n' >"$T/app.json"
APP_BIN_MD5=$(md5sum "$T/app.bin" | cut -d' ' -f1)
APP_BIN_SHA1=$(sha1sum "$T/app.bin" | cut -d' ' -f1)
APP_BIN_SHA256=$(sha256sum "$T/app.bin" | cut -d' ' -f1)
art "$APP" "$T/app.bin" webapp.bin \
    "md5sum=$APP_BIN_MD5&sha1sum=$APP_BIN_SHA1&sha256sum=$APP_BIN_SHA256"
expect_status 201 "a plain file with matching announced hashes"
APP_BIN_ART=$ART
expect_json '[.format, .signature, .size, .hashes.md5, .hashes.sha1]' \
    "[\"file\",\"none\",3000,\"$APP_BIN_MD5\",\"$APP_BIN_SHA1\"]" "plain file: format file"
api POST "/api/v1/modules/$APP/artifacts" -F "file=@$T/app.json;filename=webapp.json"
expect_status 201 "a plain file as multipart field file"
APP_JSON_ART=$(jq -r .id <"$T/body")
expect_json '[.filename, .format, .size]' "[\"webapp.json\",\"file\",$(wc -c <"$T/app.json")]" \
    "multipart: its name and size"

n=$(stored)
art "$APP" "$T/app.bin" webapp.bin
expect_status 409 "the same name twice in a module -> 409"
art "$APP" "$T/app.bin" other.bin "sha1sum=0000000000000000000000000000000000000000"
expect_status 400 "a wrong sha1sum -> 400"
art "$APP" "$T/app.bin" other.bin "md5sum=00000000000000000000000000000000"
expect_status 400 "a wrong md5sum -> 400"
art "$APP" "$T/app.bin" other.bin "sha256sum=$APP_BIN_SHA1"
expect_status 400 "a wrong sha256sum -> 400"
head -c 20000 "$T/os.swu" >"$T/cut.swu"
art "$APP" "$T/cut.swu" cut.swu
expect_status 400 "a .swu cut short -> 400"
if [ -f "$CORPUS/plain.raucb" ]; then
	art "$APP" "$CORPUS/plain.raucb" bundle.raucb
	expect_status 201 "a RAUC bundle"
	expect_json '[.format, .info.compatible, .info.version]' \
	    '["raucb","falconet-test-board","1.0"]' "the bundle: read as raucb"
	RAUC_ART=$ART
	cp "$CORPUS/plain.raucb" "$T/bad.raucb"
	printf 'XXXX' | dd of="$T/bad.raucb" conv=notrunc bs=1 seek=0 2>/dev/null
	art "$APP" "$T/bad.raucb" bad.raucb
	expect_status 400 "a RAUC bundle with a broken payload -> 400"
	check "  the error says why ($(jq -r .detail <"$T/body" | cut -c1-60))" \
	    sh -c "jq -r .detail '$T/body' | grep -q 'not a valid RAUC bundle'"
	api DELETE "/api/v1/modules/$APP/artifacts/$RAUC_ART"
	expect_status 204 "delete the bundle again"
else
	skip "RAUC bundles" "no tests/fuzz/corpus/rauc/plain.raucb"
fi
api POST "/api/v1/modules/$APP/artifacts?filename=empty.bin" "${OCTET[@]}" --data-binary ''
expect_status 400 "an empty upload -> 400"
check "refused uploads left no file ($(stored) files, $n before)" [ "$(stored)" -eq "$n" ]

# odd names: 400 and no file written
oddname()
{
	api POST "/api/v1/modules/$APP/artifacts?filename=$1" "${OCTET[@]}" \
	    --data-binary "@$T/app.json"
	expect_status 400 "artifact name '$2' -> 400"
	expect_jq '(.error | type == "string") and (.detail | type == "string")' \
	    "  a JSON error body"
}
oddname '..%2Fx' '../x'
oddname '../x' '../x (raw)'
oddname '.hidden' '.hidden'
oddname 'a%2Fb' 'a/b'
oddname 'a%5Cb' 'a\b'
oddname "$(head -c 201 /dev/zero | tr '\0' n)" '201 bytes'
oddname "$(head -c 1000 /dev/zero | tr '\0' n)" '1000 bytes'
oddname 'a%20b.bin' 'a space'
oddname 'a+b.bin' 'a plus read as a space'
oddname 'a%00b.bin' 'a NUL'
oddname '' 'empty'
oddname '%C3%A9t%C3%A9.bin' 'non-ASCII'
api POST "/api/v1/modules/$APP/artifacts" -F "file=@$T/app.json;filename=../../x.json"
expect_status 400 "multipart file name ../../x.json -> 400"
check "odd names left no file ($(stored) files, $n before)" [ "$(stored)" -eq "$n" ]
check "nothing written outside the data dir" \
    sh -c "[ ! -e '$T/x' ] && [ ! -e '$T/data/x' ] && [ ! -e '$T/x.json' ]"
LONG=$(head -c 200 /dev/zero | tr '\0' L)
art "$APP" "$T/app.json" "$LONG"
expect_status 201 "a 200-byte name is accepted"
api DELETE "/api/v1/modules/$APP/artifacts/$ART"
expect_status 204 "delete it"

api GET "/api/v1/modules/$APP/artifacts"
expect_status 200 "list a module's artifacts"
expect_json '[.artifacts[].filename]' '["webapp.bin","webapp.json"]' "the two artifacts"
api GET "/api/v1/modules/$APP/artifacts/$APP_BIN_ART"
expect_status 200 "get one artifact"
expect_json .hashes.sha256 "$APP_BIN_SHA256"
api GET "/api/v1/modules/$OS/artifacts/$APP_BIN_ART"
expect_status 404 "an artifact under another module -> 404"
api GET "/api/v1/modules/$APP/artifacts/$APP_BIN_ART/file"
expect_status 200 "get an artifact's file"
check "  the bytes are the upload" cmp -s "$T/body" "$T/app.bin"
api GET "/api/v1/modules/$OS/artifacts/$OS_ART/file"
check "  the .swu too" cmp -s "$T/body" "$T/os.swu"

printf 'scratch' >"$T/scratch.txt"
art "$LINUX_APP" "$T/scratch.txt" scratch.txt
SCRATCH=$ART
n=$(count_files "$ART_DIR")
api DELETE "/api/v1/modules/$LINUX_APP/artifacts/$SCRATCH"
expect_status 204 "delete an artifact"
check "  its file is gone" [ "$(count_files "$ART_DIR")" -eq $((n - 1)) ]
api GET "/api/v1/modules/$LINUX_APP/artifacts/$SCRATCH"
expect_status 404 "  and so is its row"
api DELETE "/api/v1/modules/$LINUX_APP/artifacts/$SCRATCH"
expect_status 404 "delete it again -> 404"

# --- distribution sets ----------------------------------------------------------
mkset "{\"name\":\"system\",\"version\":\"2024.1\",\"type\":\"os_app\",\"description\":\"os and app\",\"modules\":[$APP,$OS]}"
expect_status 201 "a set of an os and an application module"
SYS=$SET
expect_json '[.type, .complete, .deleted, .locked]' '["os_app",true,false,false]' \
    "the set: complete"
expect_json '[.modules[].type]' '["os","application"]' "the set: os first"
api GET "/api/v1/modules/$OS"
expect_json .distributions "[$SYS]" "the module names its set"

mkset "{\"name\":\"apps-only\",\"version\":\"1\",\"type\":\"os_app\",\"modules\":[$LINUX_APP]}"
expect_status 201 "a set of type os_app without its os module"
HALF=$SET
expect_json .complete false "  is not complete"
mkset "{\"name\":\"apps\",\"version\":\"1\",\"type\":\"app\",\"modules\":[$LINUX_APP,$APP]}"
expect_status 201 "two applications in a set of type app"
APPS=$SET
expect_json .complete true "  complete"
mkset '{"name":"bare","version":"1"}'
expect_status 201 "a set without modules (type os_app by default)"
BARE=$SET
expect_json '[.type, .complete]' '["os_app",false]' "  incomplete"

mkset "{\"name\":\"wrong\",\"version\":\"1\",\"type\":\"os\",\"modules\":[$APP]}"
expect_status 400 "an application in a set of type os -> 400"
expect_is_error
mkmod '{"type":"os","name":"linux","version":"6.1.0"}'
expect_status 201 "a second os module"
OS2=$MOD
art "$OS2" "$T/os.swu" linux-6.1.0.swu
expect_status 201 "  with an artifact"
mkset "{\"name\":\"two-os\",\"version\":\"1\",\"type\":\"os_app\",\"modules\":[$OS,$OS2]}"
expect_status 400 "two os modules in one set -> 400"
check "  says why" sh -c "jq -r .detail '$T/body' | grep -q max_assignments"
mkset "{\"name\":\"system\",\"version\":\"2024.1\",\"type\":\"os_app\",\"modules\":[$OS2]}"
expect_status 409 "name and version taken -> 409"
mkset '{"name":"ghost","version":"1","modules":[999999]}'
expect_status 400 "an unknown module -> 400"
mkset "{\"name\":\"dup\",\"version\":\"1\",\"modules\":[$APP,$APP]}"
expect_status 400 "a module listed twice -> 400"
mkset '{"name":"badtype","version":"1","type":"no-such"}'
expect_status 400 "an unknown set type -> 400"
mkset '{"name":"nover"}'
expect_status 400 "a set without a version -> 400"
mkset "{\"name\":\"badhw\",\"version\":\"1\",\"compatibility\":[{\"board\":\"b\",\"revision\":\"(\",\"regex\":true}]}"
expect_status 400 "a compatibility regex that does not compile -> 400"
api GET '/api/v1/distributions?q=wrong'
expect_json .total 0 "refused sets left nothing behind"

for i in 1 2 3; do
	mkmod "{\"type\":\"blob\",\"name\":\"blob$i\",\"version\":\"1\"}"
	eval "BLOB$i=\$MOD"
done
mkset "{\"name\":\"three-blobs\",\"version\":\"1\",\"type\":\"blobs\",\"modules\":[$BLOB1,$BLOB2,$BLOB3]}"
expect_status 400 "three blob modules where max_assignments is 2 -> 400"
mkset "{\"name\":\"two-blobs\",\"version\":\"1\",\"type\":\"blobs\",\"modules\":[$BLOB1,$BLOB2,$APP]}"
expect_status 201 "two blobs and an application in a set of type blobs"
expect_json .complete true "  complete"
TWO_BLOBS=$SET
mkset "{\"name\":\"blob-os\",\"version\":\"1\",\"type\":\"blobs\",\"modules\":[$BLOB3,$OS2]}"
expect_status 400 "an os module in a set of type blobs -> 400"

api_json PATCH "/api/v1/distributions/$HALF" "{\"modules\":[$OS2,$LINUX_APP]}"
expect_status 200 "patch the incomplete set's modules"
expect_json .complete true "  now complete"
api_json PATCH "/api/v1/distributions/$HALF" "{\"modules\":[$LINUX_APP]}"
expect_json .complete false "  without its os again incomplete"
api_json PATCH "/api/v1/distributions/$HALF" '{"type":"app"}'
expect_status 400 "patch the type -> 400"
api_json PATCH "/api/v1/distributions/$HALF" '{"name":"system","version":"2024.1"}'
expect_status 409 "patch to a name and version taken -> 409"
api_json PATCH "/api/v1/distributions/$HALF" "{\"modules\":[$OS,$OS2]}"
expect_status 400 "patch in two os modules -> 400"
api GET "/api/v1/distributions/$HALF"
expect_json '[.modules[].id]' "[$LINUX_APP]" "  the refused patch changed nothing"

# Only complete sets are assigned or rolled out.
ddi GET dev-a
expect_status 200 "dev-a registers"
ddi GET dev-b
expect_status 200 "dev-b registers"
api_json PATCH /api/v1/devices/dev-b '{"mode":"pinned"}'
expect_status 200 "dev-b is pinned"
api_json PATCH /api/v1/devices/dev-a "{\"mode\":\"assigned\",\"assigned_distribution_id\":$HALF}"
expect_status 400 "assign an incomplete set -> 400"
api_json PATCH /api/v1/devices/dev-a "{\"mode\":\"assigned\",\"assigned_distribution_id\":$BARE}"
expect_status 400 "assign a set without modules -> 400"
api GET /api/v1/devices/dev-a
expect_json .assigned_distribution_id null "  nothing assigned"
api_json POST /api/v1/rollouts "{\"distribution_id\":$HALF,\"feed\":\"default\"}"
expect_status 400 "roll out an incomplete set -> 400"
api_json POST /api/v1/rollouts "{\"distribution_id\":$APPS,\"feed\":\"default\"}"
expect_status 201 "roll out a complete set"
RO=$(jq -r .id <"$T/body")
expect_json .distribution_id "$APPS"
api DELETE "/api/v1/distributions/$APPS"
expect_status 409 "delete a set a rollout uses -> 409"
api DELETE "/api/v1/rollouts/$RO"
expect_status 204 "delete the rollout"

# A set type without mandatory module types makes a set without modules
# complete.  Whatever the rule, a device must never be given an action
# whose deploymentBase it cannot read.
api_json POST /api/v1/distributiontypes '{"key":"anything","name":"Anything","optional":["application"]}'
expect_status 201 "a set type with no mandatory module type"
mkset '{"name":"nothing","version":"1","type":"anything"}'
expect_status 201 "a set of it without modules"
EMPTY=$SET
ddi GET dev-z
api_json PATCH /api/v1/devices/dev-z "{\"mode\":\"assigned\",\"assigned_distribution_id\":$EMPTY}"
st=$STATUS
ddi GET dev-z
EDB=$(link deploymentBase)
[ -n "$EDB" ] && req GET "$EDB"
check "a set without modules: refused ($st), not offered, or a readable deploymentBase (${EDB:+$STATUS})" \
    [ "$st" = 400 -o -z "$EDB" -o "$STATUS" = 200 ]
api_json PATCH /api/v1/devices/dev-z '{"mode":"pinned"}'

# --- the device's view ------------------------------------------------------------
api_json PATCH /api/v1/devices/dev-a "{\"mode\":\"assigned\",\"assigned_distribution_id\":$SYS}"
expect_status 200 "assign the complete set to dev-a"
expect_json .assigned_distribution_id "$SYS"
ddi GET dev-a
DB=$(link deploymentBase)
check "dev-a is offered an update ($DB)" [ -n "$DB" ]
ACT=$(action_id_of_href "$DB")
req GET "$DB"
expect_status 200 "deploymentBase"
expect_json '.deployment.chunks | length' 2 "one chunk per module"
expect_json '[.deployment.chunks[] | [.part, .name, .version]]' \
    '[["os","linux","5.15.1"],["application","webapp","2.1.0"]]' \
    "chunks: part, name and version; os first"
expect_json '.deployment.chunks[0].artifacts | length' 1 "the os chunk: one artifact"
expect_json '.deployment.chunks[1].artifacts | map(.filename)' '["webapp.bin","webapp.json"]' \
    "the application chunk: its two artifacts"
expect_json '.deployment.chunks[0].artifacts[0] | [.size, .hashes.sha1, .hashes.md5, .hashes.sha256]' \
    "[$OS_SIZE,\"$(sha1sum "$T/os.swu" | cut -d' ' -f1)\",\"$(md5sum "$T/os.swu" | cut -d' ' -f1)\",\"$(sha256sum "$T/os.swu" | cut -d' ' -f1)\"]" \
    "the os artifact: its own size and hashes"
expect_json '.deployment.chunks[1].artifacts[0] | [.size, .hashes.sha1, .hashes.md5, .hashes.sha256]' \
    "[3000,\"$APP_BIN_SHA1\",\"$APP_BIN_MD5\",\"$APP_BIN_SHA256\"]" \
    "the application artifact: its own size and hashes"
DDI=$BASE/DEFAULT/controller/v1/dev-a
expect_json '[.deployment.chunks[] | .artifacts[] | ._links.download.href]' \
    "[\"$DDI/softwaremodules/$OS/artifacts/linux-5.15.1.swu\",\"$DDI/softwaremodules/$APP/artifacts/webapp.bin\",\"$DDI/softwaremodules/$APP/artifacts/webapp.json\"]" \
    "download links name each artifact's own module"
expect_jq '[.deployment.chunks[] | .artifacts[] | ._links | (.["download-http"].href == .download.href) and (.md5sum.href == .download.href + ".MD5SUM")] | all' \
    "download-http and md5sum links beside them"
expect_json '.deployment.chunks[1].metadata' \
    '[{"key":"a.visible","value":"av"},{"key":"z.visible","value":"zv"}]' \
    "application chunk: only the target-visible metadata, as key and value"
expect_json '.deployment.chunks[0].metadata // []' '[]' "os chunk: no metadata"
check "the hidden metadata is not sent" sh -c "! grep -q 's3cr3t\|secret' '$T/body'"
cp "$T/body" "$T/deployment.json"

i=0
for f in "$T/os.swu" "$T/app.bin" "$T/app.json"; do
	href=$(jq -r "[.deployment.chunks[] | .artifacts[]][$i]._links.download.href" <"$T/deployment.json")
	req GET "$href"
	expect_status 200 "download ${href##*/}"
	check "  the bytes are the upload" cmp -s "$T/body" "$f"
	req GET "$href.MD5SUM"
	expect_status 200 "  its .MD5SUM"
	check "  MD5SUM body ($(body_excerpt))" \
	    [ "$BODY" = "$(md5sum "$f" | cut -d' ' -f1)  ${href##*/}" ]
	i=$((i + 1))
done
req GET "$DDI/softwaremodules/$APP/artifacts"
expect_status 200 "the application module's artifact list"
expect_json 'map(.filename)' '["webapp.bin","webapp.json"]'
req GET "$DDI/softwaremodules/$LINUX_APP/artifacts"
expect_status 404 "a module outside the set: list -> 404"
req GET "$DDI/softwaremodules/$OS2/artifacts/linux-6.1.0.swu"
expect_status 404 "a module outside the set: download -> 404"
req GET "$DDI/softwaremodules/$OS2/artifacts/linux-6.1.0.swu.MD5SUM"
expect_status 404 "a module outside the set: MD5SUM -> 404"
req GET "$DDI/softwaremodules/$APP/artifacts/linux-5.15.1.swu"
expect_status 404 "another module's file under this module -> 404"
req GET "$DDI/softwaremodules/$OS/artifacts/webapp.bin"
expect_status 404 "the application's file under the os module -> 404"
req GET "$BASE/DEFAULT/controller/v1/dev-b/softwaremodules/$APP/artifacts/webapp.bin"
expect_status 404 "another device (no action) -> 404"
req GET "$BASE/DEFAULT/controller/v1/dev-b/softwaremodules/$APP/artifacts"
expect_status 404 "another device: list -> 404"

# Given to a device: the set and its modules are fixed.
api GET "/api/v1/distributions/$SYS"
expect_json .locked true "the set is locked"
api GET "/api/v1/modules/$APP"
expect_json .locked true "its module is locked"
art "$APP" "$T/scratch.txt" late.txt
expect_status 409 "an artifact into a locked module -> 409"
api DELETE "/api/v1/modules/$APP/artifacts/$APP_JSON_ART"
expect_status 409 "delete an artifact of a locked module -> 409"
api_json PATCH "/api/v1/distributions/$SYS" "{\"modules\":[$OS2]}"
expect_status 409 "patch a given set's modules -> 409"
api_json PATCH "/api/v1/distributions/$SYS" '{"version":"2024.2"}'
expect_status 409 "patch a given set's version -> 409"
api_json PATCH "/api/v1/distributions/$SYS" '{"name":"renamed"}'
expect_status 409 "patch a given set's name -> 409"
api_json PATCH "/api/v1/distributions/$SYS" '{"compatibility":[{"board":"","revision":"2.0"}]}'
expect_status 409 "patch a given set's compatibility -> 409"
api_json PATCH "/api/v1/distributions/$SYS" '{"description":"still editable"}'
expect_status 200 "patch a given set's description"
expect_json '[.description, .version, (.modules | length)]' '["still editable","2024.1",2]'
api DELETE "/api/v1/modules/$APP"
expect_status 409 "delete a module a live set holds -> 409"
api DELETE "/api/v1/distributions/$SYS"
expect_status 409 "delete a set with an open action -> 409"

feedback dev-a "$ACT" closed success
expect_status 200 "dev-a reports success"
api GET /api/v1/devices/dev-a
expect_json .installed_version 2024.1 "dev-a has the set's version installed"
ddi GET dev-a
check "no deploymentBase once installed" [ -z "$(link deploymentBase)" ]
IB=$(link installedBase)
check "an installedBase link ($IB)" [ "$(action_id_of_href "$IB")" = "$ACT" ]
req GET "$IB"
expect_status 200 "installedBase"
expect_json '[.deployment.chunks[].part]' '["os","application"]' "  both chunks"
req GET "$DDI/softwaremodules/$APP/artifacts"
expect_status 200 "the installed module's artifacts stay listed"
expect_json 'map(.filename)' '["webapp.bin","webapp.json"]'
req GET "$DDI/softwaremodules/$OS/artifacts"
expect_status 200 "the installed os module's too"
for href in $(jq -r '.deployment.chunks[] | .artifacts[] | ._links.download.href' <"$T/deployment.json"); do
	req GET "$href"
	expect_status 404 "download ${href##*/} once the action closed -> 404"
done
req GET "$DDI/softwaremodules/$APP/artifacts/webapp.bin.MD5SUM"
expect_status 404 "MD5SUM once the action closed -> 404"
req GET "$DDI/softwaremodules/$LINUX_APP/artifacts"
expect_status 404 "a module never given: still 404"

# A failed action gives no access either.
ddi GET dev-d
api_json PATCH /api/v1/devices/dev-d "{\"mode\":\"assigned\",\"assigned_distribution_id\":$APPS}"
expect_status 200 "assign the set of two applications to dev-d"
ddi GET dev-d
ACT_D=$(action_id_of_href "$(link deploymentBase)")
DDI_D=$BASE/DEFAULT/controller/v1/dev-d
req GET "$DDI_D/softwaremodules/$APP/artifacts/webapp.json"
expect_status 200 "dev-d downloads while its action is open"
feedback dev-d "$ACT_D" closed failure
expect_status 200 "dev-d reports failure"
req GET "$DDI_D/softwaremodules/$APP/artifacts/webapp.json"
expect_status 404 "download after a failed action -> 404"
req GET "$DDI_D/softwaremodules/$APP/artifacts"
expect_status 404 "the list after a failed action -> 404"
api_json PATCH /api/v1/devices/dev-d '{"mode":"pinned"}'

# --- deleting ------------------------------------------------------------------
# A module in no set goes with its files.
mkmod '{"type":"application","name":"loose","version":"1"}'
LOOSE=$MOD
art "$LOOSE" "$T/scratch.txt" loose.txt
n=$(count_files "$ART_DIR")
api DELETE "/api/v1/modules/$LOOSE"
expect_status 204 "delete a module in no set"
api GET "/api/v1/modules/$LOOSE"
expect_status 404 "  it is gone"
check "  with its file" [ "$(count_files "$ART_DIR")" -eq $((n - 1)) ]

# A set never given goes with its orphan modules and their files; a
# module another set holds stays.
mkmod '{"type":"os","name":"orphan-os","version":"1"}'
ORPHAN=$MOD
art "$ORPHAN" "$T/os.swu" orphan.swu
mkmod '{"type":"application","name":"shared","version":"1"}'
SHARED=$MOD
art "$SHARED" "$T/scratch.txt" shared.txt
mkset "{\"name\":\"never-given\",\"version\":\"1\",\"modules\":[$ORPHAN,$SHARED]}"
NEVER=$SET
mkset "{\"name\":\"keeps-shared\",\"version\":\"1\",\"type\":\"app\",\"modules\":[$SHARED]}"
KEEPS=$SET
n=$(count_files "$ART_DIR")
api DELETE "/api/v1/distributions/$NEVER"
expect_status 204 "delete a set never given to a device"
api GET "/api/v1/distributions/$NEVER"
expect_status 404 "  it is gone"
api GET "/api/v1/modules/$ORPHAN"
expect_status 404 "  its orphan module is gone"
check "  with its file" [ "$(count_files "$ART_DIR")" -eq $((n - 1)) ]
api GET "/api/v1/modules/$SHARED"
expect_status 200 "  a module another set holds stays"
expect_json '[.deleted, (.artifacts | length), .distributions]' "[false,1,[$KEEPS]]"

# A set given to a device is kept as deleted; so is its orphan module
# (the os one), whose file goes; the application module other sets hold
# stays as it is.
n=$(count_files "$ART_DIR")
api DELETE "/api/v1/distributions/$SYS"
expect_status 204 "delete the set dev-a installed"
api GET "/api/v1/distributions/$SYS"
expect_status 200 "  it is kept"
expect_json '[.deleted, (.modules | length)]' '[true,2]' "  as deleted, with its modules"
api GET "/api/v1/modules/$OS"
expect_json '[.deleted, (.artifacts | length), .artifacts[0].stored]' '[true,1,false]' \
    "  its orphan os module is kept as deleted, its artifact without a file"
check "  that file is gone" [ "$(count_files "$ART_DIR")" -eq $((n - 1)) ]
api GET "/api/v1/modules/$APP"
expect_json '[.deleted, .distributions]' "[false,[$APPS,$TWO_BLOBS]]" \
    "  its application module, held by two more sets, stays live"
api GET '/api/v1/modules?q=linux'
expect_json '[.modules[].id] | index('"$OS"')' null "  the deleted module is no longer listed"
art "$OS" "$T/scratch.txt" after.txt
expect_status 404 "  an artifact into the deleted module -> 404"
api_json PATCH "/api/v1/modules/$OS" '{"vendor":"x"}'
expect_status 404 "  patch the deleted module -> 404"
api DELETE "/api/v1/modules/$OS"
expect_status 404 "  delete it again -> 404"
api GET /api/v1/devices/dev-a/actions
expect_json '.actions[0].version' 2024.1 "  dev-a's history keeps it"
api GET '/api/v1/distributions?q=system'
expect_json .total 0 "  no longer listed"
mkset "{\"name\":\"system\",\"version\":\"2024.1\",\"modules\":[$OS2]}"
expect_status 409 "  its name and version stay taken -> 409"

# A module given through one set and held by another, never given, set too.
mkmod '{"type":"os","name":"given-os","version":"1"}'
GOS=$MOD
art "$GOS" "$T/os.swu" given.swu
mkmod '{"type":"application","name":"given-app","version":"1"}'
GAPP=$MOD
art "$GAPP" "$T/scratch.txt" given.txt
mkset "{\"name\":\"given\",\"version\":\"3.0\",\"modules\":[$GOS,$GAPP]}"
GIVEN=$SET
mkset "{\"name\":\"spare\",\"version\":\"3.0\",\"modules\":[$GOS,$GAPP]}"
SPARE=$SET
ddi GET dev-c
api_json PATCH /api/v1/devices/dev-c "{\"mode\":\"assigned\",\"assigned_distribution_id\":$GIVEN}"
expect_status 200 "assign set given to dev-c"
ddi GET dev-c
ACT_C=$(action_id_of_href "$(link deploymentBase)")
feedback dev-c "$ACT_C" closed success
expect_status 200 "dev-c installs it"
api_json PATCH /api/v1/devices/dev-c '{"mode":"pinned"}'
api DELETE "/api/v1/distributions/$GIVEN"
expect_status 204 "delete set given"
api GET "/api/v1/modules/$GOS"
expect_json '[.deleted, .locked, .distributions]' "[false,true,[$SPARE]]" \
    "  its module another set holds stays live, and locked"
api_json PATCH "/api/v1/distributions/$SPARE" "{\"modules\":[$GOS]}"
expect_status 200 "take the application module out of the spare set"
api DELETE "/api/v1/modules/$GAPP"
expect_status 204 "delete that module, which dev-c was given"
api GET "/api/v1/modules/$GAPP"
expect_status 200 "  it is kept"
expect_json .deleted true "  as deleted"
api DELETE "/api/v1/distributions/$SPARE"
expect_status 204 "delete the spare set (never given)"
# Its os module was given to dev-c through the other set: like a module
# deleted by itself, it must be kept as deleted, not removed from that
# set's history.
api GET "/api/v1/modules/$GOS"
expect_status 200 "a module dev-c was given is kept when a set never given that held it goes"
expect_json .deleted true "  as deleted"
api GET "/api/v1/distributions/$GIVEN"
expect_json '[.modules[].id]' "[$GOS,$GAPP]" "  the given set still lists both its modules"
req GET "$BASE/DEFAULT/controller/v1/dev-c/installedBase/$ACT_C"
expect_status 200 "  dev-c's installedBase still answers"
expect_json '[.deployment.chunks[].name]' '["given-os","given-app"]' "  with both chunks"

# Types in use are kept hidden; new modules cannot use them.
api DELETE "/api/v1/moduletypes/$BLOB_TYPE"
expect_status 204 "delete the module type blob, in use"
api GET /api/v1/moduletypes
expect_json '[.types[].key] | index("blob")' null "  it is no longer listed"
mkmod '{"type":"blob","name":"blob9","version":"1"}'
expect_status 400 "  a new module of that type -> 400"
api GET "/api/v1/modules/$BLOB1"
expect_json .type blob "  the modules of that type keep it"
api GET "/api/v1/distributions/$TWO_BLOBS"
expect_json .complete true "  and so do their sets"

check "no temp file left" [ "$(count_files "$TMP_DIR")" -eq 0 ]
check "integrity_check ok" [ "$(sqlite3 "$T/data/falconet.db" 'PRAGMA integrity_check')" = ok ]
alive "the whole catalogue"

finish
