#!/usr/bin/python3
"""A DDI device that behaves like rauc-hawkbit-updater, installing with RAUC.

Follows rauc/rauc-hawkbit-updater (src/hawkbit-client.c @227a2f3) on the
wire: poll GET /{tenant}/controller/v1/{id}; when _links.configData is
present PUT the [device] attributes (--attr) with closed/success; when
_links.deploymentBase is present fetch it, take its single chunk and single
artifact (several of either: closed/failure "Deployment N unsupported: cannot
handle multiple chunks." as the real client), download
_links.download.href (else download-http) with Accept:
application/octet-stream, post proceeding "Download complete. X MB/s", check
the announced sha1 (closed/failure "Software: NAME VVERSION. Invalid
checksum: ..." on mismatch), post proceeding "File checksum OK.", run `rauc
install FILE` (the RAUC D-Bus service is found through
DBUS_SYSTEM_BUS_ADDRESS), post each of its progress lines as a proceeding
feedback and end with closed/success "Software bundle installed
successfully." or closed/failure "Failed to install software bundle." plus
RAUC's error message (its "LastError: ..." line) as a second detail.
A deployment with update "skip" is downloaded and checked only (downloaded/
success "File checksum OK.").  A cancelAction link is acknowledged with
closed/success "Action canceled." (nothing is ever installing between
polls here).  Requests answered 409 or 429 are retried up to 10 times, 1 s
apart.  Every request carries "Authorization: TargetToken T" with --token,
"Authorization: GatewayToken T" with --gateway-token.

Usage:
  rauc_device.py --url http://127.0.0.1:PORT --id DEVICE [--tenant DEFAULT]
      [--token T | --gateway-token T] [--attr key=value]... [--once]
      [--timeout SECONDS] [--bundle FILE] [--rauc PATH] [--max-sleep S]

--once: one cycle (poll, configData if asked, the offered deployment if
any), then exit 0 if every step succeeded (nothing offered counts as
success), 1 if not; like rauc-hawkbit-updater -r.  Without --once the
device polls at the server's polling.sleep (at most --max-sleep seconds)
until --timeout passes (exit 0) or SIGTERM.  --timeout bounds the whole run
(default 60 s; 0 = no bound); an install still running then is killed and
reported as failed.  Standard library only.  Log lines go to stdout.
"""

import argparse
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

USER_AGENT = "rauc-hawkbit-c-agent/1.0"  # what rauc-hawkbit-updater sends
RETRY_CODES = (409, 429)
RETRIES = 10


class DeviceError(Exception):
    """A failure of the cycle; the message is what the device reports."""


def log(msg):
    print("rauc_device: %s" % msg, flush=True)


def now_time():
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime())


class Device:
    def __init__(self, args):
        self.args = args
        self.base = "%s/%s/controller/v1/%s" % (
            args.url.rstrip("/"), args.tenant,
            urllib.parse.quote(args.id, safe=""))
        self.attrs = {}
        for kv in args.attr:
            k, sep, v = kv.partition("=")
            if not sep or not k:
                raise SystemExit("--attr wants key=value, got %r" % kv)
            self.attrs[k] = v
        self.deadline = (time.monotonic() + args.timeout
                         if args.timeout > 0 else None)
        self.child = None
        self.bundle = args.bundle or os.path.join(
            os.environ.get("TMPDIR", "/tmp"),
            "rauc_device-%s-%d.raucb" % (args.id, os.getpid()))

    # ------------------------------------------------------------ HTTP

    def remaining(self, cap=30.0):
        """A request's timeout: at most cap, within the deadline, but at
        least 2 s so that the final feedback still goes out."""
        if self.deadline is None:
            return cap
        return max(2.0, min(cap, self.deadline - time.monotonic()))

    def headers(self, accept):
        h = {"Accept": accept, "User-Agent": USER_AGENT}
        if self.args.token:
            h["Authorization"] = "TargetToken %s" % self.args.token
        elif self.args.gateway_token:
            h["Authorization"] = "GatewayToken %s" % self.args.gateway_token
        return h

    def request(self, method, url, body=None):
        """A JSON request; returns the parsed response (None if empty).
        Anything but 200 is an error, as for rauc-hawkbit-updater."""
        data = None
        h = self.headers("application/json;charset=UTF-8")
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json;charset=UTF-8"
        for attempt in range(RETRIES + 1):
            req = urllib.request.Request(url, data=data, method=method,
                                         headers=h)
            try:
                with urllib.request.urlopen(req, timeout=self.remaining()) as r:
                    code, raw = r.status, r.read()
            except urllib.error.HTTPError as e:
                code, raw = e.code, e.read()
            except (urllib.error.URLError, OSError,
                    http.client.HTTPException) as e:
                raise DeviceError("%s %s: %s" % (method, url, e))
            if code in RETRY_CODES and attempt < RETRIES:
                log("%s %s -> %d, retrying" % (method, url, code))
                time.sleep(1)
                continue
            break
        if code != 200:
            raise DeviceError(
                "HTTP request failed: %d; server response: %s" %
                (code, raw.decode("utf-8", "replace")[:300]))
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise DeviceError("%s %s: response is not JSON: %s" %
                              (method, url, e))

    def feedback(self, action_id, execution, finished, details,
                 channel="deploymentBase"):
        """POST a feedback; a failure to send it is logged, not fatal (as
        rauc-hawkbit-updater).  Returns True if it was accepted."""
        if isinstance(details, str):
            details = [details]
        body = {"id": action_id, "time": now_time(),
                "status": {"result": {"finished": finished},
                           "execution": execution, "details": details}}
        log("feedback %s/%s: %s" % (execution, finished, " | ".join(details)))
        try:
            self.request("POST", "%s/%s/%s/feedback" %
                         (self.base, channel, action_id), body)
            return True
        except DeviceError as e:
            log("failed to report %r feedback: %s" % (details[0], e))
            return False

    def download(self, url, path):
        """GET the artifact into path; returns (sha1 hex, bytes/s)."""
        h = self.headers("application/octet-stream")
        sha1 = hashlib.sha1()
        start = time.monotonic()
        n = 0
        req = urllib.request.Request(url, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=self.remaining()) as r:
                if r.status != 200:
                    raise DeviceError("HTTP request failed: %d" % r.status)
                with open(path, "wb") as f:
                    while True:
                        buf = r.read(64 * 1024)
                        if not buf:
                            break
                        f.write(buf)
                        sha1.update(buf)
                        n += len(buf)
        except urllib.error.HTTPError as e:
            raise DeviceError("HTTP request failed: %d" % e.code)
        except (urllib.error.URLError, OSError,
                http.client.HTTPException) as e:
            raise DeviceError(str(e))
        secs = max(time.monotonic() - start, 1e-6)
        return sha1.hexdigest(), n / secs

    # ----------------------------------------------------------- cycle

    def poll(self):
        """One poll cycle; returns (ok, sleep seconds)."""
        ok = True
        root = self.request("GET", self.base) or {}
        links = root.get("_links") or {}
        sleep = parse_sleep(
            ((root.get("config") or {}).get("polling") or {}).get("sleep"))
        if "configData" in links:
            ok = self.identify() and ok
        if "deploymentBase" in links:
            ok = self.deployment(links["deploymentBase"]["href"]) and ok
        else:
            log("no new software")
        if "cancelAction" in links:
            ok = self.cancel(links["cancelAction"]["href"]) and ok
        return ok, sleep

    def identify(self):
        # rauc-hawkbit-updater builds this URL itself, as the feedback URLs
        body = {"mode": "merge", "data": self.attrs, "time": now_time(),
                "status": {"result": {"finished": "success"},
                           "execution": "closed"}}
        try:
            self.request("PUT", self.base + "/configData", body)
        except DeviceError as e:
            log("configData: %s" % e)
            return False
        log("configData sent: %s" % json.dumps(self.attrs, sort_keys=True))
        return True

    def cancel(self, href):
        try:
            c = self.request("GET", href) or {}
            stop = str((c.get("cancelAction") or {}).get("stopId")
                       or c.get("id") or href.rstrip("/").split("/")[-1])
        except DeviceError as e:
            log("cancelAction: %s" % e)
            return False
        try:
            self.request("POST", "%s/cancelAction/%s/feedback" %
                         (self.base, stop),
                         {"id": stop, "time": now_time(),
                          "status": {"result": {"finished": "success"},
                                     "execution": "closed",
                                     "details": ["Action canceled."]}})
        except DeviceError as e:
            log("cancel feedback: %s" % e)
            return False
        log("action %s canceled" % stop)
        return True

    def deployment(self, href):
        """Process one deployment; True if it ended in success."""
        try:
            dep = self.request("GET", href) or {}
        except DeviceError as e:
            log("deploymentBase: %s" % e)
            return False
        action_id = dep.get("id")
        if not isinstance(action_id, str):
            # rauc-hawkbit-updater reads it with a string getter
            log("deploymentBase: id is not a JSON string: %r" % (action_id,))
            return False
        try:
            art = self.pick_artifact(action_id, dep)
        except DeviceError as e:
            self.feedback(action_id, "closed", "failure", str(e))
            return False
        log("new software ready for download (Name: %s, Version: %s, "
            "Size: %d bytes, URL: %s)" % (art["name"], art["version"],
                                          art["size"], art["url"]))
        try:
            sha1, speed = self.download(art["url"], self.bundle)
        except DeviceError as e:
            self.feedback(action_id, "closed", "failure",
                          "Download failed: %s" % e)
            self.cleanup()
            return False
        self.feedback(action_id, "proceeding", "none",
                      "Download complete. %.2f MB/s" % (speed / (1024 * 1024)))
        if sha1 != art["sha1"]:
            self.feedback(action_id, "closed", "failure",
                          "Software: %s V%s. Invalid checksum: %s expected %s"
                          % (art["name"], art["version"], sha1, art["sha1"]))
            self.cleanup()
            return False
        if not art["do_install"]:
            if art["window"] in (None, "available"):
                self.feedback(action_id, "downloaded", "success",
                              "File checksum OK.")
            self.cleanup()
            return True
        self.feedback(action_id, "proceeding", "none", "File checksum OK.")
        ok, error = self.install(action_id)
        if ok:
            self.feedback(action_id, "closed", "success",
                          "Software bundle installed successfully.")
        else:
            self.feedback(action_id, "closed", "failure",
                          ["Failed to install software bundle.", error])
        self.cleanup()
        return ok

    def pick_artifact(self, action_id, dep):
        d = dep.get("deployment")
        if not isinstance(d, dict):
            raise DeviceError("Failed to parse deployment: no deployment")
        for key in ("download", "update"):
            if not isinstance(d.get(key), str):
                raise DeviceError("Failed to parse deployment: no %s" % key)
        chunks = d.get("chunks")
        if not isinstance(chunks, list) or not chunks:
            raise DeviceError("Failed to parse deployment: no chunks")
        if len(chunks) > 1:
            raise DeviceError("Deployment %s unsupported: cannot handle "
                              "multiple chunks." % action_id)
        chunk = chunks[0]
        arts = chunk.get("artifacts")
        if not isinstance(arts, list) or not arts:
            raise DeviceError("Failed to parse deployment: no artifacts")
        if len(arts) > 1:
            raise DeviceError("Deployment %s unsupported: cannot handle "
                              "multiple artifacts." % action_id)
        a = arts[0]
        for key, what in (("version", chunk), ("name", chunk)):
            if not isinstance(what.get(key), str):
                raise DeviceError("Failed to parse deployment: chunk "
                                  "without %s" % key)
        size = a.get("size")
        sha1 = (a.get("hashes") or {}).get("sha1")
        if not isinstance(size, int) or isinstance(size, bool):
            raise DeviceError("Failed to parse deployment: artifact size")
        if not isinstance(sha1, str):
            raise DeviceError("Failed to parse deployment: no sha1")
        links = a.get("_links") or {}
        url = ((links.get("download") or {}).get("href") or
               (links.get("download-http") or {}).get("href"))
        if not url:
            raise DeviceError('"$._links.download{-http,}.href": not found')
        try:
            st = os.statvfs(os.path.dirname(os.path.abspath(self.bundle)))
            free = st.f_bsize * st.f_bavail
        except OSError as e:
            raise DeviceError("Failed to calculate free space: %s" % e)
        if free < size:
            raise DeviceError("File size %d exceeds available space %d" %
                              (size, free))
        return {"name": chunk["name"], "version": chunk["version"],
                "size": size, "sha1": sha1.lower(), "url": url,
                "do_install": d["update"] != "skip",
                "window": d.get("maintenanceWindow")}

    def install(self, action_id):
        """rauc install; each progress line becomes a proceeding feedback.
        Returns (ok, RAUC's error message)."""
        cmd = [self.args.rauc, "install", self.bundle]
        log("running %s (DBUS_SYSTEM_BUS_ADDRESS=%s)" %
            (" ".join(cmd), os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")))
        last_error = None
        timer = None
        errpath = self.bundle + ".stderr"
        try:
            with open(errpath, "wb") as err:
                self.child = subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=err,
                    stdin=subprocess.DEVNULL, text=True, bufsize=1)
            if self.deadline is not None:
                timer = threading.Timer(
                    max(0.0, self.deadline - time.monotonic()),
                    self.child.kill)
                timer.daemon = True
                timer.start()
            for line in self.child.stdout:
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                if line.startswith("LastError: "):
                    last_error = line[len("LastError: "):]
                self.feedback(action_id, "proceeding", "none", line)
            self.child.stdout.close()
            rc = self.child.wait()
        except OSError as e:
            return False, "cannot run rauc: %s" % e
        finally:
            if timer is not None:
                timer.cancel()
            self.child = None
        if rc < 0 and last_error is None:
            last_error = "rauc install killed by signal %d (--timeout %g s)" \
                % (-rc, self.args.timeout)
        try:
            with open(errpath, errors="replace") as f:
                stderr = f.read().strip()
            os.unlink(errpath)
        except OSError:
            stderr = ""
        for line in stderr.splitlines():
            log("rauc stderr: %s" % line)
        if rc == 0:
            return True, None
        if last_error is None:
            tail = stderr.splitlines()[-3:] if stderr else []
            last_error = " ".join(tail) or "rauc install exited %d" % rc
        return False, last_error

    def cleanup(self):
        try:
            os.unlink(self.bundle)
        except OSError:
            pass

    def stop_child(self):
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()


def parse_sleep(s):
    try:
        h, m, sec = (int(x) for x in s.split(":"))
        return h * 3600 + m * 60 + sec
    except (AttributeError, ValueError):
        return 5


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--tenant", default="DEFAULT")
    p.add_argument("--id", required=True)
    auth = p.add_mutually_exclusive_group()
    auth.add_argument("--token", default="")
    auth.add_argument("--gateway-token", default="")
    p.add_argument("--attr", action="append", default=[],
                   metavar="KEY=VALUE")
    p.add_argument("--once", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--bundle", default="")
    p.add_argument("--rauc", default="rauc")
    p.add_argument("--max-sleep", type=float, default=5.0)
    args = p.parse_args()
    dev = Device(args)

    def on_term(signum, frame):
        dev.stop_child()
        dev.cleanup()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    if args.once:
        try:
            ok, _ = dev.poll()
        except DeviceError as e:
            log("poll failed: %s" % e)
            ok = False
        log("cycle done: %s" % ("success" if ok else "failure"))
        return 0 if ok else 1
    while True:
        try:
            _, sleep = dev.poll()
        except DeviceError as e:
            if dev.deadline is not None and time.monotonic() >= dev.deadline:
                return 0
            log("poll failed: %s" % e)
            sleep = 1
        sleep = min(sleep, args.max_sleep)
        if dev.deadline is not None:
            left = dev.deadline - time.monotonic()
            if left <= 0:
                return 0
            sleep = min(sleep, left)
        time.sleep(max(sleep, 0.1))


if __name__ == "__main__":
    sys.exit(main())
