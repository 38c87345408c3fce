// Fault: an output that cannot be written. Every command fails fast (before any capture starts), with one line naming the path, and leaves nothing running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCapture, TEST_CAPTURES, TEST_CAPTURE_DIR } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';
import { tempDir } from '../lib/capture-fixtures';
import { CLI } from '../lib/cli-child';

const skip = netnsUnavailableReason();
const TRACE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'lab', 'Verizon-LTE-short.first15s.down');

/** Under a regular file: unwritable even for root (ENOTDIR), unlike a missing directory that root could create. */
function unwritable(name: string): string {
  const dir = tempDir('unwritable');
  writeFileSync(join(dir, 'file'), '');
  return join(dir, 'file', name);
}

/** Runs the command with a short timeout: a command that hangs (a capture left running) fails here. */
function runFast(args: string[], limitS = 15): { status: number | null; stderr: string; tookS: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: limitS * 1000 });
  return { status: r.status, stderr: r.stderr, tookS: (Date.now() - started) / 1000 };
}

function assertFailsFast(r: { status: number | null; stderr: string; tookS: number }, path: string, code = /ERR_OUTPUT/): void {
  assert.notEqual(r.status, null, `did not exit within the limit (a capture left running?): ${r.stderr}`);
  assert.notEqual(r.status, 0);
  assert.ok(r.tookS < 10, `took ${r.tookS} s`);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^tcpcast: /);
  assert.ok(last.includes(path.split('/file/')[0]), `names the path: ${last}`);
  assert.match(last, code);
}

test('windows -o to an unwritable path: ERR_OUTPUT at once (it used to start the capture and never exit)', { skip }, async () => {
  const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
  const path = unwritable('x.csv');
  assertFailsFast(runFast(['windows', capture.path, '-o', path]), path);
  assertFailsFast(runFast(['windows', capture.path, '-o', '/nonexistent/x.csv']), '/nonexistent/x.csv');
});

test('windows -i lo -o to an unwritable path (live capture): ERR_OUTPUT at once', { skip }, () => {
  const path = unwritable('x.csv');
  assertFailsFast(runFast(['windows', '-i', 'lo', '-o', path]), path);
});

test('replay --csv to an unwritable path: ERR_OUTPUT before the capture', { skip }, async () => {
  const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
  const path = unwritable('x.csv');
  assertFailsFast(runFast(['replay', capture.path, '--csv', path, '--no-dashboard', '--no-forecast']), path);
});

test('run --csv to an unwritable path: ERR_OUTPUT before the capture', { skip }, () => {
  const path = unwritable('x.csv');
  assertFailsFast(runFast(['run', '-i', 'lo', '--csv', path, '--no-dashboard', '--no-forecast']), path);
});

test('demo --csv to an unwritable path: ERR_OUTPUT before the capture', { skip }, () => {
  const path = unwritable('x.csv');
  assertFailsFast(runFast(['demo', '--csv', path, '--duration', '2', '--no-dashboard', '--no-forecast', '--trace', TRACE], 30), path);
});

test('lab --out and dataset --out under a file: fail at once, before any capture', { skip }, () => {
  const lab = unwritable('lab');
  assertFailsFast(runFast(['lab', '--trace', TRACE, '--out', lab, '--duration', '1']), lab, /ENOTDIR/);
  const ds = unwritable('ds');
  assertFailsFast(runFast(['dataset', '--out', ds, '--limit', '1']), ds, /ENOTDIR/);
});
