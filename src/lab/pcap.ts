// A small reader for the lab's own captures (pcap, Ethernet, IPv4/TCP headers): handshake RTTs and ACK-delivered bytes per bin.
import { readFileSync } from 'node:fs';
import { TcpcastError } from '../errors';

/**
 * The lab checks its own results (tests, meta.json) without the engine, so that the lab's checks do not depend on
 * the code the lab's data is meant to train and test. Only what the lab needs: classic pcap, Ethernet, IPv4, TCP.
 */
export interface TcpPacket {
  tsNs: bigint;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  ipBytes: number;
  payloadBytes: number;
  /** SACK blocks [left, right) from the TCP options, when present. */
  sack?: Array<[number, number]>;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;

export function readTcpPackets(path: string): TcpPacket[] {
  const buf = readFileSync(path);
  if (buf.length < 24) throw new TcpcastError(`${path}: not a pcap file (too short)`, 'ERR_FILE_CORRUPT');
  const magicLE = buf.readUInt32LE(0);
  let little: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    little = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = buf.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new TcpcastError(`${path}: not a classic pcap file`, 'ERR_FILE_CORRUPT');
    little = false;
    nano = magicBE === 0xa1b23c4d;
  }
  const u32 = (off: number) => (little ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  if (u32(20) !== LINKTYPE_ETHERNET) throw new TcpcastError(`${path}: link type ${u32(20)}, expected Ethernet`, 'ERR_FILE_CORRUPT');
  const out: TcpPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = BigInt(u32(off));
    const frac = BigInt(u32(off + 4));
    const capLen = u32(off + 8);
    const data = off + 16;
    off = data + capLen;
    if (off > buf.length) break; // truncated last record (capture killed mid-write)
    const tsNs = sec * 1_000_000_000n + (nano ? frac : frac * 1000n);
    if (capLen < 14 + 20 || buf.readUInt16BE(data + 12) !== ETHERTYPE_IPV4) continue;
    const ip = data + 14;
    const ihl = (buf[ip] & 0x0f) * 4;
    if (buf[ip + 9] !== 6 || capLen < 14 + ihl + 20) continue;
    const ipBytes = buf.readUInt16BE(ip + 2);
    const tcp = ip + ihl;
    const dataOffset = (buf[tcp + 12] >> 4) * 4;
    const sack = readSackBlocks(buf, tcp + 20, Math.min(tcp + dataOffset, data + capLen));
    out.push({
      tsNs,
      src: `${buf[ip + 12]}.${buf[ip + 13]}.${buf[ip + 14]}.${buf[ip + 15]}`,
      dst: `${buf[ip + 16]}.${buf[ip + 17]}.${buf[ip + 18]}.${buf[ip + 19]}`,
      srcPort: buf.readUInt16BE(tcp),
      dstPort: buf.readUInt16BE(tcp + 2),
      seq: buf.readUInt32BE(tcp + 4),
      ack: buf.readUInt32BE(tcp + 8),
      flags: buf[tcp + 13],
      ipBytes,
      payloadBytes: Math.max(0, ipBytes - ihl - dataOffset),
      ...(sack ? { sack } : {}),
    });
  }
  return out;
}

/** Handshake RTTs in ns as seen by the capture point: SYN out to SYN-ACK back, one per connection. */
export function handshakeRttsNs(packets: TcpPacket[]): number[] {
  const synAt = new Map<string, bigint>();
  const rtts: number[] = [];
  for (const p of packets) {
    if ((p.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      const key = `${p.src}:${p.srcPort}>${p.dst}:${p.dstPort}`;
      if (!synAt.has(key)) synAt.set(key, p.tsNs);
    } else if ((p.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      const key = `${p.dst}:${p.dstPort}>${p.src}:${p.srcPort}`;
      const t = synAt.get(key);
      if (t !== undefined) {
        rtts.push(Number(p.tsNs - t));
        synAt.delete(key);
      }
    }
  }
  return rtts;
}

const TCP_OPTION_END = 0;
const TCP_OPTION_NOP = 1;
const TCP_OPTION_SACK = 5;

function readSackBlocks(buf: Buffer, start: number, end: number): Array<[number, number]> | undefined {
  let off = start;
  while (off < end) {
    const kind = buf[off];
    if (kind === TCP_OPTION_END) break;
    if (kind === TCP_OPTION_NOP) {
      off++;
      continue;
    }
    if (off + 1 >= end) break;
    const len = buf[off + 1];
    if (len < 2 || off + len > end) break;
    if (kind === TCP_OPTION_SACK) {
      const blocks: Array<[number, number]> = [];
      for (let b = off + 2; b + 8 <= off + len; b += 8) blocks.push([buf.readUInt32BE(b), buf.readUInt32BE(b + 4)]);
      return blocks;
    }
    off += len;
  }
  return undefined;
}

const SEQ_SPACE = 0x1_0000_0000;

/** Delivered ranges of one connection's data, in sequence numbers relative to its first ACK (no wraparound). */
class DeliveredRanges {
  private ranges: Array<[number, number]> = [];
  constructor(private readonly base: number) {}
  private rel(seq: number): number {
    return (seq - this.base + SEQ_SPACE) % SEQ_SPACE;
  }
  /** Adds [left, right) (absolute sequence numbers); returns how many bytes were not known delivered before. */
  add(left: number, right: number): number {
    let lo = this.rel(left);
    let hi = this.rel(right);
    // Ranges behind the base (old ACKs) or absurdly far ahead (misparse) are not deliveries.
    if (hi <= lo || hi - lo > SEQ_SPACE / 4 || hi > SEQ_SPACE / 2) return 0;
    const kept: Array<[number, number]> = [];
    let covered = 0;
    for (const [a, b] of this.ranges) {
      if (b < lo || a > hi) kept.push([a, b]);
      else {
        covered += b - a;
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    kept.push([lo, hi]);
    kept.sort((x, y) => x[0] - y[0]);
    this.ranges = kept;
    const added = hi - lo - covered;
    return added;
  }
}

/**
 * Bytes the receiver reported delivered (cumulative ACK plus SACK blocks, all connections from `sender`) per bin
 * of binNs from startNs. SACK matters: behind a deep queue a retransmission takes seconds, and cumulative ACKs
 * alone would credit everything received meanwhile to the moment the hole is filled.
 */
export function ackedBytesPerBin(packets: TcpPacket[], sender: string, startNs: bigint, binNs: bigint, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  const flows = new Map<string, { delivered: DeliveredRanges; firstAck: number }>();
  for (const p of packets) {
    if (p.dst !== sender || (p.flags & TCP_ACK) === 0) continue;
    const key = `${p.srcPort}:${p.dstPort}`;
    let flow = flows.get(key);
    if (!flow) {
      // The first ACK from the receiver (its SYN-ACK) marks the start of the sender's data.
      flow = { delivered: new DeliveredRanges(p.ack), firstAck: p.ack };
      flows.set(key, flow);
      continue;
    }
    let added = flow.delivered.add(flow.firstAck, p.ack);
    for (const [left, right] of p.sack ?? []) added += flow.delivered.add(left, right);
    if (added === 0 || p.tsNs < startNs) continue;
    const bin = Number((p.tsNs - startNs) / binNs);
    if (bin < bins) out[bin] += added;
  }
  return out;
}

/** Largest IP length and largest TCP payload among the sender's data segments: their ratio converts goodput to wire bytes. */
export function dataSegmentSizes(packets: TcpPacket[], sender: string): { maxIpBytes: number; maxPayloadBytes: number } {
  let maxIpBytes = 0;
  let maxPayloadBytes = 0;
  for (const p of packets) {
    if (p.src !== sender || p.payloadBytes === 0) continue;
    if (p.payloadBytes > maxPayloadBytes) {
      maxPayloadBytes = p.payloadBytes;
      maxIpBytes = p.ipBytes;
    }
  }
  return { maxIpBytes, maxPayloadBytes };
}
