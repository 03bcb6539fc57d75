#!/usr/bin/env bash
# Login sessions: cookie attributes (Secure only over https, from a trusted
# proxy), CSRF on state-changing requests, logout, revocation on password
# change and on disabling a user, idle and absolute expiry (the session
# table is edited with sqlite3 so nothing has to wait an hour).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

# login_max_failures is high so that the many logins here never meet the
# rate limit (t0130 tests it).
FAST='auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1
  login_max_failures: 100
  session_idle: "00:01:00"
  session_max_hours: 1'
DBFILE=$T/data/falconet.db

# login USER PASSWORD [curl args...]: sets COOKIE and CSRF.
login()
{
	local u=$1 p=$2
	shift 2
	post_json /api/v1/login \
	    "$(jq -cn --arg u "$u" --arg p "$p" '{username:$u,password:$p}')" "$@"
	COOKIE=$(cookie_value)
	CSRF=$(jq -r '.csrf_token // empty' <"$T/body" 2>/dev/null)
}

# sreq COOKIE CSRF METHOD PATH [JSON]: a request in a session; CSRF "-"
# sends no X-CSRF-Token header.
sreq()
{
	local c=$1 x=$2 method=$3 path=$4 json=${5:-}
	local args=(-H "Cookie: falconet_session=$c")
	[ "$x" != - ] && args+=(-H "X-CSRF-Token: $x")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

# me COOKIE: GET /api/v1/me in that session.
me()
{
	sreq "$1" - GET /api/v1/me
}

# sql STATEMENT: run SQL on the live database.
sql()
{
	sqlite3 -cmd '.timeout 5000' "$DBFILE" "$1"
}

hash_of()
{
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
start_server "$FAST"
printf 'admin-password-1\n' | falconet_cli user add admin >/dev/null 2>&1 ||
    fail "falconet user add admin"

# --- login and the cookie ------------------------------------------------
login admin 'admin-password-1'
expect_status 200 "login with the right password -> 200"
expect_json .username admin
expect_jq '.csrf_token | type == "string" and length >= 16' "login answers a csrf_token"
SC=$(header Set-Cookie)
check "login sets falconet_session" [ -n "$COOKIE" ]
check "the cookie is HttpOnly ($SC)" sh -c "printf '%s' '$SC' | grep -qi '; *HttpOnly'"
check "the cookie is SameSite=Strict" sh -c "printf '%s' '$SC' | grep -qi '; *SameSite=Strict'"
check "the cookie has Path=/" sh -c "printf '%s' '$SC' | grep -qi '; *Path=/\\(;\\|\$\\)'"
check "no Secure over plain http" sh -c "! printf '%s' '$SC' | grep -qi 'Secure'"
check "the cookie's Max-Age is session_max_hours (3600)" \
    sh -c "printf '%s' '$SC' | grep -qi '; *Max-Age=3600\\(;\\|\$\\)'"
ADMIN_C=$COOKIE ADMIN_X=$CSRF

# X-Forwarded-Proto from a peer that is not a trusted proxy is ignored.
login admin 'admin-password-1' -H 'X-Forwarded-Proto: https'
SC=$(header Set-Cookie)
check "X-Forwarded-Proto from an untrusted peer: no Secure ($SC)" \
    sh -c "! printf '%s' '$SC' | grep -qi 'Secure'"

login admin 'admin-password-2'
expect_status 401 "login with a wrong password -> 401"
expect_error bad_credentials
check "no cookie after a failed login" [ -z "$COOKIE" ]
login nosuchuser 'admin-password-1'
expect_status 401 "login as an unknown user -> 401"
expect_error bad_credentials
post_json /api/v1/login '{"username":"admin"}'
expect_status 400 "login without a password -> 400"
post_json /api/v1/login '{"username":"admin","password":"admin-password-1","x":1}'
expect_status 400 "login with an unknown field -> 400"
req POST /api/v1/login -H 'Content-Type: text/plain' \
    --data-binary '{"username":"admin","password":"admin-password-1"}'
expect_status 415 "login with a text/plain body -> 415"

me "$ADMIN_C"
expect_status 200 "GET /api/v1/me with the cookie -> 200"
expect_json .username admin
expect_json .session true
expect_json .csrf_token "$ADMIN_X"
me "$(mangle "$ADMIN_C")"
expect_status 401 "a cookie with one character changed -> 401"
me "nonsense"
expect_status 401 "a short garbage cookie -> 401"
req GET /api/v1/me -H "Cookie: other=$ADMIN_C"
expect_status 401 "the session value under another cookie name -> 401"
req GET /api/v1/me -H "Cookie: a=b; falconet_session=$ADMIN_C; c=d"
expect_status 200 "the cookie among others -> 200"
check "the session cookie is stored hashed" \
    [ "$(sql "SELECT count(*) FROM session WHERE token_hash = '$(hash_of "$ADMIN_C")'")" = 1 ]

# --- CSRF ------------------------------------------------------------------
sreq "$ADMIN_C" - POST /api/v1/devices '{"controller_id":"csrf-none"}'
expect_status 403 "POST with the cookie and no X-CSRF-Token -> 403"
expect_error csrf
sreq "$ADMIN_C" "$(mangle "$ADMIN_X")" POST /api/v1/devices '{"controller_id":"csrf-wrong"}'
expect_status 403 "POST with a wrong X-CSRF-Token -> 403"
expect_error csrf
sreq "$ADMIN_C" "" POST /api/v1/devices '{"controller_id":"csrf-empty"}'
expect_status 403 "POST with an empty X-CSRF-Token -> 403"
sreq "$ADMIN_C" "${ADMIN_X}${ADMIN_X}" POST /api/v1/devices '{"controller_id":"csrf-long"}'
expect_status 403 "POST with the token twice -> 403"
req POST /api/v1/devices \
    -H "Cookie: falconet_session=$ADMIN_C; X-CSRF-Token=$ADMIN_X" \
    -H 'Content-Type: application/json' \
    --data-binary '{"controller_id":"csrf-cookie-name"}'
expect_status 403 "the CSRF token as a cookie does not count -> 403"
sreq "$ADMIN_C" "$ADMIN_X" POST /api/v1/devices '{"controller_id":"csrf-ok"}'
expect_status 201 "POST with the right X-CSRF-Token -> 201"
sreq "$ADMIN_C" - PATCH /api/v1/devices/csrf-ok '{"name":"x"}'
expect_status 403 "PATCH without X-CSRF-Token -> 403"
expect_error csrf
sreq "$ADMIN_C" - DELETE /api/v1/devices/csrf-ok
expect_status 403 "DELETE without X-CSRF-Token -> 403"
expect_error csrf
sreq "$ADMIN_C" "$ADMIN_X" PATCH /api/v1/devices/csrf-ok '{"name":"renamed"}'
expect_status 200 "PATCH with the right X-CSRF-Token -> 200"
sreq "$ADMIN_C" - GET /api/v1/devices
expect_status 200 "GET needs no X-CSRF-Token"
expect_json '[.devices[].controller_id] | join(",")' csrf-ok \
    "only the request with the right CSRF token created a device"
sreq "$ADMIN_C" - POST /api/v1/logout
expect_status 403 "logout without X-CSRF-Token -> 403"
expect_error csrf
me "$ADMIN_C"
expect_status 200 "a refused logout leaves the session alive"

# A second session's CSRF token is not valid in the first.
login admin 'admin-password-1'
ADMIN2_C=$COOKIE ADMIN2_X=$CSRF
check "two sessions have different cookies and CSRF tokens" \
    [ "$ADMIN2_C" != "$ADMIN_C" -a "$ADMIN2_X" != "$ADMIN_X" ]
sreq "$ADMIN_C" "$ADMIN2_X" POST /api/v1/devices '{"controller_id":"csrf-cross"}'
expect_status 403 "another session's CSRF token -> 403"
expect_error csrf

# Bearer tokens need no CSRF token.
sreq "$ADMIN_C" "$ADMIN_X" POST /api/v1/tokens '{"name":"pat"}'
expect_status 201 "create a personal token in the session"
PAT=$(jq -r .token <"$T/body")
req POST /api/v1/devices -H "Authorization: Bearer $PAT" \
    -H 'Content-Type: application/json' --data-binary '{"controller_id":"via-pat"}'
expect_status 201 "a personal token POSTs without X-CSRF-Token"
TOKEN=$(make_token machine)
api_json PATCH /api/v1/devices/via-pat '{"name":"by machine"}'
expect_status 200 "a command-line token PATCHes without X-CSRF-Token"
api GET /api/v1/me
expect_json .session false "/me with a Bearer token: session false"
expect_json .csrf_token null "/me with a Bearer token gives no csrf_token"
# With both, the Authorization header decides.
req GET /api/v1/me -H "Cookie: falconet_session=$ADMIN_C" \
    -H 'Authorization: Bearer wrong-token-wrong-token'
expect_status 401 "a wrong Bearer token is not rescued by a valid cookie"

# --- logout ------------------------------------------------------------------
sreq "$ADMIN2_C" "$ADMIN2_X" POST /api/v1/logout
expect_status 204 "logout with the CSRF token -> 204"
check "logout clears the cookie ($(header Set-Cookie))" \
    sh -c "printf '%s' '$(header Set-Cookie)' | grep -qi '^falconet_session=;.*Max-Age=0'"
me "$ADMIN2_C"
expect_status 401 "the logged-out cookie -> 401"
sreq "$ADMIN2_C" "$ADMIN2_X" POST /api/v1/devices '{"controller_id":"after-logout"}'
expect_status 401 "a write with the logged-out cookie -> 401"
check "logout deleted the session row" \
    [ "$(sql "SELECT count(*) FROM session WHERE token_hash = '$(hash_of "$ADMIN2_C")'")" = 0 ]
me "$ADMIN_C"
expect_status 200 "logout ends only its own session"

# --- password change -----------------------------------------------------
sreq "$ADMIN_C" "$ADMIN_X" POST /api/v1/users \
    '{"username":"alice","password":"alice-password-1","role":"operator"}'
expect_status 201 "create alice (operator)"
login alice 'alice-password-1'
A1_C=$COOKIE A1_X=$CSRF
login alice 'alice-password-1'
A2_C=$COOKIE A2_X=$CSRF
me "$A1_C"
expect_status 200 "alice's first session works"
me "$A2_C"
expect_status 200 "alice's second session works"
sreq "$A1_C" "$A1_X" POST /api/v1/tokens '{"name":"alice-pat"}'
expect_status 201 "alice creates a personal token"
ALICE_PAT=$(jq -r .token <"$T/body")

sreq "$A1_C" "$A1_X" POST /api/v1/me/password \
    '{"current":"wrong-password-1","new":"alice-password-2"}'
expect_status 403 "password change with a wrong current password -> 403"
expect_error bad_credentials
me "$A1_C"
expect_status 200 "a refused password change leaves the session"
sreq "$A1_C" "$A1_X" POST /api/v1/me/password \
    '{"current":"alice-password-1","new":"short"}'
expect_status 400 "password change to a weak password -> 400"
expect_error weak_password
sreq "$A1_C" - POST /api/v1/me/password \
    '{"current":"alice-password-1","new":"alice-password-2"}'
expect_status 403 "password change without X-CSRF-Token -> 403"
expect_error csrf
req POST /api/v1/me/password -H "Authorization: Bearer $ALICE_PAT" \
    -H 'Content-Type: application/json' \
    --data-binary '{"current":"alice-password-1","new":"alice-password-2"}'
expect_status 403 "password change with a Bearer token -> 403"
login alice 'alice-password-1'
expect_status 200 "the password is unchanged after refused changes"
A3_C=$COOKIE

sreq "$A1_C" "$A1_X" POST /api/v1/me/password \
    '{"current":"alice-password-1","new":"alice-password-2"}'
expect_status 204 "password change with the right current password -> 204"
me "$A1_C"
expect_status 401 "the session that changed the password -> 401"
me "$A2_C"
expect_status 401 "alice's other session -> 401 after the change"
me "$A3_C"
expect_status 401 "alice's third session -> 401 after the change"
check "no session row of alice is left" \
    [ "$(sql "SELECT count(*) FROM session s JOIN app_user u ON u.id = s.user_id WHERE u.username = 'alice'")" = 0 ]
me "$ADMIN_C"
expect_status 200 "another user's session survives alice's change"
login alice 'alice-password-1'
expect_status 401 "the old password no longer works"
login alice 'alice-password-2'
expect_status 200 "the new password works"
A4_C=$COOKIE

# An admin resetting the password also ends the sessions.
sreq "$ADMIN_C" "$ADMIN_X" PATCH /api/v1/users/alice '{"password":"alice-password-3"}'
expect_status 200 "admin sets alice's password"
me "$A4_C"
expect_status 401 "alice's session ends when an admin sets her password"

# --- disabled user ---------------------------------------------------------
login alice 'alice-password-3'
A5_C=$COOKIE A5_X=$CSRF
me "$A5_C"
expect_status 200 "alice logs in with the admin-set password"
sreq "$ADMIN_C" "$ADMIN_X" PATCH /api/v1/users/alice '{"enabled":false}'
expect_status 200 "disable alice"
expect_json .enabled false
me "$A5_C"
expect_status 401 "a disabled user's session -> 401"
sreq "$A5_C" "$A5_X" POST /api/v1/devices '{"controller_id":"by-disabled"}'
expect_status 401 "a disabled user's session cannot write"
login alice 'alice-password-3'
expect_status 401 "a disabled user cannot log in"
check "no cookie for a disabled user" [ -z "$COOKIE" ]
req GET /api/v1/devices -H "Authorization: Bearer $ALICE_PAT"
expect_status 401 "a disabled user's personal token -> 401"
sreq "$ADMIN_C" "$ADMIN_X" PATCH /api/v1/users/admin '{"enabled":false}'
expect_status 409 "an admin cannot disable themself"
sreq "$ADMIN_C" "$ADMIN_X" PATCH /api/v1/users/alice '{"enabled":true}'
expect_status 200 "enable alice again"
me "$A5_C"
expect_status 401 "re-enabling does not revive the old session"
login alice 'alice-password-3'
expect_status 200 "a re-enabled user logs in"
A6_C=$COOKIE

# Deleting a user ends the sessions as well.
sreq "$ADMIN_C" "$ADMIN_X" DELETE /api/v1/users/alice
expect_status 204 "delete alice"
me "$A6_C"
expect_status 401 "a deleted user's session -> 401"

# --- expiry, by editing the session table ---------------------------------
if ! have sqlite3; then
	skip "session expiry" "sqlite3 is not installed"
else
	# Idle: session_idle is 60 s.
	login admin 'admin-password-1'
	IDLE_C=$COOKIE
	H=$(hash_of "$IDLE_C")
	sql "UPDATE session SET last_seen_at = last_seen_at - 100000 WHERE token_hash = '$H'"
	me "$IDLE_C"
	expect_status 401 "a session unused for 100000 s -> 401"

	login admin 'admin-password-1'
	IDLE_C=$COOKIE
	H=$(hash_of "$IDLE_C")
	now=$(date +%s)
	sql "UPDATE session SET last_seen_at = $((now - 75)) WHERE token_hash = '$H'"
	me "$IDLE_C"
	expect_status 401 "a session unused for 75 s (idle 60 s) -> 401"

	login admin 'admin-password-1'
	IDLE_C=$COOKIE
	H=$(hash_of "$IDLE_C")
	now=$(date +%s)
	sql "UPDATE session SET last_seen_at = $((now - 40)) WHERE token_hash = '$H'"
	me "$IDLE_C"
	expect_status 200 "a session unused for 40 s (idle 60 s) -> 200"

	# Activity must restart the idle clock: a session used 2 s ago is
	# not idle, whatever its last_seen_at was before that request.
	login admin 'admin-password-1'
	IDLE_C=$COOKIE
	H=$(hash_of "$IDLE_C")
	now=$(date +%s)
	sql "UPDATE session SET last_seen_at = $((now - 56)) WHERE token_hash = '$H'"
	me "$IDLE_C"
	expect_status 200 "a session unused for 56 s (idle 60 s) -> 200"
	sleep 6
	me "$IDLE_C"
	expect_status 200 "a session used 6 s ago is not idle (idle 60 s)"

	# Absolute: session_max_hours is 1, whatever the activity.
	login admin 'admin-password-1'
	ABS_C=$COOKIE
	H=$(hash_of "$ABS_C")
	now=$(date +%s)
	sql "UPDATE session SET created_at = $((now - 3500)) WHERE token_hash = '$H'"
	me "$ABS_C"
	expect_status 200 "a session created 3500 s ago (max 1 h) -> 200"
	sql "UPDATE session SET created_at = $((now - 3700)), last_seen_at = $now WHERE token_hash = '$H'"
	me "$ABS_C"
	expect_status 401 "a session created 3700 s ago, just used (max 1 h) -> 401"
	sql "UPDATE session SET created_at = created_at - 100000 WHERE token_hash = '$H'"
	me "$ABS_C"
	expect_status 401 "a session created long ago -> 401"

	# Expired sessions are swept at start-up.
	stop_server
	start_server "$FAST"
	check "expired sessions are deleted at start-up" \
	    [ "$(sql "SELECT count(*) FROM session WHERE token_hash = '$H'")" = 0 ]
	me "$ADMIN_C"
	expect_status 200 "a live session survives a restart"
fi

# --- Secure behind a trusted https proxy ------------------------------------
stop_server
start_server "$FAST" 'proxy:
  trusted: ["127.0.0.1"]'
login admin 'admin-password-1'
check "trusted proxy, plain http: no Secure ($(header Set-Cookie))" \
    sh -c "! printf '%s' '$(header Set-Cookie)' | grep -qi 'Secure'"
login admin 'admin-password-1' -H 'X-Forwarded-Proto: https'
expect_status 200 "login through a trusted https proxy"
check "trusted proxy with X-Forwarded-Proto: https -> Secure ($(header Set-Cookie))" \
    sh -c "printf '%s' '$(header Set-Cookie)' | grep -qi '; *Secure\\(;\\|\$\\)'"
check "and still HttpOnly and SameSite=Strict" \
    sh -c "printf '%s' '$(header Set-Cookie)' | grep -i 'HttpOnly' | grep -qi 'SameSite=Strict'"

stop_server
start_server "$FAST" 'public_url: https://ota.example.com'
login admin 'admin-password-1'
check "an https public_url -> Secure ($(header Set-Cookie))" \
    sh -c "printf '%s' '$(header Set-Cookie)' | grep -qi '; *Secure'"

finish
