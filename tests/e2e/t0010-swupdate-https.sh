#!/bin/bash
# t0010: the full update cycle with Debian's real SWUpdate client over
# HTTPS served by falconet itself, the device authenticated by its client
# certificate alone: device_auth.mode token (no token is given to it) and
# tls.client_auth accepted.  swupdate.cfg's suricatta section names the CA
# (cafile) and the device's certificate and key (sslcert, sslkey).  Poll,
# configData, download, install, "reboot" with -c 2, success; then the
# same client with another device's certificate gets nothing but 401s.
. "$(dirname "$0")/lib-e2e.sh"
. "$(dirname "$0")/../http/certs.sh"

CID=e2e-https-001
IMG=$T/img/test-1.2.0.swu
PAYLOAD=$T/install/payload.bin

certs_ca ca
certs_server srv ca
certs_client device ca "$CID"
certs_client other ca e2e-https-002
export CURL_CA_BUNDLE=$CERTS/ca.crt
TLS_ARGS=(CAFILE="$CERTS/ca.crt" SSLCERT="$CERTS/device.crt" SSLKEY="$CERTS/device.key")

e2e_start_server "$(printf 'device_auth:\n  mode: token')" "tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key
  client_ca: $CERTS/ca.crt
  client_auth: accepted"
BASE=https://127.0.0.1:$PORT
SERVER_LOG=$T/server.log

make_swu "$IMG" 1.2.0 -r 1.0,1.1 -s 256K -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
swu_member "$IMG" payload.bin "$T/expected-payload.bin" || fail "payload.bin extracted from the image"
upload "$IMG"
expect_status 201 "upload of test-1.2.0.swu over HTTPS"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
create_rollout "$SW_ID"
expect_status 201 "rollout of software $SW_ID on feed default"

poll_as "$CID"
expect_status 401 "token mode: the device without its certificate -> 401"

# --- run 1: poll, download, install, with the certificate only
run_client CONTROLLER_ID=$CID HW=testboard:1.1 "${TLS_ARGS[@]}" \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=45 \
	STOP_ON='Update successful, executing post-update actions' LOG="$T/run1.log"
client_ok "swupdate over HTTPS installed the update (Update successful)" $? "$T/run1.log" 40
check "swupdate verified the signature" grep -q 'Verified OK' "$T/run1.log"
check "swupdate sent no TargetToken (the certificate authenticates)" \
	bash -c "! grep -q 'targettoken' '$T/run1.log' && ! grep -q 'TargetToken' '$T/run1.log'"
check "swupdate followed https:// links" \
	grep -q "effective URL resolved to https://127.0.0.1:$PORT/DEFAULT/controller/v1/$CID/softwaremodules/" \
	"$T/run1.log"
if [ -f "$PAYLOAD" ] && cmp -s "$PAYLOAD" "$T/expected-payload.bin"; then
	pass "payload installed byte-identical ($(stat -c %s "$PAYLOAD") bytes)"
else
	failv "payload installed byte-identical" "installed: $(stat -c %s "$PAYLOAD" 2>&1)"
fi
api GET "/api/v1/devices/$CID"
expect_status 200 "the certificate registered the device in token mode"
expect_eq "... in feed default (vouched for)" "$(jbody '.feed // empty')" default
expect_eq "action running after the install" "$(jbody '.action.status // empty')" running
expect_eq "device hw_model from configData" "$(jbody '.hw_model // empty')" testboard

# --- run 2: the "reboot", success reported with -c 2
run_client CONTROLLER_ID=$CID HW=testboard:1.1 "${TLS_ARGS[@]}" \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 CONFIRM=2 DURATION=20 \
	STOP_ON='effective URL resolved to [^ ]*/configData$' LOG="$T/run2.log"
client_ok "swupdate -c 2 reported the result over HTTPS" $? "$T/run2.log"
if wait_for 10 action_status_is "$CID" succeeded; then
	pass "action succeeded (feedback success over HTTPS)"
else
	failv "action succeeded" "$(action_json "$CID")"
fi
api GET "/api/v1/devices/$CID"
expect_eq "installed_version after the report" "$(jbody '.installed_version // empty')" 1.2.0
expect_eq "device state in_sync" "$(jbody '.state // empty')" in_sync

# All but the one 401 of the certificate-less poll above.
bad=$(grep -E "path=/DEFAULT/controller/v1/$CID" "$SERVER_LOG" | grep -vE 'status=2[0-9][0-9]' |
	grep -vE 'status=0 .*aborted=1')
if [ "$(grep -c . <<< "$bad")" -eq 1 ] &&
	grep -qE "method=GET path=/DEFAULT/controller/v1/$CID status=401" <<< "$bad"; then
	pass "every DDI request of swupdate was answered 2xx"
else
	failv "every DDI request of swupdate was answered 2xx" "$(head -n5 <<< "$bad")"
fi
check "the artifact was downloaded over HTTPS (GET 200)" \
	grep -qE "method=GET path=/DEFAULT/controller/v1/$CID/softwaremodules/[0-9]+/artifacts/[^ ]+\.swu status=200" "$SERVER_LOG"

# --- another device's certificate: refused, reason logged
run_client CONTROLLER_ID=e2e-https-003 HW=testboard:1.1 CAFILE="$CERTS/ca.crt" \
	SSLCERT="$CERTS/other.crt" SSLKEY="$CERTS/other.key" DURATION=8 \
	STOP_ON='Update action available' LOG="$T/run3.log"
check "swupdate with another device's certificate gets no update" [ $? -ne 0 ]
check "... the server answered it 401" \
	grep -qE 'path=/DEFAULT/controller/v1/e2e-https-003 status=401' "$SERVER_LOG"
check "... and logged why" grep -q \
	'refused device e2e-https-003 from 127.0.0.1: its client certificate is for CN "e2e-https-002"' \
	"$SERVER_LOG"
api GET /api/v1/devices/e2e-https-003
expect_status 404 "... and registered nothing"
finish
