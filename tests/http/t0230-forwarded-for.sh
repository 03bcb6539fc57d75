#!/usr/bin/env bash
# X-Forwarded-For from a trusted proxy is read from its end (finding #3).
# curl on 127.0.0.1 plays the proxy: it appends the real client address
# to a header the client wrote.  However long the client's part, the
# address used for the login limits, the audit log, the server log and a
# device's last_address is the proxy's entry: the rightmost address that
# is not a trusted proxy itself.  An entry that is not an address leaves
# the socket peer, and a second X-Forwarded-For line (HAProxy adds one)
# reads as the list's continuation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

start_server "$FAST" 'auth:
  login_max_failures: 3' 'proxy:
  trusted: ["127.0.0.1", "10.9.0.0/16"]'
TOKEN=$(make_token admin)

# spoof N [LEN]: a LEN-byte header of the client's own (1,023 by default:
# what the old 1 KiB copy kept), ending in 10.66.66.N.
spoof()
{
	local tail=", 10.66.66.$1" len=${2:-1023}
	printf '%s%s' "$(head -c $((len - ${#tail})) /dev/zero | tr '\0' A)" "$tail"
}

# --- login limits: 12 failures per address (4 x login_max_failures) --------
codes=
for i in $(seq 1 14); do
	post_json /api/v1/login "{\"username\":\"v$i\",\"password\":\"wrong-password\"}" \
	    -H "X-Forwarded-For: $(spoof "$i"), 203.0.113.10"
	codes="$codes $STATUS"
done
check "a padded header keeps the real address for the limits: 12 x 401, then 429 ($codes)" \
    [ "$codes" = "$(printf ' 401%.0s' $(seq 12)) 429 429" ]
check "the server log names the real address" \
    grep -q 'failed login for v12 from 203\.0\.113\.10$' "$T/server.log"
check "no forged address in the server log" \
    sh -c "! grep -q 'from 10\.66\.66\.' '$T/server.log'"
api GET "/api/v1/audit?limit=100"
expect_jq '[.entries[] | select(.action == "login")] | length > 0' "login failures are audited"
expect_jq 'all(.entries[] | select(.action == "login"); .address == "203.0.113.10")' \
    "every login entry has the real address"
expect_jq '[.entries[] | select(.address | test("^10\\.66"))] | length == 0' \
    "no audit entry has a forged address"

# --- a device's last_address --------------------------------------------------
ddi GET xff-dev "" -H "X-Forwarded-For: $(spoof 99), 198.51.100.7"
expect_status 200 "a device polls through the proxy with a padded header"
last_address_is()
{
	api GET /api/v1/devices/xff-dev
	[ "$(jq -r .last_address <"$T/body")" = "$1" ]
}
check "the device's last_address is the real one (198.51.100.7)" \
    wait_for 5 last_address_is 198.51.100.7

# --- the list's other shapes ----------------------------------------------------
# login_as_from NAME XFF...: a failed login with those header lines; the
# address the server log gives it.
from_of()
{
	local name=$1 args=() h
	shift
	for h in "$@"; do args+=(-H "X-Forwarded-For: $h"); done
	post_json /api/v1/login "{\"username\":\"$name\",\"password\":\"wrong-password\"}" "${args[@]}"
	sed -n "s/.*failed login for $name from \\(.*\\)\$/\\1/p" "$T/server.log" | tail -n 1
}
got=$(from_of padded "$(spoof 1 8000), 198.51.100.6")
check "an 8,000-byte header: the proxy's entry ($got)" [ "$got" = 198.51.100.6 ]
got=$(from_of two-lines 6.6.6.6 198.51.100.8)
check "a second header line continues the list: the proxy's own line counts ($got)" \
    [ "$got" = 198.51.100.8 ]
got=$(from_of hops "198.51.100.9, 10.9.1.1, 127.0.0.1")
check "trusted proxies in the list are skipped (real_ip_recursive) ($got)" \
    [ "$got" = 198.51.100.9 ]
got=$(from_of mapped "::ffff:198.51.100.10")
check "an IPv4-mapped IPv6 entry is the IPv4 address ($got)" [ "$got" = 198.51.100.10 ]
got=$(from_of v6 "6.6.6.6, 2001:db8::1")
check "an IPv6 entry ($got)" [ "$got" = 2001:db8::1 ]
got=$(from_of junk "198.51.100.11, unknown")
check "an entry that is not an address leaves the socket peer ($got)" [ "$got" = 127.0.0.1 ]
got=$(from_of long "198.51.100.12, $(head -c 100 /dev/zero | tr '\0' 1)")
check "an over-long entry leaves the socket peer ($got)" [ "$got" = 127.0.0.1 ]
got=$(from_of empties "6.6.6.6,, 198.51.100.13 ,")
check "empty list elements are skipped ($got)" [ "$got" = 198.51.100.13 ]

# --- an untrusted peer's header counts for nothing -----------------------------
start_server "$FAST"
got=$(from_of untrusted 198.51.100.14)
check "without proxy.trusted the header is ignored ($got)" [ "$got" = 127.0.0.1 ]

finish
