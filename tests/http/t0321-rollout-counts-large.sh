#!/usr/bin/env bash
# The superseded count of a rollout with many pending devices (over 4,096,
# superseded.h) is taken by its first reader and then kept and recounted in
# the background while it is read: a newer running rollout of the feed
# supersedes every pending device of the older one at once, pausing the
# newer one gives them back within the recount interval, and the lists
# behind the counts give the same totals.
. "$(dirname "$0")/lib.sh"

SEED=$(dirname "$0")/../bench/seed.sh
N=5000

# counts ROLLOUT: the rollout's counts as compact JSON, in COUNTS.
counts()
{
	api GET "/api/v1/rollouts/$1"
	COUNTS=$(jq -c '.counts | {targeted, pending, superseded}' <"$T/body")
}

write_settings "$T/settings.yaml"
falconet_cli migrate >/dev/null 2>>"$T/cli.log"
"$SEED" "$T/data/falconet.db" 1 "$N" >/dev/null
start_server
TOKEN=$(make_token admin)

R=()
for v in 2.0.0 2.1.0; do
	mkimg "$T/$v.swu" "$v" 1.0 -m bench-board -s 4K
	upload "$T/$v.swu"
	expect_status 201 "upload $v"
	api_json POST /api/v1/rollouts \
	    "{\"software_id\":$SW_ID,\"feed\":\"default\",\"name\":\"r $v\"}"
	expect_status 201 "a rollout of $v over the $N devices"
	R[${#R[@]}]=$(jq -r .id <"$T/body")
done
OLD=${R[0]} NEW=${R[1]}

# counts_become ROLLOUT JSON: 0 once the rollout's counts read JSON, within
# 10 s (the kept counts lag by at most the recount interval, 5 s, and a
# tick).
counts_become()
{
	local i
	for i in $(seq 1 40); do
		counts "$1"
		[ "$COUNTS" = "$2" ] && return 0
		sleep 0.25
	done
	return 1
}

counts_become "$OLD" "{\"targeted\":0,\"pending\":0,\"superseded\":$N}"
check "the older rollout's $N pending devices are all superseded within 10 s ($COUNTS)" \
    [ "$COUNTS" = "{\"targeted\":0,\"pending\":0,\"superseded\":$N}" ]
counts "$NEW"
check "the newer one targets them ($COUNTS)" \
    [ "$COUNTS" = "{\"targeted\":$N,\"pending\":$N,\"superseded\":0}" ]
api GET "/api/v1/rollouts/$OLD/devices?state=superseded&limit=10"
check "the superseded list's total is the count" \
    [ "$(jq '[.total, (.devices | length)]' -c <"$T/body")" = "[$N,10]" ]
api GET "/api/v1/rollouts?limit=10"
check "the rollout list says the same" \
    [ "$(jq -c "[.rollouts[] | select(.id == $OLD) | .counts.superseded]" <"$T/body")" = "[$N]" ]

api_json PATCH "/api/v1/rollouts/$NEW" '{"paused":true}'
expect_status 200 "pause the newer rollout"
counts_become "$OLD" "{\"targeted\":$N,\"pending\":$N,\"superseded\":0}"
check "once the newer one is paused, the older one targets its devices again within 10 s ($COUNTS)" \
    [ "$COUNTS" = "{\"targeted\":$N,\"pending\":$N,\"superseded\":0}" ]
api GET "/api/v1/rollouts/$OLD/devices?state=pending&limit=1"
check "and its pending list's total follows" [ "$(jq .total <"$T/body")" = "$N" ]

finish
