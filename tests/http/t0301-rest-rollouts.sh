#!/usr/bin/env bash
# hawkBit's rollout resource under /rest/v1/rollouts: create with groups
# or amountGroups and conditions, start, pause, resume, triggerNextGroup,
# retry, the deployment groups and their targets, delete; hawkBit's JSON
# field by field, paging, and errors in hawkBit's shape.
. "$(dirname "$0")/lib.sh"

register()
{
	ddi GET "$1"
	config_data "$1" '{"hw_revision":"1.0","sw_version":"1.0.0"}'
}

start_server
TOKEN=$(make_token admin)
mkimg "$T/r-2.0.0.swu" 2.0.0 1.0 -s 8K
upload "$T/r-2.0.0.swu"
expect_status 201 "upload"
DS=$SW_ID
for i in 1 2 3 4; do register "r-$i"; done
register other-1

api_json POST /rest/v1/rollouts "{\"name\":\"spring\",\"distributionSetId\":$DS,
  \"targetFilterQuery\":\"controllerId==r-*\",\"amountGroups\":2,
  \"successCondition\":{\"condition\":\"THRESHOLD\",\"expression\":\"50\"},
  \"errorCondition\":{\"condition\":\"THRESHOLD\",\"expression\":\"50\"}}"
expect_status 201 "create a rollout of two groups"
R=$(jq -r .id <"$T/body")
expect_jq '.name == "spring" and .status == "ready" and .totalGroups == 2' "  name, status ready, 2 groups"
expect_jq ".distributionSetId == $DS and .targetFilterQuery == \"controllerId==r-*\"" "  its set and filter"
expect_jq '.totalTargetsPerStatus | keys == ["cancelled","error","finished","notstarted","running","scheduled"]' \
    "  totalTargetsPerStatus with hawkBit's six keys"
expect_jq "._links.self.href == \"$BASE/rest/v1/rollouts/$R\" and (._links.start.href | endswith(\"/start\"))" \
    "  absolute links: self, start"
expect_jq '[._links | has("pause", "resume", "groups", "distributionset", "triggerNextGroup")] | all' \
    "  and pause, resume, groups, distributionset, triggerNextGroup"
expect_jq '(.createdAt | type) == "number" and .createdAt > 1000000000000' "  times in milliseconds"

api GET "/rest/v1/rollouts/$R/deploygroups"
expect_status 200 "its deployment groups"
expect_jq '.total == 2 and .size == 2 and ([.content[].status] == ["scheduled","scheduled"])' "  two, scheduled"
expect_jq '.content[0].successCondition == {"condition":"THRESHOLD","expression":"50"} and .content[0].errorCondition.expression == "50" and .content[0].errorAction.action == "PAUSE"' \
    "  with the rollout's conditions"
api GET "/rest/v1/rollouts/$R/deploygroups?limit=1&offset=1"
expect_jq '.total == 2 and .size == 1' "  paged"

api POST "/rest/v1/rollouts/$R/start"
expect_status 200 "start"
api GET "/rest/v1/rollouts/$R"
expect_jq '.status == "running" and .totalTargets == 4 and .totalTargetsPerStatus.notstarted == 4' \
    "  running, the filter's 4 targets, not started"
api POST "/rest/v1/rollouts/$R/start"
expect_status 400 "a second start"
expect_json .errorCode hawkbit.server.error.rollout.illegalState "  hawkBit's code"

api GET "/rest/v1/rollouts/$R/deploygroups"
G1=$(jq -r '.content[0].id' <"$T/body")
G2=$(jq -r '.content[1].id' <"$T/body")
expect_jq '[.content[].totalTargets] == [2,2] and .content[0].status == "running" and .content[1].status == "scheduled"' \
    "  2 and 2 targets, the first group runs"
api GET "/rest/v1/rollouts/$R/deploygroups/$G1/targets"
expect_status 200 "the first group's targets"
expect_jq '.total == 2 and ([.content[].controllerId] | all(startswith("r-"))) and (.content[0]._links.self.href | contains("/rest/v1/targets/r-"))' \
    "  two r- targets with links"
api GET "/rest/v1/rollouts/$R/deploygroups/$G1"
expect_jq ".id == $G1 and .totalTargets == 2 and ._links.self.href == \"$BASE/rest/v1/rollouts/$R/deploygroups/$G1\"" "  one group"

api POST "/rest/v1/rollouts/$R/pause"
expect_status 200 "pause"
api GET "/rest/v1/rollouts/$R"
expect_json .status paused "  paused"
api POST "/rest/v1/rollouts/$R/pause"
expect_status 400 "pausing a paused rollout"
api POST "/rest/v1/rollouts/$R/resume"
expect_status 200 "resume"
api GET "/rest/v1/rollouts/$R"
expect_json .status running "  running"

api POST "/rest/v1/rollouts/$R/triggerNextGroup"
expect_status 200 "triggerNextGroup"
api GET "/rest/v1/rollouts/$R/deploygroups/$G2"
expect_json .status running "  the second group runs"
api POST "/rest/v1/rollouts/$R/triggerNextGroup"
expect_status 400 "  no group left to trigger"

# One device fails: retry puts it in a follow-up group.
ddi GET r-1
A=$(action_id_of_href "$(link deploymentBase)")
feedback r-1 "$A" closed failure "broken"
expect_status 200 "r-1 fails"
api POST "/rest/v1/rollouts/$R/retry"
expect_status 201 "retry"
expect_jq '.totalGroups == 3' "  a third group"
api POST "/rest/v1/rollouts/$R/retry"
expect_status 400 "  nothing left to retry"

api GET "/rest/v1/rollouts"
expect_jq '.total == 1 and .size == 1 and .content[0].id == '"$R" "the list"

# --- errors -------------------------------------------------------------
api GET /rest/v1/rollouts/999999
expect_status 404 "an unknown rollout"
expect_jq '.errorCode == "hawkbit.server.error.repo.entityNotFound" and (.exceptionClass | endswith("EntityNotFoundException")) and .info.entityId == "999999"' \
    "  hawkBit's ExceptionInfo"
api_json POST /rest/v1/rollouts '{"name":"x"}'
expect_status 400 "a rollout without set and filter"
api_json POST /rest/v1/rollouts '{"name":"x","distributionSetId":999999,"targetFilterQuery":"id==*"}'
expect_status 404 "an unknown set"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"nosuch==1\"}"
expect_status 400 "a filter over an unknown field"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"dynamic\":true}"
expect_status 400 "a dynamic rollout"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"groups\":[{\"name\":\"a\",\"targetFilterQuery\":\"name==a\"}]}"
expect_status 400 "a group filter"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"successCondition\":{\"condition\":\"THRESHOLD\",\"expression\":\"101\"}}"
expect_status 400 "a condition over 100"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"amountGroups\":0}"
expect_status 400 "amountGroups 0"
api_json POST /rest/v1/rollouts "{\"name\":\"x\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"type\":\"soft\"}"
expect_status 400 "a type other than forced"
api GET /rest/v1/rollouts
expect_json .total 1 "  none of the refused ones was stored"
api_json POST /rest/v1/rollouts "{\"name\":\"g\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",
  \"groups\":[{\"name\":\"first\",\"targetPercentage\":25.5},{\"name\":\"rest\"}]}"
expect_status 201 "explicit groups with a fractional percentage"
R2=$(jq -r .id <"$T/body")
api GET "/rest/v1/rollouts/$R2/deploygroups"
expect_jq '[.content[].name] == ["first","rest"] and .content[0].targetPercentage == 26' "  rounded up to 26 %"
AT=$(( ($(date +%s) + 3600) * 1000 ))
api_json POST /rest/v1/rollouts "{\"name\":\"later\",\"distributionSetId\":$DS,\"targetFilterQuery\":\"id==*\",\"startAt\":$AT}"
expect_status 201 "a rollout with startAt"
expect_jq ".startAt == $AT and .status == \"ready\"" "  startAt kept in ms, ready"

api DELETE "/rest/v1/rollouts/$R2"
expect_status 204 "delete"
api GET "/rest/v1/rollouts/$R2"
expect_status 404 "  gone"

# Permissions: a read-only user (Basic) reads, cannot write.
echo 'readonly-pass-1' | "$FALCONET" -c "$T/settings.yaml" user add ro readonly 2>>"$T/cli.log"
req GET "/rest/v1/rollouts/$R" -u ro:readonly-pass-1
expect_status 200 "a readonly user reads"
req POST "/rest/v1/rollouts/$R/pause" -u ro:readonly-pass-1
expect_status 403 "  but does not pause"
expect_json .errorCode hawkbit.server.error.insufficientPermission "  hawkBit's code"
finish
