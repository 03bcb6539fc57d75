#!/usr/bin/env bash
# Management API tokens: creation on the command line, Bearer checks, 401s.
. "$(dirname "$0")/lib.sh"

start_server

# Before any token exists every management route is closed.
for path in /api/v1/software /api/v1/devices /api/v1/rollouts \
    /api/v1/devices/x /api/v1/actions/1; do
	req GET "$path"
	expect_status 401 "GET $path without a token -> 401"
	expect_is_error
done

# token create prints exactly one line: the token.
TOKEN=$(make_token admin)
rc=$?
check "token create: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "token create prints one line" [ "$(printf '%s\n' "$TOKEN" | wc -l)" -eq 1 ]
check "token is 16+ characters without spaces" \
    sh -c "echo '$TOKEN' | grep -Eq '^[A-Za-z0-9._~+/=-]{16,}$'"

SECOND=$("$FALCONET" -c "$T/settings.yaml" token create ci 2>/dev/null)
check "a second token differs" [ -n "$SECOND" -a "$SECOND" != "$TOKEN" ]

"$FALCONET" -c "$T/settings.yaml" token create admin >"$T/dup.out" 2>&1
rc=$?
check "token create with a taken name fails (got $rc)" [ "$rc" -ne 0 ]
check "a failed token create prints no token" \
    sh -c "! grep -Eq '^[A-Za-z0-9]{20,}$' '$T/dup.out'"
"$FALCONET" -c "$T/settings.yaml" token create 'bad name' >/dev/null 2>&1
rc=$?
check "token create with a bad name fails (got $rc)" [ "$rc" -ne 0 ]

# A token created while the server runs works at once.
api GET /api/v1/software
expect_status 200 "GET /api/v1/software with the token -> 200"
expect_json .total 0
expect_json '.software | length' 0
api GET /api/v1/devices
expect_status 200
expect_json .total 0
api GET /api/v1/rollouts
expect_status 200
expect_json '.rollouts | length' 0

req GET /api/v1/devices -H "Authorization: Bearer $SECOND"
expect_status 200 "the second token works too"

# Wrong tokens.
bad_auth()
{
	req GET /api/v1/devices -H "Authorization: $1"
	expect_status 401 "Authorization '$2' -> 401"
	expect_is_error
}
bad_auth "Bearer wrong-token-0123456789" "wrong token"
bad_auth "Bearer ${TOKEN}x" "token plus a character"
bad_auth "Bearer ${TOKEN%?}" "token minus a character"
bad_auth "Bearer " "empty Bearer"
bad_auth "Bearer" "Bearer without value"
bad_auth "Basic $(printf 'admin:%s' "$TOKEN" | base64 -w0)" "Basic with the token"
bad_auth "Token $TOKEN" "other scheme"
bad_auth "TargetToken $TOKEN" "DDI scheme"
bad_auth "Bearer $(head -c 6000 /dev/zero | tr '\0' 'A')" "6000-byte token"
req GET /api/v1/devices -H "X-Token: $TOKEN"
expect_status 401 "token in another header -> 401"
req GET "/api/v1/devices?token=$TOKEN"
expect_status 401 "token in the query -> 401"

# Writes need the token too, and nothing is written without it.
req POST /api/v1/devices -H 'Content-Type: application/json' \
    --data-binary '{"controller_id":"sneaky"}'
expect_status 401 "POST /api/v1/devices without a token -> 401"
req POST '/api/v1/software?filename=x.swu' \
    -H 'Content-Type: application/octet-stream' --data-binary 'xxxx'
expect_status 401 "upload without a token -> 401"
check "no temp file left by a refused upload" [ "$(count_files "$T/data/tmp")" -eq 0 ]
req DELETE /api/v1/devices/sneaky -H 'Authorization: Bearer nope'
expect_status 401 "DELETE with a wrong token -> 401"
api GET /api/v1/devices
expect_json .total 0 "nothing was created without a token"

# Secrets stay secret: not in the log, not in the database in clear.
check "the token is not in the server log" \
    sh -c "! grep -qF '$TOKEN' '$T/server.log'"
check "the token is not stored in clear under data_dir" \
    sh -c "! grep -rqF '$TOKEN' '$T/data'"

# Tokens survive a restart.
stop_server
start_server
api GET /api/v1/devices
expect_status 200 "the token works after a restart"

finish
