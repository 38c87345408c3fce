// Prometheus metrics (prom-client) served on --metrics ADDR:PORT: every stats group of the daemon, read at scrape time.
import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { COUNTER_DESCRIPTIONS } from '../schema';

/** Each group maps counter names to values; read when Prometheus scrapes, so nothing runs per window for metrics. */
export type StatsProvider = () => Record<string, Record<string, number>>;

function metricName(group: string, key: string): string {
  const snake = `${group}_${key}`.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  return `tcpcast_${snake}`;
}

/**
 * Stats are exported as gauges named tcpcast_<group>_<name>: the daemon's counters only grow, so rate() works on them,
 * and one generic path means a new counter in any stage appears in Prometheus without touching this file.
 */
export function createMetricsRegistry(provider: StatsProvider): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tcpcast_' });
  const gauges = new Map<string, Gauge>();
  let snapshot: Record<string, Record<string, number>> = {};
  const refresh = () => {
    snapshot = provider();
    for (const [group, values] of Object.entries(snapshot)) {
      for (const key of Object.keys(values)) {
        const name = metricName(group, key);
        if (gauges.has(name)) continue;
        gauges.set(
          name,
          new Gauge({
            name,
            // Engine counters carry their schema description (native/schema.h); every counter of the list is in the capture group.
            help: (group === 'capture' && COUNTER_DESCRIPTIONS.get(key)) || `tcpcast ${group} ${key}`,
            registers: [registry],
            collect() {
              const v = snapshot[group]?.[key];
              if (typeof v === 'number' && Number.isFinite(v)) this.set(v);
            },
          }),
        );
      }
    }
  };
  refresh();
  const origMetrics = registry.metrics.bind(registry);
  registry.metrics = async () => {
    refresh();
    return origMetrics();
  };
  return registry;
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
