#!/usr/bin/env bash
# GET /api/v1/audit filters by user, action (one action or its family) and
# time (since, until), with total counting the matching entries, and an
# entry on an action names the action's device.  Hostile filters are 400.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

start_server "$FAST"
TOKEN=$(make_token auditor)
printf 'alice-password-1\n' | falconet_cli user add alice >/dev/null 2>&1 ||
    fail "falconet user add alice"

# audit QUERY: GET /api/v1/audit?QUERY as the token.
audit()
{
	api GET "/api/v1/audit?$1"
}

# An action to cancel: software, a device on a feed, a rollout, a poll.
mkimg "$T/os.swu" 1.0.0 '1.0'
upload "$T/os.swu"
expect_status 201 "upload"
ddi GET aud-dev
config_data aud-dev '{"hw_revision":"1.0"}'
api_json PATCH /api/v1/devices/aud-dev '{"feed":"audfeed"}'
expect_status 200 "device on a feed (device.update by the token)"
api_json POST /api/v1/rollouts "{\"feed\":\"audfeed\",\"software_id\":$SW_ID}"
expect_status 201 "rollout"
ddi GET aud-dev
ACT=$(action_id_of_href "$(link deploymentBase)")
check "the device is offered an action ($ACT)" test -n "$ACT"
api POST "/api/v1/actions/$ACT/cancel"
check "the action is canceled (status $STATUS)" test "$STATUS" -lt 300
api POST /api/v1/actions/999999/cancel
expect_status 404 "cancel of no action"

# alice, in a session, changes the device too.
login alice alice-password-1
req PATCH /api/v1/devices/aud-dev -H "Cookie: falconet_session=$COOKIE" \
    -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Audited"}'
expect_status 200 "alice renames the device"

audit ''
expect_status 200 "the whole log"
ALL=$(jq -r .total <"$T/body")
check "the whole log has entries ($ALL)" test "$ALL" -ge 6
expect_jq '[.entries[] | select(.action == "action.cancel" and .target == "'"$ACT"'")][0].device == "aud-dev"' \
    "the cancel entry names the action's device"
expect_jq '[.entries[] | select(.action == "action.cancel" and .target == "999999")][0].device == null' \
    "a cancel of no action names no device"
expect_jq '[.entries[] | select(.action == "device.update")][0] | has("device") and .device == null' \
    "other entries have device null"

audit 'user=alice'
expect_status 200 "user=alice"
expect_jq '(.entries | length) >= 2 and ([.entries[].user] | unique) == ["alice"]' \
    "user=alice: only alice's entries (login, device.update)"
expect_jq '.total == (.entries | length)' "user=alice: total counts the matching entries"
audit 'user=token:auditor'
expect_jq '([.entries[].user] | unique) == ["token:auditor"] and .total >= 4' \
    "user=token:auditor: the token's entries"
audit 'user=nobody'
expect_jq '.total == 0 and (.entries | length) == 0' "user=nobody: none"

audit 'action=action.cancel'
expect_jq '.total == 2 and ([.entries[].action] | unique) == ["action.cancel"]' \
    "action=action.cancel: both cancels"
audit 'action=device'
expect_jq '.total >= 2 and ([.entries[].action] | unique) == ["device.update"]' \
    "action=device: the device family (device.update)"
audit 'action=devic'
expect_jq '.total == 0' "action=devic: no half a name"
audit 'action=device.update&user=alice'
expect_jq '.total == 1 and .entries[0].user == "alice"' "user and action together"

NOW=$(date +%s)
audit "since=$((NOW + 3600))"
expect_jq '.total == 0' "since=an hour from now: none"
audit "until=$((NOW - 3600))"
expect_jq '.total == 0' "until=an hour ago: none"
audit "since=$((NOW - 3600))&until=$((NOW + 3600))"
expect_jq ".total == $ALL" "since and until around now: all $ALL"

# Paging a filtered list.
audit 'user=token:auditor&limit=2'
T1=$(jq -c '[.entries[].id]' <"$T/body")
audit 'user=token:auditor&limit=2&offset=2'
T2=$(jq -c '[.entries[].id]' <"$T/body")
disjoint()
{
	jq -en "$@" >/dev/null
}
check "pages of a filtered list do not overlap ($T1, $T2)" \
    disjoint --argjson a "$T1" --argjson b "$T2" '($a | length) == 2 and ($b | length) >= 1 and ([$a[], $b[]] | unique | length) == (($a | length) + ($b | length)) and $a[1] > $b[0]'

# Hostile filters.
LONG=$(printf 'a%.0s' $(seq 1 129))
audit "user=$LONG"
expect_status 400 "user of 129 bytes -> 400"
expect_error invalid_query
audit "action=$LONG"
expect_status 400 "action of 129 bytes -> 400"
expect_error invalid_query
for q in since=-1 since=abc until=1e9 'since=99999999999999999999' until=; do
	audit "$q"
	expect_status 400 "$q -> 400"
	expect_error invalid_query
done
audit "user=%27%20OR%201%3D1%20--"
expect_jq '.total == 0' "a user filter with SQL in it matches nothing"
audit 'user=&action='
expect_jq ".total >= $ALL" "empty filters filter nothing"

# A read-only user may read the log (audit.read), filtered too.
printf 'bob-password-12\n' | falconet_cli user add bob readonly \
    >/dev/null 2>&1 || fail "falconet user add bob"
login bob bob-password-12
req GET '/api/v1/audit?user=alice' -H "Cookie: falconet_session=$COOKIE"
expect_status 200 "bob (readonly, audit.read) filters the log"

finish
