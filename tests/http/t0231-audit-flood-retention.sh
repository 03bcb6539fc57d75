#!/usr/bin/env bash
# The audit log under a flood, and its retention (finding #5).  Failed
# requests made without credentials fold into one entry per action,
# status, address and minute with a count, so 20,000 bad logins pipelined
# on one connection leave a handful of entries, and /metrics counts them.
# audit.max_age and audit.max_rows prune the oldest entries in the
# background: at start-up and every 30 seconds while running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"

PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! have sqlite3; then
	skip "audit flood and retention" "needs $PY and sqlite3"
	echo "0 passed, 0 failed"
	exit 0
fi

# flood.py PORT N BODY PATH [HEADER]: N pipelined POSTs on one keep-alive
# connection, 50 at a time (the findings' flood.py, with a Host this
# server answers to).
cat >"$T/flood.py" <<'EOF'
import socket, sys
port, n, body, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]
extra = sys.argv[5] + '\r\n' if len(sys.argv) > 5 else ''
req = (f'POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}'
       f'Content-Length: {len(body)}\r\n\r\n').encode() + body
s = socket.create_connection(('127.0.0.1', port)); sent = 0; codes = {}
while sent < n:
    s.sendall(req * 50); sent += 50; buf = b''
    while buf.count(b'HTTP/1.1 ') < 50:
        d = s.recv(65536)
        if not d:
            sys.exit('connection closed after %d' % sent)
        buf += d
    for part in buf.split(b'HTTP/1.1 ')[1:]:
        codes[part[:3].decode()] = codes.get(part[:3].decode(), 0) + 1
print(' '.join(f'{k}x{v}' for k, v in sorted(codes.items())))
EOF

DB=$T/data/falconet.db
start_server "$FAST"
TOKEN=$(make_token admin)

# rows: the audit table's row count, straight from the database.
rows()
{
	sqlite3 "$DB" "SELECT count(*) FROM audit" 2>/dev/null
}

# --- a flood of bad logins ------------------------------------------------------
before=$(rows)
start=$(date +%s.%N)
out=$("$PY" "$T/flood.py" "$PORT" 20000 '{' /api/v1/login)
secs=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
check "20,000 malformed logins on one connection: all 400 ($out, ${secs} s)" \
    [ "$out" = 400x20000 ]
folded_is()
{
	[ "$(sqlite3 "$DB" "SELECT COALESCE(sum(count), 0) FROM audit WHERE action = 'login' AND status = 400")" = "$1" ]
}
check "the entries count all 20,000" wait_for 5 folded_is 20000
after=$(rows)
check "a handful of entries, not 20,000 ($before -> $after)" \
    [ $((after - before)) -ge 1 -a $((after - before)) -le 3 ]
api GET "/api/v1/audit?limit=10"
expect_jq '[.entries[] | select(.action == "login" and .status == 400)] | all(.address == "127.0.0.1" and .user == "-" and (.last_at | type == "number"))' \
    "a folded entry: address, no user, last_at"
expect_jq '[.entries[] | select(.action == "login" and .status == 400) | .count] | add == 20000' \
    "the API shows the count"

# Anonymous writes to an authenticated route fold the same way (401).
out=$("$PY" "$T/flood.py" "$PORT" 5000 '{"controller_id":"x"}' /api/v1/devices)
check "5,000 anonymous device creates: all 401 ($out)" [ "$out" = 401x5000 ]
anon_is()
{
	[ "$(sqlite3 "$DB" "SELECT COALESCE(sum(count), 0) FROM audit WHERE action = 'device.create' AND status = 401")" = "$1" ]
}
check "counted in a few entries" wait_for 5 anon_is 5000
check "a few entries" [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'device.create'")" -le 2 ]

# A bad token is no principal either.
out=$("$PY" "$T/flood.py" "$PORT" 1000 '{"controller_id":"x"}' /api/v1/devices \
    'Authorization: Bearer not-a-token-0123456789')
check "1,000 creates with a wrong token: 401 ($out)" [ "$out" = 401x1000 ]
check "folded into the same entries" wait_for 5 anon_is 6000

req GET /metrics -H "Authorization: Bearer $TOKEN"
check "/metrics counts the folded logins" \
    grep -q '^falconet_audit_folded_total{action="login",status="400"} 20000$' "$T/body"
check "/metrics counts the folded device creates" \
    grep -q '^falconet_audit_folded_total{action="device.create",status="401"} 6000$' "$T/body"

# Authenticated requests still get an entry each, refusals too.
n0=$(rows)
for i in 1 2 3; do
	api_json POST /api/v1/devices '{"controller_id":"bad id with spaces"}'
done
check "three refused authenticated requests: three entries" \
    [ "$(rows)" -eq $((n0 + 3)) ]
alive "the floods"

# --- total is the span of ids, and equals count(*) -------------------------------
api GET "/api/v1/audit?limit=1"
expect_json .total "$(rows)" "total equals the number of rows"

# --- retention at start-up: audit.max_age ------------------------------------------
stop_server
now=$(date +%s)
sqlite3 "$DB" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)
    INSERT INTO audit (id, at, actor, address, action, target, status)
    SELECT x - 10000000, $((now - 400 * 86400)) + x, 'old', '192.0.2.1', 'device.update', 'd', 200 FROM c;"
check "3,000 entries 400 days old put in" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor = 'old'")" -eq 3000 ]
kept=$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor != 'old'")
start_server "$FAST" 'audit:
  max_age: 30'
old_gone()
{
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor = 'old'")" -eq 0 ]
}
check "entries older than audit.max_age are pruned at start-up" wait_for 10 old_gone
check "younger entries are kept" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" -eq "$kept" ]
check "the server log says so" grep -q 'audit log: 3000 old entries deleted' "$T/server.log"

# --- while running: audit.max_rows ---------------------------------------------------
stop_server
start_server "$FAST" 'audit:
  max_rows: 1000'
sleep 2
now=$(date +%s)
sqlite3 "$DB" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2500)
    INSERT INTO audit (at, actor, address, action, target, status)
    SELECT $now, 'new', '192.0.2.2', 'device.update', 'd' || x, 200 FROM c;"
newest=$(sqlite3 "$DB" "SELECT max(id) FROM audit")
at_most()
{
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" -le "$1" ]
}
check "while running, the table is pruned to audit.max_rows within 35 s" \
    wait_for 35 at_most 1000
check "exactly audit.max_rows entries are kept" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" -eq 1000 ]
check "the newest are the ones kept" \
    [ "$(sqlite3 "$DB" "SELECT min(id) FROM audit")" -eq $((newest - 999)) ]
api GET "/api/v1/audit?limit=2&offset=1"
expect_json .total 1000 "total after pruning"
expect_json '[.entries[].id] | tostring' "[$((newest - 1)),$((newest - 2))]" \
    "offset counts from the newest"

finish
