#!/usr/bin/env bash
# Self-registration in open and tofu modes (security finding #9).  A device
# that registers itself is counted per address and minute
# (device_auth.register_rate) and refused while device_auth.register_feed
# holds device_auth.register_max devices, both with hawkBit's 429; it joins
# register_feed, so that with a feed no rollout targets, strangers neither
# download the firmware of "default" nor take its rollout's slots nor pause
# it with failures.  The GatewayToken and proxy certificates vouch for a
# device: neither limit applies and it joins "default" as before.
. "$(dirname "$0")/lib.sh"

GW=gw-0123456789abcdef-GATEWAY

# expect_quota NAME: hawkBit's 429 body with its quota error code.
expect_quota()
{
	expect_status 429 "$1 -> 429"
	expect_json .errorCode hawkbit.server.error.quota.tooManyEntries \
	    "$1: hawkBit errorCode"
	expect_jq '.message | type == "string" and length > 0' "$1: message"
}

# from N: curl arguments that send from the loopback alias 127.0.0.N.
from()
{
	echo "--interface 127.0.0.$1"
}

# not_registered CID [NAME]
not_registered()
{
	api GET "/api/v1/devices/$1"
	expect_status 404 "${2:-$1 is not registered}"
}

# --- the reproduction of #9, as the findings ran it -------------------------
# tofu mode; a rollout on "default" with max_running 2 and a failure
# threshold of 3; a legitimate device waits for it.  The strangers come from
# one address with tokens of their choosing, declare fitting hardware, and
# try to fetch the firmware, take the slots and fail the rollout.
# (a) With today's feed ("default") the limits bound how many come.
start_server 'device_auth:
  mode: tofu
  register_rate: 3
  register_max: 5'
TOKEN=$(make_token admin)
mkimg "$T/img.swu" 1.1.0 '1.0' -s 16K
upload "$T/img.swu"
expect_status 201 "upload the firmware"
SW=$SW_ID
api_json POST /api/v1/devices '{"controller_id":"legit-1","token":"legit-token-1"}'
expect_status 201 "pre-register legit-1"
for i in 1 2 3; do
	DDI_AUTH="TargetToken attacker-chosen-$i" ddi GET "fake-$i"
	expect_status 200 "tofu, default feed: fake-$i registers (within the rate)"
done
DDI_AUTH="TargetToken attacker-chosen-4" ddi GET fake-4
expect_quota "fake-4 from the same address in the same minute"
retry=$(header Retry-After)
check "the rate's 429 has Retry-After 1..60 ($retry)" \
    sh -c "[ '$retry' -ge 1 ] && [ '$retry' -le 60 ]"
not_registered fake-4
api GET /api/v1/devices/fake-1
expect_json .feed default "register_feed default: today's feed"
DDI_AUTH="TargetToken attacker-chosen-1" ddi GET fake-1
expect_status 200 "a registered device polls on: only registrations count"
# The cap: legit-1 and three strangers are on "default"; one more fits.
DDI_AUTH="TargetToken attacker-chosen-5" ddi GET fake-5 "" $(from 2)
expect_status 200 "fake-5 from another address: the fifth device on default"
DDI_AUTH="TargetToken attacker-chosen-6" ddi GET fake-6 "" $(from 3)
expect_quota "fake-6: default holds register_max (5) devices"
not_registered fake-6
check "the log names the refused registration and the setting" \
    grep -q 'refused to register fake-6: feed default holds 5 devices, device_auth.register_max' \
    "$T/server.log"
api_json POST /api/v1/devices '{"controller_id":"op-made"}'
expect_status 201 "an operator still creates devices beyond the cap"
DDI_AUTH="GatewayToken $GW" ddi GET gw-1
expect_status 401 "(no GatewayToken configured here)"

# (b) register_feed: quarantine.  The same attack reaches nothing.
stop_server
start_server "data_dir: $T/data-q" "device_auth:
  mode: tofu
  gateway_token: $GW
  register_rate: 3
  register_feed: quarantine"
TOKEN=$(make_token admin)
upload "$T/img.swu"
SW=$SW_ID
api_json POST /api/v1/devices '{"controller_id":"legit-1","token":"legit-token-1"}'
expect_status 201 "pre-register legit-1 (feed default)"
DDI_AUTH="TargetToken legit-token-1" config_data legit-1 '{"hw_revision":"1.0"}'
expect_status 200
api_json POST /api/v1/rollouts \
    "{\"software_id\":$SW,\"feed\":\"default\",\"max_running\":2,\"failure_threshold_count\":3}"
expect_status 201 "rollout on default: max_running 2, failure threshold 3"
R=$(jq -r .id <"$T/body")
for i in 1 2 3; do
	A="TargetToken attacker-chosen-$i"
	DDI_AUTH=$A ddi GET "fake-$i"
	expect_status 200 "quarantine: fake-$i registers"
	DDI_AUTH=$A config_data "fake-$i" '{"hw_boardname":"board","hw_revision":"1.0"}'
	expect_status 200 "fake-$i declares fitting hardware"
	DDI_AUTH=$A ddi GET "fake-$i"
	expect_json '._links | has("deploymentBase")' false \
	    "fake-$i is offered no deployment"
	DDI_AUTH=$A ddi GET "fake-$i" "/softwaremodules/$SW/artifacts/img.swu"
	expect_status 404 "fake-$i cannot download the firmware"
	DDI_AUTH=$A ddi_json POST "fake-$i" /deploymentBase/1/feedback \
	    '{"status":{"execution":"closed","result":{"finished":"failure"}}}'
	expect_status 404 "fake-$i has no action to fail"
done
DDI_AUTH="TargetToken attacker-chosen-4" ddi GET fake-4
expect_quota "quarantine: fake-4 over the rate"
api GET /api/v1/devices/fake-1
expect_json .feed quarantine "a self-registered device is on register_feed"
api GET "/api/v1/rollouts/$R"
expect_json '{paused, failed: .counts.failed, targeted: .counts.targeted}' \
    '{"paused":false,"failed":0,"targeted":1}' \
    "the rollout is untouched: not paused, only legit-1 targeted"
DDI_AUTH="TargetToken legit-token-1" ddi GET legit-1
check "legit-1 gets its deploymentBase" [ -n "$(link deploymentBase)" ]
# The GatewayToken vouches for a device: "default", and no rate.
for i in 1 2 3 4; do
	DDI_AUTH="GatewayToken $GW" ddi GET "gw-$i"
	expect_status 200 "GatewayToken: gw-$i registers past the rate"
done
api GET /api/v1/devices/gw-4
expect_json .feed default "a GatewayToken device joins default"
# The operator accepts a stranger by moving it: then the rollout reaches it.
api_json PATCH /api/v1/devices/fake-2 '{"feed":"default"}'
expect_status 200 "the operator moves fake-2 to default"
DDI_AUTH="TargetToken attacker-chosen-2" ddi GET fake-2
check "fake-2, accepted, gets the rollout" [ -n "$(link deploymentBase)" ]

# --- the rate, per address --------------------------------------------------
stop_server
start_server "data_dir: $T/data-rate" 'device_auth:
  mode: open
  register_rate: 3'
TOKEN=$(make_token admin)
for i in 1 2 3; do
	ddi GET "r1-$i"
	expect_status 200 "127.0.0.1: r1-$i registers"
done
ddi GET r1-4
expect_quota "127.0.0.1: the fourth in a minute"
not_registered r1-4
for i in 1 2 3; do
	ddi GET "r2-$i" "" $(from 2)
	expect_status 200 "127.0.0.2 has a budget of its own: r2-$i registers"
done
ddi GET r2-4 "" $(from 2)
expect_quota "127.0.0.2: the fourth in a minute"
ddi GET r1-1 "" $(from 2)
expect_status 200 "a known device polls from any address"
# Concurrent first polls cannot slip past together: counted, then checked.
seq 1 10 | xargs -P 10 -I{} curl -s -o /dev/null --max-time 10 \
    --interface 127.0.0.4 -w '%{http_code}\n' \
    "$BASE/DEFAULT/controller/v1/par-{}" >"$T/codes"
check "10 parallel first polls from one address: 3 registered ($(sort "$T/codes" | uniq -c | tr '\n' ' '))" \
    [ "$(grep -c '^200$' "$T/codes")" -eq 3 ]
check "... and 7 refused with 429" [ "$(grep -c '^429$' "$T/codes")" -eq 7 ]
api GET '/api/v1/devices?q=par-&limit=100'
expect_json .total 3 "exactly 3 par- devices exist"
# 20 parallel first polls of one device from a fresh address: one row, no
# refusal (the losers join it and give their count back).
seq 1 20 | xargs -P 10 -I{} curl -s -o /dev/null --max-time 10 \
    --interface 127.0.0.5 -w '%{http_code}\n' \
    "$BASE/DEFAULT/controller/v1/same-dev" >"$T/codes"
check "20 parallel first polls of one device all answer 200" \
    [ "$(grep -c '^200$' "$T/codes")" -eq 20 ]
ddi GET other-1 "" $(from 5)
expect_status 200 "127.0.0.5 still has its budget after them"
ddi GET other-2 "" $(from 5)
expect_status 200 "... two more"
ddi GET other-3 "" $(from 5)
expect_quota "127.0.0.5: the fourth new device"

# --- the cap ----------------------------------------------------------------
stop_server
start_server "data_dir: $T/data-cap" "device_auth:
  mode: open
  gateway_token: $GW
  register_max: 3
  register_feed: quarantine"
TOKEN=$(make_token admin)
for i in 1 2 3; do
	ddi GET "c-$i" "" $(from $((10 + i)))
	expect_status 200 "c-$i registers into quarantine"
done
ddi GET c-4 "" $(from 14)
expect_quota "quarantine holds register_max (3)"
not_registered c-4
check "a refused registration leaves no row" \
    sh -c "curl -s --max-time 5 -H 'Authorization: Bearer $TOKEN' \
        '$BASE/api/v1/devices?feed=quarantine' | jq -e '.total == 3' >/dev/null"
api_json PATCH /api/v1/devices/c-1 '{"feed":"default"}'
expect_status 200 "the operator accepts c-1 (moves it out)"
# The feed is counted once a second at most (device_tally_get).
room()
{
	ddi GET c-4 "" $(from 14)
	[ "$STATUS" = 200 ]
}
check "room again: c-4 registers (within the tally's second)" wait_for 3 room
ddi GET c-5 "" $(from 15)
expect_quota "full again"
check "the cap's refusals are logged once a minute, not each" \
    [ "$(grep -c 'refused to register c-' "$T/server.log")" -eq 1 ]
DDI_AUTH="GatewayToken $GW" ddi GET gw-cap
expect_status 200 "the GatewayToken registers past the cap"
api GET /api/v1/devices/gw-cap
expect_json .feed default
api_json POST /api/v1/devices '{"controller_id":"op-cap"}'
expect_status 201 "an operator creates devices past the cap"

alive
finish
