#!/usr/bin/env bash
# kill -9 the daemon while a throttled rollout runs with simulated devices
# downloading, posting feedback and polling; restart it on the same data
# and port.  The same fleet carries on (devices retry like SWUpdate) and
# the rollout finishes: every device ends succeeded or failed as
# simulated, the rollout counts add up, nothing answered 5xx.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"

need_aiohttp
NDEV=300

sim_start 'poll:
  interval: "00:00:01"
  running_interval: "00:00:01"' 'updates:
  max_running: 100000' 'http:
  connection_limit: 10000' 'log:
  access: false'
TOKEN=$(make_token admin)
mkimg "$T/ro-2.0.0.swu" 2.0.0 1.0 -s 1M -U
upload "$T/ro-2.0.0.swu"
expect_status 201 "upload"
# 40 updates at once: the rollout runs in waves for a while.
api_json POST /api/v1/rollouts "{\"software_id\":$SW_ID,\"max_running\":40}"
expect_status 201 "rollout with max_running 40"
R=$(jq -r .id <"$T/body")

"$PY" "$FLEET" --url "$BASE" --devices "$NDEV" --until-done --duration 100 \
    --fail-rate 0.1 --cut-rate 0.2 --concurrency 48 --hw-revision 1.0 \
    --report "$T/report.json" --per-device --progress-every 5 \
    >"$T/fleet.log" 2>&1 &
F=$!
sim_track "$F"

done_count()
{
	api GET "/api/v1/rollouts/$R"
	jq -r '.counts.succeeded + .counts.failed' <"$T/body" 2>/dev/null
}
third() { [ "$(done_count)" -ge $((NDEV / 3)) ]; }
check "a third of the rollout done within 60 s" wait_for 60 third
api GET "/api/v1/rollouts/$R"
echo "# killing the daemon at counts $(jq -c .counts <"$T/body")"
kill_server_hard
sleep 2
restart_server
api GET "/api/v1/rollouts/$R"
echo "# after the restart: counts $(jq -c .counts <"$T/body")"

wait "$F"
RC=$?
sed 's/^/# /' "$T/fleet.log" | tail -n 6
REP=$T/report.json
check "the fleet finished (exit $RC)" [ -s "$REP" ]
[ -s "$REP" ] || finish
rj() { jq -r "$1" "$REP"; }
check "every device finished ($(rj .stopped_by), $(rj .final.unfinished) unfinished)" \
    [ "$(rj .stopped_by)" = done ] && [ "$(rj .final.unfinished)" -eq 0 ]
check "every device ended as simulated ($(rj .mismatched_count) differ)" \
    [ "$(rj .mismatched_count)" -eq 0 ]
check "no request answered 5xx ($(rj .status_5xx))" [ "$(rj .status_5xx)" -eq 0 ]
[ "$(rj .errors.count)" -ne 0 ] && jq -r '.errors.samples[:8][] | "#   \(.)"' "$REP"
check "no unexpected answer ($(rj .errors.count))" [ "$(rj .errors.count)" -eq 0 ]
check "the kill was felt by the fleet ($(rj .transport_errors) transport errors)" \
    [ "$(rj .transport_errors)" -gt 0 ]
echo "# downloads $(jq -c .downloads "$REP"), final reports answered 410 after a lost answer: $(rj .closed_410_after_retry)"

SUCC=$(rj .final.succeeded)
FAILD=$(rj .final.failed)
api GET "/api/v1/rollouts/$R"
echo "# final counts $(jq -c .counts <"$T/body")"
expect_json .counts.targeted "$NDEV" "rollout: targeted $NDEV"
expect_json .counts.succeeded "$SUCC" "rollout: succeeded = the fleet's $SUCC"
expect_json .counts.failed "$FAILD" "rollout: failed = the fleet's $FAILD"
expect_json .counts.running 0 "rollout: nothing running"
expect_json .counts.pending 0 "rollout: nothing pending"
check "succeeded + failed = $NDEV" [ $((SUCC + FAILD)) -eq "$NDEV" ]

api GET "/api/v1/devices?limit=1000"
jq -r '.devices[] | "\(.controller_id) \(if .state == "in_sync" then "succeeded" else .state end)"' \
    <"$T/body" | sort >"$T/server"
jq -r '.per_device | to_entries[] | "\(.key) \(.value.final)"' "$REP" | sort >"$T/fleet"
DIFF=$(diff "$T/fleet" "$T/server" | grep -c '^[<>]')
check "each device's state matches the fleet ($DIFF lines differ)" [ "$DIFF" -eq 0 ]

stop_server
RES=$(sqlite3 "$T/data/falconet.db" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check: $RES" [ "$RES" = ok ]
finish
