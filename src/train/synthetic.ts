// SYNTHETIC windows from mahimahi link traces, to build and test the training machinery before real data exists.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { seededRandom } from './dataset';

/** mahimahi trace: one line per 1500-byte delivery opportunity, in ms. Returns capacity per window in Mbps. */
export function traceCapacityMbps(path: string, windowMs = 50, maxWindows = Infinity): Float64Array {
  const times = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(Number);
  const windows = Math.min(maxWindows, Math.floor(times[times.length - 1] / windowMs) + 1);
  const count = new Float64Array(windows);
  for (const t of times) {
    const w = Math.floor(t / windowMs);
    if (w < windows) count[w]++;
  }
  return count.map((c) => (c * 1500 * 8) / (windowMs / 1000) / 1e6);
}

/**
 * A crude AIMD sender over a fluid bottleneck queue following the trace's capacity: throughput is what the
 * link delivers, delay = base RTT + queueing. Not a TCP model; it only has to be learnable and labelled
 * synthetic (iface "synthetic"), never mistaken for measured data.
 */
export function syntheticWindows(tracePath: string, opts: { windowMs?: number; maxWindows?: number; seed?: number; baseRttMs?: number } = {}) {
  const windowMs = opts.windowMs ?? 50;
  const capacity = traceCapacityMbps(tracePath, windowMs, opts.maxWindows);
  const random = seededRandom(opts.seed ?? 1);
  const baseRttMs = opts.baseRttMs ?? 40;
  const dt = windowMs / 1000;
  let rateMbps = 2;
  let queueBytes = 0;
  let prevDelay = baseRttMs;
  let prevBif = 0;
  const rows: Record<string, string | number | null>[] = [];
  const series = `synthetic:${basename(tracePath)}`;
  for (let w = 0; w < capacity.length; w++) {
    const capBytes = (capacity[w] * 1e6 * dt) / 8;
    const sentBytes = (rateMbps * 1e6 * dt) / 8;
    const delivered = Math.min(capBytes, queueBytes + sentBytes);
    queueBytes = Math.max(0, queueBytes + sentBytes - delivered);
    const delay = baseRttMs + (capacity[w] > 0 ? (queueBytes * 8) / (capacity[w] * 1e6) * 1000 : 200) + random() * 2;
    const bif = queueBytes + ((rateMbps * 1e6) / 8) * (baseRttMs / 1000);
    const packets = Math.round(delivered / 1448);
    const iatMean = packets > 1 ? windowMs / packets : 0;
    if (queueBytes > 150000) rateMbps = Math.max(1, rateMbps / 2);
    else rateMbps += 1.5;
    rows.push({
      window_end_ns: String(BigInt(w + 1) * BigInt(windowMs) * 1_000_000n),
      iface: 'synthetic',
      series,
      size: Math.round(delivered),
      delay,
      bif: Math.round(bif),
      iat_mean: iatMean,
      iat_std: iatMean * 0.3 * random(),
      throughput_mbps: (delivered * 8) / dt / 1e6,
      delay_gradient: delay - prevDelay,
      bif_gradient: Math.round(bif) - prevBif,
      is_silent: packets === 0 ? 1 : 0,
      packets,
      retransmits: 0,
      min_rtt: packets > 0 ? baseRttMs : 0,
      predicted_throughput: null,
    });
    prevDelay = delay;
    prevBif = Math.round(bif);
  }
  return rows;
}
