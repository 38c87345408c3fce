// Series lifecycle across the boundary: every connection series that ends is announced (with why) in a batch, and the pipeline, the forecaster and the sinks forget it at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/capture';
import { WINDOW_VALUE_COLUMNS, type EndedSeries, type WindowBatch, type WindowRow, type SeriesInfo } from '../../src/features';
import { Forecaster } from '../../src/forecast';
import { createLogger } from '../../src/log';
import { Pipeline, type WindowSource } from '../../src/pipeline';
import type { Sink } from '../../src/sinks/sink';
import { DashboardHistory } from '../../src/dashboard/history';
import { makeModelDir } from '../fixtures/forecast/model-helper';
import { ACK, ipv4, pcapOf, shortConnection, type Segment as TcpSegment } from '../lib/synthetic-pcap';

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;
const CONNECTIONS = 100;
const TOP_K = 20;

/**
 * CONNECTIONS short connections one after another (each 10 segments over 50 ms, a new one every 150 ms, so at most ~15 overlap), then a
 * connection replaced on its own 5-tuple by a new one (port reuse), then a lone packet 5 s later so every connection
 * series has been silent for longer than FLOW_SERIES_IDLE_NS (the lone packet's connection gets none: the file ends).
 */
function churn(): TcpSegment[] {
  const segs: TcpSegment[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    segs.push(...shortConnection({ startNs: T0 + BigInt(i) * 150n * MS, client: '10.0.0.1', server: '10.0.0.2', sport: 20000 + i, dport: 5201, segments: 10, size: 1000, gapNs: 5n * MS }));
  }
  const reuseAt = T0 + BigInt(CONNECTIONS) * 150n * MS + 500n * MS;
  const reused = { client: '10.0.0.1', server: '10.0.0.2', sport: 40000, dport: 5201, segments: 40, size: 1000, gapNs: 5n * MS };
  segs.push(...shortConnection({ ...reused, startNs: reuseAt }));
  segs.push(...shortConnection({ ...reused, startNs: reuseAt + 400n * MS, isn: 900_000 }));
  const last = segs[segs.length - 1].tsNs;
  segs.push({ tsNs: last + 5000n * MS, src: ipv4('10.0.0.3'), dst: ipv4('10.0.0.2'), sport: 1234, dport: 80, seq: 1, ack: 1, flags: ACK, payload: 10 });
  return segs.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
}

interface Seen {
  created: Map<number, SeriesInfo>;
  ended: Map<number, EndedSeries>;
  /** Rows of a series after the batch that announced its end. */
  rowsAfterEnd: number;
}

async function readAll(pcap: string, idleTimeoutMs?: number): Promise<Seen & { counters: Record<string, number> }> {
  const seen: Seen = { created: new Map(), ended: new Map(), rowsAfterEnd: 0 };
  const capture = openCapture({ files: [pcap], topK: TOP_K, idleTimeoutMs });
  for await (const batch of capture) {
    for (const s of batch.newSeries) seen.created.set(s.index, s);
    for (let i = 0; i < batch.count; i++) if (seen.ended.has(batch.series[i])) seen.rowsAfterEnd++;
    for (const e of batch.endedSeries ?? []) seen.ended.set(e.index, e);
  }
  return { ...seen, counters: capture.stats() };
}

const reasons = (ended: Map<number, EndedSeries>) => {
  const out: Record<string, number> = {};
  for (const e of ended.values()) out[e.reason] = (out[e.reason] ?? 0) + 1;
  return out;
};

describe('series lifecycle', () => {
  let dir: string;
  let pcap: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcpcast-lifecycle-'));
    pcap = join(dir, 'churn.pcap');
    writeFileSync(pcap, pcapOf(churn()));
    await makeModelDir(join(dir, 'model'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every connection series that ends is announced once, with its reason, after its last window', async () => {
    const seen = await readAll(pcap);
    const connections = [...seen.created.values()].filter((s) => s.key !== 'all');
    assert.equal(connections.length, CONNECTIONS + 2, 'each connection got a series (the reused 5-tuple two; the lone last packet none)');
    // Every one ended: silence, or replaced on its 5-tuple.
    assert.deepEqual(reasons(seen.ended), { idle: CONNECTIONS + 1, port_reused: 1 });
    for (const index of seen.ended.keys()) assert.notEqual(seen.created.get(index)?.key, 'all', 'interface series never end');
    const reused = [...seen.ended.values()].find((e) => e.reason === 'port_reused')!;
    assert.equal(seen.created.get(reused.index)!.key, '10.0.0.2:5201-10.0.0.1:40000');
    assert.equal(seen.rowsAfterEnd, 0, 'no window of a series after its end was announced');
    assert.equal(seen.counters.seriesEnded, seen.ended.size, 'the engine counter agrees');
  });

  it('a connection that leaves the flow table ends its series as "evicted"', async () => {
    const seen = await readAll(pcap, 500);
    assert.deepEqual(reasons(seen.ended), { evicted: CONNECTIONS + 1, port_reused: 1 });
    assert.equal(seen.rowsAfterEnd, 0);
  });

  it("the pipeline's, the forecaster's and the sinks' per-series state shrinks back as series end (bounded under churn)", async () => {
    const forecaster = await Forecaster.create({ modelDir: join(dir, 'model'), workers: 1 });
    try {
      const capture = openCapture({ files: [pcap], topK: TOP_K });
      let peakPipeline = 0;
      let peakForecaster = 0;
      const forgotten: SeriesInfo[] = [];
      const live = new Map<string, number>();
      let pipeline: Pipeline | undefined = undefined;
      const sink: Sink = {
        name: 'probe',
        write(rows: WindowRow[]) {
          for (const r of rows) live.set(`${r.iface}/${r.series}`, (live.get(`${r.iface}/${r.series}`) ?? 0) + 1);
          peakPipeline = Math.max(peakPipeline, pipeline!.stats().series);
          peakForecaster = Math.max(peakForecaster, forecaster.stats().series);
        },
        forgetSeries(series: SeriesInfo[]) {
          forgotten.push(...series);
          for (const s of series) live.delete(`${s.iface}/${s.key}`);
        },
        flush: async () => {},
        close: async () => {},
        stats: () => ({ written: 0, dropped: 0, rejected: 0, backlogBytes: 0 }),
      };
      // Names of a batch's new series are learned when the batch arrives: the bound is the live series plus one batch's new ones.
      let maxNewPerBatch = 0;
      const source: WindowSource = {
        live: false,
        stop: () => capture.stop(),
        stats: () => capture.stats(),
        async *[Symbol.asyncIterator]() {
          for await (const b of capture) {
            maxNewPerBatch = Math.max(maxNewPerBatch, b.newSeries.length);
            yield b;
          }
        },
      };
      pipeline = new Pipeline({ source, sinks: [sink], forecaster, logger: createLogger('error'), windowMs: 50 });
      await pipeline.run();
      const stats = pipeline.stats();
      assert.equal(stats.seriesEnded, CONNECTIONS + 2);
      assert.equal(forgotten.length, CONNECTIONS + 2);
      assert.ok(stats.predictionsAttached > 0, 'forecasts were made, so the forecaster held histories');
      // Left at the end: the interface series only.
      assert.equal(stats.series, 1);
      assert.ok(forecaster.stats().series <= 1, `forecaster histories left: ${forecaster.stats().series}`);
      assert.deepEqual([...live.keys()], ['churn.pcap/all'], 'the sink was told to forget every ended series');
      // Never more than the top-K connection series plus the interface series at once, for 100+ connections.
      assert.ok(peakPipeline <= TOP_K + 1 + maxNewPerBatch, `pipeline series peak ${peakPipeline} (${maxNewPerBatch} new in one batch)`);
      assert.ok(peakPipeline < CONNECTIONS / 2, `pipeline series peak ${peakPipeline} does not grow with every connection`);
      assert.ok(peakForecaster <= TOP_K + 1, `forecaster series peak ${peakForecaster}`);
    } finally {
      await forecaster.close();
    }
  });

  it('a hand-made batch: the series is forgotten right after the close holding its last row', async () => {
    const forgetCalls: number[] = [];
    const order: string[] = [];
    const batch: WindowBatch = {
      count: 3,
      series: Uint32Array.from([0, 1, 0]),
      windowEndNs: BigInt64Array.from([50n * MS, 50n * MS, 100n * MS]),
      values: new Float64Array(3 * WINDOW_VALUE_COLUMNS.length),
      newSeries: [
        { index: 0, iface: 'lo', key: 'all' },
        { index: 1, iface: 'lo', key: 'a-b' },
      ],
      endedSeries: [{ index: 1, reason: 'idle' }],
    };
    const source: WindowSource = { live: false, stats: () => ({}), stop: async () => {}, async *[Symbol.asyncIterator]() { yield batch; } };
    const sink: Sink = {
      name: 'order',
      write: (rows) => order.push(`write ${rows.map((r) => r.series).join(',')}`),
      forgetSeries: (series) => order.push(`forget ${series.map((s) => s.key).join(',')}`),
      flush: async () => {},
      close: async () => {},
      stats: () => ({ written: 0, dropped: 0, rejected: 0, backlogBytes: 0 }),
    };
    const forecaster = { predict: async () => new Map<number, number>(), forget: (s: number) => forgetCalls.push(s), stats: () => ({}), close: async () => {} };
    const pipeline = new Pipeline({ source, sinks: [sink], forecaster, logger: createLogger('error'), windowMs: 50 });
    await pipeline.run();
    assert.deepEqual(order, ['write all,a-b', 'forget a-b', 'write all']);
    assert.deepEqual(forgetCalls, [1]);
    assert.equal(pipeline.stats().series, 1);
  });

  it("the dashboard drops an ended series' history at once and tells the pages with the next close", () => {
    const history = new DashboardHistory({ windowMs: 50, historyWindows: 100, phaseWindows: 20, maxLagWindows: 5, maxSeries: 64 });
    const values = Object.fromEntries(WINDOW_VALUE_COLUMNS.map((c) => [c, 1])) as WindowRow['values'];
    const row = (series: string, end: bigint): WindowRow => ({ windowEndNs: end, iface: 'lo', series, values, predictedThroughput: null });
    const first = history.add([row('all', 50n * MS), row('a-b', 50n * MS)]);
    const id = first.newSeries.find((s) => s.key === 'a-b')!.id;
    history.forget([{ iface: 'lo', key: 'a-b' }]);
    assert.equal(history.seriesCount, 1);
    assert.deepEqual(history.snapshot().series.map((s) => s.key), ['all']);
    assert.deepEqual(history.add([row('all', 100n * MS)]).removedSeries, [id]);
    assert.deepEqual(history.add([row('all', 150n * MS)]).removedSeries, [], 'told once');
  });
});
