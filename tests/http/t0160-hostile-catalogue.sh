#!/usr/bin/env bash
# Hostile requests beyond t0080's malformed ones: slow clients (slowloris
# headers and bodies), 10 MB headers and bodies, protocol abuse, invalid
# UTF-8 and SQL metacharacters in every field, forged credentials, Range
# edge cases, cpio archives that lie about their sizes and sw-description
# bombs.  Each is answered with its 4xx or a clean close, the daemon stays
# up, and at the end the database holds exactly what it held before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

RAW=(/usr/bin/python3 "$(dirname "$0")/rawhttp.py")
DBFILE=$T/data/falconet.db
start_server "$FAST" 'http:
  timeout: 5'
TOKEN=$(make_token admin)

# --- a small fleet to attack ----------------------------------------------
setup_open_action 64K
SIZE=$IMG_SIZE
api_json POST /api/v1/devices '{"controller_id":"dev-t","token":"device-secret"}'
expect_status 201 "setup: a device with a token"
api_json POST /api/v1/users '{"username":"op","password":"op-password-1","role":"operator"}'
expect_status 201 "setup: an operator"
login op op-password-1
check "setup: a session" [ -n "$COOKIE" ] && [ -n "$CSRF" ]
D=/DEFAULT/controller/v1/dev-x
FB=$D/deploymentBase/$ACT/feedback

# fingerprint: what the database holds, without the columns that change by
# merely being used (last seen, last use, sessions, audit).
fingerprint()
{
	sqlite3 -cmd '.timeout 5000' "$DBFILE" "
	    SELECT * FROM distribution_set; SELECT * FROM ds_hw;
	    SELECT * FROM ds_module; SELECT * FROM software_module;
	    SELECT * FROM artifact; SELECT * FROM rollout;
	    SELECT id, controller_id, name, token_hash, mode, feed,
	        assigned_ds_id, force_update, allow_downgrade, hw_model,
	        hw_revision, installed_version, request_attributes, compatible
	        FROM device ORDER BY id;
	    SELECT * FROM device_attribute ORDER BY device_id, key;
	    SELECT id, device_id, ds_id, rollout_id, status, forced,
	        progress, result_code, superseded, closed_at FROM action;
	    SELECT * FROM action_status; SELECT * FROM action_log;
	    SELECT id, name, token_hash, user_id, permissions FROM api_token;
	    SELECT id, username, password, permissions, enabled FROM app_user;" \
	    2>&1 | sha256sum
	find "$T/data/artifacts" "$T/data/tmp" -type f | sort | sha256sum
}
BEFORE=$(fingerprint)

# raw WANT NAME: send stdin on a raw socket; WANT is a status, "close" or
# a |-list of them.
raw()
{
	local want=$1 name=$2 got
	got=$("${RAW[@]}" send "$PORT" 10 2>&1)
	if echo "$got" | grep -Eqx "$want"; then
		pass "$name -> $got"
	else
		fail "$name -> $want" "got $got"
	fi
	alive "$name"
}

JSON=(-H 'Content-Type: application/json')
A=(-H "Authorization: Bearer $TOKEN")
MB10=$((10 * 1024 * 1024))
head -c $MB10 /dev/zero | tr '\0' a >"$T/10mb"

# --- slow clients ----------------------------------------------------------
# From one host (http.per_ip_limit lets it hold 64); the health checks come
# from another address.
out=$("${RAW[@]}" slowloris "$PORT" 200 6 127.0.0.2)
check "200 slowloris connections: every health check served ($out)" \
    sh -c "echo '$out' | grep -Eq '^served=([0-9]+)/\1 '"
worst=$(echo "$out" | sed -n 's/.*worst_ms=\([0-9]*\).*/\1/p')
check "200 slowloris connections: health checks stay fast (${worst} ms)" \
    [ "${worst:-99999}" -lt 2000 ]
alive "slowloris"
# Raw requests to the API name a Host it answers to (t0234); /healthz
# takes any.
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"controller_id":"slow"' \
    "$TOKEN" >"$T/slowhead"
out=$("${RAW[@]}" slowbody "$PORT" 3 "$T/slowhead")
check "a JSON body that stops coming is closed at http.timeout ($out)" \
    sh -c "echo '$out' | grep -Eq '^closed after [4-9] s'"
printf 'POST /api/v1/software?filename=slow.swu HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000000\r\n\r\n0707' \
    "$TOKEN" >"$T/slowhead"
out=$("${RAW[@]}" slowbody "$PORT" 3 "$T/slowhead")
check "an upload that stops coming is closed at http.timeout ($out)" \
    sh -c "echo '$out' | grep -Eq '^closed after [4-9] s'"
check "the stalled upload's temp file is removed" \
    wait_for 5 sh -c "[ \$(find '$T/data/tmp' -type f | wc -l) -eq 0 ]"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >"$T/slowhead"
out=$("${RAW[@]}" slowbody "$PORT" 0 "$T/slowhead")
check "headers that stop coming are closed at http.timeout ($out)" \
    sh -c "echo '$out' | grep -Eq '^closed after [4-9] s'"
alive "slow bodies"

# --- 10 MB headers and bodies --------------------------------------------
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: '; cat "$T/10mb"; printf '\r\n\r\n'; } |
    raw '431|413|400|close' "a 10 MB header line"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; head -c 5000000 /dev/zero | tr '\0' a | fold -w 48 | sed 's/^/X-h: /; s/$/\r/'; printf '\r\n'; } |
    raw '431|413|400|close' "10 MB of small headers"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: falconet_session='; cat "$T/10mb"; printf '\r\n\r\n'; } |
    raw '431|413|400|close' "a 10 MB cookie"
{ printf 'GET /'; cat "$T/10mb"; printf ' HTTP/1.1\r\nHost: x\r\n\r\n'; } |
    raw '414|431|413|400|close' "a 10 MB request line"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '; cat "$T/10mb"; printf '\r\n\r\n'; } |
    raw '431|413|400|close' "a 10 MB Authorization header"
{ printf '{"controller_id":"big","name":"'; cat "$T/10mb"; printf '"}'; } >"$T/10mb.json"
abad 413 "a 10 MB JSON body" POST /api/v1/devices "${JSON[@]}" --data-binary "@$T/10mb.json"
bad 413 "a 10 MB feedback body" POST "$FB" "${JSON[@]}" --data-binary "@$T/10mb.json"
bad 413 "a 10 MB configData body" PUT "$D/configData" "${JSON[@]}" --data-binary "@$T/10mb.json"
abad 413 "a 10 MB chunked JSON body" POST /api/v1/devices "${JSON[@]}" \
    -H 'Transfer-Encoding: chunked' --data-binary "@$T/10mb.json"
bad 200 "a 10 MB body on a GET is read and dropped" GET /healthz --data-binary "@$T/10mb" -X GET
{ printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' "$TOKEN"; cat "$T/10mb"; } |
    raw '400|close' "Content-Length 2, then 10 MB more"

# --- protocol abuse --------------------------------------------------------
printf 'GET /healthz\r\n\r\n' | raw '400|505|close' "an HTTP/0.9 request line"
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | raw '400|405|505|close' "an HTTP/2 preface"
printf 'GET /healthz HTTP/1.1\r\n\r\n' | raw 400 "HTTP/1.1 without Host"
printf 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n' | raw '505|400|close' "HTTP/9.9"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n' | raw '400|close' "a header without a colon"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n' | raw '200|400' "an obsolete folded header"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\000b\r\n\r\n' | raw '200|400|close' "a NUL in a header value"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n' |
    raw '400|close' "Content-Length -5"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n' |
    raw '400|413|close' "Content-Length beyond 64 bits"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}' "$TOKEN" |
    raw '400|close' "two different Content-Lengths"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' "$TOKEN" |
    raw '400|close' "a chunk size that is not hex"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{}\r\n' "$TOKEN" |
    raw '400|413|close' "a chunk size beyond 64 bits"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}' "$TOKEN" |
    raw '400|411|501|close' "Transfer-Encoding gzip"
printf '%s /healthz HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 10000 /dev/zero | tr '\0' G)" |
    raw '400|405|501|431|close' "a 10 KB method"
printf 'G\tT /healthz HTTP/1.1\r\nHost: x\r\n\r\n' | raw '400|405|501|close' "a tab in the method"
head -c 100000 /dev/urandom | raw '400|505|close' "100 KB of random bytes"

# --- invalid UTF-8 and control characters ---------------------------------
U=$(printf '\377\376')
abad 400 "invalid UTF-8 in a device name" POST /api/v1/devices "${JSON[@]}" --data-binary "{\"controller_id\":\"u1\",\"name\":\"a${U}\"}"
abad 400 "invalid UTF-8 in a feed" POST /api/v1/devices "${JSON[@]}" --data-binary "{\"controller_id\":\"u2\",\"feed\":\"${U}\"}"
abad 400 "invalid UTF-8 in a rollout name" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"name\":\"${U}\",\"software_id\":$SW}"
abad 400 "invalid UTF-8 in a user name" POST /api/v1/users "${JSON[@]}" --data-binary "{\"username\":\"${U}\",\"password\":\"long enough pw\"}"
abad 400 "invalid UTF-8 in a password" POST /api/v1/users "${JSON[@]}" --data-binary "{\"username\":\"u3\",\"password\":\"long enough ${U}\"}"
abad 400 "invalid UTF-8 in a token name" POST /api/v1/tokens "${JSON[@]}" --data-binary "{\"name\":\"${U}\"}"
bad 400 "invalid UTF-8 in a login" POST /api/v1/login "${JSON[@]}" --data-binary "{\"username\":\"op${U}\",\"password\":\"x\"}"
bad 400 "invalid UTF-8 in feedback details" POST "$FB" "${JSON[@]}" \
    --data-binary "{\"status\":{\"execution\":\"proceeding\",\"result\":{\"finished\":\"none\"},\"details\":[\"${U}\"]}}"
bad 400 "invalid UTF-8 in a configData key" PUT "$D/configData" "${JSON[@]}" --data-binary "{\"data\":{\"${U}\":\"v\"}}"
bad 400 "invalid UTF-8 in a configData value" PUT "$D/configData" "${JSON[@]}" --data-binary "{\"data\":{\"k\":\"${U}\"}}"
bad 400 "UTF-16 surrogate escape alone" PUT "$D/configData" "${JSON[@]}" --data-binary '{"data":{"k":"\ud800"}}'
bad 400 "invalid UTF-8 in a controller id" GET "/DEFAULT/controller/v1/a%ff%fe"
abad 400 "a controller id with a newline" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a\nb"}'
abad 400 "a controller id with a tab" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a\tb"}'
abad 400 "a user name with a space" POST /api/v1/users "${JSON[@]}" --data-binary '{"username":"a b","password":"long enough pw"}'
abad "200|400" "invalid UTF-8 in a search" GET '/api/v1/devices?q=%ff%fe'
abad 400 "invalid UTF-8 in an upload file name" POST '/api/v1/software?filename=a%ff.swu' \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/img.swu"

# --- forged credentials ----------------------------------------------------
bad 401 "a forged Bearer token" GET /api/v1/devices -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
bad 401 "the token with one character changed" GET /api/v1/devices -H "Authorization: Bearer $(mangle "$TOKEN")"
bad 401 "the token with a suffix" GET /api/v1/devices -H "Authorization: Bearer ${TOKEN}x"
bad 401 "the token cut short" GET /api/v1/devices -H "Authorization: Bearer ${TOKEN%?}"
bad 401 "an empty Bearer" GET /api/v1/devices -H 'Authorization: Bearer '
bad 401 "Basic credentials" GET /api/v1/devices -H 'Authorization: Basic YWRtaW46YWRtaW4='
bad 401 "a JWT" GET /api/v1/devices -H 'Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.'
bad 401 "a TargetToken on the management API" GET /api/v1/devices -H "Authorization: TargetToken $TOKEN"
bad 401 "a forged session cookie" GET /api/v1/devices -H 'Cookie: falconet_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
bad 401 "the session cookie changed" GET /api/v1/devices -H "Cookie: falconet_session=$(mangle "$COOKIE")"
bad 403 "a session without its CSRF token" POST /api/v1/devices -H "Cookie: falconet_session=$COOKIE" "${JSON[@]}" --data-binary '{"controller_id":"csrf1"}'
bad 403 "a session with a forged CSRF token" POST /api/v1/devices -H "Cookie: falconet_session=$COOKIE" \
    -H "X-CSRF-Token: $(mangle "$CSRF")" "${JSON[@]}" --data-binary '{"controller_id":"csrf2"}'
bad 403 "the set-up route once a user exists" POST /api/v1/setup "${JSON[@]}" \
    --data-binary '{"token":"00000000000000000000000000000000","username":"evil","password":"long enough pw"}'
bad 401 "a device without its token" GET /DEFAULT/controller/v1/dev-t
bad 401 "a device with a forged TargetToken" GET /DEFAULT/controller/v1/dev-t -H 'Authorization: TargetToken device-secreT'
bad 401 "a device token on another device" GET /DEFAULT/controller/v1/dev-t -H 'Authorization: TargetToken device-secret ' 
bad 401 "a GatewayToken when none is set" GET /DEFAULT/controller/v1/dev-t -H 'Authorization: GatewayToken device-secret'
bad 401 "a Bearer token on the device API" GET /DEFAULT/controller/v1/dev-t -H "Authorization: Bearer $TOKEN"
bad "401|431" "a 100 KB TargetToken" GET /DEFAULT/controller/v1/dev-t -H "Authorization: TargetToken $(head -c 100000 /dev/zero | tr '\0' t)"
bad 401 "a proxy certificate header from an untrusted peer" GET /DEFAULT/controller/v1/dev-t \
    -H 'X-Controller-Id: dev-t' -H 'X-Authority: abcd'

# --- Range edge cases ------------------------------------------------------
bad 206 "Range bytes=0-0" GET "$DLPATH" -H 'Range: bytes=0-0'
check "  one byte" [ "$(wc -c <"$T/body")" -eq 1 ]
bad 206 "Range of the last byte" GET "$DLPATH" -H "Range: bytes=$((SIZE - 1))-"
bad 206 "Range end past the end is clamped" GET "$DLPATH" -H "Range: bytes=$((SIZE - 10))-18446744073709551615"
check "  ten bytes" [ "$(wc -c <"$T/body")" -eq 10 ]
bad 206 "Range suffix larger than the file" GET "$DLPATH" -H "Range: bytes=-$((SIZE * 2))"
check "  the whole file" [ "$(wc -c <"$T/body")" -eq "$SIZE" ]
bad 416 "Range starting at the size" GET "$DLPATH" -H "Range: bytes=$SIZE-"
bad 416 "Range bytes=-0" GET "$DLPATH" -H 'Range: bytes=-0'
bad "200|416" "Range of 1000 parts" GET "$DLPATH" -H "Range: bytes=$(seq -s, 0 2 1998 | sed 's/\([0-9]*\)/\1-\1/g')"
bad "200|206|416" "Range with spaces (ignored or refused)" GET "$DLPATH" -H 'Range: bytes = 0 - 9'
bad 416 "Range with a 10 KB number" GET "$DLPATH" -H "Range: bytes=$(head -c 10000 /dev/zero | tr '\0' 9)-"
bad 416 "Range bytes=0x10-0x20" GET "$DLPATH" -H 'Range: bytes=0x10-0x20'
bad 200 "If-Range with another ETag sends the whole file" GET "$DLPATH" -H 'Range: bytes=0-9' -H 'If-Range: "nope"'
check "  the whole file" [ "$(wc -c <"$T/body")" -eq "$SIZE" ]
bad 206 "Range on HEAD" HEAD "$DLPATH" -H 'Range: bytes=0-9'

# --- paths -----------------------------------------------------------------
bad "400|404" "/ui/ traversal" GET '/ui/../../../../etc/passwd'
bad "400|404" "/ui/ encoded traversal" GET '/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd'
bad "400|404" "/ui/ encoded slash" GET '/ui/..%2f..%2f..%2fetc%2fpasswd'
bad "400|404" "/ui/ backslash traversal" GET '/ui/..%5c..%5cetc%5cpasswd'
bad "400|404" "/ui/ the settings file" GET '/ui/../settings.yaml'
check "no file outside web/ leaked" sh -c "! grep -q 'root:\|data_dir' '$T/body'"
bad "400|404" "an artifact name with a NUL" GET "${DLPATH%/*}/img.swu%00.txt"
bad "400|404" "an artifact of another software" GET "${DLPATH%/*/*/*}/999/artifacts/img.swu"
bad "400|404" "a tenant with a traversal" GET '/%2e%2e/controller/v1/dev-x'

# --- SQL metacharacters: refused where the field forbids them ---------------
SQLI="x'; DROP TABLE device; --"
abad 400 "SQL in a feed" POST /api/v1/devices "${JSON[@]}" --data-binary "$(jq -cn --arg v "$SQLI" '{controller_id:"sq1",feed:$v}')"
abad 400 "SQL in a user name" POST /api/v1/users "${JSON[@]}" --data-binary "$(jq -cn --arg v "$SQLI" '{username:$v,password:"long enough pw"}')"
abad 400 "SQL in a mode" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary "$(jq -cn --arg v "$SQLI" '{mode:$v}')"
abad 400 "SQL in a role" POST /api/v1/users "${JSON[@]}" --data-binary "$(jq -cn --arg v "$SQLI" '{username:"u9",password:"long enough pw",role:$v}')"
abad 400 "SQL in a permission" POST /api/v1/tokens "${JSON[@]}" --data-binary "$(jq -cn --arg v "$SQLI" '{name:"t9",permissions:[$v]}')"
abad 400 "SQL in a limit" GET "/api/v1/devices?limit=1%20OR%201=1"
abad "400|404" "SQL in a device id" GET "/api/v1/devices/x'%20OR%20'1'='1"
abad "400|404" "SQL in a numeric id" GET "/api/v1/software/1%20OR%201=1"
bad 401 "SQL in a login" POST /api/v1/login "${JSON[@]}" --data-binary "$(jq -cn --arg v "' OR '1'='1" '{username:$v,password:$v}')"
bad 401 "SQL in a Bearer token" GET /api/v1/devices -H "Authorization: Bearer ' OR '1'='1"
bad 401 "SQL in a TargetToken" GET /DEFAULT/controller/v1/dev-t -H "Authorization: TargetToken ' OR 1=1 --"

# --- numbers ---------------------------------------------------------------
bad 400 "feedback progress of 2^63" POST "$FB" "${JSON[@]}" \
    --data-binary '{"status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":9223372036854775808,"of":1}}}}'
bad 400 "feedback code 1e400" POST "$FB" "${JSON[@]}" \
    --data-binary '{"status":{"execution":"closed","code":1e400,"result":{"finished":"success"}}}'
abad 400 "max_running 2^64" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"software_id\":$SW,\"max_running\":18446744073709551616}"
abad 400 "max_running 1.5" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"software_id\":$SW,\"max_running\":1.5}"
abad "400|404" "software_id -1" POST /api/v1/rollouts "${JSON[@]}" --data-binary '{"software_id":-1}'
abad 400 "bulk ids that are not controller ids" POST /api/v1/devices/bulk "${JSON[@]}" --data-binary '{"ids":[1,{"a":1}],"patch":{"feed":"x"}}'
abad 400 "bulk of 1001 ids" POST /api/v1/devices/bulk "${JSON[@]}" \
    --data-binary "{\"ids\":[$(seq -s, -f '"d%g"' 1 1001)],\"patch\":{\"feed\":\"x\"}}"
# (Large bodies go through files: one argument holds at most 128 KiB.)
echo "{\"ids\":[$(seq -s, 1 100000)],\"patch\":{\"feed\":\"x\"}}" >"$T/ids.json"
abad 413 "bulk of 100000 ids (over 256 KiB, no Expect)" POST /api/v1/devices/bulk "${JSON[@]}" -H 'Expect:' \
    --data-binary "@$T/ids.json"
abad 400 "bulk with neither patch nor delete" POST /api/v1/devices/bulk "${JSON[@]}" --data-binary '{"ids":[1]}'
abad 400 "bulk patch with a nested object" POST /api/v1/devices/bulk "${JSON[@]}" --data-binary '{"ids":[1],"patch":{"feed":{"a":1}}}'
bad 400 "configData with a number value" PUT "$D/configData" "${JSON[@]}" --data-binary '{"data":{"k":5}}'
bad 429 "configData with 10000 keys (hawkBit's quota)" PUT "$D/configData" "${JSON[@]}" \
    --data-binary "{\"data\":{$(seq -s, -f '"k%g":"v"' 1 10000)}}"
bad 429 "feedback with 300 detail lines (hawkBit's quota)" POST "$FB" "${JSON[@]}" \
    --data-binary "{\"status\":{\"execution\":\"proceeding\",\"result\":{\"finished\":\"none\"},\"details\":[$(seq -s, -f '"%g"' 1 300)]}}"
echo "{\"status\":{\"execution\":\"proceeding\",\"result\":{\"finished\":\"none\"},\"details\":[$(seq -s, -f '"%g"' 1 100000)]}}" >"$T/details.json"
bad 413 "feedback with 100000 detail lines (over 256 KiB)" POST "$FB" "${JSON[@]}" -H 'Expect:' \
    --data-binary "@$T/details.json"
bad 400 "feedback details not strings" POST "$FB" "${JSON[@]}" \
    --data-binary '{"status":{"execution":"proceeding","result":{"finished":"none"},"details":[1,{"a":2}]}}'

# --- images that lie -------------------------------------------------------
head -c 2000 /dev/urandom >"$T/payload.bin"
cat >"$T/sw-good" <<'EOF'
software = { version = "9.0.0"; hardware-compatibility = [ "1.0" ]; };
EOF
# lie NAME: upload $T/lie.swu, expect 400 and nothing stored.
lie()
{
	upload "$T/lie.swu" lie.swu
	expect_status 400 "$1 -> 400"
	expect_is_error
	alive "$1"
}
# hdr NAME SIZE NAMESIZE [MAGIC]: a newc header with chosen fields.
hdr()
{
	printf '%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
	    "${4:-070701}" 1 0100644 0 0 1 0 "$2" 0 0 0 0 "$3" 0
	printf '%s\0' "$1"
}
{ hdr sw-description 99999 15; printf '\0\0\0'; cat "$T/sw-good"; } >"$T/lie.swu"
lie "sw-description claims more bytes than the archive holds"
{ hdr sw-description 4294967295 15; printf '\0\0\0'; cat "$T/sw-good"; } >"$T/lie.swu"
lie "sw-description claims 4 GiB"
{ hdr sw-description 10 4294967295; cat "$T/sw-good"; } >"$T/lie.swu"
lie "a name size of 4 GiB"
{ hdr sw-description 10 0; cat "$T/sw-good"; } >"$T/lie.swu"
lie "a name size of 0"
{ printf '070701%s' "$(head -c 104 /dev/zero | tr '\0' Z)"; cat "$T/sw-good"; } >"$T/lie.swu"
lie "header fields that are not hex"
{ hdr sw-description 10 15 070707; cat "$T/sw-good"; } >"$T/lie.swu"
lie "an old binary/odc magic"
mkcpio "$T/lie.swu" sw-description "$T/sw-good" payload.bin "$T/payload.bin"
sed -i 's/TRAILER!!!/TRAILER!!?/' "$T/lie.swu"
lie "an archive without its trailer"
mkcpio "$T/ok.swu" sw-description "$T/sw-good" payload.bin "$T/payload.bin"
head -c $(($(wc -c <"$T/ok.swu") - 700)) "$T/ok.swu" >"$T/lie.swu"
lie "a payload cut short"
mkcpio "$T/lie.swu" sw-description "$T/sw-good" payload.bin "$T/payload.bin" payload.bin "$T/payload.bin"
lie "the same member twice"
mkcpio "$T/lie.swu" sw-description "$T/sw-good" ../../etc/passwd "$T/payload.bin"
upload "$T/lie.swu" lie.swu
expect_status "400|201" "a member named ../../etc/passwd is refused or stored as data"
[ "$STATUS" = 201 ] && api DELETE "/api/v1/software/$SW_ID" >/dev/null
check "  no file written outside the data dir" [ ! -e "$T/etc/passwd" ]
alive "a member named ../../etc/passwd"

# sw-description bombs
{ printf 'software = { version = "9.0.1"; description = "'; head -c 1100000 /dev/zero | tr '\0' a; printf '"; };\n'; } >"$T/sw-big"
mkcpio "$T/lie.swu" sw-description "$T/sw-big"
lie "a sw-description over 1 MiB"
{ printf 'software = { version = "9.0.2"; x = '; head -c 100000 /dev/zero | tr '\0' '('; head -c 100000 /dev/zero | tr '\0' ')'; printf '; };\n'; } >"$T/sw-deep"
mkcpio "$T/lie.swu" sw-description "$T/sw-deep"
lie "100000 nested libconfig lists"
{ printf '{"software":{"version":"9.0.3","x":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}}'; } >"$T/sw-deepj"
mkcpio "$T/lie.swu" sw-description "$T/sw-deepj"
lie "100000 nested JSON arrays"
{ printf 'software = { version = "9.0.4"; hardware-compatibility = [ '; seq -s, -f '"%g.0"' 1 2000; printf ' ]; };\n'; } >"$T/sw-hw"
mkcpio "$T/lie.swu" sw-description "$T/sw-hw"
lie "2000 hardware-compatibility entries"
printf '@include "/etc/passwd"\nsoftware = { version = "9.0.5"; };\n' >"$T/sw-inc"
mkcpio "$T/lie.swu" sw-description "$T/sw-inc"
lie "an @include directive"
{ printf 'software = { version = "'; head -c 5000 /dev/zero | tr '\0' 9; printf '"; };\n'; } >"$T/sw-ver"
mkcpio "$T/lie.swu" sw-description "$T/sw-ver"
lie "a 5000-digit version"
printf 'software = { version = "9.0.6"; hardware-compatibility = [ "#RE:(" ]; };\n' >"$T/sw-re"
mkcpio "$T/lie.swu" sw-description "$T/sw-re"
lie "an invalid compatibility regex"
printf '{"software":{"version":"9.0.7\\u0000x"}}' >"$T/sw-nul"
mkcpio "$T/lie.swu" sw-description "$T/sw-nul"
lie "a JSON version with an escaped NUL"
printf 'software = { version = "9.0.8 beta"; };\n' >"$T/sw-space"
mkcpio "$T/lie.swu" sw-description "$T/sw-space"
lie "a version with a space"
check "no refused image left a file" [ "$(count_files "$T/data/tmp")" -eq 0 ]

# --- many connections from one host ------------------------------------------
check "nothing changed in the database or the data dir" [ "$(fingerprint)" = "$BEFORE" ]
check "integrity_check ok" [ "$(sqlite3 "$DBFILE" 'PRAGMA integrity_check')" = ok ]

start_server "$FAST" 'http:
  timeout: 5
  per_ip_limit: 20'
out=$("${RAW[@]}" hold "$PORT" 25)
check "per_ip_limit 20: 5 of 25 connections refused ($out)" [ "$out" = "refused=5" ]
alive "per_ip_limit"

# --- SQL metacharacters: stored as they were sent where a field allows them --
start_server "$FAST"
i=0
for v in "$SQLI" "Robert'); DROP TABLE app_user;--" '" OR ""="' '%_\\' 'a;b`c$(d)'; do
	i=$((i + 1))
	name=$(jq -cn --arg v "$v" '$v')
	api_json POST /api/v1/devices "{\"controller_id\":\"sq$i\",\"name\":$name}"
	expect_status 201 "device name $name stored"
	expect_json .name "$v"
	api GET "/api/v1/devices?q=$(jq -rn --arg v "$v" '$v|@uri')"
	expect_json '.devices | length' 1 "  a search for it finds exactly it"
	api_json POST /api/v1/rollouts "{\"name\":$name,\"software_id\":$SW}"
	expect_status 201 "rollout name $name stored"
	expect_json .name "$v"
	api_json POST /api/v1/tokens "{\"name\":$name}"
	expect_status "201|400" "token name $name stored or refused"
	DDI_AUTH= ddi_json PUT dev-x /configData "{\"data\":{$name:$name}}"
	expect_status 200 "configData key and value $name"
done
api GET /api/v1/devices/dev-x
expect_json ".attributes[\"$SQLI\"]" "$SQLI" "configData stored verbatim"
api_json POST /api/v1/devices "$(jq -cn --arg v "$SQLI" '{controller_id:$v}')"
expect_status 201 "a controller id with SQL in it is stored"
CID=$(jq -rn --arg v "$SQLI" '$v|@uri')
api GET "/api/v1/devices/$CID"
expect_json .controller_id "$SQLI" "  and read back as it was"
req GET "/DEFAULT/controller/v1/$CID"
expect_status 200 "  and polls"
check "every table is still there" [ "$(sqlite3 "$DBFILE" "SELECT count(*) FROM sqlite_master WHERE name IN ('device','app_user','distribution_set','rollout','action')")" = 5 ]
check "integrity_check ok" [ "$(sqlite3 "$DBFILE" 'PRAGMA integrity_check')" = ok ]

finish
