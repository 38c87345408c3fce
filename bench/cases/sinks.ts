// Benchmark case "sinks": window rows per second through tcpcast's real writers into VictoriaMetrics (InfluxDB v2 API), InfluxDB 1.x (v1 API) and a CSV file.
//
// The servers run on 127.0.0.1 ephemeral ports with temp data dirs (test/lib/servers.ts) for the whole
// case; every run is a child process (bench/lib/sink-child.ts) that writes K synthetic rows with
// writeSyntheticRows and closes the sink. The rate is rows over the time from the first write() to the
// end of the flush (process start and model-free setup excluded); each run writes to a measurement of its
// own, and afterwards the rows are counted on the server (or in the file), so a rate is only reported for
// rows that arrived.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Influxd1, VictoriaMetrics } from '../../test/lib/servers';
import { runMeasured } from '../lib/measure';
import { median } from '../lib/runner';
import { BenchCase, BenchContext, MeasuredCase, PreparedCase, RunMeasurement, TargetCheck, TrialResult } from '../lib/types';

const FULL_ROWS = 210_000;
const QUICK_ROWS = 21_000;
/** The daemon's default top-k (20 connections) plus the interface's `all` series. */
const SERIES_PER_WINDOW = 21;
const V1_DATABASE = 'tcpcast_bench';
/** 1,000 series closing a window every 50 ms: the inference case's largest load, as rows to store. */
const TARGET_ROWS_PER_S = 1000 * (1000 / 50);

type Target = 'vm' | 'influxd' | 'csv';
const TRIAL_NAMES: Record<Target, string> = {
  vm: 'InfluxDB v2 API -> VictoriaMetrics',
  influxd: 'InfluxDB v1 API -> influxd 1.x',
  csv: 'CSV file (CsvSink)',
};

interface ChildOutput {
  rows: number;
  elapsedMs: number;
  stats: Record<string, number>;
}

interface Run {
  measurement: RunMeasurement;
  out: ChildOutput;
  arrived: number;
}

/** VictoriaMetrics stores each field as metric MEASUREMENT_FIELD; actual_throughput is on every row. */
async function countVm(vm: VictoriaMetrics, measurement: string): Promise<number> {
  const series = await vm.export(`{__name__="${measurement}_actual_throughput"}`);
  return series.reduce((n, s) => n + s.values.length, 0);
}

async function countInfluxd(influxd: Influxd1, measurement: string): Promise<number> {
  // CSV answer: header "name,tags,time,count" then one row.
  const csv = (await influxd.query(`SELECT count("actual_throughput") FROM "${measurement}"`, V1_DATABASE)).trim().split('\n');
  return csv.length < 2 ? 0 : Number(csv[1].split(',').pop());
}

function countCsvRows(path: string): number {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  return Math.max(0, lines.length - 1);
}

export const benchCase: BenchCase = {
  name: 'sinks',
  description: 'window rows/s through the InfluxDB writer (VictoriaMetrics v2 API, influxd 1.x v1 API) and the CSV sink',
  async prepare(ctx: BenchContext): Promise<PreparedCase> {
    const rows = ctx.quick ? QUICK_ROWS : FULL_ROWS;
    const child = join(ctx.repoRoot, 'dist', 'bench', 'lib', 'sink-child.js');
    let targetsReached = new Map<Target, number>();
    return {
      unit: 'rows',
      input: {
        rows: `${rows} synthetic window rows per run (src/sinks/influx-synthetic.ts), ${SERIES_PER_WINDOW} series per window close; one InfluxDB point or CSV line each`,
        servers: 'victoria-metrics and influxd 1.x on 127.0.0.1 ephemeral ports, temp data dirs, started once for the case',
        writer: 'InfluxSink production defaults (1 MiB batches, gzip); CsvSink default fsync interval',
      },
      trials: [],
      ratioAgainst: [TRIAL_NAMES.csv],
      versions: {
        'victoria-metrics': ['victoria-metrics', '-version'],
        influxd: ['influxd', 'version'],
      },
      async measure(): Promise<MeasuredCase> {
        const vm = new VictoriaMetrics();
        const influxd = new Influxd1();
        const dir = mkdtempSync(join(tmpdir(), 'tcpcast-bench-sinks-'));
        const runs = new Map<Target, Run[]>([['vm', []], ['influxd', []], ['csv', []]]);
        const errors = new Map<Target, string>();
        const argvs = new Map<Target, string[]>();
        try {
          await vm.start();
          await influxd.start();
          await influxd.createDatabase(V1_DATABASE);
          for (let rep = 0; rep < ctx.repeat; rep++) {
            const measurementName = `tcpcast_bench_${rep}`;
            const plans: Array<{ target: Target; argv: string[]; count: () => Promise<number> }> = [
              { target: 'vm', argv: [process.execPath, child, 'influx', vm.url, 'v2', 'network_stats', measurementName, String(rows), String(SERIES_PER_WINDOW)],
                count: () => countVm(vm, measurementName) },
              { target: 'influxd', argv: [process.execPath, child, 'influx', influxd.url, 'v1', V1_DATABASE, measurementName, String(rows), String(SERIES_PER_WINDOW)],
                count: () => countInfluxd(influxd, measurementName) },
              { target: 'csv', argv: [process.execPath, child, 'csv', join(dir, `${measurementName}.csv`), String(rows), String(SERIES_PER_WINDOW)],
                count: async () => countCsvRows(join(dir, `${measurementName}.csv`)) },
            ];
            for (const plan of plans) {
              if (errors.has(plan.target)) continue;
              if (!argvs.has(plan.target)) argvs.set(plan.target, plan.argv);
              try {
                const run = await runMeasured(plan.argv, { timeoutS: 600 });
                const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as ChildOutput;
                const arrived = await plan.count();
                if (arrived !== rows) throw new Error(`${rows} rows written, ${arrived} found afterwards (writer stats ${JSON.stringify(out.stats)})`);
                runs.get(plan.target)!.push({ measurement: run, out, arrived });
                ctx.log(`  ${TRIAL_NAMES[plan.target]}: ${(rows / (out.elapsedMs / 1000) / 1e3).toFixed(1)} k rows/s, ${arrived} rows found afterwards`);
              } catch (err) {
                errors.set(plan.target, (err as Error).message);
                ctx.log(`  ${TRIAL_NAMES[plan.target]}: ERROR ${(err as Error).message}`);
              }
            }
          }
        } finally {
          await vm.dispose().catch(() => undefined);
          await influxd.dispose().catch(() => undefined);
          rmSync(dir, { recursive: true, force: true });
        }
        const trials: TrialResult[] = (['vm', 'influxd', 'csv'] as Target[]).map((target) => {
          const mine = runs.get(target)!;
          const ok = mine.length > 0 && !errors.has(target);
          const writeS = ok ? median(mine.map((r) => r.out.elapsedMs / 1000)) : undefined;
          return {
            name: TRIAL_NAMES[target],
            argv: argvs.get(target) ?? [process.execPath, child],
            work: rows,
            runs: mine.map((r) => r.measurement),
            wallS: writeS,
            ratePerS: writeS === undefined ? undefined : rows / writeS,
            peakRssMb: ok ? Math.max(...mine.map((r) => r.measurement.peakRssKb)) / 1024 : undefined,
            cpuS: ok ? median(mine.map((r) => r.measurement.userS + r.measurement.sysS)) : undefined,
            ratios: {},
            error: errors.get(target),
          };
        });
        targetsReached = new Map(trials.filter((t) => t.ratePerS !== undefined).map((t) => [(Object.keys(TRIAL_NAMES) as Target[]).find((k) => TRIAL_NAMES[k] === t.name)!, t.ratePerS!]));
        const notes = [
          'wall s: from the first write() to the end of the flush, median over runs (process start excluded); peak RSS and CPU s: the whole writer process.',
          `Every run's rows were counted afterwards on the server (VictoriaMetrics /api/v1/export, InfluxQL count()) or in the file: all ${rows} arrived in every reported run.`,
        ];
        return { trials, notes };
      },
      targets(): TargetCheck[] {
        return (['vm', 'influxd', 'csv'] as Target[]).map((target) => {
          const rate = targetsReached.get(target);
          return {
            target: `${TRIAL_NAMES[target]} keeps up with 1,000 series at 50 ms windows (${(TARGET_ROWS_PER_S / 1e3).toFixed(0)} k rows/s)`,
            reached: rate === undefined ? 'not measured (error)' : `${(rate / 1e3).toFixed(1)} k rows/s`,
            met: rate !== undefined && rate >= TARGET_ROWS_PER_S,
          };
        });
      },
    };
  },
};
