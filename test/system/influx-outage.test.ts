// Server outages mid-stream: the InfluxDB sink keeps windows through a stop/restart on the same data dir and loses none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { staticTokenSource } from '../../src/config/secrets';
import { InfluxSink } from '../../src/sinks/influx';
import { syntheticRows } from '../../src/sinks/influx-synthetic';
import type { WindowRow } from '../../src/features';
import { Influxd1, VictoriaMetrics } from '../lib/servers';
import { RecordingLogger } from '../lib/record-logger';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW_MS = 50;
const SERIES = 4;
/** The requirement's outage is 30 s; TCPCAST_INFLUX_OUTAGE_S shortens (or lengthens) it for quick local runs. */
const LONG_OUTAGE_S = Number(process.env.TCPCAST_INFLUX_OUTAGE_S ?? 30);

/**
 * Writes one window close every WINDOW_MS while `phases` run (server up, down for outageMs, up again),
 * like the daemon would, and returns every row written.
 */
async function streamThroughOutage(sink: InfluxSink, server: { stop(): Promise<void>; start(): Promise<void> }, outageMs: number): Promise<WindowRow[]> {
  const all = syntheticRows(Math.ceil((outageMs + 4000) / WINDOW_MS) * SERIES * 2, { seriesPerWindow: SERIES, windowNs: BigInt(WINDOW_MS) * 1_000_000n });
  let next = 0;
  let running = true;
  const written: WindowRow[] = [];
  const writer = (async () => {
    while (running && next < all.length) {
      sink.write(all[next]);
      written.push(...all[next]);
      next += 1;
      await sleep(WINDOW_MS);
    }
  })();
  await sleep(1000);
  await server.stop();
  await sleep(outageMs);
  await server.start();
  await sleep(1000);
  running = false;
  await writer;
  return written;
}

async function outageCase(kind: 'v1' | 'v2', outageMs: number): Promise<void> {
  const server = kind === 'v1' ? new Influxd1() : new VictoriaMetrics();
  await server.start();
  try {
    if (server instanceof Influxd1) await server.createDatabase('tcs_outage');
    const log = new RecordingLogger();
    const sink = new InfluxSink(
      { url: server.url, api: kind, bucket: 'tcs_outage', token: staticTokenSource(undefined), host: 'h', minRetryDelayMs: 100, maxRetryDelayMs: 1000, logRepeatMs: 10 * 60_000 },
      log,
    );
    const written = await streamThroughOutage(sink, server, outageMs);
    await sink.close(60_000);
    const s = sink.stats();
    assert.ok(s.batchesRetried > 0, 'the outage was noticed');
    assert.equal(s.dropped, 0);
    assert.equal(s.rejected, 0);
    assert.equal(s.written, written.length);

    // Counted on the server, and every (time, series) written is there.
    let stored: string[];
    if (server instanceof Influxd1) {
      stored = (await server.selectAll('tcs_outage', 'traffic_prediction')).map((r) => `${r.time}|${r.series}`);
      assert.deepEqual(new Set(stored), new Set(written.map((r) => `${r.windowEndNs}|${r.series}`)));
    } else {
      const series = await server.export('{__name__="traffic_prediction_actual_throughput"}');
      stored = series.flatMap((x) => x.timestamps.map((t) => `${t}|${x.metric.series}`));
      assert.deepEqual(new Set(stored), new Set(written.map((r) => `${r.windowEndNs / 1_000_000n}|${r.series}`)));
    }
    assert.equal(stored.length, written.length);

    // One line when it broke, one when it recovered: no line per retry.
    assert.deepEqual(
      log.lines.map((l) => l.level),
      ['warn', 'info'],
      JSON.stringify(log.lines),
    );
  } finally {
    await server.dispose();
  }
}

describe('influx sink across a server outage', () => {
  it('v2 (VictoriaMetrics): a 3 s outage loses nothing', () => outageCase('v2', 3000));
  it(`v1 (influxd 1.6): a ${LONG_OUTAGE_S} s outage loses nothing`, () => outageCase('v1', LONG_OUTAGE_S * 1000));
});
