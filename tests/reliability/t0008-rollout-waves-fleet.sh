#!/usr/bin/env bash
# A rollout in three waves over 1,000 simulated devices, 15 % of which
# fail their update: a canary of 10, then 10 %, then the rest, whose
# error condition (10 % failed) pauses the rollout.  The operator retries
# the failed devices in a follow-up wave and resumes; every device ends
# with its simulated result, no group started before the one ahead of it
# met its condition, and the counts add up to the fleet.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"

need_aiohttp
NDEV=1000

sim_start 'poll:
  interval: "00:00:05"
  running_interval: "00:00:01"' 'updates:
  max_running: 100000' 'http:
  connection_limit: 10000' 'log:
  access: false'
TOKEN=$(make_token admin)
mkimg "$T/wv-2.0.0.swu" 2.0.0 1.0 -s 16K -U
upload "$T/wv-2.0.0.swu"
expect_status 201 "upload"

"$PY" "$FLEET" --url "$BASE" --devices "$NDEV" --duration 900 \
    --fail-rate 0.15 --cut-rate 0.05 --concurrency 40 --hw-revision 1.0 \
    --progress-every 10 >"$T/fleet.log" 2>&1 &
sim_track $!
registered() {
	api GET '/api/v1/devices?limit=1'
	[ "$(jq -r .total <"$T/body" 2>/dev/null)" = "$NDEV" ]
}
check "$NDEV devices registered within 60 s" wait_for 60 registered

api_json POST /api/v1/rollouts "{\"software_id\":$SW_ID,\"groups\":[
  {\"name\":\"canary\",\"count\":10,\"success_percent\":50},
  {\"name\":\"early\",\"percent\":10,\"success_percent\":50},
  {\"name\":\"rest\",\"error_percent\":10}]}"
expect_status 201 "a rollout in three waves"
R=$(jq -r .id <"$T/body")
expect_json '[.groups[].counts.total]' '[10,99,891]' "  10, 10 % of the other 990, the rest"

# jqf FILTER FILE: FILTER holds on a JSON file that is there.
jqf() { [ -s "$2" ] && jq -e "$1" "$2" >/dev/null; }
# gstate POS: the state of group POS.
gstate() { api GET "/api/v1/rollouts/$R"; jq -r ".groups[$(($1 - 1))].state" <"$T/body"; }
paused() { [ "$(gstate 3)" = error ]; }
check "the rest group meets its error condition within 200 s" wait_for 200 paused
api GET "/api/v1/rollouts/$R"
cp "$T/body" "$T/at-pause.json"
echo "# at the pause: $(jq -c '[.groups[] | {name, state, counts}]' "$T/at-pause.json")"
expect_json .state paused "  the rollout is paused"
check "  its groups started one after another" jqf '
    .groups[0].finished_at <= .groups[1].started_at and
    .groups[1].finished_at <= .groups[2].started_at' "$T/at-pause.json"
check "  the canary and the early group met 50 %" jqf '
    [.groups[0,1] | .counts.succeeded * 2 >= .counts.total] | all' "$T/at-pause.json"
check "  the rest failed 10 % or more" jqf \
    '.groups[2].counts | .failed * 10 >= .total' "$T/at-pause.json"

# No device of the fleet is offered anything while it is paused.
R1=$(jq '.counts.running' "$T/at-pause.json")
sleep 3
api GET "/api/v1/rollouts/$R"
check "  no new update starts while paused (running $R1 -> $(jq .counts.running <"$T/body"))" \
    [ "$(jq .counts.running <"$T/body")" -le "$R1" ]

# The updates under way when it paused finish; then the failed ones
# are retried.
settled() { api GET "/api/v1/rollouts/$R"; [ "$(jq .counts.running <"$T/body")" = 0 ]; }
wait_for 30 settled
NFAILED=$(jq '.counts.failed' <"$T/body")
api POST "/api/v1/rollouts/$R/retry-failed"
expect_status 201 "retry the failed devices"
check "  the follow-up wave holds the $NFAILED failed ones" \
    [ "$(jq .counts.total <"$T/body")" = "$NFAILED" ]
api_json PATCH "/api/v1/rollouts/$R" '{"paused":false}'
expect_status 200 "resume"

all_done() {
	api GET "/api/v1/rollouts/$R"
	jq -e --argjson n "$NDEV" '.counts.pending == 0 and .counts.running == 0
	    and (.groups[3].counts | .succeeded + .failed == .total)' \
	    <"$T/body" >/dev/null
}
check "every device has its result within 300 s" wait_for 300 all_done
api GET "/api/v1/rollouts/$R"
echo "# at the end: $(jq -c '[.groups[] | {name, state, counts}]' <"$T/body")"
expect_json '[.groups[].counts.total] | add' "$NDEV" "the groups hold the $NDEV devices"
expect_json '.counts | .succeeded + .failed' "$NDEV" "  each succeeded or failed"
check "  every group's counts add up" jqf '[.groups[].counts |
    .total == .pending + .running + .succeeded + .failed + .canceled] | all' "$T/body"

# The devices' plans: the same seeded draw the simulator makes.
cat >"$T/plan.py" <<'PY'
import random, sys
n = int(sys.argv[1])
print(sum(random.Random("falconet/%d" % i).random() < 0.15 for i in range(n)))
PY
PLANNED=$("$PY" "$T/plan.py" "$NDEV")
expect_json .counts.failed "$PLANNED" "  $PLANNED failed: exactly the devices planned to fail"
check "  the retried devices were offered the set again and failed again" \
    jqf '.groups[3].counts | .failed == .total' "$T/body"
check "  no 5xx in the fleet's log" sh -c "! grep -q '\"status_5xx\": [1-9]' '$T/fleet.log'"
finish
