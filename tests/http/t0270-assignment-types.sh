#!/usr/bin/env bash
# Assignments and actions as hawkBit has them, over /rest/v1, DDI and
# /api/v1:
#  - POST distributionsets/{id}/assignedTargets and targets/{id}/assignedDS:
#    the response body, 404 for unknown targets and sets, 400 for an
#    incomplete set, a bad type or a window that never opens;
#  - each type's deploymentBase (forced, soft, downloadonly, timeforced
#    switching at its force time), a maintenance window unavailable and
#    then available, the poll polling sooner before it opens;
#  - status entries: the retrieved and download entries, the device's
#    messages in order with its code, the server's text only when empty,
#    the cancel channel's texts first; downloaded closing only a
#    download-only action;
#  - supersede rules, already assigned, an installed set assigned again;
#  - cancel and force quit with their 405s;
#  - MgmtAction and MgmtActionStatus field by field, paging, sort, q;
#  - 403 for a token without device.write; the /api/v1 twins.
. "$(dirname "$0")/lib.sh"

start_server 'poll:
  interval: "00:00:30"
  running_interval: "00:00:10"'
TOKEN=$(make_token admin)
R=/rest/v1
RETRIEVED="Update Server: Target retrieved update action and should start now the download."

# register CID: a device that has polled and sent its attributes.
register()
{
	ddi GET "$1"
	config_data "$1" '{"hw_revision":"1.0"}'
}

# assign DS JSON_ENTRY: POST assignedTargets with one entry; sets ACT to
# the new action's id ("" if none).
assign()
{
	api_json POST "$R/distributionsets/$1/assignedTargets" "[$2]"
	ACT=$(jq -r '.assignedActions[-1].id // empty' <"$T/body" 2>/dev/null)
}

# newest CID ACTION: GET the newest status entry into the body.
newest()
{
	api GET "$R/targets/$1/actions/$2/status?offset=0&limit=1&sort=id:DESC"
	jq '.content[0]' <"$T/body" >"$T/newest" && cp "$T/newest" "$T/body"
}

# deployment CID: poll, then GET its deploymentBase; sets DB and DACT.
deployment()
{
	ddi GET "$1"
	SLEEP=$(jq -r .config.polling.sleep <"$T/body")
	DB=$(link deploymentBase)
	CANCEL=$(link cancelAction)
	DACT=$(action_id_of_href "$DB")
	[ -n "$DB" ] && req GET "$DB"
	return 0
}

for v in 1.0.0 2.0.0; do
	mkimg "$T/os-$v.swu" "$v" '1.0'
	upload "$T/os-$v.swu"
	expect_status 201 "upload $v"
	eval "S${v//./}=\$SW_ID"
done
for d in dev-a dev-b dev-c dev-d dev-e dev-f dev-g dev-h; do register $d; done

# --- assignedTargets: the answer ------------------------------------------
assign "$S100" '{"id":"dev-a","type":"soft"}'
expect_status 200 "assign soft -> 200"
expect_json '[.alreadyAssigned, .assigned, .total, (.assignedActions | length)]' \
    '[0,1,1,1]' "  alreadyAssigned 0, assigned 1, total 1"
expect_jq ".assignedActions[0]._links.self.href == \"$BASE$R/targets/dev-a/actions/$ACT\"" \
    "  the action's self link"
expect_jq '.assignedActions[0].id | type == "number"' "  the id is a number"
A1=$ACT
api GET "/api/v1/devices/dev-a"
expect_json '[.mode, .assigned_distribution_id]' "[\"assigned\",$S100]" \
    "  the device's mode becomes assigned to the set"

# --- soft over DDI, the retrieved entry -------------------------------------
deployment dev-a
check "the poll offers the assigned action at once" [ "$DACT" = "$A1" ]
expect_json '[.deployment.download, .deployment.update]' '["attempt","attempt"]' \
    "soft: download and update attempt"
expect_jq '.deployment | has("maintenanceWindow") | not' "  no maintenanceWindow without a window"
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
newest dev-a "$A1"
expect_json '[.type, .messages]' "[\"retrieved\",[\"$RETRIEVED\"]]" \
    "GET deploymentBase adds a retrieved entry"
api GET "$R/targets/dev-a/actions/$A1/status"
N1=$(jq .total <"$T/body")
req GET "$DB"
api GET "$R/targets/dev-a/actions/$A1/status"
expect_json .total "$N1" "  a second GET adds none (the newest is retrieved)"
api GET "$R/targets/dev-a/actions/$A1"
expect_json .status retrieved "  the action's status is retrieved"

# --- the download entry -------------------------------------------------------
req GET "$DL" -H 'Range: bytes=0-9'
expect_status 206 "a range request"
api GET "$R/targets/dev-a/actions/$A1/status"
expect_json .total "$N1" "  adds no entry"
req GET "$DL" -o /dev/null
expect_status 200 "a full download"
newest dev-a "$A1"
expect_json '[.type, .messages]' \
    "[\"download\",[\"Update Server: Target downloads ${DL#"$BASE"}\"]]" \
    "  adds a download entry naming the path"
req GET "$DL" -o /dev/null
api GET "$R/targets/dev-a/actions/$A1/status"
expect_json .total "$((N1 + 1))" "  a second one folds into it"

# --- feedback: messages in order, the code, the server's text ---------------
ddi_json POST dev-a "/deploymentBase/$A1/feedback" \
    '{"status":{"execution":"proceeding","result":{"finished":"none"},"code":7,"details":["first","second"]}}'
expect_status 200 "proceeding with details and a code"
newest dev-a "$A1"
expect_json '[.type, .messages, .code]' \
    '["running",["first","second","Device reported status code: 7"],7]' \
    "  running, the details in order, then the code line"
expect_jq '(.reportedAt | type == "number") and .reportedAt > 1700000000000 and (.timestamp | type == "number") and (.id | type == "number")' \
    "  reportedAt and timestamp in ms, a numeric id"
expect_json 'keys' '["code","id","messages","reportedAt","timestamp","type"]' \
    "  MgmtActionStatus's fields"
for x in "scheduled running" "resumed running" "download download" \
    "canceled canceled" "rejected warning"; do
	set -- $x
	feedback dev-a "$A1" "$1" none "said $1"
	newest dev-a "$A1"
	expect_json '[.type, .messages]' "[\"$2\",[\"said $1\"]]" "  $1 -> $2"
done
feedback dev-a "$A1" downloaded none "File checksum OK."
newest dev-a "$A1"
expect_json .type downloaded "  downloaded on a soft action -> entry downloaded"
api GET "$R/targets/dev-a/actions/$A1"
expect_json '[.active, .status]' '[true,"retrieved"]' "  but the action stays open"
feedback dev-a "$A1" closed success
newest dev-a "$A1"
expect_json '[.type, .messages]' '["finished",["Update Server: Target reported closed (success)."]]' \
    "closed/success without details: finished, the server's text"
api GET "$R/targets/dev-a/actions/$A1"
expect_json '[.type, .active, .status, .forceType]' '["update",false,"finished","soft"]' \
    "  the action: finished"
api GET "$R/targets/dev-a/actions/$A1/status?limit=500"
expect_jq '[.content[].type] | index(null) == null' "  every entry has a type"

# --- the installed set assigned again; already assigned ----------------------
assign "$S100" '{"id":"dev-a"}'
expect_json '[.alreadyAssigned, .assigned]' '[0,1]' \
    "the installed set assigned again -> a new action"
A2=$ACT
deployment dev-a
check "  offered although installed" [ "$DACT" = "$A2" ]
expect_json '[.deployment.download, .deployment.update]' '["forced","forced"]' \
    "  forced by default: download and update forced"
assign "$S100" '{"id":"dev-a"}'
expect_json '[.alreadyAssigned, .assigned, .total, (.assignedActions | length)]' \
    '[1,0,1,0]' "the same set while open -> alreadyAssigned"

# --- supersede: retrieved -> canceling, the device sees the cancel first ----
assign "$S200" '{"id":"dev-a"}'
expect_json .assigned 1 "another set while the first is retrieved"
A3=$ACT
api GET "$R/targets/dev-a/actions/$A2"
expect_json '[.type, .status, .active]' '["cancel","canceling",true]' \
    "  the retrieved action is canceling"
expect_jq "._links.canceledaction.href == \"$BASE$R/targets/dev-a/actions/$A2\"" \
    "  with its canceledaction link"
newest dev-a "$A2"
expect_json '[.type, .messages]' \
    '["canceling",["Update Server: cancel obsolete action due to new update"]]' \
    "  entry canceling"
deployment dev-a
check "  the poll shows cancelAction of the old action" \
    [ "$(action_id_of_href "$CANCEL")" = "$A2" -a -z "$DB" ]
ddi_json POST dev-a "/cancelAction/$A2/feedback" \
    '{"status":{"execution":"closed","result":{"finished":"success"},"details":["Action canceled."]}}'
expect_status 200 "the device confirms"
newest dev-a "$A2"
expect_json '[.type, .messages]' \
    '["canceled",["Action canceled.","Update Server: Cancellation completion is finished successfully."]]' \
    "  canceled: the details, then the server's closing text"
deployment dev-a
check "  then the new action is offered" [ "$DACT" = "$A3" ]

# Never retrieved -> canceled at once.
assign "$S200" '{"id":"dev-b"}'
B1=$ACT
assign "$S100" '{"id":"dev-b"}'
B2=$ACT
api GET "$R/targets/dev-b/actions/$B1"
expect_json '[.type, .status, .active]' '["cancel","canceled",false]' \
    "a never retrieved action is canceled at once"
deployment dev-b
check "  and the new one offered" [ "$DACT" = "$B2" ]

# --- cancel channel texts; deployment feedback on a canceling action -------
api DELETE "$R/targets/dev-b/actions/$B2?force=true"
expect_status 405 "force quit of an action not canceling -> 405"
expect_json .errorCode hawkbit.server.error.action.notForceQuitable
api DELETE "$R/targets/dev-b/actions/$B2"
expect_status 204 "cancel -> 204"
newest dev-b "$B2"
expect_json '[.type, .messages]' '["canceling",["Update Server: manual cancelation requested"]]' \
    "  entry canceling"
api DELETE "$R/targets/dev-b/actions/$B2"
expect_status 405 "cancel again while canceling -> 405"
expect_json .errorCode hawkbit.server.error.action.notCancelable
ddi_json POST dev-b "/cancelAction/$B2/feedback" \
    '{"status":{"execution":"rejected","result":{"finished":"success"},"details":["Too late."]}}'
newest dev-b "$B2"
expect_json '[.type, .messages]' \
    '["cancel_rejected",["Update Server: Target rejected the cancellation request.","Too late."]]' \
    "rejected cancel: cancel_rejected, the server's text first"
api GET "$R/targets/dev-b/actions/$B2"
expect_json '[.type, .status]' '["update","retrieved"]' "  the action runs again"
api DELETE "$R/targets/dev-b/actions/$B2"
ddi_json POST dev-b "/cancelAction/$B2/feedback" \
    '{"status":{"execution":"closed","result":{"finished":"failure"},"details":["No."]}}'
newest dev-b "$B2"
expect_json '[.type, .messages]' \
    '["error",["Update Server: Target was not able to complete cancellation.","No."]]' \
    "closed/failure cancel: error"
api DELETE "$R/targets/dev-b/actions/$B2"
feedback dev-b "$B2" closed success "Software bundle installed successfully."
expect_status 200 "deployment feedback on a canceling action -> 200"
api GET "$R/targets/dev-b/actions/$B2"
expect_json '[.type, .status, .active]' '["update","finished",false]' \
    "  closed/success finishes it"
api DELETE "$R/targets/dev-b/actions/$B2"
expect_status 405 "cancel of a closed action -> 405"

# --- force quit -----------------------------------------------------------
assign "$S200" '{"id":"dev-c"}'
C1=$ACT
deployment dev-c
api DELETE "$R/targets/dev-c/actions/$C1"
api DELETE "$R/targets/dev-c/actions/$C1?force=true"
expect_status 204 "force quit of a canceling action -> 204"
newest dev-c "$C1"
expect_json '[.type, .messages]' '["canceled",["Update Server: A force quit has been performed."]]' \
    "  entry canceled, the force quit text"
api GET "$R/targets/dev-c/actions/$C1"
expect_json '[.type, .status, .active]' '["cancel","canceled",false]' "  closed"
api DELETE "$R/targets/dev-c/actions/$C1?force=true"
expect_status 405 "force quit again -> 405"

# --- downloadonly ---------------------------------------------------------
assign "$S200" '{"id":"dev-d","type":"downloadonly"}'
D1=$ACT
deployment dev-d
expect_json '[.deployment.download, .deployment.update]' '["forced","skip"]' \
    "downloadonly: download forced, update skip"
feedback dev-d "$D1" downloaded none "File checksum OK."
expect_status 200 "downloaded"
api GET "$R/targets/dev-d/actions/$D1"
expect_json '[.type, .status, .active, .forceType]' '["update","downloaded",false,"downloadonly"]' \
    "  closes a download-only action as downloaded"
newest dev-d "$D1"
expect_json '[.type, .messages]' '["downloaded",["File checksum OK."]]' "  entry downloaded"
ddi GET dev-d
check "  configData is asked for again" [ -n "$(link configData)" ]
api GET /api/v1/devices/dev-d
expect_json '.installed_version' null "  the installed version is unchanged"
ddi GET dev-d
check "  the policy does not install the downloaded set" [ -z "$(link deploymentBase)" ]
api GET "/api/v1/actions/$D1"
expect_json '[.status, .type]' '["downloaded","downloadonly"]' "  /api/v1 shows downloaded"

# A device that answers update "skip" with closed/success (SWUpdate's
# "Skipped Update.") has installed nothing.
assign "$S200" '{"id":"dev-h","type":"downloadonly"}'
H1=$ACT
deployment dev-h
feedback dev-h "$H1" closed success "Skipped Update."
api GET "$R/targets/dev-h/actions/$H1"
expect_json '[.status, .active]' '["downloaded",false]' \
    "closed/success on a download-only action: downloaded, not finished"
newest dev-h "$H1"
expect_json '[.type, .messages[0]]' '["downloaded","Skipped Update."]' "  entry downloaded"
api GET /api/v1/devices/dev-h
expect_json .installed_version null "  nothing installed"

# --- timeforced -------------------------------------------------------------
FT=$(($(date +%s%3N) + 3000))
assign "$S200" "{\"id\":\"dev-e\",\"type\":\"timeforced\",\"forcetime\":$FT}"
E1=$ACT
deployment dev-e
C_BEFORE=$DB
expect_json '[.deployment.download, .deployment.update]' '["attempt","attempt"]' \
    "timeforced before its time: attempt"
api GET "$R/targets/dev-e/actions/$E1"
expect_json '[.forceType, .forceTime]' "[\"timeforced\",$FT]" "  forceType and forceTime"
while [ "$(date +%s%3N)" -le "$FT" ]; do sleep 0.2; done
deployment dev-e
expect_json '[.deployment.download, .deployment.update]' '["forced","forced"]' \
    "  after it: forced"
check "  the ?c= value changed" [ "$DB" != "$C_BEFORE" ]
api_json POST "$R/distributionsets/$S100/assignedTargets" '[{"id":"dev-e","type":"timeforced"}]'
expect_status 400 "timeforced without forcetime -> 400"

# --- maintenance window -----------------------------------------------------
OPEN=$(($(date +%s) + 5))
SCHED=$(date -u -d "@$OPEN" '+%-S %-M %-H %-d %-m ? %Y')
assign "$S200" "{\"id\":\"dev-f\",\"maintenanceWindow\":{\"schedule\":\"$SCHED\",\"duration\":\"00:01:00\",\"timezone\":\"+00:00\"}}"
expect_status 200 "assign with a window opening in 5 s"
F1=$ACT
deployment dev-f
expect_json '[.deployment.download, .deployment.update, .deployment.maintenanceWindow]' \
    '["forced","skip","unavailable"]' "window closed: update skip, unavailable"
check "  the poll sleeps less before the window ($SLEEP)" \
    [ "$SLEEP" \< "00:00:05" ]
C_CLOSED=$DB
feedback dev-f "$F1" closed success "Skipped Update."
api GET "$R/targets/dev-f/actions/$F1"
expect_json '[.status, .active]' '["retrieved",true]' \
    "  a success reported while told to skip: the action stays open"
newest dev-f "$F1"
expect_json '[.type, .messages[0]]' '["warning","Skipped Update."]' "  entry warning"
deployment dev-f
api GET "$R/targets/dev-f/actions/$F1"
expect_json '.maintenanceWindow' \
    "{\"schedule\":\"$SCHED\",\"duration\":\"00:01:00\",\"timezone\":\"+00:00\",\"nextStartAt\":${OPEN}000}" \
    "  MgmtAction's maintenanceWindow with nextStartAt"
api GET "/api/v1/actions/$F1"
expect_json '.maintenance_window | [.state, .next_start]' "[\"closed\",$OPEN]" \
    "  /api/v1: closed, next_start"
while [ "$(date +%s)" -lt "$OPEN" ]; do sleep 0.2; done
deployment dev-f
expect_json '[.deployment.download, .deployment.update, .deployment.maintenanceWindow]' \
    '["forced","forced","available"]' "window open: available, update = download"
check "  the ?c= value changed" [ "$DB" != "$C_CLOSED" ]
check "  the running interval again ($SLEEP)" [ "$SLEEP" = "00:00:10" ]
api GET "/api/v1/actions/$F1"
expect_json '.maintenance_window.state' open "  /api/v1: open"

bad_window()
{
	api_json POST "$R/distributionsets/$S100/assignedTargets" \
	    "[{\"id\":\"dev-f\",\"maintenanceWindow\":$1}]"
	expect_status 400 "$2 -> 400"
	expect_json .errorCode hawkbit.server.error.maintenanceScheduleInvalid "  maintenanceScheduleInvalid"
}
bad_window '{"schedule":"0 0 0 1 1 ? 2020","duration":"00:10:00","timezone":"+00:00"}' \
    "a window that never opens again"
bad_window '{"schedule":"0 0 0 * * ?"}' "a schedule alone"
bad_window '{"schedule":"0 0 0 * * ?","duration":"10 minutes","timezone":"+00:00"}' "a bad duration"
bad_window '{"schedule":"0 0 0 * * ?","duration":"00:10:00","timezone":"+25:00"}' "a bad time zone"
bad_window '{"schedule":"not cron","duration":"00:10:00","timezone":"+00:00"}' "a bad schedule"

# --- errors of the assignment ------------------------------------------------
api_json POST "$R/distributionsets/$S100/assignedTargets" '[{"id":"dev-f","type":"hard"}]'
expect_status 400 "an unknown type -> 400"
api_json POST "$R/distributionsets/$S100/assignedTargets" '[{"id":"nobody"}]'
expect_status 404 "an unknown target -> 404"
expect_json .errorCode hawkbit.server.error.repo.entityNotFound
api_json POST "$R/distributionsets/999999/assignedTargets" '[{"id":"dev-f"}]'
expect_status 404 "an unknown set -> 404"
api_json POST /api/v1/distributions '{"name":"bare","version":"1"}'
BARE=$(jq -r .id <"$T/body")
api_json POST "$R/distributionsets/$BARE/assignedTargets" '[{"id":"dev-f"}]'
expect_status 400 "an incomplete set -> 400"
expect_json .errorCode hawkbit.server.error.distributionset.incomplete
api_json POST "$R/distributionsets/$S100/assignedTargets" '{"id":"dev-f"}'
expect_status 400 "not an array -> 400"

# --- assignedDS ---------------------------------------------------------------
api_json POST "$R/targets/dev-f/assignedDS" "[{\"id\":$S100,\"type\":\"soft\"}]"
expect_status 200 "targets/{id}/assignedDS -> 200"
expect_json '[.assigned, .total]' '[1,1]'
F2=$(jq -r '.assignedActions[0].id' <"$T/body")
api GET "$R/targets/dev-f/actions/$F1"
expect_json .status canceling "  the retrieved action with the window is canceling"
api_json POST "$R/targets/nobody/assignedDS" "[{\"id\":$S100}]"
expect_status 404 "assignedDS of an unknown target -> 404"
api_json POST "$R/targets/dev-f/assignedDS" '[{"id":999999}]'
expect_status 404 "assignedDS of an unknown set -> 404"

# --- MgmtAction field by field --------------------------------------------------
api GET "$R/targets/dev-a/actions/$A1"
expect_status 200 "GET a target's action"
expect_json 'del(._links) | keys' \
    '["active","createdAt","createdBy","detailStatus","forceType","id","lastModifiedAt","lastModifiedBy","lastStatusCode","status","type","weight"]' \
    "  MgmtAction's fields (no window)"
expect_json '[.id, .lastStatusCode, .weight, .createdBy]' "[$A1,7,1000,\"system\"]" \
    "  lastStatusCode is the device's last code"
expect_json '._links | keys' '["distributionset","self","status","target"]' "  its links"
expect_jq "._links.target == {\"href\":\"$BASE$R/targets/dev-a\",\"name\":\"dev-a\"}" "  target link and name"
expect_jq "._links.distributionset == {\"href\":\"$BASE$R/distributionsets/$S100\",\"name\":\"os-1.0.0.swu:1.0.0\"}" \
    "  distributionset link, name:version"
expect_jq "._links.status.href == \"$BASE$R/targets/dev-a/actions/$A1/status?offset=0&limit=50&sort=id%3ADESC\"" \
    "  status link"
api GET "$R/targets/dev-b/actions/$A1"
expect_status 404 "another target's action -> 404"
api GET "$R/targets/dev-a/actions/999999"
expect_status 404 "an unknown action -> 404"

# --- lists: paging, sort, q ---------------------------------------------------
api GET "$R/targets/dev-a/actions"
expect_status 200 "a target's actions"
expect_json '[.total, .size, [.content[].id]]' "[3,3,[$A3,$A2,$A1]]" \
    "  newest first by default"
expect_jq "(.content[0]._links | keys) == [\"self\"] and .content[0]._links.self.href == \"$BASE$R/targets/dev-a/actions/$A3\"" \
    "  list entries link to themselves"
api GET "$R/targets/dev-a/actions?sort=id:ASC&limit=1&offset=1"
expect_json '[.total, .size, .content[0].id]' "[3,1,$A2]" "  sort=id:ASC, limit, offset"
api GET "$R/targets/dev-a/actions?q=status==pending"
expect_json '[.content[].id]' "[$A3]" "  q=status==pending: the open one"
api GET "$R/targets/dev-a/actions?q=detailStatus==canceled;id=lt=$A3"
expect_json '[.content[].id]' "[$A2]" "  q on detailStatus and id"
api GET "$R/targets/dev-a/actions?sort=nope:ASC"
expect_status 400 "an unknown sort field -> 400"
api GET "$R/targets/dev-a/actions?q=nope==1"
expect_status 400 "an unknown q field -> 400"
api GET "$R/actions?limit=500"
expect_status 200 "GET /rest/v1/actions"
expect_jq ".total == 11 and (.content | length) == .total and .content[0].id > .content[1].id" \
    "  every action, newest first"
api GET "$R/actions?q=target.controllerId==dev-d"
expect_json '[.content[].id]' "[$D1]" "  q=target.controllerId"
api GET "$R/actions/$D1"
expect_status 200 "GET /rest/v1/actions/{id}"
expect_jq "._links.self.href == \"$BASE$R/actions/$D1\" and ._links.target.name == \"dev-d\"" \
    "  with its links"
api GET "$R/actions/999999"
expect_status 404 "an unknown action -> 404"

# Status paging and sort.
api GET "$R/targets/dev-a/actions/$A1/status"
TOTAL=$(jq .total <"$T/body")
expect_jq ".size == $TOTAL and .content[0].id > .content[1].id" "status: newest first by default"
api GET "$R/targets/dev-a/actions/$A1/status?sort=id:ASC&limit=2"
expect_json '[.total, .size, .content[0].type, .content[0].messages[0]]' \
    "[$TOTAL,2,\"running\",\"Update Server: Assignment initiated by the operator.\"]" \
    "  sort=id:ASC, limit=2: the assignment first"
api GET "$R/targets/dev-a/actions/$A1/status?offset=$((TOTAL - 1))&limit=5"
expect_json '.size' 1 "  offset near the end"
api GET "$R/targets/dev-a/actions/$A1/status?sort=type:ASC"
expect_status 400 "  an unknown sort field -> 400"

# --- permissions ------------------------------------------------------------
api_json POST /api/v1/tokens '{"name":"reader","permissions":["device.read"]}'
READER=$(jq -r '.token // empty' <"$T/body")
if [ -n "$READER" ]; then
	req POST "$R/distributionsets/$S100/assignedTargets" \
	    -H "Authorization: Bearer $READER" -H 'Content-Type: application/json' \
	    --data-binary '[{"id":"dev-a"}]'
	expect_status 403 "assign without device.write -> 403"
	req DELETE "$R/targets/dev-a/actions/$A3" -H "Authorization: Bearer $READER"
	expect_status 403 "cancel without device.write -> 403"
	req GET "$R/targets/dev-a/actions/$A3" -H "Authorization: Bearer $READER"
	expect_status 200 "read with device.read -> 200"
	req POST /api/v1/devices/dev-a/assign -H "Authorization: Bearer $READER" \
	    -H 'Content-Type: application/json' --data-binary "{\"distribution_id\":$S100}"
	expect_status 403 "/api/v1 assign without device.write -> 403"
else
	skip "a token limited to device.read ($STATUS: $(body_excerpt))"
fi

# --- /api/v1 ---------------------------------------------------------------
api_json POST /api/v1/devices/dev-g/assign \
    "{\"distribution_id\":$S100,\"type\":\"soft\",\"maintenance_window\":{\"schedule\":\"0 0 3 * * ?\",\"duration\":\"01:00:00\",\"timezone\":\"+02:00\"}}"
expect_status 201 "POST /api/v1/devices/{id}/assign -> 201"
expect_json '[.type, .force_time, .explicit, .already_assigned, .maintenance_window.schedule, .maintenance_window.duration, .maintenance_window.timezone]' \
    '["soft",null,true,false,"0 0 3 * * ?","01:00:00","+02:00"]' "  the action's assignment fields"
expect_jq '(.maintenance_window.state | IN("open","closed")) and (.maintenance_window.next_start | type == "number")' \
    "  the window's state and next start"
EA=$(jq -r .id <"$T/body")
api_json POST /api/v1/devices/dev-g/assign "{\"distribution_id\":$S100}"
expect_status 200 "  again -> 200, already assigned"
expect_json '[.id, .already_assigned]' "[$EA,true]"
api_json POST /api/v1/devices/dev-g/assign '{"distribution_id":999999}'
expect_status 404 "  an unknown set -> 404"
expect_is_error
api_json POST /api/v1/devices/dev-g/assign "{\"distribution_id\":$S100,\"maintenance_window\":{\"schedule\":\"0 0 3 * * ?\"}}"
expect_status 400 "  a partial window -> 400"
expect_error invalid_maintenance_window
api_json POST /api/v1/devices/dev-g/assign "{\"distribution_id\":$S100,\"type\":\"nope\"}"
expect_status 400 "  a bad type -> 400"
api_json POST /api/v1/devices/dev-g/assign "{\"distribution_id\":$BARE}"
expect_status 400 "  an incomplete set -> 400"
api_json POST /api/v1/devices/nobody/assign "{\"distribution_id\":$S100}"
expect_status 404 "  an unknown device -> 404"
api POST "/api/v1/actions/$EA/force-quit"
expect_status 409 "force-quit of an action not canceling -> 409"
expect_is_error
deployment dev-g
api POST "/api/v1/actions/$EA/cancel"
expect_json .status canceling "cancel a retrieved action -> canceling"
api POST "/api/v1/actions/$EA/force-quit"
expect_status 200 "force-quit -> 200"
expect_json '[.status, .history[-1].message]' '["canceled","Update Server: A force quit has been performed."]' \
    "  canceled, the force quit entry"
api POST "/api/v1/actions/999999/force-quit"
expect_status 404 "force-quit of an unknown action -> 404"
finish
