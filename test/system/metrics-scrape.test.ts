// A real scrape: `tcpcast run -i lo --metrics` under loopback TCP, /metrics fetched over HTTP and read by the strict exposition checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { resolve } from 'node:path';
import { namingProblems, parseExposition } from '../lib/prom-exposition';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const notRoot = process.getuid?.() !== 0 ? 'needs CAP_NET_RAW (root) to capture on lo' : false;

test('scrape during a live capture: strict exposition, Prometheus naming, iface label, histograms observed, counters moving', { skip: notRoot }, async () => {
  // A TCP server and client on loopback: the traffic tcpcast will count.
  const srv = createServer((sock) => sock.resume());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const child = spawn(process.execPath, [CLI, 'run', '-i', 'lo', '--metrics', '127.0.0.1:0', '--no-dashboard', '--no-csv', '--duration', '8', 'tcp', 'port', String(port)]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  try {
    const deadline = Date.now() + 15_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      url = /"url":"(http:\/\/[^"]+\/metrics)"/.exec(stderr)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no metrics URL logged: ${stderr}`);
    while (!stderr.includes('tcpcast started')) await new Promise((r) => setTimeout(r, 50));
    const sock = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(32 * 1024);
    // 2.6 s of traffic: the shipped model forecasts once a series has its history (model.json sequence_length windows).
    for (let i = 0; i < 130; i++) {
      if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
      await new Promise((r) => setTimeout(r, 20));
    }
    sock.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    const ours = new Map([...families].filter(([name]) => name.startsWith('tcpcast_')));
    assert.deepEqual(namingProblems(ours), []);
    const value = (name: string, labels: Record<string, string> = {}) =>
      [...families.values()].flatMap((f) => f.samples).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.ok(value('tcpcast_engine_tcp_packets_total')! > 20, 'TCP packets counted');
    assert.ok(value('tcpcast_pcap_received_packets_total', { iface: 'lo' })! > 0, 'per-interface pcap counter with iface="lo"');
    assert.equal(value('tcpcast_pcap_kernel_dropped_packets_total', { iface: 'lo' }), 0);
    assert.ok(value('tcpcast_pipeline_windows_total')! > 0);
    assert.ok(value('tcpcast_window_close_latency_seconds_count')! > 0, 'live window closes observed');
    assert.ok(value('tcpcast_inference_latency_seconds_count')! > 0, 'inference calls observed (shipped model)');
    assert.equal(value('tcpcast_build_info'), 1);
    assert.ok(families.has('process_resident_memory_bytes'), 'default process metrics without prefix');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    srv.close();
  }
  assert.equal(await exited, 0, stderr);
});
