#!/usr/bin/env bash
# kill -9 the daemon in the middle of a 200 MiB upload, restart it on the
# same data: no software row, no artifact file, the temp file removed at
# start-up, and the daemon serves (a later upload works).  Then kills at
# spread-out moments of .swu and RAUC bundle uploads.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"
. "$(dirname "$0")/../http/bundles.sh"

sim_start 'upload:
  max_size: 1G' 'log:
  access: false'
TOKEN=$(make_token admin)

mkimg "$T/big-3.0.0.swu" 3.0.0 1.0 -s 200M -U
check "mkswu builds a 200 MiB image ($IMG_SIZE bytes)" \
    [ "$IMG_SIZE" -gt $((200 * 1024 * 1024)) ]

# Streamed from the file (-T), 20 MB/s: about ten seconds in flight.
curl -sS --max-time 60 --limit-rate 20M -X POST -T "$T/big-3.0.0.swu" \
    -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/octet-stream' \
    -o "$T/up.body" -w '%{http_code}' \
    "$BASE/api/v1/software?filename=big-3.0.0.swu" >"$T/up.status" \
    2>"$T/up.err" &
UP=$!
sim_track "$UP"

tmp_bytes()
{
	local f
	f=$(ls "$T"/data/tmp/upload-* 2>/dev/null | head -n 1)
	[ -n "$f" ] && stat -c %s "$f" || echo 0
}
grown() { [ "$(tmp_bytes)" -ge $((30 * 1024 * 1024)) ]; }
check "the upload streams into data/tmp/upload-* (30 MiB written)" \
    wait_for 20 grown
INFLIGHT=$(tmp_bytes)
check "the upload is still in flight when the daemon is killed" \
    kill -0 "$UP"

kill_server_hard
echo "# killed the daemon with $((INFLIGHT / 1048576)) MiB of the upload in data/tmp"
wait "$UP"
check "the client did not get a 201 ($(cat "$T/up.status"))" \
    [ "$(cat "$T/up.status")" != 201 ]
check "nothing in data/artifacts after the kill" \
    [ "$(count_files "$T/data/artifacts")" -eq 0 ]
LEFT=$(ls "$T"/data/tmp/upload-* 2>/dev/null | wc -l)
echo "# $LEFT temp file(s) left by the kill"

restart_server
check "the temp file is removed at start-up" \
    [ "$(ls "$T"/data/tmp/upload-* 2>/dev/null | wc -l)" -eq 0 ]
check "data/tmp is empty" [ "$(count_files "$T/data/tmp")" -eq 0 ]
check "data/artifacts is empty" [ "$(count_files "$T/data/artifacts")" -eq 0 ]
api GET /api/v1/software
expect_status 200
expect_json .total 0 "no software row after the kill"
expect_json '.software | length' 0
alive "the restart"

# The same image, uploaded in full, is accepted: no stale state blocks it.
mkimg "$T/small-3.0.0.swu" 3.0.0 1.0 -s 64K -U
upload "$T/small-3.0.0.swu"
expect_status 201 "a new upload after the restart -> 201"
expect_json .version 3.0.0
check "one file in data/artifacts" [ "$(count_files "$T/data/artifacts")" -eq 1 ]
check "data/tmp is empty after it" [ "$(count_files "$T/data/tmp")" -eq 0 ]

# Kills at spread-out moments of fast 32 MiB uploads: mid-body, while the
# image is parsed, hashed, synced and renamed (the last two: as soon as the
# whole body is in data/tmp), and just after the answer.
# After each restart a software row exists exactly when its file does,
# with the row's size and sha256, and an upload answered 201 is listed.
declare -A HASHED
BAD=0
ANSWERED=0
KEPT=0
full() { [ "$(tmp_bytes)" -ge "$IMG_SIZE" ]; }
for i in 1 2 3 4 5 6 7 8 9 10; do
	mkimg "$T/k$i.swu" "5.0.$i" 1.0 -s 32M -U
	rm -f "$T/k.status"
	curl -sS --max-time 30 -X POST -T "$T/k$i.swu" \
	    -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/octet-stream' -o /dev/null \
	    -w '%{http_code}' "$BASE/api/v1/software?filename=k$i.swu" \
	    >"$T/k.status" 2>/dev/null &
	UP=$!
	sim_track "$UP"
	if [ "$i" -le 8 ]; then
		DELAY=$(printf '0.%03d s' $((i * 45 - 40)))	# 0.005 .. 0.320 s
		sleep "${DELAY% s}"
	else
		# The moment the whole body is on disk: the image is being
		# parsed, synced and renamed.
		DELAY="the whole body in data/tmp"
		n=0
		until full || [ "$n" -ge 5000 ]; do n=$((n + 1)); done
	fi
	kill_server_hard
	wait "$UP"
	ST=$(cat "$T/k.status" 2>/dev/null)
	restart_server
	api GET /api/v1/software
	jq -r '.software[] | "\(.id) \(.size) \(.hashes.sha256) \(.version)"' \
	    <"$T/body" >"$T/rows"
	[ "$ST" = 201 ] && ANSWERED=$((ANSWERED + 1))
	if [ "$ST" = 201 ] && ! grep -q " 5\.0\.$i\$" "$T/rows"; then
		BAD=$((BAD + 1))
		echo "# kill $i: the upload was answered 201 but is not listed"
	fi
	grep -q " 5\.0\.$i\$" "$T/rows" && KEPT=$((KEPT + 1))
	NFILES=$(count_files "$T/data/artifacts")
	if [ "$NFILES" -ne "$(wc -l <"$T/rows")" ]; then
		BAD=$((BAD + 1))
		echo "# kill $i: $(wc -l <"$T/rows") rows but $NFILES artifact files"
	fi
	for f in "$T"/data/artifacts/*; do
		[ -f "$f" ] || continue
		[ -n "${HASHED[$f]:-}" ] ||
		    HASHED[$f]="$(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1)"
	done
	while read -r id size sha ver; do
		found=0
		for f in "${!HASHED[@]}"; do
			[ "${HASHED[$f]}" = "$size $sha" ] && [ -f "$f" ] && found=1
		done
		if [ "$found" -eq 0 ]; then
			BAD=$((BAD + 1))
			echo "# kill $i: software $id ($ver) has no file of its size and sha256"
		fi
	done <"$T/rows"
	if [ "$(count_files "$T/data/tmp")" -ne 0 ]; then
		BAD=$((BAD + 1))
		echo "# kill $i: data/tmp not empty after the restart"
	fi
	echo "# kill $i after $DELAY: client got ${ST:-nothing}; $(wc -l <"$T/rows") rows, $NFILES files"
done
check "10 kills during fast uploads: rows and files always agree, answered uploads kept ($ANSWERED answered 201, $KEPT kept)" \
    [ "$BAD" -eq 0 ]
alive "ten kills"

# RAUC bundles: kills while a 32 MiB verity bundle is read after its body
# landed (manifest, signature, hash tree), and while it streams in.
rauc_signer "$T/signer" reliability-signer
BAD=0
for i in 1 2 3 4 5; do
	mkbundle "$T/r$i.raucb" board-r "7.0.$i" verity "$T/signer" $((32 * 1024 * 1024))
	IMG_SIZE=$(stat -c %s "$T/r$i.raucb")
	before=$(count_files "$T/data/artifacts")
	rm -f "$T/k.status"
	curl -sS --max-time 30 -X POST -T "$T/r$i.raucb" -H 'Expect:' \
	    -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/octet-stream' -o /dev/null \
	    -w '%{http_code}' "$BASE/api/v1/software?filename=r$i.raucb" \
	    >"$T/k.status" 2>/dev/null &
	UP=$!
	sim_track "$UP"
	if [ "$i" -le 3 ]; then
		n=0
		until full || [ "$n" -ge 5000 ]; do n=$((n + 1)); done
	else
		sleep 0.05
	fi
	WHEN="mid-body"
	full && WHEN="with the whole body in data/tmp"
	kill_server_hard
	wait "$UP"
	ST=$(cat "$T/k.status" 2>/dev/null)
	restart_server
	api GET "/api/v1/software?q=r$i.raucb"
	rows=$(jq -r '.total' <"$T/body")
	after=$(count_files "$T/data/artifacts")
	if [ "$ST" = 201 ] && [ "$rows" != 1 ]; then
		BAD=$((BAD + 1))
		echo "# bundle kill $i: answered 201 but not listed"
	fi
	if [ "$((after - before))" != "$rows" ]; then
		BAD=$((BAD + 1))
		echo "# bundle kill $i: $rows rows but $((after - before)) new files"
	fi
	if [ "$(count_files "$T/data/tmp")" -ne 0 ]; then
		BAD=$((BAD + 1))
		echo "# bundle kill $i: data/tmp not empty after the restart"
	fi
	echo "# bundle kill $i $WHEN: client got ${ST:-nothing}; $rows rows, $((after - before)) new files"
	rm -f "$T/r$i.raucb"
done
check "5 kills during RAUC bundle uploads: rows and files agree, nothing left in data/tmp" \
    [ "$BAD" -eq 0 ]
alive "the bundle kills"

stop_server
RES=$(sqlite3 "$T/data/falconet.db" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check: $RES" [ "$RES" = ok ]
finish
