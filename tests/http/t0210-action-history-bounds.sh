#!/usr/bin/env bash
# Bounded action history (security finding #1): one device posting tens of
# thousands of feedbacks for one action.
#  - The stored history and log stay within their caps (1,000 entries,
#    20,000 lines): the first entries and the newest are kept, the middle
#    is dropped and counted; identical feedback folds into one entry with
#    a repeat count and the last time.
#  - A view of the action is small whatever was sent: the newest page of
#    each list, and the device's action list holds summaries, no log.
#  - Paging back with the cursor (/history and /log, ?limit=&before=)
#    walks every stored entry down to the first, with no gap and no
#    repeat; bad paging values are 400.
#  - DDI actionHistory stays at most 100 messages, newest first.
#  - A poll from another device stays fast while views run.
#  - migrations/0005 cuts an action stored over the cap by an older
#    version the same way.
# The short version (make test) sends 30,000 feedbacks in a few seconds;
# SOAK=long (make soak) sends the 300,000 of the findings' reproduction
# and more.
. "$(dirname "$0")/lib.sh"

RAW=(/usr/bin/python3 "$(dirname "$0")/rawhttp.py")
have sqlite3 || {
	fail "sqlite3 is required"
	finish
}
if [ "${SOAK:-short}" = long ]; then
	DISTINCT=${FLOOD_DISTINCT:-100000}	# feedbacks with new lines
	SAME=${FLOOD_SAME:-200000}		# then identical ones
else
	DISTINCT=${FLOOD_DISTINCT:-2500}
	SAME=${FLOOD_SAME:-27500}
fi
LINES=10	# details lines in each distinct feedback
HISTORY_MAX=1000 HISTORY_HEAD=100 LOG_MAX=20000 LOG_HEAD=1000
# A sanitized daemon keeps freed memory in ASan's quarantine (256 MiB by
# default), so its RSS climbs with every answer it frees; a small one
# makes the RSS check below mean something (see tests/sim/soak.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}:quarantine_size_mb=16"

start_server 'log:
  access: false'
TOKEN=$(make_token admin)
DB_FILE=$T/data/falconet.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB_FILE" "$@"; }
setup_open_action 16K
FB=/$TENANT/controller/v1/dev-x/deploymentBase/$ACT/feedback
ddi GET dev-poll
expect_status 200 "a second device polls"

feedback dev-x "$ACT" proceeding none "start"
expect_status 200 "the first feedback"
api GET "/api/v1/actions/$ACT"
H0=$(jq .history_count <"$T/body")
L0=$(jq .log_count <"$T/body")
FIRST_HIST=$(sql "SELECT min(id) FROM action_status WHERE action_id = $ACT")
FIRST_LOG=$(sql "SELECT min(id) FROM action_log WHERE action_id = $ACT")

# ---------------------------------------------------------------- flood
details=
for ((i = 1; i <= LINES; i++)); do
	details+="${details:+,}\"line {n}.$i of a feedback\""
done
M=$(printf 'x%.0s' $(seq 230))
OUT=$("${RAW[@]}" flood "$PORT" "$DISTINCT" "$FB" \
    "{\"status\":{\"execution\":\"proceeding\",\"result\":{\"finished\":\"none\"},\"details\":[$details]}}")
echo "# $DISTINCT distinct feedbacks of $LINES lines: $OUT"
case $OUT in
"200=$DISTINCT other=0 "*) pass "every distinct feedback answered 200" ;;
*) fail "distinct flood: $OUT" ;;
esac
OUT=$("${RAW[@]}" flood "$PORT" "$SAME" "$FB" \
    "{\"status\":{\"execution\":\"proceeding\",\"result\":{\"finished\":\"none\"},\"details\":[\"$M\"]}}")
echo "# $SAME identical feedbacks: $OUT"
case $OUT in
"200=$SAME other=0 "*) pass "every identical feedback answered 200" ;;
*) fail "identical flood: $OUT" ;;
esac

# ---------------------------------------------------------------- storage
HROWS=$(sql "SELECT count(*) FROM action_status WHERE action_id = $ACT")
LROWS=$(sql "SELECT count(*) FROM action_log WHERE action_id = $ACT")
check "the history holds at most $HISTORY_MAX rows ($HROWS)" \
    [ "$HROWS" -le "$HISTORY_MAX" ]
check "the log holds at most $LOG_MAX rows ($LROWS)" [ "$LROWS" -le "$LOG_MAX" ]
HEAD_OK=$(sql "SELECT count(*) FROM action_status WHERE action_id = $ACT AND id <= (SELECT history_head FROM action WHERE id = $ACT)")
check "the first $HISTORY_HEAD history entries are kept ($HEAD_OK)" \
    [ "$HEAD_OK" -eq "$HISTORY_HEAD" ]
check "the first history entry is kept" \
    [ "$(sql "SELECT min(id) FROM action_status WHERE action_id = $ACT")" = "$FIRST_HIST" ]
check "the first log line is kept" \
    [ "$(sql "SELECT min(id) FROM action_log WHERE action_id = $ACT")" = "$FIRST_LOG" ]

api GET "/api/v1/actions/$ACT"
expect_status 200 "the action reads back"
SIZE=$(wc -c <"$T/body")
check "one view of the action is small ($SIZE bytes)" [ "$SIZE" -lt 262144 ]
expect_json .history_count "$HROWS" "history_count is what is stored"
expect_json .log_count "$LROWS" "log_count is what is stored"
expect_json '.history_count + .history_dropped' $((H0 + DISTINCT + 1)) \
    "stored and dropped entries add up to every distinct entry"
expect_json '.log_count + .log_dropped' $((L0 + DISTINCT * LINES + 1)) \
    "stored and dropped lines add up to every distinct line"
expect_jq '.history_dropped_after > 0 and .log_dropped_after > 0' \
    "the action says after which entry it dropped"
expect_json '.history | length' 100 "the view holds the newest 100 entries"
expect_json '.log | length' 100 "and the newest 100 log lines"
expect_jq ".history[-1] | .message == \"proceeding/none: $M\" and .repeats == $SAME and .last_at >= .at" \
    "identical feedback is one entry with its repeat count and last time"
expect_jq ".log[-1] | .line == \"$M\" and .repeats == $SAME" \
    "and one log line with its count"
expect_json ".log[-2].line" "line $DISTINCT.$LINES of a feedback" \
    "the newest distinct line is kept"
expect_jq "[.history[].id] == ([.history[].id] | sort) and .history_next_before == .history[0].id" \
    "the page is oldest first, its cursor its oldest entry"
expect_json .last_message "proceeding/none: $M" "the summary has the last message"

# ---------------------------------------------------------------- the list
api GET /api/v1/devices/dev-x/actions
expect_status 200 "the device's action list"
SIZE=$(wc -c <"$T/body")
check "the list is small ($SIZE bytes)" [ "$SIZE" -lt 16384 ]
expect_jq '[.actions[] | has("log") or has("history")] | any | not' \
    "the list embeds no log and no history"
expect_jq ".actions[0] | .history_count == $HROWS and .log_count == $LROWS and .last_line == \"$M\"" \
    "each action has its summary (counts, last message and line)"

# ---------------------------------------------------------------- paging
# walk KIND LIMIT: page back from the newest entry; the ids, newest first,
# in $T/KIND.ids; PAGES pages.
walk()
{
	local kind=$1 limit=$2 before= n=0
	: >"$T/$kind.ids"
	while :; do
		api GET "/api/v1/actions/$ACT/$kind?limit=$limit${before:+&before=$before}"
		[ "$STATUS" = 200 ] || break
		jq -r ".$kind | reverse | .[].id" <"$T/body" >>"$T/$kind.ids"
		n=$((n + 1))
		before=$(jq -r '.next_before // empty' <"$T/body")
		[ -z "$before" ] && break
		[ "$n" -gt 1000 ] && break
	done
	PAGES=$n
}
walk history 97
sql "SELECT id FROM action_status WHERE action_id = $ACT ORDER BY id DESC" >"$T/history.want"
check "paging the history back ($PAGES pages of 97) gives every stored entry once, in order" \
    cmp -s "$T/history.ids" "$T/history.want"
check "  and ends at the first entry" \
    [ "$(tail -1 "$T/history.ids")" = "$FIRST_HIST" ]
expect_jq '.next_before == null and (.history | length) == (1000 % 97)' \
    "  the last page says there is nothing before it"
expect_json .dropped_after \
    "$(sed -n "$((HROWS - HISTORY_HEAD + 1))p" "$T/history.want")" \
    "  dropped_after is the last entry of the head"
walk log 1000
sql "SELECT id FROM action_log WHERE action_id = $ACT ORDER BY id DESC" >"$T/log.want"
check "paging the log back ($PAGES pages of 1000) gives every stored line once, in order" \
    cmp -s "$T/log.ids" "$T/log.want"
check "  and ends at the first line" [ "$(tail -1 "$T/log.ids")" = "$FIRST_LOG" ]
api GET "/api/v1/actions/$ACT/log?limit=1000"
SIZE=$(wc -c <"$T/body")
check "the largest page is bounded ($SIZE bytes)" [ "$SIZE" -lt 1048576 ]
api GET "/api/v1/actions/$ACT/history"
expect_json '.history | length' 100 "the default page is 100 entries"
expect_json .limit 100
for bad in limit=0 limit=1001 limit=x before=0 before=-5 before=1x; do
	api GET "/api/v1/actions/$ACT/history?$bad"
	expect_status 400 "history ?$bad -> 400"
	expect_error invalid_query
done
api GET "/api/v1/actions/999999/log"
expect_status 404 "the log of an unknown action -> 404"

# ---------------------------------------------------------------- DDI
req GET "/$TENANT/controller/v1/dev-x/deploymentBase/$ACT?actionHistory=-1"
expect_status 200 "deploymentBase with actionHistory=-1"
# The GET itself notes that the device retrieved the action (hawkBit's
# "retrieved" entry), the newest message.
expect_jq ".actionHistory.messages | length == 100 and (.[0] | startswith(\"Update Server: Target retrieved\")) and (.[1:] | all(. == \"proceeding/none: $M\"))" \
    "  the newest 100 messages, the repeated one as often as it was sent"
req GET "/$TENANT/controller/v1/dev-x/deploymentBase/$ACT?actionHistory=3"
expect_json '.actionHistory.messages | length' 3 "actionHistory=3: 3 messages"
expect_json '.actionHistory.status' RUNNING

# ---------------------------------------------------------------- polls
rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status"; }
RSS0=$(rss)
: >"$T/views"
viewer()
{
	local end=$((SECONDS + 3))
	while [ "$SECONDS" -lt "$end" ]; do
		for p in "/api/v1/devices/dev-x/actions" "/api/v1/actions/$ACT" \
		    "/api/v1/actions/$ACT/log?limit=1000"; do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
			    -H "Authorization: Bearer $TOKEN" "$BASE$p" >>"$T/views"
		done
	done
}
VIEWERS=()
for k in 1 2 3; do
	viewer &
	VIEWERS+=($!)
done
WORST=0
for i in $(seq 1 20); do
	t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 10 \
	    "$BASE/$TENANT/controller/v1/dev-poll")
	WORST=$(echo "$t $WORST" | awk '{ print ($1 > $2) ? $1 : $2 }')
	sleep 0.1
done
wait "${VIEWERS[@]}"
RSS1=$(rss)
NV=$(wc -l <"$T/views")
check "$NV views during the polls, all 200" \
    [ "$NV" -gt 0 ] && [ "$(grep -cvx 200 "$T/views")" -eq 0 ]
check "a poll from another device stays under 0.5 s while views run (worst ${WORST}s)" \
    awk -v w="$WORST" 'BEGIN { exit !(w < 0.5) }'
check "the views leave the daemon's RSS about where it was (${RSS0} -> ${RSS1} MiB)" \
    [ $((RSS1 - RSS0)) -lt 64 ]

# The action still closes.
feedback dev-x "$ACT" closed success "Update Installed."
expect_status 200 "closed/success after the flood"
api GET "/api/v1/actions/$ACT"
expect_json .status succeeded
expect_json '.history[-1].status' succeeded "the history ends with the result"

# ---------------------------------------------------------------- migration
# A database left by an older version: 0005 and the migrations after it
# (0006, 0007, 0010, 0012) undone, 3,000 history rows for one action.  The migration keeps the head
# and the newest.
stop_server
sql "DELETE FROM action_status WHERE action_id = $ACT;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO action_status (action_id, at, status, message)
    SELECT $ACT, 1, 'proceeding', 'old ' || i FROM n;
ALTER TABLE action_status DROP COLUMN repeats;
ALTER TABLE action_status DROP COLUMN last_at;
ALTER TABLE action_log DROP COLUMN repeats;
ALTER TABLE action_log DROP COLUMN last_at;
ALTER TABLE action DROP COLUMN history_rows;
ALTER TABLE action DROP COLUMN history_dropped;
ALTER TABLE action DROP COLUMN history_head;
ALTER TABLE action DROP COLUMN log_rows;
ALTER TABLE action DROP COLUMN log_dropped;
ALTER TABLE action DROP COLUMN log_head;
DROP TABLE id_counter;
ALTER TABLE audit DROP COLUMN count;
ALTER TABLE audit DROP COLUMN last_at;
DROP TRIGGER device_update_status_new;
DROP TRIGGER device_update_status_change;
DROP TRIGGER device_update_status_seen;
DROP INDEX device_cid_lower;
DROP INDEX device_name_lower;
DROP INDEX device_update_status;
DROP INDEX device_attribute_value;
DROP INDEX device_metadata_value;
ALTER TABLE device DROP COLUMN description;
ALTER TABLE device DROP COLUMN created_by;
ALTER TABLE device DROP COLUMN modified_at;
ALTER TABLE device DROP COLUMN modified_by;
ALTER TABLE device DROP COLUMN token_sealed;
ALTER TABLE device DROP COLUMN update_status;
DROP TABLE system_config;
DROP TABLE target_filter;
DROP TABLE rollout_target;
DROP TABLE rollout_group;
ALTER TABLE rollout DROP COLUMN state;
ALTER TABLE rollout DROP COLUMN target_filter;
ALTER TABLE rollout DROP COLUMN start_at;
ALTER TABLE rollout DROP COLUMN started_at;
DROP TABLE refused_request;
PRAGMA user_version = 4;" 2>&1 | sed 's/^/#   /'
start_server 'log:
  access: false'
api GET "/api/v1/actions/$ACT"
expect_status 200 "the action after migration 0005"
expect_json '[.history_count, .history_dropped]' '[1000,2000]' \
    "  0005 cut the 3,000 old entries to 1,000 and counted the rest"
expect_json "$(printf '%s' '[.history[0].message, .history[-1].message]')" \
    '["old 2901","old 3000"]' "  the newest are kept"
api GET "/api/v1/actions/$ACT/history?limit=1&before=$(jq .history_dropped_after <"$T/body")"
expect_json '.history[0].message' "old 99" "  and the head up to its end"
api GET "/api/v1/actions/$ACT/history?limit=1000"
expect_jq '[.history[].message] | .[99] == "old 100" and .[100] == "old 2101"' \
    "  the middle is gone"
finish
