#!/usr/bin/env bash
# A full disk: the data directory on an 8 MiB tmpfs.  An upload larger
# than the free space gets 507 with a JSON error and leaves nothing behind;
# the daemon keeps serving and a small upload then succeeds.  With the
# disk filled to the last byte (the database cannot grow), requests get
# an answer, the daemon stays up, and once space is freed everything works
# and the database is intact.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"

DISK=$T/disk
MOUNTED=
umount_disk()
{
	# The daemon holds files on the tmpfs: stop it first.
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait_for 5 sh -c "! kill -0 $SERVER_PID 2>/dev/null"
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
	if [ -n "$MOUNTED" ]; then
		umount "$DISK" 2>/dev/null || umount -l "$DISK" 2>/dev/null
		MOUNTED=
	fi
}
SIM_EXIT_HOOK=umount_disk

mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m,mode=0755 tmpfs "$DISK" 2>"$T/mount.err"; then
	skip "full disk on an 8 MiB tmpfs" \
	    "cannot mount a tmpfs here ($(head -c 100 "$T/mount.err")); run as root with CAP_SYS_ADMIN"
	finish
fi
MOUNTED=1
pass "an 8 MiB tmpfs for the data directory"

# The shortest idle timeout: a request the daemon never answers is cut
# after 5 s, so one failure does not cascade into the next checks.
sim_start "data_dir: $DISK/data" 'http:
  timeout: 5' 'log:
  access: false'
TOKEN=$(make_token admin)
free_kb() { df -k --output=avail "$DISK" | tail -n 1 | tr -d ' '; }
tmp_empty() { [ "$(count_files "$DISK/data/tmp")" -eq 0 ]; }

# up FILE [NAME]: an octet-stream upload that gives up after 8 s (lib.sh's
# upload waits 10 s).  mup FILE: the same as multipart/form-data.
up()
{
	api POST "/api/v1/software?filename=${2:-$(basename "$1")}" \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$1" --max-time 8
	no_answer
}
mup()
{
	api POST /api/v1/software -F "file=@$1;filename=$(basename "$1")" \
	    --max-time 8
	no_answer
}
no_answer()
{
	case $STATUS in
	000 | 100) echo "# $LAST_REQ: no answer within 8 s (curl saw status $STATUS)" ;;
	esac
}

# settle: after a failed check, wait (at most 15 s) until data/tmp is
# empty, so the next part starts with the disk as it should be.
settle()
{
	local t0=$SECONDS
	tmp_empty && return 0
	wait_for 15 tmp_empty
	echo "# data/tmp emptied $((SECONDS - t0)) s later ($(count_files "$DISK/data/tmp") files left)"
}
echo "# free after start-up: $(free_kb) KiB"

# A device with a row in the database, for the checks below.
ddi GET dev-1
expect_status 200 "a device registers"

mkimg "$T/big-2.0.0.swu" 2.0.0 1.0 -s 16M -U
up "$T/big-2.0.0.swu"
expect_status 507 "a 16 MiB upload onto 8 MiB -> 507"
expect_is_error
check "nothing left in data/tmp" tmp_empty
check "nothing in data/artifacts" [ "$(count_files "$DISK/data/artifacts")" -eq 0 ]
echo "# free after the failed upload: $(free_kb) KiB"
check "the space is given back (more than 6 MiB free)" [ "$(free_kb)" -gt 6144 ]
settle
api GET /api/v1/software
expect_status 200
expect_json .total 0 "no software row"
alive "the full disk"

# Multipart fails the same way.
mup "$T/big-2.0.0.swu"
expect_status 507 "a 16 MiB multipart upload -> 507"
expect_is_error
check "nothing left in data/tmp after multipart" tmp_empty
settle

mkimg "$T/small-2.0.0.swu" 2.0.0 1.0 -s 1M -U
up "$T/small-2.0.0.swu"
expect_status 201 "a 1 MiB upload then -> 201"
check "one file in data/artifacts" [ "$(count_files "$DISK/data/artifacts")" -eq 1 ]

# Fill the disk to the last byte: now the database cannot grow.
dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null
dd if=/dev/zero of="$DISK/filler2" bs=1 2>/dev/null
echo "# free with the filler: $(free_kb) KiB"
up "$T/small-2.0.0.swu" again.swu
expect_status 507 "an upload onto a full disk -> 507"
expect_is_error
check "nothing left in data/tmp" tmp_empty
ddi GET dev-1
expect_status 200 "a known device's poll on a full disk -> 200 (reads only)"
: >"$T/full-statuses"
for i in $(seq 1 30); do
	ddi GET "new-device-$i"
	echo "poll $STATUS" >>"$T/full-statuses"
	config_data "new-device-$i" '{"hw_revision":"1.0","blob":"'"$(head -c 60 /dev/zero | tr '\0' x)"'"}'
	echo "configData $STATUS" >>"$T/full-statuses"
done
echo "# new devices on a full disk got: $(sort "$T/full-statuses" | uniq -c | tr -s ' \n' ' ')"
check "the daemon answers every request while the disk is full" \
    sh -c "! grep -q ' 000\$' '$T/full-statuses'"
alive "requests on a full disk"
rm -f "$DISK/filler" "$DISK/filler2"
settle

ddi GET dev-after
expect_status 200 "a poll once space is free again"
config_data dev-after '{"hw_revision":"1.0"}'
expect_status 200 "configData once space is free again"
api GET /api/v1/devices/dev-after
expect_status 200
expect_json .hw_revision 1.0
up "$T/small-2.0.0.swu" again.swu
expect_status 409 "the same image again -> 409 (it is still there)"
api GET /api/v1/software
expect_json .total 1 "one software row"

stop_server
RES=$(sqlite3 "$DISK/data/falconet.db" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check: $RES" [ "$RES" = ok ]
umount_disk
check "the tmpfs is unmounted" sh -c "! mountpoint -q '$DISK'"
finish
