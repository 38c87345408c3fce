// The dashboard's HTTP server: the page, its assets and one SSE stream of window closes; a Sink for the pipeline.
//
// Why SSE: one-way server -> page updates need nothing beyond node:http, and EventSource reconnects by itself
// after a daemon restart; every (re)connection starts with a snapshot of the bounded history, so a page never
// needs a reload. One JSON message per window close (all series batched), stringified once for all pages.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { WindowRow } from '../features';
import type { Sink, SinkStats } from '../sinks/sink';
import type { Logger } from '../log';
import { DashboardHistory } from './history';
import { FAVICON_SVG, PAGE_CSS, PAGE_HTML } from './page';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, dashboardUrl } from './address';
import { DEFAULT_WINDOW_MS } from '../capture/options';

export interface DashboardOptions {
  /** Default 127.0.0.1: the page shows this machine's traffic. */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  windowMs?: number;
  /** Windows kept per series for (re)connecting pages. Default 1200 (a minute at 50 ms). */
  historyWindows?: number;
  /** Windows the lag and MAE are measured over. Default 200. */
  phaseWindows?: number;
  /** Largest lag searched, in windows. Default 20. */
  maxLagWindows?: number;
  /** Series kept at once. Default 100. */
  maxSeries?: number;
  /** Host names (besides the loopback literals) a loopback-bound dashboard answers to (--dashboard-allow-host). */
  allowHosts?: string[];
  /** Pages streaming at once; more get a 503 (--dashboard-max-clients). Default DEFAULT_DASHBOARD_MAX_CLIENTS. */
  maxClients?: number;
  logger?: Logger;
}

/** Each page may hold up to MAX_CLIENT_BACKLOG_BYTES of unsent stream: 32 pages bound that at 256 MiB. */
export const DEFAULT_DASHBOARD_MAX_CLIENTS = 32;

export interface Dashboard {
  sink: Sink;
  url: string;
  host: string;
  port: number;
  /** Latest daemon counters (kernelDropped etc.); sent with the next window close. */
  setStats(stats: Record<string, number>): void;
  close(): Promise<void>;
}

/** A page that cannot keep up gets dropped (it reconnects and gets a snapshot) rather than growing our memory. */
const MAX_CLIENT_BACKLOG_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/** How long EventSource waits before reconnecting (its default is about 3 s). */
const RECONNECT_MS = 1000;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Everything served besides the stream, read once at start: nothing on disk is reachable by URL. */
function loadAssets(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(PAGE_HTML) }],
    ['/dashboard.css', { type: css, body: Buffer.from(PAGE_CSS) }],
    ['/favicon.svg', { type: 'image/svg+xml', body: Buffer.from(FAVICON_SVG) }],
    // Resolved from the compiled module's directory, so it works from dist/.
    ['/dashboard.js', { type: js, body: readFileSync(join(__dirname, 'client.js')) }],
    ['/uPlot.min.js', { type: js, body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) }],
    ['/uPlot.min.css', { type: css, body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
  ]);
}

/** Where the server listens that only this machine can reach: then the Host check applies. */
function isLoopbackBind(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The only names a loopback dashboard answers to without --dashboard-allow-host: literals, never a prefix. */
const LOOPBACK_HOST_NAMES = ['127.0.0.1', '[::1]', 'localhost'];

/** Host header split into name and port ("[::1]:8080" -> ["[::1]", 8080]; no port: 80). Null when malformed. */
export function parseHostHeader(header: string): { name: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return null;
  return { name: m[1].toLowerCase().replace(/\.$/, ''), port: m[2] === undefined ? 80 : Number(m[2]) };
}

/**
 * DNS rebinding defence: a web page on another origin can point its own name at 127.0.0.1, and its browser
 * then sends that name as Host. So the Host must be one of the loopback literals (or a name the operator
 * allowed) AND carry our port; a prefix test such as startsWith('127.') let 127.0.0.1.evil.com through.
 */
export function hostAllowed(header: string | undefined, port: number, allowHosts: readonly string[] = []): boolean {
  if (header === undefined) return true; // HTTP/1.0 tools; browsers always send Host
  const parsed = parseHostHeader(header);
  if (!parsed || parsed.port !== port) return false;
  if (LOOPBACK_HOST_NAMES.includes(parsed.name)) return true;
  return allowHosts.some((h) => h.toLowerCase().replace(/\.$/, '') === parsed.name);
}

export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const historyWindows = options.historyWindows ?? 1200;
  const logger = options.logger;
  const history = new DashboardHistory({
    windowMs,
    historyWindows,
    phaseWindows: Math.min(options.phaseWindows ?? 200, historyWindows),
    maxLagWindows: options.maxLagWindows ?? 20,
    maxSeries: options.maxSeries ?? 100,
  });
  const assets = loadAssets();
  const clients = new Set<ServerResponse>();
  const counters = { rowsWritten: 0, pages: 0, messagesSent: 0, clientsDropped: 0, rejectedHost: 0, rejectedFull: 0 };
  const maxClients = options.maxClients ?? DEFAULT_DASHBOARD_MAX_CLIENTS;
  const allowHosts = options.allowHosts ?? [];
  let boundPort = 0;

  function send(res: ServerResponse, text: string): void {
    res.write(text);
    counters.messagesSent++;
    if (res.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
      counters.clientsDropped++;
      logger?.warn({ backlogBytes: res.writableLength }, 'dashboard page too slow, dropping its stream');
      clients.delete(res);
      res.destroy();
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'HEAD' && clients.size >= maxClients) {
      // Each page may hold megabytes of unsent stream: a cap keeps many (or malicious) pages from growing us.
      counters.rejectedFull++;
      res.writeHead(503, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' });
      res.end(`too many dashboard pages open (${maxClients}); close one or raise --dashboard-max-clients\n`);
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // The stream is the connection's only use: ending it on shutdown then closes the socket cleanly.
      Connection: 'close',
      'X-Accel-Buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    clients.add(res);
    counters.pages++;
    req.socket.setNoDelay(true);
    res.on('close', () => clients.delete(res));
    send(res, `event: snapshot\ndata: ${JSON.stringify(history.snapshot())}\n\n`);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    // DNS rebinding: a web page on another origin can point its own name at 127.0.0.1; a loopback-only
    // server answers only to loopback names, so such a page never reads the stream.
    if (isLoopbackBind(host) && !hostAllowed(req.headers.host, boundPort, allowHosts)) {
      counters.rejectedHost++;
      res.writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('forbidden host\n');
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/events') {
      openStream(req, res);
      return;
    }
    const asset = assets.get(path);
    if (!asset) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger?.error({ err }, 'dashboard server error'));
  const port = (server.address() as AddressInfo).port;
  boundPort = port;
  const url = dashboardUrl(host, port);
  logger?.info({ url }, 'dashboard listening');

  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(':\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let closed = false;
  const sink: Sink = {
    name: 'dashboard',
    write(rows: WindowRow[]): void {
      if (closed || rows.length === 0) return;
      const message = history.add(rows);
      counters.rowsWritten += rows.length;
      if (clients.size === 0) return;
      const text = `event: windows\ndata: ${JSON.stringify(message)}\n\n`;
      for (const res of clients) send(res, text);
    },
    forgetSeries(series): void {
      history.forget(series);
    },
    async flush(): Promise<void> {},
    async close(): Promise<void> {
      await dashboard.close();
    },
    stats(): SinkStats {
      // A live view, not a record: rows are "written" once in the history; a slow page is cut off, not a loss.
      return {
        written: counters.rowsWritten,
        dropped: 0,
        rejected: 0,
        backlogBytes: 0,
        pages: clients.size,
        pagesConnected: counters.pages,
        messagesSent: counters.messagesSent,
        pagesDropped: counters.clientsDropped,
        rejectedHost: counters.rejectedHost,
        rejectedFull: counters.rejectedFull,
        series: history.seriesCount,
        seriesEvicted: history.seriesEvicted,
        seriesEnded: history.seriesEnded,
        windows: history.windows,
      };
    },
  };

  const dashboard: Dashboard = {
    sink,
    url,
    host,
    port,
    setStats(stats: Record<string, number>): void {
      history.setStats(stats);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const res of clients) res.end();
      clients.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets of the page's asset requests would hold close() open until they time out;
      // anything still busy after a grace period is cut.
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      force.unref();
      await done;
      clearTimeout(force);
    },
  };
  return dashboard;
}
