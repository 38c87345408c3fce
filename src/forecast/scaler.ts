// RobustScaler (median / inter-quartile range): the one scaling function that training, evaluation and inference share.

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

/** Scales row-major values in place-free fashion into `out` (same layout); column = index % width. */
export function scaleInto(
  params: RobustScalerParams,
  values: ArrayLike<number>,
  out: Float32Array | Float64Array,
  width = params.center.length,
): void {
  for (let i = 0; i < values.length; i++) {
    const c = i % width;
    out[i] = (values[i] - params.center[c]) / params.scale[c];
  }
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

/** How a network output becomes Mbps; the one place training targets, evaluation and inference agree on. */
export interface OutputMapping {
  mode: 'level' | 'delta';
  features: RobustScalerParams;
  target: RobustScalerParams;
  /** Index of throughput_mbps among the features. */
  throughputFeature: number;
  sequenceLength: number;
  featureCount: number;
}

/** Throughput of the last window of sequence i of a scaled input batch, in Mbps. */
export function lastThroughputMbps(m: OutputMapping, scaledInput: ArrayLike<number>, i: number): number {
  const at = i * m.sequenceLength * m.featureCount + (m.sequenceLength - 1) * m.featureCount + m.throughputFeature;
  return unscaleValue(m.features, scaledInput[at], m.throughputFeature);
}

/** Network output for sequence i -> forecast in Mbps, clamped at 0. */
export function outputToMbps(m: OutputMapping, output: number, scaledInput: ArrayLike<number>, i: number): number {
  if (m.mode === 'level') return forecastMbps(m.target, output);
  return Math.max(0, lastThroughputMbps(m, scaledInput, i) + output * m.target.scale[0]);
}

/** Training target for a sequence whose last window had lastMbps and whose next window has nextMbps. */
export function targetFromMbps(m: Pick<OutputMapping, 'mode' | 'target'>, nextMbps: number, lastMbps: number): number {
  return m.mode === 'level' ? scaleValue(m.target, nextMbps) : (nextMbps - lastMbps) / m.target.scale[0];
}
