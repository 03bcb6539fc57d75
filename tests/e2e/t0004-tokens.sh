#!/bin/bash
# t0004: device authentication with real clients (device_auth.mode token).
# A device pre-registered with a TargetToken through the API installs with
# swupdate's targettoken; a device unknown to the server registers and
# installs with the tenant's GatewayToken; a device with a wrong token never
# registers (401s).  The token set by PATCH is honoured too.
. "$(dirname "$0")/lib-e2e.sh"

GW=gw-e2e-secret-0123456789
TOK1=tok-e2e-001-abcdef0123
TOK2=tok-e2e-002-0123abcdef
IMG=$T/img/test-1.1.0.swu
PAYLOAD=$T/install/payload.bin

e2e_start_server "$(printf 'device_auth:\n  mode: token\n  gateway_token: "%s"' "$GW")"
make_swu "$IMG" 1.1.0 -r 1.0,1.1 -s 64K -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
upload "$IMG"
expect_status 201 "upload of test-1.1.0.swu"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
create_rollout "$SW_ID"
expect_status 201 "rollout on feed default"

# --- pre-registered device with a TargetToken
api_json POST /api/v1/devices "{\"controller_id\":\"e2e-tok-001\",\"token\":\"$TOK1\"}"
expect_status 201 "pre-register e2e-tok-001 with a TargetToken"
poll_as e2e-tok-001
expect_status 401 "poll without a token: 401"
poll_as e2e-tok-001 "TargetToken wrong-$TOK1"
expect_status 401 "poll with a wrong TargetToken: 401"

run_client CONTROLLER_ID=e2e-tok-001 TOKEN=$TOK1 DURATION=45 \
	STOP_ON='Update successful, executing post-update actions' LOG="$T/tok1.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate with targettoken installed the update"
else
	failv "swupdate with targettoken installed the update" "client exit $rc"
	show_log "$T/tok1.log" 40
fi
check "payload installed by e2e-tok-001" test -s "$PAYLOAD"
rm -f "$PAYLOAD"
run_client CONTROLLER_ID=e2e-tok-001 TOKEN=$TOK1 CONFIRM=2 DURATION=20 \
	STOP_ON='Server initialized, entering suricatta main loop' LOG="$T/tok1-confirm.log" ||
	show_log "$T/tok1-confirm.log"
if wait_for 10 action_status_is e2e-tok-001 succeeded; then
	pass "e2e-tok-001: action succeeded"
else
	failv "e2e-tok-001: action succeeded" "$(action_json e2e-tok-001)"
fi
api GET /api/v1/devices/e2e-tok-001
expect_eq "e2e-tok-001 installed_version" "$(jbody '.installed_version // empty')" 1.1.0

# --- unknown device with the GatewayToken: registers and installs
run_client CONTROLLER_ID=e2e-gw-001 GATEWAY_TOKEN=$GW DURATION=45 \
	STOP_ON='Update successful, executing post-update actions' LOG="$T/gw.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate with gatewaytoken registered and installed the update"
else
	failv "swupdate with gatewaytoken registered and installed the update" "client exit $rc"
	show_log "$T/gw.log" 40
fi
check "payload installed by e2e-gw-001" test -s "$PAYLOAD"
run_client CONTROLLER_ID=e2e-gw-001 GATEWAY_TOKEN=$GW CONFIRM=2 DURATION=20 \
	STOP_ON='Server initialized, entering suricatta main loop' LOG="$T/gw-confirm.log" ||
	show_log "$T/gw-confirm.log"
if wait_for 10 action_status_is e2e-gw-001 succeeded; then
	pass "e2e-gw-001: action succeeded"
else
	failv "e2e-gw-001: action succeeded" "$(action_json e2e-gw-001)"
fi
api GET /api/v1/devices/e2e-gw-001
expect_status 200 "e2e-gw-001 is registered"
expect_eq "e2e-gw-001 installed_version" "$(jbody '.installed_version // empty')" 1.1.0
# (the 401s are this script's own polls; status=0 aborted=1 is a request cut
# short because the wrapper stopped swupdate)
bad=$(grep -E 'path=/DEFAULT/controller/v1/e2e-(tok|gw)-001' "$SERVER_LOG" | grep -vE 'status=2[0-9][0-9]' |
	grep -vE 'path=/DEFAULT/controller/v1/e2e-tok-001 status=401' | grep -vE 'status=0 .*aborted=1')
if [ -z "$bad" ]; then
	pass "every request of the token/gateway clients was answered 2xx"
else
	failv "every request of the token/gateway clients was answered 2xx" "$(head -n5 <<< "$bad")"
fi

# --- wrong tokens never register
run_client CONTROLLER_ID=e2e-bad-001 TOKEN=not-the-token-0000 DURATION=10 \
	STOP_ON='HTTP error code 401' LOG="$T/bad.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate with an unknown TargetToken gets 401"
else
	failv "swupdate with an unknown TargetToken gets 401" "client exit $rc"
	show_log "$T/bad.log"
fi
check "server log: 401 for e2e-bad-001" \
	grep -qE 'path=/DEFAULT/controller/v1/e2e-bad-001 status=401' "$SERVER_LOG"
api GET /api/v1/devices/e2e-bad-001
expect_status 404 "e2e-bad-001 was not registered"
poll_as e2e-bad-002 "GatewayToken not-$GW"
expect_status 401 "poll with a wrong GatewayToken: 401"
poll_as e2e-bad-003
expect_status 401 "poll without any token: 401"
api GET /api/v1/devices/e2e-bad-002
expect_status 404 "e2e-bad-002 was not registered"
api GET /api/v1/devices/e2e-bad-003
expect_status 404 "e2e-bad-003 was not registered"

# --- a token set by PATCH
api_json POST /api/v1/devices '{"controller_id":"e2e-tok-002"}'
expect_status 201 "pre-register e2e-tok-002 without a token"
api_json PATCH /api/v1/devices/e2e-tok-002 "{\"token\":\"$TOK2\"}"
expect_status 200 "PATCH e2e-tok-002 token"
poll_as e2e-tok-002 "TargetToken $TOK2"
expect_status 200 "e2e-tok-002 polls with its new token"
poll_as e2e-tok-002 "TargetToken $TOK1"
expect_status 401 "e2e-tok-002 with e2e-tok-001's token: 401"

finish
