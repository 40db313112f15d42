#!/usr/bin/env python3
"""Writes seed inputs for fuzz_vhost_user into tests/fuzz/corpus/fuzz_vhost_user/.

Each seed is the QEMU 7.2 start-up sequence (see docs/vsock.md) followed by
guest-memory pokes that lay out a few descriptor chains, so the fuzzer starts
from configured, running rings instead of having to discover them.
"""
import os
import struct

POKE = 0xF0
UVA = 0x7F0000000000
NUM = 8
RING = {0: 0x0000, 1: 0x1000}  # desc +0, avail +0x200, used +0x400 inside each
DATA = 0x4000


def msg(req, payload=b"", flags=1):
    return struct.pack("<III", req, flags, len(payload)) + payload


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def poke(off, data):
    return msg(POKE, struct.pack("<I", off) + data)


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def start_sequence():
    out = msg(1) + msg(15) + msg(16, u64(0x209)) + msg(17) + msg(3)
    for q in (0, 1):
        out += msg(13, u64(q)) + msg(14, u64(q))
    out += msg(24, struct.pack("<III", 0, 8, 0) + bytes(8))
    out += msg(2, u64(0x140000000))
    out += msg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x10000, UVA, 0), flags=9)
    for q in (0, 1):
        base = RING[q]
        out += msg(8, state(q, NUM)) + msg(10, state(q, 0))
        out += msg(9, struct.pack("<IIQQQQ", q, 0, UVA + base, UVA + base + 0x400,
                                  UVA + base + 0x200, base + 0x400))
        out += msg(12, u64(q))
    return out


def ring(q, chains):
    """chains: list of lists of (addr, len, write) descriptors."""
    base, out, i, heads = RING[q], b"", 0, []
    for chain in chains:
        heads.append(i)
        for k, (addr, length, write) in enumerate(chain):
            last = k == len(chain) - 1
            flags = (0 if last else 1) | (2 if write else 0)
            out += poke(base + 16 * i, desc(addr, length, flags, 0 if last else i + 1))
            i += 1
    avail = struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads)
    return out + poke(base + 0x200, avail)


def enable():
    return msg(18, state(0, 1)) + msg(18, state(1, 1))


def main():
    d = os.path.join(os.path.dirname(__file__), "corpus", "fuzz_vhost_user")
    os.makedirs(d, exist_ok=True)
    rx = ring(0, [[(DATA, 3776, True)], [(DATA + 0x1000, 3776, True)]])
    tx = ring(1, [[(DATA + 0x2000, 44, False), (DATA + 0x2100, 16, False)]])
    seeds = {
        "start": start_sequence() + rx + tx + enable(),
        "start-stop": start_sequence() + rx + tx + enable() + msg(18, state(0, 0))
        + msg(11, state(0, 0)) + msg(11, state(1, 0)),
        "loop": start_sequence() + ring(1, [[(DATA, 16, False)] * 2])
        + poke(RING[1] + 16 + 12, struct.pack("<HH", 1, 0)) + enable(),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
