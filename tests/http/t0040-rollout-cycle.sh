#!/usr/bin/env bash
# One update from upload to installed: rollout, poll, deploymentBase,
# feedback, result, counts, late feedback.
. "$(dirname "$0")/lib.sh"

start_server 'poll:
  interval: "00:00:07"
  running_interval: "00:00:03"'
TOKEN=$(make_token admin)
DDI_BASE=$BASE/DEFAULT/controller/v1

mkimg "$T/os-1.1.0.swu" 1.1.0 '1.0,1.1' -s 48K
upload "$T/os-1.1.0.swu"
expect_status 201 "upload 1.1.0"
SW=$SW_ID
SHA1=$(sha1sum "$T/os-1.1.0.swu" | cut -d' ' -f1)
MD5=$(md5sum "$T/os-1.1.0.swu" | cut -d' ' -f1)
SHA256=$(sha256sum "$T/os-1.1.0.swu" | cut -d' ' -f1)
SIZE=$(wc -c <"$T/os-1.1.0.swu")

# Three devices: dev-a fits, dev-b has other hardware, dev-c another feed.
for d in dev-a dev-b dev-c; do
	ddi GET $d
	expect_status 200 "register $d"
done
config_data dev-a '{"hw_revision":"1.1","sw_version":"1.0.0"}'
expect_status 200
config_data dev-b '{"hw_revision":"2.0","sw_version":"1.0.0"}'
expect_status 200
config_data dev-c '{"hw_revision":"1.1","sw_version":"1.0.0"}'
expect_status 200
api_json PATCH /api/v1/devices/dev-c '{"feed":"beta"}'
expect_status 200 "move dev-c to feed beta"
expect_json .feed beta

ddi GET dev-a
expect_json '._links | has("deploymentBase")' false "no rollout yet: nothing offered"

# --- the rollout ----------------------------------------------------------
api_json POST /api/v1/rollouts "{\"name\":\"spring\",\"feed\":\"default\",\"software_id\":$SW}"
expect_status 201 "POST rollout -> 201"
R=$(jq -r .id <"$T/body")
expect_json .name spring
expect_json .feed default
expect_json .software_id "$SW"
expect_json .version 1.1.0
expect_json .paused false
expect_json .pause_reason null
expect_jq '.counts | (has("targeted") and has("pending") and has("running") and has("succeeded") and has("failed"))' \
    "rollout has all counts"
expect_jq '.created_at != null'
expect_json .counts.targeted 1 "new rollout: targeted 1 (dev-b does not fit, dev-c elsewhere)"
expect_json .counts.pending 1 "new rollout: pending 1"
expect_json .counts.running 0

api GET /api/v1/rollouts
expect_status 200
expect_json "[.rollouts[].id] | map(tostring) | join(\",\")" "$R"
api GET "/api/v1/rollouts/$R"
expect_status 200
expect_json .id "$R"

# --- poll -> deploymentBase -----------------------------------------------
ddi GET dev-a
expect_status 200 "poll with an update pending"
DB=$(link deploymentBase)
check "deploymentBase href form ($DB)" \
    sh -c "echo '$DB' | grep -Eq '^$DDI_BASE/dev-a/deploymentBase/[0-9]+\?c=-?[0-9]+\$'"
ACT=$(action_id_of_href "$DB")
expect_json '._links | has("cancelAction")' false "no cancelAction"
expect_json '._links | has("configData")' false "no configData after the PUT"
expect_json .config.polling.sleep 00:00:03 "running_interval while an update waits"

ddi GET dev-b
expect_json '._links | has("deploymentBase")' false "incompatible hardware: nothing offered"
ddi GET dev-c
expect_json '._links | has("deploymentBase")' false "other feed: nothing offered"
expect_json .config.polling.sleep 00:00:07

ddi GET dev-a
expect_json ._links.deploymentBase.href "$DB" "a second poll shows the same action"

api GET /api/v1/devices/dev-a/actions
expect_status 200
expect_json '.actions | length' 1 "one action created"
expect_json '.actions[0].id | tostring' "$ACT"
expect_json '.actions[0].device' dev-a
expect_json '.actions[0].status' scheduled "not fetched yet: scheduled"
expect_json '.actions[0].software_id' "$SW"
expect_json '.actions[0].version' 1.1.0
expect_json '.actions[0].rollout_id' "$R"
expect_json '.actions[0].closed_at' null
# Every offer is an update the operator wants installed: hawkBit's "forced"
# handling (the action's own "forced" flag means a forced re-offer).
HANDLING=forced

# --- deploymentBase -------------------------------------------------------
req GET "$DB"
expect_status 200 "GET deploymentBase -> 200"
expect_json '.id' "$ACT"
expect_json '.id | type' string "action id is a JSON string"
expect_json 'keys | join(",")' "deployment,id" "top-level keys (no actionHistory unasked)"
expect_json '.deployment | keys | join(",")' "chunks,download,update" \
    "deployment keys (no maintenanceWindow)"
expect_json .deployment.download "$HANDLING"
expect_json .deployment.update "$HANDLING"
expect_json '.deployment.chunks | length' 1
expect_json '.deployment.chunks[0].part' os
expect_json '.deployment.chunks[0].version' 1.1.0
expect_jq '.deployment.chunks[0].name | type == "string" and length > 0' "chunk name"
expect_jq '.deployment.chunks[0] | (has("encrypted") | not) or .encrypted == true' \
    "encrypted only when true"
expect_jq '.deployment.chunks[0] | (has("metadata") | not) or (.metadata | type == "array")'
expect_json '.deployment.chunks[0].artifacts | length' 1
A='.deployment.chunks[0].artifacts[0]'
expect_json "$A | keys | join(\",\")" "_links,filename,hashes,size"
expect_json "$A.filename" os-1.1.0.swu
expect_json "$A.size" "$SIZE"
expect_json "$A.size | type" number
expect_json "$A.hashes.sha1" "$SHA1"
expect_json "$A.hashes.md5" "$MD5"
expect_json "$A.hashes.sha256" "$SHA256"
expect_json "$A._links | keys | join(\",\")" "download,download-http,md5sum,md5sum-http"
DL=$(jq -r "$A._links.download.href" <"$T/body")
check "download href form ($DL)" \
    sh -c "echo '$DL' | grep -Eq '^$DDI_BASE/dev-a/softwaremodules/[0-9]+/artifacts/os-1\.1\.0\.swu\$'"
expect_json "$A._links[\"download-http\"].href" "$DL"
expect_json "$A._links.md5sum.href" "$DL.MD5SUM"
expect_json "$A._links[\"md5sum-http\"].href" "$DL.MD5SUM"

ddi GET dev-a "/deploymentBase/$ACT"
expect_status 200 "deploymentBase without ?c= -> 200"
ddi GET dev-a "/deploymentBase/$ACT?c=1&actionHistory=5"
expect_status 200 "deploymentBase with actionHistory -> 200"
expect_jq '(has("actionHistory") | not) or (.actionHistory.status | type == "string") and (.actionHistory.messages | type == "array")' \
    "actionHistory form"
ddi GET dev-b "/deploymentBase/$ACT"
expect_status 404 "another device's action -> 404"
ddi GET dev-a "/deploymentBase/999999"
expect_status 404 "unknown action -> 404"

# --- feedback -------------------------------------------------------------
feedback dev-a "$ACT" proceeding none "Downloaded 42%"
expect_status 200 "proceeding feedback -> 200"
api GET "/api/v1/actions/$ACT"
expect_status 200
expect_json .status running "proceeding -> running"
expect_json .progress 42 "progress from 'Downloaded 42%'"
expect_jq '[.log[].line] | index("Downloaded 42%") != null' "the detail is in the log"
expect_jq '.history | length >= 1'

ddi_json POST dev-a "/deploymentBase/$ACT/feedback" \
    '{"id":"'"$ACT"'","time":"20240101T000000","status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":3,"of":4}},"code":200,"details":["step 3"]}}'
expect_status 200 "feedback with legacy id/time and progress cnt/of -> 200"
api GET "/api/v1/actions/$ACT"
expect_json .progress 75 "progress 3 of 4 -> 75"
expect_json .result_code 200 "status.code stored"

ddi_json POST dev-a "/deploymentBase/$ACT/feedback" \
    '{"status":{"execution":"proceeding","result":{"finished":"none","progress":{"percentage":50}}}}'
expect_status 200 "Python-style progress {percentage} accepted"
ddi_json POST dev-a "/deploymentBase/$ACT/feedback" \
    '{"status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":5,"of":0}}}}'
expect_status 200 "progress with of=0 accepted"
for ex in scheduled resumed download downloaded rejected canceled; do
	feedback dev-a "$ACT" "$ex" none "informational $ex"
	expect_status 200 "$ex feedback -> 200"
done
api GET "/api/v1/actions/$ACT"
expect_json .status running "informational feedback keeps the action running"
expect_json .closed_at null
api GET "/api/v1/rollouts/$R"
expect_json .counts.running 1 "rollout counts: running 1 during the update"
expect_json .counts.pending 0

# Bad feedback bodies: 400, no change.
bad_feedback()
{
	ddi_json POST dev-a "/deploymentBase/$ACT/feedback" "$1"
	expect_status 400 "feedback $2 -> 400"
}
bad_feedback '{' "truncated JSON"
bad_feedback '{}' "without status"
bad_feedback '{"status":"closed"}' "with status a string"
bad_feedback '{"status":{"result":{"finished":"success"}}}' "without execution"
bad_feedback '{"status":{"execution":"closed"}}' "without result"
bad_feedback '{"status":{"execution":"closed","result":{}}}' "without finished"
bad_feedback '{"status":{"execution":"finished","result":{"finished":"success"}}}' "with an unknown execution"
bad_feedback '{"status":{"execution":"closed","result":{"finished":"great"}}}' "with an unknown finished"
bad_feedback '{"status":{"execution":"CLOSED","result":{"finished":"SUCCESS"}}}' "with upper-case literals"
ddi POST dev-a "/deploymentBase/$ACT/feedback" -H 'Content-Type: text/plain' \
    --data-binary '{"status":{"execution":"closed","result":{"finished":"success"}}}'
expect_status 415 "feedback as text/plain -> 415"
feedback dev-b "$ACT" closed success
expect_status 404 "feedback on another device's action -> 404"
feedback dev-a 999999 closed success
expect_status 404 "feedback on an unknown action -> 404"
api GET "/api/v1/actions/$ACT"
expect_json .status running "refused feedback changed nothing"

ddi GET dev-a
expect_json ._links.deploymentBase.href "$DB" "the action stays open until closed"

# --- success --------------------------------------------------------------
feedback dev-a "$ACT" closed success "Update Installed."
expect_status 200 "closed/success -> 200"
api GET "/api/v1/actions/$ACT"
expect_json .status succeeded
expect_jq '.closed_at != null'
expect_jq '[.history[].status] | length >= 2' "history kept"
api GET /api/v1/devices/dev-a
expect_json .installed_version 1.1.0 "installed_version updated"
expect_jq '.action == null or .action.status == "succeeded"' "device action is closed"

ddi GET dev-a
expect_status 200
expect_json '._links | has("deploymentBase")' false "no deploymentBase after success"
expect_json ._links.configData.href "$DDI_BASE/dev-a/configData" "configData requested again"
expect_json ._links.installedBase.href "$DDI_BASE/dev-a/installedBase/$ACT" "installedBase link"
expect_json .config.polling.sleep 00:00:07 "back to the idle interval"

ddi GET dev-a "/installedBase/$ACT"
expect_status 200 "GET installedBase -> 200"
expect_json .id "$ACT"
expect_json '.deployment.chunks[0].version' 1.1.0
expect_json '.deployment.chunks[0].artifacts[0].hashes.sha1' "$SHA1"

api GET "/api/v1/rollouts/$R"
expect_json .counts.succeeded 1 "rollout counts: succeeded 1"
expect_json .counts.failed 0
expect_json .counts.running 0
expect_json .counts.pending 0
expect_json .counts.targeted 1 "rollout counts: targeted 1 (dev-b does not fit)"

# Late feedback: 410, the result stands.
feedback dev-a "$ACT" closed failure "too late"
expect_status 410 "closed/failure on a closed action -> 410"
feedback dev-a "$ACT" proceeding none "late"
expect_status 410 "proceeding on a closed action -> 410"
api GET "/api/v1/actions/$ACT"
expect_json .status succeeded "late feedback changed nothing"
api GET /api/v1/devices/dev-a
expect_json .installed_version 1.1.0

# Up to date: no new action, even after reporting attributes again.
config_data dev-a '{"hw_revision":"1.1","sw_version":"1.1.0"}'
expect_status 200
ddi GET dev-a
expect_json '._links | has("deploymentBase")' false "up to date: nothing offered"
api GET /api/v1/devices/dev-a/actions
expect_json '.actions | length' 1

alive

finish
