#!/usr/bin/env bash
# A catalogue of hostile and malformed requests.  Each gets its status (and
# for the management API a JSON error body); the server must stay up.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

setup_open_action 8K
FB=/deploymentBase/$ACT/feedback

JSON=(-H 'Content-Type: application/json')
BIG=$T/big.json
{ printf '{"controller_id":"big","name":"'; head -c 300000 /dev/zero | tr '\0' a; printf '"}'; } >"$BIG"
DEEP=$T/deep.json
{ head -c 20000 /dev/zero | tr '\0' '['; head -c 20000 /dev/zero | tr '\0' ']'; } >"$DEEP"

# --- management JSON bodies -----------------------------------------------
abad 400 "malformed JSON" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":'
abad 400 "JSON array body" POST /api/v1/devices "${JSON[@]}" --data-binary '[]'
abad 400 "JSON string body" POST /api/v1/devices "${JSON[@]}" --data-binary '"dev"'
abad 400 "empty body" POST /api/v1/devices "${JSON[@]}" --data-binary ''
abad 400 "trailing garbage" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a"} x'
abad 400 "missing controller_id" POST /api/v1/devices "${JSON[@]}" --data-binary '{}'
abad 400 "controller_id a number" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":5}'
abad 400 "controller_id null" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":null}'
abad 400 "empty controller_id" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":""}'
abad 400 "257-char controller_id" POST /api/v1/devices "${JSON[@]}" \
    --data-binary "{\"controller_id\":\"$(printf 'a%.0s' $(seq 257))\"}"
abad 400 "unknown key" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a","colour":"red"}'
abad 400 "duplicate key" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a","controller_id":"b"}'
abad 400 "unknown mode" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a","mode":"x"}'
abad 400 "token a number" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a","token":5}'
abad 400 "invalid UTF-8 in a string" POST /api/v1/devices "${JSON[@]}" \
    --data-binary "$(printf '{"controller_id":"a\377b"}')"
abad 400 "NUL escape in a string" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a\u0000b"}'
abad 400 "huge number" POST /api/v1/devices "${JSON[@]}" --data-binary '{"controller_id":"a","name":1e999}'
abad 400 "20000 nested arrays" POST /api/v1/devices "${JSON[@]}" --data-binary "@$DEEP"
abad 413 "body over 256 KiB" POST /api/v1/devices "${JSON[@]}" --data-binary "@$BIG"
abad 415 "text/plain body" POST /api/v1/devices -H 'Content-Type: text/plain' --data-binary '{"controller_id":"a"}'
abad 415 "form body" POST /api/v1/devices --data-binary '{"controller_id":"a"}'
api GET /api/v1/devices
expect_json '[.devices[].controller_id] | map(select(. == "a" or . == "b" or . == "big")) | length' 0 \
    "no refused body created a device"

abad 400 "PATCH unknown key" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"nmae":"x"}'
abad 400 "PATCH force a string" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"force":"yes"}'
abad 400 "PATCH allow_downgrade a number" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"allow_downgrade":1}'
abad 400 "PATCH token a number" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"token":5}'
abad 400 "PATCH mode unknown" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"mode":"ROLLOUT"}'
abad "400|404" "PATCH assigned_software_id unknown" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary '{"assigned_software_id":999999}'
abad 400 "PATCH assigned_software_id a string" PATCH /api/v1/devices/dev-x "${JSON[@]}" --data-binary "{\"assigned_software_id\":\"$SW\"}"
abad 404 "PATCH unknown device" PATCH /api/v1/devices/nope "${JSON[@]}" --data-binary '{"name":"x"}'
api GET /api/v1/devices/dev-x
expect_json .mode rollout "refused PATCHes changed nothing"
expect_json .force false

abad 400 "rollout without software_id" POST /api/v1/rollouts "${JSON[@]}" --data-binary '{"feed":"x"}'
abad 400 "rollout with a numeric feed" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"software_id\":$SW,\"feed\":5}"
abad "400|404" "rollout of unknown software" POST /api/v1/rollouts "${JSON[@]}" --data-binary '{"feed":"x","software_id":999999}'
abad 400 "rollout max_running -1" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"feed\":\"x\",\"software_id\":$SW,\"max_running\":-1}"
abad 400 "rollout failure_threshold_percent 101" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"feed\":\"x\",\"software_id\":$SW,\"failure_threshold_percent\":101}"
abad 400 "rollout paused a string" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"feed\":\"x\",\"software_id\":$SW,\"paused\":\"no\"}"
abad 400 "rollout unknown key" POST /api/v1/rollouts "${JSON[@]}" --data-binary "{\"feed\":\"x\",\"software_id\":$SW,\"when\":\"now\"}"
abad 400 "PATCH rollout software_id" PATCH "/api/v1/rollouts/$R" "${JSON[@]}" --data-binary "{\"software_id\":$SW}"
abad 400 "PATCH rollout paused null" PATCH "/api/v1/rollouts/$R" "${JSON[@]}" --data-binary '{"paused":null}'
api GET /api/v1/rollouts
expect_json '[.rollouts[] | select(.feed == "x")] | length' 0 "refused rollouts on feed x were not created"

# --- unknown ids and bad query parameters ---------------------------------
abad 404 "unknown device" GET /api/v1/devices/nope
abad 404 "DELETE unknown device" DELETE /api/v1/devices/nope
abad 404 "actions of unknown device" GET /api/v1/devices/nope/actions
abad 404 "unknown software" GET /api/v1/software/999999
abad "400|404" "non-numeric software id" GET /api/v1/software/abc
abad "400|404" "negative software id" GET /api/v1/software/-1
abad "400|404" "software id overflow" GET /api/v1/software/99999999999999999999999
abad 404 "unknown action" GET /api/v1/actions/999999
abad 404 "cancel unknown action" POST /api/v1/actions/999999/cancel
abad 404 "unknown rollout" GET /api/v1/rollouts/999999
abad 404 "PATCH unknown rollout" PATCH /api/v1/rollouts/999999 "${JSON[@]}" --data-binary '{"paused":true}'
abad 404 "DELETE unknown rollout" DELETE /api/v1/rollouts/999999
abad 400 "devices limit=abc" GET '/api/v1/devices?limit=abc'
abad 400 "devices limit=-1" GET '/api/v1/devices?limit=-1'
abad 400 "devices offset=1x" GET '/api/v1/devices?offset=1x'
abad 400 "devices limit overflow" GET '/api/v1/devices?limit=99999999999999999999'
api GET '/api/v1/devices?limit=1&offset=0'
expect_status 200 "limit=1 -> 200"
expect_json '.devices | length' 1
expect_json '.total >= 1' true "total counts all devices"

# --- paths: 404, 405, escapes, traversal -----------------------------------
bad 404 "unknown path" GET /nope
abad 404 "unknown API path" GET /api/v1/nope
abad 404 "unknown API version" GET /api/v2/devices
abad 405 "PUT /api/v1/software" PUT /api/v1/software
abad 405 "DELETE /api/v1/devices" DELETE /api/v1/devices
abad 405 "PUT /api/v1/devices/dev-x" PUT /api/v1/devices/dev-x
abad 405 "GET /api/v1/actions/1/cancel" GET "/api/v1/actions/$ACT/cancel"
bad 405 "POST /healthz" POST /healthz
bad 405 "PUT DDI root" PUT /DEFAULT/controller/v1/dev-x
bad 405 "DELETE DDI root" DELETE /DEFAULT/controller/v1/dev-x
bad 405 "POST deploymentBase" POST "/DEFAULT/controller/v1/dev-x/deploymentBase/$ACT"
bad 405 "GET feedback" GET "/DEFAULT/controller/v1/dev-x$FB"
bad 405 "GET configData" GET /DEFAULT/controller/v1/dev-x/configData
bad 405 "POST configData" POST /DEFAULT/controller/v1/dev-x/configData "${JSON[@]}" --data-binary '{"data":{"a":"b"}}'
bad 405 "DELETE artifact" DELETE "$DLPATH"
bad 405 "PUT artifact" PUT "$DLPATH" --data-binary x
bad 404 "DDI path too short" GET /DEFAULT/controller/v1
bad 404 "DDI unknown resource" GET /DEFAULT/controller/v1/dev-x/nothing
bad 400 "bad escape %zz" GET /api/v1/devices/%zz
bad 400 "truncated escape %4" GET /DEFAULT/controller/v1/dev%4
bad 400 "%00 in a path" GET /DEFAULT/controller/v1/a%00b
bad 400 "invalid UTF-8 %ff" GET /DEFAULT/controller/v1/a%ffb
bad 400 "overlong UTF-8 %c0%af" GET /DEFAULT/controller/v1/a%c0%afb
bad 400 ".. segment" GET /api/v1/../healthz
bad 400 "encoded .. segment" GET /DEFAULT/controller/v1/%2e%2e/configData
bad 400 ". segment" GET /DEFAULT/controller/v1/./dev-x
bad "400|404" "encoded slashes in an artifact name" GET "${DLPATH%/*}/..%2F..%2F..%2F..%2Fsettings.yaml"
check "no settings file leaked" sh -c "! grep -q 'data_dir' '$T/body'"
bad "400|404" "absolute artifact name" GET "${DLPATH%/*}/%2Fetc%2Fpasswd"
check "no passwd leaked" sh -c "! grep -q 'root:' '$T/body'"
bad "400|404|414|431" "20 KB path" GET "/DEFAULT/controller/v1/$(head -c 20000 /dev/zero | tr '\0' a)"
bad "400|404" "40 segments" GET "/api/v1$(printf '/a%.0s' $(seq 40))"
bad "000|400|413|414|431" "60 KB header" GET /healthz -H "X-Junk: $(head -c 60000 /dev/zero | tr '\0' a)"

# --- tokens ---------------------------------------------------------------
bad 401 "Bearer with a wrong token" GET /api/v1/devices -H 'Authorization: Bearer 0000000000000000000000000000000000000000'
bad 401 "Bearer with a 10 KB token" GET /api/v1/devices -H "Authorization: Bearer $(head -c 10000 /dev/zero | tr '\0' A)"
bad 401 "Bearer with non-ASCII" GET /api/v1/devices -H "Authorization: Bearer $(printf 'tok\303\251n')"
bad "400|401" "two Authorization headers, first wrong" GET /api/v1/devices -H 'Authorization: Bearer wrong' -H "Authorization: Bearer $TOKEN"

# --- DDI bodies -----------------------------------------------------------
D=/DEFAULT/controller/v1/dev-x
bad 400 "feedback malformed JSON" POST "$D$FB" "${JSON[@]}" --data-binary '{"status":'
bad 400 "feedback status empty" POST "$D$FB" "${JSON[@]}" --data-binary '{"status":{}}'
bad 400 "feedback execution a number" POST "$D$FB" "${JSON[@]}" --data-binary '{"status":{"execution":1,"result":{"finished":"none"}}}'
bad 400 "feedback 20000 nested arrays" POST "$D$FB" "${JSON[@]}" --data-binary "@$DEEP"
bad 413 "feedback over 256 KiB" POST "$D$FB" "${JSON[@]}" --data-binary "@$BIG"
bad 415 "feedback as text/plain" POST "$D$FB" -H 'Content-Type: text/plain' \
    --data-binary '{"status":{"execution":"proceeding","result":{"finished":"none"}}}'
bad 415 "feedback as XML" POST "$D$FB" -H 'Content-Type: application/xml' --data-binary '<status/>'
bad "400|404" "feedback with a non-numeric action id" POST "$D/deploymentBase/abc/feedback" "${JSON[@]}" \
    --data-binary '{"status":{"execution":"proceeding","result":{"finished":"none"}}}'
bad "400|404" "deploymentBase with a non-numeric id" GET "$D/deploymentBase/abc"
bad 404 "deploymentBase id 0" GET "$D/deploymentBase/0"
bad "400|404" "deploymentBase id overflow" GET "$D/deploymentBase/99999999999999999999"
bad 413 "configData over 256 KiB" PUT "$D/configData" "${JSON[@]}" --data-binary "@$BIG"
bad 400 "configData malformed" PUT "$D/configData" "${JSON[@]}" --data-binary '{"data":{"a":"b"'
bad 406 "DDI with Accept: text/html" GET "$D" -H 'Accept: text/html'
check "action still running after all that" sh -c \
    "curl -s --max-time 5 -H 'Authorization: Bearer $TOKEN' $BASE/api/v1/actions/$ACT | jq -e '.status == \"running\" or .status == \"scheduled\"' >/dev/null"

# --- Range headers --------------------------------------------------------
bad 416 "Range bytes=abc" GET "$DLPATH" -H 'Range: bytes=abc'
bad 416 "Range bytes=-" GET "$DLPATH" -H 'Range: bytes=-'
bad 416 "Range bytes=5-2" GET "$DLPATH" -H 'Range: bytes=5-2'
bad "200|416" "Range with overlapping parts (ignored or refused)" GET "$DLPATH" -H 'Range: bytes=0-10,5-20'
bad "200|416" "Range with unsorted parts (ignored or refused)" GET "$DLPATH" -H 'Range: bytes=20-30,0-10'
bad 416 "Range start overflow" GET "$DLPATH" -H 'Range: bytes=99999999999999999999999-'
bad 416 "Range negative start" GET "$DLPATH" -H 'Range: bytes=-5-10'
bad "200|416" "Range with another unit" GET "$DLPATH" -H 'Range: items=0-1'

# --- uploads --------------------------------------------------------------
abad 400 "multipart without boundary" POST /api/v1/software -H 'Content-Type: multipart/form-data' --data-binary 'x'
abad 400 "multipart with a wrong boundary" POST /api/v1/software \
    -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary $'--ABC\r\nContent-Disposition: form-data; name="file"; filename="a.swu"\r\n\r\nxx\r\n--ABC--\r\n'
abad 400 "multipart cut short" POST /api/v1/software \
    -H 'Content-Type: multipart/form-data; boundary=XYZ' --data-binary $'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.swu"\r\n\r\n0707010000'
abad 415 "upload as JSON" POST '/api/v1/software?filename=a.swu' "${JSON[@]}" --data-binary '{}'
check "no upload left in data/tmp" [ "$(count_files "$T/data/tmp")" -eq 0 ]

# --- connections that go away ---------------------------------------------
curl -s --max-time 1 -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/octet-stream' -H 'Content-Length: 100000000' \
    --data-binary @"$T/img.swu" "$BASE/api/v1/software?filename=cut.swu" 2>/dev/null
alive "an upload whose client gave up"
if have timeout && have bash; then
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3 && sleep 0.3) 2>/dev/null
	alive "a request cut after the headers started"
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'BREW /coffee HTCPCP/1.0\r\n\r\n' >&3 && timeout 2 cat <&3 >/dev/null) 2>/dev/null
	alive "a garbage request line"
fi
check "temp files of aborted uploads are removed" wait_for 3 sh -c "[ \$(find '$T/data/tmp' -type f | wc -l) -eq 0 ]"

# --- device deletion --------------------------------------------------------
api DELETE /api/v1/devices/dev-x
expect_status 204 "DELETE a device -> 204"
api GET /api/v1/devices/dev-x
expect_status 404 "deleted device -> 404"
api GET "/api/v1/actions/$ACT"
expect_status 404 "its actions are gone"

finish
