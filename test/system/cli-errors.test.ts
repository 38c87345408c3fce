// CLI errors from the capture commands: one line on stderr naming the problem and its code, non-zero exit, no stack dump.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../lib/capture-fixtures';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const dir = tempDir('cli');

/** A valid classic pcap header (Ethernet, snaplen 65535) and one 60-byte frame, so filters compile and reads succeed. */
function tinyPcap(path: string): string {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1_700_000_000, 0);
  rec.writeUInt32LE(60, 8);
  rec.writeUInt32LE(60, 12);
  writeFileSync(path, Buffer.concat([header, rec, Buffer.alloc(60)]));
  return path;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], /^tcpcast: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack dump');
}

test('unknown interface', { skip: process.getuid?.() !== 0 ? 'live capture needs root' : undefined }, () => {
  assertOneLineError(cli(['windows', '-i', 'tccnosuch0']), /tccnosuch0.*\(ERR_NO_SUCH_DEVICE\)/);
});

test('invalid BPF, on a file and live', () => {
  const pcap = tinyPcap(join(dir, 'tiny.pcap'));
  assertOneLineError(cli(['packets', pcap, 'tcp', 'portt', '80']), /invalid filter 'tcp portt 80'.*\(ERR_BPF\)/);
  assertOneLineError(cli(['windows', pcap, 'host']), /invalid filter 'host'.*\(ERR_BPF\)/);
  if (process.getuid?.() === 0) assertOneLineError(cli(['windows', '-i', 'lo', 'tcp', 'and']), /invalid filter.*\(ERR_BPF\)/);
});

test('missing file and a file that is not a capture', () => {
  const missing = join(dir, 'nope.pcap');
  assertOneLineError(cli(['packets', missing]), new RegExp(`${missing}: No such file.*\\(ERR_PCAP_OPEN\\)`));
  const text = join(dir, 'text.pcap');
  writeFileSync(text, 'hello, not a pcap\n');
  assertOneLineError(cli(['windows', text]), new RegExp(`${text}: .*offset 0.*\\(ERR_FILE_CORRUPT\\)`));
});

test('corrupt record after a good one: file and offset named', () => {
  const pcap = tinyPcap(join(dir, 'good.pcap'));
  const bad = join(dir, 'bad.pcap');
  const good = require('node:fs').readFileSync(pcap) as Buffer;
  writeFileSync(bad, Buffer.concat([good, Buffer.alloc(16, 0xee)]));
  const r = cli(['windows', bad]);
  assertOneLineError(r, new RegExp(`${bad}: corrupt record at offset ${good.length}\\b.*\\(ERR_FILE_CORRUPT\\)`));
});

test('bad option values are refused before any capture starts', () => {
  const pcap = tinyPcap(join(dir, 'opt.pcap'));
  const r = cli(['windows', pcap, '--window-ms', 'abc']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /window-ms/);
  assertOneLineError(cli(['windows']), /give a capture file, or -i INTERFACE.*\(ERR_INVALID_OPTION\)/);
});
