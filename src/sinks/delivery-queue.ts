// An ordered, byte-bounded retry queue for network sinks: records go out oldest first, one request at a time, retried with backoff, bounded in bytes.
//
// Any sink that sends records over a network (InfluxDB today; Kafka, an OTLP exporter tomorrow) gives it a
// transport (`send(records, signal)`) and a classifier (what a failure means) and gets, for free:
// - order: one request in flight; a failed batch goes back to the FRONT, whole, so nothing overtakes it;
// - merging: when a backlog has built up, consecutive chunks are merged into one request up to maxBatchBytes,
//   so a recovered server is caught up quickly;
// - retry forever for transient failures, exponential backoff with +-20% jitter (several daemons do not retry in
//   lockstep), Retry-After honoured when longer;
// - 'split' (HTTP 413 and the like): the batch is halved and the merge limit lowered, so the halves are not
//   merged back together; a single record still too large is rejected;
// - 'reject': the server will never accept these records: dropped and counted as rejected, not retried;
// - a byte bound on queued + in-flight data: beyond it the oldest queued chunks are dropped and counted
//   (dropping is the last resort and is always logged, at most once per logRepeatMs);
// - flush(timeout) waits for exactly what was written before it; close(timeout) then counts what is left as dropped.
// Logging is one line per event (failure start, status change, recovery), never one per retry.
import type { SinkLogger } from './influx-config';

export type Verdict = 'retry' | 'reject' | 'split';

export interface FailureInfo {
  verdict: Verdict;
  /** Protocol status (e.g. HTTP), or 0 for a network error / timeout. */
  status: number;
  reason: string;
  /** What the server asked for (Retry-After), 0 when nothing. */
  retryAfterMs: number;
}

export interface DeliveryQueueOptions {
  /** Sink name for log lines and messages ("influx"). */
  name: string;
  /** Where records go, without credentials, for log lines. */
  target: string;
  /** Sends one batch; resolves when the server accepted all of it. */
  send(records: string[], signal: AbortSignal): Promise<unknown>;
  /** What a failed send means. */
  classify(err: unknown): FailureInfo;
  /** Called before each retry is scheduled (e.g. re-read a token after a 401). */
  onRetry?(info: FailureInfo): void;
  logger: SinkLogger;
  maxBatchBytes: number;
  maxBacklogBytes: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** While a failure persists, repeat its log line at most this often (the first one is immediate). */
  logRepeatMs: number;
  /** Jitter source, replaceable in tests. */
  random?: () => number;
}

/** A run of write() calls as one request body; seqs let flush() wait for exactly what came before it. */
interface Chunk {
  firstSeq: number;
  lastSeq: number;
  records: string[];
  bytes: number;
}

/** The queue's counters; a sink maps them onto the Sink stats shape. */
export interface DeliveryStats {
  written: number;
  dropped: number;
  rejected: number;
  backlogBytes: number;
  backlogRecords: number;
  batchesWritten: number;
  batchesRetried: number;
  batchesRejected: number;
  writeErrors: number;
  lastErrorStatus: number;
  lastErrorUnixMs: number;
  retryAttempt: number;
}

/** Bytes a record takes in a request body: its UTF-8 length plus the separating newline. */
export function recordBytes(record: string): number {
  return Buffer.byteLength(record) + 1;
}

export class DeliveryQueue {
  private readonly o: DeliveryQueueOptions;
  private readonly random: () => number;
  private queue: Chunk[] = [];
  private inFlight: Chunk | null = null;
  private inFlightAbort: AbortController | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Largest merged request; lowered after a 'split' so the halves are not merged back together. */
  private mergeLimitBytes: number;
  private attempt = 0;
  private closed = false;
  private waiters: { target: number; resolve: () => void }[] = [];

  private failingSince = 0;
  /** Status of the ongoing failure: a new line is logged when it changes, not per retry. */
  private failingStatus = -1;
  private lastFailureLogMs = 0;
  private lastDropLogMs = 0;
  private lastRejectLogMs = 0;
  private rejectsSinceLog = 0;
  private lastErrorText: string | undefined;

  private readonly counters = {
    written: 0,
    dropped: 0,
    rejected: 0,
    batchesWritten: 0,
    batchesRetried: 0,
    batchesRejected: 0,
    writeErrors: 0,
    lastErrorStatus: -1,
    lastErrorUnixMs: 0,
  };
  private backlogBytes = 0;
  private backlogRecords = 0;

  constructor(options: DeliveryQueueOptions) {
    if (options.maxBatchBytes > options.maxBacklogBytes) throw new Error(`${options.name}: max batch bytes must not exceed the backlog bound`);
    this.o = options;
    this.random = options.random ?? Math.random;
    this.mergeLimitBytes = options.maxBatchBytes;
  }

  /** Queues records (one write() call: split into chunks of at most maxBatchBytes) and starts sending. */
  push(records: string[]): void {
    if (this.closed) {
      this.counters.dropped += records.length;
      return;
    }
    let chunk: Chunk | null = null;
    for (const record of records) {
      const bytes = recordBytes(record);
      if (chunk && chunk.bytes + bytes > this.o.maxBatchBytes) {
        this.enqueue(chunk);
        chunk = null;
      }
      if (!chunk) {
        this.seq += 1;
        chunk = { firstSeq: this.seq, lastSeq: this.seq, records: [], bytes: 0 };
      }
      chunk.records.push(record);
      chunk.bytes += bytes;
    }
    if (chunk) this.enqueue(chunk);
    this.pump();
  }

  private enqueue(chunk: Chunk): void {
    this.queue.push(chunk);
    this.backlogBytes += chunk.bytes;
    this.backlogRecords += chunk.records.length;
    this.enforceBacklogBound();
  }

  /** Drops the oldest queued (not in-flight) chunks until the backlog fits its byte bound. */
  private enforceBacklogBound(): void {
    let dropped = 0;
    while (this.backlogBytes > this.o.maxBacklogBytes && this.queue.length > 0) {
      const old = this.queue.shift()!;
      this.backlogBytes -= old.bytes;
      this.backlogRecords -= old.records.length;
      dropped += old.records.length;
    }
    if (dropped === 0) return;
    this.counters.dropped += dropped;
    const now = Date.now();
    if (now - this.lastDropLogMs >= this.o.logRepeatMs) {
      this.lastDropLogMs = now;
      this.o.logger.error(
        { sink: this.o.name, url: this.o.target, droppedTotal: this.counters.dropped, backlogBytes: this.backlogBytes, maxBacklogBytes: this.o.maxBacklogBytes },
        `${this.o.name} backlog full: dropping the oldest points`,
      );
    }
    this.notifyWaiters();
  }

  /** Starts the next request when none is in flight and no retry is scheduled. */
  private pump(): void {
    if (this.closed || this.inFlight || this.retryTimer || this.queue.length === 0) return;
    const first = this.queue.shift()!;
    const batch: Chunk = { ...first };
    while (this.queue.length > 0 && batch.bytes + this.queue[0].bytes <= this.mergeLimitBytes) {
      const next = this.queue.shift()!;
      batch.records = batch.records.concat(next.records);
      batch.bytes += next.bytes;
      batch.lastSeq = next.lastSeq;
    }
    this.inFlight = batch;
    const abort = new AbortController();
    this.inFlightAbort = abort;
    let sending: Promise<unknown>;
    try {
      sending = this.o.send(batch.records, abort.signal);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then(
      () => this.onSuccess(batch),
      (err: unknown) => this.onFailure(batch, err),
    );
  }

  private onSuccess(batch: Chunk): void {
    if (this.inFlight !== batch) return; // aborted by close(); already accounted
    this.inFlight = null;
    this.inFlightAbort = null;
    this.backlogBytes -= batch.bytes;
    this.backlogRecords -= batch.records.length;
    this.counters.written += batch.records.length;
    this.counters.batchesWritten += 1;
    if (this.failingSince !== 0) {
      this.o.logger.info(
        { sink: this.o.name, url: this.o.target, outageMs: Date.now() - this.failingSince, retries: this.attempt, backlogBytes: this.backlogBytes },
        `${this.o.name} writes recovered`,
      );
      this.failingSince = 0;
      this.failingStatus = -1;
    }
    this.attempt = 0;
    this.notifyWaiters();
    this.pump();
  }

  private onFailure(batch: Chunk, err: unknown): void {
    if (this.inFlight !== batch) return;
    this.inFlight = null;
    this.inFlightAbort = null;
    const info = this.o.classify(err);
    const now = Date.now();
    this.counters.writeErrors += 1;
    this.counters.lastErrorStatus = info.status;
    this.counters.lastErrorUnixMs = now;
    this.lastErrorText = info.reason;

    if (info.verdict === 'split' && batch.records.length > 1) {
      const half = Math.ceil(batch.records.length / 2);
      this.mergeLimitBytes = Math.max(1, Math.min(this.mergeLimitBytes, Math.floor(batch.bytes / 2)));
      this.queue.unshift(this.part(batch, 0, half), this.part(batch, half, batch.records.length));
      this.o.logger.warn({ sink: this.o.name, url: this.o.target, status: info.status, lines: batch.records.length }, `${this.o.name} request too large: splitting the batch`);
      this.pump();
      return;
    }
    if (info.verdict === 'reject' || info.verdict === 'split') {
      this.backlogBytes -= batch.bytes;
      this.backlogRecords -= batch.records.length;
      this.counters.batchesRejected += 1;
      this.counters.rejected += batch.records.length;
      this.rejectsSinceLog += 1;
      if (now - this.lastRejectLogMs >= this.o.logRepeatMs) {
        this.lastRejectLogMs = now;
        this.o.logger.error(
          { sink: this.o.name, url: this.o.target, status: info.status, error: info.reason, points: batch.records.length, batchesRejectedSinceLastLog: this.rejectsSinceLog, rejectedTotal: this.counters.rejected },
          `${this.o.name} rejected a batch; dropped it (retrying cannot fix it)`,
        );
        this.rejectsSinceLog = 0;
      }
      this.notifyWaiters();
      this.pump();
      return;
    }

    // Retry: the batch goes back to the front, whole, so order is kept.
    this.queue.unshift(batch);
    this.counters.batchesRetried += 1;
    this.attempt += 1;
    this.o.onRetry?.(info);
    const delayMs = this.retryDelayMs(this.attempt, info.retryAfterMs);
    const firstFailure = this.failingSince === 0;
    if (firstFailure) this.failingSince = now;
    if (firstFailure || info.status !== this.failingStatus || now - this.lastFailureLogMs >= this.o.logRepeatMs) {
      this.lastFailureLogMs = now;
      this.failingStatus = info.status;
      this.o.logger.warn(
        { sink: this.o.name, url: this.o.target, status: info.status, error: info.reason, attempt: this.attempt, retryInMs: delayMs, backlogBytes: this.backlogBytes, backlogPoints: this.backlogRecords },
        firstFailure ? `${this.o.name} write failed; retrying with backoff` : `${this.o.name} writes still failing; retrying with backoff`,
      );
    }
    this.enforceBacklogBound();
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delayMs);
  }

  private part(batch: Chunk, from: number, to: number): Chunk {
    const records = batch.records.slice(from, to);
    let bytes = 0;
    for (const r of records) bytes += recordBytes(r);
    // Both halves keep the batch's seq range so flush() waits for both.
    return { firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, records, bytes };
  }

  /** Exponential backoff with +-20% jitter; Retry-After wins when longer (capped at a minute). */
  private retryDelayMs(attempt: number, retryAfterMs: number): number {
    const base = Math.min(this.o.maxRetryDelayMs, this.o.minRetryDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = Math.round(base * (0.8 + 0.4 * this.random()));
    return Math.max(jittered, Math.min(retryAfterMs, 60_000));
  }

  /** True when nothing with seq <= target is queued or in flight. */
  private doneThrough(target: number): boolean {
    if (this.inFlight && this.inFlight.firstSeq <= target) return false;
    return !this.queue.some((c) => c.firstSeq <= target);
  }

  private notifyWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.doneThrough(w.target) ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /**
   * Resolves true once every record pushed before the call was written, rejected or dropped; false when the
   * deadline passes first (the records stay queued and keep being retried; a warning says how many).
   */
  flush(timeoutMs: number): Promise<boolean> {
    const target = this.seq;
    if (this.doneThrough(target)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.o.logger.warn(
          { sink: this.o.name, url: this.o.target, timeoutMs, backlogPoints: this.backlogRecords, lastError: this.lastErrorText },
          `${this.o.name} flush deadline passed with points still pending`,
        );
        resolve(false);
      }, Math.max(0, timeoutMs));
      const waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Flushes until the deadline, then stops: the request in flight is aborted and what is left counts as dropped. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const lost = this.backlogRecords;
    if (this.inFlight) {
      this.inFlight = null;
      this.inFlightAbort?.abort();
      this.inFlightAbort = null;
    }
    this.queue = [];
    this.backlogBytes = 0;
    this.backlogRecords = 0;
    if (lost > 0) {
      this.counters.dropped += lost;
      this.o.logger.error({ sink: this.o.name, url: this.o.target, pointsLost: lost, lastError: this.lastErrorText }, `${this.o.name} sink closed with unwritten points`);
    }
    this.notifyWaiters();
  }

  stats(): DeliveryStats {
    return { ...this.counters, backlogBytes: this.backlogBytes, backlogRecords: this.backlogRecords, retryAttempt: this.attempt };
  }

  /** The last error as text (stats() holds numbers only). */
  lastError(): string | undefined {
    return this.lastErrorText;
  }
}
