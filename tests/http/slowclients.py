#!/usr/bin/python3
"""Slow clients for the connection guard's tests (standard library only).

  slowclients.py hold PORT N SECONDS INTERVAL [--from A,B,...]
                 [--check PATH --check-from ADDR]
      Open N connections, spread over the source addresses (default
      127.0.0.1), each sending a request line and then one header line
      every INTERVAL seconds, never ending the head, for SECONDS seconds.
      Meanwhile, with --check, GET PATH every half second on a connection
      of its own from ADDR.  Prints one line:
        held=N refused=N closed=N first_close=S last_close=S open=N
        checks=OK/TOTAL worst_ms=MS
      "refused": closed by the server within half a second of opening;
      "closed": closed later (S: seconds after opening); "open": still
      open at the end.

  slowclients.py keepalive PORT IDLE
      One connection: GET /healthz, IDLE seconds of silence, GET /healthz
      again.  Prints both statuses ("close" if the server had closed).

  slowclients.py body PORT RATE SECONDS HEAD_FILE
      Send the request head from the file, then body bytes (spaces) at
      RATE bytes a second until SECONDS have passed or the server answers
      or closes.  Prints "closed after S s", "answered STATUS after S s" or
      "open after S s".
"""
import resource
import selectors
import socket
import sys
import threading
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect(port, src="127.0.0.1", timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def status_of(data):
    parts = data.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return "garbage"
    return parts[1].decode(errors="replace")


def read_answer(s, timeout):
    """Status of one answer read whole (Content-Length), "close" or
    "timeout"."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return "close" if not data else status_of(data)
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        need = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                need = int(v.strip())
        while len(body) < need:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "close" if not data else status_of(data)
    return status_of(data)


class Checker(threading.Thread):
    def __init__(self, port, path, src):
        super().__init__(daemon=True)
        self.port, self.path, self.src = port, path, src
        self.ok = self.total = 0
        self.worst = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            good = False
            try:
                s = connect(self.port, self.src, 5)
                s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\n\r\n" % self.path).encode())
                good = read_answer(s, 5) == "200"
                s.close()
            except OSError:
                pass
            self.total += 1
            self.ok += good
            self.worst = max(self.worst, (time.monotonic() - t) * 1000)
            self.stop.wait(0.5)


def cmd_hold(port, n, seconds, interval, srcs, check, check_from):
    raise_nofile()
    sel = selectors.DefaultSelector()
    conns = []  # [sock, opened_at, closed_at]
    checker = None
    if check:
        checker = Checker(port, check, check_from)
        checker.start()
    for i in range(n):
        src = srcs[i % len(srcs)]
        try:
            s = connect(port, src)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            conns.append([None, time.monotonic(), time.monotonic()])
            continue
        s.setblocking(False)
        c = [s, time.monotonic(), None]
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    end = time.monotonic() + seconds
    next_send = time.monotonic() + interval
    tick = 0
    while time.monotonic() < end:
        timeout = max(0.0, min(next_send, end) - time.monotonic())
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                data = c[0].recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # closed by the server (an answer counts too)
                c[2] = time.monotonic()
                sel.unregister(c[0])
                c[0].close()
        if time.monotonic() >= next_send:
            tick += 1
            for c in conns:
                if c[2] is None:
                    try:
                        c[0].send(b"X-Slow-%d: x\r\n" % tick)
                    except OSError:
                        pass
            next_send += interval
    if checker:
        checker.stop.set()
        checker.join()
    refused = closed = still = 0
    first = last = None
    for c in conns:
        if c[2] is None:
            still += 1
            c[0].close()
            continue
        age = c[2] - c[1]
        if age < 0.5:
            refused += 1
            continue
        closed += 1
        first = age if first is None else min(first, age)
        last = age if last is None else max(last, age)
    print("held=%d refused=%d closed=%d first_close=%s last_close=%s "
          "open=%d checks=%s worst_ms=%d" % (
              n - refused, refused, closed,
              "-" if first is None else "%.1f" % first,
              "-" if last is None else "%.1f" % last, still,
              "%d/%d" % (checker.ok, checker.total) if checker else "-",
              checker.worst if checker else 0))


def cmd_keepalive(port, idle):
    s = connect(port)
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(req)
    a = read_answer(s, 5)
    time.sleep(idle)
    try:
        s.sendall(req)
        b = read_answer(s, 5)
    except OSError:
        b = "close"
    print(a, b)


def cmd_body(port, rate, seconds, head_file):
    with open(head_file, "rb") as f:
        head = f.read()
    s = connect(port)
    s.sendall(head)
    t0 = time.monotonic()
    s.setblocking(False)
    sent = 0
    while time.monotonic() - t0 < seconds:
        try:
            data = s.recv(4096)
            if not data:
                print("closed after %.1f s" % (time.monotonic() - t0))
                return
            print("answered %s after %.1f s" % (status_of(data),
                                                time.monotonic() - t0))
            return
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            print("closed after %.1f s" % (time.monotonic() - t0))
            return
        due = int((time.monotonic() - t0) * rate) - sent
        if due > 0:
            try:
                sent += s.send(b" " * due)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                print("closed after %.1f s" % (time.monotonic() - t0))
                return
        time.sleep(0.05)
    print("open after %.1f s" % (time.monotonic() - t0))


def main():
    a = sys.argv[1:]
    if a[:1] == ["hold"] and len(a) >= 5:
        srcs, check, check_from = ["127.0.0.1"], None, "127.0.0.1"
        rest = a[5:]
        while rest:
            opt, val = rest[0], rest[1]
            rest = rest[2:]
            if opt == "--from":
                srcs = val.split(",")
            elif opt == "--check":
                check = val
            elif opt == "--check-from":
                check_from = val
            else:
                sys.exit(__doc__)
        cmd_hold(int(a[1]), int(a[2]), float(a[3]), float(a[4]), srcs,
                 check, check_from)
    elif a[:1] == ["keepalive"] and len(a) == 3:
        cmd_keepalive(int(a[1]), float(a[2]))
    elif a[:1] == ["body"] and len(a) == 5:
        cmd_body(int(a[1]), float(a[2]), float(a[3]), a[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
