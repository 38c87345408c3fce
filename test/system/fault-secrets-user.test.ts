// Fault: secrets with --user. A root-only 0600 token file (through a symlink, ending in a newline) works after the drop to nobody, no false warning, and nothing appears in the working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../lib/capture-fixtures';
import { VictoriaMetrics } from '../lib/servers';
import { startCli, type LogLine } from '../lib/cli-child';

const skip = process.getuid?.() !== 0 ? 'needs root (--user)' : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('run --user nobody: the root-only token file is read before the drop, one trailing newline trimmed, no stray files', { skip }, async () => {
  const vm = new VictoriaMetrics({ basicAuth: { username: 'tcs', password: 'right-token' } });
  await vm.start();
  try {
    const base = tempDir('secrets');
    chmodSync(base, 0o755); // nobody must reach out/ and cwd/, never secret/
    const secretDir = join(base, 'secret');
    mkdirSync(secretDir, { mode: 0o700 });
    const real = join(secretDir, 'token');
    writeFileSync(real, 'right-token\n', { mode: 0o600 });
    const link = join(base, 'token-link');
    symlinkSync(real, link);
    const out = join(base, 'out');
    const cwd = join(base, 'cwd');
    mkdirSync(out);
    mkdirSync(cwd);
    chmodSync(out, 0o777);
    chmodSync(cwd, 0o777);
    const csv = join(out, 'w.csv');
    // Loopback TCP (our own requests to VictoriaMetrics and the test's) is the traffic; forecasting on, so
    // onnxruntime loads (it is what left ':memory:.ses' in the working directory).
    const d = startCli(['run', '-i', 'lo', '--user', 'nobody', '--csv', csv, '--no-dashboard', '--stats-interval', '0',
      '--influx-url', vm.url, '--influx-api', 'v1', '--influx-user', 'tcs', '--influx-token-file', link, '--influx-bucket', 'db', 'tcp'], { cwd });
    await d.waitForLog((l) => l.msg === 'tcpcast started', 'started');
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      await fetch(`${vm.url}/health`).then((r) => r.arrayBuffer()).catch(() => {});
      await sleep(20);
    }
    d.child.kill('SIGTERM');
    const { code } = await d.exited;
    const stopped = d.logs.find((l) => l.msg === 'tcpcast stopped') as LogLine & { sinks: Record<string, { written: number; dropped: number; rejected: number }> };
    assert.ok(stopped, d.stderr().slice(-3000));
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n').length - 1;
    assert.ok(rows > 0, 'windows were written');
    assert.equal(stopped.sinks.influx.written, rows, `every row reached InfluxDB with the token: ${d.stderr().slice(-2000)}`);
    assert.equal(code, 0);
    assert.ok(!d.stderr().includes('readable by other users'), 'no false warning for a symlink to a 0600 file');
    assert.ok(!d.stderr().includes('ERR_INVALID_CHAR'));
    assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');
  } finally {
    await vm.dispose();
  }
});
