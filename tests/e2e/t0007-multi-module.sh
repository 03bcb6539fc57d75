#!/bin/bash
# t0007: a distribution set of two modules (os + application) with Debian's
# real SWUpdate.  deploymentBase carries one chunk per module, os first, the
# application chunk with its target-visible metadata only.
#
# What SWUpdate 2022.12 does with the chunks (observed here, and so in its
# suricatta/server_hawkbit.c): it walks the chunks in order; in each chunk it
# downloads and installs every artifact whose filename ends in ".swu" and
# skips the others without downloading them; a chunk in which it installed
# nothing fails the whole action with closed/failure "No suitable .swu image
# found" -- after the earlier chunks were installed, with no rollback.  So:
#
#  A. os module with a signed .swu + application module with a plain file:
#     the os .swu is installed, then the application chunk fails the action;
#     the "reboot" (-c 2) has nothing left to confirm.
#  B. the same, with a .swu beside the plain file in the application module:
#     both .swu are installed, the plain file is skipped, "All Chunks
#     Installed.", and -c 2 closes the action as succeeded.
. "$(dirname "$0")/lib-e2e.sh"

CID_A=e2e-multi-001
CID_B=e2e-multi-002
CONF=$T/app.conf
CONFIGDATA_SENT='effective URL resolved to [^ ]*/configData$'
# after a failure the device's next poll finds nothing to do
AFTER_INSTALL='Update successful, executing post-update actions|No pending action on server'
VISIBLE='[{"key":"visible-key","value":"shown"}]'

e2e_start_server "$(printf 'device_auth:\n  mode: open')"

# new_module JSON: MOD_ID on 201
new_module() {
	api_json POST /api/v1/modules "$1"
	MOD_ID=$(jbody '.id // empty')
}

# add_artifact MODULE FILENAME FILE WANT_FORMAT
add_artifact() {
	api POST "/api/v1/modules/$1/artifacts?filename=$2" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$3"
	expect_status 201 "artifact $2 added to module $1"
	expect_eq "artifact $2 stored as $4" "$(jbody '.format // empty')" "$4"
}

# new_set NAME VERSION MODULES_JSON: DS_ID on 201
new_set() {
	api_json POST /api/v1/distributions \
		"{\"name\":\"$1\",\"version\":\"$2\",\"type\":\"os_app\",\"modules\":$3}"
	expect_status 201 "distribution set $1 $2"
	DS_ID=$(jbody '.id // empty')
	expect_eq "set $1 $2 is complete" "$(jbody '.complete')" true
}

# assign CID DS: pre-register the device and assign the set to it
assign() {
	api_json POST /api/v1/devices "{\"controller_id\":\"$1\"}"
	expect_status 201 "device $1 pre-registered"
	api_json PATCH "/api/v1/devices/$1" \
		"{\"mode\":\"assigned\",\"assigned_distribution_id\":$2}"
	expect_status 200 "set $2 assigned to $1"
}

# deployment CID: the device's poll and deploymentBase; DEPLOY holds it
deployment() {
	local href
	poll_as "$1"
	href=$(jbody '._links.deploymentBase.href // empty')
	if [ -z "$href" ]; then
		failv "$1: poll offers deploymentBase" "$BODY"
		DEPLOY=
		return
	fi
	req GET "$href"
	expect_status 200 "$1: GET deploymentBase"
	DEPLOY=$BODY
}

# djq FILTER: jq -c over DEPLOY
djq() { printf '%s' "$DEPLOY" | jq -c "$1" 2>/dev/null; }

# messages CID: the newest action's history messages, one a line
messages() { action_json "$1" | jq -r '.history[]?.message // empty' 2>/dev/null; }

# in_order NAME TEXT WANT...: the WANT lines appear in TEXT in that order
# (each a whole line; others may lie between)
in_order() {
	local name=$1 text=$2 line i=0
	shift 2
	local want=("$@")
	while IFS= read -r line; do
		[ "$i" -lt "${#want[@]}" ] && [ "$line" = "${want[$i]}" ] && i=$((i + 1))
	done <<< "$text"
	if [ "$i" -eq "${#want[@]}" ]; then
		pass "$name"
	else
		failv "$name" "missing from '${want[$i]}' on; got:" "$text"
	fi
}

# served CID NAME: the server log's DDI artifact requests of CID for NAME
served() {
	grep -E "path=/DEFAULT/controller/v1/$1/softwaremodules/[0-9]+/artifacts/$2 " "$SERVER_LOG" |
		grep -oE 'method=[A-Z]+ .* status=[0-9]+' | sed 's/ path=[^ ]*//'
}

printf 'answer = 42\nmode = "multi"\n' > "$CONF"
META='[{"key":"visible-key","value":"shown","target_visible":true},{"key":"hidden-key","value":"secret","target_visible":false}]'

# ======================================================= A: .swu + plain file
make_swu "$T/img/test-1.1.0.swu" 1.1.0 -r 1.0,1.1 -s 64K -d "$T/install-a/payload.bin" ||
	{ fail "mkswu builds the 1.1.0 os image"; finish; }
swu_member "$T/img/test-1.1.0.swu" payload.bin "$T/expected-a.bin" || fail "payload of 1.1.0 extracted"
new_module '{"type":"os","name":"test-os","version":"1.1.0"}'
expect_status 201 "os module test-os 1.1.0"
OS_A=$MOD_ID
add_artifact "$OS_A" test-1.1.0.swu "$T/img/test-1.1.0.swu" swu
new_module "{\"type\":\"application\",\"name\":\"app-config\",\"version\":\"2.0\",\"metadata\":$META}"
expect_status 201 "application module app-config 2.0 with two metadata entries"
APP_A=$MOD_ID
add_artifact "$APP_A" app.conf "$CONF" file
if [ -z "$OS_A" ] || [ -z "$APP_A" ]; then fail "modules have ids"; finish; fi
# the application module listed first: the server still sends os first
new_set multi 1.1.0 "[$APP_A,$OS_A]"
[ -n "$DS_ID" ] || { failv "set returned an id" "$BODY"; finish; }
assign "$CID_A" "$DS_ID"

deployment "$CID_A"
expect_eq "A: deploymentBase has 2 chunks" "$(djq '.deployment.chunks | length')" 2
expect_eq "A: chunk 1 is the os module" "$(djq '.deployment.chunks[0] | [.part, .name, .version]')" \
	'["os","test-os","1.1.0"]'
expect_eq "A: chunk 1 artifact is the .swu" "$(djq '[.deployment.chunks[0].artifacts[].filename]')" \
	'["test-1.1.0.swu"]'
expect_eq "A: chunk 2 is the application module" "$(djq '.deployment.chunks[1] | [.part, .name, .version]')" \
	'["application","app-config","2.0"]'
expect_eq "A: chunk 2 artifact is the plain file, with its size and sha1" \
	"$(djq '[.deployment.chunks[1].artifacts[] | [.filename, .size, .hashes.sha1]]')" \
	"[[\"app.conf\",$(stat -c %s "$CONF"),\"$(sha1sum < "$CONF" | cut -d' ' -f1)\"]]"
check "A: chunk 2 artifact has download links" \
	test -n "$(djq '.deployment.chunks[1].artifacts[0]._links | .download.href, ."download-http".href | select(. != null)')"
expect_eq "A: chunk 2 metadata holds only the target-visible entry" \
	"$(djq '.deployment.chunks[1].metadata')" "$VISIBLE"
expect_eq "A: chunk 1 (no metadata) has none" "$(djq '.deployment.chunks[0].metadata // [] | length')" 0
# shellcheck disable=SC2016
check "A: the hidden entry is nowhere in the deployment" \
	bash -c '! grep -qE "hidden-key|secret" <<< "$1"' _ "$DEPLOY"

# --- run 1: the os .swu is installed, the application chunk fails
run_client CONTROLLER_ID=$CID_A HW=testboard:1.1 DURATION=30 \
	STOP_ON="$AFTER_INSTALL" LOG="$T/a-run1.log"
client_ok "A: swupdate ran the deployment" $? "$T/a-run1.log" 40
# the chunks in the order the device received them (its trace of the JSON)
expect_eq "A: swupdate iterated the chunks os, then application" \
	"$(grep -oE 'server_install_update\] : Iterating over JSON, key=\{ "part": "[a-z]+"' "$T/a-run1.log" |
		grep -oE '"[a-z]+"$' | tr -d '"' | paste -sd,)" os,application
check "A: swupdate verified the os image" grep -q 'Verified OK' "$T/a-run1.log"
if cmp -s "$T/install-a/payload.bin" "$T/expected-a.bin"; then
	pass "A: the os payload WAS installed, byte-identical (chunk 1)"
else
	failv "A: the os payload WAS installed, byte-identical (chunk 1)" \
		"$(ls -l "$T/install-a" 2>&1)"
fi
check "A: swupdate: 'No suitable .swu image found' for the plain-file chunk" \
	grep -q 'ERROR : No suitable .swu image found' "$T/a-run1.log"
check "A: swupdate: Error processing update chunk named 'app-config', version 2.0, part application" \
	grep -q "Error processing update chunk named 'app-config', version 2.0, part application" "$T/a-run1.log"
check "A: swupdate did not report 'Update successful'" \
	bash -c "! grep -q 'Update successful' '$T/a-run1.log'"
expect_eq "A: os .swu was fetched (HEAD, GET)" "$(served "$CID_A" 'test-1\.1\.0\.swu' | paste -sd,)" \
	'method=HEAD status=200,method=GET status=200'
expect_eq "A: the plain file was never requested" "$(served "$CID_A" 'app\.conf' | paste -sd,)" ''

if wait_for 10 action_status_is "$CID_A" failed; then
	pass "A: action failed"
else
	failv "A: action failed" "$(action_json "$CID_A")"
fi
in_order "A: history: chunk 1 installed, chunk 2 closed as failure" "$(messages "$CID_A")" \
	'proceeding/none: Installing Update Chunk Artifacts.' \
	'proceeding/none: Installed Chunk.' \
	'proceeding/none: Installing Update Chunk Artifacts.' \
	'closed/failure: No suitable .swu image found'
check "A: history has no 'All Chunks Installed.'" \
	bash -c "! grep -q 'All Chunks Installed' <<< \"\$1\"" _ "$(messages "$CID_A")"
api GET "/api/v1/devices/$CID_A"
expect_eq "A: device state failed" "$(jbody '.state // empty')" failed
expect_eq "A: no installed_version" "$(jbody '.installed_version // "none"')" none

# --- run 2: the "reboot" with -c 2 finds no open action to confirm
run_client CONTROLLER_ID=$CID_A HW=testboard:1.1 CONFIRM=2 DURATION=15 \
	STOP_ON="$CONFIGDATA_SENT" LOG="$T/a-run2.log"
client_ok "A: swupdate -c 2 started" $? "$T/a-run2.log"
check "A: -c 2: 'Persistent state=2 but no active update on server'" \
	grep -q 'Persistent state=2 but no active update on server' "$T/a-run2.log"
expect_eq "A: the action stays failed after -c 2" \
	"$(action_json "$CID_A" | jq -r '.status // empty')" failed

# ================================================= B: .swu beside the file
make_swu "$T/img/test-1.2.0.swu" 1.2.0 -r 1.0,1.1 -s 64K -d "$T/install-b/payload.bin" ||
	{ fail "mkswu builds the 1.2.0 os image"; finish; }
make_swu "$T/img/app-2.1.swu" 2.1 -r 1.0,1.1 -s 4K -d "$T/install-b/app.bin" ||
	{ fail "mkswu builds the 2.1 application image"; finish; }
swu_member "$T/img/test-1.2.0.swu" payload.bin "$T/expected-b-os.bin" || fail "payload of 1.2.0 extracted"
swu_member "$T/img/app-2.1.swu" payload.bin "$T/expected-b-app.bin" || fail "payload of app 2.1 extracted"
new_module '{"type":"os","name":"test-os","version":"1.2.0"}'
expect_status 201 "os module test-os 1.2.0"
OS_B=$MOD_ID
add_artifact "$OS_B" test-1.2.0.swu "$T/img/test-1.2.0.swu" swu
new_module "{\"type\":\"application\",\"name\":\"app-config\",\"version\":\"2.1\",\"metadata\":$META}"
expect_status 201 "application module app-config 2.1"
APP_B=$MOD_ID
add_artifact "$APP_B" app.conf "$CONF" file
add_artifact "$APP_B" app-2.1.swu "$T/img/app-2.1.swu" swu
new_set multi 1.2.0 "[$APP_B,$OS_B]"
[ -n "$DS_ID" ] || { failv "set returned an id" "$BODY"; finish; }
assign "$CID_B" "$DS_ID"

deployment "$CID_B"
expect_eq "B: 2 chunks, os then application" "$(djq '[.deployment.chunks[] | .part]')" \
	'["os","application"]'
expect_eq "B: the application chunk has both artifacts" \
	"$(djq '[.deployment.chunks[1].artifacts[].filename] | sort')" '["app-2.1.swu","app.conf"]'
expect_eq "B: the application chunk metadata holds only the visible entry" \
	"$(djq '.deployment.chunks[1].metadata')" "$VISIBLE"

# --- run 1: both images installed
run_client CONTROLLER_ID=$CID_B HW=testboard:1.1 DURATION=30 \
	STOP_ON="$AFTER_INSTALL" LOG="$T/b-run1.log"
client_ok "B: swupdate ran the deployment" $? "$T/b-run1.log" 40
check "B: swupdate: Update successful" \
	grep -q 'Update successful, executing post-update actions' "$T/b-run1.log"
check "B: no chunk failed" bash -c "! grep -qE 'Error processing update chunk|No suitable' '$T/b-run1.log'"
if cmp -s "$T/install-b/payload.bin" "$T/expected-b-os.bin" &&
	cmp -s "$T/install-b/app.bin" "$T/expected-b-app.bin"; then
	pass "B: os and application payloads installed byte-identical"
else
	failv "B: os and application payloads installed byte-identical" "$(ls -l "$T/install-b" 2>&1)"
fi
expect_eq "B: application .swu fetched (HEAD, GET)" "$(served "$CID_B" 'app-2\.1\.swu' | paste -sd,)" \
	'method=HEAD status=200,method=GET status=200'
expect_eq "B: the plain file beside it was never requested" "$(served "$CID_B" 'app\.conf' | paste -sd,)" ''
for _ in 1 2 3 4 5 6 7 8 9 10; do
	MSGS=$(messages "$CID_B")
	grep -q 'All Chunks Installed' <<< "$MSGS" && break
	sleep 0.5
done
in_order "B: history: both chunks installed, then All Chunks Installed." "$MSGS" \
	'proceeding/none: Installing Update Chunk Artifacts.' \
	'proceeding/none: Installed Chunk.' \
	'proceeding/none: Installing Update Chunk Artifacts.' \
	'proceeding/none: Installed Chunk.' \
	'proceeding/none: All Chunks Installed.'
expect_eq "B: action running before the reboot" \
	"$(action_json "$CID_B" | jq -r '.status // empty')" running

# --- run 2: the "reboot", -c 2 reports success
run_client CONTROLLER_ID=$CID_B HW=testboard:1.1 CONFIRM=2 DURATION=15 \
	STOP_ON="$CONFIGDATA_SENT" LOG="$T/b-run2.log"
client_ok "B: swupdate -c 2 reported the result" $? "$T/b-run2.log"
if wait_for 10 action_status_is "$CID_B" succeeded; then
	pass "B: action succeeded"
else
	failv "B: action succeeded" "$(action_json "$CID_B")"
fi
check "B: history ends closed/success: Update Installed." \
	bash -c "grep -qx 'closed/success: Update Installed.' <<< \"\$1\"" _ "$(messages "$CID_B")"
api GET "/api/v1/devices/$CID_B"
expect_eq "B: installed_version is the set's version" "$(jbody '.installed_version // empty')" 1.2.0
expect_eq "B: device state in_sync" "$(jbody '.state // empty')" in_sync

# --- the wire: every DDI request of both devices got a 2xx (requests cut
# short when the wrapper stopped swupdate are logged status=0 aborted=1)
bad=$(grep -E "path=/DEFAULT/controller/v1/($CID_A|$CID_B)" "$SERVER_LOG" |
	grep -vE 'status=2[0-9][0-9]' | grep -vE 'status=0 .*aborted=1')
if [ -z "$bad" ]; then
	pass "every DDI request of the devices was answered 2xx"
else
	failv "every DDI request of the devices was answered 2xx" "$(head -n5 <<< "$bad")"
fi

finish
