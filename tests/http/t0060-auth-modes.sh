#!/usr/bin/env bash
# Device authentication: token, tofu and open modes, GatewayToken, client
# certificates checked by a trusted proxy.
. "$(dirname "$0")/lib.sh"

GW=gw-0123456789abcdef-GATEWAY

# expect_401: a DDI 401 has an empty body and no WWW-Authenticate.
expect_401()
{
	expect_status 401 "$1 -> 401"
	expect_empty_body "$1: empty body"
	expect_no_header WWW-Authenticate "$1: no WWW-Authenticate"
}

# as AUTH CID [SUBPATH]: a DDI GET with that Authorization ("" = none).
as()
{
	DDI_AUTH=$1 ddi GET "$2" "${3:-}"
}

# --- token mode -----------------------------------------------------------
start_server "device_auth:
  mode: token
  gateway_token: $GW
  proxy_cert:
    enabled: true
    cn_header: X-Controller-Id
    issuer_header: X-Authority
    trusted_issuers: [ \"abcd1234\", \"beef0001\" ]" 'proxy:
  trusted: [ "127.0.0.1/32" ]'
TOKEN=$(make_token admin)

as "" tok-new
expect_401 "token mode, unknown device, no credentials"
as "TargetToken whatever-123" tok-new
expect_401 "token mode, unknown device, TargetToken"
api GET /api/v1/devices/tok-new
expect_status 404 "an unknown device with a TargetToken is not registered"

api_json POST /api/v1/devices '{"controller_id":"tok-1","name":"first","token":"secret-token-one"}'
expect_status 201 "pre-register tok-1 with a token -> 201"
expect_json .controller_id tok-1
expect_json .name first
expect_json .has_token true
expect_jq '[.. | strings | select(. == "secret-token-one")] | length == 0' "the token is not returned"
api_json POST /api/v1/devices '{"controller_id":"tok-2","token":"secret-token-two"}'
expect_status 201 "pre-register tok-2"
api_json POST /api/v1/devices '{"controller_id":"tok-1"}'
expect_status 409 "pre-register tok-1 again -> 409"

as "TargetToken secret-token-one" tok-1
expect_status 200 "tok-1 with its token -> 200"
expect_jq '.config.polling.sleep | type == "string"'
as "" tok-1
expect_401 "tok-1 without a token"
as "TargetToken secret-token-onE" tok-1
expect_401 "tok-1 with a wrong token"
as "TargetToken secret-token-one " tok-1
expect_401 "tok-1 with a trailing space"
as "TargetToken secret-token-on" tok-1
expect_401 "tok-1 with a token prefix"
as "targettoken secret-token-one" tok-1
expect_401 "tok-1 with a lower-case scheme"
as "Bearer secret-token-one" tok-1
expect_401 "tok-1 with the Bearer scheme"
as "TargetToken secret-token-one" tok-2
expect_401 "token of tok-1 on tok-2's path"
as "TargetToken secret-token-two" tok-2
expect_status 200 "tok-2 with its token -> 200"
as "Bearer $TOKEN" tok-1
expect_401 "a management token on a device path"

# Every DDI resource is guarded, downloads included.
as "" tok-1 /deploymentBase/1
expect_401 "deploymentBase without a token"
as "" tok-1 /softwaremodules/1/artifacts/x.swu
expect_401 "artifact download without a token"
as "" tok-1 /softwaremodules/1/artifacts
expect_401 "artifact list without a token"
DDI_AUTH='' ddi_json PUT tok-1 /configData '{"data":{"a":"b"}}'
expect_401 "configData without a token"
DDI_AUTH='' ddi_json POST tok-1 /deploymentBase/1/feedback \
    '{"status":{"execution":"closed","result":{"finished":"success"}}}'
expect_401 "feedback without a token"
DDI_AUTH="TargetToken secret-token-one" ddi_json PUT tok-1 /configData '{"data":{"a":"b"}}'
expect_status 200 "configData with the token -> 200"

# GatewayToken: any device of the tenant; registers new ones.
as "GatewayToken $GW" gw-new
expect_status 200 "GatewayToken registers a new device -> 200"
api GET /api/v1/devices/gw-new
expect_status 200 "gw-new is registered"
as "GatewayToken $GW" tok-1
expect_status 200 "GatewayToken on a device with a token -> 200"
as "GatewayToken ${GW}x" gw-other
expect_401 "wrong GatewayToken"
as "TargetToken $GW" gw-other
expect_401 "the gateway token as a TargetToken"
api GET /api/v1/devices/gw-other
expect_status 404 "a wrong GatewayToken registers nothing"

# Client certificates through the trusted proxy on 127.0.0.1.
req GET /DEFAULT/controller/v1/cert-1 -H 'X-Controller-Id: cert-1' \
    -H 'X-Authority: abcd1234'
expect_status 200 "proxy certificate with a trusted issuer -> 200"
req GET /DEFAULT/controller/v1/cert-2 -H 'X-Controller-Id: cert-2' \
    -H 'X-Authority: 99999999;BEEF0001'
expect_status 200 "proxy certificate, issuer list, case-insensitive -> 200"
req GET /DEFAULT/controller/v1/cert-3 -H 'X-Controller-Id: cert-3' \
    -H 'X-Authority: 0badbad0'
expect_401 "proxy certificate with an untrusted issuer"
req GET /DEFAULT/controller/v1/cert-1 -H 'X-Controller-Id: cert-other' \
    -H 'X-Authority: abcd1234'
expect_401 "proxy certificate CN differs from the path"
req GET /DEFAULT/controller/v1/cert-4 -H 'X-Authority: abcd1234'
expect_401 "issuer without CN"

# Changing and removing a token.
api_json PATCH /api/v1/devices/tok-1 '{"token":"rotated-token-1"}'
expect_status 200 "PATCH a new token -> 200"
expect_json .has_token true
as "TargetToken secret-token-one" tok-1
expect_401 "the old token after rotation"
as "TargetToken rotated-token-1" tok-1
expect_status 200 "the new token -> 200"
api_json PATCH /api/v1/devices/tok-1 '{"token":null}'
expect_status 200 "PATCH token null -> 200"
expect_json .has_token false
as "TargetToken rotated-token-1" tok-1
expect_401 "token mode, device without a token"

check "device tokens are not in the log" \
    sh -c "! grep -qE 'secret-token|rotated-token|$GW' '$T/server.log'"
check "device tokens are not stored in clear" \
    sh -c "! grep -rqE 'secret-token-two|$GW' '$T/data'"

# --- tofu mode ------------------------------------------------------------
stop_server
start_server "data_dir: $T/data-tofu" 'device_auth:
  mode: tofu'
TOKEN=$(make_token admin)
as "TargetToken tofu-first-aaa" tofu-1
expect_status 200 "tofu: first poll with a token -> 200"
api GET /api/v1/devices/tofu-1
expect_status 200 "tofu: registered"
expect_json .has_token true "tofu: the first token is stored"
as "TargetToken tofu-second-bbb" tofu-1
expect_401 "tofu: another token later"
as "" tofu-1
expect_401 "tofu: no token later"
as "TargetToken tofu-first-aaa" tofu-1
expect_status 200 "tofu: the first token still works (never replaced)"
as "TargetToken tofu-second-bbb" tofu-1
expect_401 "tofu: the second token still refused"
as "TargetToken tofu-other" tofu-2
expect_status 200 "tofu: another device with its own token -> 200"
as "TargetToken tofu-first-aaa" tofu-2
expect_401 "tofu: tofu-1's token on tofu-2"
api_json POST /api/v1/devices '{"controller_id":"tofu-pre","token":"pre-set-token"}'
expect_status 201
as "TargetToken something-else" tofu-pre
expect_401 "tofu: a pre-registered token is not replaced"
as "TargetToken pre-set-token" tofu-pre
expect_status 200 "tofu: the pre-registered token -> 200"

# --- open mode ------------------------------------------------------------
stop_server
start_server "data_dir: $T/data-open" 'device_auth:
  mode: open'
TOKEN=$(make_token admin)
as "" open-1
expect_status 200 "open: no credentials -> 200"
as "TargetToken anything" open-2
expect_status 200 "open: a token on a device without one -> 200"
api GET /api/v1/devices/open-2
expect_json .has_token false "open: a presented token is not stored"
api_json POST /api/v1/devices '{"controller_id":"open-tok","token":"open-secret-1"}'
expect_status 201
as "" open-tok
expect_401 "open: device with a token, none presented"
as "TargetToken wrong" open-tok
expect_401 "open: device with a token, wrong one"
as "TargetToken open-secret-1" open-tok
expect_status 200 "open: device with a token, right one -> 200"
api_json PATCH /api/v1/devices/open-1 '{"token":"open-secret-2"}'
expect_status 200
as "" open-1
expect_401 "open: token set later is then required"
as "TargetToken open-secret-2" open-1
expect_status 200 "open: token set later works"
req GET /DEFAULT/controller/v1/open-tok -H 'X-Controller-Id: open-tok' \
    -H 'X-Authority: abcd1234'
expect_401 "open: certificate headers without proxy_cert do not replace a token"
as "GatewayToken $GW" open-tok
expect_401 "open: GatewayToken when none is configured"

alive

finish
