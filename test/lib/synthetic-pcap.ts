// Writes pcap files of made-up TCP traffic (SYN floods, many short connections) for tests of the flow table's bounds: no namespaces, any size.
import { closeSync, openSync, writeSync } from 'node:fs';

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;

export interface Segment {
  tsNs: bigint;
  src: [number, number, number, number];
  dst: [number, number, number, number];
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payload: number;
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
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // Ethernet
    writeSync(this.fd, h);
  }

  write(s: Segment): void {
    const len = HEADER_BYTES + s.payload;
    if (this.used + 16 + len > this.chunk.length) this.flush();
    const b = this.chunk;
    let o = this.used;
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
    this.used = o + len;
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
