#!/usr/bin/env python3
"""Writes a pcap of hand-made TCP corner cases (port reuse, retransmitted SYN, SACK, wraparound, the 4 GiB
offset boundary, zero-window probes, keep-alives, capture gaps, zero RTT, VLAN/IPv6), so that
compare_tshark.py can check them against tshark itself, not only against our reading of its source.

With --tunnels DIR it writes, instead, one pcap per link type of TCP connections inside every encapsulation
the parser follows (VXLAN on both ports, Geneve with options, GRE with key/sequence/checksum, WCCP, ERSPAN
II/III, IP-in-IP 4in4/6in4/4in6/6in6, MPLS stacks, PPPoE, nested tunnels), offload-sized packets (IPv4 total
length 0, IPv6 jumbograms) and the link types IPoIB, PPP, Cisco HDLC, bare MPLS, NFLOG, PPPoE-without-Ethernet
and ARCNET, each to be compared with tshark the same way."""
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


def ipv4(src, dst, l4, proto=6, total=None):
    total = 20 + len(l4) if total is None else total
    return struct.pack('>BBHHHBBH4s4s', 0x45, 0, total, 0, 0x4000, 64, proto, 0, bytes(src), bytes(dst)) + l4


def ipv6(src, dst, l4, proto=6, plen=None):
    plen = len(l4) if plen is None else plen
    return struct.pack('>IHBB16s16s', 0x60000000, plen, proto, 64, bytes(src), bytes(dst)) + l4


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

    def __init__(self, out, port, v6=False, vlans=(), wrap=None, l3=None):
        """wrap(inner_ip_packet, v6, forward) -> frame puts the IP packet in a tunnel (default: Ethernet);
        l3(src, dst, l4) -> IP packet replaces the plain IP header (offload-sized lengths)."""
        self.out, self.port, self.v6, self.vlans = out, port, v6, vlans
        self.ca = [0xfd] + [0] * 14 + [1] if v6 else [10, 9, 0, 1]
        self.sa = [0xfd] + [0] * 14 + [2] if v6 else [10, 9, 0, 2]
        self.wrap, self.l3 = wrap, l3

    def _send(self, src, dst, sport, dport, t_us, seq, ack, flags, length, win, opts, forward):
        l4 = tcp(sport, dport, seq, ack, flags, win, length, opts)
        if self.l3:
            l3 = self.l3(src, dst, l4)
        else:
            l3 = ipv6(src, dst, l4) if self.v6 else ipv4(src, dst, l4)
        if self.wrap:
            frame = self.wrap(l3, self.v6, forward)
        else:
            frame = ether(l3, 0x86dd if self.v6 else 0x0800, self.vlans)
        self.out.append((T0 + int(t_us * 1000), frame))

    def c(self, t_us, seq, ack, flags=ACK | PSH, length=0, win=1000, opts=b''):
        self._send(self.ca, self.sa, self.port, 80, t_us, seq, ack, flags, length, win, opts, True)

    def s(self, t_us, seq, ack, flags=ACK, length=0, win=1000, opts=b''):
        self._send(self.sa, self.ca, 80, self.port, t_us, seq, ack, flags, length, win, opts, False)

    def transfer(self, t, segments=6, size=1000):
        """Handshake, data with cumulative and delayed ACKs, FIN: BIF and ack RTT samples for the comparison."""
        self.handshake(t, 1000, 5000)
        for i in range(segments):
            self.c(t + 1000 + i * 10, 1001 + size * i, 5001, length=size)
            if i % 2 == 1:
                self.s(t + 1500 + i * 10, 5001, 1001 + size * (i + 1))
        end = 1001 + size * segments
        self.c(t + 3000, end, 5001, FIN | ACK)
        self.s(t + 3100, 5001, end + 1, FIN | ACK)
        self.c(t + 3200, end + 1, 5002, ACK)

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


# ---- tunnels, offload-sized packets and link types (--tunnels DIR) ----

OUT4A, OUT4B = [192, 0, 2, 1], [192, 0, 2, 2]          # outer (underlay) addresses
OUT6A, OUT6B = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1], [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2]


def udp(sport, dport, payload):
    return struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload


def outer4(fwd, proto, payload):
    a, b = (OUT4A, OUT4B) if fwd else (OUT4B, OUT4A)
    return ether(ipv4(a, b, payload, proto), 0x0800)


def outer6(fwd, proto, payload):
    a, b = (OUT6A, OUT6B) if fwd else (OUT6B, OUT6A)
    return ether(ipv6(a, b, payload, proto), 0x86dd)


def l2(inner, v6):
    """The inner IP packet as an Ethernet frame (what VXLAN, Geneve 0x6558 and gretap carry)."""
    return ether(inner, 0x86dd if v6 else 0x0800)


def etype(v6):
    return 0x86dd if v6 else 0x0800


def vxlan(port, vni):
    return lambda inner, v6, fwd: outer4(fwd, 17, udp(40000 if fwd else 40001, port,
                                                       struct.pack('>BBHI', 0x08, 0, 0, vni << 8) + l2(inner, v6)))


def geneve(vni, ethernet=True):
    opts = struct.pack('>HBB', 0x0102, 0x80, 1) + b'\xaa\xbb\xcc\xdd'  # one 8-byte option (class, type, len 1)

    def wrap(inner, v6, fwd):
        proto = 0x6558 if ethernet else etype(v6)
        body = l2(inner, v6) if ethernet else inner
        hdr = struct.pack('>BBHI', len(opts) // 4, 0, proto, vni << 8) + opts
        return outer4(fwd, 17, udp(50000, 6081, hdr + body))
    return wrap


def gre(key=None, seq=False, csum=False, proto=None, over6=False, extra=b'', ethernet=False):
    counter = [0]

    def wrap(inner, v6, fwd):
        flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq else 0)
        p = proto if proto is not None else (0x6558 if ethernet else etype(v6))
        hdr = struct.pack('>HH', flags, p)
        if csum:
            hdr += b'\0\0\0\0'
        if key is not None:
            hdr += struct.pack('>I', key)
        if seq:
            counter[0] += 1
            hdr += struct.pack('>I', counter[0])
        body = l2(inner, v6) if ethernet else inner
        return (outer6 if over6 else outer4)(fwd, 47, hdr + extra + body)
    return wrap


def erspan2(session):
    def wrap(inner, v6, fwd):
        e = struct.pack('>HHI', 0x1000 | 5, session, 0)  # version 1 (type II), VLAN 5; session; index
        return gre(seq=True, proto=0x88be, extra=e, ethernet=True)(inner, v6, fwd)
    return wrap


def erspan3(session, subheader):
    def wrap(inner, v6, fwd):
        # ver 2, vlan 0 | cos/bso/t, session | timestamp | sgt, p, ft=0 (Ethernet), hw id, d, gra, o
        e = struct.pack('>HHIHBB', 0x2000, session, 12345, 0, 0, 1 if subheader else 0)
        if subheader:
            e += b'\0' * 8
        return gre(seq=True, proto=0x22eb, extra=e, ethernet=True)(inner, v6, fwd)
    return wrap


def ipip(over6):
    return lambda inner, v6, fwd: (outer6 if over6 else outer4)(fwd, 41 if v6 else 4, inner)


def mpls(labels, over_ip=False):
    def wrap(inner, v6, fwd):
        stack = b''.join(struct.pack('>I', (lab << 12) | (0x100 if i == len(labels) - 1 else 0) | 64)
                         for i, lab in enumerate(labels))
        if over_ip:
            return outer4(fwd, 137, stack + inner)
        return ether(stack + inner, 0x8847)
    return wrap


def pppoe(session):
    def wrap(inner, v6, fwd):
        ppp = struct.pack('>H', 0x0057 if v6 else 0x0021) + inner
        return ether(struct.pack('>BBHH', 0x11, 0, session, len(ppp)) + ppp, 0x8864)
    return wrap


def nested(outer_wrap, inner_wrap_l3):
    """A tunnel inside a tunnel: inner_wrap_l3 makes an IP packet (e.g. IP-in-IP), outer_wrap carries it."""
    return lambda inner, v6, fwd: outer_wrap(inner_wrap_l3(inner, v6, fwd), False, fwd)


def ipip_l3(inner, v6, fwd):
    a, b = ([172, 16, 0, 1], [172, 16, 0, 2]) if fwd else ([172, 16, 0, 2], [172, 16, 0, 1])
    return ipv4(a, b, inner, 41 if v6 else 4)


def tso4(src, dst, l4):
    return ipv4(src, dst, l4, total=0)


def jumbo6(src, dst, l4):
    """A jumbogram when the segment needs one (as BIG TCP sends them), else a plain IPv6 packet."""
    if 8 + len(l4) <= 65535:
        return ipv6(src, dst, l4)
    hbh = struct.pack('>BBBBI', 6, 0, 0xc2, 4, 8 + len(l4))  # next TCP, len 0, jumbo option
    return ipv6(src, dst, hbh + l4, proto=0, plen=0)


def tunnels_ethernet():
    out = []
    cases = [
        dict(wrap=vxlan(4789, 42)),
        dict(wrap=vxlan(4789, 42), v6=True),
        dict(wrap=geneve(7)),
        dict(wrap=geneve(8, ethernet=False), v6=True),
        dict(wrap=gre(key=5, seq=True)),
        dict(wrap=gre(csum=True), v6=True),
        dict(wrap=gre(key=9, ethernet=True)),
        dict(wrap=gre(over6=True)),
        dict(wrap=gre(proto=0x883e, extra=b'\x00\x00\x00\x00')),   # WCCP v2 redirect header
        dict(wrap=gre(proto=0x883e)),                               # WCCP v1: IPv4 right after GRE
        dict(wrap=erspan2(17)),
        dict(wrap=erspan3(18, False)),
        dict(wrap=erspan3(19, True)),
        dict(wrap=ipip(False)),
        dict(wrap=ipip(False), v6=True),
        dict(wrap=ipip(True)),
        dict(wrap=ipip(True), v6=True),
        dict(wrap=mpls([100, 200])),
        dict(wrap=mpls([300]), v6=True),
        dict(wrap=mpls([400, 500, 600], over_ip=True)),
        dict(wrap=pppoe(0x1234)),
        dict(wrap=pppoe(0x1235), v6=True),
        dict(wrap=nested(vxlan(4789, 77), ipip_l3)),
        dict(wrap=nested(gre(key=3), ipip_l3), v6=True),
        dict(l3=tso4, size=3000),
        dict(wrap=vxlan(4789, 44), l3=tso4, size=3000),
    ]
    for i, case in enumerate(cases):
        conn = Conn(out, 2000 + i, v6=case.get('v6', False), wrap=case.get('wrap'), l3=case.get('l3'))
        conn.transfer(i * 10000, size=case.get('size', 1000))
    out.sort(key=lambda x: x[0])
    return out


def big6(src, dst, l4):
    """BIG TCP as Linux >= 6.5 hands it to the capture: payload length 0, no hop-by-hop header."""
    return ipv6(src, dst, l4, plen=0)


def offload_v6(l3, size=3000):
    """IPv6 offload-sized segments (l3 = jumbo6, big6, or None for their plain twin that tshark 4.0 can read).
    A jumbogram must be longer than 65535 bytes (RFC 2675; tshark rejects shorter ones)."""
    out = []
    Conn(out, 2500, v6=True, l3=l3).transfer(0, size=size)
    if size <= 60000:  # a larger inner packet does not fit an outer IPv4/UDP length
        Conn(out, 2501, v6=True, l3=l3, wrap=vxlan(4789, 45)).transfer(10000, size=size)
    out.sort(key=lambda x: x[0])
    return out


def tenants():
    """Two tenants (VNI 42 and 43) with the same inner 4-tuple: two connections for tcpcast."""
    out = []
    Conn(out, 4000, wrap=vxlan(4789, 42)).transfer(0)
    Conn(out, 4000, wrap=vxlan(4789, 43)).transfer(100)
    out.sort(key=lambda x: x[0])
    return out


def unknown_encap():
    """TCP inside GRE with a protocol type tcpcast does not decode (counted as unknownEncap, not followed)."""
    out = []
    Conn(out, 4100, wrap=gre(proto=0x1234)).transfer(0)
    Conn(out, 4101).transfer(10000)
    out.sort(key=lambda x: x[0])
    return out


def ip_only(linktype, header):
    """One connection on a link type whose frames are header(ip_packet, v6) + the IP packet."""
    out = []
    for i, v6 in enumerate((False, True)):
        Conn(out, 3000 + i, v6=v6, wrap=lambda inner, v6_, fwd: header(inner, v6_)).transfer(i * 10000)
    out.sort(key=lambda x: x[0])
    return linktype, out


def nflog(inner, v6):
    tlv = lambda t, v: struct.pack('<HH', 4 + len(v), t) + v + b'\0' * (-len(v) % 4)
    return struct.pack('>BBH', 10 if v6 else 2, 0, 0) + tlv(1, b'\x08\x00\x03\x00') + tlv(9, inner)


LINK_TYPES = {
    'ipoib': lambda: ip_only(242, lambda ip, v6: b'\0' * 40 + struct.pack('>HH', etype(v6), 0) + ip),
    'ppp': lambda: ip_only(9, lambda ip, v6: b'\xff\x03' + struct.pack('>H', 0x57 if v6 else 0x21) + ip),
    'chdlc': lambda: ip_only(104, lambda ip, v6: b'\x0f\x00' + struct.pack('>H', etype(v6)) + ip),
    'nflog': lambda: ip_only(239, nflog),
    'pppoe-noether': lambda: ip_only(51, lambda ip, v6: struct.pack('>BBHH', 0x11, 0, 7, len(ip) + 2) +
                                     struct.pack('>H', 0x57 if v6 else 0x21) + ip),
    'ppp-hdlc': lambda: ip_only(50, lambda ip, v6: b'\xff\x03' + struct.pack('>H', 0x57 if v6 else 0x21) + ip),
    'arcnet': lambda: ip_only(7, lambda ip, v6: struct.pack('>BBBBH', 1, 2, 0xc4 if v6 else 0xd4, 0, 0) + ip),
    'arcnet-linux': lambda: ip_only(129, lambda ip, v6: struct.pack('>BBHBBH', 1, 2, 0, 0xc4 if v6 else 0xd4, 0, 0) + ip),
}


def write_pcap(path, frames, linktype=1):
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 262144, linktype))  # nanosecond pcap
        for ts, frame in frames:
            fh.write(struct.pack('<IIII', ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)


def main():
    if sys.argv[1] == '--tunnels':
        d = sys.argv[2]
        write_pcap(f'{d}/tunnels.pcap', tunnels_ethernet())
        # tshark 4.0 marks IPv6 payload length 0 without a jumbo option malformed (no TCP): compared with a twin.
        write_pcap(f'{d}/offload-v6-jumbo.pcap', offload_v6(jumbo6, 70000))
        write_pcap(f'{d}/offload-v6-big.pcap', offload_v6(big6))
        write_pcap(f'{d}/offload-v6-plain.pcap', offload_v6(None))
        write_pcap(f'{d}/tenants.pcap', tenants())
        write_pcap(f'{d}/unknown-encap.pcap', unknown_encap())
        for name, make in LINK_TYPES.items():
            linktype, frames = make()
            write_pcap(f'{d}/link-{name}.pcap', frames, linktype)
        return
    write_pcap(sys.argv[1], build())


if __name__ == '__main__':
    main()
