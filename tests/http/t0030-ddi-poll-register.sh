#!/usr/bin/env bash
# DDI root poll in open mode: plug-and-play registration, sleep format,
# configData link and modes, hardware attributes, ids and tenants.
. "$(dirname "$0")/lib.sh"

start_server 'poll:
  interval: "00:00:07"
  running_interval: "00:00:03"'
TOKEN=$(make_token admin)
DDI_BASE=$BASE/DEFAULT/controller/v1

# --- first poll registers -------------------------------------------------
ddi GET dev-1
expect_status 200 "first poll of an unknown device -> 200"
check "poll answer is JSON (Content-Type $(header Content-Type))" \
    sh -c "echo '$(header Content-Type)' | grep -Eq '^application/(hal\+)?json'"
# Just registered and asked for configData: the running interval, so that
# its first offer does not wait a whole idle interval.
expect_json .config.polling.sleep 00:00:03
expect_json '.config.polling.sleep | test("^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$")' true \
    "sleep is HH:MM:SS"
expect_json ._links.configData.href "$DDI_BASE/dev-1/configData" \
    "new device: configData link, absolute"
expect_json '._links | has("deploymentBase") or has("cancelAction") or has("installedBase")' false \
    "new device: no action links"

api GET /api/v1/devices/dev-1
expect_status 200 "the device is registered"
expect_json .controller_id dev-1
expect_json .mode rollout
expect_json .feed default
expect_json .has_token false
expect_json .action null
expect_json .assigned_software_id null
expect_json .installed_version null
expect_json .force false
expect_json .allow_downgrade false
expect_json .attributes '{}' "no attributes yet"
expect_jq 'has("token") | not' "no token field"
expect_jq '.created_at != null'

check "last_seen and last_address are recorded" wait_for 3 sh -c \
    "curl -s --max-time 5 -H 'Authorization: Bearer $TOKEN' $BASE/api/v1/devices/dev-1 |
     jq -e '.last_seen != null and .last_address == \"127.0.0.1\"' >/dev/null"

# A deleted device takes its last contact with it, also when its last poll
# is flushed after the delete.
DB=$T/data/falconet.db
seen_rows() { sqlite3 "$DB" "SELECT count(*) FROM device_seen WHERE device_id = $1"; }
ddi GET dev-gone
GONE=$(sqlite3 "$DB" "SELECT id FROM device WHERE controller_id = 'dev-gone'")
check "dev-gone's last contact is written" wait_for 3 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM device_seen WHERE device_id = $GONE')\" = 1 ]"
api DELETE /api/v1/devices/dev-gone
expect_status 204 "delete dev-gone"
check "the deleted device's last contact is gone" [ "$(seen_rows "$GONE")" = 0 ]
ddi GET dev-gone2
GONE2=$(sqlite3 "$DB" "SELECT id FROM device WHERE controller_id = 'dev-gone2'")
api DELETE /api/v1/devices/dev-gone2
expect_status 204 "delete dev-gone2 right after its poll"
sleep 1.5
check "a last contact flushed after the delete is not written" [ "$(seen_rows "$GONE2")" = 0 ]

api GET /api/v1/devices
expect_status 200
expect_json .total 1
expect_json '.devices[0].controller_id' dev-1

ddi GET dev-1
expect_json '._links | has("configData")' true "configData link until a PUT"
api GET /api/v1/devices
expect_json .total 1 "polling again registers nothing new"

# --- configData -----------------------------------------------------------
config_data dev-1 '{"hw_boardname":"boardA","hw_revision":"1.1","mac":"00:11"}'
expect_status 200 "PUT configData (merge) -> 200"
expect_empty_body
ddi GET dev-1
expect_status 200
expect_json '._links | has("configData")' false "configData link gone after a PUT"
expect_json .config.polling.sleep 00:00:07

api GET /api/v1/devices/dev-1
expect_json .attributes '{"hw_boardname":"boardA","hw_revision":"1.1","mac":"00:11"}' \
    "attributes stored" 
expect_json .hw_model boardA "hw_boardname -> hw_model"
expect_json .hw_revision 1.1 "hw_revision -> hw_revision"

# Default mode is merge; legacy fields are ignored.
ddi_json PUT dev-1 /configData \
    '{"id":"","time":"20240101T000000","status":{"execution":"closed","result":{"finished":"success"}},"data":{"mac":"22","sw_version":"1.0.0"}}'
expect_status 200 "PUT configData without mode, with legacy fields -> 200"
api GET /api/v1/devices/dev-1
expect_json '.attributes | to_entries | map("\(.key)=\(.value)") | sort | join(" ")' \
    "hw_boardname=boardA hw_revision=1.1 mac=22 sw_version=1.0.0" "merge upserts"
expect_json .installed_version 1.0.0 "sw_version -> installed_version"

ddi_json PUT dev-1 /configData '{"mode":"merge","data":{"note":"x"}}' \
    -H 'Content-Type: application/json;charset=UTF-8'
expect_status 200 "Content-Type with charset parameter -> 200"

config_data dev-1 '{"hw_boardname":"boardB","extra":"e"}' replace
expect_status 200 "PUT configData replace -> 200"
api GET /api/v1/devices/dev-1
expect_json .attributes '{"extra":"e","hw_boardname":"boardB"}' "replace sets the whole set"
expect_json .hw_model boardB

config_data dev-1 '{"extra":"ignored value"}' remove
expect_status 200 "PUT configData remove -> 200"
api GET /api/v1/devices/dev-1
expect_json .attributes '{"hw_boardname":"boardB"}' "remove deletes the listed keys"

config_data dev-1 '{"k":null}'
expect_status 200 "a null value is allowed"

# Bad configData bodies: 400 and no change.
bad_config()
{
	ddi_json PUT dev-1 /configData "$1"
	expect_status 400 "configData $2 -> 400"
}
bad_config '{"mode":"merge","data":' "truncated JSON"
bad_config 'not json' "not JSON"
bad_config '[]' "an array"
bad_config '{"mode":"merge"}' "without data"
bad_config '{"data":{}}' "with empty data"
bad_config '{"data":["a"]}' "with data an array"
bad_config '{"data":"a=b"}' "with data a string"
bad_config '{"mode":"bogus","data":{"a":"b"}}' "with an unknown mode"
bad_config '{"mode":5,"data":{"a":"b"}}' "with a numeric mode"
bad_config '{"data":{"a":5}}' "with a numeric value"
bad_config '{"data":{"a":{"b":"c"}}}' "with an object value"
bad_config "{\"data\":{\"$(printf 'k%.0s' $(seq 129))\":\"v\"}}" "with a 129-char key"
bad_config "{\"data\":{\"k\":\"$(printf 'v%.0s' $(seq 129))\"}}" "with a 129-char value"
bad_config '{"data":{"a\u0001b":"v"}}' "with a control character in a key"
bad_config '{"data":{"a":"b","a":"c"}}' "with a duplicate key"
api GET /api/v1/devices/dev-1
expect_json '.attributes | keys | map(select(. != "k")) | join(",")' "hw_boardname" \
    "bad bodies changed nothing"

many=$(seq 101 | jq -Rn '[inputs | {key: "a\(.)", value: "v"}] | from_entries')
ddi_json PUT dev-1 /configData "{\"data\":$many}"
expect_status 429 "more than 100 attributes -> 429"

ddi PUT dev-1 /configData -H 'Content-Type: text/plain' \
    --data-binary '{"data":{"a":"b"}}'
expect_status 415 "configData as text/plain -> 415"

# configData of an unknown device: it is not created by PUT.
ddi_json PUT never-polled /configData '{"data":{"a":"b"}}'
case $STATUS in
200 | 404) pass "configData of an unknown device answers 200 or 404 ($STATUS)" ;;
*) fail "configData of an unknown device" "status $STATUS" ;;
esac

# --- controller ids -------------------------------------------------------
ID256=$(printf 'd%.0s' $(seq 256))
ddi GET "$ID256"
expect_status 200 "256-char controller id -> 200"
api GET "/api/v1/devices/$ID256"
expect_status 200 "256-char device registered"
ddi GET "${ID256}x"
expect_status 400 "257-char controller id -> 400"
api GET /api/v1/devices?limit=100
expect_json "[.devices[].controller_id | select(length > 256)] | length" 0 \
    "257-char id not registered"
ddi GET "aa:bb:cc_dd.ee-ff"
expect_status 200 "id with : _ . - -> 200"
api GET "/api/v1/devices/aa:bb:cc_dd.ee-ff"
expect_status 200
ddi GET "dev%20space"
expect_status 200 "percent-encoded id -> 200"
api GET "/api/v1/devices/dev%20space"
expect_status 200 "stored decoded"
expect_json .controller_id "dev space"

# --- tenants --------------------------------------------------------------
api GET /api/v1/devices
TOTAL=$(jq -r .total <"$T/body")
for tenant in default DeFaUlT; do
	req GET "/$tenant/controller/v1/dev-1"
	expect_status 200 "tenant $tenant -> 200"
	expect_json .config.polling.sleep 00:00:07
done
api GET /api/v1/devices
expect_json .total "$TOTAL" "tenant case does not create devices"
req GET /OTHER/controller/v1/dev-1
expect_status 404 "wrong tenant -> 404"
req GET /OTHER/controller/v1/brand-new
expect_status 404 "wrong tenant, new id -> 404"
api GET /api/v1/devices/brand-new
expect_status 404 "wrong tenant registers nothing"

# --- other DDI resources of a device without actions ----------------------
ddi GET dev-1 /deploymentBase/1
expect_status 404 "deploymentBase of no action -> 404"
ddi GET dev-1 /cancelAction/1
expect_status 404 "cancelAction of no action -> 404"
ddi GET dev-1 /installedBase/1
expect_status 404 "installedBase of no action -> 404"
ddi GET unknown-dev /deploymentBase/1
expect_status 404 "deploymentBase of an unknown device -> 404"

# --- Accept ---------------------------------------------------------------
ddi GET dev-1 "" -H 'Accept: application/json'
expect_status 200
check "Accept: application/json -> application/json ($(header Content-Type))" \
    sh -c "echo '$(header Content-Type)' | grep -q '^application/json'"
ddi GET dev-1 "" -H 'Accept: application/hal+json'
expect_status 200 "Accept: application/hal+json -> 200"
ddi GET dev-1 "" -H 'Accept: application/json;charset=UTF-8'
expect_status 200 "Accept with a parameter -> 200"

# --- absolute links: Host, forwarded headers only from trusted proxies ------
ddi GET link-1 "" -H 'Host: ota.internal:8080'
expect_json ._links.configData.href "http://ota.internal:8080/DEFAULT/controller/v1/link-1/configData" \
    "hrefs follow the Host header"
ddi GET link-2 "" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: evil.example'
expect_json ._links.configData.href "$DDI_BASE/link-2/configData" \
    "X-Forwarded-* from an untrusted peer are ignored"
ddi GET link-3 "" -H 'Host: evil"}<x>'
case $STATUS in
400) pass "a hostile Host header -> 400" ;;
200) check "a hostile Host header still gives valid JSON" \
    sh -c "jq -e ._links.configData.href '$T/body' >/dev/null" ;;
*) fail "a hostile Host header" "status $STATUS" ;;
esac

# --- listing and concurrency ----------------------------------------------
api GET /api/v1/devices
TOTAL=$(jq -r .total <"$T/body")
api GET '/api/v1/devices?limit=2&offset=1'
expect_status 200 "devices limit=2 offset=1 -> 200"
expect_json '.devices | length' 2
expect_json .total "$TOTAL" "total ignores paging"
api GET "/api/v1/devices?limit=2&offset=$TOTAL"
expect_json '.devices | length' 0 "offset past the end: empty page"

seq 1 30 | xargs -P 10 -I{} curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' \
    "$DDI_BASE/par-{}" >"$T/codes"
check "30 parallel first polls all answer 200" \
    [ "$(grep -c '^200$' "$T/codes")" -eq 30 ]
seq 1 20 | xargs -P 10 -I{} curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' \
    "$DDI_BASE/same-dev" >"$T/codes"
check "20 parallel first polls of one device all answer 200" \
    [ "$(grep -c '^200$' "$T/codes")" -eq 20 ]
api GET /api/v1/devices?limit=1000
expect_json .total $((TOTAL + 31)) "parallel polls registered each device once"
expect_json '[.devices[].controller_id | select(. == "same-dev")] | length' 1

# --- attribute names are settings; a trusted proxy ------------------------
stop_server
start_server 'attributes:
  hw_model: hwModel
  hw_revision: hwRevision
  sw_version: swVersion' 'proxy:
  trusted: [ "127.0.0.1/32" ]'
ddi GET link-4 "" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: ota.example.com'
expect_json ._links.configData.href "https://ota.example.com/DEFAULT/controller/v1/link-4/configData" \
    "trusted proxy: X-Forwarded-Proto and -Host make the hrefs"
ddi GET link-5 "" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: ota.example.com' \
    -H 'X-Forwarded-Port: 8443'
expect_json ._links.configData.href "https://ota.example.com:8443/DEFAULT/controller/v1/link-5/configData" \
    "trusted proxy: X-Forwarded-Port is used"
ddi GET link-6 "" -H 'X-Forwarded-For: 203.0.113.9'
check "trusted proxy: last_address from X-Forwarded-For" wait_for 3 sh -c \
    "curl -s --max-time 5 -H 'Authorization: Bearer $TOKEN' $BASE/api/v1/devices/link-6 |
     jq -e '.last_address == \"203.0.113.9\"' >/dev/null"
ddi GET dev-2
expect_status 200
config_data dev-2 '{"hwModel":"m1","hwRevision":"r7","swVersion":"3.2.1","hw_boardname":"x"}'
expect_status 200
api GET /api/v1/devices/dev-2
expect_json .hw_model m1 "attributes.hw_model names the attribute"
expect_json .hw_revision r7 "attributes.hw_revision names the attribute"
expect_json .installed_version 3.2.1 "attributes.sw_version names the attribute"
ddi GET dev-2
expect_json .config.polling.sleep 00:05:00 "default poll.interval is 00:05:00"

# public_url wins over Host and forwarded headers.
stop_server
start_server 'public_url: "https://ota.example.net"'
ddi GET link-7 "" -H 'Host: other.example:99'
expect_json ._links.configData.href "https://ota.example.net/DEFAULT/controller/v1/link-7/configData" \
    "public_url makes the hrefs"
alive

finish
