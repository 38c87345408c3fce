// CI end to end on tiny SYNTHETIC data: tcpcast train (1 x 8 LSTM, few epochs) -> ONNX -> tcpcast eval -> Forecaster.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Forecaster } from '../../src/forecast';
import type { ModelSpec } from '../../src/forecast/spec';
import { FEATURE_NAMES, WINDOW_VALUE_COLUMNS } from '../../src/features';
import { windowsToCsv } from '../../src/train/csv';
import { syntheticWindows } from '../../src/train/synthetic';

const FIXTURES = join(__dirname, '../../../test/fixtures/forecast');
const CLI = join(__dirname, '../../../bin/tcpcast');
const TRACES = ['ATT-LTE-driving.down', 'Verizon-LTE-short.down', 'TMobile-UMTS-driving.down'];

let dir: string;
let csvs: string[];

function tcpcast(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tcm-train-'));
  csvs = TRACES.map((t, i) => {
    const path = join(dir, `${t}__synthetic.csv`);
    writeFileSync(path, windowsToCsv(syntheticWindows(join(FIXTURES, `${t}.30s.trace`), { seed: i + 1 })));
    return path;
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

it('trains, exports a verified ONNX model with its spec, and holds out whole sessions', () => {
  tcpcast('train', '--data', ...csvs, '--out', join(dir, 'model'), '--lstm', '8', '--dense', '', '--epochs', '3', '--synthetic', '--no-progress');
  const spec = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8')) as ModelSpec;
  assert.ok(existsSync(join(dir, 'model', spec.onnx_file)));
  assert.equal(spec.training.synthetic, true);
  assert.equal(spec.window_ms, 50);
  assert.equal(spec.sequence_length, 15);
  assert.deepEqual(spec.architecture, { lstm_units: [8], dense_units: [] });
  // The defaults are the shipped model's configuration (model/README.md).
  assert.equal(spec.target_mode, 'relative');
  assert.equal(spec.training.loss, 'mae');
  assert.equal(spec.training.batch_size, 256);
  const trainSessions = spec.training.train_sessions as string[];
  const valSessions = spec.training.validation_sessions as string[];
  assert.equal(spec.training.split_by, 'group');
  assert.ok(trainSessions.length > 0 && valSessions.length > 0);
  assert.equal(trainSessions.filter((s) => valSessions.includes(s)).length, 0, 'no session on both sides');
  assert.ok((spec.training.export_max_abs_diff_scaled as number) <= 1e-4);
  assert.ok(spec.scaler.features.scale.every((s) => s > 0));
});

it('eval prints the model and baselines with exact keys; persistence matches an independent computation', () => {
  const data = csvs[0];
  const report = JSON.parse(tcpcast('eval', '--model', join(dir, 'model'), '--data', data, '--json', '--plots', join(dir, 'plots'), '--threshold-mbps', '5'));
  for (const key of ['model', 'persistence', 'ewma', 'moving_average'])
    for (const metric of ['mae', 'rmse', 'r2', 'auc', 'lag_windows']) assert.ok(metric in report[key], `${key}.${metric}`);
  // Independent: the throughput column of the CSV, windows 15.. (those with a full history).
  const lines = readFileSync(data, 'utf8').trim().split('\n');
  const col = lines[0].split(',').indexOf('throughput_mbps');
  const thr = lines.slice(1).map((l) => Number(l.split(',')[col]));
  let sum = 0;
  for (let t = 15; t < thr.length; t++) sum += Math.abs(thr[t] - thr[t - 1]);
  assert.ok(Math.abs(report.persistence.mae - sum / (thr.length - 15)) < 1e-9);
  assert.equal(report.persistence.lag_windows, 1);
  assert.equal(report.config.samples, thr.length - 15);
  const plots = readdirSync(join(dir, 'plots'));
  assert.equal(plots.filter((p) => p.startsWith('timeseries-')).length, 1, 'one time-series plot per session');
  for (const svg of plots) assert.match(readFileSync(join(dir, 'plots', svg), 'utf8'), /^<svg/);
  assert.ok(plots.includes('error_cdf.svg'));
});

it('the trained model directory loads in the Forecaster', async () => {
  const f = await Forecaster.create({ modelDir: join(dir, 'model') });
  assert.equal(f.spec.training.synthetic, true);
  await f.close();
});

it('a delta (residual) model: the pool forecasts last throughput + the network output, the same as eval computes', async () => {
  const out = join(dir, 'model-delta');
  tcpcast('train', '--data', ...csvs, '--out', out, '--lstm', '8', '--dense', '', '--epochs', '2', '--synthetic', '--no-progress', '--target-mode', 'delta');
  const spec = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as ModelSpec;
  assert.equal(spec.target_mode, 'delta');
  // Through the real pool: one series fed 16 windows; the forecast must equal last + output * target scale,
  // with the network output taken from onnxruntime directly on the same scaled input.
  const windows = syntheticWindows(join(FIXTURES, `${TRACES[0]}.30s.trace`), { seed: 9 }).slice(0, spec.sequence_length);
  const f = await Forecaster.create({ modelDir: out });
  let forecast: number | undefined;
  const width = WINDOW_VALUE_COLUMNS.length;
  for (const [k, w] of windows.entries()) {
    const values = new Float64Array(width);
    WINDOW_VALUE_COLUMNS.forEach((c, j) => (values[j] = (w as unknown as Record<string, number>)[c] ?? 0));
    const batch = { count: 1, series: Uint32Array.of(7), windowEndNs: BigInt64Array.of(BigInt(k + 1) * 50_000_000n), values, newSeries: [] };
    forecast = (await f.predict(batch)).get(7);
  }
  await f.close();
  assert.ok(forecast !== undefined, 'a forecast once the history is full');
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(join(out, spec.onnx_file));
  const x = new Float32Array(spec.sequence_length * FEATURE_NAMES.length);
  windows.forEach((w, t) =>
    FEATURE_NAMES.forEach((name, j) => {
      const raw = (w as unknown as Record<string, number>)[name];
      x[t * FEATURE_NAMES.length + j] = (raw - spec.scaler.features.center[j]) / spec.scaler.features.scale[j];
    }),
  );
  const result = await session.run({ [spec.onnx.input]: new ort.Tensor('float32', x, [1, spec.sequence_length, FEATURE_NAMES.length]) });
  const output = (result[spec.onnx.output].data as Float32Array)[0];
  const last = (windows.at(-1) as unknown as Record<string, number>).throughput_mbps;
  const expected = Math.max(0, last + output * spec.scaler.target.scale[0]);
  assert.ok(Math.abs(forecast - expected) < 1e-4 * Math.max(1, expected), `pool ${forecast} vs independent ${expected}`);
  const report = JSON.parse(tcpcast('eval', '--model', out, '--data', csvs[0], '--json'));
  assert.ok(Number.isFinite(report.model.mae));
});

it('a relative model: inputs are divided by the sequence level and the pool forecasts output x level, computed independently here', async () => {
  const out = join(dir, 'model-relative');
  tcpcast('train', '--data', ...csvs, '--out', out, '--lstm', '8', '--dense', '', '--epochs', '2', '--synthetic', '--no-progress', '--target-mode', 'relative', '--loss', 'mae');
  const spec = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as ModelSpec;
  assert.equal(spec.target_mode, 'relative');
  assert.equal(spec.training.loss, 'mae');
  const L = spec.sequence_length;
  const windows = syntheticWindows(join(FIXTURES, `${TRACES[1]}.30s.trace`), { seed: 11 }).slice(40, 40 + L) as unknown as Record<string, number>[];
  const f = await Forecaster.create({ modelDir: out });
  let forecast: number | undefined;
  const width = WINDOW_VALUE_COLUMNS.length;
  for (const [k, w] of windows.entries()) {
    const values = Float64Array.from(WINDOW_VALUE_COLUMNS, (c) => w[c] ?? 0);
    forecast = (await f.predict({ count: 1, series: Uint32Array.of(3), windowEndNs: BigInt64Array.of(BigInt(k + 1) * 50_000_000n), values, newSeries: [] })).get(3);
    assert.equal(values.length, width);
  }
  await f.close();
  assert.ok(forecast !== undefined);
  // The encoding written out from its definition (docs/forecast.md), not through src/forecast/scaler.ts.
  const level = windows.reduce((s, w) => s + w.throughput_mbps, 0) / L + 0.1;
  const levelBytes = (level * 1e6 * 0.05) / 8;
  const delays = windows.map((w) => w.delay).filter((d) => d > 0);
  const minDelay = delays.length ? Math.min(...delays) : 1;
  const divisor: Record<string, number> = { size: levelBytes, bif: levelBytes, bif_gradient: levelBytes, throughput_mbps: level, delay: minDelay, delay_gradient: minDelay };
  const x = new Float32Array(L * FEATURE_NAMES.length);
  windows.forEach((w, t) =>
    FEATURE_NAMES.forEach((name, j) => {
      x[t * FEATURE_NAMES.length + j] = (w[name] / (divisor[name] ?? 1) - spec.scaler.features.center[j]) / spec.scaler.features.scale[j];
    }),
  );
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(join(out, spec.onnx_file));
  const result = await session.run({ [spec.onnx.input]: new ort.Tensor('float32', x, [1, L, FEATURE_NAMES.length]) });
  const output = (result[spec.onnx.output].data as Float32Array)[0];
  const expected = Math.max(0, (output * spec.scaler.target.scale[0] + spec.scaler.target.center[0]) * level);
  assert.ok(expected > 0, 'a busy synthetic window sequence forecasts a positive throughput');
  assert.ok(Math.abs(forecast - expected) < 1e-4 * Math.max(1, expected), `pool ${forecast} vs independent ${expected}`);
  const report = JSON.parse(tcpcast('eval', '--model', out, '--data', csvs[1], '--json'));
  assert.ok(Number.isFinite(report.model.mae) && report.model.mae >= 0, `eval of a relative model: ${report.model.mae}`);
});

it('--series picks the interface aggregates or the connections, in train and eval', () => {
  // One file, two series over the same windows: the aggregate `all` and a connection at twice its throughput.
  const rows = syntheticWindows(join(FIXTURES, `${TRACES[0]}.30s.trace`), { seed: 5 });
  const mixed = rows.flatMap((r) => [
    { ...r, series: 'all' },
    { ...r, series: '10.0.0.2:5201-10.0.0.1:40000', throughput_mbps: 2 * (r.throughput_mbps as number) },
  ]);
  const path = join(dir, 'mixed.csv');
  writeFileSync(path, windowsToCsv(mixed));
  const evalJson = (series: string) => JSON.parse(tcpcast('eval', '--model', join(dir, 'model'), '--data', path, '--json', '--series', series));
  const any = evalJson('any');
  const aggregate = evalJson('aggregate');
  const connections = evalJson('connections');
  const perSeries = rows.length - 15;
  assert.equal(aggregate.config.samples, perSeries);
  assert.equal(connections.config.samples, perSeries);
  assert.equal(any.config.samples, 2 * perSeries);
  assert.deepEqual(Object.keys(aggregate.sessions), ['mixed/synthetic/all']);
  assert.ok(Math.abs(connections.persistence.mae - 2 * aggregate.persistence.mae) < 1e-9, 'the connection series is the one at twice the rate');
  const out = join(dir, 'model-aggregate');
  tcpcast('train', '--data', ...csvs, path, '--out', out, '--lstm', '4', '--dense', '', '--epochs', '1', '--synthetic', '--no-progress', '--series', 'aggregate');
  const spec = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as ModelSpec;
  assert.equal(spec.training.series, 'aggregate');
  const sessions = [...(spec.training.train_sessions as string[]), ...(spec.training.validation_sessions as string[])];
  // One session left, so the split is by time: it is on both sides.
  assert.deepEqual([...new Set(sessions)], ['mixed/synthetic/all'], 'only the aggregate series (the synthetic files have none)');
});
