#!/usr/bin/env bash
# Operators cannot starve devices (security findings #7): password hashing
# and the fleet-wide management queries run on the management pool
# (http.management_threads), not on the threads that answer polls.  A poll
# stays fast while logins with a costly argon2 and device lists sorted by
# state run in parallel; a full management queue answers 503 with a JSON
# error and Retry-After; /api/v1/stats and /metrics are computed at most
# once per 5 seconds however many ask.  The figures at 100,000 devices are
# make bench's "management load" phase.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

SEED=$(dirname "$0")/../bench/seed.sh
# argon2 at 64 MiB and 3 passes: a few hundred milliseconds a login.
SLOWHASH='auth:
  argon2_memory_kib: 65536
  argon2_iterations: 3
  login_max_failures: 1000'
LOGIN='{"username":"op","password":"op-password-1"}'
J='Content-Type: application/json'

# login_loop FILE: log in until $T/stop exists, one status a line in FILE.
login_loop()
{
	while [ ! -e "$T/stop" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "$J" \
		    -d "$LOGIN" "$BASE/api/v1/login" >>"$1"
	done
}

list_loop()
{
	while [ ! -e "$T/stop" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
		    -H "Authorization: Bearer $TOKEN" \
		    "$BASE/api/v1/devices?sort=state&order=desc&limit=100" >>"$1"
	done
}

# poll_times N: N polls one after the other, their times in ms, sorted.
poll_times()
{
	for i in $(seq "$1"); do
		curl -s -o /dev/null -w '%{time_total}\n' --max-time 10 \
		    "$BASE/DEFAULT/controller/v1/dev-$(printf %07d "$i")"
	done | awk '{ printf "%d\n", $1 * 1000 }' | sort -n
}

# --- polls while logins and lists run -----------------------------------------
write_settings "$T/settings.yaml" "$SLOWHASH"
falconet_cli migrate >/dev/null 2>>"$T/cli.log"
"$SEED" "$T/data/falconet.db" 1 20000 >/dev/null
start_server "$SLOWHASH" 'http:
  threads: 2'
TOKEN=$(make_token admin)
api_json POST /api/v1/users '{"username":"op","password":"op-password-1","role":"operator"}'
expect_status 201 "setup: an operator"
t0=$(date +%s%N)
post_json /api/v1/login "$LOGIN"
expect_status 200 "setup: a login ($(( ($(date +%s%N) - t0) / 1000000 )) ms of argon2 alone)"
poll_times 20 >"$T/alone"
rm -f "$T/stop"
loops=()
for k in 1 2 3 4; do login_loop "$T/logins.$k" & loops+=($!); done
for k in 1 2; do list_loop "$T/lists.$k" & loops+=($!); done
sleep 1
poll_times 20 >"$T/loaded"
touch "$T/stop"
wait "${loops[@]}"
p99=$(tail -1 "$T/loaded")
# Polls that wait for the management work take seconds (2.9 to 5.4 s on
# the code before the pool); the bound leaves room for a machine busy
# with other work (249 ms seen so), the figures are make bench's.
check "20 polls while 4 login loops and 2 device-list loops run: the slowest $p99 ms (alone: $(tail -1 "$T/alone") ms)" \
    [ "$p99" -lt 1000 ]
logins=$(cat "$T"/logins.* | grep -c '^200$')
lists=$(cat "$T"/lists.* | grep -c '^200$')
check "  the logins ran meanwhile ($logins answered 200)" [ "$logins" -ge 4 ]
check "  and the lists ($lists answered 200)" [ "$lists" -ge 2 ]
check "  nothing else than 200 ($(cat "$T"/logins.* "$T"/lists.* | sort | uniq -c | tr '\n' ' '))" \
    sh -c "! cat '$T'/logins.* '$T'/lists.* | grep -qv '^200$'"

# --- a full queue ---------------------------------------------------------------
start_server "$SLOWHASH" 'http:
  management_threads: 1
  management_queue: 1'
pids=()
for k in $(seq 8); do
	curl -s -D "$T/h.$k" -o "$T/b.$k" -w '%{http_code}\n' --max-time 30 \
	    -H "$J" -d "$LOGIN" "$BASE/api/v1/login" >"$T/s.$k" &
	pids+=($!)
done
sleep 0.2
ddi GET dev-0000001
expect_status 200 "a poll while the management queue is full"
wait "${pids[@]}"
busy=$(cat "$T"/s.* | grep -c '^503$')
ok=$(cat "$T"/s.* | grep -c '^200$')
check "8 logins at once, 1 management thread, a queue of 1: $ok answered, $busy 503" \
    [ "$busy" -ge 4 ] && [ "$ok" -ge 1 ] && [ $((busy + ok)) = 8 ]
k=$(grep -l '^503$' "$T"/s.* | head -1 | sed 's/.*\.//')
check "  the 503 is a JSON error \"busy\"" jq -e '.error == "busy" and (.detail | type == "string")' "$T/b.$k"
check "  with Retry-After" grep -qi '^Retry-After: 1' "$T/h.$k"
post_json /api/v1/login "$LOGIN"
expect_status 200 "a login once the queue emptied"

# --- stopping with jobs waiting ----------------------------------------------------
pids=()
for k in 1 2 3; do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "$J" \
	    -d "$LOGIN" "$BASE/api/v1/login" >"$T/stop.$k" &
	pids+=($!)
done
sleep 0.1
stop_server
wait "${pids[@]}"
# The running one may be cut by the stop (000); the others get 503 at once.
check "stopping with logins running and waiting: the waiting ones are answered 503 ($(cat "$T"/stop.* | tr '\n' ' '))" \
    [ "$(cat "$T"/stop.* | grep -c '^503$')" -ge 2 ]

# --- /api/v1/stats and /metrics, once per 5 s ------------------------------------
start_server "$FAST" 'log:
  level: debug'
api GET /api/v1/stats
expect_status 200
total=$(jq .devices.total <"$T/body")
t_first=$(date +%s%N)
api_json POST /api/v1/devices '{"controller_id":"new-one"}'
expect_status 201 "a new device"
api GET /api/v1/stats
expect_json .devices.total "$total" "/api/v1/stats within 5 s: the cached figures"
while [ $(( ($(date +%s%N) - t_first) / 1000000 )) -lt 5200 ]; do sleep 0.2; done
before=$(grep -c 'stats computed in' "$T/server.log")
pids=()
for k in $(seq 8); do
	curl -s -o "$T/st.$k" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/stats" &
	pids+=($!)
done
wait "${pids[@]}"
after=$(grep -c 'stats computed in' "$T/server.log")
check "8 requests at once after 5 s: computed once ($((after - before)))" [ $((after - before)) = 1 ]
api GET /api/v1/stats
expect_json .devices.total "$((total + 1))" "/api/v1/stats after 5 s: the new device counted"
before=$(grep -c 'metrics gauges computed in' "$T/server.log")
pids=()
for k in $(seq 8); do
	curl -s -o "$T/m.$k" -H "Authorization: Bearer $TOKEN" "$BASE/metrics" &
	pids+=($!)
done
wait "${pids[@]}"
after=$(grep -c 'metrics gauges computed in' "$T/server.log")
check "8 /metrics at once: the gauges computed once ($((after - before)))" [ $((after - before)) = 1 ]
check "  each answer has them and the request counters" \
    sh -c "grep -q '^falconet_devices{state=' '$T/m.8' && grep -q '^falconet_http_requests_total' '$T/m.8'"

finish
