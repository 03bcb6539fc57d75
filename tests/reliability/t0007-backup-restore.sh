#!/usr/bin/env bash
# falconet backup while the server serves a fleet: a simulated fleet
# updating, a burst of feedback from other devices, and an operator
# uploading and deleting artifacts.  The backup is restored into a fresh
# data directory: it passes PRAGMA integrity_check, every artifact it
# names is there with its recorded SHA-256, every feedback answered 200
# before the backup started is in it, and a server starts on it and
# serves the restored devices and artifacts.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/../sim/common.sh"

need_aiohttp
BURST="$PY $(dirname "$0")/feedback_burst.py"
NDEV=30
PER=300

sim_start 'updates:
  max_running: 100000' 'log:
  access: false'
TOKEN=$(make_token admin)
mkimg "$T/bk-2.0.0.swu" 2.0.0 1.0 -s 64K -U
upload "$T/bk-2.0.0.swu"
expect_status 201 "upload"
api_json POST /api/v1/rollouts "{\"software_id\":$SW_ID}"
expect_status 201 "rollout"

# A large artifact no device is offered: copying and hashing it makes the
# backup last long enough (about a second) for "the server kept answering
# meanwhile" to mean something rather than depend on a 100 ms window.
api_json POST /api/v1/modules '{"name":"bulk","version":"1","type":"application"}'
BULK_ID=$(jq -r .id <"$T/body")
head -c $((192 * 1024 * 1024)) /dev/urandom >"$T/bulk.bin"
api POST "/api/v1/modules/$BULK_ID/artifacts?filename=bulk.bin" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/bulk.bin"
expect_status 201 "a 192 MiB artifact beside the fleet's"
rm -f "$T/bulk.bin"

$BURST setup "$BASE" bk- "$NDEV" "$T/devices" 2>"$T/setup.err"
check "$NDEV devices with an open action ($(wc -l <"$T/devices"))" \
    [ "$(wc -l <"$T/devices" 2>/dev/null || echo 0)" -eq "$NDEV" ]

# A fleet updating meanwhile (its own devices, polling and downloading).
fleet --url "$BASE" --devices 40 --prefix fl- --fail-rate 0.1 \
    --poll-scale 0.01 --duration 60 --quiet >"$T/fleet.out" 2>&1 &
sim_track $!

# The operator: modules with an artifact each, every other one deleted
# again (its file removed), for as long as the burst lasts.
operator()
{
	local i=0 id
	while [ ! -e "$T/stop-operator" ] && [ "$i" -lt 200 ]; do
		i=$((i + 1))
		api_json POST /api/v1/modules \
		    "{\"name\":\"op-$i\",\"version\":\"1\",\"type\":\"application\"}"
		[ "$STATUS" = 201 ] || continue
		id=$(jq -r .id <"$T/body")
		head -c $((100000 + i * 997)) /dev/urandom >"$T/op.bin"
		api POST "/api/v1/modules/$id/artifacts?filename=op-$i.bin" \
		    -H 'Content-Type: application/octet-stream' \
		    --data-binary "@$T/op.bin"
		[ "$STATUS" = 201 ] && echo "$id" >>"$T/op-made"
		if [ $((i % 2)) = 0 ]; then
			api DELETE "/api/v1/modules/$id"
		fi
	done
}
# The operator's requests write $T/body too: give it a state of its own.
(T2=$T/op; mkdir -p "$T2"; T=$T2 operator) &
OPERATOR=$!
sim_track "$OPERATOR"

: >"$T/ok"
: >"$T/bad"
$BURST burst "$BASE" "$T/devices" "$PER" 16 "$T/ok" "$T/bad" 2>"$T/burst.err" &
B=$!
sim_track "$B"
some() { [ "$(wc -l <"$T/ok")" -ge 500 ] && [ -s "$T/op/op-made" ]; }
check "the burst and the operator are under way within 30 s" wait_for 30 some

cp "$T/ok" "$T/ok-before"
BEFORE=$(wc -l <"$T/ok-before")
CLI=("$FALCONET" -c "$T/settings.yaml")
if "${CLI[@]}" backup "$T/backup" 2>"$T/backup.err"; then
	pass "falconet backup while serving: $(tail -1 "$T/backup.err")"
else
	fail "falconet backup while serving" "$(tail -3 "$T/backup.err")"
fi
AFTER=$(wc -l <"$T/ok")
echo "# $BEFORE feedbacks answered before the backup, $AFTER when it ended"
check "  the server kept answering meanwhile ($BEFORE -> $AFTER)" \
    [ "$AFTER" -gt "$BEFORE" ]
check "  no .partial directory left" [ ! -e "$T/backup.partial" ]
check "  the backup's files are private" \
    [ "$(stat -c %a "$T/backup/falconet.db")" = 600 ]

touch "$T/stop-operator"
wait "$B" 2>/dev/null
wait "$OPERATOR" 2>/dev/null
check "no feedback answered other than 200 ($(wc -l <"$T/bad"))" \
    [ ! -s "$T/bad" ]
check "a second backup into the same directory is refused" \
    sh -c "! '$FALCONET' -c '$T/settings.yaml' backup '$T/backup' 2>/dev/null"

# --- restore into a fresh data directory ---------------------------------
R=$T/restored
sed "s#^data_dir: .*#data_dir: $R#" "$T/settings.yaml" >"$T/restored.yaml"
if "$FALCONET" -c "$T/restored.yaml" restore "$T/backup" 2>"$T/restore.err"; then
	pass "falconet restore: $(tail -1 "$T/restore.err")"
else
	fail "falconet restore" "$(tail -3 "$T/restore.err")"
fi
check "restoring over a data directory in use is refused" \
    sh -c "! '$FALCONET' -c '$T/settings.yaml' restore '$T/backup' 2>/dev/null"
DB=$R/falconet.db
RES=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check of the restored database: $RES" [ "$RES" = ok ]

NART=0
BADART=0
while IFS='|' read -r path sha; do
	NART=$((NART + 1))
	got=$(sha256sum "$R/artifacts/$path" 2>/dev/null | cut -d' ' -f1)
	[ "$got" = "$sha" ] || { BADART=$((BADART + 1)); echo "# bad: $path"; }
done < <(sqlite3 "$DB" 'SELECT path, sha256 FROM artifact WHERE path IS NOT NULL')
check "every artifact the restored database names has its SHA-256 ($BADART bad of $NART)" \
    [ "$NART" -gt 1 ] && [ "$BADART" -eq 0 ]
STRAY=$(comm -13 <(sqlite3 "$DB" 'SELECT path FROM artifact WHERE path IS NOT NULL' | sort) \
    <(ls "$R/artifacts" | sort) | wc -l)
check "  and no file it does not name ($STRAY)" [ "$STRAY" -eq 0 ]

sqlite3 "$DB" "SELECT line FROM action_log WHERE line LIKE 'burst %'" |
    awk '{ print $2, $3, $4 }' | sort >"$T/have"
awk '{ print $1, $3, $4 }' "$T/ok-before" | sort >"$T/want"
MISSING=$(comm -23 "$T/want" "$T/have" | wc -l)
check "every feedback answered 200 before the backup is in it ($MISSING of $BEFORE missing)" \
    [ "$MISSING" -eq 0 ]

# A server on the restored directory serves what was backed up.
stop_server
sim_start "data_dir: $R" 'log:
  access: false'
api GET /api/v1/devices?limit=1
expect_status 200 "the restored server answers with the old token"
check "  it knows the burst's devices" \
    [ "$(jq -r .total <"$T/body")" -ge "$NDEV" ]
read -r cid aid <"$T/devices"
feedback "$cid" "$aid" closed success "Update Installed."
expect_status 200 "a restored action takes its device's closing feedback"
path=$(sqlite3 "$DB" 'SELECT module_id || "/" || id FROM artifact WHERE path IS NOT NULL ORDER BY id DESC LIMIT 1')
api GET "/api/v1/modules/${path%/*}/artifacts/${path#*/}/file"
sha=$(sqlite3 "$DB" "SELECT sha256 FROM artifact WHERE id = ${path#*/}")
check "  and serves an artifact that was uploaded during the backup run" \
    [ "$STATUS" = 200 ] && [ "$(sha256sum <"$T/body" | cut -d' ' -f1)" = "$sha" ]
finish
