#!/usr/bin/env bash
# Rollouts in waves: groups by percent and count, placed at the start; a
# group's devices are offered only once it runs; a success condition
# starts the next group, an approval holds one, an error condition pauses
# the rollout; "retry failed" makes a follow-up wave offered to the failed
# devices although their last update failed; late joiners go to the last
# group; a target filter; a scheduled start; counts that add up; the
# migration of a release-3 rollout into one running group.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rollouts.sh"

# group_field ROLLOUT POSITION JQ: a field of one group.
group_field()
{
	api GET "/api/v1/rollouts/$1"
	jq -r --argjson p "$2" ".groups[] | select(.position == \$p) | $3" <"$T/body"
}

# finish_device CID success|failure: poll, fetch and report the result.
finish_device()
{
	offered "$1" || { fail "$1 is offered an update"; return 1; }
	req GET "$(link deploymentBase)"
	feedback "$1" "$ACT" closed "$2" "done"
	[ "$STATUS" = 200 ] || fail "$1 reports $2" "status $STATUS"
}

start_server
TOKEN=$(make_token admin)
mkimg "$T/w-2.0.0.swu" 2.0.0 1.0 -s 8K
upload "$T/w-2.0.0.swu"
expect_status 201 "upload 2.0.0"
SW=$SW_ID

for i in $(seq -w 1 20); do register "w-$i"; done
register "w-other" 9.9 # other hardware: not placed

# --- create, without starting --------------------------------------------
api_json POST /api/v1/rollouts "{\"software_id\":$SW,\"start\":false,
  \"groups\":[{\"name\":\"canary\",\"percent\":10},
              {\"name\":\"early\",\"count\":9,\"success_percent\":50,\"approval\":true},
              {\"name\":\"rest\",\"error_percent\":30}]}"
expect_status 201 "a rollout with three groups, not started"
R=$(jq -r .id <"$T/body")
expect_json .state ready "  it is ready"
expect_json '[.groups[].name]' '["canary","early","rest"]' "  its groups in order"
expect_json '[.groups[].state]' '["scheduled","scheduled","scheduled"]' "  none runs"
expect_json '.groups[0].percent' 10 "  the canary's share"
expect_json '.groups[1].count' 9 "  the early group's count"
offered w-01 && fail "a device of a rollout not started is offered nothing"
offered w-01 || pass "a device of a rollout not started is offered nothing"

# --- bad bodies ----------------------------------------------------------
for body in '"groups":[{"percent":0}]' '"groups":[{"percent":10,"count":3}]' \
    '"groups":[{"name":"a"},{"name":"b"}]' '"groups":[{"success_percent":101}]' \
    '"groups":[{"color":"red"}]' '"groups":[1]' '"target_filter":"attribute.x=="' \
    '"target_filter":"nosuchfield==1"' '"start_at":-5'; do
	api_json POST /api/v1/rollouts "{\"software_id\":$SW,$body}"
	check "refused: {$body} ($STATUS $(jq -r .detail <"$T/body" 2>/dev/null))" \
	    [ "$STATUS" = 400 ]
done
api GET /api/v1/rollouts
expect_json .total 1 "  and none of them was stored"

# --- start -----------------------------------------------------------------
api POST "/api/v1/rollouts/$R/start"
expect_status 200 "start"
expect_json .state running "  it runs"
expect_json '[.groups[].counts.total]' '[2,9,9]' \
    "  20 devices placed: 10 % = 2, a count of 9, the rest 9 (not the other hardware)"
expect_json '[.groups[].state]' '["running","scheduled","scheduled"]' "  the canary runs"
expect_json .counts.targeted 20 "  20 targeted"
api POST "/api/v1/rollouts/$R/start"
expect_status 409 "a second start is refused"

api GET "/api/v1/rollouts/$R/groups/$(group_field "$R" 1 .id)/devices"
expect_json '[.devices[].controller_id]' '["w-01","w-02"]' "the canary's devices, by id"
G1=$(group_field "$R" 1 .id)
G2=$(group_field "$R" 2 .id)
G3=$(group_field "$R" 3 .id)
offered w-05 && fail "w-05 (early group) is not offered yet"
offered w-05 || pass "w-05 (early group) is not offered yet"
offered w-other && fail "the other hardware is offered nothing"
offered w-other || pass "the other hardware is offered nothing"

finish_device w-01 success
check "one canary done: still running ($(group_field "$R" 1 .state))" \
    [ "$(group_field "$R" 1 .state)" = running ]
expect_json '.groups[0].counts | [.succeeded, .pending]' '[1,1]' "  1 succeeded, 1 pending"
finish_device w-02 success
check "both canaries done: the canary finished" [ "$(group_field "$R" 1 .state)" = finished ]
check "  the early group waits for approval" \
    [ "$(group_field "$R" 2 .state)" = waiting_approval ]
offered w-05 && fail "  its devices are not offered before it is approved"
offered w-05 || pass "  its devices are not offered before it is approved"
api POST "/api/v1/rollouts/$R/groups/$G3/approve"
expect_status 409 "approving a group that does not wait is refused"
api POST "/api/v1/rollouts/$R/groups/$G2/approve"
expect_status 200 "approve the early group"
expect_json .state running "  it runs"

# early: w-03..w-11; 5 of 9 succeed (>= 50 %) and the rest group starts.
for i in 03 04 05 06; do finish_device "w-$i" success; done
check "4 of 9 early devices: below 50 %" [ "$(group_field "$R" 2 .state)" = running ]
finish_device w-07 failure
finish_device w-08 success
check "5 of 9 succeeded: the early group finished" [ "$(group_field "$R" 2 .state)" = finished ]
check "  the rest runs" [ "$(group_field "$R" 3 .state)" = running ]
offered w-09 && pass "  the early group's other devices are still offered" ||
    fail "  the early group's other devices are still offered"

# rest: w-12..w-20; 3 of 9 fail: the error condition (30 %) pauses.
finish_device w-12 failure
finish_device w-13 failure
check "2 of 9 failed: still running" [ "$(group_field "$R" 3 .state)" = running ]
finish_device w-14 failure
api GET "/api/v1/rollouts/$R"
expect_json .state paused "3 of 9 failed: the rollout paused"
expect_json '.groups[2].state' error "  the group is in error"
check "  the reason says why ($(jq -r .pause_reason <"$T/body"))" \
    sh -c "jq -r .pause_reason <'$T/body' | grep -q 'group 3: 3 of 9 devices failed'"
offered w-15 && fail "  a paused rollout offers nothing"
offered w-15 || pass "  a paused rollout offers nothing"
api GET "/api/v1/rollouts/$R"
expect_json '.counts | [.targeted, .succeeded, .failed]' '[20,7,4]' "  counts: 7 succeeded, 4 failed of 20"
expect_json '[.groups[].counts | .total - .pending - .running - .succeeded - .failed - .canceled] | add' 0 \
    "  every group's counts add up to its total"

# --- retry failed ----------------------------------------------------------
api POST "/api/v1/rollouts/$R/retry-failed"
expect_status 201 "retry failed: a follow-up group"
G4=$(jq -r .id <"$T/body")
expect_json '[.retry, .counts.total, .state]' '[true,4,"running"]' "  of the 4 failed devices, running"
api GET "/api/v1/rollouts/$R"
expect_json '[.groups[].counts.total]' '[2,8,6,4]' "  moved out of their groups"
expect_json '[.groups[].counts.retried]' '[0,1,3,0]' "  which count them as retried"
expect_json .counts.failed 0 "  no device counts as failed now"
api POST "/api/v1/rollouts/$R/retry-failed"
expect_status 409 "a second retry with nobody failed is refused"

api_json PATCH "/api/v1/rollouts/$R" '{"paused":false}'
expect_status 200 "resume"
expect_json .state running "  running again"
expect_json '.groups[2].state' running "  the group in error runs again"
api GET "/api/v1/rollouts/$R/groups/$G4/devices"
expect_json '[.devices[].controller_id]' '["w-07","w-12","w-13","w-14"]' "  the retry group's devices"
offered w-12 && pass "  a failed device is offered the set again" ||
    fail "  a failed device is offered the set again"
finish_device w-12 success
check "  and its success counts in the retry group" \
    [ "$(group_field "$R" 4 .counts.succeeded)" = 1 ]

# --- a late joiner goes to the last group (not the retry one) -------------
register w-late
offered w-late && pass "a device registered after the start is offered (last group runs)" ||
    fail "a device registered after the start is offered (last group runs)"
check "  it joined the rest group ($(group_field "$R" 3 .counts.total))" \
    [ "$(group_field "$R" 3 .counts.total)" = 7 ]

# --- deleting a device takes it out of the counts ---------------------------
api DELETE /api/v1/devices/w-20
expect_status 204 "delete w-20"
check "  the rest group counts one fewer ($(group_field "$R" 3 .counts.total))" \
    [ "$(group_field "$R" 3 .counts.total)" = 6 ]

# --- group device lists by state -------------------------------------------
api GET "/api/v1/rollouts/$R/groups/$G2/devices?state=succeeded"
expect_json .total 5 "the early group's succeeded devices"
api GET "/api/v1/rollouts/$R/groups/$G2/devices?state=bogus"
expect_status 400 "an unknown state is refused"
api GET "/api/v1/rollouts/$R/groups/999999/devices"
expect_status 404 "an unknown group"

# --- a target filter and a scheduled start ---------------------------------
for i in 1 2 3 4; do register "f-$i" 1.0 filtered; done
config_data f-1 '{"ring":"beta"}'
config_data f-2 '{"ring":"beta"}'
config_data f-3 '{"ring":"stable"}'
AT=$(($(date +%s) + 2))
api_json POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"filtered\",
  \"target_filter\":\"attribute.ring==beta\",\"start_at\":$AT}"
expect_status 201 "a filtered rollout starting in 2 s"
RF=$(jq -r .id <"$T/body")
expect_json .state ready "  ready until then"
started() { api GET "/api/v1/rollouts/$RF"; [ "$(jq -r .state <"$T/body")" = running ]; }
check "  it starts by itself" wait_for 10 started
expect_json .counts.targeted 2 "  the filter targets the two beta devices"
offered f-1 && pass "  f-1 (beta) is offered" || fail "  f-1 (beta) is offered"
offered f-3 && fail "  f-3 (stable) is not offered"
offered f-3 || pass "  f-3 (stable) is not offered"
offered f-4 && fail "  f-4 (no ring) is not offered"
offered f-4 || pass "  f-4 (no ring) is not offered"

# --- max_running is kept across groups ---------------------------------------
for i in 1 2 3 4 5; do register "m-$i" 1.0 limited; done
api_json POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"limited\",\"max_running\":2}"
expect_status 201 "a rollout with max_running 2"
n=0
for i in 1 2 3 4 5; do offered "m-$i" && n=$((n + 1)); done
check "  2 of 5 devices are offered at once ($n)" [ "$n" = 2 ]

# --- max_running under concurrent polls: counted inside the write ----------
for i in $(seq 1 40); do register "race-$i" 1.0 race; done
api_json POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"race\",\"max_running\":5}"
expect_status 201 "a rollout with max_running 5 over 40 devices"
RR=$(jq -r .id <"$T/body")
for round in 1 2 3; do
	seq 1 40 | xargs -P 40 -I{} curl -s -o /dev/null --max-time 10 \
	    "$BASE/$TENANT/controller/v1/race-{}"
done
api GET "/api/v1/rollouts/$RR"
check "  40 devices polling at once, 3 times: $(jq .counts.running <"$T/body") updates open (at most 5)" \
    [ "$(jq .counts.running <"$T/body")" = 5 ]

# --- a release-3 rollout after migration --------------------------------------
stop_server
FIX=$(cd "$(dirname "$0")/../data/release-3" && pwd)
mkdir -p "$T/rel/data"
cp -r "$FIX/falconet.db" "$FIX/artifacts" "$T/rel/data/"
start_server "data_dir: $T/rel/data"
TOKEN=$(make_token release-check)
api GET /api/v1/rollouts/1
expect_status 200 "release 3: its rollout"
expect_json '[.state, (.groups | length), .groups[0].name, .groups[0].state]' \
    '["running",1,"All devices","running"]' "  one running group of its feed"
expect_json '.groups[0].counts | [.total, .running]' '[1,1]' \
    "  dev-old's running action counted"
ddi GET dev-old
check "  dev-old's action goes on" [ "$(action_id_of_href "$(link deploymentBase)")" = 1 ]
finish
