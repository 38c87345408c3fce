// Defaults without surprises: outputs open before --user drops root, an existing CSV is appended to only with a log line (or refused, or rotated), a failed start leaves no file, a busy dashboard port does not kill a replay.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { recordIperfCapture, tempDir } from '../lib/capture-fixtures';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const dir = tempDir('safe');
const notRoot = process.getuid?.() !== 0 ? 'needs root (namespaces for the fixture, --user)' : false;
let pcap = '';

before(async () => {
  if (notRoot) return;
  pcap = await recordIperfCapture(join(dir, 'iperf.pcap'), 1, 20);
});

interface Record_ {
  msg: string;
  level: number;
  [k: string]: unknown;
}

function cli(args: string[], cwd = dir): { status: number | null; stderr: string; records: Record_[] } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  const records = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record_);
  return { status: r.status, stderr: r.stderr, records };
}

const quiet = ['--no-dashboard', '--no-forecast'];

function rows(path: string): number {
  return readFileSync(path, 'utf8').trim().split('\n').length - 1;
}

/** Real TCP on loopback for `seconds`: a local server and client pushing bytes, so a live capture on lo has windows to write. */
async function loopbackTraffic(seconds: number): Promise<void> {
  const { createServer: tcpServer, connect } = await import('node:net');
  const srv = tcpServer((sock) => sock.resume());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const sock = connect((srv.address() as { port: number }).port, '127.0.0.1');
  const chunk = Buffer.alloc(16 * 1024);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
    await new Promise((r) => setTimeout(r, 5));
  }
  sock.destroy();
  srv.close();
}

test('sudo tcpcast run --user nobody from a root-owned directory writes its CSV there (opened before the drop)', { skip: notRoot }, async () => {
  const rootDir = mkdtempSync(join(dir, 'rootowned-'));
  chmodSync(rootDir, 0o755);
  assert.equal(statSync(rootDir).uid, 0);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'run', '-i', 'lo', '--user', 'nobody', '--duration', '3', ...quiet, 'tcp'], { cwd: rootDir });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  while (!stderr.includes('tcpcast started') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  await loopbackTraffic(1.5);
  assert.equal(await exited, 0, stderr);
  const records = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record_);
  const dropped = records.find((x) => x.msg.startsWith('dropped privileges'));
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  assert.equal(dropped?.uid, nobody);
  const csv = join(rootDir, 'tcpcast-windows.csv');
  assert.ok(existsSync(csv), 'the default CSV exists in the root-owned directory');
  assert.equal(readFileSync(csv, 'utf8').split('\n')[0].split(',')[0], 'window_end_ns');
  const stopped = records.find((x) => x.msg === 'tcpcast stopped') as { sinks?: { csv?: { written: number; dropped: number } } } | undefined;
  assert.equal(stopped?.sinks?.csv?.dropped, 0);
  assert.ok(rows(csv) > 0, 'rows from the loopback traffic were written after the drop');
  assert.equal(rows(csv), stopped?.sinks?.csv?.written, 'every row the sink counted is in the file');
});

test('--csv-mode: append says so, new refuses a file with rows, rotate moves it to FILE.1; other columns are refused', { skip: notRoot }, () => {
  const csv = join(dir, 'modes.csv');
  const first = cli(['replay', pcap, ...quiet, '--csv', csv]);
  assert.equal(first.status, 0, first.stderr);
  assert.ok(!first.records.some((x) => /appending/.test(x.msg)), 'a new file is not "appended to"');
  const n = rows(csv);
  assert.ok(n > 0);

  const again = cli(['replay', pcap, ...quiet, '--csv', csv]);
  assert.equal(again.status, 0, again.stderr);
  const note = again.records.find((x) => /appending to the existing CSV output/.test(x.msg));
  assert.ok(note, 'appending is logged');
  assert.equal(note.path, csv);
  assert.equal(rows(csv), 2 * n);

  const refused = cli(['replay', pcap, ...quiet, '--csv', csv, '--csv-mode', 'new']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /already holds rows and --csv-mode is new: .*\(ERR_OUTPUT\)/);
  assert.equal(rows(csv), 2 * n, 'refused before touching the file');

  const rotated = cli(['replay', pcap, ...quiet, '--csv', csv, '--csv-mode', 'rotate']);
  assert.equal(rotated.status, 0, rotated.stderr);
  assert.equal(rows(`${csv}.1`), 2 * n);
  assert.equal(rows(csv), n);

  const foreign = join(dir, 'foreign.csv');
  writeFileSync(foreign, 'time,bytes\n1,2\n');
  const mismatch = cli(['replay', pcap, ...quiet, '--csv', foreign]);
  assert.equal(mismatch.status, 1);
  assert.match(mismatch.stderr, /has other columns than this tcpcast writes.*\(ERR_OUTPUT\)/);
  assert.equal(readFileSync(foreign, 'utf8'), 'time,bytes\n1,2\n');
});

test('a failed start leaves no file behind (bad input, missing model)', { skip: notRoot }, () => {
  const sub = mkdtempSync(join(dir, 'failed-'));
  const missing = cli(['replay', join(dir, 'nope.pcap'), ...quiet, '--csv', 'out.csv'], sub);
  assert.equal(missing.status, 1);
  const model = cli(['replay', pcap, '--no-dashboard', '--model', join(dir, 'no-model'), '--csv', 'out.csv'], sub);
  assert.equal(model.status, 1);
  assert.match(model.stderr, /TCM_MODEL_MISSING/);
  assert.deepEqual(readdirSync(sub), []);
});

test('a busy dashboard port: replay warns and goes on; run -r with an explicit --dashboard fails with one line', { skip: notRoot }, async () => {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const csv = join(dir, 'busy.csv');
    const replay = cli(['replay', pcap, '--no-forecast', '--dashboard', `127.0.0.1:${port}`, '--csv', csv]);
    assert.equal(replay.status, 0, replay.stderr);
    const warn = replay.records.find((x) => x.level === 40 && /dashboard not started \(EADDRINUSE\)/.test(x.msg));
    assert.ok(warn, replay.stderr);
    assert.ok(rows(csv) > 0, 'the replay wrote its rows');

    const run = cli(['run', '-r', pcap, '--no-forecast', '--dashboard', `127.0.0.1:${port}`, '--csv', join(dir, 'busy-run.csv')]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--dashboard 127\.0\.0\.1:\d+: address already in use \(ERR_ADDRESS_IN_USE\)/);
    assert.ok(!existsSync(join(dir, 'busy-run.csv')), 'no header-only file from the failed start');
  } finally {
    server.close();
  }
});
