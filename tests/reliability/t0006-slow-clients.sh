#!/usr/bin/env bash
# 1,000 slow connections (security findings #8, the long version of
# tests/http/t0250): 16 hosts (loopback aliases 127.0.0.11..26) each hold
# 63 connections whose heads trickle in, a header line every 2 s, for 12
# s.  With the default settings but a 5 s http.request_timeout, the daemon
# keeps serving polls from another host throughout, closes every slow
# connection once its head is overdue however many bytes keep coming, and
# has no descriptor and little memory left from them afterwards.
. "$(dirname "$0")/../http/lib.sh"

SLOW=(/usr/bin/python3 "$(dirname "$0")/../http/slowclients.py")
val() { echo "$2" | sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; }

start_server 'http:
  request_timeout: 5'
curl -s -o /dev/null "$BASE/DEFAULT/controller/v1/dev-1"
fds0=$(ls "/proc/$SERVER_PID/fd" | wc -l)
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")

hosts=$(seq -s, -f '127.0.0.%g' 11 26)
"${SLOW[@]}" hold "$PORT" 1008 12 2 --from "$hosts" \
    --check /DEFAULT/controller/v1/dev-1 --check-from 127.0.0.100 >"$T/hold.out" &
holder=$!
sleep 3
fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
check "1,008 slow connections from 16 hosts are open ($fds descriptors, $fds0 idle)" \
    [ "$fds" -ge $((fds0 + 900)) ]
wait "$holder"
out=$(cat "$T/hold.out")
check "none refused: 63 a host is under the default per_ip_limit 64 ($out)" \
    [ "$(val refused "$out")" = 0 ]
check "every one closed by the server ($out)" [ "$(val closed "$out")" = 1008 ]
check "  after request_timeout 5 s: the first at $(val first_close "$out") s, the last at $(val last_close "$out") s" \
    awk -v a="$(val first_close "$out")" -v b="$(val last_close "$out")" \
    'BEGIN { exit !(a >= 5 && b < 9) }'
check "polls from another host all served meanwhile ($out)" \
    sh -c "echo '$out' | grep -Eq 'checks=([0-9]+)/\\1 '" &&
    [ "$(val checks "$out")" -ge 20 ]
check "  within a second each (the slowest $(val worst_ms "$out") ms)" \
    [ "$(val worst_ms "$out")" -lt 1000 ]
fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
check "the descriptors are back ($fds, $fds0 before)" [ "$fds" -le $((fds0 + 4)) ]
check "RSS $((rss / 1024)) MiB after, $((rss0 / 1024)) MiB before" [ "$rss" -lt $((rss0 + 65536)) ]
check "one warning a second at most for the closes" \
    [ "$(grep -c 'closed [0-9]* slow connections' "$T/server.log")" -le 10 ]
alive "1,000 slow connections"
finish
