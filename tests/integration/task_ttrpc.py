#!/usr/bin/env python3
"""task_ttrpc.py SOCKET STEP...: raw ttrpc calls to a shim's containerd.task.v2.Task service,
for tests/integration/shimv2.bats. Each STEP is METHOD:HEXPAYLOAD:CODE (the gRPC status code
the answer must carry, 0 for OK), or "oversize:CODE" (a frame past the 4 MiB limit). Streams
are numbered 1, 3, 5, ...; each answer must come back on its stream. Exits 1 naming the first
step that got another answer."""
import socket
import struct
import sys


def field(n, b):
    return bytes([n << 3 | 2, len(b)]) + b


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    return buf


def answer(s):
    n, stream, _, _ = struct.unpack(">IIBB", recv_exact(s, 10))
    body = recv_exact(s, n)
    # Response{1 status{1 code, 2 message}, 2 payload}: no status means OK
    code = body[3] if body[:1] == b"\x0a" and body[2:3] == b"\x08" else 0
    return stream, code


def main():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    for i, step in enumerate(sys.argv[2:]):
        stream = 2 * i + 1
        parts = step.split(":")
        if parts[0] == "oversize":
            s.sendall(struct.pack(">IIBB", 5 << 20, stream, 1, 0) + b"\0" * (5 << 20))
        else:
            req = field(1, b"containerd.task.v2.Task") + field(2, parts[0].encode())
            req += field(3, bytes.fromhex(parts[1]))
            s.sendall(struct.pack(">IIBB", len(req), stream, 1, 0) + req)
        got = answer(s)
        if got != (stream, int(parts[-1])):
            sys.exit("step %s: answer %s" % (step, got))


main()
