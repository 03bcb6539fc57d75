#!/usr/bin/env bash
# Requests libmicrohttpd answers itself, before any handler runs (too long,
# malformed, a bad chunk, a Content-Length it cannot hold, an HTTP version
# it does not speak), get a JSON error like every other answer: Falconet's
# {error, detail} and hawkBit's {exceptionClass, errorCode, message}, never
# the library's HTML page.  The server's own answers are untouched.
. "$(dirname "$0")/lib.sh"

RAW=(/usr/bin/python3 "$(dirname "$0")/rawhttp.py")
start_server
TOKEN=$(make_token admin)

jqt() { jq -e "$1" "$2" >/dev/null; }

is_json_error()
{
	jq -e '(.error | type == "string") and (.detail | length > 0) and
	    (.exceptionClass | startswith("org.")) and
	    (.errorCode | startswith("hawkbit.server.error.")) and
	    .message == .detail' "$1" >/dev/null
}

# json_error NAME WANT_STATUS [head-only]: stdin is the raw request.
json_error()
{
	local name=$1 want=$2 line
	"${RAW[@]}" answer "$PORT" 5 >"$T/answer"
	line=$(head -n 1 "$T/answer")
	tail -n +2 "$T/answer" >"$T/answer.body"
	check "$name: $want ($line)" [ "${line%% *}" = "$want" ]
	check "  as application/json" [ "${line#* }" = application/json ]
	[ "${3:-}" = head-only ] && return
	check "  the body is a JSON error in both shapes ($(head -c 120 "$T/answer.body"))" \
	    is_json_error "$T/answer.body"
	check "  no HTML, no tags" sh -c "! grep -q '<' '$T/answer.body'"
}

long=$(head -c 20000 /dev/zero | tr '\0' a)
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: %s\r\n\r\n' "$long" |
    json_error "headers longer than the connection's buffer" 431
printf 'GET /DEFAULT/controller/v1/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$long" |
    json_error "a request line longer than the buffer" 414
printf 'GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n' |
    json_error "a malformed request line" 400
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n' |
    json_error "a header line without a colon" 400
printf 'GET /healthz\r\n\r\n' |
    json_error "an HTTP/0.9 request" 400
printf 'POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n' |
    json_error "a malformed chunk" 400
printf 'POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n' |
    json_error "a chunk size that does not fit" 413
# libmicrohttpd 0.9.75 writes this answer's head twice (its bug, before
# any handler runs): the status and type are checked, and the body after
# the second head.
printf 'POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999999\r\n\r\n' |
    json_error "a Content-Length that does not fit" 413 head-only
sed -n '/^{/,$p' "$T/answer.body" >"$T/answer.json"
check "  its body is a JSON error ($(head -c 120 "$T/answer.json"))" \
    is_json_error "$T/answer.json"
printf 'GET /healthz HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n' |
    json_error "HTTP/2.0 over HTTP/1 framing" 505
check "the 505 says which versions are spoken" \
    grep -q 'HTTP/1.1' "$T/answer.body"

# The server's own answers keep their bodies and types.
req GET /healthz
expect_status 200 "healthz after all that"
check "  its body is the server's ($(head -c 60 "$T/body"))" jqt '.status == "ok"' "$T/body"
req GET /ui/index.html
expect_status 200 "the dashboard's HTML"
check "  still HTML" grep -qi '<!doctype html>' "$T/body"
req GET /api/v1/devices
expect_status 401 "an API error of the server's own"
check "  in the server's shape" jqt '.error == "unauthorized" and (has("exceptionClass") | not)' "$T/body"
mkimg "$T/le.swu" 1.0.0 1.0 -s 300K
upload "$T/le.swu"
expect_status 201 "an upload"
req GET "/DEFAULT/controller/v1/le-1"
expect_status 200 "a device poll"
check "  in DDI's shape" jqt '.config.polling.sleep | type == "string"' "$T/body"
check "the server logged no crash" sh -c "! grep -qE 'AddressSanitizer|runtime error' '$T/server.log' '$T/server.out' 2>/dev/null"
finish
