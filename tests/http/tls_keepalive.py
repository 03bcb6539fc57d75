#!/usr/bin/env python3
"""Hold an HTTPS keep-alive connection open across a certificate reload.

usage: tls_keepalive.py PORT CAFILE DIR

Opens a connection, asks GET /healthz and prints "old <sha256 of the
server certificate>", then writes DIR/ready and waits (at most 30 s) for
DIR/go.  Then it opens a new connection ("new <sha256>"), and asks again on
the first one: "kept <sha256> <status> same-socket|reconnected".
"""
import hashlib
import http.client
import os
import ssl
import sys
import time


def fingerprint(conn):
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def get(conn):
    conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def main():
    port, cafile, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.create_default_context(cafile=cafile)
    first = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    get(first)
    sock = first.sock
    old = fingerprint(first)
    print("old", old, flush=True)
    open(os.path.join(work, "ready"), "w").close()
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(work, "go")):
        if time.time() > deadline:
            print("timeout", flush=True)
            return 1
        time.sleep(0.05)
    second = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    get(second)
    print("new", fingerprint(second), flush=True)
    second.close()
    status = get(first)
    same = "same-socket" if first.sock is sock else "reconnected"
    print("kept", fingerprint(first), status, same, flush=True)
    first.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
