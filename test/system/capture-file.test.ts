// Capture layer on files: real iperf3 captures through the addon (windows, counters, packets vs tshark), damaged files, coded errors with the caller's stack, a free JS thread.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { openCapture } from '../../src/capture';
import { TcpcastError } from '../../src/errors';
import { WINDOW_VALUE_COLUMNS, WindowBatch } from '../../src/features';
import { pcapRecordOffsets, recordIperfCapture, tempDir, truncateCopy } from '../lib/capture-fixtures';
import { netnsUnavailableReason } from '../lib/netns';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const SIZE = WINDOW_VALUE_COLUMNS.indexOf('size');
const PACKETS = WINDOW_VALUE_COLUMNS.indexOf('packets');
const WINDOW_MS = 50;

const unavailable = netnsUnavailableReason();
const dir = tempDir('file');
let pcap = '';

before(async () => {
  if (!unavailable) pcap = await recordIperfCapture(join(dir, 'iperf.pcap'), 1, 20);
});

function tshark(file: string, fields: string[], filter = 'tcp'): string[][] {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

interface Collected {
  batches: WindowBatch[];
  allSeries: Set<number>;
  allBytes: number;
  allPackets: number;
  error?: TcpcastError;
}

async function collect(file: string, extra: Record<string, unknown> = {}): Promise<Collected> {
  const capture = openCapture({ files: [file], windowMs: WINDOW_MS, ...extra });
  const c: Collected = { batches: [], allSeries: new Set(), allBytes: 0, allPackets: 0 };
  try {
    for await (const batch of capture) {
      c.batches.push(batch);
      for (const s of batch.newSeries) if (s.key === 'all') c.allSeries.add(s.index);
      for (let i = 0; i < batch.count; i++) {
        if (!c.allSeries.has(batch.series[i])) continue;
        c.allBytes += batch.values[i * WINDOW_VALUE_COLUMNS.length + SIZE];
        c.allPackets += batch.values[i * WINDOW_VALUE_COLUMNS.length + PACKETS];
      }
    }
  } catch (err) {
    c.error = err as TcpcastError;
  }
  return c;
}

test('windows of a real capture: every TCP byte and packet tshark sees, in contiguous 50 ms windows', { skip: unavailable }, async () => {
  const c = await collect(pcap);
  assert.equal(c.error, undefined);
  const rows = tshark(pcap, ['tcp.len']);
  const tsharkBytes = rows.reduce((a, r) => a + Number(r[0]), 0);
  assert.equal(c.allSeries.size, 1, 'one interface -> one "all" series');
  assert.equal(c.allPackets, rows.length);
  assert.equal(c.allBytes, tsharkBytes);
  const ends = c.batches.flatMap((b) => [...b.windowEndNs].filter((_, i) => c.allSeries.has(b.series[i])));
  assert.ok(ends.length >= 15, `a 1 s transfer spans ~20 windows, got ${ends.length}`);
  for (let i = 1; i < ends.length; i++) assert.equal(ends[i] - ends[i - 1], BigInt(WINDOW_MS * 1_000_000));
  for (const b of c.batches) {
    assert.ok(b.series instanceof Uint32Array && b.windowEndNs instanceof BigInt64Array && b.values instanceof Float64Array);
    assert.equal(b.values.length, b.count * WINDOW_VALUE_COLUMNS.length);
  }
});

test('stats: frames read equal the file records, engine counters present', { skip: unavailable }, async () => {
  const capture = openCapture({ files: [pcap] });
  for await (const _ of capture) void _;
  const s = capture.stats();
  assert.equal(s.frames, pcapRecordOffsets(pcap).length);
  assert.equal(s.tcpPackets, s.frames, 'the fixture holds TCP only');
  assert.ok(s.ackRttSamples > 0);
  assert.equal(s.pcapReceived, s.frames);
});

test('tcpcast packets prints exactly what tshark -T fields prints', { skip: unavailable }, () => {
  const fields = ['frame.number', 'frame.time_epoch', 'tcp.stream', 'ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport', 'tcp.len',
    'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight'];
  const expected = tshark(pcap, fields).map((r) => r.join('\t')).join('\n') + '\n';
  const got = execFileSync(process.execPath, [CLI, 'packets', pcap], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(expected.split('\n').length > 1000);
  const e = expected.split('\n');
  const g = got.split('\n');
  const first = e.findIndex((line, i) => line !== g[i]);
  assert.equal(first, -1, `first difference at line ${first + 1}:\n tshark:  ${e[first]}\n tcpcast: ${g[first]}`);
  assert.equal(g.length, e.length);
});

test('tcpcast packets applies a trailing BPF filter as tcpdump does', { skip: unavailable }, () => {
  const got = execFileSync(process.execPath, [CLI, 'packets', pcap, 'tcp', 'and', 'greater', '1000'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = got.trim().split('\n');
  assert.ok(lines.length > 100);
  // tcp.len of the big segments is payload; the frame is larger, so every printed segment carries data.
  for (const l of lines) assert.ok(Number(l.split('\t')[7]) > 0, l);
});

test('windows CSV from a file: header, one row per series per window, same numbers as the addon', { skip: unavailable }, async () => {
  const out = join(dir, 'windows.csv');
  execFileSync(process.execPath, [CLI, 'windows', pcap, '--window-ms', String(WINDOW_MS), '-o', out]);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0].split(',')[0], 'window_end_ns');
  const c = await collect(pcap);
  const rowCount = c.batches.reduce((a, b) => a + b.count, 0);
  assert.equal(lines.length - 1, rowCount);
  const allRows = lines.slice(1).map((l) => l.split(',')).filter((r) => r[2] === 'all');
  assert.equal(allRows.reduce((a, r) => a + Number(r[3]), 0), c.allBytes);
  assert.ok(lines.slice(1).every((l) => l.split(',').length === lines[0].split(',').length && l.endsWith(',')), 'predicted_throughput is empty');
});

test('corrupt record: error names the file and the offset; windows before it are delivered', { skip: unavailable }, async () => {
  const offsets = pcapRecordOffsets(pcap);
  const cut = offsets[1000];
  const bad = join(dir, 'corrupt.pcap');
  // A record header claiming a 4 GB capture length: libpcap refuses it, which is where the damage is.
  const garbage = Buffer.alloc(64, 0xff);
  truncateCopy(pcap, bad, cut, garbage);
  const c = await collect(bad);
  assert.ok(c.error instanceof TcpcastError);
  assert.equal(c.error.code, 'ERR_FILE_CORRUPT');
  assert.match(c.error.message, new RegExp(`${bad}.*offset ${cut}\\b`));
  assert.equal(c.allPackets, 1000, 'every packet before the damage went into windows');
  assert.ok(c.error.stack?.includes('capture-file.test'), `stack should show the caller: ${c.error.stack}`);
});

test('truncated last record: "truncated record at offset N", all packets before it processed', { skip: unavailable }, async () => {
  const offsets = pcapRecordOffsets(pcap);
  const last = offsets[offsets.length - 1];
  const bad = join(dir, 'truncated.pcap');
  truncateCopy(pcap, bad, last + 16 + 10);
  const c = await collect(bad);
  assert.ok(c.error instanceof TcpcastError);
  assert.equal(c.error.code, 'ERR_FILE_TRUNCATED');
  assert.match(c.error.message, new RegExp(`truncated record at offset ${last}\\b`));
  assert.ok(c.error.message.includes(bad));
  assert.equal(c.allPackets, offsets.length - 1);

  const cli = spawnSync(process.execPath, [CLI, 'windows', bad], { encoding: 'utf8' });
  assert.notEqual(cli.status, 0);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.match(cli.stderr, new RegExp(`${bad}: truncated record at offset ${last}.*ERR_FILE_TRUNCATED`));
  assert.ok(cli.stdout.split('\n').length > 10, 'rows before the damage were written');
});

test('open errors are coded TcpcastErrors with the caller in the stack', () => {
  const missing = join(dir, 'missing.pcap');
  assert.throws(() => openCapture({ files: [missing] }), (err: TcpcastError) => {
    assert.equal(err.code, 'ERR_PCAP_OPEN');
    assert.ok(err.message.includes(missing));
    assert.ok(err.stack?.includes('capture-file.test'), err.stack);
    return true;
  });
  const notPcap = join(dir, 'not.pcap');
  writeFileSync(notPcap, 'this is not a capture file at all, just text\n');
  assert.throws(() => openCapture({ files: [notPcap] }), { code: 'ERR_FILE_CORRUPT' });
  assert.throws(() => openCapture({ files: [] }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => openCapture({ files: ['x'], windowMs: -1 }), { code: 'ERR_INVALID_OPTION' });
});

test('invalid BPF is ERR_BPF with pcap\'s message', { skip: unavailable }, () => {
  assert.throws(() => openCapture({ files: [pcap], bpf: ['tcp', 'and', 'prot', '80'] }), (err: TcpcastError) => {
    assert.equal(err.code, 'ERR_BPF');
    assert.match(err.message, /tcp and prot 80.*syntax error/);
    assert.ok(err.stack?.includes('capture-file.test'), err.stack);
    return true;
  });
});

/** Writes a big capture: the fixture's records repeated with shifted timestamps. */
function bigCapture(src: string, dst: string, copies: number): number {
  const buf = readFileSync(src);
  const offsets = pcapRecordOffsets(src);
  const first = offsets[0];
  const body = buf.subarray(first);
  const firstSec = buf.readUInt32LE(first);
  const lastSec = buf.readUInt32LE(offsets[offsets.length - 1]);
  const span = lastSec - firstSec + 1;
  const parts: Buffer[] = [buf.subarray(0, first)];
  for (let k = 0; k < copies; k++) {
    const copy = Buffer.from(body);
    for (const off of offsets) copy.writeUInt32LE(copy.readUInt32LE(off - first) + k * span, off - first);
    parts.push(copy);
  }
  writeFileSync(dst, Buffer.concat(parts));
  return offsets.length * copies;
}

test('the JS thread stays free while a big file is read; the reader waits for a slow consumer', { skip: unavailable }, async () => {
  const big = join(dir, 'big.pcap');
  const records = bigCapture(pcap, big, 60);
  let ticks = 0;
  let ticksBeforeFirstBatch = -1;
  const timer = setInterval(() => ticks++, 1);
  try {
    const capture = openCapture({ files: [big], queueBatches: 2 });
    let batches = 0;
    let maxQueue = 0;
    for await (const _ of capture) {
      if (batches++ === 0) ticksBeforeFirstBatch = ticks;
      maxQueue = Math.max(maxQueue, capture.detailedStats().queueLength);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(capture.stats().frames, records);
    assert.ok(batches >= 3, `expected several batches, got ${batches}`);
    assert.ok(maxQueue <= 2, `the native queue is bounded (queueBatches: 2), saw ${maxQueue}`);
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticksBeforeFirstBatch > 0, 'timers ran while the native thread parsed the first windows');
});

test('pcapng and stdin give the same packets as the classic pcap file', { skip: unavailable }, () => {
  const ng = join(dir, 'iperf.pcapng');
  execFileSync('editcap', ['-F', 'pcapng', pcap, ng]);
  const fromFile = execFileSync(process.execPath, [CLI, 'packets', pcap], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const fromNg = execFileSync(process.execPath, [CLI, 'packets', ng], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const fromStdin = execFileSync(process.execPath, [CLI, 'packets', '-'], { input: readFileSync(pcap), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(fromFile.length > 0);
  assert.equal(fromNg, fromFile);
  assert.equal(fromStdin, fromFile);
});
