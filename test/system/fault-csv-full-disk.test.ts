// Fault: the CSV's filesystem fills up (a 256 KiB tmpfs) and frees again: no half row, no glued row, losses counted and logged at once, writing resumes in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSV_COLUMNS, WINDOW_VALUE_COLUMNS, type WindowRow, type WindowValueColumn } from '../../src/features';
import { CsvSink } from '../../src/sinks/csv';
import { tempDir } from '../lib/capture-fixtures';
import { RecordingLogger, waitFor } from '../lib/record-logger';

const SERIES = 5;
const skip = process.getuid?.() !== 0 ? 'needs root (mount -t tmpfs)' : undefined;

function closeRows(n: number): WindowRow[] {
  return Array.from({ length: SERIES }, (_, s) => {
    const values = {} as Record<WindowValueColumn, number>;
    WINDOW_VALUE_COLUMNS.forEach((c, i) => (values[c] = n * 1000 + s + i / 8));
    return { windowEndNs: BigInt(n) * 50_000_000n, iface: 'tcc0', series: `s${s}`, values, predictedThroughput: null };
  });
}

/** A tiny tmpfs: ENOSPC on demand, without touching a real disk. */
function withTmpfs<T>(sizeKib: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('fullfs');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKib}k`, 'tcpcast-test', dir]);
  return fn(dir).finally(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Fills the filesystem: writes until ENOSPC; returns the filler's path (delete it to free the space). */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const chunk = Buffer.alloc(4096, 1);
  let data = Buffer.alloc(0);
  for (;;) {
    try {
      writeFileSync(path, Buffer.concat([data, chunk]));
      data = Buffer.concat([data, chunk]);
    } catch {
      // Keep the largest size that fit, so the disk is full to the last page.
      writeFileSync(path, data);
      return path;
    }
  }
}

/** Every line whole; returns the close numbers in file order. */
function parseCsv(path: string): { header: number; closes: number[]; rows: number } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line (no half row)');
  let header = 0;
  let rows = 0;
  const closes: number[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    const fields = line.split(',');
    assert.equal(fields.length, CSV_COLUMNS.length, `whole row, not half and not glued: ${line.slice(0, 200)}`);
    if (fields[0] === 'window_end_ns') {
      header++;
      continue;
    }
    rows++;
    const n = Number(BigInt(fields[0]) / 50_000_000n);
    assert.equal(Number(fields[3]), n * 1000 + Number(fields[2].slice(1)), 'values belong to their row');
    if (closes.at(-1) !== n) closes.push(n);
  }
  return { header, closes, rows };
}

test('a full disk: logged at once with the path, rows kept then dropped (counted) at the bound, resumed in order when space returns', { skip }, () =>
  withTmpfs(256, async (dir) => {
    const path = join(dir, 'w.csv');
    const log = new RecordingLogger();
    // A bound of 64 KiB (about 60 closes): small enough that the outage forces drops.
    const sink = new CsvSink(path, { fsyncIntervalMs: 50, maxBacklogBytes: 64 * 1024, minRetryDelayMs: 20, maxRetryDelayMs: 100, logRepeatMs: 60_000, logger: log });
    let n = 0;
    const writeSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        sink.write(closeRows(n++));
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    await writeSome(20);
    await sink.flush(5000);
    const filler = fill(dir);
    await writeSome(300); // ~300 KiB of rows into a full disk
    await waitFor(() => log.at('error').some((l) => l.msg.startsWith('CSV write failed')), 'the failure line');
    const failed = log.at('error').find((l) => l.msg.startsWith('CSV write failed'))!;
    assert.equal(failed.obj.path, path);
    assert.equal(failed.obj.code, 'ENOSPC');
    assert.ok(sink.stats().dropped > 0, 'the bound forced rows out');
    assert.ok(log.at('error').some((l) => l.msg === 'CSV backlog full: dropping the oldest rows'), 'drops are logged');
    assert.ok(sink.stats().backlogBytes > 0 && sink.stats().backlogBytes <= 64 * 1024 + 8192, `backlog bounded (${sink.stats().backlogBytes})`);

    rmSync(filler);
    await waitFor(() => log.lines.some((l) => l.msg === 'CSV writes resumed'), 'recovery');
    await writeSome(20);
    await sink.close(5000);
    const s = sink.stats();
    const parsed = parseCsv(path);
    assert.equal(parsed.header, 1);
    assert.equal(parsed.rows, s.written, 'the file holds exactly the rows counted as written');
    assert.equal(s.written + s.dropped, n * SERIES, 'every row is written or counted as dropped');
    for (let i = 1; i < parsed.closes.length; i++) assert.ok(parsed.closes[i] > parsed.closes[i - 1], 'in order, none repeated');
    assert.equal(parsed.closes.at(-1), n - 1, 'writing resumed: the last close is in the file');
    const resumed = log.lines.find((l) => l.msg === 'CSV writes resumed')!;
    assert.ok(Number(resumed.obj.rowsDroppedMeanwhile) > 0);
  }));

test('a disk that stays full: close() keeps its deadline, cuts a half-written buffer back to a row boundary, counts the rest', { skip }, () =>
  withTmpfs(256, async (dir) => {
    const path = join(dir, 'w.csv');
    const log = new RecordingLogger();
    const sink = new CsvSink(path, { minRetryDelayMs: 20, maxRetryDelayMs: 50, logger: log });
    sink.write(closeRows(0));
    await sink.flush(5000);
    fill(dir);
    // Large closes so the first one after the fill is likely cut short (a short write), not refused whole.
    for (let i = 1; i <= 30; i++) sink.write(closeRows(i));
    const started = Date.now();
    await sink.close(500);
    assert.ok(Date.now() - started < 3000, 'close kept its deadline');
    const s = sink.stats();
    assert.equal(s.written + s.dropped, 31 * SERIES);
    assert.ok(s.dropped > 0);
    const parsed = parseCsv(path);
    assert.equal(parsed.rows, s.written);
    assert.ok(log.lines.some((l) => l.msg === 'CSV sink closed with unwritten rows'));
  }));
