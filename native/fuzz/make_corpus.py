#!/usr/bin/env python3
"""Builds the fuzz seed corpus (native/fuzz/corpus) from the first frames of pcap files, in fuzz_engine's format.

With --tunnels DIR (the output of native/test/crafted_pcap.py --tunnels), seeds for the decapsulation paths:
a SYN and a data segment of every tunnel case, and the first frames of each crafted link type."""
import struct
import sys


def frames(path, limit):
    with open(path, 'rb') as f:
        magic = f.read(24)[:4]
        endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
        out = []
        while len(out) < limit:
            h = f.read(16)
            if len(h) < 16:
                break
            _, _, caplen, _ = struct.unpack(endian + 'IIII', h)
            out.append(f.read(caplen))
        return out


def encode(link_sel, fr, prefix=b''):
    body = bytes([link_sel, 3, 2])
    for i, x in enumerate(fr):
        x = prefix + x
        dt = 0x1100 + (i % 7) * 0x10  # microsecond-ish steps
        body += struct.pack('>HHB', len(x), dt, 0x40 if i % 5 == 0 else 0) + x
    return body


# fuzz_engine's kLinks index of each crafted link type.
LINK_SELECTOR = {'ipoib': 11, 'ppp': 12, 'pppoe-noether': 14, 'chdlc': 15, 'nflog': 17, 'arcnet-linux': 21}


def tunnels(src, out):
    fr = frames(f'{src}/tunnels.pcap', 100000)
    # Each connection is 15 frames in time order per case, but cases interleave only at their ends: take the
    # SYN and the first data segment (a GSO-sized one for the offload cases) of each, headers only.
    picks = [x[:200] for i, x in enumerate(fr) if i % 15 in (0, 3)]
    for n in range(0, len(picks), 12):
        with open(f'{out}/tunnels-{n // 12}', 'wb') as f:
            f.write(encode(0, picks[n:n + 12]))
    for name, sel in LINK_SELECTOR.items():
        with open(f'{out}/link-{name}', 'wb') as f:
            f.write(encode(sel, [x[:160] for x in frames(f'{src}/link-{name}.pcap', 6)]))


def main():
    if sys.argv[1] == '--tunnels':
        tunnels(sys.argv[2], sys.argv[3])
        return
    src, out = sys.argv[1], sys.argv[2]
    fr = [x[:120] for x in frames(src, 24)]  # headers only keep the corpus small
    with open(f'{out}/eth', 'wb') as f:
        f.write(encode(0, fr))
    # The same frames as SLL2 (link selector 2): 20-byte cooked header instead of Ethernet.
    sll2 = [struct.pack('>HHIHBB8s', 0x0800, 0, 3, 1, 0, 6, b'\0' * 8) + x[14:] for x in fr]
    with open(f'{out}/sll2', 'wb') as f:
        f.write(encode(2, sll2))
    raw = [x[14:] for x in fr]
    with open(f'{out}/raw', 'wb') as f:
        f.write(encode(5, raw))


if __name__ == '__main__':
    main()
