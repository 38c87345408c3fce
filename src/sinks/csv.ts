// The CSV sink: one row per series per window (CSV_COLUMNS), appended to a file with one write() per window close; the training-data and audit format.
//
// Durability policy:
// - Each write(rows) becomes ONE write(2) of whole lines, issued in order. Once it returns, the rows are in the
//   kernel's page cache: a SIGKILL loses only rows still queued in this process (the close whose write is in
//   flight and any that arrived meanwhile: writes are issued as soon as the previous one returns, so normally
//   one) and never leaves half a row.
// - fsync (against power loss, not process death) runs every fsyncIntervalMs while there is unsynced data, and on
//   flush()/close(): after a crash of the machine at most that interval of rows is lost.
// - SIGTERM: the daemon calls close(), which waits for every queued write and fsyncs.
// - The header is written only when the file is empty, so appending to an existing file or reopening after
//   rotation (reopen(), on SIGHUP) never repeats it mid-file.
import { fstatSync, openSync, closeSync, write, fsync, close } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS, WINDOW_VALUE_COLUMNS, WindowRow } from '../features';
import { FORECAST_COLUMNS, forecastColumnValue } from '../forecast-columns';
import { Errors } from '../errors';
import type { Sink } from './sink';

export const DEFAULT_FSYNC_INTERVAL_MS = 1000;

export interface CsvSinkOptions {
  fsyncIntervalMs?: number;
}

/** The header line, with its newline. */
export function csvHeader(): string {
  return stringify([CSV_COLUMNS as unknown as string[]]);
}

/** Whole CSV lines for rows, in CSV_COLUMNS order; predicted_throughput is empty when there is no forecast. */
export function csvLines(rows: WindowRow[]): string {
  const records = rows.map((r) => [
    r.windowEndNs.toString(),
    r.iface,
    r.series,
    ...WINDOW_VALUE_COLUMNS.map((c) => r.values[c]),
    r.predictedThroughput === null ? '' : r.predictedThroughput,
    ...FORECAST_COLUMNS.map((c) => forecastColumnValue(r.forecasts, c) ?? ''),
  ]);
  return stringify(records);
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      write(fd, buf, offset, buf.length - offset, null, (err, written) => {
        if (err) return reject(err);
        if (offset + written < buf.length) return step(offset + written);
        resolve();
      });
    };
    step(0);
  });
}

export class CsvSink implements Sink {
  readonly name = 'csv';
  private fd: number;
  private syncable = true;
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private lastError: Error | undefined;
  private readonly counters = { rowsWritten: 0, bytesWritten: 0, backlogBytes: 0, writeErrors: 0, fsyncs: 0, reopens: 0 };

  constructor(readonly path: string, options: CsvSinkOptions = {}) {
    this.fd = this.openFile();
    const interval = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.timer = setInterval(() => {
      if (this.dirty) this.enqueue(() => this.sync());
    }, interval);
    this.timer.unref();
  }

  /** Opens for append and writes the header when the file is empty (new, or just rotated). Once per open: sync is fine. */
  private openFile(): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'a');
    } catch (err) {
      throw Errors.output(`cannot open CSV output ${this.path}: ${(err as Error).message}`);
    }
    const stat = fstatSync(fd);
    // fsync means nothing on /dev/null, a pipe or a terminal (and fails with EINVAL there): only files are synced.
    this.syncable = stat.isFile();
    if (stat.size === 0) this.enqueueBuffer(fd, Buffer.from(csvHeader()), 0);
    return fd;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.counters.writeErrors++;
      this.lastError = err;
    });
  }

  private enqueueBuffer(fd: number, buf: Buffer, rows: number): void {
    this.counters.backlogBytes += buf.length;
    this.enqueue(async () => {
      try {
        await writeAll(fd, buf);
        this.counters.rowsWritten += rows;
        this.counters.bytesWritten += buf.length;
        this.dirty = true;
      } finally {
        this.counters.backlogBytes -= buf.length;
      }
    });
  }

  private sync(): Promise<void> {
    const fd = this.fd;
    this.dirty = false;
    if (!this.syncable) return Promise.resolve();
    return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  write(rows: WindowRow[]): void {
    if (this.closed || rows.length === 0) return;
    // All rows of one window close in one buffer, so one write(2): whole lines reach the kernel together.
    this.enqueueBuffer(this.fd, Buffer.from(csvLines(rows)), rows.length);
  }

  async flush(): Promise<void> {
    this.enqueue(() => this.sync().then(() => void this.counters.fsyncs++));
    await this.chain;
    const err = this.lastError;
    this.lastError = undefined;
    if (err) throw Errors.output(`CSV output ${this.path}: ${err.message}`);
  }

  /** Log rotation: after the file was renamed away, continue in a new file of the same name (header included). */
  async reopen(): Promise<void> {
    if (this.closed) return;
    // Writes already queued hold the old descriptor: it is synced and closed in the queue, after them, so none
    // of them can meet a closed fd (EBADF); writes from now on go to the new file, behind its header.
    const old = this.fd;
    const oldSyncable = this.syncable;
    this.fd = this.openFile();
    this.counters.reopens++;
    this.enqueue(async () => {
      try {
        if (oldSyncable) await new Promise<void>((resolve, reject) => fsync(old, (err) => (err ? reject(err) : resolve())));
      } finally {
        closeSync(old);
      }
    });
    await this.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      await new Promise<void>((resolve) => close(this.fd, () => resolve()));
    }
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }
}
