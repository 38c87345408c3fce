// Evaluation: the model and the baselines forecast the same windows; metrics overall and per session.
import { FEATURE_NAMES } from '../features';
import { OnnxRunner } from '../forecast/onnx-runner';
import { outputToMbps } from '../forecast/scaler';
import { loadModel, outputMapping, type ModelSpec } from '../forecast/spec';
import { baselineForecasts, DEFAULT_EWMA_ALPHA, DEFAULT_MA_WINDOWS, type BaselineName } from './baselines';
import { loadDataset, materialize, sampleRefs, type Segment, type SeriesFilter } from './dataset';
import { computeMetrics, type Metrics } from './metrics';

export const DEFAULT_THRESHOLD_MBPS = 20;
export const FORECASTERS = ['model', 'persistence', 'ewma', 'moving_average'] as const;
export type ForecasterName = (typeof FORECASTERS)[number];

export interface EvalOptions {
  thresholdMbps: number;
  ewmaAlpha: number;
  maWindows: number;
}

export const DEFAULT_EVAL_OPTIONS: EvalOptions = { thresholdMbps: DEFAULT_THRESHOLD_MBPS, ewmaAlpha: DEFAULT_EWMA_ALPHA, maWindows: DEFAULT_MA_WINDOWS };

/** The forecasts of one segment for the windows that have a full model history (same windows for all). */
export interface SegmentForecasts {
  session: string;
  windowEndNs: bigint[];
  actual: Float64Array;
  forecasts: Record<ForecasterName, Float64Array>;
}

export type EvalReport = Record<ForecasterName, Metrics> & {
  sessions: Record<string, Record<ForecasterName, Metrics>>;
  config: EvalOptions & { samples: number; sequence_length: number };
};

export type ScaledPredictor = (x: Float32Array, n: number) => Promise<Float32Array>;

/**
 * Every forecaster is scored on exactly the windows the model can forecast (those with a full history),
 * so a baseline never gets credit for the easy start of a series.
 */
export async function forecastSegments(segments: Segment[], spec: ModelSpec, predict: ScaledPredictor, opts: EvalOptions): Promise<SegmentForecasts[]> {
  const L = spec.sequence_length;
  const mapping = outputMapping(spec);
  const out: SegmentForecasts[] = [];
  for (const seg of segments) {
    const refs = sampleRefs([seg], L);
    if (refs.length === 0) continue;
    const { x, base: bases } = materialize([seg], refs, mapping);
    const scaled = await predict(x, refs.length);
    const base = baselineForecasts(seg.throughput, opts.ewmaAlpha, opts.maWindows);
    const n = refs.length;
    const pick = (series: ArrayLike<number>) => Float64Array.from({ length: n }, (_, k) => series[refs[k].start + L]);
    out.push({
      session: seg.session,
      windowEndNs: refs.map((r) => seg.windowEndNs[r.start + L]),
      actual: pick(seg.throughput),
      forecasts: {
        model: Float64Array.from(scaled, (v, i) => outputToMbps(mapping, v, bases[i])),
        persistence: pick(base.persistence),
        ewma: pick(base.ewma),
        moving_average: pick(base.moving_average),
      },
    });
  }
  return out;
}

export function summarize(results: SegmentForecasts[], opts: EvalOptions, sequenceLength: number): EvalReport {
  const score = (rs: SegmentForecasts[]) =>
    Object.fromEntries(
      FORECASTERS.map((name) => [name, computeMetrics(rs.map((r) => ({ actual: r.actual, predicted: r.forecasts[name] })), opts.thresholdMbps)]),
    ) as Record<ForecasterName, Metrics>;
  const bySession = new Map<string, SegmentForecasts[]>();
  for (const r of results) bySession.set(r.session, [...(bySession.get(r.session) ?? []), r]);
  const sessions: Record<string, Record<ForecasterName, Metrics>> = {};
  for (const [name, rs] of [...bySession].sort(([a], [b]) => a.localeCompare(b))) sessions[name] = score(rs);
  return {
    ...score(results),
    sessions,
    config: { ...opts, samples: results.reduce((n, r) => n + r.actual.length, 0), sequence_length: sequenceLength },
  };
}

/** `tcpcast eval`: the shipped ONNX model (through the same runner as the pool's workers) on windows CSVs. */
export async function evaluateModelDir(
  modelDir: string,
  dataFiles: string[],
  opts: EvalOptions,
  series: SeriesFilter = 'any',
): Promise<{ report: EvalReport; results: SegmentForecasts[]; spec: ModelSpec }> {
  const { spec, onnxPath } = loadModel(modelDir, { checkEngine: false });
  const { segments, windowMs } = loadDataset(dataFiles, series);
  if (windowMs !== spec.window_ms) throw new Error(`data has ${windowMs} ms windows, the model ${spec.window_ms} ms`);
  const runner = await OnnxRunner.open({
    onnxPath,
    inputName: spec.onnx.input,
    outputName: spec.onnx.output,
    sequenceLength: spec.sequence_length,
    featureCount: FEATURE_NAMES.length,
    intraOpThreads: 1,
  });
  try {
    const predict = chunkedPredictor(runner, spec.sequence_length);
    const results = await forecastSegments(segments, spec, predict, opts);
    return { report: summarize(results, opts, spec.sequence_length), results, spec };
  } finally {
    await runner.close();
  }
}

export function chunkedPredictor(runner: OnnxRunner, sequenceLength: number, chunk = 4096): ScaledPredictor {
  const stride = sequenceLength * FEATURE_NAMES.length;
  return async (x, n) => {
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      out.set(await runner.run(x.slice(s * stride, (s + m) * stride), m), s);
    }
    return out;
  };
}

export function formatReport(report: EvalReport): string {
  const fmt = (v: number | null, digits = 3) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(digits));
  const lines = [`forecaster       mae      rmse     r2       auc      lag  (n=${report.config.samples}, threshold ${report.config.thresholdMbps} Mbps)`];
  const row = (name: string, m: Metrics) =>
    `${name.padEnd(16)} ${fmt(m.mae).padEnd(8)} ${fmt(m.rmse).padEnd(8)} ${fmt(m.r2).padEnd(8)} ${fmt(m.auc).padEnd(8)} ${m.lag_windows ?? '-'}`;
  for (const name of FORECASTERS) lines.push(row(name, report[name]));
  for (const [session, metrics] of Object.entries(report.sessions)) {
    lines.push('', `session ${session}`);
    for (const name of FORECASTERS) lines.push(row(`  ${name}`, metrics[name]));
  }
  return lines.join('\n');
}

export type { BaselineName };
