// Mahimahi link traces: loading, capacity per time bin, fixed-rate traces, and session names that encode trace and cc.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Errors } from '../errors';

/** Bytes one trace line (a delivery opportunity) may carry, as in mahimahi. */
export const OPPORTUNITY_BYTES = 1500;
export const MS_PER_S = 1000;

/** A trace as millisecond opportunity timestamps; the last timestamp is the loop period. */
export interface LinkTrace {
  path: string;
  opportunitiesMs: Float64Array;
  periodMs: number;
}

export function loadTrace(path: string): LinkTrace {
  const lines = readFileSync(path, 'utf8').split('\n');
  const values: number[] = [];
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    const ms = Number(text);
    if (!Number.isInteger(ms) || ms < 0) throw Errors.invalidOption(`${path}: not a millisecond timestamp: "${text}"`);
    if (values.length > 0 && ms < values[values.length - 1]) throw Errors.invalidOption(`${path}: timestamps must be nondecreasing`);
    values.push(ms);
  }
  if (values.length === 0) throw Errors.invalidOption(`${path}: no timestamps`);
  const periodMs = values[values.length - 1];
  if (periodMs === 0) throw Errors.invalidOption(`${path}: trace must last a nonzero time`);
  return { path, opportunitiesMs: Float64Array.from(values), periodMs };
}

/** Mean capacity of the whole trace in Mbit/s. */
export function meanCapacityMbps(trace: LinkTrace): number {
  return (trace.opportunitiesMs.length * OPPORTUNITY_BYTES * 8) / (trace.periodMs * 1000);
}

/**
 * Capacity in bytes of each bin of binMs, for emulator time [0, durationMs) when the emulator started the trace
 * at offsetMs (it loops, like the emulator). Bin i covers emulator time [i*binMs, (i+1)*binMs).
 */
export function capacityBytesPerBin(trace: LinkTrace, offsetMs: number, durationMs: number, binMs: number): number[] {
  const bins = new Array<number>(Math.ceil(durationMs / binMs)).fill(0);
  const period = trace.periodMs;
  const offset = offsetMs % period;
  // Walk loops of the trace: in loop k, trace time t is emulator time t - offset + k*period.
  for (let k = 0; ; k++) {
    const shift = k * period - offset;
    if (shift >= durationMs) break;
    for (const t of trace.opportunitiesMs) {
      // Loop 0 starts at the offset; later loops start at their first line (mahimahi wraps after the last).
      if (k === 0 && t < offset) continue;
      const emuMs = t + shift;
      if (emuMs >= durationMs) break;
      bins[Math.floor(emuMs / binMs)] += OPPORTUNITY_BYTES;
    }
  }
  return bins;
}

/** Writes a constant-rate trace (mahimahi format) of rateMbps: packets spread evenly over a one-second period. */
export function writeFixedRateTrace(path: string, rateMbps: number): void {
  const packetsPerS = Math.round((rateMbps * 1e6) / (8 * OPPORTUNITY_BYTES));
  if (packetsPerS < 1) throw Errors.invalidOption(`rate ${rateMbps} Mbit/s is below one packet per second`);
  const lines: number[] = [];
  for (let i = 1; i <= packetsPerS; i++) lines.push(Math.max(1, Math.round((i * MS_PER_S) / packetsPerS)));
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Session name used as folder name and as the split key in evaluation, e.g. ATT-LTE-driving.down__cubic__d20. */
export function sessionName(tracePath: string, cc: string, delayMs: number): string {
  return `${basename(tracePath)}__${cc}__d${delayMs}`;
}
