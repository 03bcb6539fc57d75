#!/usr/bin/env bash
# hawkBit's Management API for targets (/rest/v1/targets), field by field
# as hawkBit's JSON: creates as arrays with generated tokens that work as
# DDI TargetTokens and are sealed at rest, single GET with its links, PUT,
# attributes (204 when empty), metadata, assignedDS/installedDS, paging,
# sorting and FIQL filters with their errors, hawkBit's error bodies, and
# delete and re-create of one controller id 40 times leaving nothing.
. "$(dirname "$0")/lib.sh"

start_server 'device_auth:
  mode: token'
TOKEN=$(make_token admin)
DB=$T/data/falconet.db
R=/rest/v1

# expect_hawkbit_error STATUS CODE: hawkBit's ExceptionInfo body.
expect_hawkbit_error()
{
	expect_status "$1" "$LAST_REQ -> $1"
	expect_jq "(.errorCode == \"$2\") and (.exceptionClass | startswith(\"org.\")) and (.message | type == \"string\")" \
	    "$LAST_REQ: hawkBit error $2"
}

# --- create ----------------------------------------------------------------
api_json POST $R/targets '[{"controllerId":"test-target","name":"test-target"}]'
expect_status 201 "POST targets -> 201"
expect_jq 'type == "array" and length == 1' "an array of created targets"
expect_json '.[0].controllerId' test-target
expect_json '.[0].name' test-target
expect_json '.[0].updateStatus' unknown "a new target: updateStatus unknown"
expect_json '.[0].requestAttributes' true
expect_jq '.[0].securityToken | test("^[0-9a-f]{32}$")' \
    "a generated token: 32 lower-case hex digits"
expect_jq '.[0].createdAt | type == "number" and . > 1000000000000' \
    "createdAt in epoch milliseconds"
expect_jq '.[0].lastModifiedAt >= .[0].createdAt' "lastModifiedAt set"
expect_json '.[0].createdBy' token:admin
expect_jq '.[0] | has("description") or has("pollStatus") or has("ipAddress") or has("installedAt") | not' \
    "null fields omitted; no pollStatus before a poll"
expect_json '.[0]._links.self.href' "$BASE$R/targets/test-target" \
    "absolute self link"
TOK=$(jq -r '.[0].securityToken' <"$T/body")

api_json POST $R/targets '[{"controllerId":"nameless","description":"lab bench","securityToken":"given-token-123"}]'
expect_status 201 "POST a target without name -> 201"
expect_json '.[0].name' nameless "name defaults to the controllerId"
expect_json '.[0].description' "lab bench"
expect_json '.[0].securityToken' given-token-123 "a given token is kept"

api_json POST $R/targets '[{"controllerId":"test-target"}]'
expect_hawkbit_error 409 hawkbit.server.error.repo.entityAlreadyExists
api_json POST $R/targets '[{"controllerId":"fresh-1"},{"controllerId":"test-target"}]'
expect_status 409 "a clash in a batch -> 409"
api GET $R/targets/fresh-1
expect_status 404 "the batch was all or nothing"
for bad in '{}' '[]' '[{"name":"x"}]' '[1]' '[{"controllerId":""}]' \
    '[{"controllerId":"x","securityToken":"short"}]' 'nojson'; do
	api_json POST $R/targets "$bad"
	expect_status 400 "POST targets $bad -> 400"
	expect_jq '.errorCode | startswith("hawkbit.server.error")' \
	    "$bad: hawkBit error code"
done

# --- the token: readable, sealed at rest, working for DDI --------------------
check "the token is not stored in clear" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM device WHERE token_sealed LIKE '%$TOK%' OR token_hash = '$TOK'")" = 0 ]
check "the key file is 0600" \
    [ "$(stat -c %a "$T/data/token.key")" = 600 ]
DDI_AUTH="TargetToken $TOK"
ddi GET test-target
expect_status 200 "DDI poll with the generated TargetToken -> 200"
DDI_AUTH="TargetToken 0123456789abcdef0123456789abcdef"
ddi GET test-target
expect_status 401 "DDI poll with another token -> 401"
DDI_AUTH="TargetToken $TOK"
config_data test-target '{"product":"Terminator","model":"T-1000"}'
expect_status 200 "configData"
DDI_AUTH=

# --- single GET ------------------------------------------------------------
wait_for 5 sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM device_seen\") -ge 1 ]"
api GET $R/targets/test-target
expect_status 200 "GET targets/test-target -> 200"
expect_json .securityToken "$TOK" "the token is shown on GET"
expect_json .updateStatus registered "polled once: registered"
expect_jq '.pollStatus | (.lastRequestAt | type == "number") and (.nextExpectedRequestAt > .lastRequestAt) and (.overdue == false)' \
    "pollStatus once polled"
expect_jq '.lastControllerRequestAt == .pollStatus.lastRequestAt' \
    "lastControllerRequestAt"
api_json PUT $R/system/configs/pollingTime '{"value":"00:00:30"}'
expect_status 204 "pollingTime 00:00:30"
api GET $R/targets/test-target
expect_jq '.pollStatus.nextExpectedRequestAt - .pollStatus.lastRequestAt == 30000' \
    "nextExpectedRequestAt follows pollingTime"
api_json PUT $R/system/configs/pollingTime '{"value":"00:00:01"}'
api_json PUT $R/system/configs/pollingOverdueTime '{"value":"00:00:01"}'
wait_for 5 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' '$BASE$R/targets/test-target' | jq -e '.pollStatus.overdue' >/dev/null"
api GET $R/targets/test-target
expect_json .pollStatus.overdue true "overdue past pollingTime + pollingOverdueTime"
api DELETE $R/system/configs/pollingTime
api DELETE $R/system/configs/pollingOverdueTime
api GET $R/targets/test-target
expect_json .ipAddress 127.0.0.1
expect_json .address http://127.0.0.1
expect_json .requestAttributes false "attributes were sent"
for rel in self assignedDS installedDS attributes metadata; do
	expect_jq "._links.$rel.href | startswith(\"$BASE$R/targets/test-target\")" \
	    "link $rel"
done
expect_json ._links.actions.href \
    "$BASE$R/targets/test-target/actions?offset=0&limit=50&sort=id%3ADESC"
expect_json ._links.metadata.href \
    "$BASE$R/targets/test-target/metadata?offset=0&limit=50"
api GET $R/targets/no-such
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
expect_json .info.entityId no-such "404 info names the id"
expect_json .info.type Target

# --- attributes, assignedDS, installedDS -----------------------------------
api GET $R/targets/test-target/attributes
expect_status 200 "attributes -> 200"
expect_json . '{"model":"T-1000","product":"Terminator"}' \
    "exactly the pairs the device sent"
api GET $R/targets/nameless/attributes
expect_status 204 "no attributes -> 204"
expect_empty_body
api GET $R/targets/test-target/assignedDS
expect_status 204 "nothing assigned -> 204"
api GET $R/targets/test-target/installedDS
expect_status 204 "nothing installed -> 204"
api GET $R/targets/no-such/attributes
expect_status 404 "attributes of an unknown target -> 404"

# --- PUT -------------------------------------------------------------------
api_json PUT $R/targets/test-target '{"name":"Renamed","description":"on the shelf","requestAttributes":true}'
expect_status 200 "PUT -> 200"
expect_json .name Renamed
expect_json .description "on the shelf"
expect_json .requestAttributes true "requestAttributes true asks again"
expect_json .securityToken "$TOK" "PUT without a token keeps it"
api_json PUT $R/targets/test-target '{"requestAttributes":false}'
expect_hawkbit_error 400 hawkbit.server.error.repo.constraintViolation
api_json PUT $R/targets/test-target '{"securityToken":"replaced-token-1"}'
expect_json .securityToken replaced-token-1 "PUT sets a token"
DDI_AUTH="TargetToken replaced-token-1"
ddi GET test-target
expect_status 200 "DDI poll with the new token"
DDI_AUTH="TargetToken $TOK"
ddi GET test-target
expect_status 401 "the old token no longer works"
DDI_AUTH=
api_json PUT $R/targets/no-such '{"name":"x"}'
expect_status 404 "PUT an unknown target -> 404"

# A token set as a hash only (by /api/v1) is not shown.
api_json POST /api/v1/devices '{"controller_id":"old-style","token":"hash-only-token"}'
expect_status 201 "an /api/v1 device with a token"
api GET $R/targets/old-style
expect_jq 'has("securityToken") | not' "a hash-only token is omitted"

# --- metadata --------------------------------------------------------------
api_json POST $R/targets/test-target/metadata '[{"key":"site","value":"berlin"},{"key":"rack","value":"7"}]'
expect_status 201 "POST metadata -> 201"
expect_json . '[{"key":"site","value":"berlin"},{"key":"rack","value":"7"}]'
api_json POST $R/targets/test-target/metadata '[{"key":"site","value":"x"}]'
expect_hawkbit_error 409 hawkbit.server.error.repo.entityAlreadyExists
api GET $R/targets/test-target/metadata
expect_status 200 "GET metadata -> 200"
expect_json . '{"content":[{"key":"rack","value":"7"},{"key":"site","value":"berlin"}],"total":2,"size":2}'
api GET "$R/targets/test-target/metadata?limit=1&offset=1"
expect_json '[.content[].key, .total, .size] | join(",")' site,2,1 "metadata paged"
api GET $R/targets/test-target/metadata/site
expect_json . '{"key":"site","value":"berlin"}' "GET metadata/site"
api_json PUT $R/targets/test-target/metadata/site '{"value":"hamburg"}'
expect_status 200 "PUT metadata/site -> 200"
expect_json .value hamburg
api DELETE $R/targets/test-target/metadata/rack
expect_status 204 "DELETE metadata/rack -> 204"
api GET $R/targets/test-target/metadata/rack
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api_json PUT $R/targets/test-target/metadata/rack '{"value":"1"}'
expect_status 404 "PUT a missing key -> 404"

# --- lists: paging, sorting, filters --------------------------------------
for i in 01 02 03 04 05 06 07 08 09 10; do
	echo "{\"controllerId\":\"dev-$i\",\"name\":\"Device $((10#$i % 3))\"}"
done | jq -cs . >"$T/batch.json"
api_json POST $R/targets "@$T/batch.json"
expect_status 201 "POST ten targets -> 201"
expect_json length 10
DDI_AUTH=
sqlite3 "$DB" "INSERT INTO device_attribute (device_id, key, value) SELECT id, 'hw', CASE WHEN controller_id < 'dev-06' THEN 'rev-a' ELSE 'rev-b' END FROM device WHERE controller_id LIKE 'dev-%'"
sqlite3 "$DB" "INSERT INTO device_metadata (device_id, meta_key, meta_value) SELECT id, 'tier', 'gold' FROM device WHERE controller_id IN ('dev-02', 'dev-03')"

api GET $R/targets
expect_status 200 "GET targets -> 200"
expect_json '.total' 13 "all 13 targets"
expect_json '.size' 13
expect_json '.content[0].controllerId' dev-01 "default sort controllerId:ASC"
expect_jq '[.content[].controllerId] == ([.content[].controllerId] | sort)' \
    "the page is sorted by controllerId"
api GET "$R/targets?limit=3&offset=2"
expect_json '[.content[].controllerId] | join(",")' dev-03,dev-04,dev-05 \
    "offset 2, limit 3"
expect_json '[.total, .size] | join(",")' 13,3
api GET "$R/targets?limit=501"
expect_json .size 13 "limit > 500 is clamped, not refused"
api GET "$R/targets?offset=-5&limit=2"
expect_json '.content[0].controllerId' dev-01 "offset < 0 reads as 0"
api GET "$R/targets?limit=0"
expect_json .size 13 "limit < 1 reads as 50"
api GET "$R/targets?sort=name:DESC,controllerId:DESC&limit=2"
expect_json '[.content[].controllerId] | join(",")' nameless,test-target \
    "sort name:DESC then controllerId:DESC"
api GET "$R/targets?sort=NAME:asc&q=controllerId==dev-*&limit=4"
expect_json '[.content[].controllerId] | join(",")' dev-03,dev-06,dev-09,dev-01 \
    "sort field and direction ignore case"
api GET "$R/targets?sort=createdAt:ASC"
expect_status 200 "sort createdAt"
api GET "$R/targets?sort=bogus:ASC"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.invalidField
api GET "$R/targets?sort=name:UP"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.invalidDirection
api GET "$R/targets?sort=name"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.sortParamSyntax

# q: a table of filter -> the sorted controller ids it selects.
while IFS='|' read -r q want; do
	[ -z "$q" ] && continue
	api GET "$R/targets?limit=50" -G --data-urlencode "q=$q"
	expect_status 200 "q=$q -> 200"
	expect_json '[.content[].controllerId] | join(",")' "$want" "q=$q"
	expect_json '.total' "$(echo "$want" | awk -F, '{print ($0 == "" ? 0 : NF)}')" \
	    "q=$q: total"
done <<'EOF'
controllerId==dev-03|dev-03
controllerId==DEV-03|dev-03
id==dev-1*|dev-10
name==Renamed|test-target
name=="Device 1";controllerId=out=(dev-01,dev-04)|dev-07,dev-10
controllerId=in=(dev-01,dev-02,nope)|dev-01,dev-02
name!=Device*|nameless,old-style,test-target
updateStatus==registered|test-target
updateStatus==unknown;controllerId==dev-0*|dev-01,dev-02,dev-03,dev-04,dev-05,dev-06,dev-07,dev-08,dev-09
attribute.hw==rev-a|dev-01,dev-02,dev-03,dev-04,dev-05
attribute.model==T-1000|test-target
attribute.hw!=rev-a;controllerId=lt=dev-99|dev-06,dev-07,dev-08,dev-09,dev-10
metadata.tier==gold|dev-02,dev-03
attribute.hw=in=(rev-b,nope);controllerId=le=dev-07|dev-06,dev-07
attribute.hw==REV-A*;controllerId=in=(dev-01,dev-09)|dev-01
metadata.tier!=gold;controllerId=le=dev-03|dev-01
metadata.tier=out=(gold);controllerId=le=dev-03|dev-01
metadata.site==hamburg,metadata.tier==gold|dev-02,dev-03,test-target
(controllerId==dev-01,controllerId==dev-02);name=="Device 2"|dev-02
controllerId=ge=dev-09;controllerId=le=dev-10|dev-09,dev-10
description==*shelf*|test-target
ipAddress==127.0.0.1|test-target
EOF
api GET "$R/targets" -G --data-urlencode "q=createdAt=gt=0;lastModifiedAt=ge=0;controllerId==dev-01"
expect_json '.total' 1 "q on createdAt and lastModifiedAt"
api GET "$R/targets" -G --data-urlencode "q=lastControllerRequestAt=gt=0"
expect_json '[.content[].controllerId] | join(",")' test-target \
    "q on lastControllerRequestAt"
api GET "$R/targets" -G --data-urlencode "q=bogus==1"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.rsqlInvalidField
api GET "$R/targets" -G --data-urlencode "q=controllerId=="
expect_hawkbit_error 400 hawkbit.server.error.rest.param.rsqlParamSyntax
api GET "$R/targets" -G --data-urlencode "q=(name==x"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.rsqlParamSyntax
api GET "$R/targets" -G --data-urlencode "q=updateStatus==sideways"
expect_status 400 "an unknown updateStatus -> 400"

# --- permissions and credentials --------------------------------------------
api_json POST /api/v1/tokens '{"name":"sw-only","permissions":["software.read"]}'
expect_status 201 "a token without device permissions"
SWTOK=$(jq -r .token <"$T/body")
req GET $R/targets -H "Authorization: Bearer $SWTOK"
expect_hawkbit_error 403 hawkbit.server.error.insufficientPermission
req GET $R/targets
expect_status 401 "no credentials -> 401"
expect_jq '.errorCode | startswith("hawkbit.server.error")' "401 in hawkBit's shape"

# --- delete, re-create ------------------------------------------------------
api DELETE $R/targets/no-such
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
ok=0
tokens=
for i in $(seq 1 40); do
	api DELETE $R/targets/test-target
	[ "$STATUS" = 204 ] || break
	api_json POST $R/targets '[{"controllerId":"test-target","name":"test-target"}]'
	[ "$STATUS" = 201 ] || break
	api GET $R/targets/test-target/attributes
	[ "$STATUS" = 204 ] || break
	api GET $R/targets/test-target
	[ "$(jq -r '.requestAttributes, .updateStatus, has("description"), has("pollStatus")' <"$T/body" | tr '\n' ' ')" = "true unknown false false " ] || break
	tokens="$tokens $(jq -r .securityToken <"$T/body")"
	api GET $R/targets/test-target/metadata
	[ "$(jq -r .total <"$T/body")" = 0 ] || break
	ok=$((ok + 1))
done
check "delete and re-create test-target 40 times ($ok)" [ "$ok" = 40 ]
check "every re-created target got a fresh token" \
    [ "$(echo $tokens | tr ' ' '\n' | sort -u | wc -l)" = 40 ]
api DELETE $R/targets/test-target
expect_status 204 "DELETE -> 204"
expect_empty_body
check "nothing of test-target is left in the database" \
    [ "$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM device WHERE controller_id = 'test-target') + (SELECT count(*) FROM device_attribute WHERE device_id NOT IN (SELECT id FROM device)) + (SELECT count(*) FROM device_metadata WHERE device_id NOT IN (SELECT id FROM device)) + (SELECT count(*) FROM device_seen WHERE device_id NOT IN (SELECT id FROM device))")" = 0 ]
api GET $R/targets/test-target
expect_status 404 "deleted: 404"
api_json POST $R/targets '[{"controllerId":"test-target"}]'
expect_status 201 "the id is free at once"
NEWTOK=$(jq -r '.[0].securityToken' <"$T/body")
DDI_AUTH="TargetToken $NEWTOK"
ddi GET test-target
expect_status 200 "the re-created target polls with its new token"
DDI_AUTH="TargetToken replaced-token-1"
ddi GET test-target
expect_status 401 "the old target's token is gone with it"
DDI_AUTH=

# limit above 500 is clamped to 500.
for b in 0 1; do
	seq $((b * 300)) $((b * 300 + 299)) |
	    jq -R '{controllerId: ("bulk-" + (tonumber | tostring | ("000" + .)[-3:]))}' |
	    jq -cs . >"$T/bulk.json"
	api_json POST $R/targets "@$T/bulk.json"
	expect_status 201 "POST 300 targets ($b) -> 201"
done
api GET "$R/targets?limit=501"
expect_json '[.size, (.total > 600)] | map(tostring) | join(",")' 500,true     "limit 501 reads as 500"
api GET "$R/targets?limit=100000&offset=590&q=controllerId==bulk-*"
expect_json '[.size, .total, .content[0].controllerId] | map(tostring) | join(",")' \
    10,600,bulk-590 "a large limit and an offset near the end"

# The sealed tokens open only with this data_dir's key.
mv "$T/data/token.key" "$T/data/token.key.saved"
head -c 32 /dev/urandom >"$T/data/token.key"
api GET $R/targets/test-target
expect_status 200 "GET with another key -> 200"
expect_jq 'has("securityToken") | not' "a token sealed under another key is not shown"
mv "$T/data/token.key.saved" "$T/data/token.key"
api GET $R/targets/test-target
expect_json .securityToken "$NEWTOK" "the right key opens it again"

finish
