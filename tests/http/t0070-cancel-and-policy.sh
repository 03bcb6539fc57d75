#!/usr/bin/env bash
# Operator cancel and the cancel channel; the update policy: failures park a
# device, device modes, downgrades, paused rollouts, max_running, failure
# thresholds.  Each scenario uses its own feed.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)
DDI_BASE=$BASE/DEFAULT/controller/v1

# register CID REVISION FEED [SW_VERSION]
register()
{
	ddi GET "$1"
	config_data "$1" "{\"hw_revision\":\"$2\"${4:+,\"sw_version\":\"$4\"}}"
	[ "$STATUS" = 200 ] || fail "configData for $1" "status $STATUS"
	api_json PATCH "/api/v1/devices/$1" "{\"feed\":\"$3\"}"
	[ "$STATUS" = 200 ] || fail "PATCH feed of $1" "status $STATUS"
}

# poll CID: sets DB (deploymentBase href, "" if none) and ACT (its id).
poll()
{
	ddi GET "$1"
	DB=$(link deploymentBase)
	ACT=$(action_id_of_href "$DB")
}

# offered CID VERSION WHAT: the poll offers VERSION.
offered()
{
	local v
	poll "$1"
	if [ -z "$DB" ]; then
		fail "$3: $1 is offered $2" "no deploymentBase; poll: $(body_excerpt)"
		return 1
	fi
	local act=$ACT db=$DB
	req GET "$DB"
	v=$(jq -r '.deployment.chunks[0].version' <"$T/body" 2>/dev/null)
	check "$3: $1 is offered $2 (got $v)" [ "$v" = "$2" ]
	ACT=$act DB=$db
}

# not_offered CID WHAT
not_offered()
{
	poll "$1"
	check "$2: nothing offered to $1" [ "$STATUS" = 200 -a -z "$DB" ]
}

# rollout FEED SOFTWARE [EXTRA_JSON_MEMBERS]: sets R.
rollout()
{
	api_json POST /api/v1/rollouts \
	    "{\"feed\":\"$1\",\"software_id\":$2${3:+,$3}}"
	expect_status 201 "rollout on $1"
	R=$(jq -r .id <"$T/body")
}

# action_status ID: print the action's status.
action_status()
{
	curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" \
	    "$BASE/api/v1/actions/$1" | jq -r .status
}

for v in 1.5.0 2.0.0 3.0.0; do
	mkimg "$T/os-$v.swu" "$v" '1.0'
	upload "$T/os-$v.swu"
	expect_status 201 "upload $v"
	eval "S${v//./}=\$SW_ID"
done
mkimg "$T/os-9.0.0.swu" 9.0.0 '7.7'
upload "$T/os-9.0.0.swu"
expect_status 201 "upload 9.0.0 for other hardware"
S900=$SW_ID

# --- operator cancel, device acknowledges --------------------------------
register c1 1.0 cancel
register c2 1.0 cancel
register c3 1.0 cancel
rollout cancel "$S200"

offered c1 2.0.0 "cancel"
A1=$ACT
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
api POST "/api/v1/actions/$A1/cancel"
expect_status 200 "cancel a fetched action -> 200"
expect_json .status canceling
expect_json .id "$A1"
ddi GET c1
expect_json ._links.cancelAction.href "$DDI_BASE/c1/cancelAction/$A1" "poll shows cancelAction"
expect_json '._links | has("deploymentBase")' false "and no deploymentBase"
ddi GET c1 "/deploymentBase/$A1"
expect_status 404 "deploymentBase of a canceling action -> 404"
req GET "$DL"
expect_status 404 "download of a canceling action -> 404"
ddi GET c1 "/cancelAction/$A1"
expect_status 200 "GET cancelAction -> 200"
expect_json .id "$A1"
expect_json .cancelAction.stopId "$A1"
expect_json '[.id, .cancelAction.stopId] | map(type) | join(",")' "string,string" \
    "id and stopId are strings"
ddi_json POST c1 "/cancelAction/$A1/feedback" \
    '{"status":{"execution":"proceeding","result":{"finished":"none"}}}'
expect_status 200 "cancel feedback proceeding -> 200"
check "still canceling" [ "$(action_status "$A1")" = canceling ]
ddi_json POST c1 "/cancelAction/$A1/feedback" \
    '{"status":{"execution":"canceled","result":{"finished":"success"}}}'
expect_status 200 "cancel feedback 'canceled' -> 200"
check "'canceled' on the cancel channel does not finish it" [ "$(action_status "$A1")" = canceling ]
ddi_json POST c1 "/cancelAction/$A1/feedback" '{"status":{"execution":"closed"}}'
expect_status 400 "cancel feedback without result -> 400"
ddi_json POST c1 "/cancelAction/$A1/feedback" \
    '{"id":"x","status":{"execution":"closed","result":{"finished":"success"}}}'
expect_status 200 "cancel feedback closed/success -> 200"
api GET "/api/v1/actions/$A1"
expect_json .status canceled "closed/success finishes the cancel"
expect_jq '.closed_at != null'
ddi GET c1
expect_json '._links | has("cancelAction")' false "no cancelAction after the cancel"
api POST "/api/v1/actions/$A1/cancel"
expect_status 409 "cancel a closed action -> 409"
expect_is_error

# Never fetched: canceled at once.
poll c2
A2=$ACT
check "c2 has an action" [ -n "$A2" ]
api POST "/api/v1/actions/$A2/cancel"
expect_status 200 "cancel an unfetched action -> 200"
expect_json .status canceled "never fetched -> canceled at once"
ddi GET c2
expect_jq "[._links[]?.href | select(test(\"/$A2([?]|\$)\"))] | length == 0" \
    "no link to the canceled action"

# Device rejects the cancel, then fails it: both resume the action.
offered c3 2.0.0 "cancel-reject"
A3=$ACT
api POST "/api/v1/actions/$A3/cancel"
expect_json .status canceling
ddi GET c3 "/cancelAction/$A3"
expect_status 200
ddi_json POST c3 "/cancelAction/$A3/feedback" \
    '{"status":{"execution":"rejected","result":{"finished":"success"}}}'
expect_status 200 "cancel feedback rejected -> 200"
check "rejected cancel: action running again" [ "$(action_status "$A3")" = running ]
ddi GET c3
check "rejected cancel: deploymentBase of $A3 is back" \
    sh -c "jq -r ._links.deploymentBase.href '$T/body' | grep -q '/deploymentBase/$A3?c='"
ddi GET c3 "/cancelAction/$A3"
expect_status 404 "cancelAction of a running action -> 404"
ddi_json POST c3 "/cancelAction/$A3/feedback" \
    '{"status":{"execution":"closed","result":{"finished":"success"}}}'
expect_status 405 "cancel feedback on a running action -> 405"
api POST "/api/v1/actions/$A3/cancel"
expect_json .status canceling "cancel again"
ddi_json POST c3 "/cancelAction/$A3/feedback" \
    '{"status":{"execution":"closed","result":{"finished":"failure"}}}'
expect_status 200 "cancel feedback closed/failure -> 200"
check "failed cancel: action running again" [ "$(action_status "$A3")" = running ]
feedback c3 "$A3" closed success
expect_status 200
check "then it can succeed" [ "$(action_status "$A3")" = succeeded ]

api POST /api/v1/actions/999999/cancel
expect_status 404 "cancel an unknown action -> 404"

# --- failure parks the device until forced --------------------------------
register f1 1.0 fail
rollout fail "$S200"
RF=$R
offered f1 2.0.0 "failure"
F1=$ACT
feedback f1 "$F1" closed failure "disk full"
expect_status 200 "closed/failure -> 200"
check "failed action" [ "$(action_status "$F1")" = failed ]
not_offered f1 "parked after a failure"
not_offered f1 "still parked"
api GET "/api/v1/rollouts/$RF"
expect_json .counts.failed 1 "rollout counts the failure"
api_json PATCH /api/v1/devices/f1 '{"force":true}'
expect_status 200 "PATCH force -> 200"
expect_json .force true
offered f1 2.0.0 "forced after a failure"
check "forced: a new action ($ACT, was $F1)" [ -n "$ACT" -a "$ACT" != "$F1" ]
feedback f1 "$ACT" closed success
expect_status 200
api GET "/api/v1/rollouts/$RF"
expect_json .counts.succeeded 1 "rollout counts the success after the retry"
expect_json .counts.failed 0 "a device's last result counts"

# --- device modes ---------------------------------------------------------
register m-assigned 1.0 modes
register m-latest 1.0 modes
register m-pinned 1.0 pinfeed
rollout pinfeed "$S150"

not_offered m-assigned "rollout mode, no rollout on the feed"
api_json PATCH /api/v1/devices/m-assigned "{\"mode\":\"assigned\",\"assigned_software_id\":$S150}"
expect_status 200 "PATCH mode assigned -> 200"
expect_json .mode assigned
expect_json .assigned_software_id "$S150"
offered m-assigned 1.5.0 "assigned mode"

api_json PATCH /api/v1/devices/m-latest '{"mode":"latest"}'
expect_status 200 "PATCH mode latest -> 200"
offered m-latest 3.0.0 "latest mode (9.0.0 does not fit)"

api_json PATCH /api/v1/devices/m-pinned '{"mode":"pinned"}'
expect_status 200 "PATCH mode pinned -> 200"
not_offered m-pinned "pinned mode, rollout on the feed"
api_json PATCH /api/v1/devices/m-pinned '{"mode":"rollout"}'
offered m-pinned 1.5.0 "back to rollout mode"

api_json PATCH /api/v1/devices/m-latest '{"mode":"sideways"}'
expect_status 400 "PATCH an unknown mode -> 400"
api_json PATCH /api/v1/devices/m-latest "{\"assigned_software_id\":$S900}"
case $STATUS in
200)
	register m-incompat 1.0 modes
	api_json PATCH /api/v1/devices/m-incompat "{\"mode\":\"assigned\",\"assigned_software_id\":$S900}"
	not_offered m-incompat "assigned software that does not fit"
	;;
*) pass "assigning incompatible software refused ($STATUS)" ;;
esac

# --- downgrade and up-to-date ---------------------------------------------
register d-newer 1.0 down 3.0.0
register d-same 1.0 down 2.0.0
rollout down "$S200"
not_offered d-newer "downgrade without allow_downgrade"
api_json PATCH /api/v1/devices/d-newer '{"force":true}'
not_offered d-newer "force does not allow a downgrade"
api_json PATCH /api/v1/devices/d-newer '{"allow_downgrade":true}'
expect_status 200 "PATCH allow_downgrade -> 200"
expect_json .allow_downgrade true
offered d-newer 2.0.0 "downgrade with allow_downgrade"
not_offered d-same "same version installed"
api_json PATCH /api/v1/devices/d-same '{"force":true}'
offered d-same 2.0.0 "same version with force"

# --- paused rollouts, newest rollout wins ---------------------------------
register p1 1.0 paused
rollout paused "$S200" '"paused":true'
RP=$R
expect_json .paused true
not_offered p1 "paused rollout"
api_json PATCH "/api/v1/rollouts/$RP" '{"paused":false}'
expect_status 200 "unpause -> 200"
expect_json .paused false
offered p1 2.0.0 "unpaused rollout"

register n1 1.0 multi
rollout multi "$S150"
rollout multi "$S200"
RN=$R
offered n1 2.0.0 "the newest rollout of a feed wins"
register n2 1.0 multi
api_json PATCH "/api/v1/rollouts/$RN" '{"paused":true}'
expect_status 200 "pause the newest rollout"
offered n2 1.5.0 "the newest unpaused rollout wins"

# --- per-rollout max_running ----------------------------------------------
register l1 1.0 limit
register l2 1.0 limit
rollout limit "$S200" '"max_running":1'
expect_json .max_running 1
offered l1 2.0.0 "max_running 1: first device"
L1=$ACT
not_offered l2 "max_running 1: second device waits"
api GET "/api/v1/rollouts/$R"
expect_json .counts.running 1
feedback l1 "$L1" closed success
expect_status 200
offered l2 2.0.0 "max_running 1: second device after the first finished"

# --- failure thresholds ---------------------------------------------------
register t1 1.0 thresh
register t2 1.0 thresh
rollout thresh "$S200" '"failure_threshold_count":1'
RT=$R
offered t1 2.0.0 "threshold: first device"
feedback t1 "$ACT" closed failure
expect_status 200
api GET "/api/v1/rollouts/$RT"
expect_json .paused true "1 failure with failure_threshold_count 1 pauses"
expect_jq '.pause_reason | type == "string" and length > 0' "pause_reason set"
not_offered t2 "auto-paused rollout"

for q in q1 q2 q3 q4; do register $q 1.0 pct; done
rollout pct "$S200" '"failure_threshold_percent":30'
RQ=$R
offered q1 2.0.0 "percent threshold: q1"
feedback q1 "$ACT" closed failure
api GET "/api/v1/rollouts/$RQ"
expect_json .paused false "1 of 4 failed (25%) under 30%: not paused"
offered q2 2.0.0 "percent threshold: q2"
feedback q2 "$ACT" closed failure
api GET "/api/v1/rollouts/$RQ"
expect_json .paused true "2 of 4 failed (50%) over 30%: paused"
not_offered q3 "percent threshold reached"

api_json PATCH "/api/v1/rollouts/$RQ" '{"max_running":5,"failure_threshold_percent":80,"name":"renamed"}'
expect_status 200 "PATCH rollout fields -> 200"
expect_json .max_running 5
expect_json .failure_threshold_percent 80
expect_json .name renamed

# --- concurrent polls ------------------------------------------------------
# par_polls N CID...: N parallel polls of each device; all must answer 200.
par_polls()
{
	local n=$1 d
	shift
	for d in "$@"; do
		for i in $(seq "$n"); do echo "$d"; done
	done | xargs -P 12 -I{} curl -s -o /dev/null --max-time 10 \
	    -w '%{http_code}\n' "$DDI_BASE/{}" >"$T/codes"
	check "$(wc -l <"$T/codes") parallel polls all answer 200" \
	    [ "$(grep -vc '^200$' "$T/codes")" -eq 0 ]
}
register race-1 1.0 race
rollout race "$S200"
par_polls 20 race-1
api GET /api/v1/devices/race-1/actions
expect_json '.actions | length' 1 "20 parallel polls create one action"

for i in 1 2 3 4 5 6; do register rl-$i 1.0 racelimit; done
rollout racelimit "$S200" '"max_running":2'
par_polls 4 rl-1 rl-2 rl-3 rl-4 rl-5 rl-6
api GET "/api/v1/rollouts/$R"
expect_json .counts.running 2 "parallel polls respect max_running 2"

# Racing final reports: one result wins and it is applied consistently.
register race-2 1.0 race2 1.0.0
rollout race2 "$S200"
RR=$R
offered race-2 2.0.0 "racing results"
RA=$ACT
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ $((i % 2)) -eq 0 ] && echo success || echo failure
done | xargs -P 10 -I{} curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' \
    -H 'Content-Type: application/json' \
    --data-binary '{"status":{"execution":"closed","result":{"finished":"{}"}}}' \
    "$DDI_BASE/race-2/deploymentBase/$RA/feedback" >"$T/codes"
check "10 racing closed reports answer 200 or 410 ($(sort "$T/codes" | uniq -c | tr -s ' \n' ' '))" \
    [ "$(grep -vcE '^(200|410)$' "$T/codes")" -eq 0 ]
RS=$(action_status "$RA")
api GET "/api/v1/rollouts/$RR"
expect_json '.counts.succeeded + .counts.failed' 1 "racing results: counted once"
api GET /api/v1/devices/race-2
case $RS in
succeeded) expect_json .installed_version 2.0.0 "racing results: succeeded and installed" ;;
failed) expect_json .installed_version 1.0.0 "racing results: failed and not installed" ;;
*) fail "racing results close the action" "status $RS" ;;
esac

api GET /api/v1/devices/f1/actions
expect_json '[.actions[].id] | . == (sort | reverse)' true "device actions newest first"
expect_jq '.actions[0] | (has("history") or has("log") | not) and (.history_count | type == "number")' \
    "the list holds summaries: counts, no history or log"
api GET "/api/v1/actions/$(jq .actions[0].id <"$T/body")/history"
expect_jq '.history | length > 0 and all(has("id") and has("at") and has("status") and has("message") and has("repeats"))' \
    "history entries have id, at, status, message, repeats"

# --- global updates.max_running -------------------------------------------
stop_server
start_server "data_dir: $T/data-global" 'updates:
  max_running: 1'
TOKEN=$(make_token admin)
upload "$T/os-2.0.0.swu"
register g1 1.0 default
register g2 1.0 default
rollout default "$SW_ID"
offered g1 2.0.0 "updates.max_running 1: first device"
G1=$ACT
not_offered g2 "updates.max_running 1: second device waits"
feedback g1 "$G1" closed success
offered g2 2.0.0 "updates.max_running 1: second device after the first"

alive

finish
