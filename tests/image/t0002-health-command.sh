#!/usr/bin/env bash
# falconet health, the image's HEALTHCHECK, outside a container: exit 0
# when the configured server answers /healthz with 200, else exit 1 with
# the reason, and never longer than its 5 s deadline (a peer that accepts
# and says nothing, one that answers 503 or not HTTP at all).
. "$(dirname "$0")/../http/lib.sh"

start_server
# The probe reads listen.address and listen.port from the settings: the
# test server's own port (it was started on port 0), and the wildcard
# address, which the probe reaches on loopback.
probe_settings()
{
	write_settings "$T/probe.yaml" "$(printf 'listen:\n  address: %s\n  port: %s' "$1" "$2")"
}

# health: run the probe; RC, ERR and SECS (wall time, whole seconds).
health()
{
	local start
	start=$(date +%s%N)
	"$FALCONET" -c "$T/probe.yaml" health >"$T/health.out" 2>"$T/health.err"
	RC=$?
	SECS=$((($(date +%s%N) - start) / 1000000000))
	ERR=$(head -c 160 "$T/health.err")
}

probe_settings 127.0.0.1 "$PORT"
health
check "health exits 0 against a running server (rc $RC, $ERR)" [ "$RC" -eq 0 ]
check "and prints nothing" [ ! -s "$T/health.out" -a ! -s "$T/health.err" ]
probe_settings 0.0.0.0 "$PORT"
health
check "a wildcard listen address is probed on loopback (rc $RC)" [ "$RC" -eq 0 ]

stop_server
probe_settings 127.0.0.1 "$PORT"
health
check "health exits 1 once the server is gone (rc $RC)" [ "$RC" -eq 1 ]
check "naming the reason ($ERR)" sh -c "printf '%s' '$ERR' | grep -q 'connect: Connection refused'"

probe_settings 127.0.0.1 0
health
check "listen.port 0 cannot be probed: exit 1 ($ERR)" \
    sh -c "[ $RC -eq 1 ] && printf '%s' '$ERR' | grep -q 'no fixed port'"

# fake MODE: a one-connection peer on a free loopback port (FAKE_PORT):
# silent (accepts, never answers), 503, or garbage.
fake()
{
	python3 - "$1" >"$T/fake.port" <<'EOF' &
import socket, sys, time
mode = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
s.settimeout(20)
try:
    c, _ = s.accept()
except OSError:
    sys.exit(0)
c.settimeout(20)
try:
    c.recv(4096)
    if mode == "503":
        c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
    elif mode == "garbage":
        c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    else:
        time.sleep(12)
except OSError:
    pass
c.close()
EOF
	FAKE_PID=$!
	FAKE_PORT=
	for _ in $(seq 1 50); do
		FAKE_PORT=$(head -n 1 "$T/fake.port")
		[ -n "$FAKE_PORT" ] && break
		sleep 0.1
	done
}
fake_done()
{
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}
trap '[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT

fake silent
probe_settings 127.0.0.1 "$FAKE_PORT"
health
fake_done
check "a peer that never answers: exit 1 ($ERR)" \
    sh -c "[ $RC -eq 1 ] && printf '%s' '$ERR' | grep -q 'no answer within 5000 ms'"
check "after the 5 s deadline, not later (${SECS}s)" [ "$SECS" -ge 4 -a "$SECS" -le 7 ]

fake 503
probe_settings 127.0.0.1 "$FAKE_PORT"
health
fake_done
check "a 503 answer: exit 1 ($ERR)" \
    sh -c "[ $RC -eq 1 ] && printf '%s' '$ERR' | grep -q 'answered 503'"

fake garbage
probe_settings 127.0.0.1 "$FAKE_PORT"
health
fake_done
check "an answer that is not HTTP: exit 1 ($ERR)" \
    sh -c "[ $RC -eq 1 ] && printf '%s' '$ERR' | grep -q 'not an HTTP answer'"

"$FALCONET" -c "$T/probe.yaml" health extra >/dev/null 2>&1
rc=$?
check "health takes no arguments (exit $rc)" [ "$rc" -eq 2 ]

# With tls.cert set, listen.port speaks HTTPS: the probe speaks TLS there,
# or goes to the plain listener (listen.http_port) when there is one.
. "$(dirname "$0")/../http/certs.sh"
certs_ca ca
certs_server srv ca
TLS="tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key"
export CURL_CA_BUNDLE=$CERTS/ca.crt
start_server 'listen:
  address: 127.0.0.1
  port: 0' "$TLS"
write_settings "$T/probe.yaml" "$(printf 'listen:\n  address: 127.0.0.1\n  port: %s' "$PORT")" "$TLS"
health
check "over HTTPS on listen.port: exit 0 (rc $RC, $ERR)" [ "$RC" -eq 0 ]
TLS_PORT=$PORT
stop_server
health
check "over HTTPS, once the server is gone: exit 1 (rc $RC)" [ "$RC" -eq 1 ]
start_server 'listen:
  address: 127.0.0.1
  port: 0
  http_port: 0' "$TLS"
HTTP_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (plain HTTP.*/\1/p' \
    "$T/server.log" "$T/server.out" 2>/dev/null | head -n 1)
write_settings "$T/probe.yaml" "$(printf 'listen:\n  address: 127.0.0.1\n  port: %s\n  http_port: %s' "$TLS_PORT" "$HTTP_PORT")" "$TLS"
health
check "with a plain listener beside HTTPS it is probed there: exit 0 (rc $RC, $ERR)" \
    [ "$RC" -eq 0 ]

finish
