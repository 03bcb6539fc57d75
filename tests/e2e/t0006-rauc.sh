#!/bin/bash
# t0006: Debian's real RAUC installs a bundle served by Falconet.
# A RAUC system lives in a sandbox (lib-rauc.sh: private D-Bus system bus,
# `rauc service`, file-backed A/B raw slots, custom bootloader script); a
# device process that speaks DDI as rauc-hawkbit-updater does
# (rauc_device.py, TargetToken auth) registers with its [device]
# attributes, is assigned a plain 2.0.0 bundle, downloads it, checks the
# sha1, runs `rauc install` and reports each step: the inactive slot holds
# the image byte for byte, RAUC records 2.0.0 and the new primary, the
# action succeeded and the device shows 2.0.0 installed, also after the
# device re-sent its static sw_version=1.0.0 (as rauc-hawkbit-updater does
# after every update), and nothing is offered again.  Then a bundle for
# compatible "other-board" (3.0.0): either Falconet refuses to offer it to
# the falconet-test-board device (which says compatible=falconet-test-board)
# and a second device that claims hw_boardname=other-board gets it, or
# Falconet offers it; in both cases RAUC refuses it ("Compatible mismatch")
# and the action ends failed with RAUC's message in its log, the slots
# untouched.
. "$(dirname "$0")/lib-e2e.sh"
# shellcheck source=lib-rauc.sh
. "$E2E_DIR/lib-rauc.sh"

DEVICE=$E2E_DIR/rauc_device.py
CID=e2e-rauc-001
TOK="tok-e2e-rauc-001-0123456789abcdef"
CID2=e2e-rauc-002
TOK2="tok-e2e-rauc-002-fedcba9876543210"
ATTRS=(--attr compatible=falconet-test-board --attr hw_boardname=falconet-test-board
	--attr hw_revision=1.0 --attr sw_version=1.0.0)
ATTRS2=(--attr hw_boardname=other-board --attr hw_revision=1.0 --attr sw_version=1.0.0)

rauc_check_tools

# run_device LOG TOKEN CID [rauc_device.py args...]: one --once cycle of the
# device in the background (killed by PID if the script ends early); its
# exit code.
run_device() {
	local log=$1 tok=$2 cid=$3 pid rc
	shift 3
	# a simple command, so that $! is python itself
	DBUS_SYSTEM_BUS_ADDRESS=$RAUC_BUS "$PY" "$DEVICE" --url "$BASE" --id "$cid" \
		--token "$tok" --once --timeout 30 --bundle "$T/dl-$cid.raucb" "$@" \
		>"$log" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait "$pid"
	rc=$?
	return $rc
}

show_device_log() {
	echo "#   --- ${1##*/}"
	tail -n "${2:-25}" "$1" 2>/dev/null | sed 's/^/#   /'
}

# poll_offer CID TOKEN: the href the root poll offers ("none" if none).
poll_offer() {
	poll_as "$1" "TargetToken $2"
	jbody '._links.deploymentBase.href // "none"'
}

# action_text ACTION_JSON: its log lines and status messages.
action_text() {
	printf '%s' "$1" | jq -r '(.log[]?.line), (.history[]?.message // empty)' 2>/dev/null
}

# ------------------------------------------------------------------ setup

e2e_start_server "$(printf 'device_auth:\n  mode: token')"

rauc_make_keys "$T/keys" || { failv "signing certificate made" "$(cat "$T/keys/openssl.log")"; finish; }
head -c 65536 /dev/urandom >"$T/rootfs-2.0.0.img"
BUNDLE=$T/bundle-2.0.0.raucb
if rauc_bundle "$BUNDLE" falconet-test-board 2.0.0 "$T/rootfs-2.0.0.img"; then
	pass "rauc bundle builds a plain 2.0.0 bundle ($(stat -c %s "$BUNDLE") bytes)"
else
	failv "rauc bundle builds a plain 2.0.0 bundle" "$(cat "$BUNDLE.log")"
	finish
fi
INFO=$(rauc info --keyring="$RAUC_CERT" --output-format=json "$BUNDLE" 2>/dev/null)
expect_eq "rauc info: compatible and version" \
	"$(printf '%s' "$INFO" | jq -r '"\(.compatible) \(.version)"' 2>/dev/null)" \
	"falconet-test-board 2.0.0"

if rauc_sandbox_start "$T/rauc"; then
	pass "RAUC sandbox: private system bus and rauc service (pid $RAUC_SERVICE_PID) up"
else
	failv "RAUC sandbox: private system bus and rauc service up" \
		"$(tail -n5 "$T/rauc/dbus.log" 2>/dev/null)" "$(tail -n10 "$T/rauc/service.log" 2>/dev/null)"
	finish
fi
STATUS_JSON=$(rauc_status_json)
expect_eq "rauc status: compatible, booted, primary" \
	"$(printf '%s' "$STATUS_JSON" | jq -r '"\(.compatible) \(.booted) \(.boot_primary)"' 2>/dev/null)" \
	"falconet-test-board A rootfs.0"

# ----------------------------------------------------------------- upload

upload "$BUNDLE" bundle-2.0.0.raucb
expect_status 201 "upload of bundle-2.0.0.raucb"
if [ -z "$SW_ID" ]; then
	failv "upload returned an id" "$BODY"
	finish
fi
note "software $SW_ID: $(jbody -c '{version, format, rauc_compatible, compatibility, signature}')"
expect_eq "uploaded software version" "$(jbody '.version // empty')" 2.0.0

# ---------------------------------------------------- register and assign

api_json POST /api/v1/devices "{\"controller_id\":\"$CID\",\"token\":\"$TOK\"}"
expect_status 201 "pre-register $CID with a TargetToken"

run_device "$T/dev-badtoken.log" "wrong-$TOK" "$CID" "${ATTRS[@]}"
rc=$?
if [ $rc -eq 1 ] && grep -q 'HTTP request failed: 401' "$T/dev-badtoken.log"; then
	pass "a wrong TargetToken: 401, the device's cycle fails"
else
	failv "a wrong TargetToken: 401, the device's cycle fails" "exit $rc"
	show_device_log "$T/dev-badtoken.log"
fi
run_device "$T/dev-register.log" "$TOK" "$CID" "${ATTRS[@]}"
rc=$?
if [ $rc -eq 0 ] && grep -q 'configData sent' "$T/dev-register.log" &&
	grep -q 'no new software' "$T/dev-register.log"; then
	pass "first cycle: the device polled and sent its configData, nothing offered"
else
	failv "first cycle: the device polled and sent its configData, nothing offered" "exit $rc"
	show_device_log "$T/dev-register.log"
fi
api GET "/api/v1/devices/$CID"
expect_eq "attributes from configData" \
	"$(jbody -c '.attributes | {compatible, hw_boardname, hw_revision, sw_version}')" \
	'{"compatible":"falconet-test-board","hw_boardname":"falconet-test-board","hw_revision":"1.0","sw_version":"1.0.0"}'
expect_eq "hw_model and hw_revision from configData" \
	"$(jbody '"\(.hw_model) \(.hw_revision)"')" "falconet-test-board 1.0"
expect_eq "configData no longer requested" "$(jbody '.request_attributes')" false

api_json PATCH "/api/v1/devices/$CID" "{\"mode\":\"assigned\",\"assigned_software_id\":$SW_ID}"
expect_status 200 "PATCH $CID: assigned software $SW_ID"
HREF=$(poll_offer "$CID" "$TOK")
if [ "$HREF" != none ]; then
	pass "the root poll offers a deployment"
else
	failv "the root poll offers a deployment" "poll: $BODY"
fi
req GET "$HREF" -H "Authorization: TargetToken $TOK"
expect_status 200 "GET deploymentBase as the device"
expect_eq "deployment: one chunk with one artifact, version 2.0.0" \
	"$(jbody '"\(.deployment.chunks | length) \(.deployment.chunks[0].artifacts | length) \(.deployment.chunks[0].version)"')" \
	"1 1 2.0.0"
expect_eq "deployment announces the bundle's sha1 and size" \
	"$(jbody '"\(.deployment.chunks[0].artifacts[0].hashes.sha1) \(.deployment.chunks[0].artifacts[0].size)"')" \
	"$(sha1sum <"$BUNDLE" | cut -d' ' -f1) $(stat -c %s "$BUNDLE")"

# ---------------------------------------------------------------- install

run_device "$T/dev-install.log" "$TOK" "$CID" "${ATTRS[@]}"
rc=$?
if [ $rc -eq 0 ] && grep -q 'Software bundle installed successfully' "$T/dev-install.log"; then
	pass "the device downloaded the bundle and RAUC installed it"
else
	failv "the device downloaded the bundle and RAUC installed it" "exit $rc"
	show_device_log "$T/dev-install.log" 40
	echo "#   --- rauc service log"
	tail -n 15 "$T/rauc/service.log" | sed 's/^/#   /'
fi
if cmp -s "$RAUC_SLOT1" "$T/rootfs-2.0.0.img"; then
	pass "inactive slot rootfs.1 holds the image byte for byte"
else
	failv "inactive slot rootfs.1 holds the image byte for byte" "$(cmp "$RAUC_SLOT1" "$T/rootfs-2.0.0.img" 2>&1)"
fi
check "slot rootfs.0 (booted) untouched" \
	cmp -s "$RAUC_SLOT0" <(head -c 65536 /dev/zero | tr '\0' '\377')
expect_eq "rauc status: rootfs.1 has bundle version 2.0.0" "$(rauc_slot_version rootfs.1)" 2.0.0
expect_eq "rauc status: rootfs.1 is the new primary" "$(rauc_primary)" rootfs.1

if wait_for 10 action_status_is "$CID" succeeded; then
	pass "action succeeded"
else
	failv "action succeeded" "$(action_json "$CID")"
fi
ACTION=$(action_json "$CID")
LOGTEXT=$(action_text "$ACTION")
# the rauc-hawkbit-updater sequence, in order
want=('Download complete\.' '^File checksum OK\.$' '^installing$' 'Copying image to rootfs\.1'
	'Installing done\.' '^Software bundle installed successfully\.$')
pos=0 missing=
for w in "${want[@]}"; do
	n=$(grep -nE "$w" <<<"$LOGTEXT" | head -n1 | cut -d: -f1)
	if [ -z "$n" ] || [ "$n" -le "$pos" ]; then
		missing="$missing [$w]"
	else
		pos=$n
	fi
done
if [ -z "$missing" ]; then
	pass "action log holds the feedback sequence ($(wc -l <<<"$LOGTEXT") lines)"
else
	failv "action log holds the feedback sequence" "missing or out of order:$missing" "${LOGTEXT:0:800}"
fi
api GET "/api/v1/devices/$CID"
expect_eq "installed_version 2.0.0 after the success" "$(jbody '.installed_version // empty')" 2.0.0
expect_eq "device shows its action succeeded" "$(jbody '.action.status // "none"')" succeeded

# after a success the server asks for the attributes again, offers nothing
run_device "$T/dev-after.log" "$TOK" "$CID" "${ATTRS[@]}"
rc=$?
if [ $rc -eq 0 ] && grep -q 'configData sent' "$T/dev-after.log" &&
	grep -q 'no new software' "$T/dev-after.log"; then
	pass "next cycle: configData asked for again, nothing offered"
else
	failv "next cycle: configData asked for again, nothing offered" "exit $rc"
	show_device_log "$T/dev-after.log"
fi
# rauc-hawkbit-updater's [device] keys are static: it sends sw_version=1.0.0
# again after every update; only the deployment tells the truth
api GET "/api/v1/devices/$CID"
expect_eq "installed_version stays 2.0.0 after configData with the static sw_version 1.0.0" \
	"$(jbody '.installed_version // empty')" 2.0.0
run_device "$T/dev-later.log" "$TOK" "$CID" "${ATTRS[@]}"
rc=$?
if [ $rc -eq 0 ] && grep -q 'no new software' "$T/dev-later.log" &&
	! grep -q 'new software ready' "$T/dev-later.log"; then
	pass "a later cycle is offered nothing (no reinstall of 2.0.0)"
else
	failv "a later cycle is offered nothing (no reinstall of 2.0.0)" "exit $rc"
	grep -v 'feedback proceeding' "$T/dev-later.log" | tail -n 6 | sed 's/^/#   /'
fi

# --------------------------------------------- negative: compatible mismatch

head -c 65536 /dev/urandom >"$T/rootfs-3.0.0.img"
OTHER=$T/other-3.0.0.raucb
if rauc_bundle "$OTHER" other-board 3.0.0 "$T/rootfs-3.0.0.img"; then
	pass "rauc bundle builds the other-board 3.0.0 bundle"
else
	failv "rauc bundle builds the other-board 3.0.0 bundle" "$(cat "$OTHER.log")"
	finish
fi
upload "$OTHER" other-board-3.0.0.raucb
expect_status 201 "upload of other-board-3.0.0.raucb"
SW2=$SW_ID
[ -n "$SW2" ] || { failv "upload returned an id" "$BODY"; finish; }

# The assignment is refused with its reason until confirmed: the operator
# insists here, and the server must still not offer the bundle.
api_json PATCH "/api/v1/devices/$CID" "{\"mode\":\"assigned\",\"assigned_software_id\":$SW2}"
expect_status 409 "PATCH $CID: assigning the other-board software is refused unconfirmed"
api_json PATCH "/api/v1/devices/$CID" "{\"mode\":\"assigned\",\"assigned_software_id\":$SW2,\"confirm\":true}"
expect_status 200 "PATCH $CID: assigned software $SW2 (other-board), confirmed"
NEG_CID="" NEG_TOK="" NEG_ATTRS=()
if [ "$(poll_offer "$CID" "$TOK")" = none ]; then
	pass "Falconet does not offer the other-board bundle to $CID (compatible=falconet-test-board)"
	# a device whose configData says other-board, without a compatible
	# attribute, gets it from Falconet; its RAUC must refuse it
	api_json POST /api/v1/devices "{\"controller_id\":\"$CID2\",\"token\":\"$TOK2\"}"
	expect_status 201 "pre-register $CID2 with a TargetToken"
	if run_device "$T/dev2-register.log" "$TOK2" "$CID2" "${ATTRS2[@]}"; then
		pass "$CID2 polled and sent its configData"
	else
		failv "$CID2 polled and sent its configData" "exit $?"
		show_device_log "$T/dev2-register.log"
	fi
	api_json PATCH "/api/v1/devices/$CID2" "{\"mode\":\"assigned\",\"assigned_software_id\":$SW2}"
	expect_status 200 "PATCH $CID2: assigned software $SW2"
	if [ "$(poll_offer "$CID2" "$TOK2")" != none ]; then
		pass "Falconet offers the other-board bundle to $CID2 (hw_boardname=other-board)"
		NEG_CID=$CID2 NEG_TOK=$TOK2 NEG_ATTRS=("${ATTRS2[@]}")
	else
		failv "Falconet offers the other-board bundle to $CID2 (hw_boardname=other-board)" "poll: $BODY"
	fi
else
	note "Falconet offers the other-board bundle to $CID (compatible=falconet-test-board)"
	NEG_CID=$CID NEG_TOK=$TOK NEG_ATTRS=("${ATTRS[@]}")
fi

if [ -n "$NEG_CID" ]; then
	run_device "$T/dev-neg.log" "$NEG_TOK" "$NEG_CID" "${NEG_ATTRS[@]}"
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'Compatible mismatch' "$T/dev-neg.log"; then
		pass "RAUC refused the other-board bundle on $NEG_CID (device exit 1)"
	else
		failv "RAUC refused the other-board bundle on $NEG_CID" "exit $rc"
		show_device_log "$T/dev-neg.log" 40
	fi
	if wait_for 10 action_status_is "$NEG_CID" failed; then
		pass "$NEG_CID: action failed"
	else
		failv "$NEG_CID: action failed" "$(action_json "$NEG_CID")"
	fi
	ACTION=$(action_json "$NEG_CID")
	LOGTEXT=$(action_text "$ACTION")
	if grep -q "Compatible mismatch: Expected 'falconet-test-board' but bundle manifest has 'other-board'" <<<"$LOGTEXT"; then
		pass "$NEG_CID: action log has RAUC's 'Compatible mismatch' message"
	else
		failv "$NEG_CID: action log has RAUC's 'Compatible mismatch' message" "${LOGTEXT:0:800}"
	fi
	check "$NEG_CID: action log has 'Failed to install software bundle.'" \
		grep -q '^Failed to install software bundle\.$' <<<"$LOGTEXT"
	api GET "/api/v1/devices/$NEG_CID"
	check "$NEG_CID: installed_version is not 3.0.0" test "$(jbody '.installed_version // empty')" != 3.0.0
	expect_eq "$NEG_CID: device shows its action failed" "$(jbody '.action.status // "none"')" failed
fi
check "after the refusal rootfs.1 still holds the 2.0.0 image" cmp -s "$RAUC_SLOT1" "$T/rootfs-2.0.0.img"
expect_eq "after the refusal rauc status: rootfs.1 2.0.0, primary rootfs.1" \
	"$(rauc_slot_version rootfs.1) $(rauc_primary)" "2.0.0 rootfs.1"

# ------------------------------------------------------------------ wire

# (the 401s are the wrong-token cycle's)
bad=$(grep -E "path=/DEFAULT/controller/v1/e2e-rauc-00[12]" "$SERVER_LOG" | grep -vE 'status=200' |
	grep -vE "method=GET path=/DEFAULT/controller/v1/$CID status=401")
if [ -z "$bad" ]; then
	pass "every DDI request of the devices was answered 200"
else
	failv "every DDI request of the devices was answered 200" "$(head -n5 <<<"$bad")"
fi
check "artifact GET answered 200" \
	grep -qE "method=GET path=/DEFAULT/controller/v1/$CID/softwaremodules/[0-9]+/artifacts/[^ ]+ status=200" "$SERVER_LOG"

# ---------------------------------------------------------------- cleanup

svc=$RAUC_SERVICE_PID bus=$RAUC_DBUS_PID
rauc_sandbox_stop
if ! kill -0 "$svc" 2>/dev/null && ! kill -0 "$bus" 2>/dev/null; then
	pass "rauc service (pid $svc) and dbus-daemon (pid $bus) stopped"
else
	fail "rauc service (pid $svc) and dbus-daemon (pid $bus) stopped"
fi
left=$(rauc_leftovers)
if [ -z "$left" ]; then
	pass "no mount or loop device of the sandbox left"
else
	failv "no mount or loop device of the sandbox left" "$left"
fi

finish
