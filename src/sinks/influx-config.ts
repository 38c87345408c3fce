// InfluxDB sink configuration, defaults and logger type: everything the CLI needs without loading the client library.
import type { TokenSource } from '../config/secrets';

export const DEFAULT_MEASUREMENT = 'traffic_prediction';
export const DEFAULT_BUCKET = 'network_stats';

export type InfluxApi = 'v2' | 'v1';
export const INFLUX_APIS: readonly InfluxApi[] = ['v2', 'v1'];

/** The subset of pino's API the sink uses, so a pino logger fits and tests can record lines. */
export interface SinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Used when no logger is passed: one line per event on stderr. */
export const consoleSinkLogger: SinkLogger = {
  info: (obj, msg) => console.error(`info: ${msg} ${JSON.stringify(obj)}`),
  warn: (obj, msg) => console.error(`warn: ${msg} ${JSON.stringify(obj)}`),
  error: (obj, msg) => console.error(`error: ${msg} ${JSON.stringify(obj)}`),
};

export interface InfluxSinkConfig {
  /** Server base URL (a path prefix for a reverse proxy is kept). */
  url: string;
  /** v2: /api/v2/write (InfluxDB 2.x/3.x, Cloud, VictoriaMetrics); v1: /write (InfluxDB 1.x). */
  api: InfluxApi;
  /** v2 organisation (InfluxDB 2.x needs it with a token; VictoriaMetrics ignores it). */
  org?: string;
  /** v2 bucket, or the v1 database. */
  bucket: string;
  /** v1 only: retention policy (the database default when unset). */
  retentionPolicy?: string;
  /** v1 only: user name for Basic auth; the token is the password. A token "user:password" needs none. */
  username?: string;
  token: TokenSource;
  measurement: string;
  /** Value of the `host` tag. */
  host: string;
  /** Tags on every point besides host/iface/series (--influx-tag site=ams1). */
  globalTags?: Record<string, string>;
  maxBatchBytes: number;
  maxBacklogBytes: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  requestTimeoutMs: number;
  /** How long flush()/close() keep retrying before giving up on what is left. */
  flushTimeoutMs: number;
  /** Request bodies larger than this are gzipped. */
  gzipThresholdBytes: number;
  /** While a failure persists, repeat its log line at most this often (the first one is immediate). */
  logRepeatMs: number;
}

export const MIB = 1024 * 1024;

export const INFLUX_DEFAULTS = {
  api: 'v2' as InfluxApi,
  bucket: DEFAULT_BUCKET,
  measurement: DEFAULT_MEASUREMENT,
  maxBatchBytes: 1 * MIB,
  maxBacklogBytes: 64 * MIB,
  minRetryDelayMs: 250,
  maxRetryDelayMs: 10_000,
  requestTimeoutMs: 10_000,
  flushTimeoutMs: 30_000,
  gzipThresholdBytes: 1000,
  logRepeatMs: 60_000,
};

