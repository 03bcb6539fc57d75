#!/usr/bin/python3
"""Feedback bursts for tests/reliability/t0002-kill-during-feedback.sh.

  feedback_burst.py setup URL PREFIX N OUT
      N devices PREFIX0000.. poll, PUT configData (hw_revision 1.0), poll
      again, GET their deploymentBase and post "Installing Update Chunk
      Artifacts."; OUT gets one "CID ACTION_ID" line per device.  Exit 1 if
      a device got no action.

  feedback_burst.py burst URL DEVICES_FILE PER_DEVICE CONCURRENCY OK_FILE BAD_FILE
      Every device posts PER_DEVICE proceeding feedbacks, one at a time,
      each with a unique details line "burst CID SEQ NONCE" (and a
      "Downloaded N%" line).  Each feedback answered 200 is appended to
      OK_FILE ("CID ACTION SEQ NONCE") and flushed before the next one is
      sent; any other answer goes to BAD_FILE.  A device stops at its first
      transport error (the daemon was killed).

Run with /usr/bin/python3 (Debian's python3-aiohttp).
"""

import asyncio
import json
import os
import secrets
import sys

import aiohttp
from yarl import URL

HDR = {"Accept": "application/json"}


async def setup(url, prefix, n, out):
    sem = asyncio.Semaphore(32)
    lines = {}
    async with aiohttp.ClientSession() as s:
        async def one(i):
            cid = "%s%04d" % (prefix, i)
            base = "%s/DEFAULT/controller/v1/%s" % (url, cid)
            async with sem:
                async with s.get(base, headers=HDR) as r:
                    await r.read()
                async with s.put(base + "/configData", headers=HDR, json={
                        "mode": "merge", "data": {"hw_boardname": "b",
                                                  "hw_revision": "1.0"}}) as r:
                    if r.status != 200:
                        return
                async with s.get(base, headers=HDR) as r:
                    js = await r.json()
                href = (js.get("_links") or {}).get("deploymentBase", {}).get("href")
                if not href:
                    return
                async with s.get(URL(href, encoded=True), headers=HDR) as r:
                    dep = await r.json()
                fb = href.split("?")[0] + "/feedback"
                async with s.post(fb, headers=HDR, json={"status": {
                        "execution": "proceeding", "result": {"finished": "none"},
                        "details": ["Installing Update Chunk Artifacts."]}}) as r:
                    if r.status != 200:
                        return
                lines[cid] = dep["id"]
        await asyncio.gather(*(one(i) for i in range(n)))
    with open(out, "w") as f:
        for cid in sorted(lines):
            f.write("%s %s\n" % (cid, lines[cid]))
    return 0 if len(lines) == n else 1


async def burst(url, devfile, per, conc, okfile, badfile):
    devices = [l.split() for l in open(devfile) if l.strip()]
    sem = asyncio.Semaphore(conc)
    ok = open(okfile, "a", buffering=1)
    bad = open(badfile, "a", buffering=1)
    conn = aiohttp.TCPConnector(limit=conc)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s:
        async def one(cid, aid):
            fb = "%s/DEFAULT/controller/v1/%s/deploymentBase/%s/feedback" % (
                url, cid, aid)
            for seq in range(per):
                nonce = secrets.token_hex(6)
                line = "burst %s %d %s" % (cid, seq, nonce)
                body = {"id": aid, "time": "20261125T000000", "status": {
                    "execution": "proceeding",
                    "result": {"finished": "none",
                               "progress": {"cnt": 0, "of": 1}},
                    "details": ["Downloaded %d%%" % (seq * 100 // per), line]}}
                try:
                    async with sem:
                        async with s.post(fb, headers=HDR, json=body) as r:
                            await r.read()
                            st = r.status
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    return
                if st == 200:
                    ok.write("%s %s %d %s\n" % (cid, aid, seq, nonce))
                    ok.flush()
                else:
                    bad.write("%s %s %d %d\n" % (cid, aid, seq, st))
        await asyncio.gather(*(one(c, a) for c, a in devices))
    ok.close()
    bad.close()
    return 0


def main():
    a = sys.argv[1:]
    if a[:1] == ["setup"] and len(a) == 5:
        sys.exit(asyncio.run(setup(a[1], a[2], int(a[3]), a[4])))
    if a[:1] == ["burst"] and len(a) == 7:
        sys.exit(asyncio.run(burst(a[1], a[2], int(a[3]), int(a[4]), a[5], a[6])))
    sys.stderr.write(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
