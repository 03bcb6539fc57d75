#!/bin/bash
# t0005: a download cut halfway is resumed with Range.
# SWUpdate talks to the server through a small TCP proxy that, once, cuts the
# connection of the artifact GET after DROP_AFTER response bytes.  swupdate
# waits retrywait and resumes with "Range: bytes=N-"; the server answers 206
# and the install succeeds with a byte-identical payload.
. "$(dirname "$0")/lib-e2e.sh"

CID=e2e-resume-001
IMG=$T/img/test-3.0.0.swu
PAYLOAD=$T/install/payload.bin
DROP_AFTER=700000

e2e_start_server "$(printf 'device_auth:\n  mode: open')"
make_swu "$IMG" 3.0.0 -r 1.0,1.1 -s 2M -d "$PAYLOAD" || { fail "mkswu builds the image"; finish; }
swu_member "$IMG" payload.bin "$T/expected-payload.bin" || fail "payload.bin extracted from the image"
upload "$IMG"
expect_status 201 "upload of a 2 MiB image"
[ -n "$SW_ID" ] || { failv "upload returned an id" "$BODY"; finish; }
create_rollout "$SW_ID"
expect_status 201 "rollout on feed default"

# The proxy: forwards everything; the first connection that carries a GET of
# an artifact without a Range header is aborted after DROP_AFTER bytes of
# response.  Prints "port N" once listening, "dropped ..." when it cuts.
cat > "$T/dropproxy.py" <<'EOF'
import asyncio, re, sys

upstream_port, drop_after = int(sys.argv[1]), int(sys.argv[2])
dropped = False

def say(msg):
    print(msg, flush=True)

async def handle(cr, cw):
    global dropped
    try:
        sr, sw = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError as e:
        say("upstream connect failed: %s" % e)
        cw.close()
        return
    st = {"armed": False, "count": 0}

    async def c2s():
        try:
            while True:
                d = await cr.read(65536)
                if not d:
                    break
                if (not dropped and re.search(rb"^GET [^ ]*/artifacts/", d, re.M)
                        and not re.search(rb"^range:", d, re.M | re.I)):
                    st["armed"], st["count"] = True, 0
                sw.write(d)
                await sw.drain()
            if sw.can_write_eof():
                sw.write_eof()
        except (ConnectionError, OSError):
            pass

    async def s2c():
        global dropped
        try:
            while True:
                d = await sr.read(65536)
                if not d:
                    break
                if st["armed"] and not dropped:
                    room = drop_after - st["count"]
                    if len(d) >= room:
                        cw.write(d[:room])
                        await cw.drain()
                        dropped = True
                        say("dropped connection after %d response bytes" % drop_after)
                        cw.transport.abort()
                        sw.transport.abort()
                        return
                    st["count"] += len(d)
                cw.write(d)
                await cw.drain()
            cw.close()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(c2s(), s2c())
    for w in (cw, sw):
        try:
            w.close()
        except Exception:
            pass

async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    say("port %d" % srv.sockets[0].getsockname()[1])
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
EOF
"$PY" -u "$T/dropproxy.py" "$PORT" "$DROP_AFTER" > "$T/proxy.log" 2>&1 &
PROXY_PID=$!
track_pid "$PROXY_PID"
if ! wait_for 10 grep -q '^port ' "$T/proxy.log"; then
	failv "proxy starts" "$(cat "$T/proxy.log")"
	finish
fi
PROXY=http://127.0.0.1:$(sed -n 's/^port //p' "$T/proxy.log" | head -n1)
note "proxy pid $PROXY_PID at $PROXY"

run_client URL="$PROXY" CONTROLLER_ID=$CID HW=testboard:1.1 DURATION=60 \
	RETRY=5 RETRYWAIT=1 \
	STOP_ON='Update successful, executing post-update actions|Error processing update chunk' \
	LOG="$T/run1.log"
rc=$?
if [ $rc -eq 0 ] && grep -q 'Update successful' "$T/run1.log"; then
	pass "swupdate installed the update through the cut"
else
	failv "swupdate installed the update through the cut" "client exit $rc"
	show_log "$T/run1.log" 40
fi
check "the proxy cut the artifact download once" grep -q '^dropped connection' "$T/proxy.log"
check "swupdate waited retrywait and retried the download" \
	grep -qE 'Channel sleeps for [0-9]+ seconds now' "$T/run1.log"
ART="method=GET path=/DEFAULT/controller/v1/$CID/softwaremodules/[0-9]+/artifacts/[^ ]+"
check "server: first artifact GET answered 200" grep -qE "$ART status=200" "$SERVER_LOG"
if grep -qE "$ART status=206" "$SERVER_LOG"; then
	pass "server: resumed artifact GET answered 206"
else
	failv "server: resumed artifact GET answered 206" \
		"$(grep -E "path=/DEFAULT/controller/v1/$CID/softwaremodules/" "$SERVER_LOG" | head -n5)"
fi
# bytes= of the 206 + what the proxy let through (headers included) should
# add up to at least the file size
PART=$(grep -E "$ART status=206" "$SERVER_LOG" | head -n1 | grep -oE 'bytes=[0-9]+' | cut -d= -f2)
if [ -n "$PART" ] && [ "$PART" -lt "$SWU_SIZE" ] && [ "$PART" -gt $((SWU_SIZE - DROP_AFTER)) ]; then
	pass "206 carried only the rest of the image ($PART of $SWU_SIZE bytes)"
else
	failv "206 carried only the rest of the image" "bytes=${PART:-?} of $SWU_SIZE, cut at $DROP_AFTER"
fi
if [ -f "$PAYLOAD" ] && cmp -s "$PAYLOAD" "$T/expected-payload.bin"; then
	pass "payload installed byte-identical ($(stat -c %s "$PAYLOAD") bytes)"
else
	failv "payload installed byte-identical" \
		"installed: $(stat -c %s "$PAYLOAD" 2>&1)" \
		"expected:  $(stat -c %s "$T/expected-payload.bin" 2>&1)"
fi

run_client URL="$PROXY" CONTROLLER_ID=$CID HW=testboard:1.1 CONFIRM=2 DURATION=20 \
	STOP_ON='Server initialized, entering suricatta main loop' LOG="$T/run2.log" ||
	show_log "$T/run2.log"
if wait_for 10 action_status_is "$CID" succeeded; then
	pass "action succeeded"
else
	failv "action succeeded" "$(action_json "$CID")"
fi
api GET "/api/v1/devices/$CID"
expect_eq "installed_version" "$(jbody '.installed_version // empty')" 3.0.0

finish
