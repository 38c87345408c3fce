// /metrics as Prometheus expects it: real counter/histogram types, _total and base units, hand-written HELP, iface labels, build info, unprefixed process metrics; and the strict checker itself rejects what it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsRegistry } from '../../src/daemon/metrics';
import { COUNTERS } from '../../src/schema';
import { namingProblems, parseExposition } from '../lib/prom-exposition';

function registry() {
  const groups = {
    capture: { frames: 1200, tcpPackets: 1100, flowsActive: 3, pcapDropped: 2, queueLength: 1, batchesDropped: 0, windowsDropped: 0, packetsDropped: 0 },
    pipeline: { batches: 10, windows: 40, windowCloses: 20, predictionsAttached: 30, predictionsLate: 1, forecastErrors: 0, sinkErrors: 0, series: 2 },
    forecast: { pending: 0, predictions: 30 },
    sink_csv: { written: 40, dropped: 0, rejected: 0, backlogBytes: 0 },
    sink_influx: { written: 38, dropped: 2, rejected: 0, backlogBytes: 512 },
  };
  return createMetricsRegistry(() => groups, {
    sources: () => [
      { source: 'eth0', live: true, received: 700, dropped: 2, ifDropped: 0 },
      { source: 'eth1', live: true, received: 500, dropped: 0, ifDropped: 1 },
    ],
    build: { version: '0.1.0', libpcap: '1.10.3', onnxruntime: '1.30.0', node: process.version },
  });
}

test('the exposition parses strictly and follows the naming rules', async () => {
  const m = registry();
  m.windowCloseLatency.observe(0.012);
  m.windowCloseLatency.observe(0.3);
  m.inferenceLatency.observe(0.002);
  const text = await m.registry.metrics();
  const families = parseExposition(text);
  // Ours follow the rules; prom-client's stock process metrics keep their well-known names (nodejs_active_handles_total is a gauge there).
  const ours = new Map([...families].filter(([name]) => name.startsWith('tcpcast_')));
  assert.ok(ours.size > 40);
  assert.deepEqual(namingProblems(ours), []);

  // Engine counters: one family each, HELP from the schema's description (never a generated "tcpcast capture x").
  for (const c of COUNTERS) {
    const name = c.name === 'flows_active' ? 'tcpcast_engine_flows_active' : `tcpcast_engine_${c.name}_total`;
    const f = families.get(name);
    assert.ok(f, name);
    assert.equal(f.help, c.description);
    assert.equal(f.type, c.name === 'flows_active' ? 'gauge' : 'counter');
  }
  assert.equal(families.get('tcpcast_engine_frames_total')!.samples[0].value, 1200);
  for (const f of families.values()) assert.doesNotMatch(f.help, /^tcpcast \w+ \w+$/, `${f.name} has hand-written HELP`);

  const drops = families.get('tcpcast_pcap_kernel_dropped_packets_total')!;
  assert.deepEqual(drops.samples.map((s) => [s.labels.iface, s.value]), [['eth0', 2], ['eth1', 0]]);
  const backlog = families.get('tcpcast_sink_backlog_bytes')!;
  assert.deepEqual(backlog.samples.find((s) => s.labels.sink === 'influx')?.value, 512);
  assert.equal(families.get('tcpcast_sink_rows_dropped_total')!.samples.find((s) => s.labels.sink === 'influx')?.value, 2);

  const hist = families.get('tcpcast_window_close_latency_seconds')!;
  assert.equal(hist.type, 'histogram');
  assert.equal(hist.samples.find((s) => s.name.endsWith('_count'))?.value, 2);
  assert.equal(hist.samples.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.025')?.value, 1);
  assert.equal(families.get('tcpcast_inference_latency_seconds')!.samples.find((s) => s.name.endsWith('_count'))?.value, 1);

  const info = families.get('tcpcast_build_info')!;
  assert.equal(info.samples[0].value, 1);
  assert.equal(info.samples[0].labels.libpcap, '1.10.3');
  // Default process metrics without our prefix, so stock dashboards find them.
  assert.ok(families.has('process_cpu_seconds_total'));
  assert.ok(families.has('nodejs_heap_size_used_bytes'));
  assert.ok(![...families.keys()].some((n) => n.startsWith('tcpcast_process_') || n.startsWith('tcpcast_nodejs_')));
  // No latency as a p99 gauge in ms any more.
  assert.ok(![...families.keys()].some((n) => /_ms($|_)/.test(n)));
});

test('the checker rejects what a strict scraper or the naming rules reject', () => {
  const bad = (text: string) => assert.throws(() => parseExposition(text), /./, text);
  bad('# TYPE a counter\na_total{x="1",x="2"} 1\n');
  bad('# TYPE a gauge\na 1\na 2\n');
  bad('a{1x="y"} 1\n');
  bad('# TYPE a gauge\na one\n');
  bad('# TYPE a gauge\na 1');
  const problems = (text: string) => namingProblems(parseExposition(text));
  assert.match(problems('# HELP x_packets n\n# TYPE x_packets counter\nx_packets 1\n').join(), /counter without _total/);
  assert.match(problems('# HELP lat_ms n\n# TYPE lat_ms gauge\nlat_ms 1\n').join(), /base units/);
  assert.match(problems('# TYPE g gauge\ng 1\n').join(), /no HELP/);
  assert.match(
    problems('# HELP h_seconds n\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 2\nh_seconds_bucket{le="+Inf"} 1\nh_seconds_sum 1\nh_seconds_count 1\n').join(),
    /not cumulative/,
  );
});
