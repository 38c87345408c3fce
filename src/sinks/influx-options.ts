// The --influx-* flags shared by `run` and `replay`, and their translation into an InfluxSink (or none).
import { Command, InvalidArgumentError, Option } from 'commander';
import { Errors } from '../errors';
import { parsePositiveNumber } from '../options';
import { hostname } from 'node:os';
import { influxTokenSource } from '../config/secrets';
import { INFLUX_APIS, INFLUX_DEFAULTS, MIB, type InfluxApi, type InfluxSinkConfig, type SinkLogger, consoleSinkLogger } from './influx-config';
import type { InfluxSink } from './influx';

/** What commander hands back for the flags added by addInfluxOptions. */
export interface InfluxCliOptions {
  influxUrl?: string;
  influxApi?: InfluxApi;
  influxOrg?: string;
  influxBucket?: string;
  influxRetentionPolicy?: string;
  influxUser?: string;
  influxTokenFile?: string;
  influxMeasurement?: string;
  influxHostTag?: string;
  /** --influx-tag key=value, repeatable: tags on every point (site, region), as Telegraf's global_tags. */
  influxTag?: Record<string, string>;
  influxBatchMib?: number;
  influxBacklogMib?: number;
  influxFlushTimeoutS?: number;
}

/**
 * Adds the InfluxDB flags to a command, each also settable as TCPCAST_INFLUX_* (like the daemon's other flags,
 * so containers and the config file can set them). There is no flag for the token itself: it comes from
 * $INFLUX_TOKEN or --influx-token-file, because argv is visible to every user through ps.
 */
export function addInfluxOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--influx-url <url>', 'write windows and forecasts to this InfluxDB-compatible server (off when unset)').env('TCPCAST_INFLUX_URL'))
    .addOption(new Option('--influx-api <api>', 'write API: v2 (/api/v2/write: InfluxDB 2.x/3.x, Cloud, VictoriaMetrics) or v1 (/write: InfluxDB 1.x)').env('TCPCAST_INFLUX_API').choices(INFLUX_APIS).default(INFLUX_DEFAULTS.api))
    .addOption(new Option('--influx-org <org>', 'v2 organisation').env('TCPCAST_INFLUX_ORG'))
    .addOption(new Option('--influx-bucket <name>', 'v2 bucket, or the v1 database').env('TCPCAST_INFLUX_BUCKET').default(INFLUX_DEFAULTS.bucket))
    .addOption(new Option('--influx-retention-policy <rp>', 'v1 retention policy (database default when unset)').env('TCPCAST_INFLUX_RETENTION_POLICY'))
    .addOption(new Option('--influx-user <name>', 'v1 user for Basic auth; the token is the password (or give the token as user:password)').env('TCPCAST_INFLUX_USER'))
    .addOption(new Option('--influx-token-file <path>', 'read the token from this file (default: $INFLUX_TOKEN); re-read after a 401/403').env('TCPCAST_INFLUX_TOKEN_FILE'))
    .addOption(new Option('--influx-measurement <name>', 'measurement name').env('TCPCAST_INFLUX_MEASUREMENT').default(INFLUX_DEFAULTS.measurement))
    .addOption(new Option('--influx-host-tag <name>', 'value of the host tag (default: this host name)').env('TCPCAST_INFLUX_HOST_TAG'))
    .addOption(new Option('--influx-tag <key=value>', 'a tag on every point (e.g. site=ams1); repeat, or a comma list in the environment').env('TCPCAST_INFLUX_TAG').argParser(collectInfluxTags))
    .addOption(new Option('--influx-batch-mib <n>', 'largest request body before gzip, MiB').env('TCPCAST_INFLUX_BATCH_MIB').argParser(parsePositiveNumber('--influx-batch-mib')).default(INFLUX_DEFAULTS.maxBatchBytes / MIB))
    .addOption(
      new Option('--influx-backlog-mib <n>', 'unsent data kept during an outage, MiB; beyond it the oldest points are dropped and counted').env('TCPCAST_INFLUX_BACKLOG_MIB')
        .argParser(parsePositiveNumber('--influx-backlog-mib'))
        .default(INFLUX_DEFAULTS.maxBacklogBytes / MIB),
    )
    .addOption(
      new Option('--influx-flush-timeout-s <s>', 'on shutdown, keep retrying unsent points this long').env('TCPCAST_INFLUX_FLUSH_TIMEOUT_S')
        .argParser(parsePositiveNumber('--influx-flush-timeout-s'))
        .default(INFLUX_DEFAULTS.flushTimeoutMs / 1000),
    );
}

/** Tag keys the writer sets itself (INFLUX_TAGS): a global tag may not shadow them. */
const RESERVED_TAGS = new Set(['host', 'iface', 'series']);

/** key=value[,key=value...] added to the tags seen so far; keys as Flux and InfluxQL take them unquoted. */
export function collectInfluxTags(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const out = { ...(previous ?? {}) };
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(pair);
    if (!m) throw new InvalidArgumentError(`--influx-tag expects key=value (key: letters, digits, _), got "${pair}"`);
    if (RESERVED_TAGS.has(m[1])) throw new InvalidArgumentError(`--influx-tag: ${m[1]} is set by tcpcast itself (use --influx-host-tag for host)`);
    out[m[1]] = m[2];
  }
  return out;
}

/** The sink configuration from parsed flags and the environment, or null when --influx-url is not given. */
export function influxConfigFromOptions(opts: InfluxCliOptions, env: NodeJS.ProcessEnv = process.env, warn?: (msg: string) => void): InfluxSinkConfig | null {
  if (!opts.influxUrl) return null;
  let parsed: URL;
  try {
    parsed = new URL(opts.influxUrl);
  } catch {
    throw Errors.invalidOption(`--influx-url: not a URL: ${opts.influxUrl}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw Errors.invalidOption('--influx-url: only http and https are supported');
  if (parsed.username || parsed.password) throw Errors.invalidOption('--influx-url: put credentials in $INFLUX_TOKEN or --influx-token-file, not in the URL');
  const api = opts.influxApi ?? INFLUX_DEFAULTS.api;
  const maxBatchBytes = Math.round((opts.influxBatchMib ?? INFLUX_DEFAULTS.maxBatchBytes / MIB) * MIB);
  const maxBacklogBytes = Math.round((opts.influxBacklogMib ?? INFLUX_DEFAULTS.maxBacklogBytes / MIB) * MIB);
  if (maxBatchBytes > maxBacklogBytes) throw Errors.invalidOption('--influx-batch-mib must not exceed --influx-backlog-mib');
  return {
    ...INFLUX_DEFAULTS,
    url: opts.influxUrl,
    api,
    org: opts.influxOrg,
    bucket: opts.influxBucket ?? INFLUX_DEFAULTS.bucket,
    retentionPolicy: opts.influxRetentionPolicy,
    username: opts.influxUser,
    token: influxTokenSource({ tokenFile: opts.influxTokenFile, env, warn }),
    measurement: opts.influxMeasurement ?? INFLUX_DEFAULTS.measurement,
    host: opts.influxHostTag ?? hostname(),
    globalTags: opts.influxTag ?? {},
    maxBatchBytes,
    maxBacklogBytes,
    flushTimeoutMs: Math.round((opts.influxFlushTimeoutS ?? INFLUX_DEFAULTS.flushTimeoutMs / 1000) * 1000),
  };
}

/** The sink for the daemon, or null when InfluxDB output is off. */
export function createInfluxSink(opts: InfluxCliOptions, logger: SinkLogger = consoleSinkLogger, env: NodeJS.ProcessEnv = process.env): InfluxSink | null {
  const cfg = influxConfigFromOptions(opts, env, (msg) => logger.warn({ sink: 'influx' }, msg));
  if (!cfg) return null;
  // Loaded on first use: every command declares these flags, few write to InfluxDB.
  const { InfluxSink: Sink } = require('./influx') as typeof import('./influx');
  return new Sink(cfg, logger);
}
