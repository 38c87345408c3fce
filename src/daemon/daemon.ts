// The daemon behind `run` and `replay`: opens capture, drops privileges, builds forecaster and sinks, wires signals and stats.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { openCapture, dropPrivileges, type Capture, type CaptureOptions } from '../capture';
import { Forecaster } from '../forecast';
import { CsvSink, createInfluxSink, type InfluxCliOptions } from '../sinks';
import type { Sink } from '../sinks/sink';
import { startDashboard, parseDashboardAddress, type Dashboard } from '../dashboard';
import { Pipeline } from '../pipeline';
import { createLogger, type Logger, type LogLevel } from '../log';
import { COUNTERS, camelCase } from '../schema';
import { createMetricsRegistry, startMetricsServer } from './metrics';
import { parseListenAddress } from './options';

/** The model shipped with the package; used when --model is not given. */
export const DEFAULT_MODEL_DIR = join(__dirname, '..', '..', '..', 'model');

/** What commander hands back for addPipelineOptions + addInfluxOptions (+ the source flags of run/replay). */
export interface DaemonOptions extends InfluxCliOptions {
  windowMs: number;
  topK: number;
  maxFlows: number;
  csv: string | false;
  model?: string;
  forecast: boolean;
  workers: number;
  dashboard: string | boolean;
  metrics?: string;
  statsInterval: number;
  shutdownTimeout: number;
  logLevel: LogLevel;
  user?: string;
}

export interface DaemonSource {
  capture: Omit<CaptureOptions, 'windowMs' | 'topK' | 'maxFlows' | 'onWarning'>;
  /** Shown in logs: "live" or "replay". */
  mode: 'live' | 'replay';
}

/** For a caller that embeds the daemon in its own process (the demo): stop it without a signal, learn where it listens. */
export interface DaemonHooks {
  /** Aborting stops the capture exactly as SIGINT does: the last window closes and the sinks flush. */
  signal?: AbortSignal;
  /** Called once, when capture, sinks and servers are up and before the first window. */
  onStarted?: (info: { dashboardUrl?: string }) => void;
}

/** Exit codes: 0 clean stop or end of file; 1 a source error (corrupt file, interface gone) or a shutdown that timed out. */
export async function runDaemon(source: DaemonSource, opts: DaemonOptions, hooks: DaemonHooks = {}): Promise<number> {
  const logger = createLogger(opts.logLevel);
  // Capture first: it is the only step that needs privilege, and a bad interface or filter should fail before anything starts.
  const capture = openCapture({
    ...source.capture,
    windowMs: opts.windowMs,
    topK: opts.topK,
    maxFlows: opts.maxFlows,
    onWarning: (message) => logger.warn({ source: source.mode }, message),
  });
  if (opts.user) {
    try {
      dropPrivileges(opts.user);
    } catch (err) {
      await capture.stop();
      throw err;
    }
    logger.info({ user: opts.user, uid: process.getuid?.() }, 'dropped privileges after opening the capture');
  }

  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  try {
    const sinks: Sink[] = [];
    let csv: CsvSink | undefined;
    if (opts.csv) {
      csv = new CsvSink(opts.csv);
      sinks.push(csv);
    }
    const influx = createInfluxSink(opts, logger);
    if (influx) sinks.push(influx);
    let dashboard: Dashboard | undefined;
    if (opts.dashboard !== false) {
      const { host, port } = parseDashboardAddress(opts.dashboard === true ? true : opts.dashboard);
      dashboard = await startDashboard({ host, port, windowMs: opts.windowMs, logger });
      sinks.push(dashboard.sink);
      closers.push({ name: 'dashboard', close: () => dashboard!.close() });
    }
    const forecaster = opts.forecast ? await createForecaster(opts, logger) : undefined;

    const pipeline = new Pipeline({ source: capture, sinks, forecaster, logger, windowMs: opts.windowMs });
    const statsGroups = () => ({
      capture: capture.stats(),
      pipeline: { ...pipeline.stats() },
      ...(forecaster ? { forecast: flatNumbers(forecaster.stats()) } : {}),
      ...Object.fromEntries(sinks.map((s) => [`sink_${s.name}`, s.stats()])),
    });

    let metricsServer: Server | undefined;
    if (opts.metrics) {
      const { host, port } = parseListenAddress(opts.metrics, '--metrics');
      const started = await startMetricsServer(host, port, createMetricsRegistry(statsGroups));
      metricsServer = started.server;
      logger.info({ url: started.url }, 'metrics listening');
    }
    const statsTimers = startStatsLine(opts.statsInterval, logger, capture, pipeline, forecaster, sinks, dashboard);

    const shutdown = installSignals(capture, csv, logger);
    const onAbort = () => {
      logger.info('stopping (asked by the embedding command): closing the last window and flushing sinks');
      void capture.stop();
    };
    if (hooks.signal?.aborted) onAbort();
    else hooks.signal?.addEventListener('abort', onAbort, { once: true });
    logger.info({ mode: source.mode, sources: source.capture.files ?? source.capture.interfaces, windowMs: opts.windowMs, forecast: Boolean(forecaster) }, 'tcpcast started');
    hooks.onStarted?.({ dashboardUrl: dashboard?.url });

    let exitCode = 0;
    try {
      await pipeline.run();
    } catch (err) {
      exitCode = 1;
      const e = err as Error & { code?: string };
      logger.error({ code: e.code }, e.message);
    }
    for (const t of statsTimers) clearInterval(t);
    shutdown.remove();
    hooks.signal?.removeEventListener('abort', onAbort);

    // Everything after the last window: flush and close within the deadline, so a hung database cannot keep us up forever.
    const deadline = opts.shutdownTimeout * 1000;
    const closeAll = async () => {
      if (forecaster) await forecaster.close();
      for (const sink of sinks) {
        if (dashboard && sink === dashboard.sink) continue;
        await sink.close().catch((err: Error) => logger.error({ sink: sink.name, err: err.message }, 'sink close failed'));
      }
      for (const c of closers) await c.close().catch(() => {});
      if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closeAll().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), deadline);
      }),
    ]);
    clearTimeout(timer);
    const final = statsGroups();
    if (timedOut) {
      logger.error({ timeoutS: opts.shutdownTimeout }, 'sinks did not flush before the shutdown deadline');
      exitCode = 1;
    }
    logger.info({ ...summary(final), engine: engineCounters(final.capture), exitCode }, 'tcpcast stopped');
    return exitCode;
  } catch (err) {
    await capture.stop().catch(() => {});
    for (const c of closers) await c.close().catch(() => {});
    throw err;
  }
}

async function createForecaster(opts: DaemonOptions, logger: Logger): Promise<Forecaster | undefined> {
  const modelDir = opts.model ?? DEFAULT_MODEL_DIR;
  // No shipped model yet is not an error for the default: the daemon still captures and writes actuals.
  if (!opts.model && !existsSync(join(modelDir, 'model.json'))) {
    logger.warn({ modelDir }, 'no forecast model found: writing actual throughput only (train one: see model/README.md)');
    return undefined;
  }
  const forecaster = await Forecaster.create({ modelDir, workers: opts.workers, windowMs: opts.windowMs });
  logger.info({ modelDir, workers: opts.workers, sequenceLength: forecaster.spec.sequence_length }, 'forecasting on');
  return forecaster;
}

function flatNumbers(obj: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** Every engine counter of the schema (src/schema.ts COUNTERS), by its stats key: a counter added there shows up here. */
function engineCounters(capture: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(COUNTERS.map(({ name }) => [camelCase(name), capture?.[camelCase(name)] ?? 0]));
}

function summary(groups: Record<string, Record<string, number>>): Record<string, number> {
  const c = groups.capture ?? {};
  const p = groups.pipeline ?? {};
  return {
    packets: c.frames ?? 0,
    tcpPackets: c.tcpPackets ?? 0,
    // Tunnelled TCP analysed, and frames that may carry TCP but were not (reasons: src/capture/undecoded.ts).
    decapsulated: c.decapsulated ?? 0,
    notAnalysed: (c.unsupportedLink ?? 0) + (c.unknownEncap ?? 0) + (c.decapDepthLimit ?? 0) + (c.truncated ?? 0),
    kernelDropped: c.pcapDropped ?? 0,
    interfaceDropped: c.pcapIfDropped ?? 0,
    // Batches the JS side could not take in time (live sources drop the oldest rather than grow).
    windowsDropped: c.windowsDropped ?? 0,
    flows: c.flowsActive ?? 0,
    windows: p.windows ?? 0,
    series: p.series ?? 0,
    // Live: p99 of window end -> row handed to the sinks (ms).
    ...(p.closeLatencyP99Ms !== undefined ? { closeLatencyP99Ms: p.closeLatencyP99Ms } : {}),
    // What the database acknowledged, so a reader can tell our losses from the database's (absent without InfluxDB).
    ...(groups.sink_influx
      ? { influxPointsWritten: groups.sink_influx.points_written ?? 0, influxPointsDropped: groups.sink_influx.points_dropped ?? 0, influxPointsRejected: groups.sink_influx.points_rejected ?? 0 }
      : {}),
  };
}

/**
 * One log line every few seconds: what an operator watches (packets, kernel drops, flows, windows, inference, backlog).
 * The dashboard gets the same counters every second, so its drop counter moves at a human pace.
 */
function startStatsLine(
  intervalS: number,
  logger: Logger,
  capture: Capture,
  pipeline: Pipeline,
  forecaster: Forecaster | undefined,
  sinks: Sink[],
  dashboard: Dashboard | undefined,
): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  const current = (captureStats = capture.stats()) => summary({ capture: captureStats, pipeline: { ...pipeline.stats() } });
  if (dashboard) timers.push(setInterval(() => dashboard.setStats(current()), 1000));
  if (intervalS > 0) {
    timers.push(
      setInterval(() => {
        const captureStats = capture.stats();
        const inference = forecaster ? flatNumbers(forecaster.stats()) : undefined;
        const sinkBacklogBytes = Object.fromEntries(sinks.map((k) => [k.name, k.stats().backlogBytes ?? 0]));
        logger.info(
          { ...current(captureStats), engine: engineCounters(captureStats), inference, sinkBacklogBytes, predictionsLate: pipeline.stats().predictionsLate },
          'stats',
        );
      }, intervalS * 1000),
    );
  }
  for (const t of timers) t.unref();
  return timers;
}

/** SIGINT/SIGTERM stop the capture (the pipeline then drains and the sinks flush); SIGHUP reopens the CSV file. */
function installSignals(capture: Capture, csv: CsvSink | undefined, logger: Logger): { remove(): void } {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without flushing');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: closing the last window and flushing sinks');
    void capture.stop();
  };
  const hup = () => {
    if (!csv) return;
    csv.reopen().then(
      () => logger.info({ path: csv.path }, 'reopened CSV output (SIGHUP)'),
      (err: Error) => logger.error({ path: csv.path, err: err.message }, 'CSV reopen failed'),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', hup);
  return {
    remove() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', hup);
    },
  };
}
