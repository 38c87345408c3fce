// Evaluation: the served model (network + calibration + fallback) and the baselines forecast the same windows, per horizon, overall and per session.
import { modelAlphas, networkQuantiles, onlineSeriesFor } from '../forecast/forecaster';
import { OnnxRunner } from '../forecast/onnx-runner';
import { pinball } from '../forecast/online';
import { quantileSorted, sequenceBase, type OutputMapping } from '../forecast/scaler';
import { loadModel, modelHorizons, modelQuantiles, outputMapping, outputWidth, type HorizonSpec, type ModelSpec } from '../forecast/spec';
import { baselineForecasts, DEFAULT_EWMA_ALPHA, DEFAULT_MA_WINDOWS, type BaselineName } from './baselines';
import { horizonActual, loadDataset, materialize, sampleRefs, type Segment, type SeriesFilter } from './dataset';
import { computeMetrics } from './metrics';

export const DEFAULT_THRESHOLD_MBPS = 20;
export const FORECASTERS = ['model', 'persistence', 'ewma', 'moving_average', 'quantile_baseline'] as const;
export type ForecasterName = (typeof FORECASTERS)[number];
/** The interval every forecaster with quantiles is scored on. */
export const INTERVAL = [0.1, 0.5, 0.9] as const;

export interface EvalOptions {
  /** EWMA alpha for a model without tuned ones in model.json (`--ewma-alpha`). */
  ewmaAlpha: number;
  maWindows: number;
}

export const DEFAULT_EVAL_OPTIONS: EvalOptions = { ewmaAlpha: DEFAULT_EWMA_ALPHA, maWindows: DEFAULT_MA_WINDOWS };

/** p10/p50/p90 forecasts of one forecaster (point forecasters: p50 only). */
export interface Band {
  p10?: Float64Array;
  p50: Float64Array;
  p90?: Float64Array;
}

/** The forecasts of one segment for one horizon, on the windows that have a full model history (same windows for all). */
export interface HorizonForecasts {
  actual: Float64Array;
  forecasts: Record<ForecasterName, Band>;
  /** 1 where the EWMA served the model's p50, 0 where the network did. */
  ewmaServed: Uint8Array;
}

export interface SegmentForecasts {
  session: string;
  /** End of the first window each forecast is for. */
  windowEndNs: bigint[];
  horizons: Record<string, HorizonForecasts>;
}

export interface ForecasterMetrics {
  mae: number;
  rmse: number;
  r2: number | null;
  /** Mean pinball loss over p10, p50, p90 (Mbps); null for a point forecaster. */
  pinball: number | null;
  /** Share of actuals below p10 and below p90 (nominal 0.1 / 0.9); null for a point forecaster. */
  coverage: { p10: number; p90: number } | null;
  lag_windows: number | null;
  alpha?: number;
}

export interface HorizonReport {
  windows: number;
  forecasters: {
    model: ForecasterMetrics & { ewma_served: number };
    persistence: ForecasterMetrics;
    ewma: ForecasterMetrics & { alpha: number };
    moving_average: ForecasterMetrics;
    quantile_baseline: { pinball: number; coverage: { p10: number; p90: number } };
  };
}

export interface EvalReport {
  horizons: Record<string, HorizonReport>;
  sessions: Record<string, { horizons: Record<string, HorizonReport> }>;
  config: EvalOptions & { sequence_length: number; horizons: HorizonSpec[]; alphas: Record<string, number> };
}

export type ScaledPredictor = (x: Float32Array, n: number) => Promise<Float32Array>;

/**
 * Quantile baseline of a horizon from model.json (relative residual quantiles of persistence), or, for a model
 * without one, a zero-width band (persistence alone).
 */
function baselineResiduals(spec: ModelSpec, label: string): [number, number, number] {
  const r = spec.quantile_baseline?.[label];
  return r ? [r['0.1'] ?? 0, r['0.5'] ?? 0, r['0.9'] ?? 0] : [0, 0, 0];
}

/** The level quantile-baseline residuals are relative to: relative mode's level of the same sequence. */
export function residualLevelMapping(m: OutputMapping): OutputMapping {
  return { ...m, mode: 'relative', encoding: 2 };
}

/**
 * Every forecaster is scored on exactly the windows the model can forecast (full history, every horizon
 * inside the segment), so a baseline never gets credit for the easy start of a series. The model column is
 * what the daemon serves: each segment is replayed window by window through the same OnlineSeries.
 */
export async function forecastSegments(segments: Segment[], spec: ModelSpec, predict: ScaledPredictor, opts: EvalOptions): Promise<SegmentForecasts[]> {
  const L = spec.sequence_length;
  const mapping = outputMapping(spec);
  const levelMapping = residualLevelMapping(mapping);
  const horizons = modelHorizons(spec);
  const quantiles = modelQuantiles(spec);
  const H = horizons.length;
  const Q = quantiles.length;
  const maxH = Math.max(...horizons.map((h) => h.windows));
  const alphas = spec.ewma ? modelAlphas(spec) : horizons.map(() => opts.ewmaAlpha);
  const tuned: ModelSpec = { ...spec, ewma: Object.fromEntries(horizons.map((h, i) => [h.label, { alpha: alphas[i] }])) };
  const out: SegmentForecasts[] = [];
  for (const seg of segments) {
    const refs = sampleRefs([seg], L, maxH);
    if (refs.length === 0) continue;
    const n = refs.length;
    const { x, base: bases } = materialize([seg], refs, mapping);
    const scaled = await predict(x, n);
    const W = seg.featureNames.length;
    const online = onlineSeriesFor(tuned);
    const horizonsOut: Record<string, HorizonForecasts> = {};
    const baselines = horizons.map((_, h) => baselineForecasts(seg.throughput, alphas[h], opts.maWindows));
    const bands = horizons.map(() => ({ p10: new Float64Array(n), p50: new Float64Array(n), p90: new Float64Array(n), served: new Uint8Array(n) }));
    let observed = 0;
    refs.forEach((ref, k) => {
      const t = ref.start + L; // first window forecast
      while (observed < t) online.observe(seg.throughput[observed++]);
      const served = online.serve(networkQuantiles(mapping, scaled, k, bases[k], H, Q), quantiles);
      served.forEach((f, h) => {
        bands[h].p10[k] = f.p10;
        bands[h].p50[k] = f.p50;
        bands[h].p90[k] = f.p90;
        bands[h].served[k] = f.served === 'ewma' ? 1 : 0;
      });
    });
    horizons.forEach((hz, h) => {
      const actual = Float64Array.from(refs, (r) => horizonActual(seg.throughput, r.start + L, hz.windows));
      const pick = (series: ArrayLike<number>) => Float64Array.from(refs, (r) => series[r.start + L]);
      const persistence = pick(baselines[h].persistence);
      const [r10, r50, r90] = baselineResiduals(spec, hz.label);
      const level = Float64Array.from(refs, (r) => sequenceBase(levelMapping, seg.features, r.start * W));
      horizonsOut[hz.label] = {
        actual,
        forecasts: {
          model: { p10: bands[h].p10, p50: bands[h].p50, p90: bands[h].p90 },
          persistence: { p50: persistence },
          ewma: { p50: pick(baselines[h].ewma) },
          moving_average: { p50: pick(baselines[h].moving_average) },
          quantile_baseline: {
            p10: persistence.map((p, i) => Math.max(0, p + r10 * level[i])),
            p50: persistence.map((p, i) => Math.max(0, p + r50 * level[i])),
            p90: persistence.map((p, i) => Math.max(0, p + r90 * level[i])),
          },
        },
        ewmaServed: bands[h].served,
      };
    });
    out.push({ session: seg.session, windowEndNs: refs.map((r) => seg.windowEndNs[r.start + L]), horizons: horizonsOut });
  }
  return out;
}

function bandMetrics(runs: { actual: Float64Array; band: Band }[]): ForecasterMetrics {
  const m = computeMetrics(runs.map((r) => ({ actual: r.actual, predicted: r.band.p50 })), 0);
  let pin = 0, below10 = 0, below90 = 0, n = 0;
  const hasBand = runs.length > 0 && runs.every((r) => r.band.p10 && r.band.p90);
  if (hasBand)
    for (const { actual, band } of runs)
      for (let i = 0; i < actual.length; i++) {
        const y = actual[i];
        pin += (pinball(y, band.p10![i], 0.1) + pinball(y, band.p50[i], 0.5) + pinball(y, band.p90![i], 0.9)) / 3;
        if (y < band.p10![i]) below10++;
        if (y < band.p90![i]) below90++;
        n++;
      }
  return {
    mae: m.mae,
    rmse: m.rmse,
    r2: m.r2,
    pinball: hasBand && n ? pin / n : null,
    coverage: hasBand && n ? { p10: below10 / n, p90: below90 / n } : null,
    lag_windows: m.lag_windows,
  };
}

function horizonReport(results: SegmentForecasts[], label: string, windows: number, alpha: number): HorizonReport {
  const runs = results.map((r) => r.horizons[label]);
  const of = (name: ForecasterName) => bandMetrics(runs.map((r) => ({ actual: r.actual, band: r.forecasts[name] })));
  const served = runs.reduce((a, r) => a + r.ewmaServed.reduce((x, y) => x + y, 0), 0);
  const total = runs.reduce((a, r) => a + r.actual.length, 0);
  const qb = of('quantile_baseline');
  return {
    windows: total,
    forecasters: {
      model: { ...of('model'), ewma_served: total ? served / total : 0 },
      persistence: of('persistence'),
      ewma: { ...of('ewma'), alpha },
      moving_average: of('moving_average'),
      quantile_baseline: { pinball: qb.pinball ?? NaN, coverage: qb.coverage ?? { p10: NaN, p90: NaN } },
    },
  };
}

export function summarize(results: SegmentForecasts[], spec: ModelSpec, opts: EvalOptions): EvalReport {
  const horizons = modelHorizons(spec);
  const alphas = spec.ewma ? modelAlphas(spec) : horizons.map(() => opts.ewmaAlpha);
  const report = (rs: SegmentForecasts[]) => Object.fromEntries(horizons.map((h, i) => [h.label, horizonReport(rs, h.label, h.windows, alphas[i])]));
  const bySession = new Map<string, SegmentForecasts[]>();
  for (const r of results) bySession.set(r.session, [...(bySession.get(r.session) ?? []), r]);
  const sessions: EvalReport['sessions'] = {};
  for (const [name, rs] of [...bySession].sort(([a], [b]) => a.localeCompare(b))) sessions[name] = { horizons: report(rs) };
  return {
    horizons: report(results),
    sessions,
    config: { ...opts, sequence_length: spec.sequence_length, horizons, alphas: Object.fromEntries(horizons.map((h, i) => [h.label, alphas[i]])) },
  };
}

/** `tcpcast eval`: the model directory (through the same runner as the pool's workers) on windows CSVs. */
export async function evaluateModelDir(
  modelDir: string,
  dataFiles: string[],
  opts: EvalOptions,
  series: SeriesFilter = 'any',
): Promise<{ report: EvalReport; results: SegmentForecasts[]; spec: ModelSpec }> {
  const { spec, onnxPath } = loadModel(modelDir, { checkEngine: false });
  const { segments, windowMs } = loadDataset(dataFiles, series, spec.features);
  if (windowMs !== spec.window_ms) throw new Error(`data has ${windowMs} ms windows, the model ${spec.window_ms} ms`);
  const runner = await OnnxRunner.open({
    onnxPath,
    inputName: spec.onnx.input,
    outputName: spec.onnx.output,
    sequenceLength: spec.sequence_length,
    featureCount: spec.features.length,
    outputs: outputWidth(spec),
    intraOpThreads: 1,
  });
  try {
    const predict = chunkedPredictor(runner, spec.sequence_length, spec.features.length, outputWidth(spec));
    const results = await forecastSegments(segments, spec, predict, opts);
    return { report: summarize(results, spec, opts), results, spec };
  } finally {
    await runner.close();
  }
}

export function chunkedPredictor(runner: OnnxRunner, sequenceLength: number, featureCount: number, outputs = 1, chunk = 4096): ScaledPredictor {
  const stride = sequenceLength * featureCount;
  return async (x, n) => {
    const out = new Float32Array(n * outputs);
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      out.set(await runner.run(x.slice(s * stride, (s + m) * stride), m), s * outputs);
    }
    return out;
  };
}

export function formatReport(report: EvalReport): string {
  const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
  const lines: string[] = [];
  const block = (horizons: Record<string, HorizonReport>, indent: string) => {
    for (const [label, h] of Object.entries(horizons)) {
      lines.push(`${indent}horizon ${label} (n=${h.windows})    mae      rmse     r2       pinball  cov<p10  cov<p90  lag`);
      for (const name of FORECASTERS) {
        const m = h.forecasters[name] as Partial<ForecasterMetrics> & { pinball: number | null; coverage: { p10: number; p90: number } | null };
        const extra = name === 'model' ? ` (EWMA served ${(100 * h.forecasters.model.ewma_served).toFixed(0)}%)` : name === 'ewma' ? ` (alpha ${fmt(h.forecasters.ewma.alpha, 3)})` : '';
        lines.push(
          `${indent}  ${name.padEnd(22)} ${fmt(m.mae).padEnd(8)} ${fmt(m.rmse).padEnd(8)} ${fmt(m.r2).padEnd(8)} ${fmt(m.pinball).padEnd(8)} ${fmt(m.coverage?.p10).padEnd(8)} ${fmt(m.coverage?.p90).padEnd(8)} ${m.lag_windows ?? '-'}${extra}`,
        );
      }
    }
  };
  block(report.horizons, '');
  for (const [session, s] of Object.entries(report.sessions)) {
    lines.push('', `session ${session}`);
    block(s.horizons, '  ');
  }
  return lines.join('\n');
}

/** Empirical residual quantiles (actual - persistence) / level of each horizon on training segments: the quantile baseline. */
export function fitQuantileBaseline(segments: Segment[], mapping: OutputMapping, horizons: readonly HorizonSpec[]): Record<string, Record<string, number>> {
  const L = mapping.sequenceLength;
  const maxH = Math.max(...horizons.map((h) => h.windows));
  const levelMapping = residualLevelMapping(mapping);
  const out: Record<string, Record<string, number>> = {};
  horizons.forEach((hz) => {
    const residuals: number[] = [];
    for (const seg of segments) {
      const W = seg.featureNames.length;
      for (const r of sampleRefs([seg], L, maxH)) {
        const t = r.start + L;
        const level = sequenceBase(levelMapping, seg.features, r.start * W);
        residuals.push((horizonActual(seg.throughput, t, hz.windows) - seg.throughput[t - 1]) / level);
      }
    }
    const sorted = Float64Array.from(residuals).sort();
    out[hz.label] = Object.fromEntries(INTERVAL.map((q) => [String(q), quantileSorted(sorted, q)]));
  });
  return out;
}

/** EWMA alpha per horizon minimising MAE on training segments (grid 0.01..1, then refined around the best). */
export function fitEwmaAlphas(segments: Segment[], sequenceLength: number, horizons: readonly HorizonSpec[]): Record<string, { alpha: number; mae: number }> {
  const maxH = Math.max(...horizons.map((h) => h.windows));
  const maeFor = (alpha: number, windows: number) => {
    let sum = 0, n = 0;
    for (const seg of segments) {
      const ewma = baselineForecasts(seg.throughput, alpha, 1).ewma;
      for (const r of sampleRefs([seg], sequenceLength, maxH)) {
        const t = r.start + sequenceLength;
        sum += Math.abs(ewma[t] - horizonActual(seg.throughput, t, windows));
        n++;
      }
    }
    return n ? sum / n : NaN;
  };
  const out: Record<string, { alpha: number; mae: number }> = {};
  for (const h of horizons) {
    let best = { alpha: 1, mae: Infinity };
    const consider = (alpha: number) => {
      const mae = maeFor(alpha, h.windows);
      if (mae < best.mae) best = { alpha, mae };
    };
    for (let a = 0.02; a <= 1.0001; a += 0.04) consider(Math.min(1, Number(a.toFixed(3))));
    const centre = best.alpha;
    for (let a = Math.max(0.005, centre - 0.04); a <= Math.min(1, centre + 0.04); a += 0.005) consider(Number(a.toFixed(3)));
    out[h.label] = best;
  }
  return out;
}

export type { BaselineName };
