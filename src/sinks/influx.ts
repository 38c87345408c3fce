// The InfluxDB sink: one batch of line protocol per window close, sent in order from a byte-bounded backlog with retries, v2 or v1 write API.
//
// Why we own the queue instead of using the client's WriteApi: WriteApi.close() flushes its write buffer and
// then calls retryBuffer.close(), which discards every batch still waiting for a retry and only logs
// "Retry buffer closed with N items that were not written" (see close() in
// node_modules/@influxdata/influxdb-client/dist/index.js). A shutdown during an outage would therefore lose
// exactly the data the retry buffer was holding, and its retry buffer is bounded in lines, not bytes. So the
// batching, the backlog bound, the retry schedule and the shutdown deadline live here; the client is used
// for what it does well: line protocol building (Point, in influx-schema.ts) and HTTP transport (gzip,
// timeouts, HttpError with status and body).
//
// Policy, in order of preference (the doc is docs/sinks.md):
// - Every window close becomes one chunk (split at maxBatchBytes). Chunks are sent one request at a time,
//   oldest first; when a backlog has built up, consecutive chunks are merged into one request up to
//   maxBatchBytes so a recovered server is caught up quickly.
// - Transient failures (connection refused/reset, timeout, 5xx, 429, 408) are retried forever with
//   exponential backoff and jitter (honouring Retry-After).
// - 401/403 (token) and 404 (bucket/database missing) are also retried with backoff: they are operator
//   errors that are fixed without restarting us (the token file is re-read after every auth failure), and the
//   backlog bound keeps memory safe meanwhile.
// - 413 (request too large) splits the batch in halves; a single line that is still too large is rejected.
// - 400 and other 4xx mean the server will never accept these lines (field type conflict, bad line):
//   the batch is dropped and counted as rejected, since retrying cannot fix it.
// - The backlog (queued + in flight) is bounded in bytes (default 64 MiB, about 170k points of ~390 bytes): beyond it
//   the oldest queued chunks are dropped and counted. Dropping is the last resort and is always logged.
// - flush()/close() keep retrying until a deadline; close() then counts whatever is left as dropped.
import { HttpError, InfluxDB, RequestTimedOutError, type Transport } from '@influxdata/influxdb-client';
import type { WindowRow } from '../features';
import type { Sink } from './sink';
import { rowToLineProtocol } from './influx-schema';
import { consoleSinkLogger, INFLUX_APIS, INFLUX_DEFAULTS, type InfluxSinkConfig, type SinkLogger } from './influx-config';
import { Errors } from '../errors';

// The configuration lives apart so that the CLI can declare the flags without loading the client (~5 MB).
export * from './influx-config';

/** A run of window closes as one request body; seqs let flush() wait for exactly what came before it. */
interface Chunk {
  firstSeq: number;
  lastSeq: number;
  lines: string[];
  bytes: number;
}

type Verdict = 'retry' | 'reject' | 'split';

interface FailureInfo {
  verdict: Verdict;
  /** HTTP status, or 0 for a network error / timeout. */
  status: number;
  reason: string;
  retryAfterMs: number;
}

/** Decides what a failed request means; see the policy at the top of the file. */
export function classifyWriteError(err: unknown): FailureInfo {
  if (err instanceof HttpError) {
    const s = err.statusCode;
    const json = err.json as { error?: string; message?: string } | undefined;
    const detail = (json?.error ?? json?.message ?? err.body ?? err.statusMessage ?? '').toString().trim().slice(0, 300);
    const reason = `HTTP ${s}${detail ? `: ${detail}` : ''}`;
    const retryAfterMs = err.retryAfter() > 0 ? err.retryAfter() * 1000 : 0;
    if (s === 413) return { verdict: 'split', status: s, reason, retryAfterMs };
    if (s >= 500 || s === 429 || s === 408 || s === 401 || s === 403 || s === 404) {
      return { verdict: 'retry', status: s, reason, retryAfterMs };
    }
    return { verdict: 'reject', status: s, reason, retryAfterMs };
  }
  if (err instanceof RequestTimedOutError) return { verdict: 'retry', status: 0, reason: 'request timed out', retryAfterMs: 0 };
  const e = err as NodeJS.ErrnoException;
  const reason = e && e.code ? `${e.code}: ${e.message}` : String(e?.message ?? e);
  return { verdict: 'retry', status: 0, reason, retryAfterMs: 0 };
}

/** The URL without credentials, for log lines. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

export class InfluxSink implements Sink {
  readonly name = 'influx';
  private readonly cfg: InfluxSinkConfig;
  private readonly log: SinkLogger;
  private readonly transport: Transport;
  private readonly writePath: string;
  private readonly url: string;
  private token: string | undefined;

  private queue: Chunk[] = [];
  private inFlight: Chunk | null = null;
  private inFlightAbort: AbortController | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Largest merged request; lowered after a 413 so the split halves are not merged back together. */
  private mergeLimitBytes: number;
  private attempt = 0;
  private closing = false;
  private closed = false;
  private waiters: { target: number; resolve: () => void }[] = [];

  // Failure bookkeeping for one-line-per-event logging.
  private failingSince = 0;
  /** HTTP status of the ongoing failure (0: network): a new line is logged when it changes, not per retry. */
  private failingStatus = -1;
  private lastFailureLogMs = 0;
  private lastDropLogMs = 0;
  private lastRejectLogMs = 0;
  private rejectsSinceLog = 0;

  private readonly counters = {
    points_written: 0,
    batches_written: 0,
    batches_retried: 0,
    batches_rejected: 0,
    points_rejected: 0,
    points_dropped: 0,
    write_errors: 0,
    rows_after_close: 0,
    last_error_status: -1,
    last_error_unix_ms: 0,
  };
  private backlogBytes = 0;
  private backlogPoints = 0;
  private lastErrorText: string | undefined;

  constructor(config: Partial<InfluxSinkConfig> & Pick<InfluxSinkConfig, 'url' | 'token' | 'host'>, logger: SinkLogger = consoleSinkLogger) {
    this.cfg = { ...INFLUX_DEFAULTS, ...config };
    this.log = logger;
    const c = this.cfg;
    if (!INFLUX_APIS.includes(c.api)) throw Errors.invalidOption(`influx: unknown write API "${c.api}" (v2 or v1)`);
    if (!c.bucket) throw Errors.invalidOption(`influx: a ${c.api === 'v1' ? 'database' : 'bucket'} is required`);
    if (c.maxBatchBytes > c.maxBacklogBytes) throw Errors.invalidOption('influx: max batch bytes must not exceed the backlog bound');
    this.url = safeUrl(c.url);
    // No token here: the Authorization header is built per request so a re-read token takes effect.
    this.transport = new InfluxDB({ url: c.url, timeout: c.requestTimeoutMs }).transport;
    const q = new URLSearchParams();
    if (c.api === 'v2') {
      if (c.org) q.set('org', c.org);
      q.set('bucket', c.bucket);
      q.set('precision', 'ns');
      this.writePath = `/api/v2/write?${q}`;
    } else {
      q.set('db', c.bucket);
      if (c.retentionPolicy) q.set('rp', c.retentionPolicy);
      // InfluxDB 1.x spells nanoseconds "n" (and accepts "ns" only from 1.8 on).
      q.set('precision', 'n');
      this.writePath = `/write?${q}`;
    }
    this.token = c.token.read();
    this.mergeLimitBytes = c.maxBatchBytes;
  }

  write(rows: WindowRow[]): void {
    if (this.closing) {
      this.counters.rows_after_close += rows.length;
      return;
    }
    let chunk: Chunk | null = null;
    for (const row of rows) {
      let line: string | undefined;
      try {
        line = rowToLineProtocol(row, this.cfg.measurement, this.cfg.host);
      } catch {
        line = undefined;
      }
      if (line === undefined) continue;
      const bytes = Buffer.byteLength(line) + 1;
      if (chunk && chunk.bytes + bytes > this.cfg.maxBatchBytes) {
        this.enqueue(chunk);
        chunk = null;
      }
      if (!chunk) {
        this.seq += 1;
        chunk = { firstSeq: this.seq, lastSeq: this.seq, lines: [], bytes: 0 };
      }
      chunk.lines.push(line);
      chunk.bytes += bytes;
    }
    if (chunk) this.enqueue(chunk);
    this.pump();
  }

  private enqueue(chunk: Chunk): void {
    this.queue.push(chunk);
    this.backlogBytes += chunk.bytes;
    this.backlogPoints += chunk.lines.length;
    this.enforceBacklogBound();
  }

  /** Drops the oldest queued (not in-flight) chunks until the backlog fits its byte bound. */
  private enforceBacklogBound(): void {
    let droppedPoints = 0;
    while (this.backlogBytes > this.cfg.maxBacklogBytes && this.queue.length > 0) {
      const old = this.queue.shift()!;
      this.backlogBytes -= old.bytes;
      this.backlogPoints -= old.lines.length;
      droppedPoints += old.lines.length;
    }
    if (droppedPoints === 0) return;
    this.counters.points_dropped += droppedPoints;
    const now = Date.now();
    if (now - this.lastDropLogMs >= this.cfg.logRepeatMs) {
      this.lastDropLogMs = now;
      this.log.error(
        { sink: 'influx', url: this.url, points_dropped_total: this.counters.points_dropped, backlog_bytes: this.backlogBytes, max_backlog_bytes: this.cfg.maxBacklogBytes },
        'influx backlog full: dropping the oldest points',
      );
    }
    this.notifyWaiters();
  }

  /** Starts the next request when none is in flight and no retry is scheduled. */
  private pump(): void {
    if (this.closed || this.inFlight || this.retryTimer || this.queue.length === 0) return;
    const first = this.queue.shift()!;
    const batch: Chunk = { firstSeq: first.firstSeq, lastSeq: first.lastSeq, lines: first.lines, bytes: first.bytes };
    while (this.queue.length > 0 && batch.bytes + this.queue[0].bytes <= this.mergeLimitBytes) {
      const next = this.queue.shift()!;
      batch.lines = batch.lines.concat(next.lines);
      batch.bytes += next.bytes;
      batch.lastSeq = next.lastSeq;
    }
    this.inFlight = batch;
    const abort = new AbortController();
    this.inFlightAbort = abort;
    this.send(batch.lines.join('\n'), abort.signal).then(
      () => this.onSuccess(batch),
      (err: unknown) => this.onFailure(batch, err),
    );
  }

  private authHeader(): string | undefined {
    const token = this.token;
    if (token === undefined) return undefined;
    if (this.cfg.api === 'v2') return `Token ${token}`;
    // InfluxDB 1.x (before 1.8) knows Basic auth and u/p query parameters, not the Token scheme; Basic keeps
    // the password out of URLs and access logs.
    const userPass = this.cfg.username !== undefined ? `${this.cfg.username}:${token}` : token.includes(':') ? token : `tcpcast:${token}`;
    return `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
  }

  private send(body: string, signal: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    const auth = this.authHeader();
    if (auth) headers.authorization = auth;
    try {
      return this.transport.request(this.writePath, body, { method: 'POST', headers, gzipThreshold: this.cfg.gzipThresholdBytes, signal });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private finishInFlight(batch: Chunk): void {
    this.inFlight = null;
    this.inFlightAbort = null;
    this.backlogBytes -= batch.bytes;
    this.backlogPoints -= batch.lines.length;
  }

  private onSuccess(batch: Chunk): void {
    if (this.inFlight !== batch) return; // aborted by close(); already accounted
    this.finishInFlight(batch);
    this.counters.points_written += batch.lines.length;
    this.counters.batches_written += 1;
    if (this.failingSince !== 0) {
      this.log.info(
        { sink: 'influx', url: this.url, outage_ms: Date.now() - this.failingSince, retries: this.attempt, backlog_bytes: this.backlogBytes },
        'influx writes recovered',
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
    const info = classifyWriteError(err);
    const now = Date.now();
    this.counters.write_errors += 1;
    this.counters.last_error_status = info.status;
    this.counters.last_error_unix_ms = now;
    this.lastErrorText = info.reason;

    if (info.verdict === 'split' && batch.lines.length > 1) {
      const half = Math.ceil(batch.lines.length / 2);
      // The server's body limit is below this batch: remember it, or pump() would merge the halves again.
      this.mergeLimitBytes = Math.max(1, Math.min(this.mergeLimitBytes, Math.floor(batch.bytes / 2)));
      this.queue.unshift(this.part(batch, 0, half), this.part(batch, half, batch.lines.length));
      this.log.warn({ sink: 'influx', url: this.url, status: info.status, lines: batch.lines.length }, 'influx request too large: splitting the batch');
      this.pump();
      return;
    }
    if (info.verdict === 'reject' || info.verdict === 'split') {
      this.backlogBytes -= batch.bytes;
      this.backlogPoints -= batch.lines.length;
      this.counters.batches_rejected += 1;
      this.counters.points_rejected += batch.lines.length;
      this.rejectsSinceLog += 1;
      if (now - this.lastRejectLogMs >= this.cfg.logRepeatMs) {
        this.lastRejectLogMs = now;
        this.log.error(
          { sink: 'influx', url: this.url, status: info.status, error: info.reason, points: batch.lines.length, batches_rejected_since_last_log: this.rejectsSinceLog, points_rejected_total: this.counters.points_rejected },
          'influx rejected a batch; dropped it (retrying cannot fix it)',
        );
        this.rejectsSinceLog = 0;
      }
      this.notifyWaiters();
      this.pump();
      return;
    }

    // Retry: the batch goes back to the front, whole, so order is kept.
    this.queue.unshift(batch);
    this.counters.batches_retried += 1;
    this.attempt += 1;
    if (info.status === 401 || info.status === 403) this.token = this.cfg.token.read();
    const delayMs = this.retryDelayMs(this.attempt, info.retryAfterMs);
    const firstFailure = this.failingSince === 0;
    if (firstFailure) this.failingSince = now;
    if (firstFailure || info.status !== this.failingStatus || now - this.lastFailureLogMs >= this.cfg.logRepeatMs) {
      this.lastFailureLogMs = now;
      this.failingStatus = info.status;
      this.log.warn(
        { sink: 'influx', url: this.url, status: info.status, error: info.reason, attempt: this.attempt, retry_in_ms: delayMs, backlog_bytes: this.backlogBytes, backlog_points: this.backlogPoints },
        firstFailure ? 'influx write failed; retrying with backoff' : 'influx writes still failing; retrying with backoff',
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
    const lines = batch.lines.slice(from, to);
    let bytes = 0;
    for (const l of lines) bytes += Buffer.byteLength(l) + 1;
    // Both halves keep the batch's seq range so flush() waits for both; the byte total stays the same.
    return { firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, lines, bytes };
  }

  /** Exponential backoff with +-20% jitter (so several daemons do not retry in lockstep); Retry-After wins when longer. */
  private retryDelayMs(attempt: number, retryAfterMs: number): number {
    const base = Math.min(this.cfg.maxRetryDelayMs, this.cfg.minRetryDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = Math.round(base * (0.8 + 0.4 * Math.random()));
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
   * Resolves once every row written before the call has been written, rejected or dropped, or when the
   * deadline passes (then the rows stay queued and keep being retried; a warning says how many).
   */
  flush(timeoutMs: number = this.cfg.flushTimeoutMs): Promise<void> {
    const target = this.seq;
    if (this.doneThrough(target)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.log.warn(
          { sink: 'influx', url: this.url, timeout_ms: timeoutMs, backlog_points: this.backlogPoints, last_error: this.lastErrorText },
          'influx flush deadline passed with points still pending',
        );
        resolve();
      }, timeoutMs);
      const waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Flushes until the deadline, then stops; what could not be written by then is counted as dropped. */
  async close(timeoutMs: number = this.cfg.flushTimeoutMs): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.flush(timeoutMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const lost = this.backlogPoints;
    if (this.inFlight) {
      const batch = this.inFlight;
      this.inFlight = null;
      this.inFlightAbort?.abort();
      this.inFlightAbort = null;
      this.queue.unshift(batch);
    }
    this.queue = [];
    this.backlogBytes = 0;
    this.backlogPoints = 0;
    if (lost > 0) {
      this.counters.points_dropped += lost;
      this.log.error({ sink: 'influx', url: this.url, points_lost: lost, last_error: this.lastErrorText }, 'influx sink closed with unwritten points');
    }
    this.notifyWaiters();
  }

  stats(): Record<string, number> {
    return { ...this.counters, backlog_bytes: this.backlogBytes, backlog_points: this.backlogPoints, retry_attempt: this.attempt };
  }

  /** The last error as text (stats() holds numbers only). */
  lastError(): string | undefined {
    return this.lastErrorText;
  }
}
