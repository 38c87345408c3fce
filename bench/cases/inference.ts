// Benchmark case "inference": forecast latency per window close at 1, 100 and 1,000 series, and sequences/s per inference worker count.
//
// Each worker count is its own child process (bench/lib/inference-child.ts -> src/forecast/bench.ts's
// benchInference): a Forecaster with that many Piscina workers, each with its own onnxruntime session.
// Latency: one synthetic window close of N series at a time, timed around predict() (p50/p99 over the
// batches). Throughput: batches of 1,000 series kept in flight together. The model is the shipped one, or
// one with the same default architecture trained once for the bench (bench/lib/model.ts); the report says which.
import { join } from 'node:path';
import type { InferenceBenchResult } from '../../src/forecast/bench';
import { ensureBenchModel } from '../lib/model';
import { runMeasured } from '../lib/measure';
import { median } from '../lib/runner';
import { BenchCase, BenchContext, MeasuredCase, PreparedCase, RunMeasurement, TargetCheck, TrialResult } from '../lib/types';

const SERIES_COUNTS = [1, 100, 1000];
const WORKER_COUNTS = [1, 2];
const FULL_BATCHES = 200;
const QUICK_BATCHES = 20;
/** A forecast is useful only if it is ready before the next window closes: the default window. */
const WINDOW_MS = 50;

interface Run {
  measurement: RunMeasurement;
  result: InferenceBenchResult;
}

function trialName(workers: number): string {
  return `${workers} worker${workers === 1 ? '' : 's'}`;
}

export const benchCase: BenchCase = {
  name: 'inference',
  description: 'forecast latency per window close (1/100/1000 series) and sequences/s per worker count',
  async prepare(ctx: BenchContext): Promise<PreparedCase> {
    const model = ensureBenchModel(ctx);
    const batches = ctx.quick ? QUICK_BATCHES : FULL_BATCHES;
    const child = join(ctx.repoRoot, 'dist', 'bench', 'lib', 'inference-child.js');
    /** p99 at the largest series count per worker count: measure() fills it, targets() reads it. */
    let latencyP99 = new Map<number, number>();
    const argvFor = (workers: number): string[] => [process.execPath, child, model.dir, String(workers), SERIES_COUNTS.join(','), String(batches)];
    return {
      unit: 'sequences',
      input: {
        model: model.label,
        'model dir': model.dir,
        batches: `${batches} window closes per series count (after ${model.spec.sequence_length} warm-up closes), synthetic feature values`,
      },
      trials: [],
      ratioAgainst: [trialName(WORKER_COUNTS[0])],
      versions: {
        'onnxruntime-node': ['node', '-p', `require(${JSON.stringify(join(ctx.repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'))}).version`],
      },
      async measure(): Promise<MeasuredCase> {
        const runs = new Map<number, Run[]>(WORKER_COUNTS.map((w) => [w, []]));
        const errors = new Map<number, string>();
        // Interleaved like the harness's own trials: repetition r of every worker count, then r + 1.
        for (let rep = 0; rep < ctx.repeat; rep++) {
          for (const workers of WORKER_COUNTS) {
            if (errors.has(workers)) continue;
            try {
              const run = await runMeasured(argvFor(workers), { timeoutS: 600 });
              const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as InferenceBenchResult;
              runs.get(workers)!.push({ measurement: run, result });
              const t = result.throughput[0];
              ctx.log(`  ${trialName(workers)}: ${(t.sequences_per_s / 1e3).toFixed(1)} k sequences/s; p99 ` +
                result.latency.map((l) => `${l.series} series ${l.p99_ms.toFixed(2)} ms`).join(', '));
            } catch (err) {
              errors.set(workers, (err as Error).message);
              ctx.log(`  ${trialName(workers)}: ERROR ${(err as Error).message}`);
            }
          }
        }
        const trials: TrialResult[] = WORKER_COUNTS.map((workers) => {
          const mine = runs.get(workers)!;
          const ok = mine.length > 0 && !errors.has(workers);
          return {
            name: trialName(workers),
            argv: argvFor(workers),
            work: batches * SERIES_COUNTS[SERIES_COUNTS.length - 1],
            runs: mine.map((r) => r.measurement),
            wallS: ok ? median(mine.map((r) => r.measurement.wallS)) : undefined,
            ratePerS: ok ? median(mine.map((r) => r.result.throughput[0].sequences_per_s)) : undefined,
            peakRssMb: ok ? Math.max(...mine.map((r) => r.measurement.peakRssKb)) / 1024 : undefined,
            cpuS: ok ? median(mine.map((r) => r.measurement.userS + r.measurement.sysS)) : undefined,
            ratios: {},
            error: errors.get(workers),
          };
        });
        const notes = [
          `sequences/s: throughput with ${batches} closes of ${SERIES_COUNTS[SERIES_COUNTS.length - 1]} series in flight; wall s and RSS are the whole child process ` +
            '(model load, warm-up, every series count).',
          '',
          'Latency of one window close (predict() of N series, nothing queued), median over runs of each run\'s percentile:',
          '',
          `| workers | ${SERIES_COUNTS.map((n) => `${n} series p50 ms | ${n} series p99 ms`).join(' | ')} |`,
          `|---:|${SERIES_COUNTS.map(() => '---:|---:').join('|')}|`,
        ];
        for (const workers of WORKER_COUNTS) {
          const mine = runs.get(workers)!;
          if (mine.length === 0) continue;
          const cells = SERIES_COUNTS.flatMap((n) => {
            const rows = mine.map((r) => r.result.latency.find((l) => l.series === n)!);
            return [median(rows.map((l) => l.p50_ms)).toFixed(2), median(rows.map((l) => l.p99_ms)).toFixed(2)];
          });
          notes.push(`| ${workers} | ${cells.join(' | ')} |`);
        }
        notes.push('', 'CPU per window close (process CPU of main thread and workers, mean per close; forecast() of every horizon and quantile with calibration and fallback):', '');
        for (const workers of WORKER_COUNTS) {
          const mine = runs.get(workers)!;
          if (mine.length === 0) continue;
          const outputs = mine[0].result.outputs ?? 1;
          notes.push(`- ${trialName(workers)}, ${outputs} outputs per series: ` + SERIES_COUNTS.map((n) => `${n} series ${median(mine.map((r) => r.result.latency.find((l) => l.series === n)!.cpu_ms_per_close ?? NaN)).toFixed(2)} ms`).join(', '));
        }
        latencyP99 = new Map(WORKER_COUNTS.filter((w) => runs.get(w)!.length > 0).map((w) => [w,
          median(runs.get(w)!.map((r) => r.result.latency.find((l) => l.series === SERIES_COUNTS[SERIES_COUNTS.length - 1])!.p99_ms))]));
        return { trials, notes };
      },
      targets(): TargetCheck[] {
        const n = SERIES_COUNTS[SERIES_COUNTS.length - 1];
        return WORKER_COUNTS.map((workers) => {
          const p99 = latencyP99.get(workers);
          return {
            target: `${trialName(workers)}: ${n} series forecast within one ${WINDOW_MS} ms window (p99)`,
            reached: p99 === undefined ? 'not measured (error)' : `${p99.toFixed(1)} ms`,
            met: p99 !== undefined && p99 <= WINDOW_MS,
          };
        });
      },
    };
  },
};
