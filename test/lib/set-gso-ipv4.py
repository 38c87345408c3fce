#!/usr/bin/env python3
"""Sets gso_ipv4_max_size and gro_ipv4_max_size of an interface (IPv4 BIG TCP) over rtnetlink, for iproute2
versions too old to know them (< 6.3). Usage: set-gso-ipv4.py IFNAME BYTES (run inside the namespace)."""
import socket
import struct
import sys

RTM_NEWLINK, NLM_F_REQUEST, NLM_F_ACK = 16, 1, 4
IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE = 63, 64


def attr(kind, value):
    return struct.pack('=HHI', 8, kind, value)


def main():
    ifname, size = sys.argv[1], int(sys.argv[2])
    index = socket.if_nametoindex(ifname)
    body = struct.pack('=BxHiII', socket.AF_UNSPEC, 0, index, 0, 0)
    body += attr(IFLA_GSO_IPV4_MAX_SIZE, size) + attr(IFLA_GRO_IPV4_MAX_SIZE, size)
    msg = struct.pack('=IHHII', 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        s.send(msg)
        reply = s.recv(4096)
    error = struct.unpack('=i', reply[16:20])[0]
    if error != 0:
        sys.exit(f'set-gso-ipv4: {ifname}: error {-error}')


if __name__ == '__main__':
    main()
