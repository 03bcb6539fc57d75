#!/usr/bin/python3
"""Small helpers for tests/bench/run.sh (standard library only).

  helper.py freeport
      print a free TCP port on 127.0.0.1
  helper.py start LOG URLPATH -- FALCONET ARGS...
      exec the daemon (stdout and stderr to LOG), read the port from its
      "listening on 127.0.0.1:PORT" line, then poll URLPATH until it answers
      200.  Prints "started PID PORT MS" where MS runs from just before the
      exec to the first 200 answer, then stays the daemon's parent until
      it exits (run.sh stops it with SIGTERM by PID).
  helper.py hold PORT PID N PREFIX
      open N keep-alive connections, each doing one poll of its own device
      (PREFIX + 7-digit number) and then staying open; print the daemon's
      VmRSS, VmHWM (KiB) and thread count with all of them open, then close.
"""
import os
import re
import socket
import subprocess
import sys
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
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
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


def main():
    a = sys.argv[1:]
    if a[:1] == ["freeport"]:
        return cmd_freeport()
    if a[:1] == ["start"] and len(a) >= 5 and a[3] == "--":
        return cmd_start(a[1], a[2], a[4:])
    if a[:1] == ["hold"] and len(a) == 5:
        return cmd_hold(int(a[1]), int(a[2]), int(a[3]), a[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
