// Bench hook for the bench owner: per-batch inference latency at 1/100/1000 series and sequences/s per worker count.
import { FEATURE_NAMES, WINDOW_VALUE_COLUMNS, type WindowBatch } from '../features';
import { Forecaster } from './forecaster';

export interface InferenceBenchResult {
  /** cpu_ms_per_close: process CPU (main thread and workers, user + system) per window close, mean over the batches. */
  latency: { series: number; workers: number; batches: number; p50_ms: number; p99_ms: number; cpu_ms_per_close: number }[];
  /** Outputs per sequence of the model benched (horizons x quantiles). */
  outputs?: number;
  throughput: { workers: number; series: number; batches: number; sequences_per_s: number }[];
}

/** A synthetic window close: every series gets one window of plausible feature values. */
function syntheticClose(seriesCount: number, step: number): WindowBatch {
  const width = WINDOW_VALUE_COLUMNS.length;
  const values = new Float64Array(seriesCount * width);
  const series = new Uint32Array(seriesCount);
  for (let s = 0; s < seriesCount; s++) {
    series[s] = s;
    const phase = (s * 7 + step) * 0.1;
    const row = values.subarray(s * width, (s + 1) * width);
    row[0] = 60000 + 20000 * Math.sin(phase); // size, bytes
    row[1] = 40 + 5 * Math.cos(phase); // delay, ms
    row[2] = 80000; // bif
    row[3] = 0.8;
    row[4] = 0.3;
    row[5] = (row[0] * 8) / 0.05 / 1e6; // throughput_mbps
  }
  return { count: seriesCount, series, windowEndNs: new BigInt64Array(seriesCount), values, newSeries: [] };
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Latency: batches run one after another (no queueing), timed around predict(). Throughput: `workers`
 * batches kept in flight with a queue deep enough that nothing is dropped. Timings, not assertions: bench/.
 */
export async function benchInference(opts: {
  modelDir: string;
  seriesCounts?: number[];
  workerCounts?: number[];
  batches?: number;
  windowMs?: number;
}): Promise<InferenceBenchResult> {
  const seriesCounts = opts.seriesCounts ?? [1, 100, 1000];
  const workerCounts = opts.workerCounts ?? [1, 2];
  const batches = opts.batches ?? 100;
  const result: InferenceBenchResult = { latency: [], throughput: [] };
  for (const workers of workerCounts) {
    const f = await Forecaster.create({ modelDir: opts.modelDir, workers, windowMs: opts.windowMs, maxPending: 1 << 20 });
    try {
      const warm = f.spec.sequence_length;
      for (const seriesCount of seriesCounts) {
        for (let i = 0; i < warm; i++) await f.predict(syntheticClose(seriesCount, i));
        const times: number[] = [];
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < batches; i++) {
          const close = syntheticClose(seriesCount, warm + i);
          const t0 = performance.now();
          // forecast(): every horizon and quantile, calibration and fallback included (what the daemon runs).
          await f.forecast(close);
          times.push(performance.now() - t0);
        }
        const cpu = process.cpuUsage(cpu0);
        times.sort((a, b) => a - b);
        result.latency.push({
          series: seriesCount,
          workers,
          batches,
          p50_ms: percentile(times, 0.5),
          p99_ms: percentile(times, 0.99),
          cpu_ms_per_close: (cpu.user + cpu.system) / 1000 / batches,
        });
        result.outputs = f.horizons.length * f.quantiles.length;
      }
      const seriesCount = seriesCounts[seriesCounts.length - 1];
      const t0 = performance.now();
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < batches; i++) all.push(f.predict(syntheticClose(seriesCount, i)));
      await Promise.all(all);
      const seconds = (performance.now() - t0) / 1000;
      result.throughput.push({ workers, series: seriesCount, batches, sequences_per_s: (batches * seriesCount) / seconds });
    } finally {
      await f.close();
    }
  }
  return result;
}

export const BENCH_FEATURE_COUNT = FEATURE_NAMES.length;
