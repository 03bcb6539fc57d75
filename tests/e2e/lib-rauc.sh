# shellcheck shell=bash disable=SC2034
# RAUC sandbox helpers for the end-to-end tests, sourced after lib-e2e.sh.
#
# A real A/B RAUC system in a temp directory (Debian 12's RAUC 1.8): a
# private D-Bus system bus (dbus-daemon with its own socket), `rauc service`
# on it with a system.conf of compatible=falconet-test-board,
# bootloader=custom (a shell script keeping primary and good/bad in files),
# a central status file in data-directory, the test's signing certificate as
# keyring, and two raw slots rootfs.0/rootfs.1 (bootname A/B) that are plain
# files: no loop devices of ours, no systemd, no reboot.  RAUC itself
# loop-mounts each bundle while it installs (autoclear loop devices) and
# needs root for that.
#
#   rauc_check_tools               fail (and finish) if a tool is missing
#   rauc_make_keys DIR             self-signed signer: RAUC_CERT, RAUC_KEY
#   rauc_bundle OUT COMPAT VERSION IMAGE
#                                  a plain bundle with IMAGE as [image.rootfs]
#   rauc_sandbox_start DIR         bus + service; RAUC_SB, RAUC_BUS, RAUC_CONF,
#                                  RAUC_DBUS_PID, RAUC_SERVICE_PID, RAUC_SLOT0/1
#   rauc_sandbox_stop              both killed by PID, leftover mounts undone
#   rauc_env CMD...                CMD with the sandbox's DBUS_SYSTEM_BUS_ADDRESS
#   rauc_status_json               `rauc status --detailed --output-format=json`
#   rauc_slot_version SLOT         bundle.version RAUC recorded for SLOT
#   rauc_primary                   boot_primary as RAUC reports it
#   rauc_leftovers                 mounts / loop devices that refer to $T
#
# The processes are also registered with lib-e2e.sh's track_pid, so the exit
# trap kills them by PID whatever happens.

RAUC_COMPATIBLE=${RAUC_COMPATIBLE:-falconet-test-board}
RAUC_SB=
RAUC_BUS=
RAUC_CONF=
RAUC_DBUS_PID=
RAUC_SERVICE_PID=

rauc_check_tools() {
	local tool missing=
	for tool in rauc mksquashfs dbus-daemon dbus-send openssl jq losetup findmnt; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	if [ -n "$missing" ]; then
		fail "RAUC sandbox tools are installed" "missing:$missing (make deps-test installs them)"
		finish
	fi
	if [ "$(id -u)" != 0 ]; then
		fail "running as root (RAUC loop-mounts bundles)"
		finish
	fi
}

# rauc_make_keys DIR: a self-signed signing certificate with the key usages
# RAUC accepts; it is also the keyring.
rauc_make_keys() {
	mkdir -p "$1"
	RAUC_CERT=$1/cert.pem
	RAUC_KEY=$1/key.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj /O=falconet/CN=falconet-rauc-test-signer \
		-addext "extendedKeyUsage=codeSigning,emailProtection" \
		-keyout "$RAUC_KEY" -out "$RAUC_CERT" >"$1/openssl.log" 2>&1
}

# rauc_bundle OUT COMPATIBLE VERSION IMAGE: a plain bundle signed with
# RAUC_CERT/RAUC_KEY holding IMAGE as rootfs.img.  rauc's output in
# OUT.log.
rauc_bundle() {
	local out=$1 compat=$2 version=$3 image=$4 dir
	dir=$(mktemp -d "$T/rauc-bundle.XXXXXX") || return 1
	cp "$image" "$dir/rootfs.img" || return 1
	cat >"$dir/manifest.raucm" <<-EOF
		[update]
		compatible=$compat
		version=$version
		description=falconet e2e bundle $version
		build=$(date -u +%Y%m%d%H%M%S)

		[image.rootfs]
		filename=rootfs.img
	EOF
	rm -f "$out"
	rauc bundle --cert="$RAUC_CERT" --key="$RAUC_KEY" --keyring="$RAUC_CERT" \
		"$dir" "$out" >"$out.log" 2>&1
}

# rauc_sandbox_start DIR: slots, configuration, the bus and the service.
# Waits (10 s at most) until the service owns de.pengutronix.rauc.
rauc_sandbox_start() {
	local d=$1 i
	RAUC_SB=$d
	RAUC_CONF=$d/system.conf
	RAUC_BUS=unix:path=$d/bus.sock
	RAUC_SLOT0=$d/rootfs.0
	RAUC_SLOT1=$d/rootfs.1
	mkdir -p "$d/mnt" "$d/data" "$d/boot"
	# slots: 64 KiB files, A filled with 0xff ("the running system"), B
	# with zeros; raw slots are written in place
	head -c 65536 /dev/zero | tr '\0' '\377' >"$RAUC_SLOT0"
	head -c 65536 /dev/zero >"$RAUC_SLOT1"
	cat >"$d/dbus.conf" <<-EOF
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>system</type>
		  <listen>unix:path=$d/bus.sock</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default">
		    <allow user="*"/>
		    <allow own="*"/>
		    <allow send_destination="*"/>
		    <allow receive_sender="*"/>
		  </policy>
		</busconfig>
	EOF
	# RAUC's custom bootloader backend (rauc/rauc:src/bootchooser.c):
	# get-primary, set-primary B, get-state B, set-state B good|bad.  RAUC
	# marks the target bad before writing it and then only calls
	# set-primary, so set-primary resets the state to good as a real
	# bootloader resets its attempts.
	cat >"$d/bootloader.sh" <<-EOF
		#!/bin/sh
		boot=$d/boot
		case \$1 in
		get-primary) cat "\$boot/primary" 2>/dev/null || echo A ;;
		set-primary) echo "\$2" >"\$boot/primary" && echo good >"\$boot/state.\$2" ;;
		get-state) cat "\$boot/state.\$2" 2>/dev/null || echo good ;;
		set-state) echo "\$3" >"\$boot/state.\$2" ;;
		*) echo "bootloader.sh: unknown command \$1" >&2; exit 1 ;;
		esac
	EOF
	chmod +x "$d/bootloader.sh"
	cat >"$RAUC_CONF" <<-EOF
		[system]
		compatible=$RAUC_COMPATIBLE
		bootloader=custom
		mountprefix=$d/mnt
		data-directory=$d/data

		[handlers]
		bootloader-custom-backend=$d/bootloader.sh

		[keyring]
		path=$RAUC_CERT

		[slot.rootfs.0]
		device=$RAUC_SLOT0
		type=raw
		bootname=A

		[slot.rootfs.1]
		device=$RAUC_SLOT1
		type=raw
		bootname=B
	EOF
	dbus-daemon --config-file="$d/dbus.conf" --nofork --nopidfile \
		</dev/null >"$d/dbus.log" 2>&1 &
	RAUC_DBUS_PID=$!
	track_pid "$RAUC_DBUS_PID"
	for ((i = 0; i < 100; i++)); do
		[ -S "$d/bus.sock" ] && break
		kill -0 "$RAUC_DBUS_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -S "$d/bus.sock" ]; then
		echo "# dbus-daemon did not start: $(tail -n3 "$d/dbus.log")"
		return 1
	fi
	# --override-boot-slot replaces the rauc.slot= of /proc/cmdline
	DBUS_SYSTEM_BUS_ADDRESS=$RAUC_BUS rauc --conf="$RAUC_CONF" service \
		--override-boot-slot=A </dev/null >"$d/service.log" 2>&1 &
	RAUC_SERVICE_PID=$!
	# stopped before the bus
	E2E_PIDS=("$RAUC_SERVICE_PID" "${E2E_PIDS[@]}")
	for ((i = 0; i < 100; i++)); do
		if rauc_env dbus-send --system --print-reply \
			--dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:de.pengutronix.rauc \
			2>/dev/null | grep -q 'boolean true'; then
			return 0
		fi
		kill -0 "$RAUC_SERVICE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# rauc service did not come up: $(tail -n5 "$d/service.log")"
	return 1
}

rauc_env() {
	DBUS_SYSTEM_BUS_ADDRESS=$RAUC_BUS "$@"
}

rauc_status_json() {
	rauc_env rauc status --detailed --output-format=json 2>/dev/null
}

# rauc_slot_version SLOT: the bundle version RAUC recorded for SLOT.
rauc_slot_version() {
	rauc_status_json | jq -r --arg s "$1" \
		'.slots[] | to_entries[] | select(.key == $s) |
		 .value.slot_status.bundle.version // empty' 2>/dev/null
}

rauc_primary() {
	rauc_status_json | jq -r '.boot_primary // empty' 2>/dev/null
}

# rauc_leftovers: mounts below $T and loop devices backed by files below
# $T, one a line (nothing when all is clean).
rauc_leftovers() {
	findmnt -rn -o TARGET 2>/dev/null | grep -F "$T/" || true
	losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$T/" || true
}

rauc_sandbox_stop() {
	local m
	kill_pid "$RAUC_SERVICE_PID"
	kill_pid "$RAUC_DBUS_PID"
	RAUC_SERVICE_PID=
	RAUC_DBUS_PID=
	# an install cut short could leave its bundle mounted
	if [ -n "$RAUC_SB" ]; then
		findmnt -rn -o TARGET 2>/dev/null | grep -F "$RAUC_SB/" | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
	fi
	return 0
}

# lib-e2e.sh's exit trap, with leftover mounts undone before the temp
# directory goes.
eval "rauc_lib_$(declare -f e2e_exit)"
e2e_exit() {
	rauc_sandbox_stop
	rauc_lib_e2e_exit
}
trap e2e_exit EXIT
