#!/usr/bin/env bash
# Login rate limiting: auth.login_max_failures failures per user name
# within auth.login_window, and four times that per client address; a
# blocked login is a 429 with Retry-After even with the right password;
# the block ends with the window.  Client addresses come from
# X-Forwarded-For only when the peer is a trusted proxy.
. "$(dirname "$0")/lib.sh"

LIMITS='auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1
  login_max_failures: 3
  login_window: "00:00:04"'

# login USER PASSWORD [ADDRESS]: from ADDRESS through the (trusted) proxy.
login()
{
	local xff=()
	[ -n "${3:-}" ] && xff=(-H "X-Forwarded-For: $3")
	req POST /api/v1/login -H 'Content-Type: application/json' \
	    --data-binary "$(jq -cn --arg u "$1" --arg p "$2" \
		'{username:$u,password:$p}')" "${xff[@]}"
}

# blocked WHAT: the last answer is a 429 with a sane Retry-After.
blocked()
{
	local ra
	expect_status 429 "$1 -> 429"
	ra=$(header Retry-After)
	check "$1: Retry-After is 1..4 seconds (got '$ra')" \
	    sh -c "[ -n '$ra' ] && [ '$ra' -ge 1 ] 2>/dev/null && [ '$ra' -le 4 ]"
	check "$1: no session cookie" [ -z "$(header Set-Cookie)" ]
	RETRY=${ra:-4}
}

start_server "$LIMITS" 'proxy:
  trusted: ["127.0.0.1"]'
for u in bob carol dave sam tess; do
	printf '%s-password-1\n' "$u" | falconet_cli user add "$u" readonly \
	    >/dev/null 2>&1 || fail "user add $u"
done

# --- successes are not failures ---------------------------------------------
# The limits count failed logins: a busy address (a NAT, a proxy) or a user
# who logs in often is never blocked for logging in successfully.
n=0
for i in $(seq 1 16); do
	login sam sam-password-1 10.0.0.50
	[ "$STATUS" = 200 ] && n=$((n + 1))
done
check "16 successful logins from one address -> 16 x 200 (got $n)" [ "$n" -eq 16 ]
n=0
for i in 1 2 3 4 5 6; do
	login tess tess-password-1 10.0.0.51
	[ "$STATUS" = 200 ] && n=$((n + 1))
done
check "6 successful logins of one user (limit 3) -> 6 x 200 (got $n)" [ "$n" -eq 6 ]

# --- per user name -----------------------------------------------------------
for i in 1 2 3; do
	login bob wrong-password-$i 10.0.0.1
	expect_status 401 "bob: wrong password $i of 3 -> 401"
done
expect_error bad_credentials
login bob wrong-password-4 10.0.0.1
blocked "bob: a 4th wrong password"
expect_error too_many_attempts
login bob bob-password-1 10.0.0.1
blocked "bob: the right password while blocked"
login bob bob-password-1 10.0.0.2
blocked "bob: the right password from another address while blocked"
login carol carol-password-1 10.0.0.1
expect_status 200 "carol logs in from bob's address (3 failures < 12)"
check "a blocked login is logged" grep -q 'failed login for bob' "$T/server.log"

# Unknown user names are limited the same way (no user enumeration).
for i in 1 2 3; do
	login ghost wrong-password-$i 10.0.0.20
	expect_status 401 "ghost (no such user): failure $i -> 401"
done
login ghost wrong-password-4 10.0.0.20
blocked "ghost (no such user): a 4th failure"

# A success clears the user's count.
login carol wrong-password-1 10.0.0.3
login carol wrong-password-2 10.0.0.3
expect_status 401 "carol: 2 failures"
login carol carol-password-1 10.0.0.3
expect_status 200 "carol: the right password after 2 failures -> 200"
login carol wrong-password-3 10.0.0.3
login carol wrong-password-4 10.0.0.3
expect_status 401 "carol: 2 more failures after a success -> 401, not 429"
login carol carol-password-1 10.0.0.3
expect_status 200 "carol: the count was reset by the success"

# --- per address: 4 x 3 = 12 failures over different names ----------------
for i in $(seq 1 12); do
	login "spray$i" wrong-password 10.0.0.9
	[ "$STATUS" = 401 ] || fail "spray$i from 10.0.0.9 -> 401" "status $STATUS"
done
pass "12 failures over 12 user names from 10.0.0.9 -> 401 each"
login dave dave-password-1 10.0.0.9
blocked "dave from 10.0.0.9 after 12 failures there"
login spray13 wrong-password 10.0.0.9
blocked "a 13th user name from 10.0.0.9"
login dave dave-password-1 10.0.0.10
expect_status 200 "dave from another address -> 200"
# Refusals by the address limit are not the user's failures.
for i in 1 2 3; do
	login dave dave-password-1 10.0.0.9
done
expect_status 429 "dave from 10.0.0.9, 3 more times -> 429"
login dave dave-password-1 10.0.0.10
expect_status 200 "dave from another address after 3 address refusals -> 200"

# --- after the window --------------------------------------------------------
sleep "$((RETRY + 1))"
login bob bob-password-1 10.0.0.1
expect_status 200 "bob: the right password after the window -> 200"
login dave dave-password-1 10.0.0.9
expect_status 200 "dave from 10.0.0.9 after the window -> 200"
login bob wrong-password-5 10.0.0.1
expect_status 401 "bob: a new window counts from zero"

# --- no trusted proxy: X-Forwarded-For cannot spread the attempts ----------
stop_server
start_server "$LIMITS"
for i in $(seq 1 12); do
	login "spoof$i" wrong-password "10.1.0.$i"
	[ "$STATUS" = 401 ] || fail "spoof$i -> 401" "status $STATUS"
done
pass "12 failures with 12 forged X-Forwarded-For addresses -> 401 each"
login dave dave-password-1 10.1.0.99
blocked "a forged X-Forwarded-For does not escape the address limit"
login dave dave-password-1
blocked "dave from 127.0.0.1 after 12 failures there"

# --- concurrent guesses: the limit holds for a burst too -----------------
# The check and the count must be one step: 16 wrong passwords sent at
# once may not buy more than login_max_failures password checks.  The
# argon2 cost (64 MiB, 3 passes) keeps each check in flight long enough to
# tell.
stop_server
start_server 'auth:
  argon2_memory_kib: 65536
  argon2_iterations: 3
  login_max_failures: 3
  login_window: "00:05:00"' 'http:
  threads: 8'
printf 'burst-password-1\n' | falconet_cli user add burst readonly \
    >/dev/null 2>&1 || fail "user add burst (hashed at 64 MiB)"
args=()
for i in $(seq 1 16); do
	args+=(-o /dev/null "$BASE/api/v1/login")
done
# One curl, all 16 requests in flight at once.
curl -s --max-time 30 --parallel --parallel-immediate --parallel-max 16 \
    -H 'Content-Type: application/json' \
    --data-binary '{"username":"burst","password":"burst-guess-1"}' \
    -w '%{http_code}\n' "${args[@]}" >"$T/burst.codes"
n401=$(grep -c '^401$' "$T/burst.codes")
n429=$(grep -c '^429$' "$T/burst.codes")
check "16 concurrent wrong logins: at most 3 checked (401: $n401, 429: $n429)" \
    [ "$n401" -le 3 -a "$((n401 + n429))" -eq 16 ]

finish
