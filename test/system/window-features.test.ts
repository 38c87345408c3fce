// The "all" series' window features of real captures, recomputed here from tshark's per-packet fields (docs/features.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../src/capture';
import { closeRanges, rowAt, SeriesNames } from '../../src/capture/rows';
import type { WindowRow } from '../../src/features';
import { ensureTestCaptures } from '../fixtures/captures';
import { decimalSecondsToNs } from '../lib/tshark';
import { netnsUnavailableReason } from '../lib/netns';

const ROOT = join(__dirname, '..', '..', '..');
const skip = netnsUnavailableReason() ?? (existsSync(join(ROOT, 'build', 'Release', 'tcpcast.node')) ? undefined : 'addon not built');
const WINDOW_NS = 50_000_000n;
const RETRANSMISSION_FLAGS = ['tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission', 'tcp.analysis.out_of_order'];
const FIELDS = ['frame.time_epoch', 'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'tcp.len', 'tcp.seq', 'tcp.nxtseq', 'tcp.ack', 'tcp.flags.ack', 'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight', ...RETRANSMISSION_FLAGS, 'tcp.ack_raw'];

interface Pkt {
  ts: bigint;
  stream: number;
  dir: string;
  len: number;
  seq: number;
  nxtseq: number;
  ack: number | null;
  /** The raw (absolute) ACK number when the ACK flag is set. */
  ackRaw: number | null;
  ackRttMs: number | null;
  bif: number | null;
  retransmission: boolean;
}

function tsharkPackets(pcap: string): Pkt[] {
  const args = ['-r', pcap, '-Y', 'tcp', '-T', 'fields', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])];
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const c = line.split('\t');
      const num = (s: string) => (s === '' ? null : Number(s));
      return {
        ts: decimalSecondsToNs(c[0]),
        stream: Number(c[1]),
        dir: `${c[2] || c[3]}:${c[4]}`,
        len: Number(c[5]),
        seq: Number(c[6]),
        nxtseq: Number(c[7] || c[6]),
        ack: c[9] === '1' ? num(c[8]) : null,
        ackRttMs: num(c[10]) === null ? null : Number(c[10]) * 1000,
        bif: num(c[11]),
        retransmission: c.slice(12, 16).some((f) => f !== ''),
        ackRaw: c[9] === '1' ? num(c[16]) : null,
      };
    });
}

interface Expected {
  end: bigint;
  size: number;
  packets: number;
  delay: number;
  minRtt: number;
  iatMean: number;
  iatStd: number;
  bif: number;
  retransmits: number;
  ackedBytes: number;
}

/** docs/features.md, written again from the definitions, on tshark's fields instead of the engine's. */
function expectedAllSeries(pkts: Pkt[]): Expected[] {
  const out: Expected[] = [];
  let delay = 0;
  // Per connection: payload per direction, last BIF of each direction, highest sequence sent per direction.
  const conns = new Map<number, { payload: Map<string, number>; lastBif: Map<string, number>; highest: Map<string, number>; acked: Map<string, number> }>();
  const connBif = (c: NonNullable<ReturnType<typeof conns.get>>): number => {
    let dataDir = '';
    let most = -1;
    for (const [d, p] of c.payload) if (p > most) [dataDir, most] = [d, p];
    const bif = c.lastBif.get(dataDir) ?? 0;
    // Everything the data direction sent is acknowledged: nothing is in flight.
    return (c.acked.get(dataDir) ?? -1) >= (c.highest.get(dataDir) ?? 0) ? 0 : bif;
  };
  // acked_bytes: per connection and direction, the highest raw ACK sent so far (the first one is the baseline).
  const highestAck = new Map<string, number>();
  const ackAdvance = (p: Pkt): number => {
    if (p.ackRaw === null) return 0;
    const key = `${p.stream}|${p.dir}`;
    const prev = highestAck.get(key);
    if (prev === undefined) {
      highestAck.set(key, p.ackRaw);
      return 0;
    }
    const advance = (p.ackRaw - prev + 2 ** 32) % 2 ** 32;
    if (advance === 0 || advance >= 2 ** 31) return 0;
    highestAck.set(key, p.ackRaw);
    return advance;
  };
  let i = 0;
  let windowEnd = (pkts[0].ts / WINDOW_NS + 1n) * WINDOW_NS;
  while (i < pkts.length) {
    const inWindow: Pkt[] = [];
    while (i < pkts.length && pkts[i].ts < windowEnd) inWindow.push(pkts[i++]);
    let ackedBytes = 0;
    for (const p of inWindow) {
      ackedBytes += ackAdvance(p);
      let c = conns.get(p.stream);
      if (!c) conns.set(p.stream, (c = { payload: new Map(), lastBif: new Map(), highest: new Map(), acked: new Map() }));
      c.payload.set(p.dir, (c.payload.get(p.dir) ?? 0) + p.len);
      if (p.bif !== null) c.lastBif.set(p.dir, p.bif);
      if (p.len > 0) c.highest.set(p.dir, Math.max(c.highest.get(p.dir) ?? 0, p.nxtseq));
      if (p.ack !== null) for (const other of c.payload.keys()) if (other !== p.dir) c.acked.set(other, Math.max(c.acked.get(other) ?? 0, p.ack));
    }
    const samples = inWindow.map((p) => p.ackRttMs).filter((r): r is number => r !== null && r > 0);
    if (samples.length > 0) delay = samples.reduce((a, b) => a + b, 0) / samples.length;
    const gaps: number[] = [];
    let latest = inWindow[0]?.ts ?? 0n;
    for (let k = 1; k < inWindow.length; k++) {
      gaps.push(Math.max(0, Number(inWindow[k].ts - latest)) / 1e6);
      if (inWindow[k].ts > latest) latest = inWindow[k].ts;
    }
    const iatMean = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
    const iatStd = gaps.length ? Math.sqrt(gaps.reduce((a, g) => a + (g - iatMean) ** 2, 0) / gaps.length) : 0;
    let bif = 0;
    for (const c of conns.values()) bif += connBif(c);
    out.push({
      end: windowEnd,
      size: inWindow.reduce((a, p) => a + p.len, 0),
      packets: inWindow.length,
      delay,
      minRtt: samples.length ? Math.min(...samples) : 0,
      iatMean,
      iatStd,
      bif,
      retransmits: inWindow.filter((p) => p.retransmission).length,
      ackedBytes,
    });
    windowEnd += WINDOW_NS;
  }
  return out;
}

async function engineAllSeries(pcap: string): Promise<WindowRow[]> {
  const names = new SeriesNames();
  const rows: WindowRow[] = [];
  for await (const batch of openCapture({ files: [pcap] })) {
    names.add(batch);
    for (const [from, to] of closeRanges(batch)) for (let i = from; i < to; i++) rows.push(rowAt(batch, i, names));
  }
  return rows.filter((r) => r.series === 'all');
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

test('window features of the "all" series equal an independent computation from tshark on real captures', { skip, timeout: 300_000 }, async () => {
  const captures = await ensureTestCaptures();
  for (const info of captures.slice(0, 3)) {
    const pcap = info.path;
    const expected = expectedAllSeries(tsharkPackets(pcap));
    const actual = await engineAllSeries(pcap);
    assert.equal(actual.length, expected.length, `${pcap}: one window per 50 ms from the first packet to the last`);
    const mismatches: Record<string, number> = {};
    for (const [k, e] of expected.entries()) {
      const a = actual[k];
      assert.equal(a.windowEndNs, e.end, `${pcap} window ${k} end`);
      const v = a.values;
      assert.equal(v.size, e.size, `${pcap} window ${k} size`);
      assert.equal(v.packets, e.packets, `${pcap} window ${k} packets`);
      assert.equal(v.is_silent, e.packets === 0 ? 1 : 0);
      assert.ok(close(v.throughput_mbps, (e.size * 8) / 0.05 / 1e6), `${pcap} window ${k} throughput`);
      const checks: Array<[string, number, number]> = [
        ['delay', v.delay, e.delay],
        ['min_rtt', v.min_rtt, e.minRtt],
        ['iat_mean', v.iat_mean, e.iatMean],
        ['iat_std', v.iat_std, e.iatStd],
        ['bif', v.bif, e.bif],
        ['retransmits', v.retransmits, e.retransmits],
        ['acked_bytes', v.acked_bytes, e.ackedBytes],
      ];
      for (const [name, got, want] of checks) {
        if (close(got, want)) continue;
        mismatches[name] = (mismatches[name] ?? 0) + 1;
        if (process.env.TCPCAST_DEBUG) console.log(`# window ${k}/${expected.length} ${name}: engine ${got} independent ${want} (packets ${e.packets})`);
      }
      if (k > 0) {
        assert.ok(close(v.delay_gradient, v.delay - actual[k - 1].values.delay), 'delay_gradient is the difference of delays');
        assert.ok(close(v.bif_gradient, v.bif - actual[k - 1].values.bif), 'bif_gradient is the difference of bif');
      }
    }
    console.log(`# ${pcap}: ${expected.length} windows; mismatching windows per feature: ${JSON.stringify(mismatches)}`);
    for (const name of ['delay', 'min_rtt', 'iat_mean', 'iat_std', 'retransmits', 'acked_bytes']) assert.equal(mismatches[name] ?? 0, 0, `${name} equal in every window`);
    // bif depends on which direction counts as "data" and on acks seen; allow a few windows of disagreement at handshakes.
    assert.ok((mismatches.bif ?? 0) <= Math.ceil(expected.length * 0.01), `bif equal in >= 99% of windows (${mismatches.bif ?? 0} differ)`);
  }
});
