#!/usr/bin/env bash
# First-run set-up: GET /api/v1/setup, the one-time token from the server
# log, password rules, the first admin's session cookie, and that set-up is
# closed for good once any user exists (through the API or the command
# line).  `falconet user add` reads the password from standard input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

# setup_tokens: every one-time set-up token logged so far, one a line.
setup_tokens()
{
	sed -n 's,.*/ui/#/setup?token=\([A-Za-z0-9]*\).*,\1,p' "$T/server.log"
}

# post_json PATH JSON [curl args...]: an unauthenticated JSON POST.

# setup TOKEN USER PASSWORD: POST /api/v1/setup (TOKEN "-" = no token).
setup()
{
	local body
	if [ "$1" = - ]; then
		body=$(jq -cn --arg u "$2" --arg p "$3" '{username:$u,password:$p}')
	else
		body=$(jq -cn --arg t "$1" --arg u "$2" --arg p "$3" \
		    '{token:$t,username:$u,password:$p}')
	fi
	post_json /api/v1/setup "$body"
}

# cookie_value: the falconet_session value set by the last answer.

# login USER PASSWORD: sets COOKIE and CSRF ("" on failure).

# with_cookie METHOD PATH [curl args...]: a request in the session COOKIE.
with_cookie()
{
	local method=$1 path=$2
	shift 2
	req "$method" "$path" -H "Cookie: falconet_session=$COOKIE" "$@"
}

start_server "$FAST"

# --- before set-up -------------------------------------------------------
req GET /api/v1/setup
expect_status 200 "GET /api/v1/setup without credentials -> 200"
expect_json .needed true "set-up is needed on first run"
SETUP=$(setup_tokens | tail -n 1)
check "the server logs a one-time set-up token" [ -n "$SETUP" ]
check "the set-up token is 20+ characters (got ${#SETUP})" [ "${#SETUP}" -ge 20 ]

setup - admin 'correct-horse-battery'
expect_status 403 "setup without a token -> 403"
expect_error setup_closed
setup "" admin 'correct-horse-battery'
expect_status 403 "setup with an empty token -> 403"
setup "${SETUP}x" admin 'correct-horse-battery'
expect_status 403 "setup with the token plus a character -> 403"
setup "${SETUP%?}" admin 'correct-horse-battery'
expect_status 403 "setup with the token minus a character -> 403"
setup "$(echo "$SETUP" | tr 'A-Za-z' 'a-zA-Z')" admin 'correct-horse-battery'
expect_status 403 "setup with the token in another case -> 403"
setup wrong-token-0123456789abcdefghij admin 'correct-horse-battery'
expect_status 403 "setup with a wrong token -> 403"
expect_error setup_closed
check "no cookie after a refused setup" [ -z "$(cookie_value)" ]
setup wrong-token admin short
expect_status 403 "a wrong token is refused before the password is judged"
post_json /api/v1/setup "{\"token\":1234,\"username\":\"admin\",\"password\":\"correct-horse-battery\"}"
expect_status 400 "setup with a numeric token -> 400"
req POST /api/v1/setup -H "Authorization: Bearer $SETUP" \
    -H 'Content-Type: application/json' \
    --data-binary '{"username":"admin","password":"correct-horse-battery"}'
expect_status 403 "the set-up token as a Bearer header does not count -> 403"

setup "$SETUP" admin short
expect_status 400 "setup with a 5-character password -> 400"
expect_error weak_password
setup "$SETUP" admin 123456789
expect_status 400 "setup with a 9-character password -> 400"
expect_error weak_password
setup "$SETUP" admin "$(head -c 257 /dev/zero | tr '\0' 'p')"
expect_status 400 "setup with a 257-character password -> 400"
expect_error weak_password
post_json /api/v1/setup "{\"token\":\"$SETUP\",\"username\":\"admin\"}"
expect_status 400 "setup without a password -> 400"
setup "$SETUP" 'bad name' 'correct-horse-battery'
expect_status 400 "setup with a user name with a space -> 400"
setup "$SETUP" '' 'correct-horse-battery'
expect_status 400 "setup with an empty user name -> 400"
post_json /api/v1/setup "{\"token\":\"$SETUP\",\"username\":\"admin\",\"password\":\"correct-horse-battery\",\"role\":\"readonly\"}"
expect_status 400 "setup with an unknown field -> 400"
req GET /api/v1/setup
expect_json .needed true "refused set-ups leave set-up needed"

# Nothing is open before set-up: the management API needs credentials.
req GET /api/v1/users
expect_status 401 "GET /api/v1/users before set-up -> 401"
req GET /api/v1/me
expect_status 401 "GET /api/v1/me before set-up -> 401"

# --- set-up --------------------------------------------------------------
setup "$SETUP" admin 'correct-horse-battery'
expect_status 201 "setup with the token and a good password -> 201"
expect_json .username admin
expect_json .permissions '["*"]' "the first user is an admin"
expect_jq '.csrf_token | type == "string" and length >= 16' \
    "setup answers a csrf_token"
expect_jq 'has("password") | not' "setup does not echo the password"
CSRF=$(jq -r .csrf_token <"$T/body")
SETCOOKIE=$(header Set-Cookie)
COOKIE=$(cookie_value)
check "setup sets the falconet_session cookie" [ -n "$COOKIE" ]
check "the cookie is HttpOnly ($SETCOOKIE)" \
    sh -c "printf '%s' '$SETCOOKIE' | grep -qi '; *HttpOnly'"
check "the cookie is SameSite=Strict" \
    sh -c "printf '%s' '$SETCOOKIE' | grep -qi '; *SameSite=Strict'"
check "the cookie has Path=/" \
    sh -c "printf '%s' '$SETCOOKIE' | grep -qi '; *Path=/\\(;\\|\$\\)'"
check "the cookie is not Secure over plain http" \
    sh -c "! printf '%s' '$SETCOOKIE' | grep -qi 'Secure'"
check "the cookie value is not the CSRF token" [ "$COOKIE" != "$CSRF" ]

with_cookie GET /api/v1/me
expect_status 200 "GET /api/v1/me with the set-up cookie -> 200"
expect_json .username admin
expect_json .session true
expect_json .csrf_token "$CSRF" "/me gives the session's csrf_token"

req GET /api/v1/setup
expect_json .needed false "set-up is no longer needed"

# --- closed for good -------------------------------------------------------
setup "$SETUP" admin2 'correct-horse-battery'
expect_status 403 "setup again with the right token -> 403"
expect_error setup_closed
check "no cookie from a refused second setup" [ -z "$(cookie_value)" ]
setup "$SETUP" admin 'another-password-1'
expect_status 403 "setup again for the same user name -> 403"
setup "$SETUP" admin short
expect_status 403 "setup again with a weak password -> 403 (closed first)"
with_cookie GET /api/v1/users
expect_status 200
expect_json '.users | length' 1 "setup again created no user"
login admin 'another-password-1'
expect_status 401 "a refused second setup did not change the password"
login admin 'correct-horse-battery'
expect_status 200 "the first admin logs in with the set-up password"

check "the password is not in the server log" \
    sh -c "! grep -qF 'correct-horse-battery' '$T/server.log'"
check "the session cookie is not in the server log" \
    sh -c "! grep -qF '$COOKIE' '$T/server.log'"

# --- the command line: second user, duplicates, bad input ---------------
printf 'second-password-1\n' | falconet_cli user add second operator \
    >"$T/cli.out" 2>&1
rc=$?
check "user add second operator: exit 0 (got $rc)" \
    [ "$rc" -eq 0 ]
printf 'other-password-22\n' | falconet_cli user add second readonly \
    >"$T/cli.out" 2>&1
rc=$?
check "user add of an existing name fails (got $rc)" [ "$rc" -ne 0 ]
check "the duplicate error says the user exists" \
    grep -qi 'exists' "$T/cli.out"
printf 'other-password-22\n' | falconet_cli user add admin \
    >"$T/cli.out" 2>&1
rc=$?
check "user add of the set-up admin's name fails (got $rc)" [ "$rc" -ne 0 ]
printf 'short\n' | falconet_cli user add third >"$T/cli.out" 2>&1
rc=$?
check "user add with a short password fails (got $rc)" [ "$rc" -ne 0 ]
falconet_cli user add fourth </dev/null >"$T/cli.out" 2>&1
rc=$?
check "user add without a password on stdin fails (got $rc)" [ "$rc" -ne 0 ]
printf 'fifth-password-1\n' | falconet_cli user add fifth superuser \
    >"$T/cli.out" 2>&1
rc=$?
check "user add with an unknown role fails (got $rc)" [ "$rc" -ne 0 ]
printf 'sixth-password-1\n' | falconet_cli user add 'bad name' \
    >"$T/cli.out" 2>&1
rc=$?
check "user add with a bad name fails (got $rc)" [ "$rc" -ne 0 ]

login admin 'correct-horse-battery'
with_cookie GET /api/v1/users
expect_status 200
expect_json '[.users[].username] | sort | join(",")' "admin,second" \
    "only admin and second exist"
expect_json '.users[] | select(.username == "second") | .permissions | sort | join(",")' \
    "audit.read,device,metrics.read,rollout,settings.read,software" \
    "second has the operator role"
check "the CLI password is not in the server log" \
    sh -c "! grep -qF 'second-password-1' '$T/server.log'"

login second 'second-password-1'
expect_status 200 "the CLI-made user logs in while the server runs"
login second 'other-password-22'
expect_status 401 "the duplicate user add did not change the password"

setup "$SETUP" third 'correct-horse-battery'
expect_status 403 "setup with the old token after CLI users -> 403"
req GET /api/v1/setup
expect_json .needed false

# --- a restart with users: no set-up token at all ------------------------
before=$(setup_tokens | wc -l)
stop_server
start_server "$FAST"
after=$(setup_tokens | wc -l)
check "no set-up token is logged when users exist" [ "$after" -eq "$before" ]
req GET /api/v1/setup
expect_json .needed false "set-up not needed after a restart"
setup "$SETUP" third 'correct-horse-battery'
expect_status 403 "the old set-up token is refused after a restart"

# --- a fresh data directory: the CLI user closes set-up ------------------
stop_server
start_server "$FAST" "data_dir: $T/data2"
SETUP2=$(setup_tokens | tail -n 1)
check "a fresh data dir logs a new set-up token" \
    [ -n "$SETUP2" -a "$SETUP2" != "$SETUP" ]
req GET /api/v1/setup
expect_json .needed true "set-up needed with a fresh data dir"
printf 'first-cli-password\n' | falconet_cli user add root >"$T/cli.out" 2>&1
rc=$?
check "user add on a fresh data dir: exit 0 (got $rc)" [ "$rc" -eq 0 ]
req GET /api/v1/setup
expect_json .needed false "a CLI user closes set-up"
setup "$SETUP2" admin 'correct-horse-battery'
expect_status 403 "setup after a CLI user, with the right token -> 403"
expect_error setup_closed
login root 'first-cli-password'
expect_status 200 "the CLI user (admin by default) logs in"
expect_json .permissions '["*"]' "user add without a role makes an admin"

# --- concurrent set-ups: exactly one wins -------------------------------
stop_server
start_server "$FAST" "data_dir: $T/data3"
SETUP3=$(setup_tokens | tail -n 1)
pids=
for i in 1 2 3 4 5 6; do
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' \
	    -H 'Content-Type: application/json' \
	    --data-binary "{\"token\":\"$SETUP3\",\"username\":\"racer$i\",\"password\":\"correct-horse-battery\"}" \
	    "$BASE/api/v1/setup" >"$T/race.$i" &
	pids="$pids $!"
done
wait $pids
won=$(cat "$T"/race.* | grep -c '^201$')
lost=$(cat "$T"/race.* | grep -c '^403$')
check "6 concurrent set-ups: one 201 (got $won) and five 403 (got $lost)" \
    [ "$won" -eq 1 -a "$lost" -eq 5 ]
printf 'racer-check-pass\n' | falconet_cli user add checker >/dev/null 2>&1
TOKEN=$(make_token t)
api GET /api/v1/users
expect_json '[.users[].username | select(startswith("racer"))] | length' 1 \
    "one racer user exists"

finish
