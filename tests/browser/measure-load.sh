#!/usr/bin/env bash
# The Devices page's cold load, measured (tests/browser/measure-load.mjs)
# against a daemon with 30 devices, without and with 50 ms of latency:
#
#   FALCONET=build/falconet [WEB_DIR=web] tests/browser/measure-load.sh
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
for i in $(seq -w 1 30); do
	curl -s -o /dev/null "$BASE/DEFAULT/controller/v1/dev-$i"
done
for lat in 0 50; do
	BASE=$BASE PASSWORD=$PW LATENCY_MS=$lat node "$HERE/measure-load.mjs"
done
stop_server
