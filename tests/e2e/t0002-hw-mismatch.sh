#!/bin/bash
# t0002: hardware mismatch seen only by the device.  The device claims
# revision 1.1 in configData (so the server offers the 1.0/1.1 image), but
# swupdate runs with -H testboard:9.9 and refuses the image.  The failure
# ("No suitable .swu image found") closes the action as failed and parks the
# device: later polls offer nothing until the operator sets force.
. "$(dirname "$0")/lib-e2e.sh"

CID=e2e-hwmis-001
IMG=$T/img/test-1.1.0.swu
PAYLOAD=$T/install/payload.bin

e2e_start_server "$(printf 'device_auth:\n  mode: open')"
make_swu "$IMG" 1.1.0 -r 1.0,1.1 -s 64K -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
upload "$IMG"
expect_status 201 "upload of test-1.1.0.swu"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
create_rollout "$SW_ID"
expect_status 201 "rollout on feed default"

run_client CONTROLLER_ID=$CID HW=testboard:9.9 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=45 \
	STOP_ON='Error processing update chunk' LOG="$T/run1.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate refused the image (Error processing update chunk)"
else
	failv "swupdate refused the image (Error processing update chunk)" "client exit $rc"
	show_log "$T/run1.log" 40
fi
check "swupdate says SW not compatible with hardware" \
	grep -q 'SW not compatible with hardware' "$T/run1.log"
check "nothing was installed" test ! -e "$PAYLOAD"

if wait_for 10 action_status_is "$CID" failed; then
	pass "action failed"
else
	failv "action failed" "$(action_json "$CID")"
fi
ACTION=$(action_json "$CID")
FAILED_ID=$(printf '%s' "$ACTION" | jq -r '.id // empty')
LOGTEXT=$(printf '%s' "$ACTION" | jq -r '.log[]?.line' 2>/dev/null)
if grep -q 'No suitable .swu image found' <<< "$LOGTEXT"; then
	pass "action log has 'No suitable .swu image found'"
else
	failv "action log has 'No suitable .swu image found'" "action: ${ACTION:0:800}"
fi
if grep -q 'SW not compatible with hardware' <<< "$LOGTEXT"; then
	pass "action log has SWUpdate's 'SW not compatible with hardware'"
else
	failv "action log has SWUpdate's 'SW not compatible with hardware'" "log: ${LOGTEXT:0:800}"
fi
api GET "/api/v1/devices/$CID"
expect_eq "device hw_revision is the claimed 1.1" "$(jbody '.hw_revision // empty')" 1.1
check "installed_version is not 1.1.0" test "$(jbody '.installed_version // empty')" != 1.1.0
api GET "/api/v1/rollouts/$ROLLOUT_ID"
expect_eq "rollout counts failed" "$(jbody '.counts.failed')" 1

# Parked: no offer without force, from the wire and from swupdate itself.
poll_as "$CID"
expect_status 200 "root poll after the failure"
expect_eq "parked device: no deploymentBase" \
	"$(jbody '._links.deploymentBase.href // "none"')" none
run_client CONTROLLER_ID=$CID HW=testboard:9.9 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=15 \
	STOP_ON='No pending action on server' LOG="$T/run2.log"
rc=$?
if [ $rc -eq 0 ] && ! grep -q 'Update action available' "$T/run2.log"; then
	pass "parked device: swupdate finds no pending action"
else
	failv "parked device: swupdate finds no pending action" "client exit $rc"
	show_log "$T/run2.log"
fi

# Force: offered again.
api_json PATCH "/api/v1/devices/$CID" '{"force": true}'
expect_status 200 "PATCH force true"
poll_as "$CID"
HREF=$(jbody '._links.deploymentBase.href // "none"')
if [ "$HREF" != none ]; then
	pass "forced device is offered the update again"
else
	failv "forced device is offered the update again" "poll: $BODY"
fi
case $HREF in
*/deploymentBase/"$FAILED_ID"\?*) note "the forced offer reuses failed action $FAILED_ID" ;;
*) note "the forced offer: $HREF (failed action was $FAILED_ID)" ;;
esac


# The operator fixed the device (right revision now): the forced offer
# installs.
run_client CONTROLLER_ID=$CID HW=testboard:1.1 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=30 \
	STOP_ON='Update successful, executing post-update actions|Error processing update chunk' \
	LOG="$T/run3.log"
rc=$?
if [ $rc -eq 0 ] && grep -q 'Update successful' "$T/run3.log"; then
	pass "the forced offer installs on testboard:1.1"
else
	failv "the forced offer installs on testboard:1.1" "client exit $rc"
	show_log "$T/run3.log"
fi
check "payload installed" test -s "$PAYLOAD"

finish
