#!/usr/bin/python3
"""A fleet of simulated hawkBit DDI devices, behaving like SWUpdate's suricatta.

Each device polls /{tenant}/controller/v1/{id} at the server's
config.polling.sleep (times --poll-scale, with jitter, at least --poll-min),
PUTs configData whenever the link is offered, follows deploymentBase (the
href verbatim), posts "Installing Update Chunk Artifacts.", HEADs and
streams the artifact while hashing it (verifying sha1 and size), resumes a
cut download with "Range: bytes=N-" (expecting 206 and an exact
Content-Range), posts "Downloaded N%" lines and a batch of SWUpdate log
lines, then either reports closed/failure at once, or posts "Installed
Chunk." / "All Chunks Installed.", "reboots" (waits one poll interval) and
reports closed/success "Update Installed." (or closed/failure "Update
Failed.").  A cancelAction link is answered as SWUpdate does (GET it, POST
closed/success to its /feedback), or rejected for the chosen share.  After
its result the device polls on, sending sw_version in configData.

With --token (a management token) the simulator also plays the operator:
for --cancel-rate of the devices it cancels their action (POST
/api/v1/actions/{id}/cancel) half way through their download; the device
notices on the re-poll it makes then (SWUpdate re-polls during downloads) and acknowledges or (--cancel-reject-rate)
rejects it.  A rejected cancel resumes the action: the device installs it
from the start and ends succeeded or failed.

The plan of every device (fail, cut, cancel, reject) is drawn from --seed,
so a run is reproducible and its expected outcome known in advance.

Every response status is counted per request kind; any 5xx is recorded.  A
transport error (connection refused or reset, timeout) is counted
separately and retried like a real client: the server may be restarted
under the fleet (tests/reliability/t0003).

Over HTTPS (an https:// --url), --cafile names the CA that verifies the
server, and --cert-dir DIR gives each device the client certificate
DIR/<controller id>.crt with its key DIR/<controller id>.key (which
authenticates it where the server takes device certificates): each
device then has a TLS context, and so connections, of its own.

--report FILE writes a JSON summary; the exit status is 0 when no request
was answered 5xx, no unexpected answer was seen and (with --until-done)
every device finished as planned.

Run it with /usr/bin/python3: Debian's python3-aiohttp is needed.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import signal
import ssl
import sys
import time

try:
    import aiohttp
    from yarl import URL
except ImportError:  # pragma: no cover
    sys.stderr.write("fleet.py: needs aiohttp (apt-get install python3-aiohttp; "
                     "run with /usr/bin/python3)\n")
    sys.exit(2)

ERROR_SAMPLES = 50
CLOSED_RETRIES = 20       # SWUpdate resends its final report until a 200
TRANSPORT_RETRY_S = 1.0   # wait after a refused or broken connection
LOG_LINES = [
    "[start_suricatta] : Server initialized, entering suricatta main loop.",
    "Software Update started !",
    "[network_initializer] : Software update started",
    "[extract_file_to_tmp] :  filename sw-description",
    "[swupdate_verify_file] : Verified OK",
    "[get_common_fields] : Version {version}",
    "[check_hw_compatibility] : Hardware {model} Revision: {revision}",
    "[check_hw_compatibility] : Hardware compatibility verified",
    "[install_single_image] : Found installer for stream payload.bin rawfile",
    "[install_raw_file] : Installing file payload.bin on /tmp/swupdate-acceptance/payload.bin",
]
FAIL_LINES = [
    "ERROR : Installer for payload.bin returned an error",
    "[install_images] : Installer for payload.bin not successful !",
    "ERROR : Image invalid or corrupted. Not installing ...",
]


def now_stamp():
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime())


def parse_hms(s):
    m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)", s or "")
    if not m:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))


def action_of(href):
    m = re.search(r"/(?:deploymentBase|cancelAction|installedBase)/(\d+)", href)
    return int(m.group(1)) if m else None


class Transport(Exception):
    """The request never got an HTTP answer."""


class Fleet:
    def __init__(self, args):
        self.a = args
        self.base = args.url.rstrip("/")
        self.sem = asyncio.Semaphore(args.concurrency)
        self.stop = asyncio.Event()
        self.all_done = asyncio.Event()
        self.session = None
        self.t0 = time.monotonic()
        self.by_kind = {}          # kind -> {status: n}
        self.by_status = {}
        self.requests = 0
        self.s5xx = 0
        self.transport = 0
        self.errors = 0
        self.error_types = {}
        self.error_samples = []
        self.latencies = []
        self.downloads = {"completed": 0, "resumed": 0, "bytes": 0,
                          "sha1_mismatch": 0, "size_mismatch": 0,
                          "restarted": 0}
        self.closed_410 = 0
        self.cancels_sent = 0
        self.finished = 0
        self.devices = []
        self.done_at = None

    # ----------------------------------------------------------------- stats

    def error(self, kind, msg):
        self.errors += 1
        self.error_types[kind] = self.error_types.get(kind, 0) + 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append("%.1fs %s: %s" % (
                time.monotonic() - self.t0, kind, msg[:300]))

    def count(self, kind, status, started):
        self.requests += 1
        k = str(status)
        self.by_status[k] = self.by_status.get(k, 0) + 1
        d = self.by_kind.setdefault(kind, {})
        d[k] = d.get(k, 0) + 1
        if len(self.latencies) < 2_000_000:
            self.latencies.append(time.monotonic() - started)
        if 500 <= status <= 599:
            self.s5xx += 1

    def count_transport(self, kind, what, exc):
        self.transport += 1
        d = self.by_kind.setdefault(kind, {})
        d["transport"] = d.get("transport", 0) + 1
        if self.a.verbose:
            sys.stderr.write("transport %s %s: %r\n" % (kind, what, exc))

    # -------------------------------------------------------------- requests

    def tls_context(self, cid=None):
        """The TLS context for the server (None: aiohttp's default), with
        device cid's client certificate when --cert-dir is given."""
        a = self.a
        if not a.cafile and not (cid and a.cert_dir):
            return None
        ctx = ssl.create_default_context(cafile=a.cafile or None)
        if cid and a.cert_dir:
            ctx.load_cert_chain(os.path.join(a.cert_dir, cid + ".crt"),
                                os.path.join(a.cert_dir, cid + ".key"))
        return ctx

    async def request(self, kind, method, url, headers=None, body=None,
                      want=(200,), what="", tls=None):
        """One request: (status, parsed JSON or raw bytes or None).
        Raises Transport when no answer came.  An answer not in `want`
        is recorded as an error (5xx counted as well)."""
        h = {"Accept": "application/json"}
        if headers:
            h.update(headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        async with self.sem:
            started = time.monotonic()
            try:
                async with self.session.request(
                        method, URL(url, encoded=True), headers=h,
                        data=data, allow_redirects=False,
                        ssl=tls or self.tls_default) as r:
                    raw = await r.read()
                    status = r.status
                    ctype = r.headers.get("Content-Type", "")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                self.count_transport(kind, what or url, e)
                raise Transport(repr(e)) from None
        self.count(kind, status, started)
        if status not in want:
            self.error("%s-%d" % (kind, status), "%s %s -> %d %s" % (
                method, url, status, raw[:200].decode("utf-8", "replace")))
        out = raw
        if raw and "json" in ctype:
            try:
                out = json.loads(raw)
            except ValueError:
                self.error(kind + "-badjson", "%s %s: %r" % (method, url, raw[:200]))
                out = None
        return status, out

    async def mgmt(self, method, path, body=None, want=(200,)):
        return await self.request(
            "mgmt", method, self.base + path,
            headers={"Authorization": "Bearer " + self.a.token},
            body=body, want=want)

    # ---------------------------------------------------------------- driver

    def done(self, dev):
        self.finished += 1
        if self.finished == len(self.devices):
            self.done_at = time.monotonic() - self.t0
            self.all_done.set()

    async def sleep(self, s):
        """Sleep s seconds unless the run stops; False when stopping."""
        if self.stop.is_set():
            return False
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=max(s, 0))
            return False
        except asyncio.TimeoutError:
            return True

    async def progress(self):
        while not self.stop.is_set():
            if not await self.sleep(self.a.progress_every):
                break
            if self.a.quiet:
                continue
            f = self.final_counts()
            sys.stderr.write(
                "fleet: %5.0fs finished %d/%d (succeeded %d failed %d "
                "canceled %d) requests %d 5xx %d errors %d transport %d\n" % (
                    time.monotonic() - self.t0, self.finished,
                    len(self.devices), f["succeeded"], f["failed"],
                    f["canceled"], self.requests, self.s5xx, self.errors,
                    self.transport))

    def final_counts(self):
        f = {"succeeded": 0, "failed": 0, "canceled": 0, "unfinished": 0}
        for d in self.devices:
            f[d.final or "unfinished"] += 1
        return f

    async def run(self):
        a = self.a
        conn = aiohttp.TCPConnector(limit=a.concurrency, limit_per_host=0,
                                    ttl_dns_cache=3600,
                                    enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10,
                                        sock_read=a.read_timeout)
        self.tls_default = self.tls_context()
        self.session = aiohttp.ClientSession(
            connector=conn, timeout=timeout, auto_decompress=False,
            headers={"User-Agent": "falconet-fleet/1.0"})
        self.devices = [Device(self, i) for i in range(a.devices)]
        loop = asyncio.get_running_loop()
        self.signaled = False

        def on_signal():
            self.signaled = True
            self.stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        if a.preregister:
            await self.preregister()
        tasks = [asyncio.ensure_future(d.main()) for d in self.devices]
        prog = asyncio.ensure_future(self.progress())
        waits = [asyncio.ensure_future(self.stop.wait())]
        if a.until_done:
            waits.append(asyncio.ensure_future(self.all_done.wait()))
        done, pending = await asyncio.wait(waits, timeout=a.duration,
                                           return_when=asyncio.FIRST_COMPLETED)
        if a.until_done and self.all_done.is_set() and a.linger > 0:
            # Keep polling a while: the steady state after the rollout.
            left = a.duration - self.done_at
            await self.sleep(min(a.linger, max(left, 0)))
        if a.until_done and self.all_done.is_set():
            self.stopped_by = "done"
        elif self.signaled:
            self.stopped_by = "signal"
        else:
            self.stopped_by = "duration"
        self.stop.set()
        for w in waits:
            w.cancel()
        # Devices notice the stop at their next sleep; requests in flight
        # may take up to the read timeout.
        _, pending = await asyncio.wait(tasks, timeout=a.read_timeout + 5)
        for t in pending:
            t.cancel()
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception():
                self.error("sim-crash", repr(t.exception()))
        prog.cancel()
        await self.session.close()
        self.elapsed = time.monotonic() - self.t0

    async def preregister(self):
        """Create every device with its TargetToken (device_auth token mode)."""
        sem = asyncio.Semaphore(32)

        async def one(d):
            async with sem:
                body = {"controller_id": d.cid}
                if d.token:
                    body["token"] = d.token
                try:
                    await self.mgmt("POST", "/api/v1/devices", body,
                                    want=(201, 409))
                except Transport:
                    self.error("preregister", d.cid)
        await asyncio.gather(*(one(d) for d in self.devices))

    def report(self):
        lat = sorted(self.latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000, 1) if lat else 0
        expected = {"succeeded": 0, "failed": 0, "canceled": 0}
        mismatched = []
        for d in self.devices:
            expected[d.expected()] += 1
            if d.final and d.final != d.expected():
                mismatched.append("%s: %s, planned %s" % (d.cid, d.final,
                                                          d.expected()))
        out = {
            "devices": len(self.devices),
            "elapsed_s": round(self.elapsed, 1),
            "all_done_s": round(self.done_at, 1) if self.done_at else None,
            "stopped_by": self.stopped_by,
            "final": self.final_counts(),
            "expected": expected,
            "mismatched": mismatched[:100],
            "mismatched_count": len(mismatched),
            "requests": {"total": self.requests, "by_status": self.by_status,
                         "by_kind": self.by_kind},
            "status_5xx": self.s5xx,
            "transport_errors": self.transport,
            "errors": {"count": self.errors, "by_type": self.error_types,
                       "samples": self.error_samples},
            "downloads": self.downloads,
            "closed_410_after_retry": self.closed_410,
            "cancels_sent": self.cancels_sent,
            "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                           "max": round(lat[-1] * 1000, 1) if lat else 0},
            "requests_per_s": round(self.requests / self.elapsed, 1)
            if self.elapsed else 0,
        }
        if self.a.per_device:
            out["per_device"] = {d.cid: {"final": d.final,
                                         "planned": d.expected(),
                                         "action": d.last_action}
                                 for d in self.devices}
        return out


class Device:
    def __init__(self, fleet, i):
        a = fleet.a
        self.f = fleet
        self.i = i
        self.cid = "%s%0*d" % (a.prefix, max(4, len(str(a.devices - 1))), i)
        rng = random.Random("%s/%d" % (a.seed, i))
        self.rng = rng
        self.plan_fail = rng.random() < a.fail_rate
        self.plan_cut = rng.random() < a.cut_rate
        self.plan_cancel = bool(a.token) and rng.random() < a.cancel_rate
        self.plan_reject = rng.random() < a.cancel_reject_rate
        self.fail_early = rng.random() < 0.5
        self.version = a.sw_version
        self.auth = {}
        self.token = None
        if a.gateway_token:
            self.auth = {"Authorization": "GatewayToken " + a.gateway_token}
        elif a.target_token:
            self.token = a.target_token.replace("{cid}", self.cid)
            self.auth = {"Authorization": "TargetToken " + self.token}
        self.poll_url = "%s/%s/controller/v1/%s" % (fleet.base, a.tenant,
                                                     self.cid)
        self.tls = fleet.tls_context(self.cid) if a.cert_dir else None
        self.sleep_s = 1.0
        self.final = None
        self.last_action = None
        self.closed_actions = set()
        self.installed_action = None   # installed, waiting for the "reboot"
        self.cancel_handled = False

    def expected(self):
        if self.plan_cancel and not self.plan_reject:
            return "canceled"
        return "failed" if self.plan_fail else "succeeded"

    def interval(self):
        a = self.f.a
        s = self.sleep_s * a.poll_scale
        s *= 1 + a.jitter * (2 * self.rng.random() - 1)
        return max(s, a.poll_min)

    async def req(self, kind, method, url, body=None, want=(200,), headers=None):
        h = dict(self.auth)
        if headers:
            h.update(headers)
        return await self.f.request(kind, method, url, headers=h, body=body,
                                    want=want, what=self.cid, tls=self.tls)

    def finish(self, state):
        """The result of an action.  The first one counts the device as
        finished; a later one (a second rollout) replaces it."""
        first = self.final is None
        self.final = state
        if first:
            self.f.done(self)

    # ------------------------------------------------------------- main loop

    async def main(self):
        f = self.f
        if not await f.sleep(f.a.ramp * self.rng.random()):
            return
        while not f.stop.is_set():
            try:
                wait = await self.cycle()
            except Transport:
                wait = max(TRANSPORT_RETRY_S, self.interval())
            if not await f.sleep(wait):
                return

    async def cycle(self):
        st, js = await self.req("poll", "GET", self.poll_url)
        if st != 200 or not isinstance(js, dict):
            return self.interval()
        s = parse_hms(((js.get("config") or {}).get("polling") or {}).get("sleep"))
        if s is None:
            self.f.error("poll-sleep", "%s: bad config.polling.sleep in %r" % (
                self.cid, js))
        else:
            self.sleep_s = s
        links = js.get("_links") or {}
        if "configData" in links:
            await self.config_data(links["configData"]["href"])
        if "cancelAction" in links:
            await self.cancel(links["cancelAction"]["href"])
        elif "deploymentBase" in links:
            await self.deployment(links["deploymentBase"]["href"])
        return self.interval()

    async def config_data(self, href):
        a = self.f.a
        data = {a.attr_model: a.hw_model, a.attr_revision: a.hw_revision}
        if self.version:
            data[a.attr_version] = self.version
        # SWUpdate's legacy fields ride along; the server must ignore them.
        body = {"id": "", "time": now_stamp(),
                "status": {"result": {"finished": "success"},
                           "execution": "closed", "details": [""]},
                "mode": "merge", "data": data}
        await self.req("config", "PUT", href, body)

    def feedback_body(self, execution, finished, details, cnt=None, of=None):
        result = {"finished": finished}
        if cnt is not None:
            result["progress"] = {"cnt": cnt, "of": of}
        return {"id": self.last_action, "time": now_stamp(),
                "status": {"result": result, "execution": execution,
                           "details": details}}

    async def feedback(self, fb_url, execution, finished, details, cnt=None,
                       of=None, want=(200,)):
        st, _ = await self.req("feedback", "POST", fb_url,
                               self.feedback_body(execution, finished, details,
                                                  cnt, of), want=want)
        return st

    # ------------------------------------------------------------ deployment

    async def deployment(self, href):
        aid = action_of(href)
        fb_url = href.split("?", 1)[0] + "/feedback"
        if aid in self.closed_actions:
            self.f.error("closed-offered", "%s: closed action %s offered again" % (
                self.cid, aid))
            return
        self.last_action = aid
        st, dep = await self.req("deployment", "GET", href)
        if st != 200 or not isinstance(dep, dict):
            return
        try:
            chunk = dep["deployment"]["chunks"][0]
            art = chunk["artifacts"][0]
            size = art["size"]
            sha1 = art["hashes"]["sha1"]
            links = art["_links"]
            dl = (links.get("download-http") or links["download"])["href"]
            version = chunk["version"]
            if not isinstance(dep["id"], str) or int(dep["id"]) != aid:
                raise ValueError("id %r is not the string of %s" % (dep["id"], aid))
            if dep["deployment"]["update"] not in ("forced", "attempt"):
                raise ValueError("update is %r" % dep["deployment"]["update"])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            self.f.error("deployment-shape", "%s: %r in %r" % (self.cid, e, dep))
            return
        if self.installed_action == aid:
            # After the "reboot": SWUpdate -c 2 (or -c 3) reports the result.
            await self.report_closed(fb_url, aid, not self.plan_fail,
                                     "Update Installed." if not self.plan_fail
                                     else "Update Failed.", version)
            return
        if await self.feedback(fb_url, "proceeding", "none",
                               ["Installing Update Chunk Artifacts."], 0, 1) != 200:
            return
        operator_cancel = self.plan_cancel and not self.cancel_handled
        st, _ = await self.req("head", "HEAD", dl, headers={
            "Accept": "application/octet-stream"})
        if st != 200:
            return
        ok = await self.download(dl, size, sha1, fb_url,
                                 check_cancel=operator_cancel)
        if ok is None:     # canceled (handled) or the download gave up
            return
        if not ok:
            await self.report_closed(fb_url, aid, False,
                                     "No suitable .swu image found", version)
            return
        lines = [l.format(version=version, model=self.f.a.hw_model,
                          revision=self.f.a.hw_revision) for l in LOG_LINES]
        if self.plan_fail and self.fail_early:
            await self.feedback(fb_url, "proceeding", "none",
                                lines[:6] + FAIL_LINES, 0, 0)
            await self.report_closed(fb_url, aid, False, "Update Failed.",
                                     version)
            return
        lines.append("SWUPDATE successful !")
        if await self.feedback(fb_url, "proceeding", "none", lines, 0, 0) != 200:
            return
        if await self.feedback(fb_url, "proceeding", "none",
                               ["Installed Chunk."], 1, 1) != 200:
            return
        if await self.feedback(fb_url, "proceeding", "none",
                               ["All Chunks Installed."], 1, 1) != 200:
            return
        # The action stays open; the result comes after the reboot, at
        # the next poll (hawkBit keeps the action open until closed).
        self.installed_action = aid

    async def report_closed(self, fb_url, aid, success, detail, version):
        """The final feedback, resent until it is answered (as SWUpdate's
        initial-report-resend-period).  A 410 after a lost answer means the
        first attempt was stored."""
        body = self.feedback_body("closed", "success" if success else "failure",
                                  [detail], 1 if success else 0, 1)
        tried = False
        for _ in range(CLOSED_RETRIES):
            if self.f.stop.is_set():
                return
            try:
                st, _ = await self.req("feedback", "POST", fb_url, body,
                                       want=(200, 410) if tried else (200,))
            except Transport:
                tried = True
                if not await self.f.sleep(TRANSPORT_RETRY_S):
                    return
                continue
            if st == 200 or (st == 410 and tried):
                if st == 410:
                    self.f.closed_410 += 1
                self.closed_actions.add(aid)
                self.installed_action = None
                if success:
                    self.version = version
                self.finish("succeeded" if success else "failed")
                return
            if st < 500:
                return      # recorded as an error by request()
            tried = True
            if not await self.f.sleep(TRANSPORT_RETRY_S):
                return

    async def download(self, url, size, sha1, fb_url, check_cancel):
        """Stream the artifact, hashing it.  True: complete and sha1 fits;
        False: wrong hash or size; None: canceled or given up."""
        f = self.f
        h = hashlib.sha1()
        got = 0
        cut_at = size // 2 if (self.plan_cut and size > 1) else None
        check_at = size // 2 if check_cancel else None
        reported = 0
        attempts = 0
        while got < size or size == 0:
            attempts += 1
            if attempts > 10 or f.stop.is_set():
                return None
            headers = dict(self.auth)
            headers["Accept"] = "application/octet-stream"
            if got:
                headers["Range"] = "bytes=%d-" % got
            stop_at = min(x for x in (cut_at, check_at, size) if x is not None)
            status = None
            try:
                async with f.sem:
                    started = time.monotonic()
                    async with f.session.get(URL(url, encoded=True),
                                             headers=headers,
                                             allow_redirects=False,
                                             ssl=self.tls or f.tls_default) as r:
                        status = r.status
                        f.count("download", status, started)
                        want = 206 if got else 200
                        crange = r.headers.get("Content-Range")
                        if status != want or (got and crange != "bytes %d-%d/%d" % (
                                got, size - 1, size)):
                            f.error("download-%d" % status,
                                    "%s: %s Range %s -> %d Content-Range %s" % (
                                        self.cid, url, headers.get("Range"),
                                        status, crange))
                            await r.read()
                            return None
                        async for chunk in r.content.iter_chunked(65536):
                            if got + len(chunk) > stop_at:
                                chunk = chunk[:stop_at - got]
                            h.update(chunk)
                            got += len(chunk)
                            f.downloads["bytes"] += len(chunk)
                            if got >= stop_at and stop_at < size:
                                break
                        if got < size:
                            r.close()    # cut the connection mid-body
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                if status is None:
                    f.count_transport("download", self.cid, e)
                else:
                    f.transport += 1
                if not await f.sleep(TRANSPORT_RETRY_S):
                    return None
                continue
            if size == 0:
                break
            if got < size and got != stop_at:
                # The server ended the body early: resume like SWUpdate.
                f.downloads["restarted"] += 1
                continue
            if check_at is not None and got >= check_at:
                check_at = None
                # The operator cancels while the device downloads.
                self.cancel_handled = True
                f.cancels_sent += 1
                try:
                    await f.mgmt("POST", "/api/v1/actions/%d/cancel" %
                                 self.last_action)
                except Transport:
                    pass
                # SWUpdate re-polls during a download and stops for a cancel.
                st, js = await self.req("poll", "GET", self.poll_url)
                links = {}
                if st == 200 and isinstance(js, dict):
                    links = js.get("_links") or {}
                if "cancelAction" in links:
                    await self.cancel(links["cancelAction"]["href"])
                    return None
                f.error("cancel-not-shown", "%s: no cancelAction after the "
                        "operator's cancel: %r" % (self.cid, js))
            if cut_at is not None and got >= cut_at:
                cut_at = None
                f.downloads["resumed"] += 1
            pct = got * 100 // size
            if got < size and pct > reported:
                reported = pct
                await self.feedback(fb_url, "proceeding", "none",
                                    ["Downloaded %d%%" % pct], 0, 1)
        f.downloads["completed"] += 1
        await self.feedback(fb_url, "proceeding", "none", ["Downloaded 100%"], 0, 1)
        if got != size:
            f.downloads["size_mismatch"] += 1
            f.error("size-mismatch", "%s: got %d bytes of %d" % (self.cid, got, size))
            return False
        if h.hexdigest() != sha1:
            f.downloads["sha1_mismatch"] += 1
            f.error("sha1-mismatch", "%s: sha1 %s, announced %s" % (
                self.cid, h.hexdigest(), sha1))
            return False
        return True

    # ---------------------------------------------------------------- cancel

    async def cancel(self, href):
        st, js = await self.req("cancel", "GET", href)
        if st != 200 or not isinstance(js, dict):
            return
        try:
            stop_id = int(js["cancelAction"]["stopId"])
        except (KeyError, TypeError, ValueError):
            self.f.error("cancel-shape", "%s: %r" % (self.cid, js))
            return
        reject = self.plan_cancel and self.plan_reject
        body = {"id": stop_id, "time": now_stamp(),
                "status": {"result": {"finished": "success"},
                           "execution": "rejected" if reject else "closed",
                           "details": ["cancellation rejected." if reject
                                       else "cancellation acknowledged."]}}
        st, _ = await self.req("cancel-feedback", "POST",
                               href.split("?", 1)[0] + "/feedback", body)
        if st != 200:
            return
        if reject:
            self.plan_cancel = False      # install it after all
            self.f.downloads["restarted"] += 1
        else:
            self.closed_actions.add(stop_id)
            self.installed_action = None
            self.finish("canceled")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="server base, e.g. http://127.0.0.1:8080")
    p.add_argument("--tenant", default="DEFAULT", help="hawkBit tenant in the device URLs")
    p.add_argument("--devices", type=int, default=100, help="how many devices")
    p.add_argument("--prefix", default="sim-",
                   help="controller ids are PREFIX0000, PREFIX0001, ...")
    p.add_argument("--fail-rate", type=float, default=0.05,
                   help="share of devices whose update fails")
    p.add_argument("--cut-rate", type=float, default=0.1,
                   help="share of devices whose download is cut once and resumed")
    p.add_argument("--cancel-rate", type=float, default=0.0,
                   help="share of devices whose action the simulator cancels "
                   "as the operator (needs --token)")
    p.add_argument("--cancel-reject-rate", type=float, default=0.0,
                   help="share of canceled devices that reject the cancel")
    p.add_argument("--token", default=os.environ.get("FLEET_TOKEN"),
                   help="management token (operator cancels, --preregister)")
    p.add_argument("--duration", type=float, default=3600,
                   help="stop after this many seconds (also with --until-done)")
    p.add_argument("--until-done", action="store_true",
                   help="stop once every device has its final result")
    p.add_argument("--linger", type=float, default=0,
                   help="with --until-done: poll on this many seconds after "
                   "the last result (within --duration)")
    p.add_argument("--concurrency", type=int, default=64,
                   help="most HTTP requests in flight")
    p.add_argument("--hw-model", default="sim-board",
                   help="hardware model sent in configData")
    p.add_argument("--hw-revision", default="1.0",
                   help="hardware revision sent in configData")
    p.add_argument("--sw-version", default="1.0.0",
                   help="installed version sent in configData ('' = none)")
    p.add_argument("--attr-model", default="hw_boardname",
                   help="configData attribute names (the server's attributes.*)")
    p.add_argument("--attr-revision", default="hw_revision")
    p.add_argument("--attr-version", default="sw_version")
    p.add_argument("--cafile", help="HTTPS: the CA (PEM) that verifies the server")
    p.add_argument("--cert-dir",
                   help="HTTPS: each device presents DIR/<id>.crt with DIR/<id>.key")
    p.add_argument("--gateway-token", help="send 'Authorization: GatewayToken T'")
    p.add_argument("--target-token",
                   help="per-device TargetToken, '{cid}' is replaced, e.g. tok-{cid}")
    p.add_argument("--preregister", action="store_true",
                   help="create the devices (with their TargetToken) first; needs --token")
    p.add_argument("--poll-scale", type=float, default=1.0,
                   help="multiply the server's polling sleep")
    p.add_argument("--poll-min", type=float, default=0.2,
                   help="shortest sleep between polls, seconds")
    p.add_argument("--jitter", type=float, default=0.2,
                   help="random +- share of the sleep")
    p.add_argument("--ramp", type=float, default=None,
                   help="spread the first polls over this many seconds "
                   "(default: devices/500, at most 10)")
    p.add_argument("--read-timeout", type=float, default=30,
                   help="seconds without data before a request is a transport error")
    p.add_argument("--seed", default="falconet",
                   help="the devices' plans (fail, cut, cancel) derive from it")
    p.add_argument("--report", help="write the JSON summary here")
    p.add_argument("--per-device", action="store_true",
                   help="add every device's final and planned state to the report")
    p.add_argument("--progress-every", type=float, default=5)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()
    if a.ramp is None:
        a.ramp = min(10.0, a.devices / 500.0)
    if a.preregister and not a.token:
        p.error("--preregister needs --token")
    if a.cancel_rate and not a.token:
        p.error("--cancel-rate needs --token (the simulator cancels as the operator)")
    fleet = Fleet(a)
    asyncio.run(fleet.run())
    rep = fleet.report()
    text = json.dumps(rep, indent=1, sort_keys=True)
    if a.report:
        tmp = a.report + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
        os.replace(tmp, a.report)
    if not a.quiet:
        short = {k: rep[k] for k in ("elapsed_s", "all_done_s", "stopped_by", "final",
                                     "expected", "status_5xx", "transport_errors",
                                     "requests_per_s", "latency_ms")}
        short["requests"] = rep["requests"]["total"]
        short["errors"] = rep["errors"]["count"]
        sys.stderr.write("fleet: " + json.dumps(short, sort_keys=True) + "\n")
        for s in rep["errors"]["samples"][:10]:
            sys.stderr.write("fleet: error " + s + "\n")
    ok = rep["status_5xx"] == 0 and rep["errors"]["count"] == 0 and \
        rep["mismatched_count"] == 0
    if a.until_done and rep["stopped_by"] != "done":
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
