// Pantheon (mahimahi tunnel) logs -> windows rows in the CSV schema, from the egress (delivered) side.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TcpcastError } from '../errors';

export interface PantheonWindow {
  window_end_ns: bigint;
  size: number;
  delay: number;
  bif: number;
  iat_mean: number;
  iat_std: number;
  throughput_mbps: number;
  delay_gradient: number;
  bif_gradient: number;
  is_silent: number;
  packets: number;
  retransmits: number;
  min_rtt: number;
}

interface Event {
  ts_ms: number;
  ingress: boolean;
  bytes: number;
  delay_ms: number;
}

/**
 * Lines: `# init timestamp: <ms>` header, `<ts> + <bytes>` (ingress) and `<ts> - <bytes> <delay_ms>` (egress);
 * merged multi-flow logs carry a flow id before the size (`<ts> + <flow> <bytes>`, `<ts> - <flow> <bytes> <delay>`),
 * told apart by the field count. Flows are aggregated.
 */
export function parsePantheonLog(text: string, name = 'log'): { initMs: number; events: Event[] } {
  let initMs = 0;
  const events: Event[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const m = /^#\s*init timestamp:\s*([0-9.]+)/.exec(trimmed);
      if (m) initMs = Number(m[1]);
      return;
    }
    const f = trimmed.split(/\s+/);
    const ts = Number(f[0]);
    let ev: Event | null = null;
    if (f[1] === '+' && (f.length === 3 || f.length === 4)) ev = { ts_ms: ts, ingress: true, bytes: Number(f[f.length - 1]), delay_ms: 0 };
    else if (f[1] === '-' && (f.length === 4 || f.length === 5)) ev = { ts_ms: ts, ingress: false, bytes: Number(f[f.length - 2]), delay_ms: Number(f[f.length - 1]) };
    if (!ev || !Number.isFinite(ev.ts_ms) || !Number.isFinite(ev.bytes) || !Number.isFinite(ev.delay_ms))
      throw new TcpcastError(`${name}:${i + 1}: not a Pantheon tunnel log line: ${JSON.stringify(trimmed)}`, 'TCM_DATA_INVALID');
    events.push(ev);
  });
  events.sort((a, b) => a.ts_ms - b.ts_ms);
  return { initMs, events };
}

/**
 * Windows of `windowMs` on a grid starting at the init timestamp (log ts 0), from the window holding the first
 * event to the one holding the last. Differences from the capture engine (see docs/forecast.md): delay is the
 * mean ONE-WAY delay of delivered packets (the engine measures RTT); bif = bytes that entered the link minus
 * bytes delivered, at window end (queue + propagation, not the sender's unacknowledged bytes); min_rtt is the
 * minimum one-way delay; retransmits are unknown (0). Like the engine, delay carries forward over silent windows.
 */
export function pantheonWindows(text: string, windowMs = 50, name = 'log'): { initMs: number; windows: PantheonWindow[] } {
  const { initMs, events } = parsePantheonLog(text, name);
  const windows: PantheonWindow[] = [];
  if (events.length === 0) return { initMs, windows };
  const first = Math.floor(events[0].ts_ms / windowMs);
  const last = Math.floor(events[events.length - 1].ts_ms / windowMs);
  let e = 0;
  let ingressTotal = 0;
  let egressTotal = 0;
  let prevDelay = 0;
  let prevBif = 0;
  let lastEgressTs: number | null = null;
  for (let w = first; w <= last; w++) {
    const endMs = (w + 1) * windowMs;
    let bytes = 0, packets = 0, delaySum = 0, minDelay = Infinity;
    const iats: number[] = [];
    for (; e < events.length && events[e].ts_ms < endMs; e++) {
      const ev = events[e];
      if (ev.ingress) {
        ingressTotal += ev.bytes;
        continue;
      }
      egressTotal += ev.bytes;
      bytes += ev.bytes;
      packets++;
      delaySum += ev.delay_ms;
      minDelay = Math.min(minDelay, ev.delay_ms);
      // Inter-arrival times within the window only: the gap from the previous window's last packet is silence, not a rate.
      if (lastEgressTs !== null && packets > 1) iats.push(ev.ts_ms - lastEgressTs);
      lastEgressTs = ev.ts_ms;
    }
    const delay = packets > 0 ? delaySum / packets : prevDelay;
    const bif = ingressTotal - egressTotal;
    const iatMean = iats.length ? iats.reduce((a, b) => a + b, 0) / iats.length : 0;
    const iatStd = iats.length ? Math.sqrt(iats.reduce((a, b) => a + (b - iatMean) ** 2, 0) / iats.length) : 0;
    windows.push({
      window_end_ns: BigInt(Math.round((initMs + endMs) * 1e6)),
      size: bytes,
      delay,
      bif,
      iat_mean: iatMean,
      iat_std: iatStd,
      throughput_mbps: (bytes * 8) / (windowMs / 1000) / 1e6,
      delay_gradient: windows.length ? delay - prevDelay : 0,
      bif_gradient: windows.length ? bif - prevBif : 0,
      is_silent: packets === 0 ? 1 : 0,
      packets,
      retransmits: 0,
      min_rtt: packets > 0 ? minDelay : 0,
    });
    prevDelay = delay;
    prevBif = bif;
  }
  return { initMs, windows };
}

/** Rows for windowsToCsv(): iface "pantheon", series = the log's file name. */
export function pantheonCsvRows(path: string, windowMs = 50): Record<string, string | number | null>[] {
  const { windows } = pantheonWindows(readFileSync(path, 'utf8'), windowMs, path);
  const series = basename(path).replace(/\.log$/, '');
  return windows.map((w) => ({ ...w, window_end_ns: w.window_end_ns.toString(), iface: 'pantheon', series, predicted_throughput: null }));
}
