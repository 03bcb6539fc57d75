#!/usr/bin/env bash
# Slow clients (security findings #8): with the default settings one host
# cannot take the server down by holding trickling connections.  It holds
# at most http.per_ip_limit (64) and other hosts are served meanwhile; a
# head that trickles in is closed after http.request_timeout however many
# bytes keep coming, and a body slower than http.body_min_rate after the
# same grace, while a kept-alive connection may still idle for http.timeout;
# a trusted proxy is not limited as one client; connection_limit stays
# below the open-file limit the process can raise itself to.  Other hosts
# are loopback aliases (127.0.0.2...): Linux routes 127.0.0.0/8 to lo.
# tests/reliability/t0006-slow-clients.sh holds 1,000 connections.
. "$(dirname "$0")/lib.sh"

SLOW=(/usr/bin/python3 "$(dirname "$0")/slowclients.py")

# val KEY LINE: the number after KEY= in a slowclients.py line.
val() { echo "$2" | sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; }
# between LO HI X: LO <= X < HI (floats).
between() { awk -v a="$1" -v b="$2" -v x="$3" 'BEGIN { exit !(x != "" && x + 0 >= a && x + 0 < b) }'; }

# --- the defaults, with a short request_timeout -----------------------------
start_server 'http:
  request_timeout: 4'
TOKEN=$(make_token admin)

out=$("${SLOW[@]}" hold "$PORT" 66 3 0.5 --check /healthz --check-from 127.0.0.2)
check "one host holds at most 64 trickling connections ($out)" \
    [ "$(val held "$out")" = 64 ] && [ "$(val refused "$out")" = 2 ]
check "another host is served meanwhile ($out)" \
    sh -c "echo '$out' | grep -Eq 'checks=([0-9]+)/\\1 '" &&
    [ "$(val checks "$out")" -ge 4 ]
check "  and quickly ($(val worst_ms "$out") ms)" [ "$(val worst_ms "$out")" -lt 1000 ]
check "  the log tells the refusals" \
    grep -q 'refused 2 connections over http.per_ip_limit 64 (the last from 127.0.0.1;' "$T/server.log"
alive "holding 64 connections"

out=$("${SLOW[@]}" hold "$PORT" 1 9 0.5)
check "a head trickled in, a line every 0.5 s, is closed after request_timeout 4 s ($out)" \
    between 4 6.5 "$(val first_close "$out")"
check "  (idle timeout 60 s: the bytes kept it from that)" \
    grep -q 'closed 1 slow connection (the last from 127.0.0.1: request head not complete within http.request_timeout)' "$T/server.log"

out=$("${SLOW[@]}" keepalive "$PORT" 6)
check "a kept-alive connection may idle past request_timeout, within http.timeout ($out)" \
    [ "$out" = "200 200" ]

printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n' \
    "$TOKEN" >"$T/head"
out=$("${SLOW[@]}" body "$PORT" 200 15 "$T/head")
check "a body at 200 bytes/s is closed: body_min_rate 1024 after 4 s ($out)" \
    sh -c "echo '$out' | grep -q '^closed after'" &&
    between 4.5 7.5 "$(echo "$out" | sed -n 's/closed after \([0-9.]*\) s/\1/p')"
check "  the log says why" grep -q 'request body slower than http.body_min_rate' "$T/server.log"
printf 'POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 24000\r\n\r\n' \
    "$TOKEN" >"$T/head"
out=$("${SLOW[@]}" body "$PORT" 4000 15 "$T/head")
check "a body at 4,000 bytes/s taking 6 s is read whole and answered ($out)" \
    sh -c "echo '$out' | grep -q '^answered 400 after [5-9]'"
alive "slow bodies"

# --- a trusted proxy is not one client ---------------------------------------
start_server 'http:
  per_ip_limit: 4' 'proxy:
  trusted: [ "127.0.0.1/32" ]'
out=$("${SLOW[@]}" hold "$PORT" 10 1.5 0.5)
check "per_ip_limit 4: the trusted proxy 127.0.0.1 holds 10 connections ($out)" \
    [ "$(val held "$out")" = 10 ] && [ "$(val refused "$out")" = 0 ]
out=$("${SLOW[@]}" hold "$PORT" 6 1.5 0.5 --from 127.0.0.3)
check "  another address holds 4 of 6 ($out)" \
    [ "$(val held "$out")" = 4 ] && [ "$(val refused "$out")" = 2 ]
# A client that hung up stops counting once the guard sees it (it looks
# once a second), whenever libmicrohttpd gets round to cleaning the
# connection up.  Tries for 16 s at most (a busy machine delays both).
for try in 1 2 3 4 5 6 7 8; do
	sleep 0.5
	out=$("${SLOW[@]}" hold "$PORT" 6 1.5 0.5 --from 127.0.0.3)
	[ "$(val held "$out")" = 4 ] && break
done
check "  and 4 again once they closed ($out, try $try)" [ "$(val held "$out")" = 4 ]

# --- the open-file limit -------------------------------------------------------
REAL=$FALCONET
printf '#!/bin/sh\nulimit -n 256 || exit 1\nexec "%s" "$@"\n' "$REAL" >"$T/ulimit-256"
chmod +x "$T/ulimit-256"
FALCONET=$T/ulimit-256
start_server
FALCONET=$REAL
line=$(grep 'http.connection_limit 4096 lowered to' "$T/server.log" | tail -1)
limit=$(echo "$line" | sed -n 's/.*lowered to \([0-9]*\):.*/\1/p')
check "under ulimit -n 256: a warning that connection_limit 4096 was lowered ($limit)" \
    [ -n "$limit" ] && [ "$limit" -gt 16 ] && [ "$limit" -lt 128 ]
check "  it names the open-file limit" grep -q 'lowered to [0-9]*: the process may open 256 files (RLIMIT_NOFILE)' "$T/server.log"
# 150 connections from three hosts: the server takes $limit, the others
# wait in the kernel's backlog; it never runs out of descriptors.
"${SLOW[@]}" hold "$PORT" 150 3 0.5 --from 127.0.0.2,127.0.0.3,127.0.0.4 >"$T/hold.out" &
holder=$!
sleep 2
fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
wait "$holder"
check "  150 connections from three hosts: the daemon holds $fds descriptors of 256" \
    [ "$fds" -gt "$limit" ] && [ "$fds" -lt 200 ]
check "  no 'Too many open files' in the log" sh -c "! grep -qi 'too many open files' '$T/server.log'"
check "  served again once they left" wait_for 5 sh -c \
    "curl -s -m 2 -o /dev/null -w '%{http_code}' '$BASE/healthz' | grep -q 200"

printf '#!/bin/sh\nulimit -Sn 256 || exit 1\nexec "%s" "$@"\n' "$REAL" >"$T/soft-256"
chmod +x "$T/soft-256"
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 1024 ]; then
	FALCONET=$T/soft-256
	start_server
	FALCONET=$REAL
	check "a soft limit of 256 is raised to the hard limit $hard" \
	    grep -q "open-file limit raised from 256 to $hard" "$T/server.log"
	check "  /proc says so" sh -c "awk '/^Max open files/ { exit !(\$4 == \"$hard\") }' /proc/$SERVER_PID/limits"
else
	skip "a soft limit of 256 is raised to the hard limit" "hard limit $hard"
fi

finish
