// The pipeline's contract: rows reach every sink in window order, each carrying the forecast made one window earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, type Forecaster, type WindowSource } from '../../src/pipeline';
import { WINDOW_VALUE_COLUMNS, type WindowBatch, type WindowRow } from '../../src/features';
import type { Sink } from '../../src/sinks/sink';
import { createLogger } from '../../src/log';

const WIDTH = WINDOW_VALUE_COLUMNS.length;
const MS = 1_000_000n;

/** Builds a batch holding `closes` consecutive window closes of two series, throughput = window index. */
function makeBatch(firstWindow: number, closes: number, withNewSeries: boolean): WindowBatch {
  const count = closes * 2;
  const batch: WindowBatch = {
    count,
    series: new Uint32Array(count),
    windowEndNs: new BigInt64Array(count),
    values: new Float64Array(count * WIDTH),
    newSeries: withNewSeries
      ? [
          { index: 0, iface: 'veth0', key: 'all' },
          { index: 1, iface: 'veth0', key: '10.0.0.1:5201-10.0.0.2:40000' },
        ]
      : [],
  };
  for (let c = 0; c < closes; c++) {
    for (let s = 0; s < 2; s++) {
      const i = c * 2 + s;
      batch.series[i] = s;
      batch.windowEndNs[i] = BigInt(firstWindow + c + 1) * 50n * MS;
      batch.values[i * WIDTH + WINDOW_VALUE_COLUMNS.indexOf('throughput_mbps')] = firstWindow + c + s * 1000;
    }
  }
  return batch;
}

function source(batches: WindowBatch[], live: boolean): WindowSource {
  return {
    live,
    stats: () => ({}),
    stop: async () => {},
    async *[Symbol.asyncIterator]() {
      for (const b of batches) yield b;
    },
  };
}

class MemorySink implements Sink {
  readonly name = 'memory';
  readonly closes: WindowRow[][] = [];
  write(rows: WindowRow[]): void {
    this.closes.push(rows);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats() {
    return { written: this.closes.flat().length, dropped: 0, rejected: 0, backlogBytes: 0 };
  }
}

/** Predicts "this window's throughput + 0.5" so the test can tell which window a forecast was made at. */
const THROUGHPUT = WINDOW_VALUE_COLUMNS.indexOf('throughput_mbps');
const echoForecaster: Forecaster = {
  async predict(batch) {
    assert.ok(batch.windowEndNs.every((t) => t === batch.windowEndNs[0]), 'one window close per call');
    return new Map([...batch.series].map((s, i) => [s, batch.values[i * WIDTH + THROUGHPUT] + 0.5]));
  },
  stats: () => ({}),
  close: async () => {},
};

test('each row carries the forecast made at the previous window close', async () => {
  const sink = new MemorySink();
  const p = new Pipeline({
    source: source([makeBatch(0, 3, true), makeBatch(3, 2, false)], false),
    sinks: [sink],
    forecaster: echoForecaster,
    logger: createLogger('silent'),
    windowMs: 50,
  });
  await p.run();
  assert.equal(sink.closes.length, 5, 'one sink write per window close');
  for (const [k, rows] of sink.closes.entries()) {
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.windowEndNs === BigInt(k + 1) * 50n * MS));
    for (const r of rows) {
      const expected = k === 0 ? null : r.values.throughput_mbps - 1 + 0.5;
      assert.equal(r.predictedThroughput, expected, `window ${k} series ${r.series}`);
    }
  }
  assert.equal(sink.closes[0][1].series, '10.0.0.1:5201-10.0.0.2:40000');
  assert.equal(p.stats().predictionsAttached, 8);
  assert.equal(p.stats().predictionsLate, 0);
});

test('a live source does not wait for inference; late forecasts are counted, not attached to the wrong window', async () => {
  const sink = new MemorySink();
  const slow: Forecaster = {
    predict: (batch) => new Promise((resolve) => setTimeout(() => resolve(new Map([...batch.series].map((s) => [s, 1]))), 30)),
    stats: () => ({}),
    close: async () => {},
  };
  const p = new Pipeline({ source: source([makeBatch(0, 4, true)], true), sinks: [sink], forecaster: slow, logger: createLogger('silent'), windowMs: 50 });
  await p.run();
  assert.equal(sink.closes.length, 4);
  assert.ok(sink.closes.flat().every((r) => r.predictedThroughput === null));
  assert.equal(p.stats().predictionsLate, 6, 'windows 2..4 of both series had a forecast requested that was not there yet');
});

test('a failing forecaster never stops the rows', async () => {
  const sink = new MemorySink();
  const failing: Forecaster = { predict: async () => Promise.reject(new Error('boom')), stats: () => ({}), close: async () => {} };
  const p = new Pipeline({ source: source([makeBatch(0, 3, true)], false), sinks: [sink], forecaster: failing, logger: createLogger('silent'), windowMs: 50 });
  await p.run();
  assert.equal(sink.closes.flat().length, 6);
  assert.equal(p.stats().forecastErrors, 3);
});
