// Prometheus metrics (prom-client) served on --metrics ADDR:PORT: counters with _total, latency histograms in seconds, hand-written HELP, iface labels, build info.
//
// Counters are read from the daemon's stats at scrape time (nothing runs per packet for metrics); the two
// histograms are observed where the time is spent (a window close reaching the sinks, one inference call).
// Naming follows https://prometheus.io/docs/practices/naming/: base units (seconds, bytes), `_total` on
// counters, one family per meaning with labels (iface, sink) rather than one name per instance.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { COUNTERS, camelCase } from '../schema';

/** Each group maps counter names to values (the daemon's statsGroups): capture, pipeline, forecast, sink_<name>. */
export type StatsProvider = () => Record<string, Record<string, number>>;

/** pcap_stats per source, for the iface label. */
export interface SourceStats {
  source: string;
  live: boolean;
  received: number;
  dropped: number;
  ifDropped: number;
}

export interface MetricsOptions {
  /** Per-source pcap counters (capture.detailedStats().pcap). */
  sources?: () => SourceStats[];
  /** Values of tcpcast_build_info's labels. */
  build?: Record<string, string>;
}

/** Window closes are at most seconds late; inference is ms: buckets that resolve both ends (seconds). */
export const WINDOW_CLOSE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
export const INFERENCE_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export interface TcpcastMetrics {
  registry: Registry;
  /** Time from a window's end to its rows being handed to the sinks (live captures), seconds. */
  windowCloseLatency: Histogram;
  /** One forecast call (a close's batch of sequences through the worker pool), seconds. */
  inferenceLatency: Histogram;
}

/** A counter whose value is read from a stats snapshot at scrape time (prom-client counters only inc, so reset + inc). */
function snapshotCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): Counter {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (Number.isFinite(v) && v >= 0) this.inc(labels, v);
    },
  });
}

function snapshotGauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (Number.isFinite(v)) this.set(labels, v);
    },
  });
}

/** Stats groups keep their camelCase keys; each exported family says in its HELP what it counts. */
const PIPELINE_COUNTERS: Array<[key: string, name: string, help: string]> = [
  ['batches', 'tcpcast_pipeline_batches_total', 'Window batches taken from the capture'],
  ['windows', 'tcpcast_pipeline_windows_total', 'Window rows handed to the sinks (all series)'],
  ['windowCloses', 'tcpcast_pipeline_window_closes_total', 'Window closes (one per window length per source)'],
  ['predictionsAttached', 'tcpcast_pipeline_predictions_total', 'Rows that carried a forecast made before their window closed'],
  ['predictionsLate', 'tcpcast_pipeline_predictions_late_total', 'Rows whose forecast was requested but arrived after the window closed (live)'],
  ['forecastErrors', 'tcpcast_pipeline_forecast_errors_total', 'Forecast calls that failed (the rows went out without a forecast)'],
  ['sinkErrors', 'tcpcast_pipeline_sink_errors_total', 'Errors thrown by a sink while writing rows'],
];

const QUEUE_COUNTERS: Array<[key: string, name: string, help: string]> = [
  ['batchesDropped', 'tcpcast_queue_batches_dropped_total', 'Batches the live capture dropped because JavaScript did not take them in time (oldest first)'],
  ['windowsDropped', 'tcpcast_queue_windows_dropped_total', 'Window rows inside the dropped batches'],
  ['packetsDropped', 'tcpcast_queue_packets_dropped_total', 'Per-packet records inside the dropped batches'],
];

const SINK_COUNTERS: Array<[key: string, name: string, help: string]> = [
  ['written', 'tcpcast_sink_rows_written_total', 'Rows the destination accepted'],
  ['dropped', 'tcpcast_sink_rows_dropped_total', 'Rows lost on our side (backlog bound, or shutdown before they were written)'],
  ['rejected', 'tcpcast_sink_rows_rejected_total', 'Rows the destination refused for good (e.g. HTTP 400)'],
];

/** Counters of the engine that are gauges (a current count, not a running total). */
const ENGINE_GAUGES = new Set(['flows_active']);

export function createMetricsRegistry(provider: StatsProvider, options: MetricsOptions = {}): TcpcastMetrics {
  const registry = new Registry();
  // No prefix: stock Node.js dashboards and alerts look for process_cpu_seconds_total, nodejs_heap_size_used_bytes...
  collectDefaultMetrics({ register: registry });

  // One snapshot per scrape, shared by every family below.
  let snapshot: Record<string, Record<string, number>> = {};
  let sources: SourceStats[] = [];
  const refresh = () => {
    snapshot = provider();
    sources = options.sources?.() ?? [];
  };
  const group = (name: string) => snapshot[name] ?? {};

  for (const { name, description } of COUNTERS) {
    const key = camelCase(name);
    const read = (): Array<[Record<string, string>, number]> => [[{}, group('capture')[key] ?? 0]];
    if (ENGINE_GAUGES.has(name)) snapshotGauge(registry, `tcpcast_engine_${name}`, description, [], read);
    else snapshotCounter(registry, `tcpcast_engine_${name}_total`, description, [], read);
  }

  const perSource = (field: 'received' | 'dropped' | 'ifDropped') => (): Array<[Record<string, string>, number]> =>
    sources.map((s) => [{ iface: s.source }, s[field]]);
  snapshotCounter(registry, 'tcpcast_pcap_received_packets_total', 'Packets the kernel passed the capture filter (pcap_stats ps_recv; frames read, for files)', ['iface'], perSource('received'));
  snapshotCounter(registry, 'tcpcast_pcap_kernel_dropped_packets_total', 'Packets dropped by the kernel: the capture buffer was full (pcap_stats ps_drop)', ['iface'], perSource('dropped'));
  snapshotCounter(registry, 'tcpcast_pcap_interface_dropped_packets_total', 'Packets dropped by the interface or its driver (pcap_stats ps_ifdrop)', ['iface'], perSource('ifDropped'));

  for (const [key, name, help] of QUEUE_COUNTERS) snapshotCounter(registry, name, help, [], () => [[{}, group('capture')[key] ?? 0]]);
  snapshotGauge(registry, 'tcpcast_queue_length_batches', 'Batches waiting between the capture thread and JavaScript', [], () => [[{}, group('capture').queueLength ?? 0]]);

  for (const [key, name, help] of PIPELINE_COUNTERS) snapshotCounter(registry, name, help, [], () => [[{}, group('pipeline')[key] ?? 0]]);
  snapshotGauge(registry, 'tcpcast_pipeline_series', 'Series (link aggregates and tracked connections) seen so far', [], () => [[{}, group('pipeline').series ?? 0]]);

  const sinkGroups = (): Array<[string, Record<string, number>]> =>
    Object.entries(snapshot)
      .filter(([g]) => g.startsWith('sink_'))
      .map(([g, v]) => [g.slice('sink_'.length), v]);
  for (const [key, name, help] of SINK_COUNTERS) snapshotCounter(registry, name, help, ['sink'], () => sinkGroups().map(([sink, v]) => [{ sink }, v[key] ?? 0]));
  snapshotGauge(registry, 'tcpcast_sink_backlog_bytes', 'Bytes accepted by a sink and not yet delivered (queued, in flight, or waiting for a retry)', ['sink'], () =>
    sinkGroups().map(([sink, v]) => [{ sink }, v.backlogBytes ?? 0]),
  );

  snapshotGauge(registry, 'tcpcast_forecast_pending_sequences', 'Sequences waiting for an inference worker', [], () => [[{}, group('forecast').pending ?? 0]]);
  snapshotCounter(registry, 'tcpcast_forecast_predictions_total', 'Next-window forecasts made', [], () => [[{}, group('forecast').predictions ?? 0]]);

  const build = options.build ?? {};
  const buildInfo = new Gauge({
    name: 'tcpcast_build_info',
    help: 'Always 1; the labels say which tcpcast, libpcap, onnxruntime and Node.js are running',
    labelNames: Object.keys(build),
    registers: [registry],
  });
  buildInfo.set(build, 1);

  const windowCloseLatency = new Histogram({
    name: 'tcpcast_window_close_latency_seconds',
    help: "Time from a window's end to its rows being handed to the sinks (live captures; includes waiting for the forecast)",
    buckets: WINDOW_CLOSE_BUCKETS_S,
    registers: [registry],
  });
  const inferenceLatency = new Histogram({
    name: 'tcpcast_inference_latency_seconds',
    help: "One forecast call: a window close's sequences through the inference worker pool",
    buckets: INFERENCE_BUCKETS_S,
    registers: [registry],
  });

  const origMetrics = registry.metrics.bind(registry);
  registry.metrics = async () => {
    refresh();
    return origMetrics();
  };
  return { registry, windowCloseLatency, inferenceLatency };
}

export async function startMetricsServer(host: string, port: number, registry: Registry): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/metrics` };
}
