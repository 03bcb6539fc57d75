#!/usr/bin/env bash
# The Devices page's cold load, measured (tests/browser/measure-load.mjs)
# against a daemon with 30 devices (or DEVICES, seeded with
# tests/bench/seed.sh, with 12 installed versions), without and with 50 ms
# of latency; with REFRESH=1 also the long tasks of its refresh at 200
# rows (tests/browser/measure-refresh.mjs, SECONDS long):
#
#   FALCONET=build/falconet [WEB_DIR=web] [DEVICES=10000] [REFRESH=1] \
#       tests/browser/measure-load.sh
#
# Prints one JSON line per run.  WEB_DIR picks the dashboard to measure
# (another checkout's web/ for a before/after).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/http/lib.sh"
WEB_DIR=${WEB_DIR:-$ROOT/web}
PW=measure-password-1
start_server 'auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1' "ui:
  web_dir: $WEB_DIR"
SETUP=$(sed -n 's,.*/ui/#/setup?token=\([A-Za-z0-9]*\).*,\1,p' "$T/server.log" | tail -n 1)
curl -s -o /dev/null -H 'Content-Type: application/json' \
    --data-binary "{\"token\":\"$SETUP\",\"username\":\"admin\",\"password\":\"$PW\"}" \
    "$BASE/api/v1/setup"
DEVICES=${DEVICES:-30}
if [ "$DEVICES" -le 30 ]; then
	for i in $(seq -w 1 "$DEVICES"); do
		curl -s -o /dev/null "$BASE/DEFAULT/controller/v1/dev-$i"
	done
else
	DBF=$(ls "$T"/data/*.db | head -n 1)
	sh "$ROOT/tests/bench/seed.sh" "$DBF" 1 "$DEVICES" >/dev/null
	sqlite3 -cmd '.timeout 5000' "$DBF" \
	    "UPDATE device SET installed_version = printf('1.%d.0', id % 12)"
fi
for lat in 0 50; do
	BASE=$BASE PASSWORD=$PW LATENCY_MS=$lat node "$HERE/measure-load.mjs"
done
if [ -n "${REFRESH:-}" ]; then
	BASE=$BASE PASSWORD=$PW node "$HERE/measure-refresh.mjs"
fi
stop_server
