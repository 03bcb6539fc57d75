#!/bin/bash
# t0008: a soft assignment through hawkBit's Management API, installed by
# Debian's SWUpdate.  The operator assigns the set with
# POST /rest/v1/distributionsets/{id}/assignedTargets type soft; SWUpdate
# gets download and update "attempt", installs, reports success after its
# "reboot" (-c 2), and /rest/v1 shows the action finished, soft, with the
# retrieved and download entries and SWUpdate's own messages in its
# status entries.
. "$(dirname "$0")/lib-e2e.sh"

CID=e2e-soft-001
IMG=$T/img/soft-1.2.0.swu
PAYLOAD=$T/install/payload.bin
R=/rest/v1

e2e_start_server "$(printf 'device_auth:\n  mode: open')"
make_swu "$IMG" 1.2.0 -r 1.0,1.1 -s 128K -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
upload "$IMG"
expect_status 201 "upload of soft-1.2.0.swu"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
api_json POST /api/v1/devices "{\"controller_id\":\"$CID\"}"
expect_status 201 "the device is created ahead"
api_json POST "$R/distributionsets/$SW_ID/assignedTargets" "[{\"id\":\"$CID\",\"type\":\"soft\"}]"
expect_status 200 "soft assignment over /rest/v1"
ACTION_ID=$(jbody '.assignedActions[0].id // empty')
[ -n "$ACTION_ID" ] || { failv "the assignment made an action" "$BODY"; finish; }

run_client CONTROLLER_ID=$CID HW=testboard:1.1 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=45 \
	STOP_ON='Update successful, executing post-update actions' LOG="$T/run1.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate installed the soft update"
else
	failv "swupdate installed the soft update" "client exit $rc"
	show_log "$T/run1.log" 40
fi
check "swupdate classified the update as attempt" \
	grep -q "Update classified as 'attempt' by server" "$T/run1.log"
if [ -f "$PAYLOAD" ]; then
	pass "the payload was installed"
else
	fail "the payload was installed"
fi

run_client CONTROLLER_ID=$CID HW=testboard:1.1 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 CONFIRM=2 DURATION=20 \
	STOP_ON='effective URL resolved to [^ ]*/configData$' LOG="$T/run2.log"
if wait_for 10 action_status_is "$CID" succeeded; then
	pass "action $ACTION_ID succeeded"
else
	failv "action $ACTION_ID succeeded" "$(action_json "$CID")"
fi
api GET "$R/targets/$CID/actions/$ACTION_ID"
expect_status 200 "GET the action over /rest/v1"
expect_eq "hawkBit's view: finished, soft, update" \
	"$(jbody '[.status, .forceType, .type, .active] | join(",")')" "finished,soft,update,false"
api GET "$R/targets/$CID/actions/$ACTION_ID/status?limit=500&sort=id:ASC"
expect_status 200 "its status entries"
TYPES=$(jbody '[.content[].type] | join(" ")')
note "status types: $TYPES"
case " $TYPES " in
*"running retrieved"*" download "*) pass "assignment, retrieved and download entries in order" ;;
*) failv "assignment, retrieved and download entries in order" "$TYPES" ;;
esac
expect_eq "the newest entry is finished" "$(jbody '.content[-1].type')" finished
FIRST=$(jbody '.content[-1].messages[0] // empty')
case $FIRST in
"Update Server:"* | "") failv "the finished entry holds SWUpdate's own message first" "$FIRST" ;;
*) pass "the finished entry holds SWUpdate's own message first ($FIRST)" ;;
esac
api GET "/api/v1/devices/$CID"
expect_eq "installed_version after the report" "$(jbody '.installed_version // empty')" 1.2.0
expect_eq "the device's mode is assigned to the set" \
	"$(jbody '[.mode, .assigned_distribution_id] | map(tostring) | join(",")')" "assigned,$SW_ID"
poll_as "$CID"
expect_eq "nothing offered after the install" \
	"$(jbody '._links.deploymentBase.href // "none"')" none
finish
