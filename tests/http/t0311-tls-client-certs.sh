#!/usr/bin/env bash
# Device client certificates over HTTPS, without a proxy (tls.client_ca):
# a certificate issued by that CA whose CN (or SAN, tls.client_id) is the
# controller id authenticates the device in place of a token; one for
# another device, an expired one or one from another CA is refused with 401
# and the reason logged; tls.client_auth required and ignored; operators
# need none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"

if ! have openssl; then
	skip "client certificates" "openssl is not installed"
	finish
fi

certs_ca ca
certs_server srv ca
certs_client dev1 ca dev-1
certs_client dev2 ca dev-2
certs_ca other
certs_client alien other dev-1 # the right name, the wrong CA
certs_expired old ca dev-1     # the right name and CA, 2020 only
certs_intermediate sub ca
certs_client viasub sub dev-3
cat "$CERTS/viasub.crt" "$CERTS/sub.crt" >"$CERTS/viasub-chain.crt"
certs_client uri ca "not-the-id" "URI:urn:dev:dev-4,DNS:dev-4.example"
# A certificate only for servers: not for a device to log in with.
certs_key srvonly
certs_sign srvonly ca "/CN=dev-5" \
    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth"
export CURL_CA_BUNDLE=$CERTS/ca.crt

TLS="tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key
  client_ca: $CERTS/ca.crt"
MODE='device_auth:
  mode: token'

# as NAME: curl arguments presenting client certificate NAME.
as()
{
	echo "--cert $CERTS/$1.crt --key $CERTS/$1.key"
}

# expect_refusal NAME PATTERN: the server log says why, for this refusal.
expect_logged()
{
	if wait_for 3 grep -q -- "$2" "$T/server.log"; then
		pass "$1"
	else
		fail "$1" "no '$2' in the log"
	fi
}

start_server "$MODE" "$TLS"
BASE=https://127.0.0.1:$PORT
TOKEN=$(make_token admin)

# shellcheck disable=SC2046 # as prints several words on purpose
ddi GET dev-1 "" $(as dev1)
expect_status 200 "token mode: an unknown device with its certificate -> 200"
api GET /api/v1/devices/dev-1
expect_status 200 "... and it is registered"
expect_json .feed default "... in feed default: the certificate vouches for it"
ddi GET dev-1 "" $(as dev1)
expect_status 200 "the next poll with it -> 200"
ddi GET dev-1
expect_status 401 "dev-1 without certificate or token -> 401"
expect_empty_body "... an empty 401, as hawkBit's DDI answers"

ddi GET dev-2 "" $(as dev1)
expect_status 401 "dev-1's certificate for dev-2 -> 401"
expect_empty_body
expect_logged "... logged: for another id" \
    'refused device dev-2 from 127.0.0.1: its client certificate is for CN "dev-1", not this controller id'
api GET /api/v1/devices/dev-2
expect_status 404 "... and dev-2 is not registered"

ddi GET dev-1 "" $(as old)
expect_status 401 "an expired certificate -> 401"
expect_logged "... logged: expired" \
    'refused device dev-1 from 127.0.0.1: its client certificate has expired'
ddi GET dev-1 "" $(as alien)
expect_status 401 "a certificate of another CA -> 401"
expect_logged "... logged: another CA" \
    'refused device dev-1 from 127.0.0.1: its client certificate is not issued by tls.client_ca'
ddi GET dev-5 "" $(as srvonly)
expect_status 401 "a certificate for servers only (extended key usage) -> 401"
expect_logged "... logged: not for TLS clients" \
    'refused device dev-5 .*not for TLS clients'

# A refused certificate is refused whatever else the request carries.
api_json PATCH /api/v1/devices/dev-1 '{"token":"dev1-token-0001"}'
expect_status 200 "dev-1 gets a TargetToken too"
ddi GET dev-1 "" $(as alien) -H 'Authorization: TargetToken dev1-token-0001'
expect_status 401 "another CA's certificate with a good TargetToken -> 401"
ddi GET dev-1 "" -H 'Authorization: TargetToken dev1-token-0001'
expect_status 200 "accepted mode: the TargetToken alone still works -> 200"
ddi GET dev-1 "" $(as dev1) -H 'Authorization: TargetToken wrong-token-000'
expect_status 200 "a good certificate is what authenticates (a wrong token beside it)"

# The whole DDI cycle's other paths check it too.
ddi_json PUT dev-1 /configData '{"mode":"merge","data":{"hw_boardname":"b"}}' $(as dev1)
expect_status 200 "configData with the certificate -> 200"
ddi_json PUT dev-1 /configData '{"mode":"merge","data":{"hw_boardname":"b"}}' $(as dev2)
expect_status 401 "configData with another device's certificate -> 401"

# Intermediate CAs: the device sends its chain.
ddi GET dev-3 "" --cert "$CERTS/viasub-chain.crt" --key "$CERTS/viasub.key"
expect_status 200 "a certificate from an intermediate CA, chain sent -> 200"
ddi GET dev-3 "" $(as viasub)
expect_status 401 "... without the intermediate -> 401"

# Operators never need one, and a device's certificate is no login.
api GET /api/v1/devices
expect_status 200 "the API without a client certificate -> 200"
req GET /api/v1/devices $(as dev1)
expect_status 401 "a device certificate is no management credential -> 401"
req GET /ui/
expect_status 200 "the dashboard without a client certificate -> 200"
got=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
    -CAfile "$CERTS/ca.crt" 2>&1 | sed -n '/^Acceptable client certificate CA names/,/^[A-Z]/p' |
    grep -c 'ca test CA')
check "the handshake asks for a certificate of tls.client_ca (not required)" [ "$got" -ge 1 ]

# --- SAN identities ---------------------------------------------------------
start_server "$MODE" "$TLS" 'tls:
  client_id: san-uri'
BASE=https://127.0.0.1:$PORT
ddi GET urn:dev:dev-4 "" $(as uri)
expect_status 200 "client_id san-uri: the URI SAN is the id -> 200"
ddi GET dev-1 "" $(as dev1)
expect_status 401 "client_id san-uri: a CN alone -> 401"
expect_logged "... logged: no URI SAN" 'refused device dev-1 .*has no URI SAN'
start_server "$MODE" "$TLS" 'tls:
  client_id: san-dns'
BASE=https://127.0.0.1:$PORT
ddi GET dev-4.example "" $(as uri)
expect_status 200 "client_id san-dns: the DNS SAN is the id -> 200"
ddi GET not-the-id "" $(as uri)
expect_status 401 "client_id san-dns: the CN does not count -> 401"

# --- required ---------------------------------------------------------------
start_server "$MODE" "$TLS" 'tls:
  client_auth: required'
BASE=https://127.0.0.1:$PORT
TOKEN=$(make_token admin2)
ddi GET dev-1 "" -H 'Authorization: TargetToken dev1-token-0001'
expect_status 401 "required: a good TargetToken without a certificate -> 401"
expect_logged "... logged: no client certificate" \
    'refused device dev-1 from 127.0.0.1: no client certificate (tls.client_auth is required)'
# The id in that line is cut at 64 bytes on a character boundary: 63
# letters and an e-acute (2 bytes) log as the 63 letters, no half character.
A63=$(printf 'a%.0s' $(seq 63))
ddi GET "$A63%C3%A9" "" -H 'Authorization: TargetToken dev1-token-0001'
expect_status 401 "required: a 65-byte id without a certificate -> 401"
expect_logged "... logged with the id cut before the e-acute" \
    "refused device $A63 from 127.0.0.1: no client certificate"
check "... and no half character in the log" \
    sh -c "! grep -q 'refused device $A63\\\\x' '$T/server.log'"
ddi GET dev-1 "" $(as dev1)
expect_status 200 "required: the certificate -> 200"
api GET /api/v1/devices
expect_status 200 "required: operators still need no certificate"

# --- ignored ----------------------------------------------------------------
start_server "$MODE" "$TLS" 'tls:
  client_auth: ignored'
BASE=https://127.0.0.1:$PORT
ddi GET dev-1 "" $(as dev1)
expect_status 401 "ignored: the certificate does not authenticate -> 401"
ddi GET dev-1 "" $(as alien) -H 'Authorization: TargetToken dev1-token-0001'
expect_status 200 "ignored: nor is a foreign one refused (the token counts) -> 200"
got=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
    -CAfile "$CERTS/ca.crt" 2>&1 | grep -c 'No client certificate CA names sent')
check "ignored: the handshake asks for no certificate" [ "$got" -ge 1 ]
finish
