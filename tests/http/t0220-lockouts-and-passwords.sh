#!/usr/bin/env bash
# Lockouts that hold and password hygiene (security findings #2, #12, #15
# and three items of #16):
#  - a locked account stays locked through a flood of junk logins from many
#    source addresses that overfills the limiter's table (loopback aliases,
#    curl --interface 127.0.0.N; the table is made small with
#    auth.login_tracked_keys);
#  - IPv6 clients count per /64 (addresses from a trusted proxy's
#    X-Forwarded-For), IPv4-mapped addresses as IPv4;
#  - the current-password check of /me/password counts against the login
#    limits and is logged; PATCH on your own user needs current_password;
#  - a password change ends the user's personal tokens unless keep_tokens;
#  - sessions: a cap per user, the ended ones purged while running;
#  - the data directory is private (umask 077) and artifacts still download;
#  - the session cookie is __Host-falconet_session over https;
#  - user ids are not given again after a delete, and a deleted user's
#    cookie and token stay dead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

CHEAP='  argon2_memory_kib: 1024
  argon2_iterations: 1'
DBFILE=$T/data/falconet.db

sql()
{
	sqlite3 -cmd '.timeout 5000' "$DBFILE" "$1"
}

hash_of()
{
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# jlogin USER PASSWORD [curl args...]: POST /api/v1/login.
jlogin()
{
	local u=$1 p=$2
	shift 2
	post_json /api/v1/login \
	    "$(jq -cn --arg u "$u" --arg p "$p" '{username:$u,password:$p}')" "$@"
	COOKIE=$(cookie_value)
	CSRF=$(jq -r '.csrf_token // empty' <"$T/body" 2>/dev/null)
}

# sjson COOKIE CSRF METHOD PATH JSON: a JSON request in a session.
sjson()
{
	req "$3" "$4" -H "Cookie: falconet_session=$1" -H "X-CSRF-Token: $2" \
	    -H 'Content-Type: application/json' --data-binary "$5"
}

add_user()
{
	printf '%s\n' "$2" | falconet_cli user add "$1" "$3" >/dev/null 2>&1 ||
	    fail "user add $1"
}

# ===========================================================================
# 1. A lockout survives a full table (finding #2)
# ===========================================================================
start_server "auth:
$CHEAP
  login_max_failures: 3
  login_window: \"00:05:00\"
  login_tracked_keys: 16"
add_user admin2 admin2-password-1 admin

for i in 1 2 3; do
	jlogin admin2 "wrong-$i"
done
expect_status 401 "admin2: 3 wrong passwords -> 401"
jlogin admin2 wrong-4
expect_status 429 "admin2: the 4th -> 429 (locked)"
jlogin admin2 admin2-password-1
expect_status 429 "admin2: the right password while locked -> 429"

# 40 source addresses x 6 junk names: 240 failures, 280 keys for a table
# of 16.  Each address stays under its own limit (12).
pids=()
for ip in $(seq 62 101); do
	(
		for k in 1 2 3 4 5 6; do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
			    --interface "127.0.0.$ip" -H 'Content-Type: application/json' \
			    --data-binary "{\"username\":\"junk-$ip-$k\",\"password\":\"x\"}" \
			    "$BASE/api/v1/login"
		done >"$T/flood.$ip"
	) &
	pids+=($!)
done
wait "${pids[@]}"
cat "$T"/flood.* >"$T/flood"
n401=$(grep -c '^401$' "$T/flood")
check "the flood: 240 junk logins from 40 addresses answered 401 (got $n401)" \
    [ "$n401" -eq 240 ]
jlogin admin2 admin2-password-1
expect_status 429 "admin2 after the flood: still locked (the right password -> 429)"
for i in 5 6; do
	jlogin admin2 "wrong-$i" --interface 127.0.0.150
done
expect_status 429 "admin2 after the flood from a fresh address -> 429, no new guesses"
check "the flood is logged as failed logins" grep -q 'failed login for junk-62-1' "$T/server.log"

# Filling the whole table with locked entries (4 addresses x 4 names x 3
# failures) costs the attacker their own addresses and names; the table
# then refuses names it does not hold (fail closed) rather than forget a
# lockout, and says so in the log.
add_user bystander bystander-password-1 readonly
for ip in 201 202 203 204; do
	for name in a b c d; do
		for i in 1 2 3; do
			jlogin "lock-$ip-$name" x --interface "127.0.0.$ip"
		done
	done
done
jlogin bystander bystander-password-1 --interface 127.0.0.210
expect_status 429 "a table full of lockouts: a name it does not hold -> 429 (fail closed)"
check "  with Retry-After" [ -n "$(header Retry-After)" ]
check "the full table is logged" grep -q 'login limits: all 16 tracked names and addresses are locked' "$T/server.log"
jlogin admin2 admin2-password-1 --interface 127.0.0.210
expect_status 429 "admin2 is still locked"

# ===========================================================================
# 2. Addresses: IPv6 per /64, IPv4-mapped as IPv4 (through a trusted proxy)
# ===========================================================================
start_server "auth:
$CHEAP
  login_max_failures: 3
  login_window: \"00:05:00\"" 'proxy:
  trusted: ["127.0.0.1"]'
add_user v6user v6user-password-1 readonly

for i in $(seq 1 12); do
	jlogin "spray6-$i" wrong -H "X-Forwarded-For: 2001:db8:1:2::$i"
	[ "$STATUS" = 401 ] || fail "spray6-$i from 2001:db8:1:2::$i -> 401" "status $STATUS"
done
pass "12 failures from 12 hosts of 2001:db8:1:2::/64 -> 401 each"
jlogin v6user v6user-password-1 -H 'X-Forwarded-For: 2001:db8:1:2:ffff:1:2:3'
expect_status 429 "another host of the same /64 -> 429"
jlogin v6user v6user-password-1 -H 'X-Forwarded-For: 2001:db8:1:3::1'
expect_status 200 "a host of the next /64 -> 200"

for i in $(seq 1 12); do
	jlogin "spray4-$i" wrong -H 'X-Forwarded-For: ::ffff:10.9.9.9'
done
expect_status 401 "12 failures from ::ffff:10.9.9.9"
jlogin v6user v6user-password-1 -H 'X-Forwarded-For: 10.9.9.9'
expect_status 429 "10.9.9.9 shares the budget of ::ffff:10.9.9.9 -> 429"
jlogin v6user v6user-password-1 -H 'X-Forwarded-For: 10.9.9.10'
expect_status 200 "IPv4 stays per address: 10.9.9.10 -> 200"

# ===========================================================================
# 3. The current password: limited, logged, needed on every route (#12)
# ===========================================================================
# carl guesses his own password from a session: the 4th guess is a 429,
# and so is a login as carl from elsewhere afterwards.
add_user carl carl-password-1 readonly
jlogin carl carl-password-1 -H 'X-Forwarded-For: 10.2.0.1'
expect_status 200 "carl logs in"
CARL_C=$COOKIE CARL_X=$CSRF
for i in 1 2 3; do
	sjson "$CARL_C" "$CARL_X" POST /api/v1/me/password \
	    "{\"current\":\"guess-$i-xxxxxx\",\"new\":\"carl-password-2\"}"
	expect_status 403 "/me/password: wrong current password $i of 3 -> 403"
done
expect_error bad_credentials
sjson "$CARL_C" "$CARL_X" POST /api/v1/me/password \
    '{"current":"guess-4-xxxxxx","new":"carl-password-2"}'
expect_status 429 "/me/password: a 4th guess -> 429"
expect_error too_many_attempts
check "/me/password 429 has Retry-After" [ -n "$(header Retry-After)" ]
sjson "$CARL_C" "$CARL_X" POST /api/v1/me/password \
    '{"current":"carl-password-1","new":"carl-password-2"}'
expect_status 429 "/me/password: even the right one while locked -> 429"
jlogin carl carl-password-1 -H 'X-Forwarded-For: 10.2.0.99'
expect_status 429 "login as carl from another address -> 429 (the same per-user limit)"
check "a wrong current password is logged like a failed login" \
    grep -q 'failed password check for carl from ' "$T/server.log"

# PATCH on your own user: current_password or 403.
add_user dora dora-password-1 admin
add_user eve eve-password-1 readonly
jlogin dora dora-password-1
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" PATCH /api/v1/users/dora '{"password":"dora-password-2"}'
expect_status 403 "PATCH self with a password, no current_password -> 403"
expect_error current_password_required
sjson "$DORA_C" "$DORA_X" PATCH /api/v1/users/dora \
    '{"password":"dora-password-2","current_password":"not-doras-pw"}'
expect_status 403 "PATCH self with a wrong current_password -> 403"
expect_error bad_credentials
jlogin dora dora-password-1
expect_status 200 "dora's password is unchanged"
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" PATCH /api/v1/users/dora \
    '{"password":"dora-password-2","current_password":"dora-password-1"}'
expect_status 200 "PATCH self with the right current_password -> 200"
jlogin dora dora-password-2
expect_status 200 "dora logs in with the new password"
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" PATCH /api/v1/users/eve '{"password":"eve-password-2"}'
expect_status 200 "an admin resets another user's password without theirs -> 200"
jlogin eve eve-password-2
expect_status 200 "eve logs in with the password dora set"

# A personal token of dora (users.write) cannot skip the check either.
sjson "$DORA_C" "$DORA_X" POST /api/v1/tokens '{"name":"dora-cli"}'
expect_status 201 "dora makes a personal token"
DORA_T=$(jq -r .token <"$T/body")
req PATCH /api/v1/users/dora -H "Authorization: Bearer $DORA_T" \
    -H 'Content-Type: application/json' --data-binary '{"password":"dora-password-3"}'
expect_status 403 "PATCH self by personal token without current_password -> 403"

# ===========================================================================
# 4. Personal tokens end with a password change unless kept (#12)
# ===========================================================================
mytoken()
{
	req GET /api/v1/me -H "Authorization: Bearer $1"
}
mytoken "$DORA_T"
expect_status 200 "dora's token works"
sjson "$DORA_C" "$DORA_X" POST /api/v1/me/password \
    '{"current":"dora-password-2","new":"dora-password-3","keep_tokens":true}'
expect_status 204 "/me/password with keep_tokens -> 204"
mytoken "$DORA_T"
expect_status 200 "keep_tokens: the token still works"
jlogin dora dora-password-3
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" POST /api/v1/me/password \
    '{"current":"dora-password-3","new":"dora-password-4"}'
expect_status 204 "/me/password without keep_tokens -> 204"
mytoken "$DORA_T"
expect_status 401 "the password change ended dora's token"
check "the revocation is logged" grep -q 'password of dora changed: 1 personal token(s) revoked' "$T/server.log"

jlogin dora dora-password-4
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" POST /api/v1/tokens '{"name":"dora-cli-2"}'
DORA_T=$(jq -r .token <"$T/body")
jlogin eve eve-password-2
sjson "$COOKIE" "$CSRF" POST /api/v1/tokens '{"name":"eve-cli"}'
EVE_T=$(jq -r .token <"$T/body")
req PATCH /api/v1/users/dora -H "Authorization: Bearer $DORA_T" \
    -H 'Content-Type: application/json' \
    --data-binary '{"password":"dora-password-5","current_password":"dora-password-4","keep_tokens":true}'
expect_status 200 "PATCH self by token with current_password and keep_tokens -> 200"
mytoken "$DORA_T"
expect_status 200 "PATCH with keep_tokens: the token still works"
jlogin dora dora-password-5
DORA_C=$COOKIE DORA_X=$CSRF
sjson "$DORA_C" "$DORA_X" PATCH /api/v1/users/eve '{"password":"eve-password-3"}'
expect_status 200 "an admin resets eve's password"
mytoken "$EVE_T"
expect_status 401 "the reset ended eve's token"

# ===========================================================================
# 5. Sessions: a cap per user, ended ones purged while running (#15)
# ===========================================================================
start_server "auth:
$CHEAP
  login_max_failures: 100
  max_sessions_per_user: 3
  session_purge_interval: \"00:00:01\""
add_user erin erin-password-1 readonly
C=()
for i in 1 2 3 4 5; do
	jlogin erin erin-password-1
	C+=("$COOKIE")
done
ERIN_ID=$(sql "SELECT id FROM app_user WHERE username = 'erin'")
check "5 logins, a cap of 3: 3 session rows (got $(sql "SELECT count(*) FROM session WHERE user_id = $ERIN_ID"))" \
    [ "$(sql "SELECT count(*) FROM session WHERE user_id = $ERIN_ID")" -eq 3 ]
for i in 0 1; do
	req GET /api/v1/me -H "Cookie: falconet_session=${C[$i]}"
	expect_status 401 "erin's session $((i + 1)) of 5 was dropped -> 401"
done
for i in 2 3 4; do
	req GET /api/v1/me -H "Cookie: falconet_session=${C[$i]}"
	expect_status 200 "erin's session $((i + 1)) of 5 -> 200"
done

# An idle-expired session disappears within the purge interval.
sql "UPDATE session SET last_seen_at = last_seen_at - 7200 WHERE token_hash = '$(hash_of "${C[2]}")'"
purged()
{
	[ "$(sql "SELECT count(*) FROM session WHERE user_id = $ERIN_ID")" -eq 2 ]
}
check "an expired session's row is purged while running (within 5 s)" wait_for 5 purged
req GET /api/v1/me -H "Cookie: falconet_session=${C[3]}"
expect_status 200 "the live sessions stay"

# ===========================================================================
# 6. A private data directory (umask 077), artifacts still served (#16)
# ===========================================================================
mode()
{
	stat -c %a "$1"
}
check "data_dir is 0700 (got $(mode "$T/data"))" [ "$(mode "$T/data")" = 700 ]
check "falconet.db is 0600 (got $(mode "$DBFILE"))" [ "$(mode "$DBFILE")" = 600 ]
check "the WAL is 0600 (got $(mode "$DBFILE-wal"))" [ "$(mode "$DBFILE-wal")" = 600 ]
check "artifacts/ is 0700" [ "$(mode "$T/data/artifacts")" = 700 ]
check "tmp/ is 0700" [ "$(mode "$T/data/tmp")" = 700 ]
TOKEN=$(make_token admin)
api_json POST /api/v1/modules '{"type":"application","name":"app","version":"1"}'
MOD=$(jq -r .id <"$T/body")
head -c 5000 /dev/urandom >"$T/app.bin"
api POST "/api/v1/modules/$MOD/artifacts?filename=app.bin" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/app.bin"
expect_status 201 "upload a plain artifact"
ART=$(jq -r .id <"$T/body")
f=$(find "$T/data/artifacts" -type f | head -1)
check "the stored artifact is 0600 (got $(mode "$f"))" [ "$(mode "$f")" = 600 ]
api GET "/api/v1/modules/$MOD/artifacts/$ART/file"
expect_status 200 "the artifact downloads"
check "the download has the uploaded bytes" cmp -s "$T/body" "$T/app.bin"

# A data_dir made beforehand keeps its mode; what the daemon makes in it
# is private.
stop_server
rm -rf "$T/data"
mkdir -m 0755 "$T/data"
start_server "auth:
$CHEAP"
check "a pre-made data_dir keeps its mode (got $(mode "$T/data"))" [ "$(mode "$T/data")" = 755 ]
check "the database in it is 0600 (got $(mode "$DBFILE"))" [ "$(mode "$DBFILE")" = 600 ]

# ===========================================================================
# 7. The session cookie is __Host-falconet_session over https (#16)
# ===========================================================================
start_server "auth:
$CHEAP
  login_max_failures: 100" 'proxy:
  trusted: ["127.0.0.1"]'
add_user fay fay-password-1 readonly
jlogin fay fay-password-1
SC=$(header Set-Cookie)
check "over http the cookie is falconet_session ($SC)" sh -c "printf '%s' '$SC' | grep -q '^falconet_session='"
HTTP_C=$COOKIE
jlogin fay fay-password-1 -H 'X-Forwarded-Proto: https'
SC=$(header Set-Cookie)
check "over https the cookie is __Host-falconet_session ($SC)" \
    sh -c "printf '%s' '$SC' | grep -q '^__Host-falconet_session=[A-Za-z0-9]*; Path=/;'"
check "  with Secure" sh -c "printf '%s' '$SC' | grep -qi '; *Secure\\(;\\|\$\\)'"
check "  and no Domain" sh -c "! printf '%s' '$SC' | grep -qi 'Domain='"
HTTPS_C=$(printf '%s' "$SC" | sed -n 's/^__Host-falconet_session=\([^;]*\);.*/\1/p')
req GET /api/v1/me -H 'X-Forwarded-Proto: https' -H "Cookie: __Host-falconet_session=$HTTPS_C"
expect_status 200 "https: the __Host- cookie is accepted"
req GET /api/v1/me -H 'X-Forwarded-Proto: https' -H "Cookie: falconet_session=$HTTPS_C"
expect_status 401 "https: the same value under the plain name -> 401"
req GET /api/v1/me -H 'X-Forwarded-Proto: https' \
    -H "Cookie: falconet_session=$HTTP_C; __Host-falconet_session=$HTTPS_C"
expect_status 200 "https: a planted plain cookie beside it does not matter"
req GET /api/v1/me -H "Cookie: falconet_session=$HTTP_C"
expect_status 200 "http: the plain cookie is accepted"
req GET /api/v1/me -H "Cookie: __Host-falconet_session=$HTTPS_C"
expect_status 401 "http: the __Host- name is not read"
req POST /api/v1/logout -H 'X-Forwarded-Proto: https' \
    -H "Cookie: __Host-falconet_session=$HTTPS_C" -H "X-CSRF-Token: $CSRF"
expect_status 204 "https: logout -> 204"
SC=$(header Set-Cookie)
check "logout clears the __Host- cookie, Secure ($SC)" \
    sh -c "printf '%s' '$SC' | grep -q '^__Host-falconet_session=; Path=/;.*Max-Age=0; Secure'"
req GET /api/v1/me -H 'X-Forwarded-Proto: https' -H "Cookie: __Host-falconet_session=$HTTPS_C"
expect_status 401 "https: the session ended with the logout"

# ===========================================================================
# 8. A deleted user's id is not given to the next user (#16)
# ===========================================================================
TOKEN=$(make_token root)
add_user gone gone-password-1 admin
GONE_ID=$(sql "SELECT id FROM app_user WHERE username = 'gone'")
jlogin gone gone-password-1
GONE_C=$COOKIE
sjson "$GONE_C" "$CSRF" POST /api/v1/tokens '{"name":"gone-cli"}'
GONE_T=$(jq -r .token <"$T/body")
api DELETE /api/v1/users/gone
expect_status 204 "delete user gone"
add_user newcomer newcomer-password-1 admin
NEW_ID=$(sql "SELECT id FROM app_user WHERE username = 'newcomer'")
check "the new user gets a new id, not the deleted user's ($GONE_ID < $NEW_ID)" \
    [ "${NEW_ID:-0}" -gt "${GONE_ID:-0}" ]
req GET /api/v1/me -H "Cookie: falconet_session=$GONE_C"
expect_status 401 "the deleted user's cookie -> 401"
req GET /api/v1/me -H "Authorization: Bearer $GONE_T"
expect_status 401 "the deleted user's token -> 401"
check "no session or token row points at the deleted id" \
    [ "$(sql "SELECT (SELECT count(*) FROM session WHERE user_id = $GONE_ID) + (SELECT count(*) FROM api_token WHERE user_id = $GONE_ID)")" -eq 0 ]
# The counter lives in the database: a restart does not rewind it.
api DELETE /api/v1/users/newcomer
start_server "auth:
$CHEAP
  login_max_failures: 100"
add_user third third-password-1 readonly
THIRD_ID=$(sql "SELECT id FROM app_user WHERE username = 'third'")
check "after deleting the newest user and a restart, the next id is new ($NEW_ID < $THIRD_ID)" \
    [ "${THIRD_ID:-0}" -gt "${NEW_ID:-0}" ]
jlogin newcomer newcomer-password-1
expect_status 401 "the deleted newcomer cannot log in"
# A row written past the counter (by hand) moves it on.
sql "INSERT INTO app_user (id, username, password, created_at) VALUES (100, 'byhand', 'x', 0)"
add_user fourth fourth-password-1 readonly
check "a user row written by hand with id 100: the next user gets 101" \
    [ "$(sql "SELECT id FROM app_user WHERE username = 'fourth'")" = 101 ]
add_user newcomer newcomer-password-1 admin
jlogin newcomer newcomer-password-1
expect_status 200 "the new user logs in"

finish
