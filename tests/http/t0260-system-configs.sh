#!/usr/bin/env bash
# Runtime system configuration (hawkBit's system/configs): every key read,
# set and reset through /rest/v1 and /api/v1, types and bounds, unknown
# keys, the audit log, and the device side following a change at once:
# the poll's sleep, the gateway token, TargetToken and header (proxy
# certificate) authentication with X-Authority and X-Authority-N.
. "$(dirname "$0")/lib.sh"

GW=gw-0123456789abcdef-GATEWAY
NEWGW=0f1e2d3c4b5a69788796a5b4c3d2e1f0
CFG=/rest/v1/system/configs

# rest METHOD PATH [JSON]: /rest/v1 with Basic admin:admin.
rest()
{
	local method=$1 path=$2
	if [ $# -ge 3 ]; then
		req "$method" "$path" -u admin:admin-pass-1 \
		    -H 'Content-Type: application/json' --data-binary "$3"
	else
		req "$method" "$path" -u admin:admin-pass-1
	fi
}

# put_cfg KEY JSON-VALUE: PUT one key, expect 204.
put_cfg()
{
	rest PUT "$CFG/$1" "{\"value\": $2}"
	expect_status 204 "PUT $1 = $2 -> 204"
}

# bad_cfg KEY JSON-VALUE: PUT one key, expect 400 configValueInvalid.
bad_cfg()
{
	rest PUT "$CFG/$1" "{\"value\": $2}"
	expect_status 400 "PUT $1 = $2 -> 400"
	expect_json .errorCode hawkbit.server.error.configValueInvalid \
	    "$1 = $2: configValueInvalid"
}

as()
{
	DDI_AUTH=$1 ddi GET "$2" "${3:-}" "${@:4}"
}

start_server "device_auth:
  mode: token
  gateway_token: $GW
  proxy_cert:
    enabled: false
    trusted_issuers: [ \"abcd1234\" ]" 'proxy:
  cert_trusted: [ "127.0.0.1/32" ]' 'poll:
  interval: "00:04:00"
  overdue: "00:02:00"' 'auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1'
TOKEN=$(make_token admin)
echo admin-pass-1 | falconet_cli user add admin admin 2>>"$T/cli.log"
echo reader-pass-1 | falconet_cli user add reader readonly 2>>"$T/cli.log"

# --- reading: settings.yaml's values, global -------------------------------
rest GET "$CFG"
expect_status 200 "GET system/configs -> 200"
expect_jq 'keys | length == 8' "eight keys"
expect_json '."pollingTime".value' 00:04:00 "pollingTime from poll.interval"
expect_json '."pollingTime".global' true
expect_json '."pollingOverdueTime".value' 00:02:00 "pollingOverdueTime from poll.overdue"
expect_json '."authentication.targettoken.enabled".value' true
expect_json '."authentication.gatewaytoken.enabled".value' true "gateway on: the key is set"
expect_json '."authentication.gatewaytoken.key".value' "$GW" "the key from settings.yaml"
expect_json '."authentication.header.enabled".value' false
expect_json '."authentication.header.authority".value' abcd1234
expect_json '."maintenanceWindowPollCount".value' 3
expect_jq '."pollingTime"._links.self.href | endswith("/rest/v1/system/configs/pollingTime")' \
    "self links"
expect_jq '[.[] | has("lastModifiedAt")] | any | not' "nothing modified yet"

rest GET "$CFG/pollingTime"
expect_status 200 "GET one key -> 200"
expect_json .value 00:04:00
expect_json .global true
rest GET "$CFG/noSuchKey"
expect_status 400 "GET an unknown key -> 400"
expect_json .errorCode hawkbit.server.error.configKeyInvalid
expect_jq '.exceptionClass | endswith("InvalidTenantConfigurationKeyException")'

# --- the poll's sleep follows pollingTime at once ---------------------------
api_json POST /api/v1/devices '{"controller_id":"dev-1","token":"dev-one-token-1"}'
expect_status 201 "pre-register dev-1"
as "TargetToken dev-one-token-1" dev-1
expect_json .config.polling.sleep 00:04:00 "sleep from poll.interval"
put_cfg pollingTime '"00:00:07"'
as "TargetToken dev-one-token-1" dev-1
expect_json .config.polling.sleep 00:00:07 "the next poll sleeps pollingTime"
rest GET "$CFG/pollingTime"
expect_json .value 00:00:07
expect_json .global false "a stored value is not global"
expect_json .lastModifiedBy admin
expect_jq '.lastModifiedAt > 1000000000000' "lastModifiedAt in milliseconds"
sleep 1.5 # the last-seen writer's second
api GET /api/v1/devices/dev-1
expect_json .poll_interval 7 "the device list reads pollingTime too"
expect_json .online true "polled just now: online"
rest DELETE "$CFG/pollingTime"
expect_status 204 "DELETE pollingTime -> 204"
rest GET "$CFG/pollingTime"
expect_json .value 00:04:00 "back to settings.yaml's"
expect_json .global true
as "TargetToken dev-one-token-1" dev-1
expect_json .config.polling.sleep 00:04:00 "and so is the sleep"
rest DELETE "$CFG/pollingTime"
expect_status 204 "DELETE of a global key -> 204 again"
rest DELETE "$CFG/noSuchKey"
expect_status 400 "DELETE an unknown key -> 400"

# --- every key: types and bounds ------------------------------------------
put_cfg pollingOverdueTime '"00:00:00"'
bad_cfg pollingTime '"00:00:00"'
bad_cfg pollingTime '"24:00:00"'
bad_cfg pollingTime '"00:05:00~10%"'
bad_cfg pollingTime '300'
bad_cfg pollingOverdueTime '"5 minutes"'
put_cfg authentication.targettoken.enabled true
bad_cfg authentication.targettoken.enabled '"yes"'
bad_cfg authentication.gatewaytoken.enabled 1
bad_cfg authentication.gatewaytoken.key '"short"'
bad_cfg authentication.gatewaytoken.key '"has a space in it somewhere"'
bad_cfg authentication.gatewaytoken.key true
bad_cfg authentication.header.enabled null
bad_cfg authentication.header.authority 42
bad_cfg authentication.header.authority "\"$(printf 'a,%.0s' $(seq 1 17))\""
put_cfg maintenanceWindowPollCount 5
bad_cfg maintenanceWindowPollCount 0
bad_cfg maintenanceWindowPollCount 101
bad_cfg maintenanceWindowPollCount '"5"'
bad_cfg maintenanceWindowPollCount 2.5
rest PUT "$CFG/pollingTime" '{"velue": "00:01:00"}'
expect_status 400 "PUT without value -> 400"
rest PUT "$CFG/pollingTime" 'not json'
expect_status 400 "PUT with a body that is not JSON -> 400"
expect_json .errorCode hawkbit.server.error.rest.body.notReadable
rest PUT "$CFG/noSuchKey" '{"value": true}'
expect_status 400 "PUT an unknown key -> 400"
expect_json .errorCode hawkbit.server.error.configKeyInvalid
rest GET "$CFG/maintenanceWindowPollCount"
expect_json .value 5 "an int is a JSON number"
rest DELETE "$CFG/maintenanceWindowPollCount"
rest DELETE "$CFG/pollingOverdueTime"

# --- several keys at once, all or nothing ---------------------------------
rest PUT "$CFG" '{"pollingTime":"00:00:30","pollingOverdueTime":"00:03:00","authentication.targettoken.enabled":true,"authentication.gatewaytoken.enabled":true,"authentication.gatewaytoken.key":"'$NEWGW'"}'
expect_status 204 "PUT a map of keys (the suite's session set-up) -> 204"
rest GET "$CFG"
expect_json '."pollingTime".value' 00:00:30
expect_json '."pollingOverdueTime".value' 00:03:00
expect_json '."authentication.gatewaytoken.key".value' "$NEWGW" "the key reads back"
rest PUT "$CFG" '{"pollingTime":"00:00:40","maintenanceWindowPollCount":-1}'
expect_status 400 "a map with one bad value -> 400"
rest GET "$CFG/pollingTime"
expect_json .value 00:00:30 "and nothing of it is stored"
rest PUT "$CFG" '{"pollingTime":"00:00:40","bogus":1}'
expect_status 400 "a map with an unknown key -> 400"
expect_json .errorCode hawkbit.server.error.configKeyInvalid
rest PUT "$CFG" '{"pollingTime":"00:00:40","pollingTime":"00:00:50"}'
expect_status 400 "a map with a key twice -> 400"

# --- the gateway token at run time ----------------------------------------
as "GatewayToken $GW" gw-dev-1
expect_status 401 "the settings.yaml key no longer counts"
as "GatewayToken $NEWGW" gw-dev-1
expect_status 200 "the key set at run time registers a device"
put_cfg authentication.gatewaytoken.enabled false
as "GatewayToken $NEWGW" gw-dev-1
expect_status 401 "gatewaytoken.enabled false: refused"
expect_empty_body "a DDI 401 has no body"
put_cfg authentication.gatewaytoken.enabled true
as "GatewayToken $NEWGW" gw-dev-1
expect_status 200 "enabled again: accepted"
put_cfg authentication.gatewaytoken.key '""'
as "GatewayToken $NEWGW" gw-dev-1
expect_status 401 "an empty key matches nothing"
rest DELETE "$CFG/authentication.gatewaytoken.key"
as "GatewayToken $GW" gw-dev-1
expect_status 200 "reset: the settings.yaml key counts again"

# --- TargetToken at run time -----------------------------------------------
put_cfg authentication.targettoken.enabled false
as "TargetToken dev-one-token-1" dev-1
expect_status 401 "targettoken.enabled false: the device's token is refused"
put_cfg authentication.targettoken.enabled true
as "TargetToken dev-one-token-1" dev-1
expect_status 200 "enabled again"

# --- header authentication at run time -------------------------------------
cert()
{
	req GET "/DEFAULT/controller/v1/$1" -H "X-Controller-Id: $2" "${@:3}"
}
cert cert-1 cert-1 -H 'X-Authority: abcd1234'
expect_status 401 "header.enabled false: certificate headers do not count"
put_cfg authentication.header.enabled true
cert cert-1 cert-1 -H 'X-Authority: abcd1234'
expect_status 200 "header.enabled true: a trusted issuer -> 200"
cert cert-2 cert-2 -H 'X-Authority: 0000;ABCD1234'
expect_status 200 "a list, case-insensitive"
cert cert-3 cert-3 -H 'X-Authority-1: abcd1234'
expect_status 200 "X-Authority-1 (what rauc-hawkbit-updater's nginx sends)"
cert cert-4 cert-4 -H 'X-Authority-0: 0badbad0' -H 'X-Authority-9: abcd1234'
expect_status 200 "X-Authority-9 holds the trusted one"
cert cert-5 cert-5 -H 'X-Authority-10: abcd1234'
expect_status 401 "X-Authority-10 is past the numbered headers read"
cert cert-6 other -H 'X-Authority-1: abcd1234'
expect_status 401 "X-Controller-Id must equal the path's id"
cert cert-7 cert-7 -H 'X-Authority: ce275665'
expect_status 401 "an authority not trusted yet"
put_cfg authentication.header.authority '"ce275665, beef0001"'
cert cert-7 cert-7 -H 'X-Authority-1: CE275665'
expect_status 200 "authority set at run time -> 200"
cert cert-8 cert-8 -H 'X-Authority: abcd1234'
expect_status 401 "the settings.yaml authority is replaced"
req GET /DEFAULT/controller/v1/cert-9 -H 'X-Controller-Id: cert-9' \
    -H 'X-Authority: beef0001' -H 'X-Forwarded-For: 10.1.2.3'
expect_status 200 "the peer is in proxy.cert_trusted"
rest DELETE "$CFG/authentication.header.enabled"
cert cert-7 cert-7 -H 'X-Authority-1: ce275665'
expect_status 401 "reset to off"

# --- Falconet's own API ----------------------------------------------------
api GET /api/v1/system/configs
expect_status 200 "GET /api/v1/system/configs -> 200"
expect_json '.configs.pollingTime.value' 00:00:30
expect_json '.configs.pollingTime.type' duration
expect_json '.configs.pollingTime.global' false
expect_json '.configs."authentication.header.enabled".global' true
expect_json '.configs.maintenanceWindowPollCount.type' int
api_json PATCH /api/v1/system/configs '{"pollingTime":"00:00:09","maintenanceWindowPollCount":7}'
expect_status 200 "PATCH two keys -> 200"
expect_json '.configs.pollingTime.value' 00:00:09
expect_json '.configs.maintenanceWindowPollCount.value' 7
expect_json '.configs.pollingTime.updated_by' token:admin
as "TargetToken dev-one-token-1" dev-1
expect_json .config.polling.sleep 00:00:09 "PATCH reaches the poll at once"
api_json PATCH /api/v1/system/configs '{"pollingTime":null}'
expect_status 200 "PATCH null -> 200"
expect_json '.configs.pollingTime.value' 00:04:00 "null: back to settings.yaml's"
expect_json '.configs.pollingTime.global' true
api_json PATCH /api/v1/system/configs '{"pollingTime":"00:00:05","maintenanceWindowPollCount":1000}'
expect_status 400 "PATCH with a value out of bounds -> 400"
expect_error invalid_field
api GET /api/v1/system/configs
expect_json '.configs.pollingTime.value' 00:04:00 "all or nothing"
api_json PATCH /api/v1/system/configs '{"pollingtime":"00:00:05"}'
expect_status 400 "PATCH an unknown key (keys are case-sensitive) -> 400"

# --- permissions -----------------------------------------------------------
req GET "$CFG" -u reader:reader-pass-1
expect_status 200 "settings.read may read"
expect_json '."authentication.gatewaytoken.key".value' '********' \
    "the gateway key is masked without settings.write"
req PUT "$CFG/pollingTime" -u reader:reader-pass-1 \
    -H 'Content-Type: application/json' --data-binary '{"value":"00:00:10"}'
expect_status 403 "a user without settings.write -> 403"
expect_json .errorCode hawkbit.server.error.insufficientPermission
req DELETE "$CFG/pollingTime" -u reader:reader-pass-1
expect_status 403 "DELETE without settings.write -> 403"
R=$(curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    --data-binary '{"name":"ro","permissions":["settings.read"]}' \
    "$BASE/api/v1/tokens" | jq -r .token)
req PATCH /api/v1/system/configs -H "Authorization: Bearer $R" \
    -H 'Content-Type: application/json' --data-binary '{"pollingTime":"00:00:10"}'
expect_status 403 "PATCH with a settings.read token -> 403"
req GET /api/v1/system/configs -H "Authorization: Bearer $R"
expect_status 200 "GET with it -> 200"
expect_json '.configs."authentication.gatewaytoken.key".value' '********'

# --- the audit log ---------------------------------------------------------
api GET '/api/v1/audit?limit=200'
expect_status 200 "GET audit"
expect_jq '[.entries[] | select(.action == "config.update" and .status == 204 and .user == "admin" and .target == "pollingTime: 00:04:00 -> 00:00:07")] | length == 1' \
    "PUT: old and new value"
expect_jq '[.entries[] | select(.action == "config.delete" and ((.target // "") | startswith("pollingTime: 00:00:07 -> 00:04:00")))] | length == 1' \
    "DELETE: back to the settings.yaml value"
expect_jq '[.entries[] | select(.action == "config.update" and ((.target // "") | contains("authentication.gatewaytoken.key: *** -> ***")))] | length == 1' \
    "the gateway key is masked"
expect_jq '[.entries[] | .target // "" | select(contains("'$NEWGW'") or contains("'$GW'"))] | length == 0' \
    "no gateway key in the audit log"
expect_jq '[.entries[] | select(.action == "config.update" and .user == "token:admin" and ((.target // "") | contains("maintenanceWindowPollCount: 3 -> 7")))] | length == 1' \
    "PATCH: audited too"
expect_jq '[.entries[] | select(.action == "config.update" and .status == 403 and .user == "reader")] | length == 1' \
    "the refused write is audited"

# --- a stored value survives a restart, settings.yaml's changes show -------
put_cfg pollingTime '"00:00:11"'
start_server "device_auth:
  mode: token
  gateway_token: $GW" 'poll:
  interval: "00:06:00"'
TOKEN=$(make_token admin2)
rest GET "$CFG/pollingTime"
expect_json .value 00:00:11 "a stored value outlives a restart"
rest DELETE "$CFG/pollingTime"
rest GET "$CFG/pollingTime"
expect_json .value 00:06:00 "reset: today's settings.yaml value"
stop_server
finish
