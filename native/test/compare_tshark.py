#!/usr/bin/env python3
"""Compares tcpcast-dump with tshark 4.0 on pcap files: streams, lengths, BIF, ack RTT (to 1 us), retransmissions.

Tunnelled packets have several IP headers; the connection is the innermost one: frame.protocols says whether
the last IP layer before TCP is ip or ipv6, and that field's last occurrence is its address."""
import subprocess
import sys

FIELDS = ['frame.number', 'frame.time_epoch', 'tcp.stream', 'ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport',
          'tcp.len', 'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight', 'ipv6.src', 'ipv6.dst',
          'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission',
          'tcp.analysis.out_of_order', 'frame.protocols']


def innermost(c):
    """(src, dst) of the IP header that carries TCP."""
    layers = c[16].split(':')
    tcp_at = layers.index('tcp') if 'tcp' in layers else len(layers)
    ips = [x for x in layers[:tcp_at] if x in ('ip', 'ipv6')]
    src, dst = (c[10], c[11]) if ips and ips[-1] == 'ipv6' else (c[3], c[5])
    return src.split(',')[-1], dst.split(',')[-1]


def tshark_rows(path):
    # tshark decodes VXLAN on 4789 only; 8472 (the Linux default) is decoded by tcpcast too.
    cmd = ['tshark', '-r', path, '-d', 'udp.port==8472,vxlan', '-Y', 'tcp', '-T', 'fields']
    for f in FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        c = line.split('\t')
        c[3], c[5] = innermost(c)
        # Our flag is the union of Wireshark's four kinds of "does not advance the sequence space".
        rows[int(c[0])] = c[:10] + ['1' if any(c[12:16]) else '0']
    return rows


def dump_rows(dump, path):
    # FILE=REFERENCE: ours on FILE against tshark on REFERENCE (same packets in a form tshark 4.0 can read).
    path = path.split('=')[0]
    out = subprocess.run([dump, '--retrans', path], check=True, capture_output=True, text=True).stdout
    return {int(l.split('\t')[0]): l.split('\t') for l in out.splitlines()}


def rtt_us(s):
    return round(float(s) * 1e6)


def compare(dump, path, verbose):
    t, d = tshark_rows(path.split('=')[-1]), dump_rows(dump, path)
    st = dict(frames_t=len(t), frames_d=len(d), missing=0, field_diff=0, bif_n=0, bif_ok=0, bif_extra=0,
              rtt_n=0, rtt_ok=0, rtt_extra=0, retrans_t=0, retrans_diff=0)
    shown = 0
    for num, tr in t.items():
        dr = d.get(num)
        if dr is None:
            st['missing'] += 1
            continue
        if tr[:8] != dr[:8]:
            st['field_diff'] += 1
        bad = False
        if tr[9]:
            st['bif_n'] += 1
            if tr[9].split(',')[0] == dr[9]:
                st['bif_ok'] += 1
            else:
                bad = True
        elif dr[9]:
            st['bif_extra'] += 1
            bad = True
        if tr[8]:
            st['rtt_n'] += 1
            if dr[8] and abs(rtt_us(tr[8].split(',')[0]) - rtt_us(dr[8])) <= 1:
                st['rtt_ok'] += 1
            else:
                bad = True
        elif dr[8]:
            st['rtt_extra'] += 1
            bad = True
        st['retrans_t'] += tr[10] == '1'
        if tr[10] != dr[10]:
            st['retrans_diff'] += 1
            bad = True
        if (bad or tr[:8] != dr[:8]) and verbose and shown < 15:
            shown += 1
            print('  tshark:', '\t'.join(tr), '\n  ours:  ', '\t'.join(dr), file=sys.stderr)
    st['extra'] = sum(1 for num in d if num not in t)
    return st


def main():
    dump = 'build-native/tcpcast-dump'
    args = sys.argv[1:]
    verbose = '-v' in args
    args = [a for a in args if a != '-v']
    fail = False
    for path in args:
        s = compare(dump, path, verbose)
        bif = s['bif_ok'] / s['bif_n'] if s['bif_n'] else 1.0
        rtt = s['rtt_ok'] / s['rtt_n'] if s['rtt_n'] else 1.0
        extra = (s['bif_extra'] + s['rtt_extra']) / max(1, s['bif_n'] + s['rtt_n'])
        retrans_ok = s['retrans_diff'] <= max(1, s['retrans_t'] // 1000)
        ok = (bif >= 0.999 and rtt >= 0.999 and extra <= 0.001 and s['missing'] == 0 and s['extra'] == 0 and s['field_diff'] == 0
              and retrans_ok)
        fail |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {path}: packets {s['frames_t']} (ours {s['frames_d']}, missing {s['missing']}, extra {s['extra']},"
              f" field diffs {s['field_diff']}), bif {s['bif_ok']}/{s['bif_n']} ({bif:.5f}) extra {s['bif_extra']},"
              f" ack_rtt {s['rtt_ok']}/{s['rtt_n']} ({rtt:.5f}) extra {s['rtt_extra']},"
              f" retransmissions {s['retrans_t']} (flag differs on {s['retrans_diff']})")
    sys.exit(1 if fail else 0)


if __name__ == '__main__':
    main()
