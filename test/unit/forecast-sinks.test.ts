// Where the forecast goes: every horizon's p10/p50/p90 and who served reach the CSV and the InfluxDB line from one declaration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WINDOW_VALUE_COLUMNS, type WindowBatch, type WindowRow } from '../../src/features';
import { FORECAST_COLUMN_NAMES, type RowForecasts } from '../../src/forecast-columns';
import { createLogger } from '../../src/log';
import { Pipeline, type Forecaster, type WindowSource } from '../../src/pipeline';
import { csvHeader, csvLines } from '../../src/sinks/csv';
import { INFLUX_FIELDS, rowToLineProtocol } from '../../src/sinks/influx-schema';
import type { Sink } from '../../src/sinks/sink';

const WIDTH = WINDOW_VALUE_COLUMNS.length;
const THROUGHPUT = WINDOW_VALUE_COLUMNS.indexOf('throughput_mbps');

function close(window: number): WindowBatch {
  const values = new Float64Array(WIDTH);
  values[THROUGHPUT] = window;
  return {
    count: 1,
    series: Uint32Array.of(0),
    windowEndNs: BigInt64Array.of(BigInt(window + 1) * 50_000_000n),
    values,
    newSeries: window === 0 ? [{ index: 0, iface: 'veth0', key: 'all' }] : [],
  };
}

/** Forecasts derived from the window they were made at, so the test can tell which close made them. */
const forecaster: Forecaster = {
  horizons: [{ label: '50ms' }, { label: '1s' }],
  async predict() {
    throw new Error('forecast() must be used when present');
  },
  async forecast(batch) {
    const w = batch.values[THROUGHPUT];
    const f: RowForecasts = {
      '50ms': { p10: w + 0.1, p50: w + 0.5, p90: w + 0.9, served: 'model' },
      '1s': { p10: w + 1.1, p50: w + 1.5, p90: w + 1.9, served: 'ewma' },
    };
    return new Map([[0, f]]);
  },
  stats: () => ({}),
  close: async () => {},
};

test('rows carry every horizon\'s served forecast; CSV columns and InfluxDB fields come from the one list', async () => {
  const rows: WindowRow[] = [];
  const sink: Sink = { name: 'memory', write: (r: WindowRow[]) => void rows.push(...r), flush: async () => {}, close: async () => {}, stats: () => ({}) } as unknown as Sink;
  const source: WindowSource = {
    live: false,
    stats: () => ({}),
    stop: async () => {},
    async *[Symbol.asyncIterator]() {
      for (let w = 0; w < 3; w++) yield close(w);
    },
  };
  await new Pipeline({ source, sinks: [sink], forecaster, logger: createLogger('silent'), windowMs: 50 }).run();
  assert.equal(rows.length, 3);
  assert.equal(rows[0].forecasts, undefined);
  // Row 2 carries what was forecast at close 1.
  assert.equal(rows[2].predictedThroughput, 1.5, 'predicted_throughput stays the 50 ms p50');
  assert.deepEqual(rows[2].forecasts!['1s'], { p10: 2.1, p50: 2.5, p90: 2.9, served: 'ewma' });

  const header = csvHeader().trim().split(',');
  assert.deepEqual(header.slice(-FORECAST_COLUMN_NAMES.length), [...FORECAST_COLUMN_NAMES]);
  assert.deepEqual(FORECAST_COLUMN_NAMES, [
    'predicted_50ms_p10', 'predicted_50ms_p50', 'predicted_50ms_p90', 'predicted_50ms_served',
    'predicted_1s_p10', 'predicted_1s_p50', 'predicted_1s_p90', 'predicted_1s_served',
  ]);
  const lines = csvLines(rows).trim().split('\n').map((l) => l.split(','));
  const at = (name: string) => header.indexOf(name);
  assert.equal(lines[0][at('predicted_1s_p50')], '', 'no forecast yet: empty');
  assert.equal(lines[2][at('predicted_throughput')], '1.5');
  assert.equal(lines[2][at('predicted_1s_p90')], '2.9');
  assert.equal(lines[2][at('predicted_1s_served')], 'ewma');
  assert.equal(lines[2][at('predicted_50ms_served')], 'model');

  for (const name of FORECAST_COLUMN_NAMES) assert.ok((INFLUX_FIELDS as readonly string[]).includes(name), name);
  const lp = rowToLineProtocol(rows[2], 'tcp', 'h')!;
  assert.match(lp, /predicted_1s_p90=2\.9[, ]/);
  assert.match(lp, /predicted_50ms_p10=1\.1[, ]/);
  assert.match(lp, /predicted_1s_served="ewma"/);
  assert.match(lp, /predicted_throughput=1\.5[, ]/);
  assert.doesNotMatch(rowToLineProtocol(rows[0], 'tcp', 'h')!, /predicted_/);
});
