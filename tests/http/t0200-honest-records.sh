#!/usr/bin/env bash
# Honest records: nothing a client sends can forge or break what the
# server records about it.
#  - The log: CR, LF, ESC and every other C0 or C1 control, DEL, the bidi
#    controls and bytes that are not UTF-8, in controller ids, login names
#    and raw URLs, are written as \xNN, so no request forges a log line or
#    a terminal escape (security finding #4).
#  - Byte caps cut on UTF-8 character boundaries: long non-ASCII field
#    names, tenants, log lines, history messages and file names get their
#    4xx, not a 500, and every row stored shows in the API: action log and
#    history, DDI actionHistory, audit entries (finding #11).
#  - A personal token without users.write cannot list, create or delete
#    its user's tokens (403), though it may delete itself (finding #10).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

RAW=(/usr/bin/python3 "$(dirname "$0")/rawhttp.py")
LOG=$T/server.log
JSON=(-H 'Content-Type: application/json')

# rep S N: S repeated N times.
rep()
{
	local out= i
	for ((i = 0; i < $2; i++)); do out+=$1; done
	printf '%s' "$out"
}

# log_has TEXT: the server log holds TEXT (a fixed string) within 5 s; the
# access line is written once the answer has gone.
log_has()
{
	wait_for 5 grep -qF -- "$1" "$LOG"
}

# log_lacks NAME BYTES: no byte string BYTES (printf format) in the log.
log_lacks()
{
	local pat
	pat=$(printf "$2")
	check "the log holds no raw $1" sh -c \
	    "! LC_ALL=C grep -qF -- \"\$1\" \"\$2\"" sh "$pat" "$LOG"
}

# sreq COOKIE CSRF METHOD PATH [JSON]; breq TOKEN METHOD PATH [JSON]
sreq()
{
	local c=$1 x=$2 method=$3 path=$4 json=${5:-}
	local args=(-H "Cookie: falconet_session=$c" -H "X-CSRF-Token: $x")
	[ -n "$json" ] && args+=("${JSON[@]}" --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}
breq()
{
	local tok=$1 method=$2 path=$3 json=${4:-}
	local args=(-H "Authorization: Bearer $tok")
	[ -n "$json" ] && args+=("${JSON[@]}" --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

start_server "$FAST"
TOKEN=$(make_token admin)
printf 'admin-password-1\n' | falconet_cli user add admin >/dev/null 2>&1 ||
    fail "user add admin"
printf 'olga-password-1\n' | falconet_cli user add olga operator \
    >/dev/null 2>&1 || fail "user add olga"

# === #4: the log escapes what clients send ===================================
D=/DEFAULT/controller/v1
FORGED='2026-12-01T18:40:00.000Z%20info%20user%20mallory%20created%20with%20role%20admin'
req GET "$D/x%0A$FORGED%0A"
expect_status '400|401' "a controller id with LF and a forged log line"
req GET "$D/esc%1B%5B2J%1B%5B31mRED"
expect_status '400|401' "a controller id with ESC sequences"
req GET "$D/c0%0D%09%07%7F-c1%C2%85%C2%9B-bidi%E2%80%AE%E2%81%A6-ls%E2%80%A8"
expect_status '400|401' "a controller id with CR, TAB, BEL, DEL, C1, bidi, LS"
post_json /api/v1/login "$(jq -cn '{username: "x\n2026-12-01T18:40:01.000Z info user root created", password: "x"}')"
expect_status 401 "a login name with LF and a forged log line"
post_json /api/v1/login "$(jq -cn '{username: "e\u001b]0;owned\u0007\u0085\u202e", password: "x"}')"
expect_status 401 "a login name with OSC, NEL and RLO"
# Raw bytes in the request line itself: curl would encode them.
printf 'GET /raw\x1b[2J\x7f\xff\xc3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    "${RAW[@]}" send "$PORT" 5 >"$T/raw.out"
check "a raw request line with ESC, DEL and bad UTF-8 is answered" \
    grep -Eq '^[0-9]{3}$|^close$' "$T/raw.out"

check "the access line shows the controller id escaped" \
    log_has 'who=x\x0a2026-12-01T18:40:00.000Z info user mallory created with role admin\x0a'
check "the ESC sequence is escaped" log_has 'who=esc\x1b[2J\x1b[31mRED'
check "CR, TAB, BEL, DEL, C1 controls, bidi and LS are escaped" \
    log_has 'who=c0\x0d\x09\x07\x7f-c1\xc2\x85\xc2\x9b-bidi\xe2\x80\xae\xe2\x81\xa6-ls\xe2\x80\xa8'
check "the raw URL is escaped in the access line" \
    log_has 'path=/raw\x1b[2J\x7f\xff\xc3 status='
check "the failed login is logged on one line" \
    log_has 'failed login for x\x0a2026-12-01T18:40:01.000Z info user root created from 127.0.0.1'
check "the login name's OSC, NEL and RLO are escaped" \
    log_has 'failed login for e\x1b]0;owned\x07\xc2\x85\xe2\x80\xae from'
check "no forged line starts in the log" \
    sh -c "! grep -q '^2026-12-01T18:40:0' '$LOG'"
check "every log line is a timestamped entry" \
    sh -c "! grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z (error|warn|info|debug) ' '$LOG'"
log_lacks ESC '\033'
log_lacks CR '\r'
log_lacks BEL '\007'
log_lacks DEL '\177'
log_lacks "NEL (U+0085)" '\302\205'
log_lacks "RLO (U+202E)" '\342\200\256'
log_lacks "LS (U+2028)" '\342\200\250'
check "the log is valid UTF-8" python3 -c '
import sys
open(sys.argv[1], "rb").read().decode("utf-8")' "$LOG"
# Text that is neither control nor bidi stays as it was.
req GET "$D/caf%C3%A9-%E2%82%AC"
check "printable UTF-8 is logged as it is" log_has "who=café-€"

# === #11: cuts on character boundaries =======================================
# 'a' + 40 x 'é' is 81 bytes; the detail names at most 64 of them.
K=a$(rep é 40)
post_json /api/v1/login "{\"$K\":1}"
expect_status 400 "login with a long non-ASCII unknown field -> 400, not 500"
expect_json .detail "unknown field \"a$(rep é 31)\"" \
    "  the field name is cut before a character, not inside one"
post_json /api/v1/setup "{\"$K\":1}"
expect_status 400 "setup with a long non-ASCII unknown field -> 400, not 500"
expect_error unknown_field
# jansson quotes the bytes it stopped at: here half an 'é'.
post_json /api/v1/login "$(printf '{"\xc3\xa9=V<\\\xc3\xa9')"
expect_status 400 "a body jansson stops inside a character -> 400, not 500"
expect_error invalid_json
api_json POST /api/v1/devices/bulk "{\"ids\":[\"dev-x\"],\"patch\":{\"$K\":1}}"
expect_status 400 "bulk patch with a long non-ASCII field -> 400, not 500"
expect_json .detail "patch: unknown field or wrong type: a$(rep é 31)"

# A 601-byte tenant: its DDI message is cut at 511 bytes.
req GET "/a$(rep %C3%A9 300)/controller/v1/dev-001"
expect_status 404 "a long non-ASCII tenant -> 404, not 500"
expect_jq '.message | startswith("Tenant aé") and (utf8bytelength <= 511)' \
    "  hawkBit's message, cut to 511 bytes"

setup_open_action 16K
FB=$D/dev-x/deploymentBase/$ACT/feedback
# A 2,049-byte line: 2,047 'a' and an 'é' across the 2,048-byte cap.
L=$(rep a 2047)é
ddi_json POST dev-x "/deploymentBase/$ACT/feedback" \
    "$(jq -cn --arg l "$L" '{status:{execution:"proceeding",result:{finished:"none"},details:["visible",$l]}}')"
expect_status 200 "feedback with a line over the cap"
# History messages hold 255 bytes: "proceeding/none: " (17) + 237 'b' + 'é'.
M=$(rep b 237)
ddi_json POST dev-x "/deploymentBase/$ACT/feedback" \
    "$(jq -cn --arg m "${M}é" '{status:{execution:"proceeding",result:{finished:"none"},details:[$m]}}')"
expect_status 200 "feedback with a message over the cap"
api GET "/api/v1/actions/$ACT"
expect_status 200 "the action reads back"
expect_jq '[.log[].line] | index("visible") != null' "  its log has the short line"
expect_jq "[.log[].line] | index(\"$(rep a 2047)\") != null" \
    "  and the long one, cut before the 'é'"
expect_jq "[.history[].message] | index(\"proceeding/none: $M\") != null" \
    "  the history has the cut message"
api GET "/api/v1/actions/$ACT/log"
expect_jq "[.log[].line] | length == 3" \
    "  the action's log has every log line"
api GET "/api/v1/actions/$ACT/history"
expect_jq "[.history[].message] | index(\"proceeding/none: $M\") != null" \
    "  and its history the cut message"
req GET "$D/dev-x/deploymentBase/$ACT?actionHistory=20"
expect_status 200 "deploymentBase with actionHistory"
expect_jq "[.actionHistory.messages[]] | index(\"proceeding/none: $M\") != null" \
    "  DDI actionHistory has the cut message"

# Multipart file names: bytes that are not UTF-8 are refused, and a long
# name is cut on a boundary.  Every audit row they leave is listed.
mkimg "$T/u.swu" 2.0.0 '1.0'
api POST /api/v1/software -F "file=@$T/u.swu;filename=$(printf '\xff\xfe')x.swu"
expect_status 400 "a multipart file name that is not UTF-8 -> 400"
expect_is_error
api GET '/api/v1/audit?limit=1000'
expect_jq '(.entries | length) == .total' "every audit row is listed (none dropped)"
expect_jq '.entries[0].action == "software.upload" and .entries[0].status == 400' \
    "  the refused upload is the newest"
LONG=$(rep é 200).swu
api POST /api/v1/software -F "file=@$T/u.swu;filename=$LONG"
expect_status '201|400' "a 404-byte multipart file name -> 201 or 400, not 500"
expect_jq 'type == "object"' "  with a JSON body"
api GET '/api/v1/audit?limit=1000'
expect_jq '(.entries | length) == .total' "every audit row is still listed"
expect_jq ".entries[0].target | (. == null) or (utf8bytelength <= 255)" \
    "  the newest names at most 255 bytes"
api GET /api/v1/software
expect_status 200 "the software list reads back"

# === #10: scoped tokens do not manage tokens =================================
login admin admin-password-1
AC=$COOKIE AX=$CSRF
sreq "$AC" "$AX" POST /api/v1/tokens '{"name":"full"}'
expect_status 201 "admin's session makes a full token"
FULL=$(jq -r .token <"$T/body") FULL_ID=$(jq -r .id <"$T/body")
sreq "$AC" "$AX" POST /api/v1/tokens '{"name":"scoped","permissions":["device.read"]}'
expect_status 201 "admin's session makes a device.read token"
SCOPED=$(jq -r .token <"$T/body") SCOPED_ID=$(jq -r .id <"$T/body")
sreq "$AC" "$AX" POST /api/v1/tokens '{"name":"accounts","permissions":["users","device.read"]}'
expect_status 201 'admin'"'"'s session makes a ["users","device.read"] token'
ACCTS=$(jq -r .token <"$T/body")

breq "$SCOPED" GET /api/v1/devices
expect_status 200 "the scoped token does what it may"
breq "$SCOPED" GET /api/v1/tokens
expect_status 403 "the scoped token cannot list its user's tokens"
expect_error forbidden
breq "$SCOPED" POST /api/v1/tokens '{"name":"child"}'
expect_status 403 "the scoped token cannot mint a token"
expect_error forbidden
breq "$SCOPED" POST /api/v1/tokens '{"name":"child","permissions":["device.read"]}'
expect_status 403 "  not even one with its own grants"
breq "$SCOPED" DELETE "/api/v1/tokens/$FULL_ID"
expect_status 403 "the scoped token cannot delete a sibling"
expect_error forbidden
breq "$FULL" GET /api/v1/devices
expect_status 200 "the full token still works"
sreq "$AC" "$AX" GET /api/v1/tokens
expect_json '[.tokens[].name] | join(",")' accounts,full,scoped \
    "the session's list: nothing minted, nothing deleted"

breq "$FULL" GET /api/v1/tokens
expect_status 200 'a ["*"] token lists the tokens'
breq "$FULL" POST /api/v1/tokens '{"name":"child","permissions":["device.read"]}'
expect_status 201 'a ["*"] token mints one'
CHILD_ID=$(jq -r .id <"$T/body")
breq "$ACCTS" GET /api/v1/tokens
expect_status 200 "a token with users.write lists the tokens"
breq "$ACCTS" DELETE "/api/v1/tokens/$CHILD_ID"
expect_status 204 "  and deletes one"
breq "$TOKEN" GET /api/v1/tokens
expect_status 200 "a command-line token lists the command-line tokens"

breq "$SCOPED" DELETE "/api/v1/tokens/$SCOPED_ID"
expect_status 204 "the scoped token may delete itself"
breq "$SCOPED" GET /api/v1/devices
expect_status 401 "  and is gone"

login olga olga-password-1
OC=$COOKIE OX=$CSRF
sreq "$OC" "$OX" POST /api/v1/tokens '{"name":"ops"}'
expect_status 201 "an operator's session makes a token"
OPS=$(jq -r .token <"$T/body")
sreq "$OC" "$OX" GET /api/v1/tokens
expect_status 200 "  and lists its tokens"
breq "$OPS" GET /api/v1/tokens
expect_status 403 "the operator's token (no users.write) cannot list tokens"
breq "$OPS" PATCH /api/v1/devices/dev-x '{"name":"by ops"}'
expect_status 200 "  though it does the operator's work"

api GET '/api/v1/audit?limit=50'
expect_jq '[.entries[] | select(.action == "token.create" and .status == 403)] | length >= 2' \
    "the refused token creations are in the audit log"

finish
