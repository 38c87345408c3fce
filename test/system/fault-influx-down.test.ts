// Faults on the InfluxDB side of a running daemon: the database goes away (backlog on the stats line, nothing lost when it returns) or never answers (SIGTERM still ends within --shutdown-timeout, exit 3, counts right).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ensureCapture, TEST_CAPTURES, TEST_CAPTURE_DIR } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';
import { tempDir } from '../lib/capture-fixtures';
import { VictoriaMetrics } from '../lib/servers';
import { startCli, type LogLine } from '../lib/cli-child';

const skip = netnsUnavailableReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function csvRows(path: string): number {
  return readFileSync(path, 'utf8').trimEnd().split('\n').length - 1;
}

type SinkCounts = Record<string, { written: number; dropped: number; rejected: number; backlogBytes: number }>;

test('VictoriaMetrics stops mid-run: the stats line shows a non-zero InfluxDB backlog; after it returns, nothing is lost and the exit code is 0', { skip }, async () => {
  const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
  const vm = new VictoriaMetrics();
  await vm.start();
  try {
    const csv = join(tempDir('fault-vm'), 'w.csv');
    // A 3 s capture at a quarter of real time: ~12 s of windows, time for an outage in the middle.
    const d = startCli(['replay', capture.path, '--speed', '0.25', '--csv', csv, '--influx-url', vm.url, '--influx-measurement', 'fault_vm',
      '--no-dashboard', '--no-forecast', '--stats-interval', '1']);
    await d.waitForLog((l) => l.msg === 'tcpcast started', 'started');
    await sleep(1500);
    await vm.stop();
    const during = await d.waitForLog(
      (l) => l.msg === 'stats' && Number((l.sinkBacklogBytes as Record<string, number> | undefined)?.influx ?? 0) > 0,
      'stats line with an InfluxDB backlog',
      15_000,
    );
    assert.ok(Number((during.sinkBacklogBytes as Record<string, number>).influx) > 0);
    await sleep(1500);
    await vm.start();
    const { code } = await d.exited;
    const stopped = d.logs.find((l) => l.msg === 'tcpcast stopped') as LogLine & { sinks: SinkCounts };
    assert.ok(stopped, d.stderr().slice(-3000));
    const rows = csvRows(csv);
    assert.ok(rows > 50, `enough rows (${rows})`);
    assert.deepEqual(stopped.sinks.csv, { written: rows, dropped: 0, rejected: 0, backlogBytes: 0 });
    assert.deepEqual(stopped.sinks.influx, { written: rows, dropped: 0, rejected: 0, backlogBytes: 0 });
    assert.equal(code, 0, 'every row reached every sink');
    await vm.forceFlush();
    const stored = await vm.export('{__name__="fault_vm_actual_throughput"}');
    assert.equal(stored.reduce((n, s) => n + s.timestamps.length, 0), rows, 'counted on the server');
  } finally {
    await vm.dispose();
  }
});

test('SIGTERM while InfluxDB never answers: exits within --shutdown-timeout, code 3, the final line counts every lost point', { skip }, async () => {
  const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
  // Accepts connections and never answers: the worst case (a refused connection fails fast, this hangs).
  const sockets = new Set<Socket>();
  const blackhole = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  const port = (blackhole.address() as { port: number }).port;
  try {
    const csv = join(tempDir('fault-term'), 'w.csv');
    const SHUTDOWN_S = 3;
    const d = startCli(['replay', capture.path, '--speed', '0.25', '--csv', csv, '--influx-url', `http://127.0.0.1:${port}`,
      '--no-dashboard', '--no-forecast', '--stats-interval', '0', '--shutdown-timeout', String(SHUTDOWN_S)]);
    await d.waitForLog((l) => l.msg === 'tcpcast started', 'started');
    await sleep(2000);
    const signalledAt = Date.now();
    d.child.kill('SIGTERM');
    const { code, at } = await d.exited;
    const tookS = (at - signalledAt) / 1000;
    assert.ok(tookS < SHUTDOWN_S + 1, `exited ${tookS.toFixed(2)} s after SIGTERM (deadline ${SHUTDOWN_S} s)`);
    assert.equal(code, 3, d.stderr().slice(-3000));
    const stopped = d.logs.find((l) => l.msg === 'tcpcast stopped') as LogLine & { sinks: SinkCounts; exitCode: number };
    assert.ok(stopped, 'the final line is out before the exit');
    const rows = csvRows(csv);
    assert.ok(rows > 0);
    assert.deepEqual(stopped.sinks.csv, { written: rows, dropped: 0, rejected: 0, backlogBytes: 0 });
    assert.deepEqual(stopped.sinks.influx, { written: 0, dropped: rows, rejected: 0, backlogBytes: 0 }, 'every point that never reached InfluxDB is counted as dropped');
    assert.equal(stopped.exitCode, 3);
  } finally {
    for (const s of sockets) s.destroy();
    blackhole.close();
  }
});
