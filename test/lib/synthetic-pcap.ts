// Writes pcap files of made-up TCP traffic (SYN floods, many short connections, exact lifecycles) for tests that need no root or namespaces, any size.
import { closeSync, openSync, writeSync } from 'node:fs';

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;

export type Ipv4 = [number, number, number, number];

export interface Segment {
  tsNs: bigint;
  src: Ipv4;
  dst: Ipv4;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCP flag bits (FIN 1, SYN 2, RST 4, PSH 8, ACK 16). */
  flags: number;
  payload: number;
}

export function ipv4(addr: string): Ipv4 {
  return addr.split('.').map(Number) as Ipv4;
}

const HEADER_BYTES = 14 + 20 + 20;

/** Streams segments into a nanosecond pcap (Ethernet, IPv4, TCP without options; payload bytes are zeros). */
export class PcapWriter {
  private readonly fd: number;
  private chunk = Buffer.alloc(1 << 20);
  private used = 0;
  count = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, fileHeader());
  }

  write(s: Segment): void {
    if (this.used + recordBytes(s) > this.chunk.length) this.flush();
    this.used = encodeRecord(s, this.chunk, this.used);
    this.count++;
  }

  private flush(): void {
    writeSync(this.fd, this.chunk, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** The 24-byte file header: nanosecond pcap (magic a1b23c4d), LINKTYPE_ETHERNET. */
function fileHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

function recordBytes(s: Segment): number {
  return 16 + HEADER_BYTES + s.payload;
}

/** Writes one record (header + Ethernet/IPv4/TCP frame, zero checksums: the engine does not check them) at o; returns its end. */
function encodeRecord(s: Segment, b: Buffer, o: number): number {
  const len = HEADER_BYTES + s.payload;
  b.writeUInt32LE(Number(s.tsNs / 1_000_000_000n), o);
  b.writeUInt32LE(Number(s.tsNs % 1_000_000_000n), o + 4);
  b.writeUInt32LE(len, o + 8);
  b.writeUInt32LE(len, o + 12);
  o += 16;
  b.fill(0, o, o + len);
  b.writeUInt16BE(0x0800, o + 12); // Ethernet: IPv4
  const ip = o + 14;
  b[ip] = 0x45;
  b.writeUInt16BE(20 + 20 + s.payload, ip + 2);
  b[ip + 8] = 64;
  b[ip + 9] = 6; // TCP
  b.set(s.src, ip + 12);
  b.set(s.dst, ip + 16);
  const tcp = ip + 20;
  b.writeUInt16BE(s.sport, tcp);
  b.writeUInt16BE(s.dport, tcp + 2);
  b.writeUInt32BE(s.seq >>> 0, tcp + 4);
  b.writeUInt32BE(s.ack >>> 0, tcp + 8);
  b[tcp + 12] = 5 << 4;
  b[tcp + 13] = s.flags;
  b.writeUInt16BE(65535, tcp + 14);
  return o + len;
}

/** The whole pcap of `segments`, in the given order, in memory (small captures). */
export function pcapOf(segments: Segment[]): Buffer {
  const body = Buffer.alloc(segments.reduce((n, s) => n + recordBytes(s), 0));
  let o = 0;
  for (const s of segments) o = encodeRecord(s, body, o);
  return Buffer.concat([fileHeader(), body]);
}

/**
 * One whole connection from `client`: handshake, `segments` data segments of `bytes` each acknowledged 100 us
 * later, FIN both ways. Returns the time after its last packet.
 */
export function writeConnection(w: PcapWriter, tsNs: bigint, client: [number, number, number, number], sport: number, segments: number, bytes: number): bigint {
  const server: [number, number, number, number] = [10, 0, 0, 2];
  const c2s = { src: client, dst: server, sport, dport: 5201 };
  const s2c = { src: server, dst: client, sport: 5201, dport: sport };
  const us = 1000n;
  let t = tsNs;
  let cseq = 1000;
  const sseq = 5000;
  w.write({ ...c2s, tsNs: t, seq: cseq, ack: 0, flags: SYN, payload: 0 });
  w.write({ ...s2c, tsNs: (t += 100n * us), seq: sseq, ack: cseq + 1, flags: SYN | ACK, payload: 0 });
  cseq++;
  w.write({ ...c2s, tsNs: (t += 100n * us), seq: cseq, ack: sseq + 1, flags: ACK, payload: 0 });
  for (let i = 0; i < segments; i++) {
    w.write({ ...c2s, tsNs: (t += 500n * us), seq: cseq, ack: sseq + 1, flags: ACK | PSH, payload: bytes });
    cseq += bytes;
    w.write({ ...s2c, tsNs: t + 100n * us, seq: sseq + 1, ack: cseq, flags: ACK, payload: 0 });
  }
  w.write({ ...c2s, tsNs: (t += 500n * us), seq: cseq, ack: sseq + 1, flags: FIN | ACK, payload: 0 });
  w.write({ ...s2c, tsNs: (t += 100n * us), seq: sseq + 1, ack: cseq + 1, flags: FIN | ACK, payload: 0 });
  w.write({ ...c2s, tsNs: (t += 100n * us), seq: cseq + 1, ack: sseq + 2, flags: ACK, payload: 0 });
  return t;
}

/**
 * A whole short connection: handshake, `segments` data segments of `size` bytes each ACKed at once, `gapNs`
 * apart, starting at `startNs`, no FIN. `isn` sets the client's initial sequence number (a new ISN on the same
 * 5-tuple is port reuse).
 */
export function shortConnection(opts: { startNs: bigint; client: string; server: string; sport: number; dport: number; segments: number; size: number; gapNs: bigint; isn?: number }): Segment[] {
  const { sport, dport, size } = opts;
  const client = ipv4(opts.client);
  const server = ipv4(opts.server);
  const c = { src: client, dst: server, sport, dport };
  const s = { src: server, dst: client, sport: dport, dport: sport };
  let t = opts.startNs;
  const isn = opts.isn ?? 1000;
  const sisn = 5000;
  const out: Segment[] = [
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
