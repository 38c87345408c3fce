// The Forecaster end to end through the real Piscina pool and onnxruntime: reference outputs, crashes, drops, spec checks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WINDOW_VALUE_COLUMNS, type WindowBatch } from '../../src/features';
import { Forecaster, TcpcastError } from '../../src/forecast';
import type { ModelSpec } from '../../src/forecast/spec';
import { F, makeModelDir, SEQ, tfjsReferenceMbps } from '../fixtures/forecast/model-helper';

const W = WINDOW_VALUE_COLUMNS.length;

/** Window values of series s at step t: smooth, distinct per series and feature. */
function rawWindow(s: number, t: number): number[] {
  return WINDOW_VALUE_COLUMNS.map((_, c) => Math.sin(0.3 * t + s) * (c + 1) + 2 * c + s);
}

function closeBatch(seriesIds: number[], t: number): WindowBatch {
  const values = new Float64Array(seriesIds.length * W);
  seriesIds.forEach((s, i) => values.set(rawWindow(s, t), i * W));
  return { count: seriesIds.length, series: Uint32Array.from(seriesIds), windowEndNs: new BigInt64Array(seriesIds.length), values, newSeries: [] };
}

/** The last SEQ windows of a series up to step `last`, feature columns only. */
function history(s: number, last: number): number[][] {
  return Array.from({ length: SEQ }, (_, k) => rawWindow(s, last - SEQ + 1 + k).slice(0, F));
}

describe('Forecaster through the pool', () => {
  let dir: string;
  let model: Awaited<ReturnType<typeof makeModelDir>>['model'];
  let spec: ModelSpec;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcm-pool-'));
    ({ model, spec } = await makeModelDir(join(dir, 'model')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('forecasts only full histories and reproduces the tfjs network per series', async () => {
    const f = await Forecaster.create({ modelDir: join(dir, 'model'), workers: 2 });
    try {
      const series = [3, 11, 42];
      let preds = new Map<number, number>();
      const join42 = 6;
      const last = join42 + SEQ - 1;
      for (let t = 0; t <= last; t++) {
        // Series 42 joins late: it must not be forecast before it has SEQ windows.
        const active = t < join42 ? [3, 11] : series;
        preds = await f.predict(closeBatch(active, t));
        if (t < SEQ - 1) assert.equal(preds.size, 0, `no forecast before ${SEQ} windows (t=${t})`);
        if (t < last) assert.equal(preds.has(42), false, `series 42 has ${t - join42 + 1} windows at t=${t}`);
      }
      assert.deepEqual([...preds.keys()].sort((a, b) => a - b), [3, 11, 42]);
      const reference = tfjsReferenceMbps(model, spec, series.map((s) => history(s, last)));
      series.forEach((s, i) => assert.ok(Math.abs(preds.get(s)! - reference[i]) <= 1e-4 * spec.scaler.target.scale[0], `series ${s}: ${preds.get(s)} vs ${reference[i]}`));
      const stats = f.stats();
      assert.equal(stats.dropped, 0);
      // Online state per horizon reaches the flat stats (/metrics): forecasts made at t resolved by window t+1.
      assert.ok(stats.horizon_50ms_resolved >= 5, `resolved ${stats.horizon_50ms_resolved}`);
      assert.equal(stats.horizon_50ms_ewma_serving, 0, 'the network serves until 20 forecasts are resolved');
      assert.ok(stats.horizon_50ms_coverage_p90 >= 0 && stats.horizon_50ms_coverage_p90 <= 1);
      assert.ok(stats.batches >= 5 && stats.sequences >= 2 * 5 + 3);
      assert.ok(stats.workers * stats.intra_op_threads <= Math.max(require('node:os').availableParallelism(), stats.workers));
      // forget() (a series that ended) drops its history and online state: it needs a full history again.
      f.forget(42);
      assert.equal(f.stats().series, 2);
      assert.equal((await f.predict(closeBatch([3, 11, 42], last + 1))).has(42), false);
      assert.equal(f.stats().series, 3);
    } finally {
      await f.close();
    }
  });

  for (const mode of ['exit', 'throw'] as const) {
    it(`replaces a worker that ${mode === 'exit' ? 'exits' : 'throws'} and retries the batch`, async () => {
      const marker = join(dir, `crashed-${mode}`);
      const f = await Forecaster.create({
        modelDir: join(dir, 'model'),
        workers: 1,
        workerFile: join(__dirname, '../fixtures/forecast/crash-once-worker.js'),
        workerDataExtra: { crashMarker: marker, mode, minBatch: 2 },
      });
      try {
        const threadsBefore = f.threadIds;
        let preds = new Map<number, number>();
        for (let t = 0; t < SEQ; t++) preds = await f.predict(closeBatch([1, 2], t));
        assert.equal(readFileSync(marker, 'utf8'), 'crashed', 'the injected failure happened');
        const reference = tfjsReferenceMbps(model, spec, [history(1, SEQ - 1), history(2, SEQ - 1)]);
        assert.equal(preds.size, 2, 'the failed batch was retried, not lost');
        assert.ok(Math.abs(preds.get(1)! - reference[0]) < 1e-3 && Math.abs(preds.get(2)! - reference[1]) < 1e-3);
        assert.equal(f.stats().retries, 1);
        assert.equal(f.stats().failed, 0);
        if (mode === 'exit') assert.notDeepEqual(f.threadIds, threadsBefore, 'the dead worker was replaced');
        // And the pool keeps working afterwards.
        assert.equal((await f.predict(closeBatch([1, 2], SEQ))).size, 2);
      } finally {
        await f.close();
      }
    });
  }

  it('drops the oldest waiting batch when the workers fall behind, and counts it', async () => {
    const f = await Forecaster.create({ modelDir: join(dir, 'model'), workers: 1, maxPending: 1 });
    try {
      for (let t = 0; t < SEQ - 1; t++) await f.predict(closeBatch([5], t));
      // Four closes at once: one runs, one may wait, so the two oldest waiting ones are dropped.
      const results = await Promise.all([0, 1, 2, 3].map((k) => f.predict(closeBatch([5], SEQ - 1 + k))));
      assert.deepEqual(results.map((r) => r.size), [1, 0, 0, 1]);
      assert.equal(f.stats().dropped, 2);
      // The dropped batches' windows still went into the history: the newest forecast used them.
      const reference = tfjsReferenceMbps(model, spec, [history(5, SEQ + 2)]);
      assert.ok(Math.abs(results[3].get(5)! - reference[0]) < 1e-3);
    } finally {
      await f.close();
    }
  });

  it('gathers the columns a model reads by name, in its order, and refuses only a column the engine lacks or another window', async () => {
    const bad = join(dir, 'bad');
    await makeModelDir(bad);
    const good = JSON.parse(readFileSync(join(bad, 'model.json'), 'utf8')) as ModelSpec;
    // The network reads delay first and size second: the buffers must gather by name, not copy the row prefix.
    const swapped = [...good.features];
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ ...good, features: swapped }));
    const f0 = await Forecaster.create({ modelDir: bad });
    try {
      let preds = new Map<number, number>();
      for (let t = 0; t < SEQ; t++) preds = await f0.predict(closeBatch([4], t));
      const byName = history(4, SEQ - 1).map((row) => swapped.map((name) => row[good.features.indexOf(name)]));
      const reference = tfjsReferenceMbps(model, { ...spec, features: swapped }, [byName]);
      assert.ok(Math.abs(preds.get(4)! - reference[0]) <= 1e-4 * spec.scaler.target.scale[0], `${preds.get(4)} vs ${reference[0]}`);
    } finally {
      await f0.close();
    }
    for (const variant of [{ ...good, features: [...good.features.slice(1), 'no_such_column'] }, { ...good, window_ms: 100 }]) {
      writeFileSync(join(bad, 'model.json'), JSON.stringify(variant));
      await assert.rejects(
        Forecaster.create({ modelDir: bad }),
        (err: unknown) => err instanceof TcpcastError && err.code === 'TCM_SPEC_MISMATCH' && (variant.window_ms === 100 || /no_such_column/.test(err.message)),
      );
    }
    // The same model is accepted by an engine running 100 ms windows.
    const f = await Forecaster.create({ modelDir: bad, windowMs: 100 });
    await f.close();
    await assert.rejects(Forecaster.create({ modelDir: join(dir, 'nowhere') }), { code: 'TCM_MODEL_MISSING' });
  });
});
