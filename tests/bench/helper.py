#!/usr/bin/python3
"""Small helpers for tests/bench/run.sh (standard library only).

  helper.py freeport
      print a free TCP port on 127.0.0.1
  helper.py start LOG URLPATH -- FALCONET ARGS...
      exec the daemon (stdout and stderr to LOG), read the port from its
      "listening on 127.0.0.1:PORT" line, then poll URLPATH until it answers
      200 (over TLS if BENCH_CAFILE names a CA).  Prints "started PID PORT MS" where MS runs from just before the
      exec to the first 200 answer, then stays the daemon's parent until
      it exits (run.sh stops it with SIGTERM by PID).
  helper.py hold PORT PID N PREFIX
      open N keep-alive connections, each doing one poll of its own device
      (PREFIX + 7-digit number) and then staying open; print the daemon's
      VmRSS, VmHWM (KiB) and thread count with all of them open, then close.
  helper.py mgmt PORT SECONDS TOKEN USER PASSWORD LOGINS_PER_S LOOPS SCRAPES_PER_S
      management load for SECONDS seconds: USER logs in LOGINS_PER_S times
      a second (argon2, each on a connection of its own, paced whatever the
      answers take); LOOPS clients each ask, one request after the other,
      for the device list sorted by state, the device list searched by
      text and the audit log (Bearer TOKEN); /api/v1/stats and /metrics
      are each fetched SCRAPES_PER_S times a second.  Prints one line:
        MGMT seconds=S logins=N login_ok=N login_p50_ms=M login_p99_ms=M
        lists=N list_ok=N list_p50_ms=M list_p99_ms=M scrapes=N
        scrape_ok=N scrape_p50_ms=M busy=N other=N
      (busy: 503 answers; other: any other status or a failed request).
  helper.py feedback PORT N PREFIX
      devices PREFIX + 0000001 .. N, one after the other on one keep-alive
      connection: poll, follow the deploymentBase link (the action), then
      send a finished/failure feedback for it, timed.  Prints one line:
        BENCH what=FEEDBACK n=N actions=N ok=N p50_ms=M p99_ms=M max_ms=M
      (actions: polls that offered one; ok: feedbacks answered 200).
  helper.py lat PORT N TOKEN PATH
      GET PATH N times on one keep-alive connection with Bearer TOKEN;
      prints BENCH what=LAT n=N ok=N p50_ms=M p99_ms=M max_ms=M
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time


def read_response(sock):
    """Read one HTTP/1.1 response with a Content-Length; return status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return status


def get(port, path):
    """The status of GET path; over TLS when BENCH_CAFILE names the CA."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        cafile = os.environ.get("BENCH_CAFILE")
        if cafile:
            s = ssl.create_default_context(cafile=cafile).wrap_socket(
                s, server_hostname="localhost")
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Connection: close\r\n\r\n" % (path, port)).encode())
        return read_response(s)


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()[0] if v.split() else ""
    return out


def cmd_freeport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_start(log, path, argv):
    logf = open(log, "wb")
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    port = None
    deadline = t0 + 60
    pat = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
    while time.perf_counter() < deadline:
        if p.poll() is not None:
            print("exited %d" % p.returncode, flush=True)
            return 1
        if port is None:
            with open(log, "rb") as f:
                m = pat.search(f.read())
            if m:
                port = int(m.group(1))
            else:
                time.sleep(0.0005)
                continue
        try:
            if get(port, path) == 200:
                break
        except OSError:
            pass
        time.sleep(0.0005)
    else:
        print("timeout", flush=True)
        p.kill()
        return 1
    ms = (time.perf_counter() - t0) * 1000
    print("started %d %d %.1f" % (p.pid, port, ms), flush=True)
    sys.stdout.close()
    return p.wait()


def cmd_hold(port, pid, n, prefix):
    socks = []
    try:
        for i in range(1, n + 1):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(("GET %s%07d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                       % (prefix, i, port)).encode())
            if read_response(s) != 200:
                raise RuntimeError("poll %d did not answer 200" % i)
            socks.append(s)
        time.sleep(1.0)
        # Every connection must still be open (not closed by the server).
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    raise RuntimeError("the server closed a connection")
            except BlockingIOError:
                pass
        st = proc_status(pid)
        print("held %d rss_kib=%s hwm_kib=%s threads=%s" % (
            len(socks), st["VmRSS"], st["VmHWM"], st["Threads"]))
    finally:
        for s in socks:
            s.close()
    return 0


class MgmtStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ms = {"login": [], "list": [], "scrape": []}
        self.ok = {"login": 0, "list": 0, "scrape": 0}
        self.busy = self.other = 0

    def add(self, kind, status, ms):
        with self.lock:
            self.ms[kind].append(ms)
            if status == 200:
                self.ok[kind] += 1
            elif status == 503:
                self.busy += 1
            else:
                self.other += 1


def pct(vals, p):
    if not vals:
        return 0
    vals = sorted(vals)
    return vals[min(len(vals) - 1, int(len(vals) * p / 100))]


def mgmt_request(port, method, path, headers, body, conn=None):
    """(status, ms, conn): one request, on conn if given (kept alive)."""
    t = time.perf_counter()
    try:
        c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        status = r.status
        if r.will_close:
            c.close()
            c = None
    except (OSError, http.client.HTTPException):
        status, c = 0, None
    return status, (time.perf_counter() - t) * 1000, c


def cmd_mgmt(port, seconds, token, user, password, logins_per_s, loops,
             scrapes_per_s):
    st = MgmtStats()
    end = time.monotonic() + seconds
    auth = {"Authorization": "Bearer " + token}
    login_body = json.dumps({"username": user, "password": password})

    def login():
        status, ms, c = mgmt_request(
            port, "POST", "/api/v1/login",
            {"Content-Type": "application/json"}, login_body)
        if c:
            c.close()
        st.add("login", status, ms)

    def paced(rate, fn):
        threads, k, t0 = [], 0, time.monotonic()
        while True:
            due = t0 + k / rate
            if due >= end:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            th = threading.Thread(target=fn, daemon=True)
            th.start()
            threads.append(th)
            k += 1
        for th in threads:
            th.join(60)

    def lister(n):
        paths = ["/api/v1/devices?sort=state&order=desc&limit=100",
                 "/api/v1/devices?q=dev-00%d&limit=100" % (n % 10),
                 "/api/v1/audit?limit=100"]
        c, i = None, n
        while time.monotonic() < end:
            status, ms, c = mgmt_request(port, "GET", paths[i % 3], auth,
                                         None, c)
            st.add("list", status, ms)
            i += 1

    scrape_paths = ["/api/v1/stats", "/metrics"]
    scrape_n = [0]

    def scrape():
        with st.lock:
            path = scrape_paths[scrape_n[0] % 2]
            scrape_n[0] += 1
        status, ms, c = mgmt_request(port, "GET", path, auth, None)
        if c:
            c.close()
        st.add("scrape", status, ms)

    workers = [threading.Thread(target=paced, args=(logins_per_s, login)),
               threading.Thread(target=paced,
                                args=(2 * scrapes_per_s, scrape))]
    workers += [threading.Thread(target=lister, args=(n,))
                for n in range(loops)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    took = time.monotonic() - t0
    print("MGMT seconds=%.1f logins=%d login_ok=%d login_p50_ms=%.0f "
          "login_p99_ms=%.0f lists=%d list_ok=%d list_p50_ms=%.0f "
          "list_p99_ms=%.0f scrapes=%d scrape_ok=%d scrape_p50_ms=%.0f "
          "busy=%d other=%d" % (
              took, len(st.ms["login"]), st.ok["login"],
              pct(st.ms["login"], 50), pct(st.ms["login"], 99),
              len(st.ms["list"]), st.ok["list"], pct(st.ms["list"], 50),
              pct(st.ms["list"], 99), len(st.ms["scrape"]),
              st.ok["scrape"], pct(st.ms["scrape"], 50), st.busy,
              st.other), flush=True)
    return 0


def lat_line(tag, vals, n, **extra):
    fields = " ".join("%s=%s" % kv for kv in extra.items())
    return "BENCH what=%s n=%d %s p50_ms=%.2f p99_ms=%.2f max_ms=%.2f" % (
        tag, n, fields, pct(vals, 50), pct(vals, 99), max(vals or [0]))


def cmd_feedback(port, n, prefix):
    conn, times, actions, ok = None, [], 0, 0
    hal = {"Accept": "application/hal+json", "Host": "127.0.0.1:%d" % port}
    for i in range(1, n + 1):
        base = "/DEFAULT/controller/v1/%s%07d" % (prefix, i)
        conn = conn or http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=60)
        conn.request("GET", base, headers=hal)
        r = conn.getresponse()
        poll = json.loads(r.read() or b"{}")
        link = poll.get("_links", {}).get("deploymentBase", {}).get("href")
        if not link:
            continue
        actions += 1
        aid = link.rsplit("/", 1)[1].split("?")[0]
        body = json.dumps({"id": aid, "status": {
            "execution": "closed", "result": {"finished": "failure"},
            "details": ["bench: failed"]}})
        st, ms, conn = mgmt_request(
            port, "POST", "%s/deploymentBase/%s/feedback" % (base, aid),
            dict(hal, **{"Content-Type": "application/json"}), body, conn)
        times.append(ms)
        ok += st == 200
    print(lat_line("FEEDBACK", times, n, actions=actions, ok=ok))


def cmd_lat(port, n, token, path):
    conn, times, ok = None, [], 0
    h = {"Authorization": "Bearer " + token, "Host": "127.0.0.1:%d" % port}
    for _ in range(n):
        st, ms, conn = mgmt_request(port, "GET", path, h, None, conn)
        times.append(ms)
        ok += st == 200
    print(lat_line("LAT", times, n, ok=ok))


def main():
    a = sys.argv[1:]
    if a[:1] == ["freeport"]:
        return cmd_freeport()
    if a[:1] == ["start"] and len(a) >= 5 and a[3] == "--":
        return cmd_start(a[1], a[2], a[4:])
    if a[:1] == ["hold"] and len(a) == 5:
        return cmd_hold(int(a[1]), int(a[2]), int(a[3]), a[4])
    if a[:1] == ["mgmt"] and len(a) == 9:
        return cmd_mgmt(int(a[1]), float(a[2]), a[3], a[4], a[5],
                        float(a[6]), int(a[7]), float(a[8]))
    if a[:1] == ["feedback"] and len(a) == 4:
        return cmd_feedback(int(a[1]), int(a[2]), a[3])
    if a[:1] == ["lat"] and len(a) == 5:
        return cmd_lat(int(a[1]), int(a[2]), a[3], a[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
