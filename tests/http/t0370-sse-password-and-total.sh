#!/usr/bin/env bash
# Live event streams and password changes, and the cap on streams in
# total (finding #6, the cases t0232 leaves out):
#  - a password change, by the user (/me/password) or by an administrator
#    (PATCH /api/v1/users/NAME), ends the user's sessions and with them
#    the streams they opened, within seconds;
#  - it ends the user's personal tokens too, and their streams, unless the
#    request says keep_tokens: true, in which case a token's stream goes on;
#  - however many principals ask, at most 256 streams are open in total:
#    the 257th gets 503 busy with Retry-After, and a stream that closes
#    gives its place back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operators.sh"
. "$(dirname "$0")/sse.sh"

# One address opens the 256 streams below: no per-address limit here.
start_server "$FAST" 'http:
  per_ip_limit: 0'
TOKEN=$(make_token admin)
setup_open_action 2K
EV=/api/v1/devices/dev-x/events

api_json POST /api/v1/users \
    '{"username":"ro","password":"ro-password-1","role":"readonly"}'
expect_status 201 "create user ro"

SSE_MAX_TIME=60

N=0
# live NAME PID: the stream is open and delivers a line.
live()
{
	N=$((N + 1))
	check "$1: the stream is open" wait_for 3 has "$1" '^id: '
	feedback dev-x "$ACT" proceeding none "LIVE-$N"
	check "$1: the stream delivers a line" wait_for 5 has "$1" "LIVE-$N"
}
# ended NAME PID: the stream ends within 5 s; a line sent after is not in it.
ended()
{
	N=$((N + 1))
	check "$1: the stream ends within 5 s" wait_for 5 gone "$2"
	feedback dev-x "$ACT" proceeding none "AFTER-$N"
	sleep 1
	check "$1: nothing after it" sh -c "! grep -q AFTER-$N '$T/sse.$1'"
}

# --- the user changes the password: session and token streams end -----------------------
login ro ro-password-1
S1=$COOKIE
C1=$CSRF
PT=$(personal_token)
stream own-session -H "Cookie: falconet_session=$S1"
P1=$SSE_PID
stream own-token -H "Authorization: Bearer $PT"
P2=$SSE_PID
live own-session
live own-token
post_json /api/v1/me/password \
    '{"current":"ro-password-1","new":"ro-password-2"}' \
    -H "Cookie: falconet_session=$S1" -H "X-CSRF-Token: $C1"
expect_status 204 "ro changes its password"
ended own-session "$P1"
ended own-token "$P2"
req GET "$EV" -H "Authorization: Bearer $PT"
expect_status 401 "the token is gone: a new stream with it is 401"

# --- keep_tokens: the token's stream goes on, the session's ends -------------------------
login ro ro-password-2
S2=$COOKIE
C2=$CSRF
PT=$(personal_token)
stream kept-session -H "Cookie: falconet_session=$S2"
P1=$SSE_PID
stream kept-token -H "Authorization: Bearer $PT"
P2=$SSE_PID
live kept-session
live kept-token
post_json /api/v1/me/password \
    '{"current":"ro-password-2","new":"ro-password-3","keep_tokens":true}' \
    -H "Cookie: falconet_session=$S2" -H "X-CSRF-Token: $C2"
expect_status 204 "ro changes its password, keeping its tokens"
ended kept-session "$P1"
sleep 3
check "keep_tokens: the token's stream is still open" kill -0 "$P2"
feedback dev-x "$ACT" proceeding none "KEPT-LINE"
check "keep_tokens: and still delivers" wait_for 5 has kept-token KEPT-LINE
kill "$P2" 2>/dev/null
wait "$P2" 2>/dev/null

# --- an administrator sets the password: the user's streams end --------------------------
login ro ro-password-3
PT=$(personal_token)
stream admin-session -H "Cookie: falconet_session=$COOKIE"
P1=$SSE_PID
stream admin-token -H "Authorization: Bearer $PT"
P2=$SSE_PID
live admin-session
live admin-token
api_json PATCH /api/v1/users/ro '{"password":"ro-password-4"}'
expect_status 200 "an administrator sets ro's password"
ended admin-session "$P1"
ended admin-token "$P2"

# --- 256 streams in total ------------------------------------------------------------------
# 32 machine tokens hold 8 streams each (http.sse_per_user's default):
# every slot of the hub.  hold.py opens them on raw sockets and keeps
# them until $T/stop exists; it prints "open=N" once they are all
# answered.
TOKENS=()
for i in $(seq 1 33); do
	TOKENS+=("$(make_token "w$i")")
done
cat >"$T/hold.py" <<'PYEOF'
import os, socket, sys, time
port, path, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tokens = sys.argv[4:]
socks, codes = [], {}
for t in tokens:
    for k in range(8):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (path, t)).encode())
        socks.append(s)
for s in socks:
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    code = head.split(b" ")[1].decode() if head else "close"
    codes[code] = codes.get(code, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(codes.items())), flush=True)
while not os.path.exists(stop):
    time.sleep(0.1)
for s in socks:
    s.close()
PYEOF
python3 "$T/hold.py" "$PORT" "$EV" "$T/stop" "${TOKENS[@]:0:32}" >"$T/hold.out" 2>&1 &
HOLDER=$!
check "32 tokens open 8 streams each: 256 answered 200" \
    wait_for 30 grep -q '^200=256$' "$T/hold.out"
req GET "$EV" -H "Authorization: Bearer ${TOKENS[32]}"
expect_status 503 "the 257th stream, from a 33rd token -> 503"
expect_error busy
check "  with Retry-After" [ -n "$(header Retry-After)" ]
req GET "$EV" -H "Authorization: Bearer $TOKEN"
expect_status 503 "the administrator's token too: the cap is in total"
api GET /api/v1/devices/dev-x
expect_status 200 "the rest of the API is served meanwhile"
ddi GET dev-x
expect_status 200 "and devices"
touch "$T/stop"
wait "$HOLDER"
free_again()
{
	[ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
	    -H "Authorization: Bearer ${TOKENS[32]}" "$BASE$EV")" = 200 ]
}
# A parked stream notices its client left at the next ping or two.
check "closed streams give their places back" wait_for 15 free_again
alive "256 streams"

finish
