// Writes small classic pcap files of hand-made Ethernet/IPv4/TCP segments, for tests that need exact connection lifecycles without root.

export interface TcpSegment {
  tsNs: bigint;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCP flag bits (FIN 1, SYN 2, RST 4, PSH 8, ACK 16). */
  flags: number;
  payload: number;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const ACK = 0x10;

function ipv4Bytes(addr: string): number[] {
  return addr.split('.').map(Number);
}

/** One Ethernet frame holding the segment (no TCP options, zero checksums: the engine does not check them). */
function frame(s: TcpSegment): Buffer {
  const tcp = Buffer.alloc(20 + s.payload);
  tcp.writeUInt16BE(s.sport, 0);
  tcp.writeUInt16BE(s.dport, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.ack >>> 0, 8);
  tcp.writeUInt16BE((5 << 12) | s.flags, 12);
  tcp.writeUInt16BE(65535, 14);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcp.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(ipv4Bytes(s.src)).copy(ip, 12);
  Buffer.from(ipv4Bytes(s.dst)).copy(ip, 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, tcp]);
}

/** A nanosecond-resolution pcap (magic a1b23c4d, LINKTYPE_ETHERNET) of the segments, in the given order. */
export function pcapOf(segments: TcpSegment[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const parts: Buffer[] = [header];
  for (const s of segments) {
    const f = frame(s);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Number(s.tsNs / 1_000_000_000n), 0);
    rec.writeUInt32LE(Number(s.tsNs % 1_000_000_000n), 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  return Buffer.concat(parts);
}

/**
 * A whole short connection: handshake, `segments` data segments of `size` bytes each ACKed at once, `gapNs`
 * apart, starting at `startNs`. `isn` sets the client's initial sequence number (a new ISN on the same
 * 5-tuple is port reuse).
 */
export function shortConnection(opts: { startNs: bigint; client: string; server: string; sport: number; dport: number; segments: number; size: number; gapNs: bigint; isn?: number }): TcpSegment[] {
  const { client, server, sport, dport, size } = opts;
  const c = { src: client, dst: server, sport, dport };
  const s = { src: server, dst: client, sport: dport, dport: sport };
  let t = opts.startNs;
  const isn = opts.isn ?? 1000;
  const sisn = 5000;
  const out: TcpSegment[] = [
    { ...c, tsNs: t, seq: isn, ack: 0, flags: SYN, payload: 0 },
    { ...s, tsNs: (t += 1_000_000n), seq: sisn, ack: isn + 1, flags: SYN | ACK, payload: 0 },
    { ...c, tsNs: (t += 1_000_000n), seq: isn + 1, ack: sisn + 1, flags: ACK, payload: 0 },
  ];
  let seq = isn + 1;
  for (let i = 0; i < opts.segments; i++) {
    out.push({ ...c, tsNs: (t += opts.gapNs), seq, ack: sisn + 1, flags: ACK, payload: size });
    seq += size;
    out.push({ ...s, tsNs: t + 500_000n, seq: sisn + 1, ack: seq, flags: ACK, payload: 0 });
  }
  return out;
}
