#!/usr/bin/env bash
# The fleet simulator over HTTPS: 24 devices, each with a client
# certificate of its own and no token (device_auth.mode token), register,
# download (some downloads cut and resumed) and report through a rollout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"
. "$(dirname "$0")/../sim/common.sh"

if ! have openssl; then
	skip "fleet over HTTPS" "openssl is not installed"
	finish
fi
need_aiohttp
NDEV=24

certs_ca ca
certs_server srv ca
mkdir -p "$T/devcerts"
for i in $(seq 0 $((NDEV - 1))); do
	cid=$(printf 'tls-%04d' "$i")
	certs_client "$cid" ca "$cid" || break
	mv "$CERTS/$cid.crt" "$CERTS/$cid.key" "$T/devcerts/"
done
check "a certificate for each of the $NDEV devices" \
    [ "$(ls "$T/devcerts" | grep -c '\.crt$')" -eq "$NDEV" ]
export CURL_CA_BUNDLE=$CERTS/ca.crt

start_server 'poll:
  interval: "00:00:01"
  running_interval: "00:00:01"' 'device_auth:
  mode: token' "tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key
  client_ca: $CERTS/ca.crt" 'log:
  access: false'
BASE=https://127.0.0.1:$PORT
TOKEN=$(make_token admin)
mkimg "$T/fl-2.0.0.swu" 2.0.0 1.0 -s 64K -U
upload "$T/fl-2.0.0.swu"
expect_status 201 "upload over HTTPS"
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW_ID}"
expect_status 201 "a rollout on feed default"

"$PY" "$FLEET" --url "$BASE" --cafile "$CERTS/ca.crt" --cert-dir "$T/devcerts" \
    --prefix tls- --devices "$NDEV" --until-done --duration 120 \
    --fail-rate 0.2 --cut-rate 0.3 --concurrency 16 --hw-revision 1.0 \
    --report "$T/report.json" --quiet >"$T/fleet.log" 2>&1
rc=$?
check "the fleet over HTTPS finished as planned (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/fleet.log" | tail -15
cp "$T/report.json" "$T/body" 2>/dev/null
expect_json .stopped_by done "every device reached its result"
expect_jq '.mismatched_count == 0 and .final.unfinished == 0 and .final.succeeded == .expected.succeeded' "final counts match the plan"
expect_json .status_5xx 0 "no 5xx"
expect_json .transport_errors 0 "no transport errors"
expect_jq '.final.succeeded > 0 and .final.failed > 0' \
    "some succeeded and some failed, as planned"
api GET '/api/v1/devices?limit=1'
expect_json .total "$NDEV" "every device registered by its certificate"

# The same fleet without its certificates: refused, nothing registered.
"$PY" "$FLEET" --url "$BASE" --cafile "$CERTS/ca.crt" --prefix nocert- \
    --devices 4 --duration 3 --quiet --report "$T/report2.json" \
    >"$T/fleet2.log" 2>&1
cp "$T/report2.json" "$T/body" 2>/dev/null
expect_jq '(.requests.by_status["401"] // 0) > 0 and ((.requests.by_status["200"] // 0) == 0)' \
    "devices without certificates get only 401s"
api GET '/api/v1/devices?limit=1'
expect_json .total "$NDEV" "... and register nothing"
finish
