#!/usr/bin/env bash
# Every device says why it is where it is: the "target" of the device JSON
# (detail and list) names the software, where it comes from and, when
# nothing is offered, why not, for each of the policy's answers.  And
# assigning software that does not fit the hardware, or is older than the
# installed version without allow_downgrade, is refused with the reason
# (409) unless confirmed, for one device, in bulk and on /assign.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

# target CID: the device's target, compact.
target()
{
	api GET "/api/v1/devices/$1"
	jq -c .target <"$T/body"
}

# expect_target CID CODE REASON
expect_target()
{
	api GET "/api/v1/devices/$1"
	expect_json .target.reason_code "$2" "$1: reason_code $2"
	expect_json .target.reason "$3" "$1: $3"
}

for d in d-none d-roll d-pause d-fit d-down d-same d-pin; do
	ddi GET $d
	config_data $d '{"hw_revision":"1.0"}'
done
config_data d-down '{"sw_version":"2.0.0"}'
config_data d-same '{"sw_version":"1.2.0"}'

# --- no rollout ------------------------------------------------------------
expect_target d-none no_rollout "no running rollout on feed default"
expect_json .target.software_id null "no rollout: no software"

mkimg "$T/a.swu" 1.2.0 '1.0'
upload "$T/a.swu"
expect_status 201 "upload 1.2.0 for rev 1.0"
A=$SW_ID
mkimg "$T/b.swu" 1.1.0 '2.0'
upload "$T/b.swu"
expect_status 201 "upload 1.1.0 for rev 2.0"
B=$SW_ID

# --- a rollout -------------------------------------------------------------
api_json PATCH /api/v1/devices/d-pin '{"mode":"pinned"}'
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$A}"
expect_status 201 "a rollout of 1.2.0"
R1=$(jq -r .id <"$T/body")
expect_target d-roll offer "1.2.0 from rollout #$R1"
expect_json '[.target.software_id, .target.source, .target.rollout_id, .target.version]' \
    "[$A,\"rollout\",$R1,\"1.2.0\"]" "the offer names set, source, rollout and version"
expect_target d-same up_to_date "1.2.0 from rollout #$R1: installed"
expect_target d-down downgrade "1.2.0 is older than installed 2.0.0: allow downgrade"
expect_target d-pin pinned "pinned: gets no updates until its mode changes"

# The poll agrees: d-roll is offered the set, d-down and d-same nothing.
ddi GET d-roll
check "d-roll's poll offers an update" [ -n "$(link deploymentBase)" ]
ACT=$(action_id_of_href "$(link deploymentBase)")
ddi GET d-down
check "d-down's poll offers nothing" [ -z "$(link deploymentBase)" ]
expect_target d-roll updating "1.2.0 from rollout #$R1: offered"

# --- parked after a failure --------------------------------------------------
feedback d-roll "$ACT" closed failure "Compatible mismatch: bundle is for x"
expect_status 200 "d-roll reports a failure"
expect_target d-roll parked "parked after a failure: force to retry"
ddi GET d-roll
check "the parked device's poll offers nothing" [ -z "$(link deploymentBase)" ]
api_json PATCH /api/v1/devices/d-roll '{"force":true}'
expect_target d-roll offer "1.2.0 from rollout #$R1"

# --- a paused rollout --------------------------------------------------------
api_json PATCH "/api/v1/rollouts/$R1" '{"paused":true}'
expect_status 200 "pause rollout #$R1"
expect_target d-pause rollout_paused "rollout #$R1 is paused"
expect_json .target.rollout_id "$R1" "the paused rollout is named"
api_json PATCH "/api/v1/rollouts/$R1" '{"paused":false}'
expect_target d-pause offer "1.2.0 from rollout #$R1"

# --- the list says the same as the detail -----------------------------------
api GET '/api/v1/devices?limit=100'
expect_json '[.devices[] | select(.controller_id == "d-pause") | .target.reason]' \
    "[\"1.2.0 from rollout #$R1\"]" "the list carries the target too"
expect_json '[.devices[] | select(.target == null)] | length' 0 "every row has a target"

# --- assignment that does not fit ---------------------------------------------
api_json PATCH /api/v1/devices/d-fit "{\"mode\":\"assigned\",\"assigned_software_id\":$B}"
expect_status 409 "assigning a set for other hardware is refused"
expect_json .error assignment_refused
expect_json .reason_code incompatible
expect_jq '.detail | test("1.1.0 does not fit this hardware")' "the refusal says why"
api GET /api/v1/devices/d-fit
expect_json .mode rollout "nothing changed"
api_json PATCH /api/v1/devices/d-fit "{\"mode\":\"assigned\",\"assigned_software_id\":$B,\"confirm\":true}"
expect_status 200 "confirmed, the assignment is made"
expect_json 'has("confirm")' false "confirm is no device field"
expect_target d-fit incompatible "assigned 1.1.0: does not fit this hardware"
ddi GET d-fit
check "the poll offers nothing either" [ -z "$(link deploymentBase)" ]

# --- assignment of an older version -----------------------------------------
api_json PATCH /api/v1/devices/d-down "{\"mode\":\"assigned\",\"assigned_software_id\":$A}"
expect_status 409 "assigning an older version is refused"
expect_json .reason_code downgrade
expect_jq '.detail | test("older than installed 2.0.0")'
api_json PATCH /api/v1/devices/d-down "{\"mode\":\"assigned\",\"assigned_software_id\":$A,\"allow_downgrade\":true}"
expect_status 200 "with allow_downgrade in the same change it is taken"
expect_target d-down offer "1.2.0 assigned"
api_json PATCH /api/v1/devices/d-down '{"allow_downgrade":false}'
expect_target d-down downgrade "1.2.0 is older than installed 2.0.0: allow downgrade"

# --- in bulk ---------------------------------------------------------------------
api_json POST /api/v1/devices/bulk "{\"ids\":[\"d-none\",\"d-same\"],\"patch\":{\"mode\":\"assigned\",\"assigned_software_id\":$B}}"
expect_status 409 "a bulk assignment that does not fit is refused"
expect_json '[.refused[].controller_id] | sort' '["d-none","d-same"]' "each device refused is listed"
expect_json '[.refused[].reason_code] | unique' '["incompatible"]'
api GET /api/v1/devices/d-none
expect_json .mode rollout "nothing changed in bulk"
api_json POST /api/v1/devices/bulk "{\"ids\":[\"d-none\"],\"patch\":{\"mode\":\"assigned\",\"assigned_software_id\":$B},\"confirm\":true}"
expect_status 200 "confirmed in bulk"
expect_json .updated 1

# --- POST /assign ------------------------------------------------------------------
api_json POST /api/v1/devices/d-same/assign "{\"distribution_id\":$B}"
expect_status 409 "/assign of a set that does not fit is refused"
expect_json .reason_code incompatible
api_json POST /api/v1/devices/d-same/assign "{\"distribution_id\":$B,\"confirm\":true}"
expect_status 201 "/assign confirmed"

# --- the other modes -----------------------------------------------------------------
api_json PATCH /api/v1/devices/d-pin '{"mode":"assigned","assigned_software_id":null}'
expect_target d-pin no_assignment "assigned mode, but no software is assigned"
api_json PATCH /api/v1/devices/d-pin '{"mode":"latest"}'
expect_target d-pin offer "1.2.0, the newest software that fits"

finish
