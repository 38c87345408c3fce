// Features chosen by name: a new engine column breaks neither the shipped model nor old CSVs; relative inputs reveal no rate.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { TcpcastError } from '../../src/errors';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';
import { checkEngineCompatibility, loadModel, outputMapping, type ModelSpec } from '../../src/forecast/spec';
import { encodeSequence, RELATIVE_ENCODING, type OutputMapping } from '../../src/forecast/scaler';
import { SequenceBuffers } from '../../src/forecast/sequences';
import { readCsv, windowsToCsv } from '../../src/train/csv';
import { loadSegments } from '../../src/train/dataset';
import { evaluateModelDir } from '../../src/train/evaluate';
import { syntheticWindows } from '../../src/train/synthetic';

const REPO = join(__dirname, '../../..');
const SHIPPED = join(REPO, 'model');
const FIXTURES = join(REPO, 'test/fixtures/forecast');
const dir = mkdtempSync(join(tmpdir(), 'tcm-byname-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The engine's columns with a column no model has seen inserted in the middle (as acked_bytes once was). */
const NEW_COLUMN = 'radio_capacity';
const ENGINE_WITH_NEW_COLUMN = [...WINDOW_VALUE_COLUMNS.slice(0, 3), NEW_COLUMN, ...WINDOW_VALUE_COLUMNS.slice(3)];

it('the shipped model.json is accepted by an engine that has an extra column, and a model asking for a missing column is refused naming it', () => {
  const { spec } = loadModel(SHIPPED);
  assert.doesNotThrow(() => checkEngineCompatibility(spec, 50, ENGINE_WITH_NEW_COLUMN));
  const wants: ModelSpec = { ...spec, features: [...spec.features, NEW_COLUMN] };
  assert.throws(
    () => checkEngineCompatibility(wants, 50, WINDOW_VALUE_COLUMNS),
    (err: unknown) => err instanceof TcpcastError && err.code === 'TCM_SPEC_MISMATCH' && new RegExp(NEW_COLUMN).test(err.message) && !/ size,/.test(err.message.split('engine columns')[0]),
  );
});

it('sequence buffers gather the shipped model\'s columns by name from a batch row with a new column in the middle', () => {
  const { spec } = loadModel(SHIPPED);
  const m = outputMapping(spec);
  const plain = new SequenceBuffers(m, WINDOW_VALUE_COLUMNS);
  const wider = new SequenceBuffers(m, ENGINE_WITH_NEW_COLUMN);
  const L = spec.sequence_length;
  for (let t = 0; t < L; t++) {
    const row = WINDOW_VALUE_COLUMNS.map((_, c) => 1 + c + Math.sin(t + c));
    const widerRow = ENGINE_WITH_NEW_COLUMN.map((name) => (name === NEW_COLUMN ? 1e9 : row[WINDOW_VALUE_COLUMNS.indexOf(name as never)]));
    plain.pushBatch(1, Uint32Array.of(1), Float64Array.from(row));
    wider.pushBatch(1, Uint32Array.of(1), Float64Array.from(widerRow));
  }
  const a = plain.gather([1]);
  const b = wider.gather([1]);
  assert.deepEqual(Array.from(b.input), Array.from(a.input));
  assert.equal(b.bases[0], a.bases[0]);
  // And the values really come from the named columns: a row whose `size` changes changes the input.
  const moved = new SequenceBuffers(m, ENGINE_WITH_NEW_COLUMN);
  for (let t = 0; t < L; t++) moved.pushBatch(1, Uint32Array.of(1), Float64Array.from(ENGINE_WITH_NEW_COLUMN, (n) => (n === 'size' ? 5e5 : 1)));
  assert.notDeepEqual(Array.from(moved.gather([1]).input), Array.from(a.input));
});

it('a CSV lacking columns the command does not use still loads and evaluates with the shipped model; a used one missing is named', async () => {
  const rows = syntheticWindows(join(FIXTURES, 'Verizon-LTE-short.down.30s.trace'), { seed: 3 });
  const full = windowsToCsv(rows).trim().split('\n').map((l) => l.split(','));
  // A CSV written before acked_bytes (and without other columns the command does not read).
  const drop = ['min_rtt', 'retransmits', 'acked_bytes', 'predicted_throughput'];
  const keep = full[0].map((name, i) => (drop.includes(name) ? -1 : i)).filter((i) => i >= 0);
  const path = join(dir, 'old.csv');
  writeFileSync(path, full.map((r) => keep.map((i) => r[i]).join(',')).join('\n') + '\n');
  assert.ok(!readFileSync(path, 'utf8').split('\n')[0].includes('min_rtt'));
  const { spec } = loadModel(SHIPPED);
  const { segments } = loadSegments(path, 'any', spec.features);
  assert.ok(segments.length > 0);
  const { report } = await evaluateModelDir(SHIPPED, [path], { ewmaAlpha: 0.3, maWindows: 5 });
  const h = Object.values(report.horizons)[0];
  assert.ok(h.windows > 100 && Number.isFinite(h.forecasters.model.mae));
  assert.throws(() => readCsv(path, ['delay', 'min_rtt']), (err: unknown) => err instanceof TcpcastError && /min_rtt/.test(err.message) && !/delay/.test(err.message));
});

it('relative encoding (version 2): a sequence at 10x the rate gives the same network input, inter-arrival times included', () => {
  const names = Object.keys(RELATIVE_ENCODING);
  const L = 15;
  const m: OutputMapping = {
    mode: 'relative',
    featureNames: names,
    features: { center: names.map((_, i) => i * 0.1), scale: names.map((_, i) => 1 + i) },
    target: { center: [0], scale: [1] },
    sequenceLength: L,
    windowMs: 50,
    encoding: 2,
  };
  // How each column scales when the same traffic runs 10x faster, stated independently of the table.
  const rateFactor: Record<string, number> = {
    size: 10, bif: 10, bif_gradient: 10, acked_bytes: 10, throughput_mbps: 10, packets: 10, retransmits: 10,
    iat_mean: 0.1, iat_std: 0.1, delay: 1, delay_gradient: 1, min_rtt: 1, is_silent: 1,
  };
  assert.deepEqual(Object.keys(rateFactor).sort(), [...names].sort(), 'every encodable column has a stated rate scaling');
  const raw = new Float64Array(L * names.length);
  for (let t = 0; t < L; t++)
    names.forEach((n, f) => {
      const mbps = 3 + Math.sin(t);
      const value: Record<string, number> = {
        size: (mbps * 1e6 * 0.05) / 8, bif: 40000 + 1000 * t, bif_gradient: 500 * Math.cos(t), acked_bytes: (mbps * 1e6 * 0.05) / 8.2,
        throughput_mbps: mbps, packets: 12 + t, retransmits: t % 3, iat_mean: 4 / mbps, iat_std: 1.5 / mbps,
        delay: 40 + t, delay_gradient: 0.5 * Math.sin(t), min_rtt: 40, is_silent: t === 3 ? 1 : 0,
      };
      raw[t * names.length + f] = value[n];
    });
  const fast = raw.map((v, j) => v * rateFactor[names[j % names.length]]);
  const a = new Float64Array(raw.length);
  const b = new Float64Array(raw.length);
  const baseA = encodeSequence(m, raw, 0, a, 0);
  const baseB = encodeSequence(m, fast, 0, b, 0);
  assert.ok(Math.abs(baseB / baseA - 10) < 1e-9, 'the level scales with the rate');
  for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-9 * Math.max(1, Math.abs(a[j])), `input ${j} (${names[j % names.length]}): ${a[j]} vs ${b[j]}`);
  // Version 1 (the seed's relative models) kept inter-arrival times raw: it does reveal the rate.
  const v1 = { ...m, encoding: 1 };
  const c = new Float64Array(raw.length);
  const d = new Float64Array(raw.length);
  encodeSequence(v1, raw, 0, c, 0);
  encodeSequence(v1, fast, 0, d, 0);
  const iat = names.indexOf('iat_mean');
  assert.ok(Math.abs(c[iat] - d[iat]) > 1e-3, 'version 1 leaks the rate through iat_mean');
});
