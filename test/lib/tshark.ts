// The tshark reference for per-packet TCP metrics: its command line, a parser for the shared TSV, and the per-column comparison.
//
// `tcpcast packets FILE` prints one line per TCP packet with the columns tshark prints for
//   frame.number frame.time_epoch tcp.stream ip.src tcp.srcport ip.dst tcp.dstport tcp.len
//   tcp.analysis.ack_rtt tcp.analysis.bytes_in_flight
// (empty when there is no value). tshark needs ip.src and ipv6.src as separate fields; they are merged here
// into one address column so both sides parse the same way.
//
// Tunnelled packets carry several IP headers: tshark prints every occurrence (-E occurrence=a) and
// frame.protocols says whether the IP layer right before TCP is ip or ipv6; its last occurrence is the
// connection's address, which is what tcpcast prints.
//
// Times are compared as integer nanoseconds parsed from the decimal text, never as floats: a float of an
// epoch time in seconds keeps only ~0.2 us, coarser than the 1 us tolerance the RTT comparison allows.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const TSHARK_FIELDS = [
  'frame.number', 'frame.time_epoch', 'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport',
  'ip.dst', 'ipv6.dst', 'tcp.dstport', 'tcp.len', 'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight',
  'frame.protocols',
];

/**
 * tshark's argv for the reference. The analysis preferences are pinned (they are tshark's defaults) so a
 * user's own Wireshark preferences cannot change the reference.
 */
export function tsharkArgs(pcapPath: string): string[] {
  return [
    // tshark decodes VXLAN on 4789 only; tcpcast also on 8472, the Linux kernel's default VXLAN port.
    '-n', '-r', pcapPath, '-d', 'udp.port==8472,vxlan', '-Y', 'tcp',
    '-o', 'tcp.analyze_sequence_numbers:TRUE', '-o', 'tcp.track_bytes_in_flight:TRUE',
    '-o', 'tcp.relative_sequence_numbers:TRUE', '-o', 'tcp.calculate_timestamps:TRUE',
    '-T', 'fields', '-E', 'occurrence=a', ...TSHARK_FIELDS.flatMap((f) => ['-e', f]),
  ];
}

export interface PacketRow {
  frame: number;
  timeNs: bigint;
  stream: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  len: number;
  /** -1 when the tool printed nothing */
  ackRttNs: number;
  bytesInFlight: number;
}

const NS_PER_S = 1_000_000_000n;

/** "1700000000.123456789" -> 1700000000123456789n; fewer decimals are padded. */
export function decimalSecondsToNs(text: string): bigint {
  const [whole, frac = ''] = text.split('.');
  if (!/^\d+$/.test(whole) || !/^\d*$/.test(frac)) throw new Error(`not a decimal time: ${text}`);
  return BigInt(whole) * NS_PER_S + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

function optional(text: string | undefined, parse: (t: string) => number): number {
  return text === undefined || text === '' ? -1 : parse(text);
}

/** The address of the IP header that carries TCP: column at (ip) or at + 1 (ipv6), last occurrence. */
function innermost(c: string[], at: number): string {
  const layers = (c[12] ?? '').split(':');
  const tcpAt = layers.indexOf('tcp');
  const ips = layers.slice(0, tcpAt < 0 ? layers.length : tcpAt).filter((l) => l === 'ip' || l === 'ipv6');
  const v6 = ips.length > 0 ? ips[ips.length - 1] === 'ipv6' : !c[at];
  const all = (v6 ? c[at + 1] : c[at]) ?? '';
  return all.split(',').pop() ?? '';
}

/** Parses one line of either tool; header or comment lines (not starting with a frame number) give undefined. */
export function parseLine(line: string, tsharkLayout: boolean): PacketRow | undefined {
  if (!/^\d/.test(line)) return undefined;
  const c = line.split('\t');
  // tshark's layout has ip.src/ipv6.src and ip.dst/ipv6.dst side by side; tcpcast's has one column each.
  const [frame, time, stream, src, sport, dst, dport, len, rtt, bif] = tsharkLayout
    ? [c[0], c[1], c[2], innermost(c, 3), c[5], innermost(c, 6), c[8], c[9], c[10], c[11]]
    : c;
  return {
    frame: Number(frame),
    timeNs: decimalSecondsToNs(time),
    stream: Number(stream),
    src,
    sport: Number(sport),
    dst,
    dport: Number(dport),
    len: Number(len),
    ackRttNs: optional(rtt, (t) => Number(decimalSecondsToNs(t))),
    bytesInFlight: optional(bif, Number),
  };
}

/** Runs a command and parses its stdout TSV into rows keyed by frame number. */
export function readRows(cmd: string, args: string[], tsharkLayout: boolean): Promise<Map<number, PacketRow>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const rows = new Map<number, PacketRow>();
    let stderr = '';
    let parseError: Error | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (parseError) return;
      try {
        const row = parseLine(line, tsharkLayout);
        if (row) rows.set(row.frame, row);
      } catch (err) {
        parseError = new Error(`${cmd}: ${(err as Error).message} in line: ${line}`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-2000)}`));
      else if (parseError) reject(parseError);
      else resolvePromise(rows);
    });
  });
}

export interface Comparison {
  tsharkPackets: number;
  toolPackets: number;
  /** tshark rows the tool did not print, and tool rows tshark did not print */
  missingRows: number;
  extraRows: number;
  /** rows where stream, addresses, ports, len or time differ; first few kept for the failure message */
  otherColumnMismatches: number;
  firstMismatches: string[];
  bifSamples: number;
  bifMatched: number;
  bifExtra: number;
  rttSamples: number;
  rttMatched: number;
  rttExtra: number;
}

export const RTT_TOLERANCE_NS = 1000;

/** Joins on frame number and counts agreement per column (see the test for the thresholds). */
export function compareRows(reference: Map<number, PacketRow>, tool: Map<number, PacketRow>): Comparison {
  const c: Comparison = {
    tsharkPackets: reference.size, toolPackets: tool.size, missingRows: 0, extraRows: 0,
    otherColumnMismatches: 0, firstMismatches: [],
    bifSamples: 0, bifMatched: 0, bifExtra: 0, rttSamples: 0, rttMatched: 0, rttExtra: 0,
  };
  const note = (msg: string): void => {
    if (c.firstMismatches.length < 10) c.firstMismatches.push(msg);
  };
  for (const [frame, ref] of reference) {
    if (ref.bytesInFlight >= 0) c.bifSamples++;
    if (ref.ackRttNs >= 0) c.rttSamples++;
    const got = tool.get(frame);
    if (!got) {
      c.missingRows++;
      note(`frame ${frame}: missing`);
      continue;
    }
    const diffs: string[] = [];
    for (const key of ['timeNs', 'stream', 'src', 'sport', 'dst', 'dport', 'len'] as const) {
      if (got[key] !== ref[key]) diffs.push(`${key} ${String(got[key])} != tshark ${String(ref[key])}`);
    }
    if (diffs.length > 0) {
      c.otherColumnMismatches++;
      note(`frame ${frame}: ${diffs.join(', ')}`);
    }
    if (ref.bytesInFlight >= 0 && got.bytesInFlight === ref.bytesInFlight) c.bifMatched++;
    if (ref.bytesInFlight < 0 && got.bytesInFlight >= 0) c.bifExtra++;
    if (ref.ackRttNs >= 0 && got.ackRttNs >= 0 && Math.abs(got.ackRttNs - ref.ackRttNs) <= RTT_TOLERANCE_NS) c.rttMatched++;
    if (ref.ackRttNs < 0 && got.ackRttNs >= 0) c.rttExtra++;
  }
  for (const frame of tool.keys()) {
    if (!reference.has(frame)) {
      c.extraRows++;
      note(`frame ${frame}: not a TCP packet for tshark`);
    }
  }
  return c;
}

export function rate(part: number, whole: number): number {
  return whole === 0 ? 1 : part / whole;
}
