// The CSV sink: one row per series per window (CSV_COLUMNS), appended to a file with one write() per window close; the training-data and audit format.
//
// Durability policy:
// - Each write(rows) becomes one buffer of whole lines, written in order by one writer loop. Once its write(2)
//   returns, the rows are in the kernel's page cache: a SIGKILL loses only rows still queued in this process.
// - Whole rows or nothing: after a short write (a filling disk) the remainder of that buffer is finished before
//   anything else is written, so rows are never glued; when a close gives up on a buffer half written, the file
//   is truncated back to where that buffer began (a complete row boundary).
// - A full or failing disk (ENOSPC, EIO, EDQUOT...) is logged at once with the path, then the write is retried
//   with backoff while new rows wait in memory, bounded in bytes (maxBacklogBytes): what the bound forces out
//   (the oldest queued rows) is counted as dropped and logged. When space returns, writing resumes in order and
//   a line says how long it failed and what was lost.
// - fsync (against power loss, not process death) runs every fsyncIntervalMs while there is unsynced data, and on
//   flush()/close(): after a crash of the machine at most that interval of rows is lost.
// - SIGTERM: the daemon calls close(), which waits for every queued write and fsyncs.
// - The header is written only when the file is empty, so appending to an existing file or reopening after
//   rotation (reopen(), on SIGHUP) never repeats it mid-file.
import { fstatSync, openSync, closeSync, write, fsync, close, ftruncate } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS, WINDOW_VALUE_COLUMNS, WindowRow } from '../features';
import { FORECAST_COLUMNS, forecastColumnValue } from '../forecast-columns';
import { Errors } from '../errors';
import type { Sink, SinkStats } from './sink';
import { consoleSinkLogger, type SinkLogger } from './influx-config';

export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
/** Rows kept in memory while the disk refuses them: about 40 s of 1,000 series at 50 ms windows. */
export const DEFAULT_CSV_BACKLOG_BYTES = 64 * 1024 * 1024;
/** close() without a deadline (e.g. `tcpcast windows`): how long a failing disk is retried before the rest is dropped. */
export const DEFAULT_CSV_CLOSE_TIMEOUT_MS = 30_000;

export interface CsvSinkOptions {
  fsyncIntervalMs?: number;
  /** Bytes queued in memory (not yet in the file) beyond which the oldest queued rows are dropped. */
  maxBacklogBytes?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** While a failure persists, repeat its log line at most this often (the first one is immediate). */
  logRepeatMs?: number;
  logger?: SinkLogger;
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

/** One open file: writes and syncs of queued buffers go to the file they were queued for (SIGHUP rotation). */
interface OpenFile {
  fd: number;
  syncable: boolean;
  dirty: boolean;
}

/** Queued work, in order: whole lines for a file, or the end of a rotated file (sync and close it). */
type Item =
  | { kind: 'rows'; file: OpenFile; buf: Buffer; rows: number; offset: number }
  | { kind: 'retire'; file: OpenFile };

function writeOnce(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, offset, buf.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function fsyncFile(file: OpenFile): Promise<void> {
  file.dirty = false;
  if (!file.syncable) return Promise.resolve();
  return new Promise((resolve, reject) => fsync(file.fd, (err) => (err ? reject(err) : resolve())));
}

export class CsvSink implements Sink {
  readonly name = 'csv';
  private file: OpenFile;
  private readonly items: Item[] = [];
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;
  private closed = false;
  /** Set by close() when its deadline passes: the writer loop stops retrying. */
  private givingUp = false;
  private readonly timer: NodeJS.Timeout;
  private readonly log: SinkLogger;
  private readonly maxBacklogBytes: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly logRepeatMs: number;
  private failingSince = 0;
  private failingCode = '';
  private lastFailureLogMs = 0;
  private lastDropLogMs = 0;
  private droppedAtFailureStart = 0;
  private attempt = 0;
  private readonly counters = { written: 0, dropped: 0, bytesWritten: 0, backlogBytes: 0, writeErrors: 0, fsyncs: 0, fsyncErrors: 0, reopens: 0, truncations: 0 };

  constructor(readonly path: string, options: CsvSinkOptions = {}) {
    this.log = options.logger ?? consoleSinkLogger;
    this.maxBacklogBytes = options.maxBacklogBytes ?? DEFAULT_CSV_BACKLOG_BYTES;
    this.minRetryDelayMs = options.minRetryDelayMs ?? 100;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
    this.logRepeatMs = options.logRepeatMs ?? 60_000;
    this.file = this.openFile();
    const interval = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.timer = setInterval(() => void this.syncIfDirty(), interval);
    this.timer.unref();
  }

  /** Opens for append and queues the header when the file is empty (new, or just rotated). Once per open: sync is fine. */
  private openFile(): OpenFile {
    let fd: number;
    try {
      fd = openSync(this.path, 'a');
    } catch (err) {
      throw Errors.output(`cannot open CSV output ${this.path}: ${(err as Error).message}`);
    }
    const stat = fstatSync(fd);
    // fsync means nothing on /dev/null, a pipe or a terminal (and fails with EINVAL there): only files are synced.
    const file: OpenFile = { fd, syncable: stat.isFile(), dirty: false };
    if (stat.size === 0) this.queue({ kind: 'rows', file, buf: Buffer.from(csvHeader()), rows: 0, offset: 0 });
    return file;
  }

  private queue(item: Item): void {
    if (item.kind === 'rows') this.counters.backlogBytes += item.buf.length;
    this.items.push(item);
    this.enforceBacklogBound();
    this.kick();
  }

  /** Drops the oldest queued rows (never the buffer being written, never a header) until the backlog fits. */
  private enforceBacklogBound(): void {
    let droppedRows = 0;
    for (let i = 1; i < this.items.length && this.counters.backlogBytes > this.maxBacklogBytes; ) {
      const item = this.items[i];
      if (item.kind === 'rows' && item.rows > 0) {
        this.items.splice(i, 1);
        this.counters.backlogBytes -= item.buf.length;
        droppedRows += item.rows;
      } else {
        i++;
      }
    }
    if (droppedRows === 0) return;
    this.counters.dropped += droppedRows;
    const now = Date.now();
    if (now - this.lastDropLogMs >= this.logRepeatMs) {
      this.lastDropLogMs = now;
      this.log.error(
        { sink: 'csv', path: this.path, droppedTotal: this.counters.dropped, backlogBytes: this.counters.backlogBytes, maxBacklogBytes: this.maxBacklogBytes },
        'CSV backlog full: dropping the oldest rows',
      );
    }
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.items.length > 0 && !this.givingUp) this.kick();
    });
  }

  /** The one writer: items in order; a failing write is retried (with backoff) until it succeeds or close() gives up. */
  private async drain(): Promise<void> {
    while (this.items.length > 0) {
      const item = this.items[0];
      if (item.kind === 'retire') {
        this.items.shift();
        try {
          if (item.file.syncable) await fsyncFile(item.file);
        } catch (err) {
          this.counters.fsyncErrors++;
          this.log.warn({ sink: 'csv', path: this.path, error: (err as Error).message }, 'fsync of the rotated CSV file failed');
        } finally {
          closeSync(item.file.fd);
        }
        continue;
      }
      try {
        const n = await writeOnce(item.file.fd, item.buf, item.offset);
        item.offset += n;
        // A short write (the disk is filling): the rest of this buffer goes next, before anything else.
        if (item.offset < item.buf.length) continue;
        this.items.shift();
        this.counters.backlogBytes -= item.buf.length;
        this.counters.written += item.rows;
        this.counters.bytesWritten += item.buf.length;
        item.file.dirty = true;
        if (this.failingSince !== 0) this.recovered();
      } catch (err) {
        this.counters.writeErrors++;
        this.failed(err as NodeJS.ErrnoException);
        if (this.givingUp) return;
        await this.backoff();
        if (this.givingUp) return;
      }
    }
  }

  private failed(err: NodeJS.ErrnoException): void {
    const now = Date.now();
    this.attempt++;
    const code = err.code ?? 'EIO';
    const first = this.failingSince === 0;
    if (first) {
      this.failingSince = now;
      this.droppedAtFailureStart = this.counters.dropped;
    }
    if (first || code !== this.failingCode || now - this.lastFailureLogMs >= this.logRepeatMs) {
      this.lastFailureLogMs = now;
      this.failingCode = code;
      this.log.error(
        { sink: 'csv', path: this.path, code, error: err.message, attempt: this.attempt, backlogBytes: this.counters.backlogBytes, maxBacklogBytes: this.maxBacklogBytes, droppedTotal: this.counters.dropped },
        first ? 'CSV write failed; keeping rows in memory and retrying' : 'CSV writes still failing; retrying',
      );
    }
  }

  private recovered(): void {
    this.log.info(
      { sink: 'csv', path: this.path, outageMs: Date.now() - this.failingSince, retries: this.attempt, rowsDroppedMeanwhile: this.counters.dropped - this.droppedAtFailureStart },
      'CSV writes resumed',
    );
    this.failingSince = 0;
    this.failingCode = '';
    this.attempt = 0;
  }

  private backoff(): Promise<void> {
    const base = Math.min(this.maxRetryDelayMs, this.minRetryDelayMs * 2 ** Math.min(this.attempt - 1, 30));
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.wakeRetry = null;
        resolve();
      }, base);
    });
  }

  private async syncIfDirty(): Promise<void> {
    const file = this.file;
    if (!file.dirty || this.failingSince !== 0) return;
    try {
      await fsyncFile(file);
      this.counters.fsyncs++;
    } catch (err) {
      this.counters.fsyncErrors++;
      this.log.warn({ sink: 'csv', path: this.path, error: (err as Error).message }, 'CSV fsync failed');
    }
  }

  write(rows: WindowRow[]): void {
    if (rows.length === 0) return;
    if (this.closed) {
      this.counters.dropped += rows.length;
      return;
    }
    // All rows of one window close in one buffer: whole lines reach the kernel together, in order.
    this.queue({ kind: 'rows', file: this.file, buf: Buffer.from(csvLines(rows)), rows: rows.length, offset: 0 });
  }

  /** Resolves when every queued row is in the file and synced, or when timeoutMs passes (then false). */
  private async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length > 0 || this.draining) {
      if (!this.draining) this.kick();
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let t: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.draining!.then(() => false),
        new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(true), remaining))),
      ]);
      clearTimeout(t);
      if (timedOut) return false;
    }
    await this.syncIfDirty();
    return true;
  }

  async flush(timeoutMs: number = DEFAULT_CSV_CLOSE_TIMEOUT_MS): Promise<void> {
    await this.drained(timeoutMs);
  }

  /** Log rotation: after the file was renamed away, continue in a new file of the same name (header included). */
  async reopen(): Promise<void> {
    if (this.closed) return;
    // Rows already queued go to the old file, which is synced and closed after them; rows from now on go to
    // the new file, behind its header.
    const old = this.file;
    this.file = this.openFile();
    this.counters.reopens++;
    this.queue({ kind: 'retire', file: old });
    await this.flush();
  }

  /** Writes what it can within timeoutMs; what is still queued then is dropped and counted, never half written. */
  async close(timeoutMs: number = DEFAULT_CSV_CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const done = await this.drained(timeoutMs);
    if (!done) {
      this.givingUp = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.wakeRetry?.();
      // A write(2) in flight finishes on its own; wait for the loop to stop so the file is not changed under us.
      if (this.draining) await this.draining;
      let lost = 0;
      const files = new Set<OpenFile>([this.file]);
      for (const item of this.items) {
        if (item.kind === 'retire') {
          files.add(item.file);
          continue;
        }
        lost += item.rows;
        if (item.offset > 0) {
          // Half a buffer is in the file: cut it back to the row boundary where this buffer began.
          try {
            const size = fstatSync(item.file.fd).size;
            await new Promise<void>((resolve, reject) => ftruncate(item.file.fd, size - item.offset, (err) => (err ? reject(err) : resolve())));
            this.counters.truncations++;
          } catch (err) {
            this.log.error({ sink: 'csv', path: this.path, error: (err as Error).message }, 'could not cut a half-written row from the CSV file');
          }
        }
      }
      this.items.length = 0;
      this.counters.backlogBytes = 0;
      this.counters.dropped += lost;
      if (lost > 0) this.log.error({ sink: 'csv', path: this.path, rowsLost: lost, code: this.failingCode }, 'CSV sink closed with unwritten rows');
      for (const f of files) if (f !== this.file) closeSync(f.fd);
    }
    await new Promise<void>((resolve) => close(this.file.fd, () => resolve()));
  }

  stats(): SinkStats {
    return { ...this.counters, rejected: 0 };
  }
}
