#!/usr/bin/env bash
# A rollout's counts and its lists of devices tell the truth: "targeted" is
# the devices it reaches (its feed or filter, fitting hardware, not
# superseded by a newer rollout of the feed), the counts add up to it for
# every mix of states, the lists behind them (GET /rollouts/{id}/devices,
# GET /devices?rollout=&rollout_state=) page and match them, the preview
# counts what the rollout then reaches and warns, a rollout of other
# hardware on the same feed does not block an older one, and a rollout
# whose devices all reached an end state is finished.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rollouts.sh"

# finish_device CID success|failure [DETAIL]: poll, fetch, report.
finish_device()
{
	offered "$1" || { fail "$1 is offered an update"; return 1; }
	req GET "$(link deploymentBase)"
	feedback "$1" "$ACT" closed "$2" "${3:-done}"
	[ "$STATUS" = 200 ] || fail "$1 reports $2" "status $STATUS"
}

# offers CID VERSION: 0 if the poll offers VERSION (ACT its action).
offers()
{
	offered "$1" || return 1
	req GET "$(link deploymentBase)"
	[ "$(jq -r '.deployment.chunks[0].version' <"$T/body")" = "$2" ]
}

# adds_up ROLLOUT NAME: the counts add up to targeted, and every list
# behind them (both APIs) has exactly its count of devices.
adds_up()
{
	local r=$1 name=$2 c k n m
	api GET "/api/v1/rollouts/$r"
	c=$(jq -c .counts <"$T/body")
	check "$name: pending+running+succeeded+failed+canceled = targeted ($c)" \
	    [ "$(echo "$c" | jq '.pending+.running+.succeeded+.failed+.canceled')" \
	    = "$(echo "$c" | jq .targeted)" ]
	for k in targeted pending running succeeded failed canceled superseded; do
		n=$(echo "$c" | jq ".$k")
		api GET "/api/v1/rollouts/$r/devices?state=$k&limit=1000"
		m=$(jq '[.total, (.devices | length)] | unique | if length == 1 then .[0] else -1 end' <"$T/body")
		check "$name: the $k list holds $n devices (got $m)" [ "$m" = "$n" ]
		api GET "/api/v1/devices?rollout=$r&rollout_state=$k&limit=1000"
		m=$(jq '[.total, (.devices | length)] | unique | if length == 1 then .[0] else -1 end' <"$T/body")
		check "$name: the device list of $k holds $n (got $m)" [ "$m" = "$n" ]
	done
}

start_server
TOKEN=$(make_token admin)
mkimg "$T/a.swu" 2.0.0 1.0 -s 8K
upload "$T/a.swu"
expect_status 201 "upload 2.0.0 for revision 1.0"
SW_A=$SW_ID
mkimg "$T/b.swu" 2.0.0 2.0 -s 8K
upload "$T/b.swu"
expect_status 201 "upload 2.0.0 for revision 2.0"
SW_B=$SW_ID
mkimg "$T/c.swu" 1.5.0 1.0 -s 8K
upload "$T/c.swu"
expect_status 201 "upload 1.5.0 for revision 1.0"
SW_OLD=$SW_ID
mkimg "$T/d.swu" 3.0.0 1.0 -s 8K
upload "$T/d.swu"
expect_status 201 "upload 3.0.0 for revision 1.0"
SW_NEW=$SW_ID
mkimg "$T/e.swu" 2.0.0 9.9 -s 8K
upload "$T/e.swu"
expect_status 201 "upload 2.0.0 for revision 9.9"
SW_NONE=$SW_ID

for i in 01 02 03 04 05 06 07 08 09 10; do register "d$i" 1.0; done
for i in 1 2 3 4; do register "h$i" 2.0; done
for i in 1 2 3; do register "o$i" 1.0 other; done

# --- the preview --------------------------------------------------------
api GET "/api/v1/rollouts/preview?software_id=$SW_A&feed=default"
expect_status 200 "preview of 2.0.0 (rev 1.0) on default"
expect_json .devices 10 "  it would reach the 10 devices of revision 1.0"
expect_json .other_hardware 4 "  4 have other hardware"
expect_json '.warnings | length' 0 "  no warning"
PREVIEW_A=$(jq .devices <"$T/body")
api GET "/api/v1/rollouts/preview?software_id=$SW_A&feed=other"
expect_json .devices 3 "preview on feed other: its 3 devices"
api GET "/api/v1/rollouts/preview?software_id=$SW_NONE&feed=default"
expect_json .devices 0 "preview of software no device fits: 0"
expect_json '[.warnings[].code]' '["no_devices"]' "  warned: no device"
api GET "/api/v1/rollouts/preview?software_id=$SW_A&feed=default&target_filter=controllerId%3Din%3D(d01,d02,h1)"
expect_json .devices 2 "preview with a filter: 2 of its 3 fit"
expect_json .filtered 11 "  the feed's 11 others left out by the filter"
api GET "/api/v1/rollouts/preview?feed=default"
expect_status 200 "preview without software: the picker's proposal"
expect_json .newest_fitting.id "$SW_NEW" "  the newest version that fits the feed (3.0.0)"
api GET "/api/v1/rollouts/preview?feed=other"
expect_json .newest_fitting.version 3.0.0 "  on feed other too"
api GET "/api/v1/rollouts/preview?feed=nobody"
expect_json .newest_fitting null "  an empty feed: nothing fits"
for q in "software_id=abc" "software_id=-1" "software_id=99999" \
    "software_id=$SW_A&feed=a%20b" "software_id=$SW_A&target_filter=nosuch%3D%3D1" \
    "software_id=$SW_A&target_filter_id=77" "software_id=$SW_A&target_filter=a%3D%3D1&target_filter_id=1"; do
	api GET "/api/v1/rollouts/preview?$q"
	check "preview refused: $q ($STATUS $(jq -r .error <"$T/body" 2>/dev/null))" \
	    [ "$STATUS" = 400 ] && [ "$(jq -r .error <"$T/body")" != null ]
done

# --- R1 on default, and R2 of other hardware on the same feed -------------
api_json POST /api/v1/rollouts "{\"software_id\":$SW_A,\"feed\":\"default\"}"
expect_status 201 "rollout R1: 2.0.0 for revision 1.0"
R1=$(jq -r .id <"$T/body")
expect_json .counts.targeted "$PREVIEW_A" "  it targets what the preview said"
api GET "/api/v1/devices?rollout=$R1&limit=100"
expect_json .total 10 "  its targeted list: its 10 devices, not the feed's 14"
api GET "/api/v1/devices?rollout=$R1&rollout_state=pending"
expect_json .total 10 "  all 10 pending before any poll"
expect_jq '[.devices[].state] | all(. == "idle")' "  (their device state is idle)"
adds_up "$R1" "R1 at the start"

api GET "/api/v1/rollouts/preview?software_id=$SW_B&feed=default"
PREVIEW_B=$(jq .devices <"$T/body")
api_json POST /api/v1/rollouts "{\"software_id\":$SW_B,\"feed\":\"default\"}"
expect_status 201 "rollout R2 on the same feed: 2.0.0 for revision 2.0"
R2=$(jq -r .id <"$T/body")
expect_json .counts.targeted "$PREVIEW_B" "  it targets what the preview said ($PREVIEW_B)"
check "  R2 targets the 4 devices of revision 2.0" [ "$PREVIEW_B" = 4 ]
api GET "/api/v1/devices?rollout=$R2&limit=100"
expect_json '[.devices[].controller_id]' '["h1","h2","h3","h4"]' "  R2's list is its own"
api GET "/api/v1/rollouts/$R1"
expect_json .counts.targeted 10 "  R1 still targets its 10"

# R2 is newer, but it never placed d01: R1 offers it (it used to be blocked).
check "d01 is offered R1's 2.0.0 although a newer rollout of the feed exists" \
    offers d01 2.0.0

# --- a mix of states -----------------------------------------------------
feedback d01 "$ACT" closed success done
finish_device d02 failure "disk full"
offered d03
api POST "/api/v1/actions/$ACT/cancel"
expect_status 200 "cancel d03's action"
offered d04 # d04 is running now
req GET "$(link deploymentBase)"
feedback d04 "$ACT" proceeding none "installing"
adds_up "$R1" "R1 with a mix"
api GET "/api/v1/rollouts/$R1"
expect_json '.counts | [.succeeded, .failed, .canceled, .running, .pending]' '[1,1,1,1,6]' \
    "R1: 1 succeeded, 1 failed, 1 canceled, 1 running, 6 pending"
api GET "/api/v1/rollouts/$R1/devices?state=failed"
expect_jq '[.devices[] | [.controller_id, (.reason | contains("disk full"))]] == [["d02",true]]' \
    "R1's failed devices with their reason"
expect_json '.devices[0].action_id | type' number "  and their action"
api GET "/api/v1/rollouts/$R1/devices?state=pending&limit=4"
expect_json '[.total, (.devices | length)]' '[6,4]' "pending, page 1: 4 of 6"
P1=$(jq -c '[.devices[].controller_id]' <"$T/body")
api GET "/api/v1/rollouts/$R1/devices?state=pending&limit=4&offset=4"
expect_json '.devices | length' 2 "pending, page 2: the other 2"
P2=$(jq -c '[.devices[].controller_id]' <"$T/body")
check "the pages are the 6 pending devices, once each" \
    [ "$(jq -nc --argjson a "$P1" --argjson b "$P2" '$a + $b | unique')" \
    = '["d05","d06","d07","d08","d09","d10"]' ]
api GET "/api/v1/rollouts/$R1/devices"
expect_json .total 10 "no state: the targeted devices"
api GET "/api/v1/rollouts/$R1/devices?state="
expect_json .total 10 "an empty state: the targeted devices"
for q in "state=bogus" "state=idle" "limit=0" "limit=abc" "offset=-1" "state=%ff"; do
	api GET "/api/v1/rollouts/$R1/devices?$q"
	check "rollout devices: $q is refused ($STATUS)" [ "$STATUS" = 400 ]
done
api GET "/api/v1/rollouts/9999/devices"
expect_status 404 "the devices of no rollout: 404"
api GET "/api/v1/devices?rollout_state=pending"
expect_status 400 "rollout_state without rollout: 400"
api GET "/api/v1/devices?rollout=$R1&rollout_state=idle"
expect_status 400 "rollout_state idle: 400"

# --- an older version on the same feed: warned ---------------------------
api GET "/api/v1/rollouts/preview?software_id=$SW_OLD&feed=default"
expect_json '[.warnings[] | select(.code == "older_than_active") | .rollout_id]' "[$R1]" \
    "preview of 1.5.0: warned that R1 offers 2.0.0"

# --- R3, newer, takes three of R1's pending devices -----------------------
api GET "/api/v1/rollouts/preview?software_id=$SW_NEW&feed=default&target_filter=controllerId%3Din%3D(d05,d06,d07)"
PREVIEW_C=$(jq .devices <"$T/body")
api_json POST /api/v1/rollouts "{\"software_id\":$SW_NEW,\"feed\":\"default\",
  \"target_filter\":\"controllerId=in=(d05,d06,d07)\"}"
expect_status 201 "rollout R3: 3.0.0 to d05..d07"
R3=$(jq -r .id <"$T/body")
expect_json .counts.targeted "$PREVIEW_C" "  it targets what the preview said ($PREVIEW_C)"
api GET "/api/v1/rollouts/$R1"
expect_json '.counts | [.targeted, .pending, .superseded]' '[7,3,3]' \
    "R1: the 3 devices R3 took are superseded, not targeted"
api GET "/api/v1/rollouts/$R1/devices?state=superseded"
expect_json '[.devices[].controller_id]' '["d05","d06","d07"]' "  the superseded list"
api GET "/api/v1/rollouts/$R3/devices?state=pending"
expect_json '[.devices[].controller_id]' '["d05","d06","d07"]' "  they are R3's pending ones"
adds_up "$R1" "R1 superseded in part"
adds_up "$R3" "R3"
check "d05 is offered R3's 3.0.0, as the counts say" offers d05 3.0.0
api_json PATCH "/api/v1/rollouts/$R3" '{"paused":true}'
expect_status 200 "pause R3"
api GET "/api/v1/rollouts/$R1"
expect_json '.counts | [.targeted, .superseded]' '[10,0]' \
    "R3 paused: R1 reaches d05..d07 again (d05's offer of R3 would be withdrawn)"
check "d06 is offered R1's 2.0.0 while R3 is paused" offers d06 2.0.0
api_json PATCH "/api/v1/rollouts/$R3" '{"paused":false}'
api GET "/api/v1/rollouts/$R1"
expect_json '.counts | [.targeted, .running, .superseded]' '[8,2,2]' \
    "R3 resumed: d05 and d07 superseded again, d06 runs R1's offer"
adds_up "$R1" "R1 after R3 resumed"

# --- finished ------------------------------------------------------------
# d05 runs R3's 3.0.0.  d06's offer of R1 has no feedback yet: R3, running
# again, withdraws it on the next poll and offers 3.0.0 (R1's count follows).
offered d05
feedback d05 "$ACT" closed success done
feedback d04 "$(api GET /api/v1/devices/d04 >/dev/null; jq -r .action.id <"$T/body")" closed success done
offered d06
feedback d06 "$ACT" closed success done
for d in d08 d09 d10; do finish_device "$d" success; done
api GET "/api/v1/rollouts/$R1"
expect_json '.counts | [.targeted, .pending, .running, .superseded]' '[7,0,0,3]' \
    "R1: nothing pending or running, d05..d07 went to R3"
expect_json .state finished "R1 is finished"
expect_json .finished true "  and says so"
adds_up "$R1" "R1 finished"
api GET "/api/v1/rollouts/$R2"
expect_json .state running "R2 with its 4 devices pending still runs"
for d in h1 h2 h3; do finish_device "$d" success; done
finish_device h4 failure "no space"
api GET "/api/v1/rollouts/$R2"
expect_json .state finished "R2 with 3 succeeded and 1 failed is finished"

# --- retry failed, per rollout ---------------------------------------------
api POST "/api/v1/rollouts/$R1/retry-failed"
expect_status 201 "retry R1's failed device"
expect_json .counts.total 1 "  a wave of 1"
api GET "/api/v1/rollouts/$R1"
expect_json .state running "R1 runs again"
expect_json '.counts | [.targeted, .pending, .failed]' '[7,1,0]' "  d02 pending again"
adds_up "$R1" "R1 retrying"
finish_device d02 success
api GET "/api/v1/rollouts/$R1"
expect_json '[.state, .counts.succeeded]' '["finished",6]' "R1 finished again, 6 succeeded"
api GET "/api/v1/rollouts/$R2"
expect_json '.counts.failed' 1 "R2's failed device was not retried by R1's retry"
api POST "/api/v1/rollouts/$R1/retry-failed"
expect_status 409 "nothing failed in R1: 409"

# --- the list of rollouts carries the same counts -------------------------
api GET /api/v1/rollouts
expect_jq "[.rollouts[] | .counts.pending+.counts.running+.counts.succeeded+.counts.failed+.counts.canceled == .counts.targeted] | all" \
    "every rollout of the list adds up"
alive
finish
