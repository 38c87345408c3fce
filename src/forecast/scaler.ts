// RobustScaler (median / inter-quartile range) and the sequence encoding that training, evaluation and inference share.
import { FEATURE_NAMES } from '../features';

/**
 * What the model's output means (model.json `target.mode`). Declared here, where the encoding lives, and
 * re-exported by spec.ts: spec.ts imports this module, so importing spec.ts back would be a cycle.
 */
export const TARGET_MODES = ['level', 'delta', 'relative'] as const;
export type TargetMode = (typeof TARGET_MODES)[number];

/** Per-column centre (median) and scale (IQR, 1 where the IQR is 0), as stored in model.json. */
export interface RobustScalerParams {
  center: number[];
  scale: number[];
}

/** Linear-interpolated quantile of a sorted array (the numpy/sklearn default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Fits on row-major data (rows x width). A zero IQR (e.g. is_silent, mostly 0) would divide by zero;
 * like sklearn we use 1 then, so such a column is only centred.
 */
export function fitRobustScaler(data: ArrayLike<number>, width: number): RobustScalerParams {
  const rows = Math.floor(data.length / width);
  const center: number[] = [];
  const scale: number[] = [];
  const column = new Float64Array(rows);
  for (let c = 0; c < width; c++) {
    for (let r = 0; r < rows; r++) column[r] = data[r * width + c];
    column.sort();
    const median = quantileSorted(column, 0.5);
    const iqr = quantileSorted(column, 0.75) - quantileSorted(column, 0.25);
    center.push(median);
    scale.push(iqr > 0 && Number.isFinite(iqr) ? iqr : 1);
  }
  return { center, scale };
}

export function scaleValue(params: RobustScalerParams, value: number, column = 0): number {
  return (value - params.center[column]) / params.scale[column];
}

export function unscaleValue(params: RobustScalerParams, scaled: number, column = 0): number {
  return scaled * params.scale[column] + params.center[column];
}

/** Scaled network output -> throughput forecast in Mbps: inverse-scaled and clamped at 0 (inference and eval). */
export function forecastMbps(target: RobustScalerParams, scaled: number): number {
  return Math.max(0, unscaleValue(target, scaled, 0));
}

/**
 * How raw windows become network input and a network output becomes Mbps: the one place training targets,
 * evaluation and inference agree on.
 *   level:    input = RobustScaler(raw); output = scaled next throughput.
 *   delta:    input = RobustScaler(raw); output = change from the last window in target-scale units.
 *   relative: input = RobustScaler(raw divided by the sequence's own level); output = next throughput as a
 *             multiple of that level. Nothing the network sees carries the link's absolute rate, so what it
 *             learns on a 48 Mbit/s link applies to a 2 Mbit/s one (held-out links differ in rate above all).
 */
export interface OutputMapping {
  mode: TargetMode;
  /** Scaler of the network's input columns (in relative mode: of the level-relative values). */
  features: RobustScalerParams;
  target: RobustScalerParams;
  sequenceLength: number;
  featureCount: number;
  windowMs: number;
}

/** Floor of a sequence's level in relative mode (Mbps), so an idle series (a few ACKs) never divides by ~0. */
export const RELATIVE_LEVEL_FLOOR_MBPS = 0.1;

const F = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, i])) as Record<(typeof FEATURE_NAMES)[number], number>;

/**
 * The sequence's base in Mbps, what the output is relative to: 0 (level), the last window's throughput
 * (delta), the mean throughput of the sequence plus a floor (relative).
 */
export function sequenceBase(m: OutputMapping, raw: ArrayLike<number>, offset = 0): number {
  const W = m.featureCount;
  const L = m.sequenceLength;
  if (m.mode === 'level') return 0;
  if (m.mode === 'delta') return raw[offset + (L - 1) * W + F.throughput_mbps];
  let sum = 0;
  for (let t = 0; t < L; t++) sum += raw[offset + t * W + F.throughput_mbps];
  return sum / L + RELATIVE_LEVEL_FLOOR_MBPS;
}

/**
 * Encodes one raw sequence (L x F, engine order, engine units) at raw[offset] into network input at
 * out[outOffset]; returns its base (sequenceBase). Relative mode: byte quantities over the bytes one window
 * carries at the level, delays over the sequence's smallest delay (queueing as a ratio), throughput over the
 * level; inter-arrival times and is_silent as they are.
 */
export function encodeSequence(m: OutputMapping, raw: ArrayLike<number>, offset: number, out: Float32Array | Float64Array, outOffset: number): number {
  const W = m.featureCount;
  const n = m.sequenceLength * W;
  const base = sequenceBase(m, raw, offset);
  const { center, scale } = m.features;
  if (m.mode !== 'relative') {
    for (let j = 0; j < n; j++) out[outOffset + j] = (raw[offset + j] - center[j % W]) / scale[j % W];
    return base;
  }
  const levelBytes = (base * 1e6 * m.windowMs) / 8000;
  let minDelay = Infinity;
  for (let t = 0; t < m.sequenceLength; t++) {
    const d = raw[offset + t * W + F.delay];
    if (d > 0 && d < minDelay) minDelay = d;
  }
  if (!Number.isFinite(minDelay)) minDelay = 1;
  for (let t = 0; t < m.sequenceLength; t++) {
    const r = offset + t * W;
    const o = outOffset + t * W;
    for (let f = 0; f < W; f++) {
      let v = raw[r + f];
      if (f === F.size || f === F.bif || f === F.bif_gradient) v /= levelBytes;
      else if (f === F.throughput_mbps) v /= base;
      else if (f === F.delay || f === F.delay_gradient) v /= minDelay;
      out[o + f] = (v - center[f]) / scale[f];
    }
  }
  return base;
}

/** Network output for a sequence with this base -> forecast in Mbps, clamped at 0. */
export function outputToMbps(m: Pick<OutputMapping, 'mode' | 'target'>, output: number, base: number): number {
  if (m.mode === 'level') return forecastMbps(m.target, output);
  if (m.mode === 'delta') return Math.max(0, base + output * m.target.scale[0]);
  return Math.max(0, unscaleValue(m.target, output) * base);
}

/** The target values the target scaler is fitted on: throughput (level, delta) or next / base (relative). */
export function targetRaw(mode: TargetMode, nextMbps: number, base: number): number {
  return mode === 'relative' ? nextMbps / base : nextMbps;
}

/** Training target for a sequence with this base whose next window has nextMbps (inverse of outputToMbps). */
export function targetFromMbps(m: Pick<OutputMapping, 'mode' | 'target'>, nextMbps: number, base: number): number {
  if (m.mode === 'level') return scaleValue(m.target, nextMbps);
  if (m.mode === 'delta') return (nextMbps - base) / m.target.scale[0];
  return scaleValue(m.target, nextMbps / base);
}
