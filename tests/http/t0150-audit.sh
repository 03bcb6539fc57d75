#!/usr/bin/env bash
# The audit log: every state-changing management request leaves one entry
# (user, address, action, target, status), refused ones (401, 403, CSRF)
# included; reads leave none.  GET /api/v1/audit needs audit.read and
# pages with limit and offset, newest first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

declare -A COOKIES CSRFS
# as WHO METHOD PATH [JSON [curl args...]]: a request in WHO's session.
as()
{
	local who=$1 method=$2 path=$3 json=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(-H "Cookie: falconet_session=${COOKIES[$who]}"
	    -H "X-CSRF-Token: ${CSRFS[$who]}")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}" "$@"
}

# audit_total: the number of entries (as the machine token).
audit_total()
{
	curl -s --max-time 10 -H "Authorization: Bearer $MACHINE" \
	    "$BASE/api/v1/audit?limit=1" | jq -r .total
}

# expect_audit NAME ACTION USER ADDRESS TARGET STATUS: the newest entry has
# these fields; "?" matches anything, "null" a missing target.  Keeps the
# last request's STATUS and body.
expect_audit()
{
	local name=$1 want got
	want=$(jq -cn --arg a "$2" --arg u "$3" --arg ad "$4" --arg t "$5" \
	    --arg s "$6" '[$a,$u,$ad,$t,$s]')
	got=$(curl -s --max-time 10 -H "Authorization: Bearer $MACHINE" \
	    "$BASE/api/v1/audit?limit=1" |
	    jq -c '.entries[0] | [.action, .user, .address,
		(.target // "null" | tostring), (.status | tostring)]')
	if jq -en --argjson w "$want" --argjson g "${got:-null}" \
	    '$g != null and ([range(0; 5) as $i | $w[$i] == "?" or $w[$i] == $g[$i]] | all)' \
	    >/dev/null 2>&1; then
		pass "audit: $name"
	else
		fail "audit: $name" "newest entry $got, want $want"
	fi
}

start_server "$FAST" 'proxy:
  trusted: ["127.0.0.1"]'
MACHINE=$(make_token auditor)
IP=127.0.0.1

req GET /api/v1/audit -H "Authorization: Bearer $MACHINE"
expect_status 200 "GET /api/v1/audit with a command-line token"
expect_json .total 0 "the audit log starts empty"
expect_json '.entries | length' 0

# --- set-up and logins -----------------------------------------------------
SETUP=$(sed -n 's,.*/ui/#/setup?token=\([A-Za-z0-9]*\).*,\1,p' "$T/server.log" | tail -n 1)
post_json /api/v1/setup "{\"token\":\"wrong-token-123456\",\"username\":\"admin\",\"password\":\"admin-password-1\"}"
expect_status 403 "setup with a wrong token"
expect_audit "refused setup" setup - "$IP" null 403
post_json /api/v1/setup "{\"token\":\"$SETUP\",\"username\":\"admin\",\"password\":\"admin-password-1\"}"
expect_status 201 "setup"
expect_audit "setup" setup admin "$IP" null 201

login admin wrong-password-1
expect_status 401 "login with a wrong password"
expect_audit "failed login" login admin "$IP" null 401
login nobody wrong-password-1
# Failures without credentials fold into one entry per action, status,
# address and minute (t0231): the second bad login counts in the first's
# entry, whose user becomes "*" (two names were tried) within a second.
newest_is()
{
	[ "$(curl -s --max-time 10 -H "Authorization: Bearer $MACHINE" \
	    "$BASE/api/v1/audit?limit=1" |
	    jq -r '.entries[0] | "\(.count) \(.user)"')" = "$1" ]
}
check "failed login of an unknown user: folded into the same entry" \
    wait_for 5 newest_is '2 *'
expect_audit "failed logins of two users" login '*' "$IP" null 401
login admin admin-password-1
expect_status 200 "login"
expect_audit "login" login admin "$IP" null 200
COOKIES[admin]=$COOKIE CSRFS[admin]=$CSRF
post_json /api/v1/login '{"username":"admin","password":"admin-password-1"}' \
    -H 'X-Forwarded-For: 203.0.113.7'
expect_status 200 "login through the trusted proxy"
expect_audit "the client address from a trusted proxy" login admin 203.0.113.7 null 200

# --- users and tokens ------------------------------------------------------
as admin POST /api/v1/users '{"username":"ro","password":"ro-password-1","role":"readonly"}'
expect_status 201 "create user ro"
expect_audit "user create" user.create admin "$IP" ro 201
as admin POST /api/v1/users '{"username":"ro","password":"ro-password-1","role":"readonly"}'
expect_status 409 "create user ro again"
expect_audit "refused user create" user.create admin "$IP" ro 409
as admin POST /api/v1/users '{"username":"dr","password":"dr-password-1","permissions":["device.read"]}'
expect_status 201 "create user dr (device.read only)"
as admin PATCH /api/v1/users/dr '{"enabled":true}'
expect_audit "user update" user.update admin "$IP" dr 200
as admin POST /api/v1/tokens '{"name":"ci"}'
expect_status 201 "create a token"
expect_audit "token create" token.create admin "$IP" ci 201
TID=$(jq -r .id <"$T/body")
as admin DELETE "/api/v1/tokens/$TID"
expect_status 204 "delete the token"
expect_audit "token delete" token.delete admin "$IP" "$TID" 204
for u in ro dr; do
	login "$u" "$u-password-1"
	COOKIES[$u]=$COOKIE CSRFS[$u]=$CSRF
done

# --- devices, software, rollouts, actions ----------------------------------
as admin POST /api/v1/devices '{"controller_id":"d1"}'
expect_status 201 "create device d1"
expect_audit "device create" device.create admin "$IP" '?' 201
as admin PATCH /api/v1/devices/d1 '{"name":"first"}'
expect_status 200 "patch device d1"
expect_audit "device patch" device.update admin "$IP" d1 200
req PATCH /api/v1/devices/d1 -H "Authorization: Bearer $MACHINE" \
    -H 'Content-Type: application/json' --data-binary '{"name":"by token"}'
expect_audit "device patch by a command-line token" device.update token:auditor "$IP" d1 200

mkimg "$T/a.swu" 1.0.0 '1.0'
mkimg "$T/b.swu" 2.0.0 '1.0'
req POST '/api/v1/software?filename=a.swu' \
    -H "Cookie: falconet_session=${COOKIES[admin]}" -H "X-CSRF-Token: ${CSRFS[admin]}" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/a.swu"
expect_status 201 "upload a.swu"
SA=$(jq -r .id <"$T/body")
expect_audit "software upload" software.upload admin "$IP" '?' 201
req POST '/api/v1/software?filename=b.swu' \
    -H "Cookie: falconet_session=${COOKIES[admin]}" -H "X-CSRF-Token: ${CSRFS[admin]}" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/b.swu"
expect_status 201 "upload b.swu"
SB=$(jq -r .id <"$T/body")
as admin DELETE "/api/v1/software/$SB"
expect_status 204 "delete software b"
expect_audit "software delete" software.delete admin "$IP" "$SB" 204

# A device that takes an update, to have an action to cancel.
ddi GET d2
config_data d2 '{"hw_revision":"1.0"}'
as admin PATCH /api/v1/devices/d2 '{"feed":"audit"}'
expect_status 200 "d2 on feed audit"
as admin POST /api/v1/rollouts "{\"software_id\":$SA,\"feed\":\"audit\"}"
expect_status 201 "create a rollout"
RO=$(jq -r .id <"$T/body")
expect_audit "rollout create" rollout.create admin "$IP" '?' 201
as admin PATCH "/api/v1/rollouts/$RO" '{"name":"renamed"}'
expect_audit "rollout update" rollout.update admin "$IP" "$RO" "$STATUS"
ddi GET d2
ACT=$(action_id_of_href "$(link deploymentBase)")
check "d2 is offered an update (action '$ACT')" [ -n "$ACT" ]
as admin POST "/api/v1/actions/$ACT/cancel"
expect_status 200 "cancel the action"
expect_audit "action cancel" action.cancel admin "$IP" "$ACT" 200
as admin POST "/api/v1/actions/$ACT/cancel"
expect_audit "a second cancel, whatever its answer" action.cancel admin "$IP" "$ACT" "$STATUS"
as admin DELETE "/api/v1/rollouts/$RO"
expect_status 204 "delete the rollout"
expect_audit "rollout delete" rollout.delete admin "$IP" "$RO" 204
as admin DELETE /api/v1/devices/d1
expect_status 204 "delete device d1"
expect_audit "device delete" device.delete admin "$IP" d1 204

# --- refused attempts --------------------------------------------------------
as ro PATCH /api/v1/devices/d2 '{"name":"ro was here"}'
expect_status 403 "readonly patches a device"
expect_audit "403 device patch by readonly" device.update ro "$IP" d2 403
as ro DELETE "/api/v1/software/$SA"
expect_status 403 "readonly deletes software"
expect_audit "403 software delete by readonly" software.delete ro "$IP" "$SA" 403
req PATCH /api/v1/devices/d2 -H "Cookie: falconet_session=${COOKIES[admin]}" \
    -H 'Content-Type: application/json' --data-binary '{"name":"csrf"}'
expect_status 403 "a session PATCH without X-CSRF-Token"
expect_audit "403 CSRF refusal" device.update admin "$IP" d2 403
post_json /api/v1/devices '{"controller_id":"anon"}'
expect_status 401 "an anonymous POST"
expect_audit "401 anonymous device create" device.create - "$IP" '?' 401
req DELETE /api/v1/devices/d2 -H 'Authorization: Bearer not-a-valid-token-xyz'
expect_status 401 "a DELETE with a wrong token"
expect_audit "401 delete with a wrong token" device.delete - "$IP" d2 401
req POST '/api/v1/software?filename=c.swu' \
    -H "Cookie: falconet_session=${COOKIES[ro]}" -H "X-CSRF-Token: ${CSRFS[ro]}" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/b.swu"
expect_status 403 "readonly uploads software"
expect_audit "403 software upload by readonly" software.upload ro "$IP" '?' 403
req POST '/api/v1/software?filename=c.swu' \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/b.swu"
expect_status 401 "an anonymous upload"
expect_audit "401 anonymous software upload" software.upload - "$IP" '?' 401

# --- session changes -----------------------------------------------------------
as dr POST /api/v1/me/password '{"current":"dr-password-1","new":"dr-password-2"}'
expect_status 204 "dr changes the password"
expect_audit "password change" password.change dr "$IP" null 204
as ro POST /api/v1/logout
expect_status 204 "ro logs out"
expect_audit "logout" logout ro "$IP" null 204
as admin DELETE /api/v1/users/dr
expect_status 204 "delete user dr"
expect_audit "user delete" user.delete admin "$IP" dr 204

# --- reads leave nothing -----------------------------------------------------
before=$(audit_total)
for path in /api/v1/devices /api/v1/devices/d2 /api/v1/users /api/v1/tokens \
    /api/v1/me /api/v1/audit /api/v1/software "/api/v1/software/$SA" \
    /api/v1/rollouts /api/v1/settings /api/v1/stats /metrics /api/v1/setup \
    "/api/v1/actions/$ACT" /api/v1/devices/d2/actions /healthz; do
	as admin GET "$path"
done
req GET /api/v1/users    # 401, but a read
req HEAD /api/v1/devices -H "Cookie: falconet_session=${COOKIES[admin]}"
ddi GET d2
after=$(audit_total)
check "GET and HEAD requests leave no audit entry ($before -> $after)" \
    [ "$before" = "$after" ]

# --- who may read it ---------------------------------------------------------
login ro ro-password-1
COOKIES[ro]=$COOKIE CSRFS[ro]=$CSRF
as ro GET /api/v1/audit
expect_status 200 "readonly reads the audit log"
as admin POST /api/v1/users '{"username":"dr2","password":"dr2-password-1","permissions":["device.read"]}'
login dr2 dr2-password-1
COOKIES[dr2]=$COOKIE CSRFS[dr2]=$CSRF
as dr2 GET /api/v1/audit
expect_status 403 'a ["device.read"] user cannot read the audit log'
expect_error forbidden
req GET /api/v1/audit
expect_status 401 "no credentials: 401"

# --- entries and paging -------------------------------------------------------
TOTAL=$(audit_total)
now=$(date +%s)
as admin GET "/api/v1/audit?limit=1000"
expect_status 200
expect_json .total "$TOTAL"
expect_json '.entries | length' "$TOTAL" "limit=1000 returns every entry"
expect_jq '[.entries[].id] as $i | $i == ($i | sort | reverse)' "newest first"
expect_jq "all(.entries[]; (.at | type == \"number\") and .at <= $((now + 5)) and .at >= $((now - 300)))" \
    "every entry has a recent at"
expect_jq 'all(.entries[]; (.user | type == "string") and (.action | type == "string") and (.status | type == "number") and (.address | type == "string"))' \
    "every entry has user, action, status and address"
expect_jq '[.entries[] | select(.action | test("^(GET|get)"))] | length == 0' \
    "no entry names a read"
check "no password is in the audit log" \
    sh -c "! grep -qE 'password-[12]' '$T/body'"
jq -c '[.entries[].id]' <"$T/body" >"$T/all-ids"
as admin GET "/api/v1/audit?limit=3"
expect_json '.entries | length' 3 "limit=3 -> 3 entries"
expect_json .limit 3
expect_json .offset 0
expect_json .total "$TOTAL" "total counts everything"
expect_json '[.entries[].id] | tostring' "$(jq -c '.[0:3] | tostring' <"$T/all-ids" | jq -r .)" \
    "limit=3: the 3 newest"
as admin GET "/api/v1/audit?limit=3&offset=3"
expect_json .offset 3
expect_json '[.entries[].id] | tostring' "$(jq -c '.[3:6] | tostring' <"$T/all-ids" | jq -r .)" \
    "offset=3: the next 3"
as admin GET "/api/v1/audit?limit=5&offset=$((TOTAL - 2))"
expect_json '.entries | length' 2 "the last page is short"
as admin GET "/api/v1/audit?offset=$((TOTAL + 10))"
expect_status 200 "an offset past the end -> 200"
expect_json '.entries | length' 0 "and no entries"
as admin GET "/api/v1/audit?limit=0"
expect_status 400 "limit=0 -> 400"
as admin GET "/api/v1/audit?limit=-1"
expect_status 400 "limit=-1 -> 400"
as admin GET "/api/v1/audit?limit=abc"
expect_status 400 "limit=abc -> 400"
as admin GET "/api/v1/audit?offset=-5"
expect_status 400 "offset=-5 -> 400"
as admin GET "/api/v1/audit?limit=100000"
expect_status 400 "limit=100000 -> 400"

finish
