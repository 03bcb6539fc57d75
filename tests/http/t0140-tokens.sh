#!/usr/bin/env bash
# Personal API tokens: shown once at creation and never again, usable as
# Bearer tokens, deleted by their owner only (another user gets a 404),
# managed from a session or by a token with users.write (any token may
# delete itself), dead at once after deletion and with their user.
# Command-line tokens (falconet token create) have full access and are
# deleted on the command line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

# as WHO METHOD PATH [JSON]: WHO is a user logged in below (a session).
declare -A COOKIES CSRFS
as()
{
	local who=$1 method=$2 path=$3 json=${4:-}
	local args=(-H "Cookie: falconet_session=${COOKIES[$who]}"
	    -H "X-CSRF-Token: ${CSRFS[$who]}")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

# bearer TOKEN METHOD PATH [JSON]
bearer()
{
	local tok=$1 method=$2 path=$3 json=${4:-}
	local args=(-H "Authorization: Bearer $tok")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

start_server "$FAST"
printf 'admin-password-1\n' | falconet_cli user add admin >/dev/null 2>&1 ||
    fail "user add admin"
printf 'olga-password-1\n' | falconet_cli user add olga operator \
    >/dev/null 2>&1 || fail "user add olga"
for u in admin olga; do
	login "$u" "$u-password-1"
	expect_status 200 "login $u"
	COOKIES[$u]=$COOKIE CSRFS[$u]=$CSRF
done

# --- create: the token is shown once -------------------------------------
as admin POST /api/v1/tokens '{"name":"ci"}'
expect_status 201 "create a personal token -> 201"
expect_json .name ci
expect_json .permissions '["*"]' "the token gets its user's grants by default"
expect_jq '.id | type == "number"' "the answer has the token's id"
expect_jq '.token | type == "string" and length >= 32' "the answer shows the token"
CI=$(jq -r .token <"$T/body")
CI_ID=$(jq -r .id <"$T/body")
check "the token has no spaces or quotes" \
    sh -c "echo '$CI' | grep -Eq '^[A-Za-z0-9._~+/=-]+$'"

as admin GET /api/v1/tokens
expect_status 200 "GET /api/v1/tokens -> 200"
expect_json '[.tokens[].name] | join(",")' ci "the list has the token"
expect_jq '.tokens[0] | has("token") | not' "the list has no token field"
expect_jq '[.. | strings | select(length >= 32)] | length == 0' \
    "no long secret-looking string in the list"
check "the token value is not in the list" \
    sh -c "! grep -qF '$CI' '$T/body'"
expect_json '.tokens[0].id' "$CI_ID"
expect_json '.tokens[0].last_used_at' null "an unused token has last_used_at null"
expect_jq '.tokens[0].created_at | type == "number"' "created_at is a number"

as admin POST /api/v1/tokens '{"name":"ci"}'
expect_status 409 "a second token with the same name -> 409"
as admin POST /api/v1/tokens '{"name":"bad name"}'
expect_status 400 "a token name with a space -> 400"
as admin POST /api/v1/tokens '{}'
expect_status 400 "a token without a name -> 400"
as admin POST /api/v1/tokens '{"name":"x","token":"chosen-by-me-0123456789"}'
expect_status 400 "a caller-chosen token value -> 400"

# --- use ---------------------------------------------------------------
bearer "$CI" GET /api/v1/devices
expect_status 200 "the token works as a Bearer token"
bearer "$CI" GET /api/v1/me
expect_json .username admin "the token acts as its user"
expect_json .session false
bearer "$CI" POST /api/v1/devices '{"controller_id":"made-by-ci"}'
expect_status 201 "the token writes (no CSRF token needed)"
as admin GET /api/v1/tokens
expect_jq '.tokens[0].last_used_at | type == "number"' "use sets last_used_at"
req GET /api/v1/devices -H "Authorization: bearer $CI"
expect_status 401 "the scheme is case-sensitive: 'bearer' -> 401"
req GET /api/v1/devices -H "Cookie: falconet_session=$CI"
expect_status 401 "the token as a session cookie -> 401"

check "the token is not in the server log" \
    sh -c "! grep -qF '$CI' '$T/server.log'"
check "the token is not stored in clear" \
    sh -c "! grep -rqaF '$CI' '$T/data'"

# --- another user cannot see or delete it ---------------------------------
as olga GET /api/v1/tokens
expect_status 200
expect_json '.tokens | length' 0 "olga does not see admin's tokens"
as olga DELETE "/api/v1/tokens/$CI_ID"
expect_status 404 "olga deletes admin's token -> 404"
bearer "$CI" GET /api/v1/devices
expect_status 200 "the token survives another user's delete"
as olga POST /api/v1/tokens '{"name":"ci"}'
expect_status 201 "olga may have a token of the same name"
OLGA=$(jq -r .token <"$T/body")
OLGA_ID=$(jq -r .id <"$T/body")
bearer "$OLGA" DELETE "/api/v1/tokens/$CI_ID"
expect_status 403 "olga's token (no users.write) deletes admin's token -> 403"
bearer "$CI" DELETE "/api/v1/tokens/$OLGA_ID"
expect_status 404 "admin's token deletes olga's token -> 404 (owner only)"
bearer "$OLGA" GET /api/v1/devices
expect_status 200 "olga's token is alive"
as admin DELETE /api/v1/tokens/abc
expect_status '400|404' "DELETE /api/v1/tokens/abc"
as admin DELETE /api/v1/tokens/999999
expect_status 404 "DELETE an unknown token id -> 404"

# --- delete ----------------------------------------------------------------
as admin DELETE "/api/v1/tokens/$CI_ID"
expect_status 204 "the owner deletes the token -> 204"
bearer "$CI" GET /api/v1/devices
expect_status 401 "a deleted token -> 401"
bearer "$CI" POST /api/v1/devices '{"controller_id":"after-delete"}'
expect_status 401 "a deleted token cannot write"
as admin DELETE "/api/v1/tokens/$CI_ID"
expect_status 404 "deleting it again -> 404"
as admin GET /api/v1/tokens
expect_json '.tokens | length' 0 "the list is empty"

# A token can delete itself.
bearer "$OLGA" DELETE "/api/v1/tokens/$OLGA_ID"
expect_status 204 "a token deletes itself -> 204"
bearer "$OLGA" GET /api/v1/devices
expect_status 401 "the self-deleted token -> 401"

# Tokens die with their user.
as admin POST /api/v1/users '{"username":"temp","password":"temp-password-1","role":"operator"}'
expect_status 201 "create user temp"
login temp temp-password-1
COOKIES[temp]=$COOKIE CSRFS[temp]=$CSRF
as temp POST /api/v1/tokens '{"name":"t"}'
expect_status 201 "temp creates a token"
TEMP=$(jq -r .token <"$T/body")
bearer "$TEMP" GET /api/v1/devices
expect_status 200 "temp's token works"
as admin DELETE /api/v1/users/temp
expect_status 204 "delete user temp"
bearer "$TEMP" GET /api/v1/devices
expect_status 401 "a deleted user's token -> 401"

# --- command-line tokens ---------------------------------------------------
BOT=$(make_token ci-bot)
check "falconet token create prints a token" [ -n "$BOT" ]
for path in /api/v1/users /api/v1/audit /api/v1/settings /api/v1/stats \
    /metrics /api/v1/software /api/v1/rollouts /api/v1/devices; do
	bearer "$BOT" GET "$path"
	expect_status 200 "command-line token: GET $path -> 200"
done
bearer "$BOT" POST /api/v1/users '{"username":"botmade","password":"botmade-pass-1","role":"admin"}'
expect_status 201 "command-line token creates an admin user"
bearer "$BOT" PATCH /api/v1/devices/made-by-ci '{"name":"bot"}'
expect_status 200 "command-line token PATCHes a device"
bearer "$BOT" DELETE /api/v1/devices/made-by-ci
expect_status 204 "command-line token deletes a device"
bearer "$BOT" GET /api/v1/me
expect_json .username token:ci-bot "a command-line token acts as token:NAME"
expect_json .permissions '["*"]'
bearer "$BOT" POST /api/v1/tokens '{"name":"bot-child"}'
expect_status 201 "command-line token may create a token"
CHILD=$(jq -r .token <"$T/body")
as admin GET /api/v1/tokens
expect_json '.tokens | length' 0 "admin's list does not show command-line tokens"
bearer "$BOT" GET /api/v1/tokens
expect_jq '[.tokens[].name] | index("ci-bot") != null' \
    "the command-line token list shows ci-bot"
expect_jq '.tokens | all(has("token") | not)' "and no token values"
as olga DELETE "/api/v1/tokens/$(jq -r '.tokens[] | select(.name == "ci-bot") | .id' <"$T/body")"
expect_status 404 "a user cannot delete a command-line token -> 404"

falconet_cli token delete ci-bot >/dev/null 2>&1
rc=$?
check "falconet token delete ci-bot: exit 0 (got $rc)" [ "$rc" -eq 0 ]
bearer "$BOT" GET /api/v1/devices
expect_status 401 "a command-line token deleted on the command line -> 401"
falconet_cli token delete ci-bot >/dev/null 2>&1
rc=$?
check "deleting it again fails (got $rc)" [ "$rc" -ne 0 ]
bearer "$CHILD" GET /api/v1/devices
expect_status 200 "the API-made machine token is independent"

# Tokens survive a restart; deleted ones stay dead.
stop_server
start_server "$FAST"
bearer "$CHILD" GET /api/v1/devices
expect_status 200 "a token works after a restart"
bearer "$CI" GET /api/v1/devices
expect_status 401 "a deleted token stays dead after a restart"

finish
