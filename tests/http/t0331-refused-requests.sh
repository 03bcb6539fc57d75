#!/usr/bin/env bash
# Devices refused at the door are visible: each 401 of the DDI API is
# noted per controller id and reason (a wrong or missing TargetToken, an
# unknown id in token mode, a wrong GatewayToken, an unknown scheme), with
# the time and the address, and written about once a second.  A device's
# JSON says "refused" until it is accepted again; GET /api/v1/refused
# lists the ids knocking, ?unknown=1 those that are no device.  The rows
# are bounded per id (4 reasons) and in total (device_auth.refused_max):
# a flood of unknown ids keeps the newest, and the server stays small.
. "$(dirname "$0")/lib.sh"

start_server 'device_auth:
  mode: token
  refused_max: 100
  gateway_token: gateway-token-0123456789'
TOKEN=$(make_token admin)
DBF=$T/data/falconet.db
[ -f "$DBF" ] || DBF=$(ls "$T"/data/*.db | head -1)
sql() { sqlite3 -cmd '.timeout 5000' "$DBF" "$1"; }

api_json POST /api/v1/devices '{"controller_id":"tok-1","token":"right-token-1"}'
expect_status 201 "a device with a TargetToken"

# --- reasons ---------------------------------------------------------------------
DDI_AUTH="TargetToken wrong-token-1"
for i in $(seq 1 14); do ddi GET tok-1; done
expect_status 401 "a wrong TargetToken is refused"
DDI_AUTH=
ddi GET tok-1
expect_status 401 "no TargetToken is refused"
DDI_AUTH="TargetToken some-token-9"
ddi GET knocker-1
ddi GET knocker-2
expect_status 401 "an unknown id in token mode is refused"
DDI_AUTH="GatewayToken not-the-gateway-token"
ddi GET tok-1
DDI_AUTH="Basic Zm9vOmJhcg=="
ddi GET tok-1
expect_status 401 "an unknown scheme is refused"
DDI_AUTH=

refused_of() { api GET "/api/v1/devices/$1"; jq -c .refused <"$T/body"; }
wait_for 5 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DBF' \"SELECT count(*) FROM refused_request WHERE controller_id = 'tok-1'\")\" = 4 ]"
check "the flush wrote tok-1's reasons within a few seconds" [ "$(sql "SELECT count(*) FROM refused_request WHERE controller_id = 'tok-1'")" = 4 ]
expect_json_sql() { check "$2 (got $(sql "$1"))" [ "$(sql "$1")" = "$3" ]; }
expect_json_sql "SELECT attempts FROM refused_request WHERE controller_id = 'tok-1' AND reason = 'wrong_target_token'" \
    "14 wrong TargetTokens make one row of 14 attempts" 14
expect_json_sql "SELECT count(*) FROM refused_request WHERE controller_id = 'tok-1' AND (address IS NULL OR first_at = 0 OR last_at = 0)" \
    "every row has its address and times" 0

api GET /api/v1/devices/tok-1
expect_json '.refused | [.reason_code, .address] | length' 2
expect_jq '.refused.last_at >= .refused.first_at and .refused.last_at > 0' "the device says when it was last refused"
expect_jq '[.refused.reason_code] | inside(["wrong_target_token","missing_target_token","wrong_gateway_token","unknown_scheme"])' \
    "its newest refusal has one of its reasons"

api GET '/api/v1/devices?refused=1'
expect_json '[.devices[].controller_id]' '["tok-1"]' "the refused filter lists the refused device"
api GET '/api/v1/devices?refused=0'
expect_json '.total' 1 "refused=0 does not filter"
api GET '/api/v1/devices?refused=maybe'
expect_status 400 "a bad refused value is 400"

api GET /api/v1/refused
expect_status 200 "the refused list"
expect_json '[.refused[].controller_id] | sort' '["knocker-1","knocker-2","tok-1"]' "every id knocking is listed"
expect_json '[.refused[] | select(.controller_id == "tok-1") | .known]' '[true]'
expect_json '[.refused[] | select(.controller_id == "knocker-1") | .known, .reason_code, .reason]' \
    '[false,"unknown_device","unknown device (token mode)"]'
expect_json '[.refused[] | select(.controller_id == "tok-1") | .reasons[] | [.reason_code, .attempts]] | sort' \
    '[["missing_target_token",1],["unknown_scheme",1],["wrong_gateway_token",1],["wrong_target_token",14]]' \
    "each reason of tok-1 with its attempts"
api GET '/api/v1/refused?unknown=1'
expect_json '[.refused[].controller_id] | sort' '["knocker-1","knocker-2"]' "unknown=1: the ids that are no device"
expect_json .total 2
api GET '/api/v1/refused?limit=1'
expect_json '[(.refused | length), .total, .limit]' '[1,3,1]' "paged"
api GET '/api/v1/refused?unknown=2'
expect_status 400 "a bad unknown value is 400"
req GET /api/v1/refused
expect_status 401 "the list needs credentials"

# --- per id: at most 4 reasons ---------------------------------------------------------
api_json PATCH /api/v1/system/configs '{"authentication.targettoken.enabled":false}' >/dev/null
DDI_AUTH="TargetToken right-token-1"
ddi GET tok-1
expect_status 401 "TargetTokens switched off: refused"
DDI_AUTH=
api_json PATCH /api/v1/system/configs '{"authentication.targettoken.enabled":true}' >/dev/null
sleep 1.5
expect_json_sql "SELECT count(*) FROM refused_request WHERE controller_id = 'tok-1'" \
    "a fifth reason for one id still leaves 4 rows" 4
expect_json_sql "SELECT count(*) FROM refused_request WHERE controller_id = 'tok-1' AND reason = 'target_token_disabled'" \
    "the newest reason is kept" 1

# --- accepted again ------------------------------------------------------------------------
sleep 1
DDI_AUTH="TargetToken right-token-1"
ddi GET tok-1
expect_status 200 "the right TargetToken is accepted"
sleep 1.5
api GET /api/v1/devices/tok-1
expect_json .refused null "accepted since: the device no longer says refused"
api GET '/api/v1/devices?refused=1'
expect_json .total 0 "nor is it listed as refused"
sleep 1
DDI_AUTH="TargetToken wrong-token-1"
ddi GET tok-1
DDI_AUTH=
sleep 1.5
api GET /api/v1/devices/tok-1
expect_json '[.refused.reason_code, .refused.attempts]' '["wrong_target_token",1]' \
    "refused again after an accepted contact: attempts count from 1"

# --- a flood of unknown ids ----------------------------------------------------------------
RSS0=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
URLS=()
for i in $(seq 1 400); do URLS+=("$BASE/DEFAULT/controller/v1/flood-$i"); done
curl -s --max-time 60 -H "Authorization: TargetToken some-token-9" -o /dev/null "${URLS[@]}"
sleep 1.5
expect_json_sql "SELECT count(*) <= 100 FROM refused_request" \
    "400 unknown ids leave at most device_auth.refused_max (100) rows" 1
expect_json_sql "SELECT count(*) FROM refused_request WHERE controller_id = 'flood-400'" \
    "the newest id is kept" 1
expect_json_sql "SELECT count(*) FROM refused_request WHERE controller_id = 'flood-1'" \
    "the oldest ids made room" 0
RSS1=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
check "the flood cost little memory (RSS ${RSS0} kB -> ${RSS1} kB)" [ $((RSS1 - RSS0)) -lt 65536 ]
alive "the flood"
api GET '/api/v1/refused?unknown=1&limit=1000'
expect_jq '.total <= 100 and (.refused | length) == .total' "the list is as bounded as the table"

finish
