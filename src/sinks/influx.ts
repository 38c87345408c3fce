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
// Order, merging, retries, the backlog bound and the shutdown deadline are the DeliveryQueue's
// (src/sinks/delivery-queue.ts, shared by any network sink); this file says what InfluxDB's answers mean and
// builds the requests. Policy, in order of preference (the doc is docs/sinks.md):
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
import type { Sink, SinkStats } from './sink';
import { DeliveryQueue, type FailureInfo } from './delivery-queue';
import { rowToLineProtocol } from './influx-schema';
import { consoleSinkLogger, INFLUX_APIS, INFLUX_DEFAULTS, type InfluxSinkConfig, type SinkLogger } from './influx-config';
import { Errors } from '../errors';

// The configuration lives apart so that the CLI can declare the flags without loading the client (~5 MB).
export * from './influx-config';

export type { FailureInfo } from './delivery-queue';

/** Decides what a failed InfluxDB request means; see the policy at the top of the file. */
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
  private readonly transport: Transport;
  private readonly writePath: string;
  private readonly url: string;
  private readonly delivery: DeliveryQueue;
  private token: string | undefined;
  private closing = false;
  /** Rows handed to write() after close() began: lost, and counted in dropped too. */
  private rowsAfterClose = 0;
  /** Rows no line could be built for (e.g. no finite field): never sent, counted as rejected. */
  private rowsUnencodable = 0;

  constructor(config: Partial<InfluxSinkConfig> & Pick<InfluxSinkConfig, 'url' | 'token' | 'host'>, logger: SinkLogger = consoleSinkLogger) {
    this.cfg = { ...INFLUX_DEFAULTS, ...config };
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
    this.delivery = new DeliveryQueue({
      name: 'influx',
      target: this.url,
      send: (lines, signal) => this.send(lines.join('\n'), signal),
      classify: classifyWriteError,
      // The token file is re-read after every auth failure, so a fixed token takes effect without a restart.
      onRetry: (info) => {
        if (info.status === 401 || info.status === 403) this.token = this.cfg.token.read();
      },
      logger,
      maxBatchBytes: c.maxBatchBytes,
      maxBacklogBytes: c.maxBacklogBytes,
      minRetryDelayMs: c.minRetryDelayMs,
      maxRetryDelayMs: c.maxRetryDelayMs,
      logRepeatMs: c.logRepeatMs,
    });
  }

  write(rows: WindowRow[]): void {
    if (this.closing) {
      this.rowsAfterClose += rows.length;
      return;
    }
    const lines: string[] = [];
    for (const row of rows) {
      let line: string | undefined;
      try {
        line = rowToLineProtocol(row, this.cfg.measurement, this.cfg.host, this.cfg.globalTags);
      } catch {
        line = undefined;
      }
      if (line === undefined) this.rowsUnencodable++;
      else lines.push(line);
    }
    if (lines.length > 0) this.delivery.push(lines);
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
    return this.transport.request(this.writePath, body, { method: 'POST', headers, gzipThreshold: this.cfg.gzipThresholdBytes, signal });
  }

  /**
   * Resolves once every row written before the call has been written, rejected or dropped, or when the
   * deadline passes (then the rows stay queued and keep being retried; a warning says how many).
   */
  async flush(timeoutMs: number = this.cfg.flushTimeoutMs): Promise<void> {
    await this.delivery.flush(timeoutMs);
  }

  /**
   * Flushes until the deadline (the shorter of timeoutMs and --influx-flush-timeout-s), then stops; what
   * could not be written by then is counted as dropped.
   */
  async close(timeoutMs: number = this.cfg.flushTimeoutMs): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.delivery.close(Math.min(timeoutMs, this.cfg.flushTimeoutMs));
  }

  stats(): SinkStats {
    const d = this.delivery.stats();
    return {
      written: d.written,
      dropped: d.dropped + this.rowsAfterClose,
      rejected: d.rejected + this.rowsUnencodable,
      backlogBytes: d.backlogBytes,
      backlogPoints: d.backlogRecords,
      batchesWritten: d.batchesWritten,
      batchesRetried: d.batchesRetried,
      batchesRejected: d.batchesRejected,
      writeErrors: d.writeErrors,
      rowsAfterClose: this.rowsAfterClose,
      lastErrorStatus: d.lastErrorStatus,
      lastErrorUnixMs: d.lastErrorUnixMs,
      retryAttempt: d.retryAttempt,
    };
  }

  /** The last error as text (stats() holds numbers only). */
  lastError(): string | undefined {
    return this.delivery.lastError();
  }
}
