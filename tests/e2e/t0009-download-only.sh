#!/bin/bash
# t0009: a download-only assignment with Debian's SWUpdate.  deploymentBase
# says update "skip"; SWUpdate installs nothing and answers closed/success
# "Skipped Update.".  Falconet does not take that for an install: the
# action ends downloaded (hawkBit's download-only end), the installed
# version is unchanged, configData is asked for again and the policy does
# not then install the set.
. "$(dirname "$0")/lib-e2e.sh"

CID=e2e-donly-001
IMG=$T/img/donly-1.3.0.swu
PAYLOAD=$T/install/payload.bin
R=/rest/v1

e2e_start_server "$(printf 'device_auth:\n  mode: open')"
make_swu "$IMG" 1.3.0 -r 1.0,1.1 -s 64K -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
upload "$IMG"
expect_status 201 "upload of donly-1.3.0.swu"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
api_json POST /api/v1/devices "{\"controller_id\":\"$CID\"}"
expect_status 201 "the device is created ahead"
api_json POST "$R/distributionsets/$SW_ID/assignedTargets" "[{\"id\":\"$CID\",\"type\":\"downloadonly\"}]"
expect_status 200 "download-only assignment over /rest/v1"
ACTION_ID=$(jbody '.assignedActions[0].id // empty')
[ -n "$ACTION_ID" ] || { failv "the assignment made an action" "$BODY"; finish; }

run_client CONTROLLER_ID=$CID HW=testboard:1.1 \
	IDENTIFY=hw_boardname=testboard,hw_revision=1.1 DURATION=30 \
	STOP_ON='No pending action on server' LOG="$T/run1.log"
rc=$?
if [ $rc -eq 0 ]; then
	pass "swupdate handled the action and found nothing more to do"
else
	failv "swupdate handled the action and found nothing more to do" "client exit $rc"
	show_log "$T/run1.log" 40
fi
check "swupdate classified the update as skip" \
	grep -q "Update classified as 'skip' by server" "$T/run1.log"
check "swupdate installed nothing" test ! -e "$PAYLOAD"
api GET "$R/targets/$CID/actions/$ACTION_ID"
expect_status 200 "GET the action over /rest/v1"
expect_eq "hawkBit's view: downloaded, downloadonly, inactive" \
	"$(jbody '[.status, .forceType, .active] | map(tostring) | join(",")')" "downloaded,downloadonly,false"
api GET "$R/targets/$CID/actions/$ACTION_ID/status?limit=1"
expect_eq "the newest entry is downloaded, SWUpdate's message first" \
	"$(jbody '[.content[0].type, .content[0].messages[0]] | join(",")')" "downloaded,Skipped Update."
api GET "/api/v1/devices/$CID"
expect_eq "the installed version is unchanged" "$(jbody '.installed_version // "none"')" none
check "swupdate was asked for its configData" \
	grep -q '\[server_set_config_data\] : ConfigData: ' "$T/run1.log"
poll_as "$CID"
expect_eq "the policy does not install the set afterwards" \
	"$(jbody '._links.deploymentBase.href // "none"')" none
finish
