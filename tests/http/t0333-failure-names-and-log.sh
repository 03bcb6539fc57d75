#!/usr/bin/env bash
# Failures get names: a device's numeric result code (DDI feedback
# status.code, the ATS Garage SOTA client's codes) is named, and a known
# SWUpdate or RAUC failure message in the details names the reason; the
# device JSON (detail and list) carries last_failure.  A device's update
# log downloads as a text file.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

# fail_with CID CODE DETAIL: the device's open action fails with them.
fail_with()
{
	ddi GET "$1"
	local act
	act=$(action_id_of_href "$(link deploymentBase)")
	ddi_json POST "$1" "/deploymentBase/$act/feedback" \
	    "$(jq -cn --arg d "$3" --argjson c "$2" \
	    '{status:{execution:"closed",result:{finished:"failure"},code:$c,details:[$d]}}')"
	expect_status 200 "$1 fails with code $2"
	ACT=$act
}

for d in f-rauc f-code f-ok 'f "q"'; do
	ddi GET "$(printf %s "$d" | jq -sRr @uri)"
	config_data "$(printf %s "$d" | jq -sRr @uri)" '{"hw_revision":"1.0"}'
done
mkimg "$T/a.swu" 1.0.0 '1.0'
upload "$T/a.swu"
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW_ID}"

fail_with f-rauc 4 "Installing failed: Compatible mismatch: Expected 'board-a' but bundle manifest has 'board-b'"
RAUC_ACT=$ACT
api GET /api/v1/devices/f-rauc
expect_json '.last_failure | [.code, .code_name, .reason]' '[4,"INSTALL_FAILED","compatible mismatch (RAUC)"]' \
    "code 4 is INSTALL_FAILED, the RAUC message names the reason"
expect_jq '.last_failure.message | test("Compatible mismatch")' "the last message comes along"

fail_with f-code 15 "something odd happened"
api GET /api/v1/devices/f-code
expect_json '.last_failure | [.code, .code_name, .reason]' '[15,"DISK_FULL","DISK_FULL"]' \
    "an unknown message: the code's name is the reason"

api GET '/api/v1/devices?state=failed&sort=controller_id'
expect_json '[.devices[] | [.controller_id, .last_failure.reason]]' \
    '[["f-code","DISK_FULL"],["f-rauc","compatible mismatch (RAUC)"]]' "the list shows the last failure reason"
api GET /api/v1/devices/f-ok
expect_json .last_failure null "no failure: null"

ddi GET f-ok
ACT=$(action_id_of_href "$(link deploymentBase)")
ddi_json POST f-ok "/deploymentBase/$ACT/feedback" \
    '{"status":{"execution":"closed","result":{"finished":"failure"},"details":["Software: x V1.0. Invalid checksum: aa expected bb"]}}'
api GET /api/v1/devices/f-ok
expect_json '.last_failure | [.code, .code_name, .reason]' '[null,null,"checksum mismatch"]' \
    "no code: the SWUpdate message names the reason"

# --- the update log as a file ---------------------------------------------------------
api GET /api/v1/devices/f-rauc/log
expect_status 200 "the update log downloads"
check "as text/plain ($(header Content-Type))" sh -c "echo '$(header Content-Type)' | grep -q '^text/plain'"
expect_header Content-Disposition 'attachment; filename="f-rauc-update-log.txt"'
check "it names the update" grep -q "^Update #$RAUC_ACT: .*1.0.0, failed, rollout #" "$T/body"
check "with the device's log line" grep -q "log .*Compatible mismatch: Expected 'board-a'" "$T/body"
check "and the history" grep -qE "^  [0-9T:-]+Z  (closed|failed) " "$T/body"
check "and the result code" grep -q "result code 4" "$T/body"
api GET "/api/v1/devices/$(printf %s 'f "q"' | jq -sRr @uri)/log"
expect_status 200 "a device whose id holds a quote"
expect_header Content-Disposition 'attachment; filename="f__q_-update-log.txt"'
api GET /api/v1/devices/no-such/log
expect_status 404 "no such device: 404"
expect_is_error
req GET /api/v1/devices/f-rauc/log
expect_status 401 "the log needs credentials"

finish
