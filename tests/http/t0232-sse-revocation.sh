#!/usr/bin/env bash
# Live event streams end with the credential that opened them (finding
# #6): within seconds of a logout, a token's deletion (by the API or the
# command line), the user's disabling or deletion, or the loss of
# device.read, and after http.sse_lifetime in any case, after which
# Last-Event-ID resumes where the stream left off.  One user (or machine
# token) holds at most http.sse_per_user streams; others still get theirs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"
. "$(dirname "$0")/sse.sh"

start_server "$FAST"
TOKEN=$(make_token admin)
setup_open_action 2K
EV=/api/v1/devices/dev-x/events

# user NAME [ROLE]: create an account (password NAME-password-1).
user()
{
	api_json POST /api/v1/users \
	    "{\"username\":\"$1\",\"password\":\"$1-password-1\",\"role\":\"${2:-readonly}\"}"
	expect_status 201 "create user $1"
}

# revoked NAME WHAT COMMAND...: a stream opened for NAME is live and
# delivers a log line; after COMMAND it ends within 5 s and a line sent
# afterwards never reaches it.
N=0
revoked()
{
	local name=$1 what=$2 pid=$SSE_PID
	shift 2
	N=$((N + 1))
	check "$what: the stream is open" wait_for 3 has "$name" '^id: '
	feedback dev-x "$ACT" proceeding none "VISIBLE-$N"
	check "$what: the stream delivers a log line" wait_for 5 has "$name" "VISIBLE-$N"
	"$@"
	check "$what: the stream ends within 5 s" wait_for 5 gone "$pid"
	feedback dev-x "$ACT" proceeding none "SECRET-$N"
	sleep 1
	check "$what: nothing after it" sh -c "! grep -q SECRET-$N '$T/sse.$name'"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

user ro
user ro2

# --- a session ends: logout ---------------------------------------------------------
login ro ro-password-1
stream logout -H "Cookie: falconet_session=$COOKIE"
revoked logout "logout" req POST /api/v1/logout \
    -H "Cookie: falconet_session=$COOKIE" -H "X-CSRF-Token: $CSRF"

# --- a token is deleted: by the API, by the command line ------------------------------
login ro ro-password-1
PT=$(personal_token)
PTID=$(jq -r .id <"$T/body")
stream ptoken -H "Authorization: Bearer $PT"
revoked ptoken "personal token deleted" req DELETE "/api/v1/tokens/$PTID" \
    -H "Cookie: falconet_session=$COOKIE" -H "X-CSRF-Token: $CSRF"
MT=$(make_token watcher)
stream mtoken -H "Authorization: Bearer $MT"
revoked mtoken "machine token deleted on the command line" \
    falconet_cli token delete watcher

# --- the user is disabled, deleted, loses device.read ------------------------------------
login ro ro-password-1
stream disable -H "Cookie: falconet_session=$COOKIE"
revoked disable "user disabled" api_json PATCH /api/v1/users/ro '{"enabled":false}'
api_json PATCH /api/v1/users/ro '{"enabled":true}'

login ro2 ro2-password-1
PT2=$(personal_token)
stream delete -H "Authorization: Bearer $PT2"
revoked delete "user deleted" api DELETE /api/v1/users/ro2

login ro ro-password-1
stream perm -H "Cookie: falconet_session=$COOKIE"
revoked perm "device.read taken away" \
    api_json PATCH /api/v1/users/ro '{"permissions":["software.read"]}'
api_json PATCH /api/v1/users/ro '{"role":"readonly"}'

# A personal token limited by its user: the user loses device.read.
login ro ro-password-1
PT3=$(personal_token)
stream perm2 -H "Authorization: Bearer $PT3"
revoked perm2 "the token's user loses device.read" \
    api_json PATCH /api/v1/users/ro '{"permissions":["software.read"]}'
api_json PATCH /api/v1/users/ro '{"role":"readonly"}'

# --- a share per user -------------------------------------------------------------------
login ro ro-password-1
RO_COOKIE=$COOKIE
pids=
for i in $(seq 1 8); do
	stream "cap$i" -H "Cookie: falconet_session=$RO_COOKIE"
	pids="$pids $SSE_PID"
done
check "eight streams of one user are open" \
    wait_for 5 sh -c "for i in 1 2 3 4 5 6 7 8; do grep -q '^id: ' '$T/sse.cap'\$i || exit 1; done"
req GET "$EV" -H "Cookie: falconet_session=$RO_COOKIE"
expect_status 429 "the ninth stream of the same user -> 429"
expect_error too_many_streams
check "with Retry-After" [ -n "$(header Retry-After)" ]
# Another session of the same user shares the user's streams.
login ro ro-password-1
req GET "$EV" -H "Cookie: falconet_session=$COOKIE"
expect_status 429 "the same user from another session -> 429"
user ro3
login ro3 ro3-password-1
st=$(curl -s -o "$T/sse.other" --max-time 2 -w '%{http_code}' \
    -H "Cookie: falconet_session=$COOKIE" "$BASE$EV")
check "another user still gets a stream (got $st)" [ "$st" = 200 ]
st=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" "$BASE$EV")
check "a machine token still gets a stream (got $st)" [ "$st" = 200 ]
kill $pids 2>/dev/null
wait $pids 2>/dev/null
streams_free()
{
	[ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
	    -H "Cookie: falconet_session=$RO_COOKIE" "$BASE$EV")" = 200 ]
}
# A parked stream notices its client left at the next ping or two (5 s).
check "closed streams give their share back" wait_for 15 streams_free

# --- a lifetime, and resuming with Last-Event-ID --------------------------------------------
start_server "$FAST" 'http:
  sse_per_user: 2
  sse_lifetime: "00:00:05"'
stream life -H "Authorization: Bearer $TOKEN"
LPID=$SSE_PID
check "lifetime: the stream is open" wait_for 3 has life 'retry: 3000'
check "the stream starts with the id of the newest log line" wait_for 3 has life '^id: [0-9]'
feedback dev-x "$ACT" proceeding none "BEFORE-END"
check "the stream delivers a line" wait_for 5 has life BEFORE-END
check "the stream ends after http.sse_lifetime (5 s)" wait_for 8 gone "$LPID"
LAST=$(sed -n 's/^id: //p' "$T/sse.life" | tail -n 1)
check "log events carry ids (last $LAST)" [ -n "$LAST" ]
feedback dev-x "$ACT" proceeding none "WHILE-AWAY"
stream resume -H "Authorization: Bearer $TOKEN" -H "Last-Event-ID: $LAST"
RPID=$SSE_PID
check "a reconnect with Last-Event-ID gets the line sent in between" \
    wait_for 5 has resume WHILE-AWAY
check "and not the one before" sh -c "! grep -q BEFORE-END '$T/sse.resume'"
stream two -H "Authorization: Bearer $TOKEN"
TPID=$SSE_PID
check "a second stream" wait_for 3 has two 'retry: 3000'
req GET "$EV" -H "Authorization: Bearer $TOKEN"
expect_status 429 "http.sse_per_user: 2 -> the third stream of a token is 429"
kill $RPID $TPID 2>/dev/null
wait $RPID $TPID 2>/dev/null

finish
