#!/usr/bin/env bash
# The permission matrix: every route of server/http/route.c (parsed from the
# table, so new routes are covered without editing this script) against
# principals with the admin, operator and readonly roles, deny grants
# ("!device.delete"), prefix grants ("device"), wildcard-segment grants
# ("*.read") and no grants at all, each through a login session and a
# personal token (and HTTP Basic on /rest/v1, where the session cookie
# must fail), plus a command-line token and no credentials.  What is
# checked is the gate: 401 without credentials, 403 {"error":"forbidden"}
# without the permission, anything but 401/403 with it (the token routes
# need users.write of a personal token, nothing of a session).  Then
# personal tokens: never more than their user, and limited by the user's
# current grants.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

ROUTE_C=$(cd "$(dirname "$0")/../.." && pwd)/server/http/route.c

# sreq COOKIE CSRF METHOD PATH [JSON]
sreq()
{
	local c=$1 x=$2 method=$3 path=$4 json=${5:-}
	local args=(-H "Cookie: falconet_session=$c" -H "X-CSRF-Token: $x")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

# breq TOKEN METHOD PATH [JSON]
breq()
{
	local tok=$1 method=$2 path=$3 json=${4:-}
	local args=(-H "Authorization: Bearer $tok")
	[ -n "$json" ] && args+=(-H 'Content-Type: application/json' \
	    --data-binary "$json")
	req "$method" "$path" "${args[@]}"
}

# The grant grammar of perm.h, written independently in jq: a grant
# matches a permission when its segments are a prefix of the permission's,
# "*" matching any one segment; a "!" grant denies and wins.
JQ_PERM='
def gmatch($g; $p):
	($g | split(".")) as $gs | ($p | split(".")) as $ps |
	($gs | length) <= ($ps | length) and
	all(range(0; $gs | length); $gs[.] == "*" or $gs[.] == $ps[.]);
def allows($grants; $p):
	if $p == null then true else
	([$grants[] | select(startswith("!")) | .[1:] | select(gmatch(.; $p))] | length) == 0 and
	([$grants[] | select(startswith("!") | not) | select(gmatch(.; $p))] | length) > 0
	end;'

# allowed PRINCIPAL PERM: exit 0 if the principal's grants allow PERM ("-"
# = none needed).  Cached: jq is slow on a loaded machine.
declare -A ALLOWED
allowed()
{
	local key="$1|$2"
	if [ -z "${ALLOWED[$key]:-}" ]; then
		if [ "$2" = - ]; then
			ALLOWED[$key]=true
		else
			ALLOWED[$key]=$(jq -rn --argjson g "${GRANTS[$1]}" --arg p "$2" \
			    "$JQ_PERM allows(\$g; \$p)")
		fi
	fi
	[ "${ALLOWED[$key]}" = true ]
}

# gate NAME ALLOWED: check the last answer against the expectation.
gate()
{
	local name=$1 ok=$2
	if [ "$ok" = yes ]; then
		case $STATUS in
		401 | 403 | 000) fail "$name -> allowed" "status $STATUS: $(body_excerpt)" ;;
		*) pass "$name -> allowed ($STATUS)" ;;
		esac
	elif [ "$STATUS" = 403 ] && [[ $BODY == *'"error":"forbidden"'* ||
	    $BODY == *'"errorCode":"hawkbit.server.error.insufficientPermission"'* ]]; then
		pass "$name -> 403 forbidden"
	else
		fail "$name -> 403 forbidden" "status $STATUS: $(body_excerpt)"
	fi
}

# ---------------------------------------------------------------------------
# The route table.  One line per route: METHOD|PATTERN|AUTH|BODY|PERM.
ROUTES=$(awk -F',' '
	/^const struct route routes\[\]/ { on = 1; next }
	on && /^};/ { on = 0 }
	on && /^[ \t]*\{ *"[A-Z]+"/ {
		for (i = 1; i <= 7; i++) {
			gsub(/^[ \t{]+|[ \t}]+$/, "", $i)
			gsub(/"/, "", $i)
		}
		p = $2
		sub(/^DDI */, "/{tenant}/controller/v1/{cid}", p)
		perm = $6 == "NULL" ? "-" : $6
		print $1 "|" p "|" $4 "|" $5 "|" perm
	}' "$ROUTE_C")
NROUTES=$(printf '%s\n' "$ROUTES" | grep -c .)
NADMIN=$(printf '%s\n' "$ROUTES" | grep -c '|\(A\|AUTH_ADMIN\|AUTH_METRICS\)|')
check "route.c parses into routes ($NROUTES, $NADMIN needing an operator)" \
    [ "$NROUTES" -ge 40 -a "$NADMIN" -ge 30 ]
has_route()
{
	printf '%s\n' "$ROUTES" | grep -qxF "$1"
}
check "the parsed table has GET /api/v1/audit with audit.read" \
    has_route 'GET|/api/v1/audit|A|BODY_NONE|audit.read'
check "the parsed table has the DDI poll" \
    has_route 'GET|/{tenant}/controller/v1/{cid}|D|BODY_NONE|-'
check "the parsed table has a rollout's devices with rollout.read" \
    has_route 'GET|/api/v1/rollouts/{id}/devices|A|BODY_NONE|rollout.read'
check "the parsed table has the rollout preview with rollout.read" \
    has_route 'GET|/api/v1/rollouts/preview|A|BODY_NONE|rollout.read'

# ---------------------------------------------------------------------------
start_server "$FAST"
printf 'admin-password-1\n' | falconet_cli user add admin >/dev/null 2>&1 ||
    fail "falconet user add admin"
MACHINE=$(make_token machine)

# Objects for the sample paths.
TOKEN=$MACHINE
mkimg "$T/os-1.0.swu" 1.0.0 '1.0'
upload "$T/os-1.0.swu"
expect_status 201 "upload a software"
SW=$SW_ID
api_json POST /api/v1/devices '{"controller_id":"matrix-dev","feed":"mx"}'
expect_status 201 "create matrix-dev"
api_json POST /api/v1/devices '{"controller_id":"keep-dev"}'
expect_status 201 "create keep-dev"
api_json POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"mx\",\"paused\":true}"
expect_status 201 "create a rollout"
RO=$(jq -r .id <"$T/body")

# Principals: name, then grants as given to POST /api/v1/users.
declare -A GRANTS COOKIES CSRFS PATS
PRINCIPALS="admin operator readonly nodelete devonly starread nothing"
GRANTS[admin]='["*"]'
declare -A CREATE
CREATE[operator]='"role":"operator"'
CREATE[readonly]='"role":"readonly"'
CREATE[nodelete]='"permissions":["*","!device.delete"]'
CREATE[devonly]='"permissions":["device"]'
CREATE[starread]='"permissions":["*.read"]'
CREATE[nothing]='"permissions":[]'

login admin 'admin-password-1'
COOKIES[admin]=$COOKIE CSRFS[admin]=$CSRF
for p in $PRINCIPALS; do
	[ "$p" = admin ] && continue
	sreq "${COOKIES[admin]}" "${CSRFS[admin]}" POST /api/v1/users \
	    "{\"username\":\"$p\",\"password\":\"$p-password-1\",${CREATE[$p]}}"
	expect_status 201 "create user $p"
	GRANTS[$p]=$(jq -c .permissions <"$T/body")
done
check "grants are stored as given (${GRANTS[starread]})" \
    [ "${GRANTS[starread]}" = '["*.read"]' ]
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" POST /api/v1/users \
    '{"username":"victim","password":"victim-password-1","role":"readonly"}'
expect_status 201 "create user victim"
for p in $PRINCIPALS; do
	if [ "$p" != admin ]; then
		login "$p" "$p-password-1"
		expect_status 200 "login as $p"
		COOKIES[$p]=$COOKIE CSRFS[$p]=$CSRF
	fi
	sreq "${COOKIES[$p]}" "${CSRFS[$p]}" POST /api/v1/tokens '{"name":"matrix"}'
	expect_status 201 "$p creates a personal token"
	expect_json .permissions "${GRANTS[$p]}" "$p's token has $p's grants by default"
	PATS[$p]=$(jq -r .token <"$T/body")
done

# sample_path METHOD PATTERN: the pattern with sample parameters.  Deletes
# and cancels aim at ids that do not exist, so that the matrix destroys
# nothing (404 is as good as 200 here: the gate was passed).
sample_path()
{
	local method=$1 path=$2
	case $method:$path in
	DELETE:/api/v1/users/*) path=${path/\{name\}/no-such-user} ;;
	*:/api/v1/users/*) path=${path/\{name\}/victim} ;;
	DELETE:/api/v1/software/*) path=${path/\{id\}/999999} ;;
	*:/api/v1/software/*) path=${path/\{id\}/$SW} ;;
	*:/api/v1/devices/*/events) path=${path/\{id\}/no-such-dev} ;;
	DELETE:/api/v1/devices/*) path=${path/\{id\}/no-such-dev} ;;
	*:/api/v1/devices/*) path=${path/\{id\}/matrix-dev} ;;
	DELETE:/api/v1/rollouts/*) path=${path/\{id\}/999999} ;;
	*:/api/v1/rollouts/*) path=${path/\{id\}/$RO} ;;
	esac
	# Anything else: a harmless value.
	echo "$path" | sed 's/{[a-z]*}/999999/g'
}

# send CRED METHOD PATH BODY: one request as CRED ("anon", "machine",
# "session:P" or "token:P").
send()
{
	local cred=$1 method=$2 path=$3 body=$4 args=()
	case $cred in
	anon) ;;
	machine) args=(-H "Authorization: Bearer $MACHINE") ;;
	session:*)
		args=(-H "Cookie: falconet_session=${COOKIES[${cred#session:}]}"
		    -H "X-CSRF-Token: ${CSRFS[${cred#session:}]}")
		;;
	token:*) args=(-H "Authorization: Bearer ${PATS[${cred#token:}]}") ;;
	esac
	case $body in
	BODY_JSON)
		[ "$method" != GET ] && args+=(-H 'Content-Type: application/json' \
		    --data-binary '{}')
		;;
	BODY_UPLOAD)
		args+=(-H 'Content-Type: application/octet-stream' \
		    --data-binary 'not a swu image')
		;;
	esac
	req "$method" "$path" "${args[@]}" --max-time 5
}

# rest_gate NAME ALLOWED: gate for /rest/v1, whose errors are hawkBit's.
rest_gate()
{
	local name=$1 ok=$2
	if [ "$ok" = yes ]; then
		case $STATUS in
		401 | 403 | 000) fail "$name -> allowed" "status $STATUS: $(body_excerpt)" ;;
		*) pass "$name -> allowed ($STATUS)" ;;
		esac
	elif [ "$STATUS" = 403 ] &&
	    [[ $BODY == *'"errorCode":"hawkbit.server.error.insufficientPermission"'* ]]; then
		pass "$name -> 403 insufficientPermission"
	else
		fail "$name -> 403 insufficientPermission" "status $STATUS: $(body_excerpt)"
	fi
}

# rest_row METHOD PATTERN PATH BODY PERM: a /rest/v1 route (AUTH_REST):
# Basic with each principal's password, tokens as under /api/v1, and
# never the session cookie.
rest_row()
{
	local method=$1 pattern=$2 path=$3 body=$4 perm=$5 what="$1 $2" p ok
	local data=()
	[ "$body" = BODY_JSON ] && [ "$method" != GET ] &&
	    data=(-H 'Content-Type: application/json' --data-binary '{}')
	send anon "$method" "$path" "$body"
	if [ "$STATUS" = 401 ] &&
	    [[ $BODY == *'"errorCode":"hawkbit.server.error.unauthorized"'* ]]; then
		pass "$what without credentials -> 401"
	else
		fail "$what without credentials -> 401" "status $STATUS: $(body_excerpt)"
	fi
	send machine "$method" "$path" "$body"
	rest_gate "$what as a command-line token" yes
	for p in $PRINCIPALS; do
		ok=no
		allowed "$p" "$perm" && ok=yes
		req "$method" "$path" -u "$p:$p-password-1" "${data[@]}" --max-time 5
		rest_gate "$what as $p ($perm) by Basic" "$ok"
		send "token:$p" "$method" "$path" "$body"
		rest_gate "$what as $p ($perm) by personal token" "$ok"
		send "session:$p" "$method" "$path" "$body"
		check "$what as $p by session cookie -> 401 (got $STATUS)" [ "$STATUS" = 401 ]
	done
}

# --- the matrix ------------------------------------------------------------
while IFS='|' read -r method pattern auth body perm; do
	[ -n "$method" ] || continue
	path=$(sample_path "$method" "$pattern")
	what="$method $pattern"
	case $auth in
	D | AUTH_DEVICE) continue ;;	# device credentials: t0060
	N | AUTH_NONE)
		send anon "$method" "$path" "$body"
		check "$what without credentials -> not 401 (got $STATUS)" \
		    [ "$STATUS" != 401 -a "$STATUS" != 000 ]
		continue
		;;
	R | AUTH_REST)
		rest_row "$method" "$pattern" "$path" "$body" "$perm"
		continue
		;;
	A | AUTH_ADMIN | AUTH_METRICS) ;;
	*)
		fail "$what: unknown auth kind '$auth' in route.c"
		continue
		;;
	esac
	send anon "$method" "$path" "$body"
	# /rest/v1 answers in hawkBit's shape.
	if [ "$STATUS" = 401 ] && [[ $BODY == *'"error":"unauthorized"'* ||
	    $BODY == *'"errorCode":"hawkbit.server.error.unauthorized"'* ]]; then
		pass "$what without credentials -> 401"
	else
		fail "$what without credentials -> 401" "status $STATUS: $(body_excerpt)"
	fi
	if [ "$method:$pattern" != POST:/api/v1/me/password ]; then
		send machine "$method" "$path" "$body"
		gate "$what as a command-line token" yes
	fi
	for p in $PRINCIPALS; do
		ok=no
		allowed "$p" "$perm" && ok=yes
		case $method:$pattern in
		POST:/api/v1/logout)
			# Log out a throwaway session, not the matrix's.
			login "$p" "$p-password-1"
			sreq "$COOKIE" "$CSRF" POST /api/v1/logout
			gate "$what as $p ($perm) by session" "$ok"
			;;
		*)
			send "session:$p" "$method" "$path" "$body"
			gate "$what as $p ($perm) by session" "$ok"
			;;
		esac
		case $method:$p:$pattern in
		POST:*:/api/v1/me/password) ;;	# sessions only: below
		*:admin:* | *:operator:* | *:readonly:* | *:nodelete:*)
			tperm=$perm tok_ok=$ok
			case $pattern in
			/api/v1/tokens | /api/v1/tokens/*)
				# Sessions manage their tokens; tokens need
				# users.write (auth_manages_tokens).
				tperm=users.write tok_ok=no
				allowed "$p" users.write && tok_ok=yes
				;;
			esac
			send "token:$p" "$method" "$path" "$body"
			gate "$what as $p ($tperm) by personal token" "$tok_ok"
			;;
		esac
	done
done <<EOF
$ROUTES
EOF

breq "${PATS[admin]}" POST /api/v1/me/password \
    '{"current":"admin-password-1","new":"admin-password-2"}'
expect_status 403 "a password change needs a session, not a token"

# --- what devices were refused, their update logs: device.read ------------
breq "${PATS[readonly]}" GET /api/v1/refused
expect_status 200 "readonly lists the refused requests"
breq "${PATS[readonly]}" GET /api/v1/devices/keep-dev/log
expect_status 200 "readonly downloads a device's update log"
breq "${PATS[nothing]}" GET /api/v1/refused
expect_status 403 "no grants: no refused list"
breq "${PATS[nothing]}" GET /api/v1/devices/keep-dev/log
expect_status 403 "no grants: no update log"
C=${COOKIES[readonly]} X=${CSRFS[readonly]}
sreq "$C" "$X" POST /api/v1/devices/bulk '{"ids":["keep-dev"],"patch":{"mode":"pinned"},"confirm":true}'
expect_status 403 "readonly cannot confirm a bulk assignment"
sreq "$C" "$X" POST /api/v1/devices/bulk '{"match":{"q":"keep-dev"},"expected":1,"patch":{"mode":"pinned"}}'
expect_status 403 "readonly cannot change devices by filter"

# --- deny and prefix grants, on real objects ------------------------------
C=${COOKIES[nodelete]} X=${CSRFS[nodelete]}
sreq "$C" "$X" DELETE /api/v1/devices/keep-dev
expect_status 403 '["*","!device.delete"] cannot DELETE a device'
expect_error forbidden
breq "${PATS[nodelete]}" DELETE /api/v1/devices/keep-dev
expect_status 403 '["*","!device.delete"] by token cannot DELETE a device'
sreq "$C" "$X" POST /api/v1/devices/bulk '{"ids":["keep-dev"],"delete":true}'
expect_status 403 '["*","!device.delete"] cannot bulk-delete devices'
expect_error forbidden
sreq "$C" "$X" POST /api/v1/devices/bulk '{"match":{"q":"keep-dev"},"expected":1,"delete":true}'
expect_status 403 '["*","!device.delete"] cannot bulk-delete devices by filter'
expect_error forbidden
sreq "$C" "$X" PATCH /api/v1/devices/keep-dev '{"name":"patched"}'
expect_status 200 '["*","!device.delete"] can PATCH a device'
sreq "$C" "$X" POST /api/v1/devices '{"controller_id":"nodelete-dev"}'
expect_status 201 '["*","!device.delete"] can create a device'
sreq "$C" "$X" PATCH /api/v1/users/nodelete '{"permissions":["*"]}'
expect_status '403|409' '["*","!device.delete"] cannot lift its own deny'
sreq "$C" "$X" POST /api/v1/users \
    '{"username":"fullpower","password":"fullpower-pass-1","role":"admin"}'
expect_status 403 '["*","!device.delete"] cannot create an admin'
expect_error forbidden
sreq "$C" "$X" POST /api/v1/tokens '{"name":"wide","permissions":["*"]}'
expect_status 403 '["*","!device.delete"] cannot make a ["*"] token'
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" GET /api/v1/devices/keep-dev
expect_status 200 "keep-dev still exists"
expect_json .name patched

C=${COOKIES[devonly]} X=${CSRFS[devonly]}
sreq "$C" "$X" PATCH /api/v1/devices/nodelete-dev '{"name":"by devonly"}'
expect_status 200 '["device"] can PATCH a device'
sreq "$C" "$X" DELETE /api/v1/devices/nodelete-dev
expect_status 204 '["device"] can DELETE a device'
sreq "$C" "$X" GET /api/v1/software
expect_status 403 '["device"] cannot list software'
sreq "$C" "$X" GET /api/v1/audit
expect_status 403 '["device"] cannot read the audit log'

C=${COOKIES[readonly]} X=${CSRFS[readonly]}
sreq "$C" "$X" PATCH /api/v1/devices/keep-dev '{"name":"by readonly"}'
expect_status 403 "readonly cannot PATCH a device"
sreq "$C" "$X" POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"x\"}"
expect_status 403 "readonly cannot create a rollout"
req POST '/api/v1/software?filename=x.swu' -H "Cookie: falconet_session=$C" \
    -H "X-CSRF-Token: $X" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$T/os-1.0.swu"
expect_status 403 "readonly cannot upload software"
sreq "$C" "$X" GET /api/v1/devices/keep-dev
expect_json .name patched "readonly changed nothing"
sreq "$C" "$X" PATCH /api/v1/users/readonly '{"role":"admin"}'
expect_status 403 "readonly cannot make itself admin"

# --- personal tokens are bounded by their user ---------------------------
C=${COOKIES[readonly]} X=${CSRFS[readonly]}
sreq "$C" "$X" POST /api/v1/tokens '{"name":"greedy","permissions":["*"]}'
expect_status 403 'readonly cannot create a ["*"] token'
expect_error forbidden
expect_jq '.detail | test("cannot")' "the refusal says the token cannot have it"
sreq "$C" "$X" POST /api/v1/tokens '{"name":"greedy2","permissions":["device.write"]}'
expect_status 403 'readonly cannot create a device.write token'
sreq "$C" "$X" POST /api/v1/tokens '{"name":"bad","permissions":["Device.READ"]}'
expect_status 400 "a malformed grant -> 400"
sreq "$C" "$X" GET /api/v1/tokens
expect_jq '[.tokens[].name] | index("greedy") == null' "no refused token was stored"

C=${COOKIES[operator]} X=${CSRFS[operator]}
sreq "$C" "$X" POST /api/v1/tokens '{"name":"narrow","permissions":["device.read"]}'
expect_status 201 "operator creates a device.read token"
NARROW=$(jq -r .token <"$T/body")
breq "$NARROW" GET /api/v1/devices
expect_status 200 "the device.read token reads devices"
breq "$NARROW" PATCH /api/v1/devices/keep-dev '{"name":"narrow"}'
expect_status 403 "the device.read token cannot PATCH"
expect_error forbidden
breq "$NARROW" GET /api/v1/software
expect_status 403 "the device.read token cannot read software"
breq "$NARROW" POST /api/v1/tokens '{"name":"wider","permissions":["device"]}'
expect_status 403 "the device.read token cannot mint a wider token"
breq "$NARROW" POST /api/v1/tokens '{"name":"same","permissions":["device.read"]}'
expect_status 403 "the device.read token cannot mint even an equal token"

OPT=${PATS[operator]}
breq "$OPT" PATCH /api/v1/devices/keep-dev '{"name":"by operator token"}'
expect_status 200 "operator's token can PATCH a device"
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" PATCH /api/v1/users/operator '{"role":"readonly"}'
expect_status 200 "reduce operator to readonly"
breq "$OPT" PATCH /api/v1/devices/keep-dev '{"name":"after reduce"}'
expect_status 403 "the token loses write access with its user"
expect_error forbidden
breq "$OPT" POST /api/v1/rollouts "{\"software_id\":$SW,\"feed\":\"x\"}"
expect_status 403 "the token cannot create rollouts any more"
breq "$OPT" GET /api/v1/devices/keep-dev
expect_status 200 "the token still reads"
expect_json .name 'by operator token'
sreq "${COOKIES[operator]}" "${CSRFS[operator]}" PATCH /api/v1/devices/keep-dev '{"name":"x"}'
expect_status 403 "the reduced user's session loses write access at once"
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" PATCH /api/v1/users/operator '{"role":"operator"}'
expect_status 200 "restore operator"
breq "$OPT" PATCH /api/v1/devices/keep-dev '{"name":"restored"}'
expect_status 200 "the token's own grants are back in force"

# A token minted while its user was an admin must not let the user, now
# reduced, hand out more than they have.
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" POST /api/v1/users \
    '{"username":"usermgr","password":"usermgr-pass-1","role":"admin"}'
expect_status 201 "create usermgr (admin)"
login usermgr usermgr-pass-1
UM_C=$COOKIE UM_X=$CSRF
sreq "$UM_C" "$UM_X" POST /api/v1/tokens '{"name":"old-admin"}'
expect_status 201 "usermgr mints a token while admin"
UM_T=$(jq -r .token <"$T/body")
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" PATCH /api/v1/users/usermgr \
    '{"permissions":["users","device.read"]}'
expect_status 200 'reduce usermgr to ["users","device.read"]'
login usermgr usermgr-pass-1
UM_C=$COOKIE UM_X=$CSRF
sreq "$UM_C" "$UM_X" POST /api/v1/users \
    '{"username":"evil1","password":"evil-password-1","role":"admin"}'
expect_status 403 "reduced usermgr's session cannot create an admin"
breq "$UM_T" DELETE /api/v1/devices/keep-dev
expect_status 403 "usermgr's old admin token cannot delete devices"
breq "$UM_T" POST /api/v1/users \
    '{"username":"evil2","password":"evil-password-1","role":"admin"}'
expect_status 403 "usermgr's old admin token cannot create an admin user"
breq "$UM_T" PATCH /api/v1/users/victim '{"role":"admin"}'
expect_status 403 "usermgr's old admin token cannot make another user admin"
breq "$UM_T" POST /api/v1/tokens '{"name":"new-admin","permissions":["*"]}'
expect_status 403 'usermgr'"'"'s old admin token cannot mint a ["*"] token'
sreq "${COOKIES[admin]}" "${CSRFS[admin]}" GET /api/v1/users
expect_json '[.users[] | select(.permissions == ["*"]) | .username] | sort | join(",")' \
    "admin" "no user besides the first admin holds [\"*\"]"

# users.write must not be a way around the same rule: setting the
# password of a user who holds more than you is taking their grants.
sreq "$UM_C" "$UM_X" PATCH /api/v1/users/admin '{"password":"taken-over-pass-1"}'
expect_status 403 'a ["users","device.read"] user cannot set an admin'"'"'s password'
login admin taken-over-pass-1
expect_status 401 "nobody logs in as admin with a password set by usermgr"
login admin admin-password-1
expect_status 200 "admin's own password still works"

# --- metrics.public ---------------------------------------------------------
stop_server
start_server "$FAST" 'metrics:
  public: true'
req GET /metrics
expect_status 200 "metrics.public: /metrics without credentials -> 200"
req GET /api/v1/settings
expect_status 401 "metrics.public opens nothing else"

finish
