// The forecast model the inference and e2e cases use: the shipped model/ when it exists, else one trained once for the bench and cached in bench/out.
//
// The bench measures speed, not accuracy, so when no model ships yet a model with the default architecture
// (`tcpcast train`'s defaults: one 32-unit LSTM layer, dense 32 head) is trained for one
// epoch on synthetic windows from the checked-in link-trace fixtures, as test/unit/train-cli.test.ts does with a
// smaller one. Its weights are poor; its inference cost is the real architecture's. Results name the model.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../../src/forecast/spec';
import { windowsToCsv } from '../../src/train/csv';
import { syntheticWindows } from '../../src/train/synthetic';
import { BenchContext } from './types';

const FIXTURE_TRACES = ['ATT-LTE-driving.down', 'Verizon-LTE-short.down', 'TMobile-UMTS-driving.down'];
const BENCH_MODEL_NAME = 'model-bench';

export interface BenchModel {
  dir: string;
  /** One line for reports: where it came from and its architecture. */
  label: string;
  spec: ModelSpec;
}

function describe(dir: string, origin: string): BenchModel {
  const spec = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelSpec;
  const a = spec.architecture;
  const label = `${origin}: LSTM ${a.lstm_units.join('-')}, dense ${a.dense_units.length ? a.dense_units.join('-') : 'none'}, ` +
    `sequence ${spec.sequence_length} x ${spec.window_ms} ms${spec.training.synthetic ? ', trained on synthetic data' : ''}`;
  return { dir, label, spec };
}

export function ensureBenchModel(ctx: BenchContext): BenchModel {
  const shipped = join(ctx.repoRoot, 'model');
  if (existsSync(join(shipped, 'model.json'))) return describe(shipped, 'shipped model/');
  const dir = join(ctx.outDir, BENCH_MODEL_NAME);
  if (existsSync(join(dir, 'model.json'))) return describe(dir, `bench model (${dir}; no model/model.json yet)`);
  const cli = join(ctx.repoRoot, 'dist', 'src', 'cli.js');
  if (!existsSync(cli)) throw new Error('tcpcast not built: dist/src/cli.js missing (npm run build)');
  ctx.log(`   no model/model.json: training a bench model once into ${dir} (default architecture, 1 epoch, synthetic data)`);
  const dataDir = join(ctx.outDir, `${BENCH_MODEL_NAME}-data`);
  mkdirSync(dataDir, { recursive: true });
  const fixtures = join(ctx.repoRoot, 'test', 'fixtures', 'forecast');
  const csvs = FIXTURE_TRACES.map((trace, i) => {
    const path = join(dataDir, `${trace}__synthetic.csv`);
    writeFileSync(path, windowsToCsv(syntheticWindows(join(fixtures, `${trace}.30s.trace`), { seed: i + 1 })));
    return path;
  });
  try {
    execFileSync(process.execPath, [cli, 'train', '--data', ...csvs, '--out', dir, '--epochs', '1', '--synthetic', '--no-progress'],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as Error & { stderr?: string };
    throw new Error(`training the bench model failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-2).join(' | ')}`);
  }
  return describe(dir, `bench model (${dir}; no model/model.json yet)`);
}
