#!/usr/bin/env bash
# Start-up, /healthz, settings checking with -n and line-numbered errors.
. "$(dirname "$0")/lib.sh"

start_server 'poll:
  interval: "00:00:42"'

req GET /healthz
expect_status 200
expect_json .status ok
check "healthz is application/json" \
    [ "$(header Content-Type | cut -d';' -f1)" = application/json ]

req HEAD /healthz
expect_status 200
n=$(head_body_bytes /healthz)
check "HEAD /healthz sends no body ($n bytes)" [ "$n" -eq 0 ]

conns=$(curl -s --max-time 10 -o /dev/null -o /dev/null -w '%{num_connects} ' \
    "$BASE/healthz" "$BASE/healthz")
check "keep-alive: two requests on one connection (connects: $conns)" \
    [ "$conns" = "1 0 " ]

req GET /healthz -H 'Authorization: Bearer nonsense'
expect_status 200 "healthz ignores a bad token"

req GET /no/such/path
expect_status 404
expect_is_error

req GET /
expect_status 302 "GET / -> 302 to the dashboard"
check "GET / redirects to /ui/" grep -qi '^Location: /ui/' "$T/headers"

check "data_dir created with tmp/ and artifacts/" \
    test -d "$T/data/tmp" -a -d "$T/data/artifacts"
check "listening line names the port" \
    grep -q "listening on 127.0.0.1:$PORT" "$T/server.log"

# The configured poll interval reaches devices (from their second poll:
# the first, registering, answers the running interval).
ddi GET dev-settings
ddi GET dev-settings
expect_status 200
expect_json .config.polling.sleep 00:00:42 "poll.interval reaches the poll answer"

# -n: check the settings and exit.
check "-n accepts the generated settings" falconet_cli -n
cp "$(dirname "$0")/../../settings.yaml" "$T/shipped.yaml"
check "-n accepts the shipped settings.yaml" \
    sh -c "cd '$T' && '$FALCONET' -c shipped.yaml -n 2>'$T/n.err'"

# A second server on the same port must fail, not hang.
write_settings "$T/busy.yaml" "listen:
  port: $PORT" "data_dir: $T/data-busy"
timeout 3 "$FALCONET" -c "$T/busy.yaml" >/dev/null 2>"$T/busy.err"
rc=$?
check "port in use: exit 1 (got $rc)" [ "$rc" -eq 1 ]

# Bad settings: "file:line: key: what"; exit 1.
# bad_settings NAME LINE KEY TEXT
bad_settings()
{
	local name=$1 line=$2 key=$3 text=$4 f="$T/bad-$1.yaml" rc
	printf '%s\n' "$text" >"$f"
	timeout 10 "$FALCONET" -c "$f" -n >"$T/n.out" 2>"$T/n.err"
	rc=$?
	cp "$T/n.err" "$T/n-$name.err"
	check "-n $name: exit 1 (got $rc)" [ "$rc" -eq 1 ]
	if [ -n "$line" ]; then
		check "-n $name: error names $(basename "$f"):$line" \
		    grep -q "$(basename "$f"):$line:" "$T/n.err"
	else
		check "-n $name: error names the file" \
		    grep -q "$(basename "$f")" "$T/n.err"
	fi
	if [ -n "$key" ]; then
		check "-n $name: error names $key" grep -qF "$key" "$T/n.err"
	fi
}

bad_settings unknown-key 3 listen.bogus 'listen:
  address: 127.0.0.1
  bogus: 1'
bad_settings unknown-top 2 frobnicate 'data_dir: /tmp/x
frobnicate: 1'
bad_settings duplicate 3 log 'log:
  level: info
log:
  level: debug'
bad_settings duplicate-sub 3 listen.port 'listen:
  port: 1
  port: 2'
bad_settings port-range 2 listen.port 'listen:
  port: 70000'
bad_settings port-word 2 listen.port 'listen:
  port: eighty'
bad_settings interval-format 3 poll.interval '# comment
poll:
  interval: "5 minutes"'
bad_settings interval-range 2 poll.interval 'poll:
  interval: "24:00:00"'
bad_settings auth-mode 2 device_auth.mode 'device_auth:
  mode: bogus'
bad_settings max-size 2 upload.max_size 'upload:
  max_size: 12X'
bad_settings proxy-net 3 proxy.trusted 'proxy:
  trusted:
    - 300.1.1.1/8'
bad_settings log-level 2 log.level 'log:
  level: loud'
bad_settings tenant 1 tenant 'tenant: "a/b"'
bad_settings gateway-short 2 device_auth.gateway_token 'device_auth:
  gateway_token: Zq9sekretXY'
bad_settings section-scalar 1 listen 'listen: 8080'
bad_settings threads-range 2 http.threads 'http:
  threads: 65'
bad_settings stale-range 2 updates.stale_timeout 'updates:
  stale_timeout: "00:00:10"'
bad_settings yaml-syntax "" "" 'listen: [ 1, 2'
bad_settings not-mapping "" "" '- a
- b'
bad_settings proxy-cert-no-issuers "" proxy_cert 'device_auth:
  proxy_cert:
    enabled: true'

timeout 10 "$FALCONET" -c "$T/does-not-exist.yaml" -n >/dev/null 2>"$T/n.err"
rc=$?
check "-n on a missing file: exit 1 (got $rc)" [ "$rc" -eq 1 ]

check "settings errors never quote the gateway token" \
    sh -c "! grep -q Zq9sekretXY '$T/n-gateway-short.err'"

# A bad file stops the server at once, without listening.
timeout 10 "$FALCONET" -c "$T/bad-unknown-key.yaml" >/dev/null 2>"$T/bad.err"
rc=$?
check "serving with bad settings: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "serving with bad settings: never listens" \
    sh -c "! grep -q 'listening on' '$T/bad.err'"

# Other sub-commands.
write_settings "$T/mig.yaml" "data_dir: $T/data-mig"
timeout 20 "$FALCONET" -c "$T/mig.yaml" migrate >/dev/null 2>"$T/mig.err"
rc=$?
check "migrate on a fresh data_dir: exit 0 (got $rc)" [ "$rc" -eq 0 ]
timeout 20 "$FALCONET" -c "$T/mig.yaml" migrate >/dev/null 2>>"$T/mig.err"
rc=$?
check "migrate twice: exit 0 (got $rc)" [ "$rc" -eq 0 ]
# An older database keeps its data: version 2 with a device last seen
# moves that contact into device_seen (0003).
mkdir -p "$T/data-v2"
write_settings "$T/v2.yaml" "data_dir: $T/data-v2"
{
	mig=$(cd "$(dirname "$0")/../../migrations" && pwd)
	cat "$mig/0001_init.sql" "$mig/0002_operators.sql"
	echo "INSERT INTO device (controller_id, created_at, last_seen, last_address) VALUES ('old-seen', 1, 1700000000, '192.0.2.7'), ('old-never', 1, NULL, NULL);"
	echo "PRAGMA user_version = 2;"
} | sqlite3 "$T/data-v2/falconet.db"
timeout 20 "$FALCONET" -c "$T/v2.yaml" migrate >/dev/null 2>"$T/mig2.err"
rc=$?
check "migrate from version 2: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "migrate from version 2: last contact kept in device_seen" [ \
    "$(sqlite3 "$T/data-v2/falconet.db" "SELECT d.controller_id || ' ' || s.at || ' ' || s.address FROM device_seen s JOIN device d ON d.id = s.device_id")" \
    = "old-seen 1700000000 192.0.2.7" ]
check "migrate from version 2: the device table has no last_seen column" [ \
    "$(sqlite3 "$T/data-v2/falconet.db" "SELECT count(*) FROM pragma_table_info('device') WHERE name IN ('last_seen', 'last_address')")" = 0 ]
timeout 10 "$FALCONET" -c "$T/mig.yaml" frobnicate >/dev/null 2>&1
rc=$?
check "unknown sub-command: non-zero exit (got $rc)" [ "$rc" -ne 0 ]
timeout 10 "$FALCONET" --no-such-flag >/dev/null 2>&1
rc=$?
check "unknown flag: non-zero exit (got $rc)" [ "$rc" -ne 0 ]

# Restart on a different tenant with the same data: settings take effect.
stop_server
start_server 'tenant: Acme'
req GET /acme/controller/v1/dev-settings
expect_status 200 "tenant Acme answers on /acme"
req GET /DEFAULT/controller/v1/dev-settings
expect_status 404 "tenant Acme: /DEFAULT -> 404"
req GET /healthz
expect_status 200 "healthz after restart"

finish
