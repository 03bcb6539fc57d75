#!/usr/bin/env bash
# HTTP Basic for hawkBit's Management API (/rest/v1): operator accounts
# by name and as TENANT\name, hawkBit-shaped 401s with WWW-Authenticate,
# failures counted with POST /api/v1/login's, disabled users and password
# changes seen at once despite the credential cache, Bearer tokens, no
# session cookie, and the command line's --allow-weak-password for the
# admin:admin of test rigs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

CFG=/rest/v1/system/configs
DBFILE=$T/data/falconet.db

# basic USER:PASSWORD [curl args...]: a GET with Basic credentials.
# Each section that fails on purpose sends from its own loopback address
# (--interface 127.0.0.N), so that the per-address limit (4 x
# login_max_failures) of one does not lock out the next.
basic()
{
	local cred=$1
	shift
	req GET "$CFG/pollingTime" -u "$cred" "$@"
}

# ilogin USER PASSWORD [curl args...]: POST /api/v1/login.
ilogin()
{
	local u=$1 p=$2
	shift 2
	post_json /api/v1/login \
	    "$(jq -cn --arg u "$u" --arg p "$p" '{username:$u,password:$p}')" "$@"
}

expect_rest_401()
{
	expect_status 401 "$1 -> 401"
	expect_json .errorCode hawkbit.server.error.unauthorized "$1: hawkBit's errorCode"
	expect_jq '.exceptionClass | endswith("BadCredentialsException")' "$1: exceptionClass"
	expect_jq '.message | type == "string"' "$1: message"
	expect_header WWW-Authenticate 'Basic realm="falconet", charset="UTF-8"' \
	    "$1: WWW-Authenticate: Basic"
}

start_server 'auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1
  login_max_failures: 3' 'tenant: Acme'
TOKEN=$(make_token admin)

# --- --allow-weak-password ---------------------------------------------------
echo admin | falconet_cli user add admin admin 2>"$T/weak.err"
check "admin:admin without the flag is refused" [ $? -ne 0 ]
check "  with the policy's reason" grep -q 'at least 10 characters' "$T/weak.err"
echo admin | falconet_cli user add admin admin --allow-weak-password 2>"$T/weak.err"
check "admin:admin with --allow-weak-password is created" [ $? -eq 0 ]
check "  with a warning" grep -q 'for test rigs only' "$T/weak.err"
printf '\n' | falconet_cli user add empty admin --allow-weak-password 2>/dev/null
check "an empty password is refused even so" [ $? -ne 0 ]
echo alice-pass-1 | falconet_cli user add alice operator 2>>"$T/cli.log"
echo bob-pass-001 | falconet_cli user add bob admin 2>>"$T/cli.log"
echo carol-pass-1 | falconet_cli user add carol admin 2>>"$T/cli.log"

# --- Basic with a user, TENANT\user ------------------------------------------
basic admin:admin
expect_status 200 "admin:admin -> 200"
expect_json .value 00:05:00
basic 'Acme\admin:admin'
expect_status 200 'TENANT\user -> 200'
basic 'ACME\admin:admin'
expect_status 200 'TENANT\user, the tenant in another case -> 200'
basic 'Other\admin:admin'
expect_rest_401 'another tenant\user'
basic 'alice:alice-pass-1'
expect_status 200 "an operator may read"
req PUT "$CFG/pollingTime" -u alice:alice-pass-1 \
    -H 'Content-Type: application/json' --data-binary '{"value":"00:00:10"}'
expect_status 403 "an operator lacks settings.write -> 403"
expect_json .errorCode hawkbit.server.error.insufficientPermission

# --- failures -----------------------------------------------------------------
basic admin:wrong
expect_rest_401 "a wrong password"
basic nobody:whatever-1
expect_rest_401 "an unknown user"
req GET "$CFG" -H 'Authorization: Basic !!!notbase64'
expect_rest_401 "Basic that is not base64"
req GET "$CFG" -H "Authorization: Basic $(printf 'nocolon' | base64)"
expect_rest_401 "Basic without a colon"
req GET "$CFG"
expect_rest_401 "no credentials"
req GET "$CFG" -H 'Authorization: Digest abc'
expect_rest_401 "another scheme"
check "failed Basic logins are logged" grep -q 'failed Basic login for admin' "$T/server.log"
check "no password in the log" sh -c "! grep -q 'alice-pass-1\|admin:wrong' '$T/server.log'"

# --- Bearer, no cookie ----------------------------------------------------------
api GET "$CFG/pollingTime"
expect_status 200 "a Bearer token -> 200"
login admin admin
expect_status 200 "admin logs in to the dashboard"
req GET "$CFG" -H "Cookie: falconet_session=$COOKIE"
expect_rest_401 "the session cookie is not taken on /rest/v1"
req PUT "$CFG/pollingTime" -H "Cookie: falconet_session=$COOKIE" \
    -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
    --data-binary '{"value":"00:00:10"}'
expect_status 401 "nor with its CSRF token"

# --- lockout, counted with /api/v1/login --------------------------------------
B=(--interface 127.0.0.2)
basic bob:wrong-1 "${B[@]}"
expect_status 401 "bob: a wrong Basic password"
ilogin bob wrong-2 "${B[@]}"
expect_status 401 "bob: a wrong login"
basic bob:wrong-3 "${B[@]}"
expect_status 401 "bob: the third failure"
basic bob:bob-pass-001 "${B[@]}"
expect_status 429 "bob: the right password while locked -> 429"
expect_json .errorCode hawkbit.server.error.quota.tooManyEntries
check "  with Retry-After" [ -n "$(header Retry-After)" ]
ilogin bob bob-pass-001 "${B[@]}"
expect_status 429 "bob: /api/v1/login is locked too"
basic bob:bob-pass-001 --interface 127.0.0.5
expect_status 429 "bob: from another address too (the user's limit)"

# A credential in the cache is refused while its user is locked.
C=(--interface 127.0.0.3)
basic carol:carol-pass-1 "${C[@]}"
expect_status 200 "carol -> 200 (now cached)"
ilogin carol wrong-1 "${C[@]}"
ilogin carol wrong-2 "${C[@]}"
ilogin carol wrong-3 "${C[@]}"
expect_status 401 "carol: three failed logins"
basic carol:carol-pass-1 "${C[@]}"
expect_status 429 "carol locked by logins: cached Basic -> 429"

# The address's own limit: 4 x 3 failures under any names.
A=(--interface 127.0.0.6)
for i in $(seq 1 12); do
	basic "nobody$i:wrong-pass" "${A[@]}"
done
expect_status 401 "12 failures from one address under 12 names"
basic admin:admin "${A[@]}"
expect_status 429 "then that address is locked, even for admin:admin"
basic admin:admin
expect_status 200 "another address is not"

# --- the cache ends with the password or the account ----------------------------
D=(--interface 127.0.0.4)
if have sqlite3; then
	basic alice:alice-pass-1 "${D[@]}"
	at1=$(sqlite3 "$DBFILE" "SELECT last_login_at FROM app_user WHERE username='alice'")
	sleep 1.2
	basic alice:alice-pass-1 "${D[@]}"
	expect_status 200 "alice again -> 200"
	at2=$(sqlite3 "$DBFILE" "SELECT last_login_at FROM app_user WHERE username='alice'")
	check "a second request within 60 s is not hashed again ($at1 = $at2)" [ "$at1" = "$at2" ]
else
	skip "sqlite3 is not installed: the cache's use is not observed"
fi
api_json PATCH /api/v1/users/alice '{"password":"alice-pass-2"}'
expect_status 200 "an admin resets alice's password"
basic alice:alice-pass-1 "${D[@]}"
expect_rest_401 "alice's old password at once"
basic alice:alice-pass-2 "${D[@]}"
expect_status 200 "the new one -> 200"
basic alice:alice-pass-2 "${D[@]}"
expect_status 200 "and again (cached)"
api_json PATCH /api/v1/users/alice '{"enabled":false}'
expect_status 200 "alice is disabled"
basic alice:alice-pass-2 "${D[@]}"
expect_rest_401 "a disabled user at once"
api_json PATCH /api/v1/users/alice '{"enabled":true}'
basic alice:alice-pass-2 "${D[@]}"
expect_status 200 "enabled again -> 200"
api DELETE /api/v1/users/alice
expect_status 204 "alice is deleted"
basic alice:alice-pass-2 "${D[@]}"
expect_rest_401 "a deleted user at once"

# --- audit: failed writes are folded, successful ones name the user -----------
for i in 1 2 3; do
	req PUT "$CFG/pollingTime" -u "nobody$i:x-wrong-pass" --interface 127.0.0.7 \
	    -H 'Content-Type: application/json' --data-binary '{"value":"00:00:10"}'
done
req PUT "$CFG/pollingTime" -u 'Acme\admin:admin' \
    -H 'Content-Type: application/json' --data-binary '{"value":"00:00:12"}'
expect_status 204 'a write as TENANT\admin -> 204'
sleep 1.5
api GET '/api/v1/audit?limit=100'
expect_jq '[.entries[] | select(.action == "config.update" and .status == 401)] | .[0].count == 3' \
    "three failed writes fold into one entry"
expect_jq '[.entries[] | select(.action == "config.update" and .status == 204 and .user == "admin")] | length == 1' \
    "the write names the user"
stop_server
finish
