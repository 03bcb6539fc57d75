#!/usr/bin/env bash
# kill -9 the daemon in the middle of a burst of feedback from many
# devices: after a restart every feedback that was answered 200 is in its
# action's log, the actions are intact and the database passes
# PRAGMA integrity_check.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"

need_aiohttp
BURST="$PY $(dirname "$0")/feedback_burst.py"
NDEV=40
PER=400		# feedbacks per device; the kill comes long before the end

sim_start 'updates:
  max_running: 100000' 'log:
  access: false'
TOKEN=$(make_token admin)
mkimg "$T/fb-2.0.0.swu" 2.0.0 1.0 -s 16K -U
upload "$T/fb-2.0.0.swu"
expect_status 201 "upload"
api_json POST /api/v1/rollouts "{\"software_id\":$SW_ID}"
expect_status 201 "rollout"

$BURST setup "$BASE" fb- "$NDEV" "$T/devices" 2>"$T/setup.err"
check "$NDEV devices with an open action ($(wc -l <"$T/devices"))" \
    [ "$(wc -l <"$T/devices" 2>/dev/null || echo 0)" -eq "$NDEV" ]
[ -s "$T/setup.err" ] && sed 's/^/#   /' "$T/setup.err" | tail -5

: >"$T/ok"
: >"$T/bad"
$BURST burst "$BASE" "$T/devices" "$PER" 32 "$T/ok" "$T/bad" 2>"$T/burst.err" &
B=$!
sim_track "$B"
oks() { [ "$(wc -l <"$T/ok")" -ge 1500 ]; }
check "the burst gets 1500 answers within 30 s" wait_for 30 oks
kill_server_hard
BEFORE=$(wc -l <"$T/ok")
wait "$B"
OK=$(wc -l <"$T/ok")
echo "# killed the daemon after $BEFORE answered feedbacks ($OK when the client noticed; $((NDEV * PER)) planned)"
check "the burst was cut by the kill ($OK of $((NDEV * PER)))" \
    [ "$OK" -lt $((NDEV * PER)) ]
check "no feedback answered other than 200 before the kill ($(wc -l <"$T/bad"))" \
    [ ! -s "$T/bad" ]
head -3 "$T/bad" | sed 's/^/#   /'

restart_server
alive "the restart"
MISSING=0
BADREQ=0
: >"$T/missing"
# log_lines AID: every line of the action's log, page by page; 1 if a
# page cannot be read.
log_lines()
{
	local before=
	while :; do
		api GET "/api/v1/actions/$1/log?limit=1000${before:+&before=$before}"
		[ "$STATUS" = 200 ] || return 1
		jq -r '.log[].line' <"$T/body"
		before=$(jq -r '.next_before // empty' <"$T/body")
		[ -z "$before" ] && return 0
	done
}
while read -r cid aid; do
	if ! log_lines "$aid" >"$T/lines"; then
		BADREQ=$((BADREQ + 1))
		continue
	fi
	api GET "/api/v1/devices/$cid/actions"
	if [ "$STATUS" != 200 ]; then
		BADREQ=$((BADREQ + 1))
		continue
	fi
	grep '^burst ' "$T/lines" | awk '{ print $2, $3, $4 }' | sort >"$T/have"
	awk -v c="$cid" '$1 == c { print $1, $3, $4 }' "$T/ok" | sort >"$T/want"
	comm -23 "$T/want" "$T/have" >>"$T/missing"
	jq -r --arg a "$aid" '.actions[] | select((.id | tostring) == $a) | .status' \
	    <"$T/body" >>"$T/statuses"
done <"$T/devices"
MISSING=$(wc -l <"$T/missing")
check "every device's actions are readable after the restart ($BADREQ failed)" \
    [ "$BADREQ" -eq 0 ]
check "every feedback answered 200 before the kill is in the log ($MISSING of $OK missing)" \
    [ "$MISSING" -eq 0 ]
head -5 "$T/missing" | sed 's/^/#   missing: /'
check "every action is still running ($(sort "$T/statuses" | uniq -c | tr '\n' ' '))" \
    [ "$(grep -cvx running "$T/statuses")" -eq 0 ]

# The actions still work: one device finishes its update.
read -r cid aid <"$T/devices"
feedback "$cid" "$aid" closed success "Update Installed."
expect_status 200 "closed/success after the restart"
api GET "/api/v1/actions/$aid"
expect_json .status succeeded

stop_server
RES=$(sqlite3 "$T/data/falconet.db" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check: $RES" [ "$RES" = ok ]
finish
