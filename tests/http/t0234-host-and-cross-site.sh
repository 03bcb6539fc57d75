#!/usr/bin/env bash
# DNS rebinding and cross-site logins (finding #16).  The dashboard, the
# JSON API, login, set-up and a public /metrics answer only to the names
# this server goes by: IP literals, localhost, the host of public_url and
# http.allowed_hosts ("*" = any).  Another Host gets 421 with a JSON
# error.  Devices (DDI), /healthz and a /metrics that needs a token keep
# any Host.  Login and set-up take
# only a declared application/json body, and no request a browser marks
# as cross-site (Sec-Fetch-Site).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

start_server "$FAST"
TOKEN=$(make_token admin)

# host_status HOST PATH [curl args...]: the status of a GET with that Host.
host_status()
{
	local host=$1 path=$2
	shift 2
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Host: $host" \
	    -H "Authorization: Bearer $TOKEN" "$@" "$BASE$path"
}

# --- what passes by default ------------------------------------------------------------
for h in "127.0.0.1:$PORT" 127.0.0.1 "localhost:$PORT" LOCALHOST localhost. \
    "[::1]:$PORT" '[::1]' 10.1.2.3 "192.0.2.1:8080" '[2001:db8::1]:80' \
    app.localhost; do
	st=$(host_status "$h" /api/v1/me)
	check "Host $h: the API answers (got $st)" [ "$st" = 200 ]
done
req GET /api/v1/me -H "Authorization: Bearer $TOKEN"
expect_status 200 "curl's own Host (127.0.0.1:PORT) works"

# --- a name nobody configured ---------------------------------------------------------------
for p in /api/v1/me /api/v1/devices / /ui/ /ui/index.html /api/v1/setup \
    /api/v1/openapi.json; do
	st=$(host_status evil.example "$p")
	check "Host evil.example: GET $p -> 421 (got $st)" [ "$st" = 421 ]
done
expect_error misdirected_request
check "the 421 names the setting" grep -q 'http.allowed_hosts' "$T/body"
st=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H 'Host: evil.example' \
    -H 'Content-Type: application/json' --data-binary '{"username":"admin","password":"x"}' \
    "$BASE/api/v1/login")
check "Host evil.example: POST /api/v1/login -> 421 (got $st)" [ "$st" = 421 ]
st=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H 'Host: evil.example' \
    -H 'Content-Type: application/json' --data-binary '{"token":"x","username":"a","password":"b"}' \
    "$BASE/api/v1/setup")
check "Host evil.example: POST /api/v1/setup -> 421 (got $st)" [ "$st" = 421 ]
for h in evil.example:8080 127.0.0.1.evil.example localhost.evil.example \
    1.2.3.4.nip.io '[::1'; do
	st=$(host_status "$h" /api/v1/me)
	check "Host '$h' -> 421 (got $st)" [ "$st" = 421 ]
done
check "the server log hints at the setting" \
    grep -q 'refused a request for Host evil.example.*http.allowed_hosts' "$T/server.log"
check "once a minute at most" \
    [ "$(grep -c 'refused a request for Host' "$T/server.log")" -eq 1 ]

# --- devices and health checks keep any Host -------------------------------------------------
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: ota.internal' \
    "$BASE/$TENANT/controller/v1/dev-host")
check "a device polling as ota.internal is answered (got $st)" [ "$st" = 200 ]
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: falconet:8080' \
    "$BASE/healthz")
check "/healthz with any Host (got $st)" [ "$st" = 200 ]
st=$(host_status falconet:8080 /metrics)
check "/metrics with a token, any Host (a scraper's name) (got $st)" [ "$st" = 200 ]

# --- login and set-up: application/json, not cross-site -------------------------------------------
printf 'admin-password-1\n' | falconet_cli user add admin admin >/dev/null 2>&1
LOGIN='{"username":"admin","password":"admin-password-1"}'
req POST /api/v1/login --data-binary "$LOGIN" -H 'Content-Type:'
expect_status 415 "login without a Content-Type -> 415 (a cross-site Blob has none)"
req POST /api/v1/login --data-binary "$LOGIN" -H 'Content-Type: text/plain'
expect_status 415 "login as text/plain -> 415"
check "no session for either" [ -z "$(cookie_value)" ]
post_json /api/v1/login "$LOGIN" -H 'Sec-Fetch-Site: cross-site'
expect_status 403 "login marked cross-site -> 403"
expect_error cross_site
check "no session" [ -z "$(cookie_value)" ]
post_json /api/v1/login "$LOGIN" -H 'Sec-Fetch-Site: same-site'
expect_status 403 "login from a sibling site -> 403"
post_json /api/v1/login "$LOGIN" -H 'Sec-Fetch-Site: same-origin'
expect_status 200 "login from the dashboard's own origin -> 200"
post_json /api/v1/login "$LOGIN" -H 'Sec-Fetch-Site: none'
expect_status 200 "login typed by the user (Sec-Fetch-Site: none) -> 200"
post_json /api/v1/login "$LOGIN"
expect_status 200 "login without Fetch Metadata (curl) -> 200"
req POST /api/v1/setup --data-binary '{"token":"x","username":"a","password":"b"}' -H 'Content-Type:'
expect_status 415 "set-up without a Content-Type -> 415"
post_json /api/v1/setup '{"token":"x","username":"a","password":"b"}' -H 'Sec-Fetch-Site: cross-site'
expect_status 403 "set-up marked cross-site -> 403"
# Authenticated JSON routes keep taking a body without Content-Type (the
# CSRF token guards sessions; a Bearer token is no ambient credential).
api POST /api/v1/devices --data-binary '{"controller_id":"no-ctype"}' -H 'Content-Type:'
expect_status 201 "an authenticated JSON route without Content-Type -> 201"

# --- public_url and http.allowed_hosts --------------------------------------------------------
start_server "$FAST" 'public_url: https://ota.example.com' 'http:
  allowed_hosts: [updates.lan, "*.corp.example", 198.51.100.1]'
for h in ota.example.com OTA.Example.COM:443 ota.example.com. updates.lan:8080 \
    a.corp.example b.a.corp.example; do
	st=$(host_status "$h" /api/v1/me)
	check "Host $h: allowed (got $st)" [ "$st" = 200 ]
done
for h in example.com corp.example xcorp.example updates.lan.evil evil.example; do
	st=$(host_status "$h" /api/v1/me)
	check "Host $h: 421 (got $st)" [ "$st" = 421 ]
done
req GET /api/v1/settings -H "Authorization: Bearer $TOKEN"
expect_json '.settings["http.allowed_hosts"] | tostring' \
    '["updates.lan","*.corp.example","198.51.100.1"]' "the settings show the list"

# --- public metrics are an unauthenticated surface -------------------------------------------------
start_server "$FAST" 'metrics:
  public: true'
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: evil.example' "$BASE/metrics")
check "metrics.public: /metrics for Host evil.example -> 421 (got $st)" [ "$st" = 421 ]
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/metrics")
check "metrics.public: /metrics for 127.0.0.1 -> 200 (got $st)" [ "$st" = 200 ]

# --- "*" turns the check off ---------------------------------------------------------------------
start_server "$FAST" 'http:
  allowed_hosts: ["*"]'
st=$(host_status evil.example /api/v1/me)
check 'allowed_hosts ["*"]: any Host (got '"$st"')' [ "$st" = 200 ]

# --- behind a trusted proxy the browser's Host is X-Forwarded-Host -----------------------------------
start_server "$FAST" 'public_url: https://ota.example.com' 'proxy:
  trusted: ["127.0.0.1"]'
st=$(host_status 127.0.0.1 /api/v1/me -H 'X-Forwarded-Host: evil.example')
check "X-Forwarded-Host evil.example from the proxy -> 421 (got $st)" [ "$st" = 421 ]
st=$(host_status falconet:8080 /api/v1/me -H 'X-Forwarded-Host: ota.example.com')
check "X-Forwarded-Host ota.example.com from the proxy -> 200 (got $st)" [ "$st" = 200 ]
start_server "$FAST" 'public_url: https://ota.example.com'
st=$(host_status ota.example.com /api/v1/me -H 'X-Forwarded-Host: evil.example')
check "X-Forwarded-Host from an untrusted peer counts for nothing (got $st)" [ "$st" = 200 ]

finish
