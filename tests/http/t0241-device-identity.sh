#!/usr/bin/env bash
# Device identity (security finding #14): tofu stores only a token the
# operator API would take (8..128 of [A-Za-z0-9_.-~+/=]); a new device may
# not take a controller id that passes for another (leading or trailing
# spaces, controls, zero-width, bidi and other invisible code points), on
# registration and from operators, while a device already stored under such
# an id stays reachable; and of concurrent first contacts with different
# tokens exactly one wins, the others get 401.
. "$(dirname "$0")/lib.sh"

expect_401()
{
	expect_status 401 "$1 -> 401"
	expect_empty_body "$1: empty body"
}

# expect_constraint NAME: hawkBit's 400 for a controller id.
expect_constraint()
{
	expect_status 400 "$1 -> 400"
	expect_json .errorCode hawkbit.server.error.repo.constraintViolation \
	    "$1: hawkBit errorCode"
}

start_server 'device_auth:
  mode: tofu' 'http:
  threads: 8'
TOKEN=$(make_token admin)

# --- tofu tokens --------------------------------------------------------------
DDI_AUTH="TargetToken x" ddi GET t-001
expect_401 "tofu: a 1-byte token"
api GET /api/v1/devices/t-001
expect_status 404 "tofu: a 1-byte token registers nothing"
DDI_AUTH="TargetToken 1234567" ddi GET t-001
expect_401 "tofu: 7 characters"
DDI_AUTH="TargetToken bad;token-1" ddi GET t-001
expect_401 "tofu: a character the operator API refuses"
DDI_AUTH="TargetToken $(printf 'a%.0s' $(seq 129))" ddi GET t-001
expect_401 "tofu: 129 characters"
DDI_AUTH="TargetToken 12345678" ddi GET t-001
expect_status 200 "tofu: 8 characters register"
api GET /api/v1/devices/t-001
expect_json .has_token true "tofu: the 8-character token is stored"
DDI_AUTH="TargetToken 12345678" ddi GET t-001
expect_status 200 "tofu: and work from then on"
LONG=$(printf 'b%.0s' $(seq 128))
DDI_AUTH="TargetToken $LONG" ddi GET t-002
expect_status 200 "tofu: 128 characters register"
# A device an operator made without a token: its first token is held to the
# same rule.
api_json POST /api/v1/devices '{"controller_id":"t-pre"}'
expect_status 201
DDI_AUTH="TargetToken short" ddi GET t-pre
expect_401 "tofu, pre-registered device: a short first token"
api GET /api/v1/devices/t-pre
expect_json .has_token false "... is not stored"
DDI_AUTH="TargetToken long-enough-1" ddi GET t-pre
expect_status 200 "tofu, pre-registered device: a valid first token"
DDI_AUTH="TargetToken short" ddi GET t-pre
expect_401 "... and only that one from then on"

# --- lookalike controller ids -------------------------------------------------
DDI_AUTH="TargetToken token-k-001" ddi GET k-001
expect_status 200 "k-001 registers"
api GET /api/v1/devices
BEFORE=$(jq -r .total <"$T/body")
# name|percent-encoded id
while IFS='|' read -r name id; do
	DDI_AUTH="TargetToken token-lookalike" ddi GET "$id"
	expect_constraint "new id $name"
	DDI_AUTH="TargetToken token-lookalike" ddi GET "$id" /deploymentBase/1
	expect_constraint "new id $name, on another DDI path"
done <<'EOF'
'k-001 '|k-001%20
' k-001'|%20k-001
k-001 + NBSP|k-001%C2%A0
k-001 + U+200B|k-001%E2%80%8B
k- + ZWJ + 001|k-%E2%80%8D001
k-001 + BOM|k-001%EF%BB%BF
U+202E + 100-k|%E2%80%AE100-k
k- + U+2066 + 001|k-%E2%81%A6001
k-001 + U+2028|k-001%E2%80%A8
k-001 + soft hyphen|k-001%C2%AD
k-001 + C1 NEL|k-001%C2%85
k-001 + a tag character|k-001%F3%A0%80%81
EOF
# (The router already refuses bytes that are not UTF-8.)
DDI_AUTH="TargetToken token-lookalike" ddi GET k-001%FF
expect_status 400 "new id k-001 + a byte that is not UTF-8"
api GET /api/v1/devices
expect_json .total "$BEFORE" "no lookalike was registered"
DDI_AUTH="TargetToken token-k-001" ddi GET k-001
expect_status 200 "k-001 still works"
DDI_AUTH="TargetToken token-k-002" ddi GET K-001
expect_status 200 "K-001 (case) is a different, visible id: registers"
DDI_AUTH="TargetToken token-k-003" ddi GET 'dev%20space'
expect_status 200 "a space inside an id is fine"
DDI_AUTH="TargetToken token-k-004" ddi GET 'caf%C3%A9-001'
expect_status 200 "a visible non-ASCII id is fine"
# A slash or dots are visible too: such an id is a device of its own,
# reached only by its own percent-encoded path, never another device's.
for id in 'k-001%2F' '..%2Fk-001'; do
	DDI_AUTH="TargetToken token-slash-1" ddi GET "$id"
	expect_status 200 "$id (visible) registers as its own device"
	api GET "/api/v1/devices/$id"
	expect_json .controller_id "$(printf '%b' "${id//%2F//}")" \
	    "$id: the API shows the id as it is"
done
DDI_AUTH="TargetToken token-slash-1" ddi GET k-001
expect_401 "k-001 does not take the token of k-001/ or ../k-001"
DDI_AUTH="TargetToken token-k-001" ddi GET k-001
expect_status 200 "k-001 keeps its own"
# Operators are held to the same rule.
for id in 'k-001 ' ' k-001' 'k-001\u200b' '\u202e100-k' 'k-001\u00a0' 'k\u2066-001'; do
	api_json POST /api/v1/devices "{\"controller_id\":\"$id\"}"
	expect_status 400 "operator creates $id -> 400"
	expect_jq '.detail | test("invisible")' "operator creates $id: the rule in the detail"
done
api_json POST /api/v1/devices '{"controller_id":"op-\u00e9-1"}'
expect_status 201 "operator creates a visible non-ASCII id"
# A device stored under such an id before the rule stays reachable.
if have sqlite3; then
	sqlite3 "$T/data/falconet.db" "PRAGMA busy_timeout=5000;
	    INSERT INTO device (controller_id, token_hash, created_at)
	    VALUES ('legacy-1' || char(8203), NULL, 0),
	           (' legacy-2 ', NULL, 0);"
	DDI_AUTH="TargetToken legacy-token-1" ddi GET 'legacy-1%E2%80%8B'
	expect_status 200 "an old device named legacy-1 + U+200B still polls"
	api GET /api/v1/devices/legacy-1%E2%80%8B
	expect_json .has_token true "... and took its tofu token"
	DDI_AUTH="TargetToken legacy-token-1" ddi GET 'legacy-1%E2%80%8B' /deploymentBase/1
	expect_status 404 "... and reaches its other DDI paths (no action: 404)"
	DDI_AUTH="TargetToken legacy-token-2" ddi GET '%20legacy-2%20'
	expect_status 200 "an old device named ' legacy-2 ' still polls"
else
	skip "old devices with lookalike ids stay reachable" "no sqlite3"
fi

# --- the race of first contacts -----------------------------------------------
# race CID ROUND: 16 first polls of CID at once, each with a token of its
# own: the requests are sent up to their last two bytes on 16 connections,
# then those bytes on all of them, so that they meet in the server (on
# today's main, 2 to 6 of them won in about one round in six).  Exactly one
# must win, and its token must be the one stored.
cat >"$T/race.py" <<'PYEOF2'
import socket, sys
port, cid, n, tag = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
socks = []
for i in range(1, n + 1):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = ("GET /DEFAULT/controller/v1/%s HTTP/1.1\r\nHost: x\r\n"
           "Authorization: TargetToken %s-token-%d\r\n"
           "Connection: close\r\n\r\n" % (cid, tag, i)).encode()
    s.sendall(req[:-2])
    socks.append((s, req[-2:], i))
for s, tail, i in socks:
    s.sendall(tail)
for s, tail, i in socks:
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    print(data.split(b" ")[1].decode() if data else "close", i)
PYEOF2
race()
{
	local cid=$1 round=$2 winners win
	python3 "$T/race.py" "$PORT" "$cid" 16 "race-$round" >"$T/race" 2>&1
	winners=$(grep -c '^200 ' "$T/race")
	check "$cid: one of 16 concurrent first contacts wins (got $winners)" \
	    [ "$winners" -eq 1 ]
	check "$cid: the 15 others get 401" \
	    [ "$(grep -c '^401 ' "$T/race")" -eq 15 ]
	win=$(sed -n 's/^200 //p' "$T/race" | head -1)
	DDI_AUTH="TargetToken race-$round-token-$win" ddi GET "$cid"
	expect_status 200 "$cid: the winner's token is the one stored"
	DDI_AUTH="TargetToken race-$round-token-$(((${win:-1} % 16) + 1))" \
	    ddi GET "$cid"
	expect_401 "$cid: a loser's token is not"
}
if have python3; then
	# Unknown devices: device_register.
	for round in 1 2 3 4 5 6 7 8; do
		race "race-new-$round" "$round"
	done
	api GET '/api/v1/devices?q=race-new-&limit=100'
	expect_json .total 8 "each raced device exists once"
	# Devices that exist without a token: device_store_first_token.
	for round in 11 12 13 14 15 16 17 18; do
		api_json POST /api/v1/devices \
		    "{\"controller_id\":\"race-pre-$round\"}"
		expect_status 201
		race "race-pre-$round" "$round"
	done
else
	skip "concurrent first contacts" "no python3"
fi

alive
finish
