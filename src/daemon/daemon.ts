// The daemon behind `run` and `replay`: opens capture, drops privileges, builds forecaster and sinks, wires signals and stats.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { openCapture, dropPrivileges, type Capture, type CaptureOptions } from '../capture';
import { Forecaster } from '../forecast';
import type { InfluxCliOptions } from '../sinks/influx-options';
import { sinkLostRows, type Sink, type SinkStats } from '../sinks/sink';
import { prepareSinks } from '../sinks/registry';
import { startDashboard, parseDashboardAddress, type Dashboard } from '../dashboard';
import { Pipeline } from '../pipeline';
import { createLogger, isPretty, writeTextLine, type LogFormat, type Logger, type LogLevel } from '../log';
import { fileOffsetReader, Progress } from '../progress';
import { startLines, summaryLines } from './terminal';
import { stopAtLimits } from '../capture/limits';
import { applyCsvPlan, planCsvOutput, removeIfUnused, type CsvMode } from './csv-output';
import { TcpcastError } from '../errors';
import { COUNTERS, camelCase } from '../schema';
import { createMetricsRegistry, startMetricsServer, type TcpcastMetrics } from './metrics';
import { versionLabels } from '../versions';
import { parseListenAddress } from './options';
import { EXIT_OK, EXIT_ERROR, EXIT_SINK_LOSS } from './exit-codes';

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
  dashboardAllowHost?: string[];
  dashboardMaxClients?: number;
  metrics?: string;
  statsInterval: number;
  shutdownTimeout: number;
  logLevel: LogLevel;
  /** auto (default): readable lines when stderr is a terminal, JSON otherwise. */
  logFormat?: LogFormat;
  user?: string;
  /** What to do with an existing --csv file (default append, logged). */
  csvMode?: CsvMode;
  /** `run --dashboard ADDR` given explicitly: a busy port is then an error, not a warning. */
  dashboardRequired?: boolean;
  /** -c: stop after about this many packets; --duration: after this many seconds. */
  count?: number;
  duration?: number;
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

export { EXIT_OK, EXIT_ERROR, EXIT_SINK_LOSS } from './exit-codes';

/** How long sinks get to flush within --shutdown-timeout: the rest is margin for closing servers and printing the final line. */
export function sinkCloseBudgetMs(shutdownTimeoutMs: number): number {
  return Math.max(shutdownTimeoutMs * 0.5, shutdownTimeoutMs - 1000);
}

/** Exit codes: EXIT_OK, EXIT_ERROR, EXIT_SINK_LOSS (above). */
export async function runDaemon(source: DaemonSource, opts: DaemonOptions, hooks: DaemonHooks = {}): Promise<number> {
  const logger = createLogger(opts.logLevel, 'tcpcast', opts.logFormat);
  // Outputs and secrets before the capture: an unwritable CSV path or a bad URL fails at once with nothing to
  // stop, and token files are read while we may still be root (--user).
  const preparedSinks = prepareSinks(opts as unknown as Record<string, unknown>, { logger });
  // Absolute before any change of directory (--user works from /).
  if (opts.model) opts = { ...opts, model: resolve(opts.model) };
  const csvPlan = typeof opts.csv === 'string' && opts.csv !== '' ? planCsvOutput(opts.csv, opts.csvMode) : undefined;
  const dashboardAddress = opts.dashboard !== false ? parseDashboardAddress(opts.dashboard === true ? true : opts.dashboard) : undefined;
  // Capture next: it is the only step that needs privilege, and a bad interface or filter should fail before anything starts.
  const capture = openCapture({
    ...source.capture,
    windowMs: opts.windowMs,
    topK: opts.topK,
    maxFlows: opts.maxFlows,
    onWarning: (message) => logger.warn({ source: source.mode }, message),
  });
  // tcpdump's first lines, for people: JSON logs carry the same facts in "tcpcast started".
  if (isPretty(logger)) for (const line of startLines(capture, source.capture)) writeTextLine(line);

  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const sinks: Sink[] = [];
  try {
    const csvChange = csvPlan ? applyCsvPlan(csvPlan) : undefined;
    if (csvChange) logger.info(csvChange.fields, csvChange.message);
    // Outputs open before root is dropped, as the capture does: `sudo tcpcast run --user nobody` from a
    // root-owned directory keeps writing through the descriptor it holds. (A SIGHUP reopen there then fails,
    // logged: point --csv at a directory the user owns for logrotate.)
    for (const prepared of preparedSinks) {
      const sink = prepared.open();
      sinks.push(sink);
      closers.push({ name: sink.name, close: () => sink.close(0) });
    }
    if (opts.user) {
      dropPrivileges(opts.user);
      logger.info({ user: opts.user, uid: process.getuid?.() }, 'dropped privileges after opening the capture and the outputs');
      // As daemon(3) does: work from / once the outputs are open, so nothing can land in the directory we were
      // started from. onnxruntime's telemetry writes a ':memory:.ses' file into the working directory when it
      // runs as a non-root user (seen with --user nobody); in / that user can write nothing.
      process.chdir('/');
    }
    let dashboard: Dashboard | undefined;
    if (dashboardAddress) {
      dashboard = await startDashboardOrWarn(dashboardAddress, opts, logger);
      if (dashboard) {
        sinks.push(dashboard.sink);
        closers.push({ name: 'dashboard', close: () => dashboard!.close() });
      }
    }
    const forecaster = opts.forecast ? await createForecaster(opts, logger) : undefined;

    // Metrics exist before the pipeline so the latency histograms see every close and every forecast call.
    const metrics: TcpcastMetrics | undefined = opts.metrics
      ? createMetricsRegistry((): Record<string, Record<string, number>> => statsGroups(), { sources: () => capture.detailedStats().pcap, build: buildLabels() })
      : undefined;
    const observed = metrics ? observeLatencies(metrics, source.mode === 'live') : undefined;
    const pipeline = new Pipeline({
      source: capture,
      sinks: observed ? [...sinks, observed.sink] : sinks,
      forecaster: forecaster && observed ? observed.timed(forecaster) : forecaster,
      logger,
      windowMs: opts.windowMs,
    });
    const statsGroups = (): Record<string, Record<string, number>> => ({
      capture: capture.stats(),
      pipeline: { ...pipeline.stats() },
      ...(forecaster ? { forecast: flatNumbers(forecaster.stats()) } : {}),
      ...Object.fromEntries(sinks.map((s) => [`sink_${s.name}`, s.stats()])),
    });

    let metricsServer: Server | undefined;
    if (opts.metrics) {
      const { host, port } = parseListenAddress(opts.metrics, '--metrics');
      const started = await startMetricsServer(host, port, metrics!.registry);
      metricsServer = started.server;
      logger.info({ url: started.url }, 'metrics listening');
    }
    const statsTimers = startStatsLine(opts.statsInterval, logger, capture, pipeline, forecaster, sinks, dashboard);

    const shutdown = installSignals(capture, sinks, logger);
    const onAbort = () => {
      logger.info('stopping (asked by the embedding command): closing the last window and flushing sinks');
      shutdown.stopRequestedAt ??= Date.now();
      void capture.stop();
    };
    if (hooks.signal?.aborted) onAbort();
    else hooks.signal?.addEventListener('abort', onAbort, { once: true });
    logger.info({ mode: source.mode, sources: source.capture.files ?? source.capture.interfaces, windowMs: opts.windowMs, forecast: Boolean(forecaster) }, 'tcpcast started');
    hooks.onStarted?.({ dashboardUrl: dashboard?.url });
    const limits = stopAtLimits(capture, { count: opts.count, durationS: opts.duration }, (why) =>
      logger.info({ count: opts.count, durationS: opts.duration }, `stopping: ${why === 'count' ? `${opts.count} packets seen (-c)` : `${opts.duration} s elapsed (--duration)`}`),
    );
    const progress = replayProgress(source, logger, () => ({ ...capture.stats() }), () => pipeline.stats().windows);

    let exitCode = EXIT_OK;
    try {
      await pipeline.run();
    } catch (err) {
      exitCode = EXIT_ERROR;
      const e = err as Error & { code?: string };
      logger.error({ code: e.code }, e.message);
    }
    limits.dispose();
    progress?.stop(exitCode === 0);
    for (const t of statsTimers) clearInterval(t);
    shutdown.remove();
    hooks.signal?.removeEventListener('abort', onAbort);

    // Everything after the last window must end within --shutdown-timeout of the stop request (or of the end of
    // the input), whatever the sinks do: systemd's TimeoutStopSec sits above it and would SIGKILL us, cutting
    // the final line. Sinks close in parallel with a budget under the deadline, so their counts (dropped
    // included) are final when the "tcpcast stopped" line is computed.
    const deadlineMs = opts.shutdownTimeout * 1000;
    const startedAt = shutdown.stopRequestedAt ?? Date.now();
    const left = () => Math.max(0, startedAt + deadlineMs - Date.now());
    const sinkBudget = () => Math.max(0, startedAt + sinkCloseBudgetMs(deadlineMs) - Date.now());
    const closeAll = async () => {
      const forecastClosed = forecaster ? forecaster.close().catch((err: Error) => logger.error({ err: err.message }, 'forecaster close failed')) : Promise.resolve();
      await Promise.all(
        sinks
          .filter((sink) => !(dashboard && sink === dashboard.sink))
          .map((sink) => sink.close(sinkBudget()).catch((err: Error) => logger.error({ sink: sink.name, err: err.message }, 'sink close failed'))),
      );
      for (const c of closers) await c.close().catch(() => {});
      if (metricsServer) {
        metricsServer.closeAllConnections?.();
        await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
      }
      await forecastClosed;
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closeAll().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), left());
      }),
    ]);
    clearTimeout(timer);
    const final = statsGroups();
    const sinkCounts = finalSinkCounts(sinks);
    if (timedOut) {
      logger.error({ timeoutS: opts.shutdownTimeout }, 'shutdown deadline passed before every sink and server closed');
    }
    const lost = sinks.some((sink) => sinkLostRows(sink.stats()) || sink.stats().backlogBytes > 0);
    if (exitCode === EXIT_OK && (lost || timedOut)) exitCode = EXIT_SINK_LOSS;
    if (isPretty(logger)) {
      for (const line of summaryLines(final, sinks)) writeTextLine(line);
      logger.info({ exitCode }, 'tcpcast stopped');
    } else {
      logger.info({ ...summary(final), sinks: sinkCounts, engine: engineCounters(final.capture), exitCode }, 'tcpcast stopped');
    }
    // Something left open (a socket the server never answers) must not keep us past the deadline: the final
    // line is out, so leave. Unref'd: a clean shutdown exits on its own first. Not for an embedding command.
    if (!hooks.signal) setTimeout(() => process.exit(exitCode), Math.max(200, left())).unref();
    return exitCode;
  } catch (err) {
    await capture.stop().catch(() => {});
    for (const c of closers) await c.close().catch(() => {});
    // A start that failed leaves no header-only file behind (only one this run created).
    removeIfUnused(csvPlan);
    throw err;
  }
}

/**
 * A busy or forbidden dashboard port: an offline replay or the demo goes on without the page (a warning), and so
 * does `run` with the default address; only `run --dashboard ADDR`, asked for explicitly, fails.
 */
async function startDashboardOrWarn(address: { host: string; port: number }, opts: DaemonOptions, logger: Logger): Promise<Dashboard | undefined> {
  try {
    return await startDashboard({
      host: address.host,
      port: address.port,
      windowMs: opts.windowMs,
      logger,
      allowHosts: opts.dashboardAllowHost,
      maxClients: opts.dashboardMaxClients,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (opts.dashboardRequired || (e.code !== 'EADDRINUSE' && e.code !== 'EACCES' && e.code !== 'EADDRNOTAVAIL')) {
      if (e.code === 'EADDRINUSE') throw new TcpcastError(`--dashboard ${address.host}:${address.port}: address already in use`, 'ERR_ADDRESS_IN_USE');
      throw err;
    }
    logger.warn({ host: address.host, port: address.port, code: e.code }, `dashboard not started (${e.code}): going on without it; --dashboard ADDR:PORT picks another port, --no-dashboard silences this`);
    return undefined;
  }
}

/**
 * Replay of a file: a bar over the file's size on a terminal (read offset from /proc, see fileOffsetReader), a
 * log line every few seconds otherwise; stdin has no size, so it shows counts only.
 */
function replayProgress(
  source: DaemonSource,
  logger: Logger,
  captureStats: () => Record<string, number>,
  windows: () => number,
): { stop(complete: boolean): void } | undefined {
  const file = source.capture.files?.[0];
  if (source.mode !== 'replay' || !file) return undefined;
  let total: number | undefined;
  try {
    total = file === '-' ? undefined : statSync(file).size;
  } catch {
    total = undefined;
  }
  const offset = file === '-' ? () => undefined : fileOffsetReader(file);
  const pretty = isPretty(logger);
  const bar = new Progress({
    label: `replay ${file === '-' ? 'stdin' : basename(file)}`,
    total,
    unit: 'bytes',
    tty: pretty && Boolean(process.stderr.isTTY),
    writeLine: (text, state) => (pretty ? writeTextLine(text) : logger.info({ percent: state.percent, bytesRead: state.done, fileBytes: state.total }, 'replay progress')),
  });
  const tick = () => {
    const c = captureStats();
    bar.update(offset() ?? 0, `${c.frames ?? 0} packets, ${windows()} windows`);
  };
  const timer = setInterval(tick, 200);
  timer.unref();
  return {
    stop(complete: boolean) {
      clearInterval(timer);
      tick();
      if (complete && total !== undefined) bar.update(total);
      bar.stop();
    },
  };
}

/** Each sink's written/dropped/rejected (and what is still unwritten), for the final line. */
function finalSinkCounts(sinks: Sink[]): Record<string, Pick<SinkStats, 'written' | 'dropped' | 'rejected' | 'backlogBytes'>> {
  const out: Record<string, Pick<SinkStats, 'written' | 'dropped' | 'rejected' | 'backlogBytes'>> = {};
  for (const sink of sinks) {
    const s = sink.stats();
    out[sink.name] = { written: s.written, dropped: s.dropped, rejected: s.rejected, backlogBytes: s.backlogBytes };
  }
  return out;
}

/** tcpcast_build_info's labels: what a bug report or a fleet inventory needs. */
function buildLabels(): Record<string, string> {
  return versionLabels();
}

/**
 * The two latency histograms, observed without touching the pipeline: a sink at the end of the list sees each
 * close when the pipeline hands it over (live: now minus the window's end), and the forecaster is wrapped.
 */
function observeLatencies(metrics: TcpcastMetrics, live: boolean): { sink: Sink; timed(f: Forecaster): Forecaster } {
  const zero = { written: 0, dropped: 0, rejected: 0, backlogBytes: 0 };
  const sink: Sink = {
    name: 'metrics',
    write(rows) {
      // A replay's window ends are capture times, not now: only live closes have a latency to show.
      if (!live || rows.length === 0) return;
      const lateS = (Date.now() - Number(rows[0].windowEndNs / 1_000_000n)) / 1000;
      if (lateS >= 0) metrics.windowCloseLatency.observe(lateS);
    },
    flush: async () => {},
    close: async () => {},
    stats: () => zero,
  };
  return {
    sink,
    timed(f: Forecaster): Forecaster {
      const wrapped = Object.create(f) as Forecaster;
      wrapped.predict = (batch) => {
        const end = metrics.inferenceLatency.startTimer();
        return f.predict(batch).finally(() => end());
      };
      // The pipeline calls forecast() (every horizon and quantile) when the forecaster has it: time that too.
      const forecast = f.forecast?.bind(f);
      if (forecast) {
        wrapped.forecast = (batch) => {
          const end = metrics.inferenceLatency.startTimer();
          return forecast(batch).finally(() => end());
        };
      }
      return wrapped;
    },
  };
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

/** SIGINT/SIGTERM stop the capture (the pipeline then drains and the sinks flush); SIGHUP reopens the sinks' files. */
function installSignals(capture: Capture, sinks: Sink[], logger: Logger): { remove(): void; stopRequestedAt?: number } {
  const handle: { remove(): void; stopRequestedAt?: number } = { remove: () => {} };
  const stop = (signal: NodeJS.Signals) => {
    if (handle.stopRequestedAt !== undefined) {
      logger.warn({ signal }, 'second signal: exiting without flushing');
      process.exit(130);
    }
    handle.stopRequestedAt = Date.now();
    logger.info({ signal }, 'stopping: closing the last window and flushing sinks');
    void capture.stop();
  };
  const hup = () => {
    for (const sink of sinks) {
      if (!sink.reopen) continue;
      const path = (sink as { path?: string }).path;
      sink.reopen().then(
        () => logger.info({ sink: sink.name, path }, 'reopened output (SIGHUP)'),
        (err: Error) => logger.error({ sink: sink.name, path, err: err.message }, 'reopen failed'),
      );
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', hup);
  handle.remove = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', hup);
  };
  return handle;
}
