#!/usr/bin/env bash
# make demo: a Falconet server with a fleet of simulated devices and a
# rollout in three waves, to look at in the browser or with curl.  Runs until
# Ctrl-C, then stops the fleet and the server (by PID) and removes the
# data directory.
#
#   tests/sim/demo.sh [BUILD_DIR]        (make demo: tests/sim/demo.sh build)
#
# Environment: DEMO_PORT (8080), DEMO_ADDRESS (127.0.0.1; 0.0.0.0 to reach
# it from elsewhere), DEMO_DEVICES (200), DEMO_POLL (server poll interval,
# "00:00:05"), DEMO_FAIL_RATE (0.05), DEMO_MAX_RUNNING (25 updates at once,
# so the rollout takes a few minutes), DEMO_KEEP=1 keeps the data directory.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
FALCONET=$BUILD_DIR/falconet
MKSWU=$BUILD_DIR/tools/mkswu
PORT=${DEMO_PORT:-8080}
ADDRESS=${DEMO_ADDRESS:-127.0.0.1}
DEVICES=${DEMO_DEVICES:-200}
POLL=${DEMO_POLL:-00:00:05}
FAIL_RATE=${DEMO_FAIL_RATE:-0.05}
MAX_RUNNING=${DEMO_MAX_RUNNING:-25}
PY=${FLEET_PYTHON:-/usr/bin/python3}
SERVER_PID=
FLEET_PID=

die()
{
	echo "demo: $*" >&2
	exit 1
}

[ -x "$FALCONET" ] || die "no daemon at $FALCONET (run make first)"
if [ ! -x "$MKSWU" ]; then
	echo "demo: building $MKSWU"
	make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" "$MKSWU" ||
	    die "cannot build mkswu"
fi
for tool in curl jq; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
if ! "$PY" -c 'import aiohttp' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    python3-aiohttp >/dev/null 2>&1 ||
		    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		      apt-get install -y -qq python3-aiohttp; } >/dev/null 2>&1
	fi
	"$PY" -c 'import aiohttp' 2>/dev/null ||
	    die "python3-aiohttp is needed: apt-get install -y python3-aiohttp"
fi

D=$(mktemp -d /tmp/falconet-demo.XXXXXX)

stop_all()
{
	trap - INT TERM EXIT
	echo
	echo "demo: stopping"
	[ -n "$FLEET_PID" ] && kill -TERM "$FLEET_PID" 2>/dev/null
	[ -n "$FLEET_PID" ] && wait "$FLEET_PID" 2>/dev/null
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "demo: kept $D"
	else
		rm -rf "$D"
	fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

cat >"$D/settings.yaml" <<EOF
listen:
  address: $ADDRESS
  port: $PORT
data_dir: $D/data
poll:
  interval: "$POLL"
  running_interval: "$POLL"
device_auth:
  register_rate: 1000000    # the whole simulated fleet comes from one address
updates:
  max_running: 1000
http:
  connection_limit: 4096
log:
  level: info
  access: false
EOF

"$FALCONET" -c "$D/settings.yaml" </dev/null >"$D/server.out" 2>"$D/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
	grep -q 'listening on' "$D/server.log" 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q 'listening on' "$D/server.log" 2>/dev/null; then
	tail -n 5 "$D/server.log" >&2
	die "the server did not start (is port $PORT free? set DEMO_PORT)"
fi
HOST=$ADDRESS
[ "$HOST" = 0.0.0.0 ] && HOST=127.0.0.1
BASE=http://$HOST:$PORT
TOKEN=$("$FALCONET" -c "$D/settings.yaml" token create demo) ||
    die "cannot create a token"
AUTH="Authorization: Bearer $TOKEN"
# A user for the browser, when this build has users ("falconet user add").
UI_USER=demo
UI_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
if ! echo "$UI_PASSWORD" | "$FALCONET" -c "$D/settings.yaml" user add \
    "$UI_USER" admin >"$D/user.log" 2>&1; then
	UI_USER=
fi

# Two images: 2.0.0 rolled out now, 2.1.0 in a paused rollout to start
# from the UI or with PATCH /api/v1/rollouts/2 {"paused": false}.
"$MKSWU" -o "$D/demo-2.0.0.swu" -v 2.0.0 -r 1.0 -s 1M -U >/dev/null &&
    "$MKSWU" -o "$D/demo-2.1.0.swu" -v 2.1.0 -r 1.0 -s 1M -U >/dev/null ||
    die "mkswu failed"
upload()
{
	curl -sf -H "$AUTH" -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$1" "$BASE/api/v1/software?filename=$(basename "$1")" |
	    jq -r .id
}
SW1=$(upload "$D/demo-2.0.0.swu") && [ -n "$SW1" ] || die "upload failed"
SW2=$(upload "$D/demo-2.1.0.swu") && [ -n "$SW2" ] || die "upload failed"
# Three waves: a canary of 5 %, then a quarter of the rest, then all the
# others; each starts once 90 % of the one before it updated, and a wave
# with 20 % failed pauses the rollout.  It starts once the fleet has
# registered (devices are placed in the waves at the start).
START_AT=$(($(date +%s) + 30))
curl -sf -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"name\":\"demo 2.0.0\",\"software_id\":$SW1,\"max_running\":$MAX_RUNNING,\"start_at\":$START_AT,
         \"groups\":[{\"name\":\"canary\",\"percent\":5,\"success_percent\":90,\"error_percent\":20},
                     {\"name\":\"early adopters\",\"percent\":25,\"success_percent\":90,\"error_percent\":20},
                     {\"name\":\"everyone else\",\"success_percent\":90,\"error_percent\":20}]}" \
    "$BASE/api/v1/rollouts" >/dev/null || die "cannot create the rollout"
curl -sf -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"name\":\"demo 2.1.0\",\"software_id\":$SW2,\"paused\":true,\"max_running\":$MAX_RUNNING}" \
    "$BASE/api/v1/rollouts" >/dev/null || die "cannot create the second rollout"

"$PY" "$ROOT/tests/sim/fleet.py" --url "$BASE" --devices "$DEVICES" \
    --prefix demo- --duration 86400 --fail-rate "$FAIL_RATE" \
    --token "$TOKEN" --cancel-rate 0.02 --cut-rate 0.2 --concurrency 32 \
    --ramp 20 --progress-every 30 --report "$D/fleet-report.json" \
    2>"$D/fleet.log" &
FLEET_PID=$!

cat <<EOF

Falconet demo: $DEVICES simulated devices; rollout "demo 2.0.0" starts in
30 s, in three waves (canary 5 %, 25 %, the rest).

  server     $BASE   (pid $SERVER_PID, data in $D)
  token      $TOKEN
  browser    $BASE/   ${UI_USER:+(user $UI_USER, password $UI_PASSWORD)}
  try        curl -s -H 'Authorization: Bearer $TOKEN' $BASE/api/v1/rollouts/1 | jq .counts
             curl -s -H 'Authorization: Bearer $TOKEN' '$BASE/api/v1/devices?limit=5' | jq .
  next       curl -s -X PATCH -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' \\
                  -d '{"paused":false}' $BASE/api/v1/rollouts/2
  logs       $D/server.log, $D/fleet.log

Ctrl-C stops everything.

EOF

while kill -0 "$SERVER_PID" 2>/dev/null; do
	sleep 10
	c=$(curl -s -H "$AUTH" "$BASE/api/v1/rollouts/1" | jq -c .counts 2>/dev/null)
	w=$(curl -s -H "$AUTH" "$BASE/api/v1/rollouts/1" | jq -r '[.groups[] | "\(.name) \(.state)"] | join(", ")' 2>/dev/null)
	echo "$(date +%T) rollout 1: ${c:-?} ${w:+($w)}"
	kill -0 "$FLEET_PID" 2>/dev/null || { echo "demo: the fleet stopped:"; tail -n 5 "$D/fleet.log"; break; }
done
echo "demo: the server exited:"
tail -n 5 "$D/server.log"
