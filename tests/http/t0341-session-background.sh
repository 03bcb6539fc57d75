#!/usr/bin/env bash
# A dashboard session idles out even while its tab keeps refreshing:
# requests with X-Background: 1 (the dashboard's own polling) and live
# event streams (Accept: text/event-stream) do not restart the idle clock;
# any other request does.  The session table is edited with sqlite3 so
# nothing has to wait a minute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

DBFILE=$T/data/falconet.db
sql()
{
	sqlite3 -cmd '.timeout 5000' "$DBFILE" "$1"
}
hash_of()
{
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}
# sget COOKIE PATH [curl args...]
sget()
{
	local c=$1 path=$2
	shift 2
	req GET "$path" -H "Cookie: falconet_session=$c" "$@"
}
# seen_ago HASH: seconds since the session's last_seen_at.
seen_ago()
{
	echo $(($(date +%s) - $(sql "SELECT last_seen_at FROM session WHERE token_hash = '$1'")))
}

if ! have sqlite3; then
	skip "background requests and the idle clock" "sqlite3 is not installed"
	finish
fi

start_server "$FAST"'
  session_idle: "00:01:00"'
printf 'admin-password-1\n' | falconet_cli user add admin >/dev/null 2>&1 ||
    fail "falconet user add admin"
ddi GET dev-bg
expect_status 200 "a device registers"

login admin admin-password-1
C=$COOKIE
H=$(hash_of "$C")

sql "UPDATE session SET last_seen_at = strftime('%s', 'now') - 50 WHERE token_hash = '$H'"
sget "$C" /api/v1/stats -H 'X-Background: 1'
expect_status 200 "a background refresh in a session unused for 50 s (idle 60 s)"
sget "$C" /api/v1/devices -H 'X-Background: 1'
expect_status 200 "another background refresh"
a=$(seen_ago "$H")
check "background refreshes leave the idle clock alone (last activity ${a}s ago)" \
    test "$a" -ge 50

# A live stream: opened and held for a second.
curl -s -o "$T/sse" -D "$T/sse.h" --max-time 1 \
    -H "Cookie: falconet_session=$C" -H 'Accept: text/event-stream' \
    "$BASE/api/v1/devices/dev-bg/events"
check "the event stream was opened" \
    grep -qi '^content-type: text/event-stream' "$T/sse.h"
a=$(seen_ago "$H")
check "an event stream leaves the idle clock alone (last activity ${a}s ago)" \
    test "$a" -ge 50

# X-Background with another value is activity like any request.
sget "$C" /api/v1/me -H 'X-Background: 0'
expect_status 200 "X-Background: 0"
a=$(seen_ago "$H")
check "X-Background: 0 is activity (last activity ${a}s ago)" test "$a" -le 2

# A session only refreshed in the background ends after session_idle.
sql "UPDATE session SET last_seen_at = strftime('%s', 'now') - 50 WHERE token_hash = '$H'"
sget "$C" /api/v1/stats -H 'X-Background: 1'
expect_status 200 "background refresh at 50 s"
sql "UPDATE session SET last_seen_at = last_seen_at - 20 WHERE token_hash = '$H'"
sget "$C" /api/v1/stats -H 'X-Background: 1'
expect_status 401 "the same session 70 s after its last activity: 401, background or not"
sget "$C" /api/v1/me
expect_status 401 "and for a foreground request too"

# The operator's own request restarts the clock.
login admin admin-password-1
C=$COOKIE
H=$(hash_of "$C")
sql "UPDATE session SET last_seen_at = strftime('%s', 'now') - 50 WHERE token_hash = '$H'"
sget "$C" /api/v1/devices
expect_status 200 "a foreground request at 50 s"
a=$(seen_ago "$H")
check "a foreground request restarts the idle clock (last activity ${a}s ago)" \
    test "$a" -le 2

# /api/v1/me tells the dashboard its version, the API document and the idle time.
sget "$C" /api/v1/me -H 'X-Background: 1'
expect_jq '.version | test("^[0-9]+\\.[0-9]+")' "me: version"
expect_jq '.api_document == "/api/v1/openapi.json"' "me: the API document"
expect_jq '.session_idle == 60' "me: session_idle in seconds"
req GET /api/v1/openapi.json
expect_status 200 "the API document is served where me says"

finish
