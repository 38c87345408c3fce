#!/usr/bin/env python3
"""Writes a pcap of hand-made TCP corner cases (port reuse, retransmitted SYN, SACK, wraparound, the 4 GiB
offset boundary, zero-window probes, keep-alives, capture gaps, zero RTT, VLAN/IPv6), so that
compare_tshark.py can check them against tshark itself, not only against our reading of its source."""
import struct
import sys

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
T0 = 1_700_000_000 * 10**9


def tcp(sport, dport, seq, ack, flags, win, payload, options=b''):
    while len(options) % 4:
        options += b'\x00'
    off = (20 + len(options)) // 4
    return struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff, off << 4, flags, win, 0,
                       0) + options + bytes(payload)


def ipv4(src, dst, l4):
    return struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0x4000, 64, 6, 0, bytes(src), bytes(dst)) + l4


def ipv6(src, dst, l4):
    return struct.pack('>IHBB16s16s', 0x60000000, len(l4), 6, 64, bytes(src), bytes(dst)) + l4


def ether(l3, ethertype, vlans=()):
    head = b'\x02' * 6 + b'\x04' * 6
    for tpid in vlans:
        head += struct.pack('>HH', tpid, 7)
    return head + struct.pack('>H', ethertype) + l3


def sack(blocks):
    return b'\x01\x01' + struct.pack('>BB', 5, 2 + 8 * len(blocks)) + b''.join(
        struct.pack('>II', a & 0xffffffff, b & 0xffffffff) for a, b in blocks)


class Conn:
    """One connection; c() sends client->server, s() server->client."""

    def __init__(self, out, port, v6=False, vlans=()):
        self.out, self.port, self.v6, self.vlans = out, port, v6, vlans
        self.ca = [0xfd] + [0] * 14 + [1] if v6 else [10, 9, 0, 1]
        self.sa = [0xfd] + [0] * 14 + [2] if v6 else [10, 9, 0, 2]

    def _send(self, src, dst, sport, dport, t_us, seq, ack, flags, length, win, opts):
        l4 = tcp(sport, dport, seq, ack, flags, win, length, opts)
        l3 = ipv6(src, dst, l4) if self.v6 else ipv4(src, dst, l4)
        self.out.append((T0 + int(t_us * 1000), ether(l3, 0x86dd if self.v6 else 0x0800, self.vlans)))

    def c(self, t_us, seq, ack, flags=ACK | PSH, length=0, win=1000, opts=b''):
        self._send(self.ca, self.sa, self.port, 80, t_us, seq, ack, flags, length, win, opts)

    def s(self, t_us, seq, ack, flags=ACK, length=0, win=1000, opts=b''):
        self._send(self.sa, self.ca, 80, self.port, t_us, seq, ack, flags, length, win, opts)

    def handshake(self, t, ci, si):
        self.c(t, ci, 0, SYN)
        self.s(t + 100, si, ci + 1, SYN | ACK)
        self.c(t + 200, ci + 1, si + 1, ACK)


def build():
    out = []
    # Cumulative, partial and duplicate ACKs.
    a = Conn(out, 1001)
    a.handshake(0, 1000, 5000)
    for i in range(4):
        a.c(1000 + i * 10, 1001 + 1000 * i, 5001, length=1000)
    a.s(1500, 5001, 3001)
    a.s(1600, 5001, 3501)
    a.s(1610, 5001, 3501)
    a.c(1700, 5001, 5001, length=500)
    a.s(1800, 5001, 5501)
    # Retransmissions: RTT from the original copy; a spurious one.
    b = Conn(out, 1002)
    b.handshake(2000, 70000, 90000)
    b.c(3000, 70001, 90001, length=1000)
    b.c(3010, 71001, 90001, length=1000)
    b.c(3300, 70001, 90001, length=1000)
    b.s(3400, 90001, 71001)
    b.c(3500, 70001, 90001, length=1000)
    b.s(3600, 90001, 72001)
    # SACK: 1 to 4 blocks (Wireshark uses 3).
    c = Conn(out, 1003)
    c.handshake(4000, 1, 2)
    for i in range(8):
        c.c(5000 + i, 2 + 1000 * i, 3, length=1000)
    c.s(5100, 3, 1002, opts=sack([(2002, 3002)]))
    c.c(5110, 8002, 3, length=1000)
    c.s(5120, 3, 1002, opts=sack([(2002, 3002), (4002, 5002)]))
    c.c(5130, 9002, 3, length=1000)
    c.s(5140, 3, 1002, opts=sack([(2002, 3002), (4002, 5002), (6002, 7002), (8002, 9002)]))
    c.c(5150, 10002, 3, length=1000)
    c.s(5160, 3, 11002)
    # Port reuse: retransmitted SYN (same ISN), then a new ISN without FIN (new stream), a SYN-ACK with
    # another ISN than the first SYN-ACK.
    d = Conn(out, 1004)
    d.handshake(6000, 100, 200)
    d.c(6500, 101, 201, length=100)
    d.s(6600, 201, 201)
    d.c(6700, 100, 0, SYN)
    d.c(6800, 555555, 0, SYN)
    d.s(6900, 777, 555556, SYN | ACK)
    d.c(7000, 555556, 778, ACK)
    d.c(7010, 555556, 778, length=300)
    d.c(7020, 555856, 778, FIN | ACK)
    d.s(7100, 778, 555857, FIN | ACK)
    d.c(7200, 555857, 779, ACK)
    # Sequence numbers wrapping through 2^32.
    e = Conn(out, 1005, v6=True)
    isn = 0xffffffff - 2500
    e.handshake(8000, isn, 10)
    for i in range(5):
        e.c(9000 + i, isn + 1 + 1000 * i, 11, length=1000)
    e.s(9100, 11, isn + 1 + 3000)
    e.c(9110, isn + 1 + 5000, 11, length=1000)
    e.c(9120, isn + 1 + 1000, 11, length=1000)
    e.s(9200, 11, isn + 1 + 6000)
    # Offsets from the base passing 2^32 (every 4 GiB), reached in jumps below 2^31 (capture gaps).
    f = Conn(out, 1006, vlans=(0x88a8, 0x8100))
    f.handshake(10000, 1000, 2000)
    t = 11000
    last = 1001
    for k in range(1, 4):
        f.c(t, 1000 + k * 0x50000000, 2001, length=1000)
        last = 1000 + k * 0x50000000 + 1000
        f.s(t + 10, 2001, last)
        t += 100
    off = 0xfffffc00
    f.c(t, 1000 + off, 2001, length=1000)
    f.s(t + 10, 2001, last)
    f.c(t + 20, 1000 + off + 1000, 2001, length=1000)
    f.c(t + 30, 1000 + off + 2000, 2001, length=1000)
    f.s(t + 40, 2001, 1000 + off + 2000)
    f.c(t + 50, 1000 + off + 3000, 2001, length=1000)
    # Zero window, probe, window update; keep-alive and its ACK; a gap; an RTT of exactly 0.
    g = Conn(out, 1007)
    g.handshake(20000, 1, 1)
    g.c(21000, 2, 2, length=1000)
    g.s(21100, 2, 1002, win=0)
    g.c(21500, 1002, 2, length=1)
    g.s(21600, 2, 1002, win=0)
    g.s(22000, 2, 1003, win=1000)
    g.c(22100, 1003, 2, length=1000)
    g.s(22200, 2, 2003)
    g.c(30000, 2002, 2, length=1)
    g.s(30100, 2, 2003)
    g.c(31000, 3003, 2, length=1000)
    g.c(31010, 5003, 2, length=1000)
    g.s(31100, 2, 2003)
    g.c(31200, 6003, 2, length=1000)
    g.s(31200, 2, 7003)
    # RST without ACK and a SYN whose ACK field is not zero.
    h = Conn(out, 1008)
    h.c(40000, 42, 99, SYN)
    h.s(40100, 0, 0, RST)
    out.sort(key=lambda x: x[0])
    return out


def main():
    path = sys.argv[1]
    frames = build()
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap, Ethernet
        for ts, frame in frames:
            fh.write(struct.pack('<IIII', ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)


if __name__ == '__main__':
    main()
