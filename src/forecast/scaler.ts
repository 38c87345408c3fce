// RobustScaler (median / inter-quartile range) and the sequence encoding that training, evaluation and inference share.
import { TcpcastError } from '../errors';
import { TARGET_NAME } from '../features';

/**
 * What the model's output means (model.json `target_mode`). Declared here, where the encoding lives, and
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
export function forecastMbps(target: RobustScalerParams, scaled: number, column = 0): number {
  return Math.max(0, unscaleValue(target, scaled, column));
}

/**
 * How raw windows become network input and a network output becomes Mbps: the one place training targets,
 * evaluation and inference agree on.
 *   level:    input = RobustScaler(raw); output = scaled throughput.
 *   delta:    input = RobustScaler(raw); output = change from the last window in target-scale units.
 *   relative: input = RobustScaler(raw re-expressed per RELATIVE_ENCODING); output = throughput as a multiple of
 *             the sequence's level. Nothing the network sees carries the link's absolute rate, so what it learns
 *             on a 48 Mbit/s link applies to a 2 Mbit/s one (held-out links differ in rate above all).
 * A network has one output per (horizon, quantile), horizon-major; `target` has one centre/scale per horizon.
 */
export interface OutputMapping {
  mode: TargetMode;
  /** The columns the network reads, in its input order (model.json `features`). */
  featureNames: readonly string[];
  /** Scaler of the network's input columns (in relative mode: of the level-relative values). */
  features: RobustScalerParams;
  /** One centre/scale per horizon (the quantiles of a horizon share it). */
  target: RobustScalerParams;
  sequenceLength: number;
  windowMs: number;
  /**
   * Relative encoding version (model.json `encoding`, absent = 1). 1: inter-arrival times raw and level =
   * mean + floor (the models made before #14); 2: inter-arrival times as bytes per gap at the level and
   * level = max(mean, floor), so scaling a sequence's rate changes nothing the network sees.
   */
  encoding: number;
}

/** Floor of a sequence's level in relative mode (Mbps), so an idle series (a few ACKs) never divides by ~0. */
export const RELATIVE_LEVEL_FLOOR_MBPS = 0.1;
/** The relative encoding new models are trained with (see OutputMapping.encoding). */
export const CURRENT_RELATIVE_ENCODING = 2;
/** Bytes of a full-sized packet: turns packet counts into the same units as byte counts (any constant would do). */
const PACKET_BYTES = 1500;

/**
 * How relative mode re-expresses a column so it does not reveal the absolute rate:
 *   bytes   : over the bytes one window carries at the level (size, bif, bif_gradient, acked_bytes)
 *   rate    : over the level (throughput)
 *   packets : over the packets one window carries at the level (packets, retransmits)
 *   delay   : over the sequence's smallest delay (queueing as a ratio; delay is not a rate)
 *   gap     : inter-arrival times in ms scale with 1/rate: x level bytes per ms = bytes per gap at the level
 *   raw     : already rate-free (is_silent, a 0/1 flag)
 * A column without an entry cannot feed a relative model: the model is refused at load (TCM_SPEC_MISMATCH).
 */
export type RelativeEncoding = 'bytes' | 'rate' | 'packets' | 'delay' | 'gap' | 'raw';
export const RELATIVE_ENCODING: Readonly<Record<string, RelativeEncoding>> = {
  size: 'bytes',
  bif: 'bytes',
  bif_gradient: 'bytes',
  acked_bytes: 'bytes',
  throughput_mbps: 'rate',
  packets: 'packets',
  retransmits: 'packets',
  delay: 'delay',
  delay_gradient: 'delay',
  min_rtt: 'delay',
  iat_mean: 'gap',
  iat_std: 'gap',
  is_silent: 'raw',
};

/** The encoding of one column under an encoding version (version 1 kept inter-arrival times raw). */
export function relativeEncodingOf(name: string, version: number): RelativeEncoding | undefined {
  const kind = RELATIVE_ENCODING[name];
  return version < 2 && kind === 'gap' ? 'raw' : kind;
}

/** Columns of `featureNames` a relative model could not encode (empty when it can); checked at load. */
export function unencodableFeatures(featureNames: readonly string[], version: number): string[] {
  const missing = featureNames.filter((n) => relativeEncodingOf(n, version) === undefined);
  if (!featureNames.includes(TARGET_NAME)) missing.push(`${TARGET_NAME} (needed for the level)`);
  return missing;
}

interface Plan {
  kinds: RelativeEncoding[];
  throughput: number;
  /** Column whose smallest non-zero value is the reference delay (delay, else min_rtt), -1 when none. */
  delayRef: number;
}
const plans = new WeakMap<OutputMapping, Plan>();

/** The per-column plan of a mapping, computed once (the names never change for a mapping). */
function planOf(m: OutputMapping): Plan {
  let plan = plans.get(m);
  if (plan) return plan;
  const kinds = m.featureNames.map((n) => {
    const kind = relativeEncodingOf(n, m.encoding);
    if (m.mode === 'relative' && kind === undefined)
      throw new TcpcastError(`feature ${n} has no relative encoding (RELATIVE_ENCODING in src/forecast/scaler.ts)`, 'TCM_SPEC_MISMATCH');
    return kind ?? 'raw';
  });
  const delay = m.featureNames.indexOf('delay');
  plan = { kinds, throughput: m.featureNames.indexOf(TARGET_NAME), delayRef: delay >= 0 ? delay : m.featureNames.indexOf('min_rtt') };
  if (plan.throughput < 0 && m.mode !== 'level') throw new TcpcastError(`a ${m.mode} model needs ${TARGET_NAME} among its features`, 'TCM_SPEC_MISMATCH');
  plans.set(m, plan);
  return plan;
}

/**
 * The sequence's base in Mbps, what the output is relative to: 0 (level), the last window's throughput
 * (delta), the mean throughput of the sequence with a floor (relative).
 */
export function sequenceBase(m: OutputMapping, raw: ArrayLike<number>, offset = 0): number {
  const W = m.featureNames.length;
  const L = m.sequenceLength;
  if (m.mode === 'level') return 0;
  const tp = planOf(m).throughput;
  if (m.mode === 'delta') return raw[offset + (L - 1) * W + tp];
  let sum = 0;
  for (let t = 0; t < L; t++) sum += raw[offset + t * W + tp];
  const mean = sum / L;
  return m.encoding < 2 ? mean + RELATIVE_LEVEL_FLOOR_MBPS : Math.max(mean, RELATIVE_LEVEL_FLOOR_MBPS);
}

/**
 * Encodes one raw sequence (L x features, model order, engine units) at raw[offset] into network input at
 * out[outOffset]; returns its base (sequenceBase). Relative mode: each column per RELATIVE_ENCODING.
 */
export function encodeSequence(m: OutputMapping, raw: ArrayLike<number>, offset: number, out: Float32Array | Float64Array, outOffset: number): number {
  const W = m.featureNames.length;
  const n = m.sequenceLength * W;
  const base = sequenceBase(m, raw, offset);
  const { center, scale } = m.features;
  if (m.mode !== 'relative') {
    for (let j = 0; j < n; j++) out[outOffset + j] = (raw[offset + j] - center[j % W]) / scale[j % W];
    return base;
  }
  const { kinds, delayRef } = planOf(m);
  const levelBytes = (base * 1e6 * m.windowMs) / 8000;
  const levelPackets = levelBytes / PACKET_BYTES;
  const levelBytesPerMs = levelBytes / m.windowMs;
  let minDelay = Infinity;
  if (delayRef >= 0)
    for (let t = 0; t < m.sequenceLength; t++) {
      const d = raw[offset + t * W + delayRef];
      if (d > 0 && d < minDelay) minDelay = d;
    }
  if (!Number.isFinite(minDelay)) minDelay = 1;
  for (let t = 0; t < m.sequenceLength; t++) {
    const r = offset + t * W;
    const o = outOffset + t * W;
    for (let f = 0; f < W; f++) {
      let v = raw[r + f];
      switch (kinds[f]) {
        case 'bytes': v /= levelBytes; break;
        case 'rate': v /= base; break;
        case 'packets': v /= levelPackets; break;
        case 'delay': v /= minDelay; break;
        case 'gap': v *= levelBytesPerMs; break;
        case 'raw': break;
      }
      out[o + f] = (v - center[f]) / scale[f];
    }
  }
  return base;
}

/** Network output `output` of horizon `h` for a sequence with this base -> forecast in Mbps, clamped at 0. */
export function outputToMbps(m: Pick<OutputMapping, 'mode' | 'target'>, output: number, base: number, h = 0): number {
  if (m.mode === 'level') return forecastMbps(m.target, output, h);
  if (m.mode === 'delta') return Math.max(0, base + output * m.target.scale[h]);
  return Math.max(0, unscaleValue(m.target, output, h) * base);
}

/** The target values the target scaler is fitted on: throughput (level, delta) or throughput / base (relative). */
export function targetRaw(mode: TargetMode, mbps: number, base: number): number {
  return mode === 'relative' ? mbps / base : mbps;
}

/** Training target of horizon h for a sequence with this base whose actual is mbps (inverse of outputToMbps). */
export function targetFromMbps(m: Pick<OutputMapping, 'mode' | 'target'>, mbps: number, base: number, h = 0): number {
  if (m.mode === 'level') return scaleValue(m.target, mbps, h);
  if (m.mode === 'delta') return (mbps - base) / m.target.scale[h];
  return scaleValue(m.target, mbps / base, h);
}
