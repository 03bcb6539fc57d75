#!/usr/bin/env bash
# A bulk change by filter: POST /api/v1/devices/bulk takes, instead of a
# list of ids, the filter of the device list ("match") and the number of
# devices the operator saw ("expected").  It changes exactly the devices
# the filter matches, in one transaction, and only if they are as many
# as expected (409 otherwise, nothing changed); a hostile or invalid
# filter is 400 JSON; the assignment check and the audit are the id
# form's.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

for i in 1 2 3 4 5 6; do
	ddi GET "bm-$i"
	config_data "bm-$i" '{"hw_revision":"1.0","sw_version":"1.0.0"}'
done
config_data bm-5 '{"sw_version":"2.0.0"}'
api_json POST /api/v1/devices '{"controller_id":"other-1"}'
api_json POST /api/v1/devices '{"controller_id":"other-2"}'

# --- a patch by filter -----------------------------------------------------------
api_json POST /api/v1/devices/bulk '{"match":{"q":"BM-"},"expected":6,"patch":{"feed":"lab"}}'
expect_status 200 "a patch of the 6 devices matching q=BM-"
expect_json .updated 6 "6 devices updated"
expect_json .matched 6 "the answer says how many matched"
api GET '/api/v1/devices?feed=lab'
expect_json '[.devices[].controller_id]' '["bm-1","bm-2","bm-3","bm-4","bm-5","bm-6"]' "exactly the matched devices moved"
api GET '/api/v1/devices/other-1'
expect_json .feed default "a device the filter does not match is untouched"

api_json POST /api/v1/devices/bulk '{"match":{"feed":"lab","q":"2.0.0"},"expected":1,"patch":{"mode":"pinned"}}'
expect_status 200 "filters combine (feed and q)"
api GET '/api/v1/devices?mode=pinned'
expect_json '[.devices[].controller_id]' '["bm-5"]' "only bm-5 is pinned"

sleep 1.5 # the last-seen writer flushes once a second
api_json POST /api/v1/devices/bulk '{"match":{"seen":"never"},"expected":2,"patch":{"name":"waiting"}}'
expect_status 200 "seen=never matches the two pre-registered devices"
api GET '/api/v1/devices?q=waiting'
expect_json .total 2

# --- the count the operator saw ----------------------------------------------------
api_json POST /api/v1/devices/bulk '{"match":{"feed":"lab"},"expected":5,"patch":{"feed":"x"}}'
expect_status 409 "a count that differs from the match is refused"
expect_error match_changed
expect_json .matched 6 "the 409 says how many match now"
expect_json .expected 5
api GET '/api/v1/devices?feed=x'
expect_json .total 0 "after the 409 nothing changed"
api_json POST /api/v1/devices/bulk '{"match":{"feed":"lab"},"expected":7,"delete":true}'
expect_status 409 "more expected than matched is refused too"
api GET '/api/v1/devices?feed=lab'
expect_json .total 6 "nothing was deleted"
api_json POST /api/v1/devices/bulk '{"match":{"q":"nothing-like-this"},"expected":1,"patch":{"feed":"x"}}'
expect_status 409 "a filter that matches nothing is 409"
expect_json .matched 0

# --- the assignment check -----------------------------------------------------------
mkimg "$T/b.swu" 3.0.0 '9.9'
upload "$T/b.swu"
expect_status 201 "setup: software for other hardware"
B=$SW_ID
api_json POST /api/v1/devices/bulk "{\"match\":{\"feed\":\"lab\",\"mode\":\"rollout\"},\"expected\":5,\"patch\":{\"mode\":\"assigned\",\"assigned_software_id\":$B}}"
expect_status 409 "assigning software that does not fit by filter is refused"
expect_error assignment_refused
expect_json '.refused | length' 5 "each device refused is listed"
expect_json '[.refused[].reason_code] | unique' '["incompatible"]'
api GET '/api/v1/devices?mode=assigned'
expect_json .total 0 "nothing was assigned"
api_json POST /api/v1/devices/bulk "{\"match\":{\"feed\":\"lab\",\"mode\":\"rollout\"},\"expected\":5,\"patch\":{\"mode\":\"assigned\",\"assigned_software_id\":$B},\"confirm\":true}"
expect_status 200 "confirmed, the assignment is made"
expect_json .updated 5

# --- delete and the audit -----------------------------------------------------------
api_json POST /api/v1/devices/bulk '{"match":{"seen":"never"},"expected":2,"delete":true}'
expect_status 200 "delete by filter"
expect_json .deleted 2
api GET /api/v1/devices/other-1
expect_status 404 "the matched device is gone"
# The audit row is written once the answer is sent.
audited() { api GET '/api/v1/audit?limit=100' && jq -e '[.entries[] | select(.target == "2 devices by filter" and .status == 200)] | length == 2' <"$T/body" >/dev/null; }
wait_for 3 audited
expect_jq '[.entries[] | select(.action == "device.bulk" and .target == "2 devices by filter" and .status == 200)] | length == 2' \
    "the change by filter is audited as the id form is, with its count"
expect_jq '[.entries[] | select(.action == "device.bulk" and .status == 409)] | length >= 3' \
    "the refused changes are audited with their 409"

# --- hostile and invalid filters ------------------------------------------------------
J=(-H 'Content-Type: application/json')
LONG=$(head -c 300 /dev/zero | tr '\0' a)
abad 400 "match without expected" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"q":"bm"},"patch":{"feed":"x"}}'
abad 400 "expected 0" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"q":"bm"},"expected":0,"patch":{"feed":"x"}}'
abad 400 "expected over the bound" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{},"expected":10001,"patch":{"feed":"x"}}'
abad 400 "expected a string" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{},"expected":"6","patch":{"feed":"x"}}'
abad 400 "match and ids at once" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"ids":["bm-1"],"match":{},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match not an object" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":["q"],"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with an unknown key" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"sql":"1=1"},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with a nested object" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"q":{"a":1}},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with an unknown state" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"state":"x'"'"' OR 1=1 --"},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with an unknown seen" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"seen":"sometimes"},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with rollout 0" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"rollout":0},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with rollout_state but no rollout" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"rollout_state":"failed"},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with a search of 300 bytes" POST /api/v1/devices/bulk "${J[@]}" --data-binary "{\"match\":{\"q\":\"$LONG\"},\"expected\":1,\"patch\":{\"feed\":\"x\"}}"
abad 400 "match with a duplicate key" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{"q":"a","q":"b"},"expected":1,"patch":{"feed":"x"}}'
abad 400 "match with neither patch nor delete" POST /api/v1/devices/bulk "${J[@]}" --data-binary '{"match":{},"expected":6}'
api GET '/api/v1/devices?feed=x'
expect_json .total 0 "no invalid request changed anything"

# A filter that is valid but matches a search pattern's special
# characters literally: % and _ are no wildcards.
api_json POST /api/v1/devices/bulk '{"match":{"q":"%"},"expected":1,"patch":{"feed":"x"}}'
expect_status 409 "q=% matches no device (no LIKE wildcards)"
expect_json .matched 0

finish
