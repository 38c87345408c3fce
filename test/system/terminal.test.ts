// What a person sees: readable logs, tcpdump's start and closing lines and a progress bar on a terminal (a real pty through script(1)), JSON off it, -c/--duration/-r, --version, and a pipe that streams.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { recordIperfCapture, tempDir } from '../lib/capture-fixtures';
import { DEFAULT_SNAPLEN } from '../../src/capture/options';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const dir = tempDir('terminal');
const hasScript = spawnSync('script', ['--version']).status === 0;
const unavailable = process.getuid?.() !== 0 ? 'needs root (network namespaces for the fixture capture)' : !hasScript ? 'script(1) not installed' : false;
let pcap = '';
let frames = 0;

before(async () => {
  if (unavailable) return;
  pcap = await recordIperfCapture(join(dir, 'iperf.pcap'), 2, 20);
  frames = Number(spawnSync('capinfos', ['-Mc', pcap], { encoding: 'utf8' }).stdout.match(/Number of packets:\s*(\d+)/)?.[1] ?? 0);
});

/** Runs the CLI on a pseudo-terminal (script -qec), the way a person at a shell does; returns what the terminal showed. */
function onTerminal(args: string[], env: Record<string, string> = {}): { code: number | null; screen: string } {
  const log = join(dir, `pty-${Date.now()}.txt`);
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, log], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env, COLUMNS: '200' } });
  // The pty turns \n into \r\n; the bar redraws with \r: keep what a person finally reads on each line.
  const screen = readFileSync(log, 'utf8')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.split('\r').filter((part) => part.replace(/\x1b\[K/g, '') !== '').pop() ?? '')
    .filter((l) => !/^Script (started|done) on /.test(l))
    .join('\n')
    .replace(/\x1b\[[0-9;]*[mK]/g, '');
  return { code: r.status, screen };
}

test('on a terminal: tcpdump-style lines, readable logs, a bar that reaches 100%, a closing summary with the real counts', { skip: unavailable }, () => {
  const csv = join(dir, 'tty.csv');
  const { code, screen } = onTerminal(['replay', pcap, '--no-dashboard', '--no-forecast', '--csv', csv, '--speed', '4']);
  assert.equal(code, 0, screen);
  assert.match(screen, new RegExp(`^reading from file ${pcap.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, link-type EN10MB \\(Ethernet\\)$`, 'm'));
  assert.doesNotMatch(screen, /"level":/, 'no JSON on a terminal');
  assert.match(screen, /^\d\d:\d\d:\d\d\.\d{3} INFO  tcpcast started mode=replay/m);
  assert.match(screen, /^replay iperf\.pcap \[#{24}\] 100% \(/m, 'the bar ends full');
  assert.match(screen, new RegExp(`^${frames} packets captured \\(${frames} TCP\\)$`, 'm'));
  assert.match(screen, /^\d+ packets received by filter$/m);
  assert.match(screen, /^0 packets dropped by kernel$/m);
  assert.match(screen, /^0 packets dropped by interface$/m);
  const rows = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
  const windows = Number(/^(\d+) windows \(\d+ series, \d+ closes\), 0 forecasts$/m.exec(screen)?.[1]);
  assert.equal(windows, rows, 'windows line = CSV rows');
  assert.match(screen, new RegExp(`^sinks: csv ${rows} written$`, 'm'));
  assert.match(screen, /INFO  tcpcast stopped exitCode=0$/m);
  // No float with 16 digits anywhere a person reads.
  assert.doesNotMatch(screen, /\d\.\d{8,}/);
});

test('--log-format json keeps JSON on a terminal; off a terminal JSON is the default and every line parses', { skip: unavailable }, () => {
  const { code, screen } = onTerminal(['replay', pcap, '--no-dashboard', '--no-forecast', '--no-csv', '--log-format', 'json']);
  assert.equal(code, 0, screen);
  const lines = screen.split('\n').filter((l) => l.trim() !== '');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
  const r = spawnSync(process.execPath, [CLI, 'replay', pcap, '--no-dashboard', '--no-forecast', '--no-csv'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const records = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; packets?: number });
  const stopped = records.find((x) => x.msg === 'tcpcast stopped');
  assert.equal(stopped?.packets, frames);
});

test('-c stops a live capture, --duration stops run, -r reads a file like replay', { skip: unavailable }, () => {
  const started = Date.now();
  const live = onTerminal(['run', '-i', 'lo', '--duration', '1', '--no-dashboard', '--no-csv', '--no-forecast', 'tcp']);
  assert.equal(live.code, 0, live.screen);
  assert.ok(Date.now() - started < 15_000);
  assert.match(live.screen, new RegExp(`^listening on lo, link-type EN10MB \\(Ethernet\\), snapshot length ${DEFAULT_SNAPLEN} bytes$`, 'm'));
  assert.match(live.screen, /stopping: 1 s elapsed \(--duration\)/);

  const r = spawnSync(process.execPath, [CLI, 'run', '-r', pcap, '--no-dashboard', '--no-forecast', '--no-csv'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const stopped = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; packets?: number; mode?: string });
  assert.equal(stopped.find((x) => x.msg === 'tcpcast started')?.mode, 'replay');
  assert.equal(stopped.find((x) => x.msg === 'tcpcast stopped')?.packets, frames);
  const both = spawnSync(process.execPath, [CLI, 'run', '-r', pcap, '-i', 'lo', '--no-dashboard'], { encoding: 'utf8' });
  assert.notEqual(both.status, 0);
  assert.match(both.stderr, /-r FILE or -i INTERFACE, not both \(ERR_INVALID_OPTION\)/);

  // Paced replay at real time: -c 200 ends well before the 2 s capture would.
  const t0 = Date.now();
  const counted = spawnSync(process.execPath, [CLI, 'replay', pcap, '--speed', 'realtime', '-c', '200', '--no-dashboard', '--no-forecast', '--no-csv'], { encoding: 'utf8' });
  assert.equal(counted.status, 0, counted.stderr);
  const end = counted.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; packets?: number }).find((x) => x.msg === 'tcpcast stopped');
  assert.ok(end && end.packets! >= 200 && end.packets! < frames, `-c 200 stopped at ${end?.packets} of ${frames}`);
  assert.ok(Date.now() - t0 < 10_000);
});

test('--version names tcpcast, libpcap, onnxruntime and Node', () => {
  const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^tcpcast \d+\.\d+\.\d+$/);
  assert.match(r.stdout, /^libpcap version \d+\.\d+/m);
  assert.match(r.stdout, /^onnxruntime-node \d+\.\d+\.\d+$/m);
  assert.match(r.stdout, new RegExp(`^Node\\.js ${process.version.replace(/\./g, '\\.')} `, 'm'));
});

test('a pipe streams: packets read from stdin come out while the writer is still writing (tcpdump -U -w - | tcpcast packets -)', { skip: unavailable }, async () => {
  const data = readFileSync(pcap);
  const offsets: number[] = [];
  for (let off = 24; off + 16 <= data.length; ) {
    offsets.push(off);
    off += 16 + data.readUInt32LE(off + 8);
  }
  const half = offsets[Math.floor(offsets.length / 2)];
  const child = spawn(process.execPath, [CLI, 'packets', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let rows = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (rows += d.split('\n').length - 1));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  try {
    child.stdin.write(data.subarray(0, half));
    // The first half's rows must arrive while stdin is still open (a window close flushes them), not at EOF.
    const deadline = Date.now() + 10_000;
    while (rows === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(rows > 0, 'no rows before EOF: the pipe is not streamed');
    assert.ok(rows <= offsets.length / 2 + 1);
    child.stdin.end(data.subarray(half));
    assert.equal(await exited, 0);
    assert.equal(rows, frames);
  } finally {
    // A failed assertion must not leave the reader waiting on an open stdin (the test file would never end).
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  writeFileSync(join(dir, 'done'), '');
});
