#!/usr/bin/env python3
"""Raw-socket clients for requests curl will not send.

  rawhttp.py send PORT [TIMEOUT]
      Send stdin as it is, then read the answer.  Prints the status code,
      "close" if the server closed the connection without an answer, or
      "timeout" if nothing came within TIMEOUT seconds (default 10).

  rawhttp.py answer PORT [TIMEOUT]
      Send stdin as it is, then read the first answer whole (its
      Content-Length, or, with "Connection: close", all the server sends
      before it closes).  Prints one line
      "STATUS CONTENT-TYPE" ("-" when there is none), then the body.

  rawhttp.py slowloris PORT CONNS SECONDS [HEALTH_FROM]
      Open CONNS connections that each send a request's first line and then
      one header line a second, for SECONDS seconds, without ending the
      headers.  Meanwhile a normal GET /healthz is sent every half second,
      from the source address HEALTH_FROM if given (another host: the
      server limits connections per address).  Prints
      "served=OK/TOTAL worst_ms=MS".

  rawhttp.py slowbody PORT SECONDS REQUEST_HEAD_FILE
      Send the request head from the file, then one body byte a second for
      SECONDS seconds, then stop sending and wait for the server to close
      the connection.  Prints "closed after S s" or "open".

  rawhttp.py hold PORT CONNS
      Open CONNS idle connections, then report how many the server closed
      at once: "refused=N".

  rawhttp.py flood PORT N PATH BODY [HEADER]
      POST BODY (JSON) to PATH N times on one keep-alive connection,
      pipelined 50 at a time, as a hostile device would (the security
      findings' flood.py).  "{n}" in BODY becomes the request's number,
      1 to N.  Prints "200=N other=N seconds=S".
"""
import socket
import sys
import time


def connect(port, timeout=10.0, src=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(src, 0) if src else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_status(s, timeout):
    """The status code of the first answer, "close" or "timeout"."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "close" if not data else data.split(b" ")[1].decode()
    if not data:
        return "close"
    parts = data.split(b" ")
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return "garbage"
    return parts[1].decode(errors="replace")


def cmd_send(port, timeout=10.0):
    payload = sys.stdin.buffer.read()
    s = connect(port)
    try:
        # A large payload may be refused halfway: the answer still counts.
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    print(read_status(s, timeout))
    s.close()


def cmd_answer(port, timeout=10.0):
    payload = sys.stdin.buffer.read()
    s = connect(port)
    s.settimeout(timeout)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        fields = dict(l.split(b":", 1) for l in lines[1:] if b":" in l)
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        want = int(fields.get(b"content-length", b"-1"))
        if fields.get(b"connection", b"").lower() == b"close":
            want = -1  # all the server sends before it closes
        while want < 0 or len(body) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    if not data:
        print("close -")
        return
    status = lines[0].split(b" ")
    ctype = fields.get(b"content-type", b"-")
    print("%s %s" % (status[1].decode(errors="replace") if len(status) > 1
                     else "garbage", ctype.decode(errors="replace")))
    sys.stdout.write(body[:want if want >= 0 else None]
                     .decode(errors="replace"))


def healthz(port, src=None):
    t = time.monotonic()
    try:
        s = connect(port, 5, src)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        ok = read_status(s, 5) == "200"
        s.close()
    except OSError:
        ok = False
    return ok, (time.monotonic() - t) * 1000


def cmd_slowloris(port, conns, seconds, health_from=None):
    socks = []
    for _ in range(conns):
        s = connect(port)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass  # refused: over the server's per-address limit
        socks.append(s)
    served = total = 0
    worst = 0.0
    end = time.monotonic() + seconds
    tick = 0
    while time.monotonic() < end:
        if tick % 2 == 0:
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"X-Slow-%d: x\r\n" % tick)
                except OSError:
                    pass
        ok, ms = healthz(port, health_from)
        total += 1
        served += ok
        worst = max(worst, ms)
        tick += 1
        time.sleep(0.5)
    for s in socks:
        s.close()
    print("served=%d/%d worst_ms=%d" % (served, total, worst))


def cmd_slowbody(port, seconds, head_file):
    with open(head_file, "rb") as f:
        head = f.read()
    s = connect(port)
    s.sendall(head)
    for _ in range(seconds):
        try:
            s.sendall(b" ")
        except OSError:
            break
        time.sleep(1)
    t = time.monotonic()
    s.settimeout(120)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
    except socket.timeout:
        print("open")
        return
    except ConnectionResetError:
        pass
    print("closed after %d s" % round(time.monotonic() - t))


def cmd_hold(port, conns):
    socks = [connect(port) for _ in range(conns)]
    time.sleep(0.5)
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
    print("refused=%d" % refused)
    for s in socks:
        s.close()


def read_answers(s, buf, count):
    """Read count answers (Content-Length bodies); their status codes and
    what is left of the buffer."""
    codes = []
    while len(codes) < count:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed after %d answers" % len(codes))
            buf += chunk
            continue
        head = buf[:end].decode("latin-1").split("\r\n")
        length = 0
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        while len(buf) < end + 4 + length:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed in a body")
            buf += chunk
        codes.append(head[0].split(" ")[1])
        buf = buf[end + 4 + length:]
    return codes, buf


def cmd_flood(port, n, path, body, extra=None):
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            % path)
    if extra:
        head += extra + "\r\n"
    s = connect(port, 60)
    ok = other = sent = 0
    buf = b""
    t = time.monotonic()
    while sent < n:
        k = min(50, n - sent)
        reqs = []
        for i in range(sent + 1, sent + k + 1):
            b = body.replace("{n}", str(i)).encode()
            reqs.append(("%sContent-Length: %d\r\n\r\n" % (head, len(b))).encode() + b)
        s.sendall(b"".join(reqs))
        sent += k
        codes, buf = read_answers(s, buf, k)
        ok += codes.count("200")
        other += len(codes) - codes.count("200")
    s.close()
    print("200=%d other=%d seconds=%.1f" % (ok, other, time.monotonic() - t))


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    if cmd == "send":
        cmd_send(port, float(args[0]) if args else 10.0)
    elif cmd == "answer":
        cmd_answer(port, float(args[0]) if args else 10.0)
    elif cmd == "slowloris":
        cmd_slowloris(port, int(args[0]), int(args[1]),
                      args[2] if len(args) > 2 else None)
    elif cmd == "slowbody":
        cmd_slowbody(port, int(args[0]), args[1])
    elif cmd == "hold":
        cmd_hold(port, int(args[0]))
    elif cmd == "flood":
        cmd_flood(port, int(args[0]), args[1], args[2],
                  args[3] if len(args) > 3 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
