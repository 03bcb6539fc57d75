#!/usr/bin/env bash
# HTTPS served by falconet itself: tls.cert and tls.key, TLS 1.2 at least,
# HSTS on HTTPS answers, the plain HTTP listener beside it (listen.http_port)
# where devices poll and the dashboard and APIs redirect or refuse, and the
# checks of `falconet -n` on the certificate files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"

for tool in openssl; do
	if ! have $tool; then
		skip "HTTPS" "$tool is not installed"
		finish
	fi
done

certs_ca ca
certs_server srv ca
certs_ca other
certs_server foreign other # a certificate of another CA's, for -n
certs_key stray            # a key of no certificate
export CURL_CA_BUNDLE=$CERTS/ca.crt

TLS="tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key"
LISTEN='listen:
  address: 127.0.0.1
  port: 0
  http_port: 0'

# n_check NAME YAML...: falconet -n on base settings with YAML; sets
# NOUT (its stderr) and NRC.
n_check()
{
	write_settings "$T/n.yaml" "$@"
	NOUT=$("$FALCONET" -c "$T/n.yaml" -n 2>&1)
	NRC=$?
}

# expect_n_fail NAME PATTERN: the last n_check exited 1 with PATTERN.
expect_n_fail()
{
	if [ "$NRC" -eq 1 ] && echo "$NOUT" | grep -q -- "$2"; then
		pass "$1"
	else
		fail "$1" "rc $NRC: $NOUT"
	fi
}

# --- falconet -n ----------------------------------------------------------
n_check "$LISTEN" "$TLS"
check "-n: a good certificate and key -> settings OK" \
    sh -c "[ $NRC -eq 0 ] && echo '$NOUT' | grep -q 'settings OK'"
n_check "$LISTEN" "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/srv.key"
check "-n: the certificate alone, without its chain, is fine too" [ "$NRC" -eq 0 ]
n_check "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/stray.key"
expect_n_fail "-n: a key that does not match the certificate -> names both files" \
    "tls.key $CERTS/stray.key: does not match the certificate in tls.cert $CERTS/srv.crt"
n_check "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/missing.key"
expect_n_fail "-n: a missing key file -> names it" \
    "tls.key $CERTS/missing.key: cannot open: No such file"
n_check "tls:
  cert: $CERTS/nothing.crt
  key: $CERTS/srv.key"
expect_n_fail "-n: a missing certificate file -> names it" \
    "tls.cert $CERTS/nothing.crt: cannot open"
printf 'not a key\n' >"$CERTS/garbage.key"
n_check "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/garbage.key"
expect_n_fail "-n: a file that holds no key -> names it" \
    "tls.key $CERTS/garbage.key: not an unencrypted PEM private key"
n_check "tls:
  cert: $CERTS/srv.key
  key: $CERTS/srv.key"
expect_n_fail "-n: a key given as the certificate -> names it" \
    "tls.cert $CERTS/srv.key: "
cat "$CERTS/ca.crt" "$CERTS/srv.crt" >"$CERTS/backwards.crt"
n_check "tls:
  cert: $CERTS/backwards.crt
  key: $CERTS/srv.key"
expect_n_fail "-n: a chain in the wrong order -> says how to order it" \
    "tls.cert $CERTS/backwards.crt: .*server's certificate first"
cat "$CERTS/srv.crt" "$CERTS/other.crt" >"$CERTS/wrongca.crt"
n_check "tls:
  cert: $CERTS/wrongca.crt
  key: $CERTS/srv.key"
expect_n_fail "-n: a chain whose next certificate is not the issuer -> 1" \
    "tls.cert $CERTS/wrongca.crt: "
n_check "$TLS" 'tls:
  priorities: "NORMAL:+NO-SUCH-THING"'
expect_n_fail "-n: a bad priority string -> says where" \
    'tls.priorities: .*NO-SUCH-THING'
n_check "tls:
  cert: $CERTS/srv.crt"
expect_n_fail "-n: tls.cert without tls.key -> 1" "tls.cert: needs tls.key"
n_check 'listen:
  http_port: 8081'
expect_n_fail "-n: listen.http_port without TLS -> 1" \
    "listen.http_port: .*needs tls.cert"
n_check "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/srv.key
  client_ca: $CERTS/nothing.pem"
expect_n_fail "-n: a missing tls.client_ca -> names it" \
    "tls.client_ca $CERTS/nothing.pem: cannot open"
n_check "tls:
  cert: $CERTS/srv.crt
  key: $CERTS/srv.key
  client_ca: $CERTS/garbage.key"
expect_n_fail "-n: a tls.client_ca without certificates -> names it" \
    "tls.client_ca $CERTS/garbage.key: no PEM certificate"

# --- serving --------------------------------------------------------------
start_server "$LISTEN" "$TLS"
BASE=https://127.0.0.1:$PORT
HTTP_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (plain HTTP.*/\1/p' \
    "$T/server.log" | tail -1)
PLAIN=http://127.0.0.1:$HTTP_PORT
check "the plain HTTP listener is announced" [ -n "$HTTP_PORT" ]
check "the certificate served is logged" \
    grep -q "serving CN=localhost (2 in the chain), valid until" "$T/server.log"
TOKEN=$(make_token admin)

req GET /healthz
expect_status 200 "HTTPS /healthz -> 200 (certificate checked against the CA)"
expect_header Strict-Transport-Security max-age=31536000 \
    "HTTPS answers carry HSTS"
api GET /api/v1/devices
expect_status 200 "the API over HTTPS, with no client certificate -> 200"
expect_header Strict-Transport-Security max-age=31536000
req GET /ui/
expect_status 200 "the dashboard over HTTPS -> 200"
req GET "$BASE/healthz" --cacert "$CERTS/other.crt"
check "a client trusting another CA refuses the server" [ "$STATUS" = 000 ]

# Links devices follow are https ones.
api_json POST /api/v1/devices '{"controller_id":"dev-1","token":"dev-token-0001"}'
expect_status 201 "a device with a TargetToken"
DDI_AUTH="TargetToken dev-token-0001"
ddi GET dev-1
expect_status 200 "DDI over HTTPS with a TargetToken -> 200"
expect_jq '._links.configData.href | startswith("https://127.0.0.1:'"$PORT"'/")' \
    "poll links are https:// on the HTTPS port"

# TLS versions: 1.2 and 1.3 spoken, 1.1 refused.  The client is told to
# offer 1.1 (and the old ciphers it needs), so only the server refuses.
tls_proto()
{
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -CAfile "$CERTS/ca.crt" "$@" 2>&1 |
	    sed -n 's/^ *Protocol *: *//p; s/^New, \(.*\), Cipher is \(.*\)/\1 \2/p' |
	    tr '\n' ' '
}
got=$(tls_proto -tls1_2)
check "TLS 1.2 is spoken ($got)" sh -c "echo '$got' | grep -q 'TLSv1.2' && ! echo '$got' | grep -q '(NONE)'"
got=$(tls_proto -tls1_3)
check "TLS 1.3 is spoken ($got)" sh -c "echo '$got' | grep -q 'TLSv1.3 TLS_'"
got=$(tls_proto -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
check "TLS 1.1 is refused ($got)" sh -c "echo '$got' | grep -q '(NONE)'"
check "curl --tls-max 1.1 fails" sh -c \
    "! curl -s --max-time 5 --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' -o /dev/null $BASE/healthz"
got=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
    -tls1_2 -cipher 'AES128-SHA' 2>&1 | grep -c 'Cipher is (NONE)')
check "a TLS 1.2 cipher without forward secrecy is refused" [ "$got" -ge 1 ]

# --- plain HTTP beside HTTPS ----------------------------------------------
req GET "$PLAIN/healthz"
expect_status 200 "plain HTTP /healthz -> 200 (probes)"
expect_no_header Strict-Transport-Security "no HSTS over plain HTTP"
req GET "$PLAIN/ui/"
expect_status 308 "plain HTTP dashboard -> 308"
expect_header Location "https://127.0.0.1:$PORT/ui/" "... to the same path over HTTPS"
req GET "$PLAIN/api/v1/devices" -H "Authorization: Bearer $TOKEN"
expect_status 308 "plain HTTP API GET -> 308, not answered"
check "... the device list is not in the body" sh -c "! grep -q dev-1 '$T/body'"
req GET "$PLAIN/ui/" -H "Host: ota.example.com:$HTTP_PORT"
expect_header Location "https://ota.example.com:$PORT/ui/" \
    "the redirect keeps the host name, with the HTTPS port"
req POST "$PLAIN/api/v1/login" -H 'Content-Type: application/json' \
    --data-binary '{"username":"admin","password":"admin-password"}'
expect_status 403 "plain HTTP login POST -> 403"
expect_error https_required
req GET "$PLAIN/rest/v1/targets" -u admin:whatever
expect_status 308 "plain HTTP /rest/v1 -> 308"
req GET "$PLAIN/ui/" -H 'X-Forwarded-Proto: https'
expect_status 308 "X-Forwarded-Proto from an untrusted peer changes nothing"
req GET "$PLAIN/DEFAULT/controller/v1/dev-1" -H "Authorization: $DDI_AUTH"
expect_status 200 "plain HTTP DDI with a TargetToken -> 200"
expect_jq '._links.configData.href | startswith("http://")' \
    "... with http:// links"
req GET "$PLAIN/DEFAULT/controller/v1/dev-1"
expect_status 401 "plain HTTP DDI without credentials -> 401"
alive "the plain HTTP checks"

# public_url: https names where the redirect goes.
start_server "$LISTEN" "$TLS" 'public_url: https://ota.example.com'
HTTP_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (plain HTTP.*/\1/p' \
    "$T/server.log" | tail -1)
req GET "http://127.0.0.1:$HTTP_PORT/ui/?x=1"
expect_header Location "https://ota.example.com/ui/" \
    "with an https public_url, the redirect goes there"

# tls.hsts_max_age: 0 sends none; no http_port, no plain listener.
start_server 'listen:
  address: 127.0.0.1
  port: 0' "$TLS" 'tls:
  hsts_max_age: 0'
BASE=https://127.0.0.1:$PORT
req GET /healthz
expect_status 200
expect_no_header Strict-Transport-Security "tls.hsts_max_age 0: no HSTS"
check "no plain HTTP listener without listen.http_port" \
    sh -c "! grep -q '(plain HTTP' '$T/server.log' || [ \$(grep -c '(plain HTTP' '$T/server.log') -eq 2 ]"
req GET "http://127.0.0.1:$PORT/healthz"
check "plain HTTP on the HTTPS port gets no answer" [ "$STATUS" = 000 ]
finish
