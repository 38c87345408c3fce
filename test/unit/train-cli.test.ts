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
  assert.equal(spec.encoding, 2);
  assert.equal(spec.training.loss, 'pinball');
  assert.deepEqual(spec.horizons, [{ label: '50ms', windows: 1 }, { label: '1s', windows: 20 }]);
  assert.deepEqual(spec.quantiles, [0.1, 0.5, 0.9]);
  assert.equal(spec.scaler.target.center.length, 2);
  for (const label of ['50ms', '1s']) {
    const alpha = spec.ewma![label].alpha;
    assert.ok(alpha > 0 && alpha <= 1, `tuned EWMA alpha for ${label}: ${alpha}`);
    const qb = spec.quantile_baseline![label];
    assert.ok(qb['0.1'] <= qb['0.5'] && qb['0.5'] <= qb['0.9'], `quantile baseline ${label} ordered`);
  }
  assert.equal(spec.training.batch_size, 256);
  const trainSessions = spec.training.train_sessions as string[];
  const valSessions = spec.training.validation_sessions as string[];
  assert.equal(spec.training.split_by, 'group');
  assert.ok(trainSessions.length > 0 && valSessions.length > 0);
  assert.equal(trainSessions.filter((s) => valSessions.includes(s)).length, 0, 'no session on both sides');
  assert.ok((spec.training.export_max_abs_diff_scaled as number) <= 1e-4);
  assert.ok(spec.scaler.features.scale.every((s) => s > 0));
});

it('eval --json has the issue\'s shape per horizon; persistence matches an independent computation; plots are written', () => {
  const data = csvs[0];
  const report = JSON.parse(tcpcast('eval', '--model', join(dir, 'model'), '--data', data, '--json', '--plots', join(dir, 'plots')));
  assert.deepEqual(Object.keys(report.horizons), ['50ms', '1s']);
  const spec = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8')) as ModelSpec;
  for (const horizons of [report.horizons, ...Object.values(report.sessions).map((s) => (s as { horizons: unknown }).horizons)] as Record<string, any>[]) {
    for (const label of ['50ms', '1s']) {
      const h = horizons[label];
      assert.deepEqual(Object.keys(h.forecasters), ['model', 'persistence', 'ewma', 'moving_average', 'quantile_baseline']);
      for (const name of ['model', 'persistence', 'ewma', 'moving_average'])
        for (const metric of ['mae', 'rmse', 'r2', 'pinball', 'coverage', 'lag_windows']) assert.ok(metric in h.forecasters[name], `${label}.${name}.${metric}`);
      assert.deepEqual(Object.keys(h.forecasters.model.coverage), ['p10', 'p90']);
      assert.deepEqual(Object.keys(h.forecasters.quantile_baseline), ['pinball', 'coverage']);
      // eval's EWMA is the tuned one from model.json, not a fixed 0.3.
      assert.equal(h.forecasters.ewma.alpha, spec.ewma![label].alpha);
    }
  }
  // Independent: the throughput column of the CSV; forecasts exist for windows 15 .. n-20 (full history, and
  // the 1 s horizon's 20 windows inside the series).
  const lines = readFileSync(data, 'utf8').trim().split('\n');
  const col = lines[0].split(',').indexOf('throughput_mbps');
  const thr = lines.slice(1).map((l) => Number(l.split(',')[col]));
  let next = 0;
  let second = 0;
  const last = thr.length - 20;
  for (let t = 15; t <= last; t++) {
    next += Math.abs(thr[t] - thr[t - 1]);
    second += Math.abs(thr.slice(t, t + 20).reduce((a, b) => a + b, 0) / 20 - thr[t - 1]);
  }
  const n = last - 15 + 1;
  assert.equal(report.horizons['50ms'].windows, n);
  assert.ok(Math.abs(report.horizons['50ms'].forecasters.persistence.mae - next / n) < 1e-9);
  assert.ok(Math.abs(report.horizons['1s'].forecasters.persistence.mae - second / n) < 1e-9);
  assert.equal(report.horizons['50ms'].forecasters.persistence.lag_windows, 1);
  assert.equal(report.horizons['50ms'].forecasters.persistence.pinball, null, 'a point forecaster has no pinball loss');
  const cov = report.horizons['1s'].forecasters.model.coverage;
  assert.ok(cov.p10 >= 0 && cov.p10 <= cov.p90 && cov.p90 <= 1);
  const plots = readdirSync(join(dir, 'plots'));
  for (const label of ['50ms', '1s']) {
    assert.equal(plots.filter((p) => p.startsWith(`zoom-${label}-`)).length, 1, 'one zoomed panel per session and horizon');
    assert.ok(plots.includes(`reliability-${label}.svg`) && plots.includes(`error_cdf-${label}.svg`));
  }
  for (const svg of plots) assert.match(readFileSync(join(dir, 'plots', svg), 'utf8'), /^<svg/);
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
  // Six outputs (2 horizons x p10/p50/p90); the 50 ms p50 is the middle of the first three once sorted.
  const outputs = Array.from((result[spec.onnx.output].data as Float32Array).subarray(0, 3)).sort((a, b) => a - b);
  const last = (windows.at(-1) as unknown as Record<string, number>).throughput_mbps;
  const expected = Math.max(0, last + outputs[1] * spec.scaler.target.scale[0]);
  assert.ok(Math.abs(forecast - expected) < 1e-4 * Math.max(1, expected), `pool ${forecast} vs independent ${expected}`);
  const report = JSON.parse(tcpcast('eval', '--model', out, '--data', csvs[0], '--json'));
  assert.ok(Number.isFinite(report.horizons['50ms'].forecasters.model.mae));
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
  const level = Math.max(0.1, windows.reduce((s, w) => s + w.throughput_mbps, 0) / L);
  const levelBytes = (level * 1e6 * 0.05) / 8;
  const delays = windows.map((w) => w.delay).filter((d) => d > 0);
  const minDelay = delays.length ? Math.min(...delays) : 1;
  // Inter-arrival times (ms) scale with 1/rate: multiplied by the level's bytes per ms they do not.
  const divisor: Record<string, number> = {
    size: levelBytes, bif: levelBytes, bif_gradient: levelBytes, throughput_mbps: level, delay: minDelay, delay_gradient: minDelay,
    iat_mean: 50 / levelBytes, iat_std: 50 / levelBytes,
  };
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
  const mae = report.horizons['50ms'].forecasters.model.mae;
  assert.ok(Number.isFinite(mae) && mae >= 0, `eval of a relative model: ${mae}`);
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
  const perSeries = rows.length - 15 - 19;
  const samples = (r: any) => r.horizons['50ms'].windows;
  assert.equal(samples(aggregate), perSeries);
  assert.equal(samples(connections), perSeries);
  assert.equal(samples(any), 2 * perSeries);
  assert.deepEqual(Object.keys(aggregate.sessions), ['mixed/synthetic/all']);
  const pmae = (r: any) => r.horizons['50ms'].forecasters.persistence.mae;
  assert.ok(Math.abs(pmae(connections) - 2 * pmae(aggregate)) < 1e-9, 'the connection series is the one at twice the rate');
  const out = join(dir, 'model-aggregate');
  tcpcast('train', '--data', ...csvs, path, '--out', out, '--lstm', '4', '--dense', '', '--epochs', '1', '--synthetic', '--no-progress', '--series', 'aggregate');
  const spec = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as ModelSpec;
  assert.equal(spec.training.series, 'aggregate');
  const sessions = [...(spec.training.train_sessions as string[]), ...(spec.training.validation_sessions as string[])];
  // One session left, so the split is by time: it is on both sides.
  assert.deepEqual([...new Set(sessions)], ['mixed/synthetic/all'], 'only the aggregate series (the synthetic files have none)');
});
