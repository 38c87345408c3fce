// Per-packet TSV in tshark's `-T fields` layout (frame.number, frame.time_epoch, tcp.stream, ip.src, tcp.srcport, ip.dst, tcp.dstport, tcp.len, tcp.analysis.ack_rtt, tcp.analysis.bytes_in_flight).
//
// Formatting matches tshark 4.0 so `diff` works: epoch time and ack RTT with exactly 9 decimals, integers plain,
// empty fields where tshark prints nothing (the native side sends -1), IPv6 addresses in RFC 5952 form in the ip columns.
import type { PacketBatch } from '../native';

const NS_PER_S = 1_000_000_000;

function nineDecimals(ns: number): string {
  const whole = Math.floor(ns / NS_PER_S);
  const frac = ns - whole * NS_PER_S;
  return `${whole}.${String(frac).padStart(9, '0')}`;
}

/** RFC 5952: lowercase hex, no leading zeros, the longest run (>= 2) of zero groups as '::', IPv4-mapped as dotted. */
export function formatIpv6(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatAddress(version: number, bytes: Uint8Array, offset: number): string {
  if (version === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  return formatIpv6(bytes, offset);
}

/**
 * Formats a whole batch into one string (one write per batch). Addresses are formatted once per stream and
 * direction: a connection has two, and formatting is the costliest part of a row.
 */
export class PacketTsvFormatter {
  private readonly addressCache = new Map<number, { srcFirst: number; a: string; b: string }>();

  private addresses(batch: PacketBatch, i: number): [string, string] {
    const stream = batch.stream[i];
    const version = batch.ipVersion[i];
    const width = version === 4 ? 4 : 16;
    const srcFirst = firstWord(batch.src, i * 16);
    let entry = this.addressCache.get(stream);
    if (!entry || (entry.srcFirst !== srcFirst && firstWord(batch.dst, i * 16) !== entry.srcFirst) || width === 16) {
      // IPv6 endpoints can share their first 4 bytes, so they are not cached by that prefix.
      const a = formatAddress(version, batch.src, i * 16);
      const b = formatAddress(version, batch.dst, i * 16);
      if (width === 16) return [a, b];
      entry = { srcFirst, a, b };
      this.addressCache.set(stream, entry);
    }
    return entry.srcFirst === srcFirst ? [entry.a, entry.b] : [entry.b, entry.a];
  }

  format(batch: PacketBatch): string {
    const lines: string[] = new Array(batch.count);
    for (let i = 0; i < batch.count; i++) {
      const [src, dst] = this.addresses(batch, i);
      const rtt = batch.ackRttNs[i];
      const bif = batch.bytesInFlight[i];
      lines[i] =
        `${batch.frameNumber[i]}\t${batch.tsSec[i]}.${String(batch.tsNsec[i]).padStart(9, '0')}\t${batch.stream[i]}\t` +
        `${src}\t${batch.sport[i]}\t${dst}\t${batch.dport[i]}\t${batch.tcpLen[i]}\t` +
        `${rtt < 0 ? '' : nineDecimals(rtt)}\t${bif < 0 ? '' : bif}\n`;
    }
    return lines.join('');
  }
}

function firstWord(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}
