// Round trip through real servers: rows written by the InfluxDB sink read back exactly (VictoriaMetrics via v2, influxd 1.6 via v1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { staticTokenSource } from '../../src/config/secrets';
import { InfluxSink } from '../../src/sinks/influx';
import { INFLUX_FIELDS, INFLUX_VALUE_FIELDS, PREDICTED_FIELD } from '../../src/sinks/influx-schema';
import { syntheticRows } from '../../src/sinks/influx-synthetic';
import type { WindowRow } from '../../src/features';
import { Influxd1, VictoriaMetrics } from '../lib/servers';
import { RecordingLogger } from '../lib/record-logger';

const NS_PER_MS = 1_000_000n;
const HOST = 'tcs-host';

/** The value a field should carry for a row, or undefined when the point has no such field. */
function expectedField(row: WindowRow, field: string): number | undefined {
  if (field === PREDICTED_FIELD) return row.predictedThroughput ?? undefined;
  return row.values[INFLUX_VALUE_FIELDS[field as keyof typeof INFLUX_VALUE_FIELDS]];
}

function sameTo12Digits(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
}

describe('influx schema', () => {
  it('uses the seed field names for the window columns (the Grafana dashboards query these), every other column under its own name', () => {
    const seed = {
      actual_throughput: 'throughput_mbps',
      rtt_delay: 'delay',
      bytes_in_flight: 'bif',
      delay_gradient: 'delay_gradient',
      bif_gradient: 'bif_gradient',
      iat_mean: 'iat_mean',
      iat_std: 'iat_std',
      size: 'size',
      is_silent: 'is_silent',
    };
    for (const [field, column] of Object.entries(seed)) assert.equal(INFLUX_VALUE_FIELDS[field], column, field);
    for (const [field, column] of Object.entries(INFLUX_VALUE_FIELDS)) if (!(field in seed)) assert.equal(field, column);
    assert.equal(PREDICTED_FIELD, 'predicted_throughput');
  });
});

describe('influx sink, v2 write API against VictoriaMetrics', () => {
  const vm = new VictoriaMetrics();
  before(() => vm.start());
  after(() => vm.dispose());

  it('writes N rows and exactly N come back with their tags, ms timestamps and values', async () => {
    const log = new RecordingLogger();
    const sink = new InfluxSink({ url: vm.url, api: 'v2', org: 'tcs', bucket: 'network_stats', token: staticTokenSource(undefined), host: HOST }, log);
    // 4 series x 75 windows; small batches so several requests (and merging) are exercised.
    const windows = syntheticRows(300, { seriesPerWindow: 4 });
    for (const rows of windows) sink.write(rows);
    await sink.close();
    const rows = windows.flat();
    assert.equal(sink.stats().written, rows.length);
    assert.equal(sink.stats().dropped, 0);
    assert.deepEqual(log.lines, []);

    for (const field of INFLUX_FIELDS) {
      const series = await vm.export(`{__name__="traffic_prediction_${field}"}`);
      const expected = rows.filter((r) => expectedField(r, field) !== undefined);
      const got = series.reduce((n, s) => n + s.values.length, 0);
      assert.equal(got, expected.length, `${field}: sample count`);
      for (const s of series) {
        assert.equal(s.metric.host, HOST);
        assert.equal(s.metric.iface, 'lo');
        const mine = expected.filter((r) => r.series === s.metric.series);
        assert.equal(s.values.length, mine.length, `${field} ${s.metric.series}`);
        const byMs = new Map(mine.map((r) => [Number(r.windowEndNs / NS_PER_MS), r]));
        s.timestamps.forEach((ts, i) => {
          const row = byMs.get(ts);
          assert.ok(row, `${field}: unexpected timestamp ${ts}`);
          const want = expectedField(row, field)!;
          assert.ok(sameTo12Digits(s.values[i], want), `${field} at ${ts}: ${s.values[i]} != ${want}`);
        });
      }
    }
  });
});

describe('influx sink, v1 write API against influxd 1.6', () => {
  const influxd = new Influxd1();
  before(async () => {
    await influxd.start();
    await influxd.createDatabase('tcs_v1');
  });
  after(() => influxd.dispose());

  it('writes N rows and reads back N with exact ns timestamps and float64 values', async () => {
    const log = new RecordingLogger();
    const sink = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_v1', token: staticTokenSource(undefined), host: HOST, maxBatchBytes: 8 * 1024 }, log);
    // Odd ns offsets: a float64 detour would round them to a multiple of 256 ns.
    const windows = syntheticRows(240, { seriesPerWindow: 3, startNs: 1_700_000_000_123_456_789n, windowNs: 50_000_001n });
    for (const rows of windows) sink.write(rows);
    await sink.flush();
    const rows = windows.flat();
    assert.equal(sink.stats().written, rows.length);
    assert.ok(sink.stats().batchesWritten > 1, 'several requests');
    const got = await influxd.selectAll('tcs_v1', 'traffic_prediction');
    assert.equal(got.length, rows.length);
    const key = (time: string, series: string) => `${time}|${series}`;
    const byKey = new Map(got.map((g) => [key(g.time, g.series), g]));
    for (const row of rows) {
      const g = byKey.get(key(row.windowEndNs.toString(), row.series));
      assert.ok(g, `missing ${row.windowEndNs} ${row.series}`);
      assert.equal(g.host, HOST);
      assert.equal(g.iface, row.iface);
      for (const field of INFLUX_FIELDS) {
        const want = expectedField(row, field);
        // influxd 1.x leaves out a column no point ever carried (the forecast fields: these rows have no forecast).
        if (want === undefined) assert.ok(g[field] === '' || g[field] === undefined, `${field} should be absent`);
        else assert.equal(Number(g[field]), want, `${field} at ${g.time}`);
      }
    }
    await sink.close();
    assert.deepEqual(log.lines, []);
  });

  it('leaves out non-finite values instead of the point, and ignores writes after close', async () => {
    const sink = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_v1', measurement: 'tcs_nonfinite', token: staticTokenSource(undefined), host: HOST }, new RecordingLogger());
    const [rows] = syntheticRows(2, { seriesPerWindow: 2 });
    rows[0].values.iat_std = Number.NaN;
    rows[1].values.delay = Number.POSITIVE_INFINITY;
    sink.write(rows);
    await sink.close();
    sink.write(rows);
    assert.equal(sink.stats().rowsAfterClose, 2);
    const got = await influxd.selectAll('tcs_v1', 'tcs_nonfinite');
    assert.equal(got.length, 2);
    const bySeries = new Map(got.map((g) => [g.series, g]));
    assert.equal(bySeries.get(rows[0].series)!.iat_std, '');
    assert.equal(Number(bySeries.get(rows[0].series)!.rtt_delay), rows[0].values.delay);
    assert.equal(bySeries.get(rows[1].series)!.rtt_delay, '');
    assert.equal(Number(bySeries.get(rows[1].series)!.actual_throughput), rows[1].values.throughput_mbps);
  });
});
