// CSV sink: header once across append/reopen, whole rows after SIGTERM and SIGKILL of a writer process, SIGHUP reopen after rename (log rotation).
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { CSV_COLUMNS, WINDOW_VALUE_COLUMNS, WindowRow, WindowValueColumn } from '../../src/features';
import { CsvSink } from '../../src/sinks/csv';
import { exited, tempDir } from '../lib/capture-fixtures';

const SERIES_PER_CLOSE = 5;

/** The rows of window close number n: n is recoverable from every row (window_end_ns), values differ per row. */
function closeRows(n: number): WindowRow[] {
  const rows: WindowRow[] = [];
  for (let s = 0; s < SERIES_PER_CLOSE; s++) {
    const values = {} as Record<WindowValueColumn, number>;
    WINDOW_VALUE_COLUMNS.forEach((c, i) => (values[c] = n * 1000 + s + i / 8));
    rows.push({ windowEndNs: BigInt(n) * 50_000_000n, iface: 'tcc0', series: s === 0 ? 'all' : `10.0.0.1:${5200 + s}-10.0.0.2:40000`, values, predictedThroughput: s % 2 ? 1.5 : null });
  }
  return rows;
}

function parse(path: string): { header: number; closes: number[] } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  const lines = text.split('\n').slice(0, -1);
  let header = 0;
  const perClose = new Map<number, number>();
  for (const line of lines) {
    const fields = line.split(',');
    assert.equal(fields.length, CSV_COLUMNS.length, `whole row: ${line}`);
    if (fields[0] === 'window_end_ns') {
      header++;
      continue;
    }
    const n = Number(BigInt(fields[0]) / 50_000_000n);
    assert.equal(Number(fields[3]), n * 1000 + Number(fields[2] === 'all' ? 0 : Number(fields[2].split(':')[1].split('-')[0]) - 5200));
    perClose.set(n, (perClose.get(n) ?? 0) + 1);
  }
  for (const [n, count] of perClose) assert.equal(count, SERIES_PER_CLOSE, `close ${n} has all its rows`);
  return { header, closes: [...perClose.keys()] };
}

function assertContiguous(closes: number[], from: number): void {
  closes.forEach((n, i) => assert.equal(n, from + i, 'closes are in order, none missing or repeated'));
}

/** Child mode: writes one window close every 2 ms until signalled; SIGTERM closes the sink, SIGHUP reopens it. */
function runChild(path: string): void {
  const sink = new CsvSink(path, { fsyncIntervalMs: 50 });
  let n = 0;
  let announced = false;
  const timer = setInterval(() => {
    sink.write(closeRows(n++));
    // "running" once 19 closes have returned from write(2): those are in the kernel, whatever kills us next.
    // (Announcing at 20 closes *issued* raced with the writes still queued on a loaded machine.)
    if (!announced && sink.stats().written >= 19 * SERIES_PER_CLOSE) {
      announced = true;
      process.stdout.write('running\n');
    }
  }, 2);
  process.on('SIGHUP', () => {
    void sink.reopen().then(() => process.stdout.write(`reopened ${n}\n`));
  });
  process.on('SIGTERM', () => {
    clearInterval(timer);
    void sink.close().then(() => {
      process.stdout.write(`closed ${n} ${sink.stats().written}\n`);
      process.exit(0);
    });
  });
}

function startWriter(path: string): { child: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, [__filename], { env: { ...process.env, TCC_CSV_CHILD: path }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  const line = async (re: RegExp): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => re.test(l));
      if (found) return found;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { child, line };
}

if (process.env.TCC_CSV_CHILD) {
  runChild(process.env.TCC_CSV_CHILD);
} else {
  test('header once: new file, append by a second sink, reopen of a non-empty file; header again after rotation', async () => {
    const dir = tempDir('csv');
    const path = join(dir, 'w.csv');
    const a = new CsvSink(path);
    a.write(closeRows(0));
    a.write(closeRows(1));
    await a.close();
    const b = new CsvSink(path);
    b.write(closeRows(2));
    await b.reopen();
    b.write(closeRows(3));
    await b.flush();
    let parsed = parse(path);
    assert.equal(parsed.header, 1);
    assertContiguous(parsed.closes, 0);
    renameSync(path, `${path}.1`);
    await b.reopen();
    b.write(closeRows(4));
    await b.close();
    assert.deepEqual(parse(`${path}.1`), { header: 1, closes: [0, 1, 2, 3] });
    parsed = parse(path);
    assert.deepEqual(parsed, { header: 1, closes: [4] });
    assert.equal(b.stats().written, 3 * SERIES_PER_CLOSE);
  });

  test('an existing empty file gets the header', async () => {
    const path = join(tempDir('csv'), 'w.csv');
    writeFileSync(path, '');
    const s = new CsvSink(path);
    s.write(closeRows(0));
    await s.close();
    assert.equal(parse(path).header, 1, 'an empty existing file gets the header');
  });

  test('SIGTERM: the writer closes the sink; every row it wrote is in the file, whole', async () => {
    const path = join(tempDir('csv'), 'w.csv');
    const w = startWriter(path);
    await w.line(/^running/);
    w.child.kill('SIGTERM');
    const closed = await w.line(/^closed/);
    assert.equal(await exited(w.child), 0);
    const [, closes, rowsWritten] = closed.split(' ').map(Number);
    const parsed = parse(path);
    assert.equal(parsed.header, 1);
    assertContiguous(parsed.closes, 0);
    assert.equal(parsed.closes.length, closes);
    assert.equal(parsed.closes.length * SERIES_PER_CLOSE, rowsWritten);
  });

  test('SIGKILL: no half rows; what reached the file is a gap-free prefix of the closes', async () => {
    const path = join(tempDir('csv'), 'w.csv');
    const w = startWriter(path);
    await w.line(/^running/);
    w.child.kill('SIGKILL');
    await exited(w.child);
    const parsed = parse(path);
    assert.equal(parsed.header, 1);
    assert.ok(parsed.closes.length >= 19, `rows written before the kill are in the file (${parsed.closes.length})`);
    assertContiguous(parsed.closes, 0);
  });

  test('SIGHUP after rename: the writer continues in a new file with a header; nothing lost or repeated across the two', async () => {
    const path = join(tempDir('csv'), 'w.csv');
    const w = startWriter(path);
    await w.line(/^running/);
    renameSync(path, `${path}.1`);
    w.child.kill('SIGHUP');
    await w.line(/^reopened/);
    await new Promise((r) => setTimeout(r, 50));
    w.child.kill('SIGTERM');
    const closed = await w.line(/^closed/);
    assert.equal(await exited(w.child), 0);
    const rotated = parse(`${path}.1`);
    const current = parse(path);
    assert.equal(rotated.header, 1);
    assert.equal(current.header, 1);
    assert.ok(current.closes.length > 0, 'rows after the reopen go to the new file');
    assertContiguous([...rotated.closes, ...current.closes], 0);
    assert.equal(rotated.closes.length + current.closes.length, Number(closed.split(' ')[1]));
  });

  test('a write issued while reopen() is in progress goes to the new file, never to the closed descriptor', async () => {
    const path = join(tempDir('csv'), 'w.csv');
    const sink = new CsvSink(path, { fsyncIntervalMs: 1000 });
    sink.write(closeRows(0));
    renameSync(path, `${path}.1`);
    const reopening = sink.reopen();
    sink.write(closeRows(1)); // while reopen() waits for the queue: once queued on the old fd, closed under it (EBADF)
    await reopening;
    sink.write(closeRows(2));
    await sink.close();
    assert.equal(sink.stats().writeErrors, 0);
    assert.deepEqual(parse(`${path}.1`), { header: 1, closes: [0] });
    assert.deepEqual(parse(path), { header: 1, closes: [1, 2] });
  });

  test('a device or pipe as output (-o /dev/null, /dev/stdout) writes and closes without fsync errors', async () => {
    const sink = new CsvSink('/dev/null', { fsyncIntervalMs: 10 });
    sink.write(closeRows(0));
    await new Promise((r) => setTimeout(r, 30));
    await sink.close();
    assert.equal(sink.stats().writeErrors, 0);
    assert.equal(sink.stats().written, SERIES_PER_CLOSE);
  });
}
