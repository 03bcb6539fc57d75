#!/bin/bash
# t0003: the operator cancels an update while SWUpdate downloads it.
# An 8 MiB image downloaded at 256 KiB/s (suricatta -n) takes ~32 s; once
# the artifact GET is under way the action is canceled through the API.
# SWUpdate's in-download re-poll sees cancelAction, aborts the download,
# acknowledges (closed/success on cancelAction/{id}/feedback) and the action
# ends canceled with nothing installed.
. "$(dirname "$0")/lib-e2e.sh"

CID=e2e-cancel-001
IMG=$T/img/big-2.0.0.swu
PAYLOAD=$T/install/payload.bin

e2e_start_server "$(printf 'device_auth:\n  mode: open')"
make_swu "$IMG" 2.0.0 -r 1.0,1.1 -s 8M -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
upload "$IMG"
expect_status 201 "upload of an 8 MiB image"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
create_rollout "$SW_ID"
expect_status 201 "rollout on feed default"

start_client CONTROLLER_ID=$CID HW=testboard:1.1 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=60 \
	EXTRA_SURICATTA_ARGS='-n 256k' \
	STOP_ON='Acknowledging cancelled update|Update successful|Error processing update chunk' \
	LOG="$T/run1.log"

artifact_get_started() {
	grep -qE "method=HEAD path=/DEFAULT/controller/v1/$CID/softwaremodules/[0-9]+/artifacts/" "$SERVER_LOG" ||
		grep -qE 'Downloaded [0-9]+%' "$T/run1.log" 2>/dev/null
}
if wait_for 30 artifact_get_started; then
	pass "swupdate started downloading the artifact"
else
	fail "swupdate started downloading the artifact"
	show_log "$T/run1.log"
fi
sleep 1
ACTION=$(action_json "$CID")
ACTION_ID=$(printf '%s' "$ACTION" | jq -r '.id // empty')
expect_eq "action running while downloading" \
	"$(printf '%s' "$ACTION" | jq -r '.status // empty')" running
CANCEL_AT=$SECONDS
api POST "/api/v1/actions/$ACTION_ID/cancel"
case $STATUS in
2??) pass "POST /api/v1/actions/$ACTION_ID/cancel ($STATUS)" ;;
*) failv "POST /api/v1/actions/$ACTION_ID/cancel" "status $STATUS: $BODY" ;;
esac
st=$(printf '%s' "$(action_json "$CID")" | jq -r '.status // empty')
case $st in
canceling|canceled) pass "action $st right after the cancel" ;;
*) failv "action canceling right after the cancel" "status $st" ;;
esac

wait "$CLIENT_PID"
rc=$?
if [ $rc -eq 0 ] && grep -q 'Acknowledging cancelled update' "$T/run1.log"; then
	pass "swupdate acknowledged the cancel after $((SECONDS - CANCEL_AT))s"
else
	failv "swupdate acknowledged the cancel" "client exit $rc"
	show_log "$T/run1.log" 40
fi
check "swupdate saw the cancelAction link" grep -q 'Cancel action available' "$T/run1.log"
check "swupdate did not finish the install" \
	bash -c "! grep -q 'Update successful' '$T/run1.log'"

if wait_for 10 action_status_is "$CID" canceled; then
	pass "action $ACTION_ID canceled"
else
	failv "action $ACTION_ID canceled" "$(action_json "$CID")"
fi
check "cancel feedback answered 200" \
	grep -qE "method=POST path=/DEFAULT/controller/v1/$CID/cancelAction/[0-9]+/feedback status=200" "$SERVER_LOG"
ACTION=$(action_json "$CID")
if printf '%s' "$ACTION" | jq -r '.. | strings' | grep -q 'cancellation acknowledged'; then
	pass "action records 'cancellation acknowledged.'"
else
	failv "action records 'cancellation acknowledged.'" "action: ${ACTION:0:600}"
fi
api GET "/api/v1/devices/$CID"
check "installed_version is not 2.0.0" test "$(jbody '.installed_version // empty')" != 2.0.0
# the artifact belonged to the canceled action only: no longer served to it
ART_URL=$(grep -oE '"download": \{ "href": "[^"]+"' "$T/run1.log" | head -n1 | sed 's/.*"href": "//; s/"$//; s,\\/,/,g')
if [ -n "$ART_URL" ]; then
	req GET "$ART_URL"
	expect_status 404 "artifact of the canceled action no longer downloadable"
else
	fail "artifact URL found in swupdate's log"
fi
poll_as "$CID"
expect_eq "the canceled update is not offered again" \
	"$(jbody '._links.deploymentBase.href // "none"')" none

finish
