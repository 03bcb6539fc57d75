#!/usr/bin/env bash
# Certificate headers through a proxy (security finding #16): the headers of
# device_auth.proxy_cert count only from a peer in proxy.cert_trusted, not
# from every proxy.trusted peer (a load balancer used for X-Forwarded-For
# may pass a client's own X-Controller-Id on).  Settings of before, with
# proxy.trusted alone, keep working, with a warning.
. "$(dirname "$0")/lib.sh"

CERT='device_auth:
  mode: token
  proxy_cert:
    enabled: true
    trusted_issuers: [ "abcd1234" ]'

# cert_poll CID ADDR: a poll with certificate headers naming CID, sent from
# 127.0.0.ADDR.
cert_poll()
{
	req GET "/DEFAULT/controller/v1/$1" --interface "127.0.0.$2" \
	    -H "X-Controller-Id: $1" -H 'X-Authority: abcd1234'
}

# 127.0.0.1 is a load balancer (X-Forwarded-For), 127.0.0.2 the TLS proxy.
start_server "$CERT" 'proxy:
  trusted: [ "127.0.0.1" ]
  cert_trusted: [ "127.0.0.2" ]'
TOKEN=$(make_token admin)
cert_poll lb-1 1
expect_status 401 "certificate headers from a proxy.trusted load balancer -> 401"
api GET /api/v1/devices/lb-1
expect_status 404 "... register nothing"
cert_poll tls-1 2
expect_status 200 "certificate headers from the proxy.cert_trusted proxy -> 200"
api GET /api/v1/devices/tls-1
expect_status 200 "... register the device"
expect_json .feed default "a certificate vouches for it: feed default"
cert_poll tls-1 3
expect_status 401 "the same headers from any other peer -> 401"
req GET /DEFAULT/controller/v1/tls-1 --interface 127.0.0.2 \
    -H 'X-Controller-Id: tls-1' -H 'X-Authority: 0badbad0'
expect_status 401 "the cert proxy with an untrusted issuer -> 401"
req GET /DEFAULT/controller/v1/tls-1 --interface 127.0.0.2 \
    -H 'X-Controller-Id: other' -H 'X-Authority: abcd1234'
expect_status 401 "the cert proxy naming another device -> 401"
# The lists are apart the other way too: the cert proxy's X-Forwarded-For
# is not believed (it is not in proxy.trusted), the load balancer's is.
req GET /DEFAULT/controller/v1/tls-1 --interface 127.0.0.2 \
    -H 'X-Controller-Id: tls-1' -H 'X-Authority: abcd1234' \
    -H 'X-Forwarded-For: 198.51.100.7'
expect_status 200
check "the cert proxy's X-Forwarded-For is not believed" wait_for 3 sh -c \
    "curl -s --max-time 5 -H 'Authorization: Bearer $TOKEN' $BASE/api/v1/devices/tls-1 |
     jq -e '.last_address == \"127.0.0.2\"' >/dev/null"
api GET /api/v1/settings
expect_json '.settings["proxy.cert_trusted"]' '["127.0.0.2/32"]' "settings show proxy.cert_trusted"
expect_json '.settings["proxy.trusted"]' '["127.0.0.1/32"]'
check "no deprecation warning with proxy.cert_trusted set" \
    sh -c "! grep -q 'deprecated' '$T/server.log'"

# --- today's settings: proxy.trusted alone --------------------------------
stop_server
start_server "data_dir: $T/data-old" "$CERT" 'proxy:
  trusted: [ "127.0.0.1" ]'
TOKEN=$(make_token admin)
cert_poll old-1 1
expect_status 200 "proxy.trusted alone: its certificate headers still count"
cert_poll old-2 2
expect_status 401 "... and no other peer's"
check "the server warns that proxy.trusted standing in is deprecated" \
    grep -q 'proxy_cert takes the certificate headers from every peer in proxy.trusted.*deprecated' \
    "$T/server.log"
api GET /api/v1/settings
expect_json '.settings["proxy.cert_trusted"]' '["127.0.0.1/32"]' \
    "settings show the effective proxy.cert_trusted"
out=$(falconet_cli -n 2>&1)
check "falconet -n warns too" sh -c "echo '$out' | grep -q 'deprecated'"
check "falconet -n still accepts the file" sh -c "echo '$out' | grep -q 'settings OK'"

# --- neither list: refused at start ---------------------------------------
stop_server
write_settings "$T/bad.yaml" "$CERT"
out=$("$FALCONET" -c "$T/bad.yaml" -n 2>&1)
check "proxy_cert without any proxy list is refused ($out)" \
    sh -c "echo '$out' | grep -q 'device_auth.proxy_cert.enabled: needs proxy.cert_trusted'"

# --- without proxy_cert, no peer's headers count ----------------------------
start_server "data_dir: $T/data-off" 'device_auth:
  mode: token' 'proxy:
  cert_trusted: [ "127.0.0.2" ]'
cert_poll off-1 2
expect_status 401 "proxy_cert off: the headers count from nobody"

finish
