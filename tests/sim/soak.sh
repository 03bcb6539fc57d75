#!/usr/bin/env bash
# Soak: a fleet of simulated devices through a full rollout, then polling
# on, against the real daemon.
#
#   tests/sim/soak.sh [BUILD_DIR]       short: 1,000 devices, ~40 s (make test)
#   SOAK=long tests/sim/soak.sh BUILD   long: 10,000 devices, ~6 min (make soak)
#
# Checks: every device ends succeeded, failed or canceled exactly as the
# simulator planned it, and the server agrees (rollout counts, device
# states, installed versions); no request answered 5xx and no unexpected
# answer; the daemon's RSS is flat after warm-up and under a cap; it stops
# cleanly on SIGTERM without sanitizer reports; PRAGMA integrity_check is
# "ok" afterwards.
#
# Overrides: SOAK_DEVICES, SOAK_DURATION (most seconds the fleet runs),
# SOAK_LINGER (seconds it polls on after the last result),
# SOAK_FAIL_RATE, SOAK_CANCEL_RATE, SOAK_CONCURRENCY, SOAK_RSS_CAP_MB.
# BUILD_DIR gives FALCONET=BUILD_DIR/falconet and MKSWU; without it the
# environment's FALCONET (as tests/run-all.sh exports it) is used.

if [ $# -ge 1 ]; then
	FALCONET=$1/falconet
	MKSWU=$1/tools/mkswu
	export FALCONET MKSWU
fi
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/common.sh"

need_aiohttp
have sqlite3 || { fail "sqlite3 is required"; finish; }

# The fleet runs until every device has its result, then polls on for
# LINGER seconds (the steady state after the rollout), DURATION at most.
if [ "${SOAK:-short}" = long ]; then
	DEVICES=${SOAK_DEVICES:-10000}
	DURATION=${SOAK_DURATION:-900}
	LINGER=${SOAK_LINGER:-120}
	IDLE=00:00:10
else
	DEVICES=${SOAK_DEVICES:-1000}
	DURATION=${SOAK_DURATION:-60}
	LINGER=${SOAK_LINGER:-20}
	IDLE=00:00:01
fi
FAIL_RATE=${SOAK_FAIL_RATE:-0.05}
CANCEL_RATE=${SOAK_CANCEL_RATE:-0.02}
CONCURRENCY=${SOAK_CONCURRENCY:-64}

# RSS.  A sanitized daemon keeps freed memory in ASan's quarantine (256 MiB
# by default) and its RSS climbs until the quarantine is full, which says
# nothing about leaks; a 16 MiB quarantine makes it level off within
# seconds (LeakSanitizer at exit covers real leaks).  The caps, from
# measurements on Debian 12 / x86-64 with 64 client connections: the
# optimised daemon stays at ~16 MiB for 1,000 devices (SQLite's page cache
# per worker thread, one 32 KiB libmicrohttpd buffer per connection, the
# last-seen table); 64 MiB is 4x that.  The ASan daemon levels off at
# ~90 MiB for 1,000 and ~100 MiB for 10,000 devices (shadow memory,
# per-thread allocator caches, the quarantine); 256 MiB is 2.5x that.
if is_asan_build; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=16"
	RSS_CAP_MB=${SOAK_RSS_CAP_MB:-256}
else
	RSS_CAP_MB=${SOAK_RSS_CAP_MB:-64}
fi

echo "# soak ${SOAK:-short}: $DEVICES devices, fleet until done + $LINGER s (at most $DURATION s), fail rate $FAIL_RATE, cancel rate $CANCEL_RATE, $(is_asan_build && echo ASan || echo optimised) daemon"

# Polls every second while an update runs, so a 1,000-device rollout takes
# seconds; the idle interval (1 s short, 10 s long) sets the steady load.
# Every simulated device registers and connects from 127.0.0.1, like a
# fleet behind one NAT: device_auth.register_rate is raised for it (the
# default, 1,000 a minute per address, would refuse the long run's 10,000
# first polls), and there is no per-address connection limit.
sim_start "poll:
  interval: \"$IDLE\"
  running_interval: \"00:00:01\"" 'device_auth:
  register_rate: 1000000' 'updates:
  max_running: 1000000' 'http:
  connection_limit: 20000
  per_ip_limit: 0' 'log:
  access: false'
TOKEN=$(make_token soak)

mkimg "$T/soak-2.0.0.swu" 2.0.0 1.0 -s 16K -U
check "mkswu builds the soak image" [ "$IMG_SIZE" -gt 0 ]
upload "$T/soak-2.0.0.swu"
expect_status 201 "upload soak-2.0.0.swu"
api_json POST /api/v1/rollouts "{\"name\":\"soak\",\"software_id\":$SW_ID}"
expect_status 201 "create the rollout"
R=$(jq -r .id <"$T/body")

rss_start "$SERVER_PID" "$T/rss"
START=$(date +%s)
"$PY" "$FLEET" --url "$BASE" --devices "$DEVICES" --duration "$DURATION" \
    --until-done --linger "$LINGER" \
    --token "$TOKEN" --fail-rate "$FAIL_RATE" --cancel-rate "$CANCEL_RATE" \
    --cancel-reject-rate 0.3 --cut-rate 0.1 --concurrency "$CONCURRENCY" \
    --hw-revision 1.0 --report "$T/report.json" --per-device \
    --progress-every 10 2>"$T/fleet.log" &
F=$!
sim_track "$F"
# Show its progress lines as they come.
tail -n +1 -f --pid="$F" "$T/fleet.log" 2>/dev/null | sed -u 's/^/# /' &
sim_track $!
wait "$F"
sleep 0.3
ELAPSED=$(($(date +%s) - START))
rss_stop
REP=$T/report.json

check "the fleet wrote its report" [ -s "$REP" ]
[ -s "$REP" ] || finish
rj() { jq -r "$1" "$REP"; }
echo "# fleet: $(rj '.requests.total') requests in ${ELAPSED}s ($(rj .requests_per_s)/s), latency ms $(jq -c .latency_ms "$REP"), downloads $(jq -c .downloads "$REP")"
echo "# final $(jq -c .final "$REP"), planned $(jq -c .expected "$REP")"

SUCC=$(rj .final.succeeded)
FAILD=$(rj .final.failed)
CANC=$(rj .final.canceled)
check "every device finished ($(rj .final.unfinished) unfinished)" \
    [ "$(rj .final.unfinished)" -eq 0 ]
check "every device ended as simulated ($(rj .mismatched_count) differ)" \
    [ "$(rj .mismatched_count)" -eq 0 ]
check "succeeded + failed + canceled = $DEVICES" \
    [ $((SUCC + FAILD + CANC)) -eq "$DEVICES" ]
check "no request answered 5xx ($(rj .status_5xx))" [ "$(rj .status_5xx)" -eq 0 ]
if [ "$(rj .errors.count)" -ne 0 ]; then
	jq -r '.errors.by_type | to_entries[] | "#   \(.key): \(.value)"' "$REP"
	jq -r '.errors.samples[:8][] | "#   \(.)"' "$REP"
fi
check "no unexpected answer ($(rj .errors.count))" [ "$(rj .errors.count)" -eq 0 ]
check "no transport error ($(rj .transport_errors))" \
    [ "$(rj .transport_errors)" -eq 0 ]
check "every download matched its sha1 ($(rj .downloads.sha1_mismatch) did not)" \
    [ "$(rj .downloads.sha1_mismatch)" -eq 0 ]
check "cut downloads resumed with 206 ($(rj .downloads.resumed))" \
    [ "$(rj .downloads.resumed)" -gt 0 ]
check "failures were simulated ($FAILD)" [ "$FAILD" -gt 0 ]
if [ "$(echo "$CANCEL_RATE > 0" | awk '{ print ($1 > 0) }')" = 1 ]; then
	check "cancels were simulated ($CANC)" [ "$CANC" -gt 0 ]
fi

# The server's view: rollout counts.
api GET "/api/v1/rollouts/$R"
expect_status 200 "GET the rollout"
echo "# rollout counts $(jq -c .counts <"$T/body")"
expect_json .counts.targeted "$DEVICES" "rollout: targeted = $DEVICES"
expect_json .counts.succeeded "$SUCC" "rollout: succeeded = the fleet's $SUCC"
expect_json .counts.failed "$FAILD" "rollout: failed = the fleet's $FAILD"
expect_json .counts.running 0 "rollout: nothing running"
expect_json .counts.stale 0 "rollout: nothing stale"
# A canceled device is never offered this software again (README: an
# operator's cancel is not undone), so it is not pending either.
expect_json .counts.pending 0 "rollout: nothing pending once every device finished ($CANC canceled)"
expect_json .paused false "rollout not paused"

# The server's view: every device's state against the fleet's result.
: >"$T/states"
offset=0
while :; do
	api GET "/api/v1/devices?limit=1000&offset=$offset"
	[ "$STATUS" = 200 ] || break
	jq -r '.devices[] | "\(.controller_id) \(.state) \(.installed_version)"' \
	    <"$T/body" >>"$T/states"
	n=$(jq '.devices | length' <"$T/body")
	offset=$((offset + n))
	[ "$n" -lt 1000 ] && break
done
expect_status 200 "GET every device (pages of 1000)"
check "the server lists $DEVICES devices ($(wc -l <"$T/states"))" \
    [ "$(wc -l <"$T/states")" -eq "$DEVICES" ]
jq -r '.per_device | to_entries[] | "\(.key) \(.value.final)"' "$REP" |
    sort >"$T/fleet-final"
awk '{ s = $2 == "in_sync" ? "succeeded" : $2; print $1, s }' "$T/states" |
    sort >"$T/server-final"
DIFF=$(diff "$T/fleet-final" "$T/server-final" | grep -c '^[<>]')
check "each device's state matches the fleet's result ($DIFF lines differ)" \
    [ "$DIFF" -eq 0 ]
[ "$DIFF" -gt 0 ] && diff "$T/fleet-final" "$T/server-final" | head -6 |
    sed 's/^/#   /'
check "succeeded devices report 2.0.0 installed" \
    [ "$(awk '$2 == "in_sync" && $3 == "2.0.0"' "$T/states" | wc -l)" -eq "$SUCC" ]

# RSS: flat after warm-up (25% of the run) and under the cap.
NS=$(wc -l <"$T/rss")
if [ "$NS" -ge 8 ]; then
	WARM=$(awk -v n="$NS" 'NR == int(n / 4) + 1 { print $2 }' "$T/rss")
	LAST=$(tail -n 1 "$T/rss" | awk '{ print $2 }')
	MAX=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$T/rss")
	echo "# RSS kB: start $(head -n 1 "$T/rss" | awk '{ print $2 }'), at 25% $WARM, last $LAST, max $MAX ($NS samples)"
	echo "# RSS kB every 10th sample: $(awk 'NR % 10 == 1 { printf "%s ", $2 }' "$T/rss")"
	check "RSS flat after warm-up: last $((LAST / 1024)) MiB <= 1.5 x $((WARM / 1024)) MiB at 25%" \
	    [ "$((LAST * 2))" -le "$((WARM * 3))" ]
	check "RSS under $RSS_CAP_MB MiB (max $((MAX / 1024)) MiB)" \
	    [ "$MAX" -le "$((RSS_CAP_MB * 1024))" ]
else
	fail "RSS sampled during the run" "$NS samples"
fi

WARN=$(grep -cE ' (warn|error) ' "$T/server.log")
echo "# server log: $WARN warn/error lines"
grep -E ' (warn|error) ' "$T/server.log" | head -5 | cut -c1-200 | sed 's/^/#   /'

alive "the soak"
stop_server
RES=$(sqlite3 "$T/data/falconet.db" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check after the soak: $RES" [ "$RES" = ok ]
finish
