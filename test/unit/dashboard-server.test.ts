// The dashboard server over real HTTP: what it serves and refuses, where it binds, and the SSE snapshot + per-window stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { startDashboard, parseDashboardAddress, measurePhase } from '../../src/dashboard';
import type { SnapshotMessage, WindowsMessage } from '../../src/dashboard/history';
import type { WindowRow } from '../../src/features';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';

const WINDOW_MS = 50;
const NS_PER_MS = 1_000_000n;

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function httpRequest(port: number, path: string, opts: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A minimal EventSource: yields parsed events as they arrive. */
function openEvents(port: number): Promise<{ res: IncomingMessage; next: () => Promise<{ event: string; data: string }>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      let buffer = '';
      const queue: { event: string; data: string }[] = [];
      const waiters: ((e: { event: string; data: string }) => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue; // retry: and heartbeat comments
          const e = { event, data: data.join('\n') };
          const waiter = waiters.shift();
          if (waiter) waiter(e);
          else queue.push(e);
        }
      });
      resolve({
        res,
        next: () => new Promise((r) => (queue.length > 0 ? r(queue.shift()!) : waiters.push(r))),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function row(window: number, series: string, throughput: number, predicted: number | null, iface = 'eth0'): WindowRow {
  const values = Object.fromEntries(WINDOW_VALUE_COLUMNS.map((c) => [c, 0])) as WindowRow['values'];
  values.throughput_mbps = throughput;
  values.delay = 20 + window % 5;
  values.bif = 1000 * window;
  return { windowEndNs: BigInt(window) * BigInt(WINDOW_MS) * NS_PER_MS, iface, series, values, predictedThroughput: predicted };
}

test('binds 127.0.0.1 by default and is not reachable on other addresses', async () => {
  const dashboard = await startDashboard({ port: 0 });
  try {
    assert.equal(dashboard.host, '127.0.0.1');
    assert.equal(dashboard.url, `http://127.0.0.1:${dashboard.port}/`);
    assert.equal((await httpRequest(dashboard.port, '/')).status, 200);
    // Linux answers for all of 127/8 on lo: a wildcard bind would accept this connection.
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const socket = connect({ host: '127.0.0.2', port: dashboard.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', (e) => resolve(e));
    });
    assert.equal(err?.code, 'ECONNREFUSED');
  } finally {
    await dashboard.close();
  }
});

test('serves only the page, its assets and the stream, with security headers', async () => {
  const dashboard = await startDashboard({ port: 0 });
  try {
    const page = await httpRequest(dashboard.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(page.body.toString(), /<script src="\/dashboard.js">/);
    assert.doesNotMatch(page.body.toString(), /<script>|<style>|style="/, 'inline script/style would be blocked by the CSP');

    const uplot = await httpRequest(dashboard.port, '/uPlot.min.js');
    assert.equal(uplot.status, 200);
    assert.match(uplot.headers['content-type']!, /^text\/javascript/);
    assert.deepEqual(uplot.body, readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')));
    const uplotCss = await httpRequest(dashboard.port, '/uPlot.min.css');
    assert.deepEqual(uplotCss.body, readFileSync(require.resolve('uplot/dist/uPlot.min.css')));
    assert.match((await httpRequest(dashboard.port, '/dashboard.js')).body.toString(), /EventSource/);
    assert.match((await httpRequest(dashboard.port, '/dashboard.css')).headers['content-type']!, /^text\/css/);
    assert.equal((await httpRequest(dashboard.port, '/?reload=1')).status, 200, 'a query string does not change the path');

    for (const path of ['/index.html', '/favicon.ico', '/events/', '/dashboard.js.map', '/node_modules/uplot/dist/uPlot.min.css',
      '/../package.json', '/%2e%2e/package.json', '/dist/src/dashboard/client.js', '//', '/src/']) {
      const reply = await httpRequest(dashboard.port, path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff', path);
    }

    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const reply = await httpRequest(dashboard.port, '/', { method });
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.allow, 'GET, HEAD');
    }
    const head = await httpRequest(dashboard.port, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), page.body.length);

    // A page on another origin that rebinds its own name to 127.0.0.1 sends its own Host.
    assert.equal((await httpRequest(dashboard.port, '/events', { headers: { Host: `evil.example:${dashboard.port}` } })).status, 403);
    assert.equal((await httpRequest(dashboard.port, '/', { headers: { Host: `localhost:${dashboard.port}` } })).status, 200);
  } finally {
    await dashboard.close();
  }
});

test('a connecting page gets the bounded history, then one message per window close with the measured phase', async () => {
  const historyWindows = 40;
  const dashboard = await startDashboard({ port: 0, historyWindows, windowMs: WINDOW_MS, phaseWindows: 30 });
  try {
    const flow = '10.0.0.1:5000-10.0.0.2:80';
    const actualAll = (w: number) => 10 + 5 * Math.sin(w / 3) + (w % 7);
    // Persistence for the aggregate (prediction made from the previous window): trails by one window.
    for (let w = 1; w <= historyWindows + 25; w++) {
      dashboard.setStats({ kernelDropped: w > 50 ? 7 : 0 });
      dashboard.sink.write([row(w, 'all', actualAll(w), w > 1 ? actualAll(w - 1) : null), row(w, flow, w % 3, null)]);
    }
    const stream = await openEvents(dashboard.port);
    assert.equal(stream.res.headers['content-type'], 'text/event-stream; charset=utf-8');
    const first = await stream.next();
    assert.equal(first.event, 'snapshot');
    const snapshot = JSON.parse(first.data) as SnapshotMessage;
    assert.equal(snapshot.windowMs, WINDOW_MS);
    assert.deepEqual(snapshot.series.map((s) => s.key), ['all', flow]);
    const all = snapshot.series[0];
    assert.equal(all.t.length, historyWindows, 'history is a ring of historyWindows');
    assert.equal(all.t.at(-1), ((historyWindows + 25) * WINDOW_MS) / 1000);
    assert.equal(all.actual.at(-1), actualAll(historyWindows + 25));
    assert.deepEqual(snapshot.series[1].predicted, Array(historyWindows).fill(null));
    assert.equal(all.phase!.lagMs, WINDOW_MS);
    assert.equal(snapshot.drops.kernelDropped.reduce((s, v) => s + v, 0), 7, 'the window where the counter moved shows the increase');
    assert.equal(snapshot.stats.kernelDropped, 7);

    const w = historyWindows + 26;
    dashboard.setStats({ kernelDropped: 9 });
    dashboard.sink.write([row(w, 'all', 3, 4), row(w, flow, 1, null), row(w, 'new-flow', 2, null)]);
    const next = await stream.next();
    assert.equal(next.event, 'windows');
    const message = JSON.parse(next.data) as WindowsMessage;
    assert.equal(message.kernelDropped, 2);
    assert.deepEqual(message.newSeries.map((s) => s.key), ['new-flow']);
    assert.equal(message.rows.length, 3);
    const [id, tS, actual, predicted] = message.rows[0];
    assert.equal(id, all.id);
    assert.equal(tS, (w * WINDOW_MS) / 1000);
    assert.equal(actual, 3);
    assert.equal(predicted, 4);
    assert.equal(message.rows[1][3], null, 'no forecast is null, not 0');

    // The server's phase is measurePhase over the last phaseWindows windows: recompute it from the stream.
    const index = [...all.t.slice(-29), tS].map((t) => Math.round((t * 1000) / WINDOW_MS));
    const expected = measurePhase(index, [...all.actual.slice(-29), 3], [...all.predicted.slice(-29).map((p) => p ?? NaN), 4], {
      windowMs: WINDOW_MS,
      maxLagWindows: 20,
      minPairs: 8,
    });
    assert.deepEqual(message.phase[all.id], expected);
    stream.close();
    assert.equal(dashboard.sink.stats().series, 3);
  } finally {
    await dashboard.close();
  }
});

test('series beyond maxSeries evict the one updated longest ago', async () => {
  const dashboard = await startDashboard({ port: 0, maxSeries: 3 });
  try {
    dashboard.sink.write([row(1, 'all', 1, null), row(1, 'a', 1, null), row(1, 'b', 1, null)]);
    dashboard.sink.write([row(2, 'all', 1, null), row(2, 'b', 1, null)]);
    dashboard.sink.write([row(3, 'all', 1, null), row(3, 'c', 1, null)]);
    const stream = await openEvents(dashboard.port);
    const snapshot = JSON.parse((await stream.next()).data) as SnapshotMessage;
    assert.deepEqual(snapshot.series.map((s) => s.key).sort(), ['all', 'b', 'c']);
    stream.close();
    assert.equal(dashboard.sink.stats().seriesEvicted, 1);
  } finally {
    await dashboard.close();
  }
});

test('time going back starts the series afresh; the lag covers the last windows of time, not of entries', async () => {
  const dashboard = await startDashboard({ port: 0, windowMs: WINDOW_MS, phaseWindows: 20 });
  try {
    const stream = await openEvents(dashboard.port);
    await stream.next(); // snapshot
    const wiggle = (w: number) => 10 + (w % 4) * 3 + (w % 7);
    // 30 windows of persistence, a long silence, then 5 windows: too few recent ones for a lag.
    for (let w = 1; w <= 30; w++) dashboard.sink.write([row(w, 'all', wiggle(w), wiggle(w - 1))]);
    for (let i = 0; i < 29; i++) await stream.next();
    const before = JSON.parse((await stream.next()).data) as WindowsMessage;
    assert.equal(before.phase[0].lagMs, WINDOW_MS);
    for (let w = 1000; w < 1005; w++) dashboard.sink.write([row(w, 'all', wiggle(w), wiggle(w - 1))]);
    for (let i = 0; i < 4; i++) await stream.next();
    const afterSilence = JSON.parse((await stream.next()).data) as WindowsMessage;
    assert.equal(afterSilence.phase[0].lagMs, null, 'windows from before the silence are out of the lag range');
    assert.equal(afterSilence.phase[0].predictedWindows, 5);

    dashboard.setStats({ pcapDropped: 4 });
    dashboard.sink.write([row(3, 'all', 1, null)]);
    const restarted = JSON.parse((await stream.next()).data) as WindowsMessage;
    assert.deepEqual(restarted.removedSeries, [0]);
    assert.deepEqual(restarted.newSeries, [{ id: 1, iface: 'eth0', key: 'all' }]);
    assert.equal(restarted.rows[0][0], 1);
    assert.equal(restarted.kernelDropped, 4, "the capture's own name for kernel drops is understood too");
    stream.close();
  } finally {
    await dashboard.close();
  }
});

test('close() ends open streams and frees the port for a restart', async () => {
  const first = await startDashboard({ port: 0 });
  const stream = await openEvents(first.port);
  await stream.next();
  const ended = new Promise<void>((resolve) => stream.res.on('end', () => resolve()));
  await first.close();
  await ended;
  const second = await startDashboard({ port: first.port });
  try {
    assert.equal((await httpRequest(second.port, '/')).status, 200);
  } finally {
    await second.close();
  }
});

test('parses --dashboard values: ADDR:PORT, PORT, [v6]:PORT, bare flag', () => {
  assert.deepEqual(parseDashboardAddress(true), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseDashboardAddress('9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseDashboardAddress('0.0.0.0:8081'), { host: '0.0.0.0', port: 8081 });
  assert.deepEqual(parseDashboardAddress(':8082'), { host: '127.0.0.1', port: 8082 });
  assert.deepEqual(parseDashboardAddress('[::1]:8083'), { host: '::1', port: 8083 });
  assert.deepEqual(parseDashboardAddress('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['::1:8080', 'host', '127.0.0.1:', '127.0.0.1:70000', '127.0.0.1:80x', '[127.0.0.1]:80', '[::1]', 'a b:80']) {
    assert.throws(() => parseDashboardAddress(bad), /--dashboard expects/, bad);
  }
});

test('listens on [::1] when asked', async (t) => {
  let dashboard;
  try {
    dashboard = await startDashboard({ host: '::1', port: 0 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return t.skip('no IPv6 loopback on this machine');
    throw err;
  }
  try {
    assert.equal(dashboard.url, `http://[::1]:${dashboard.port}/`);
    assert.equal((await httpRequest(dashboard.port, '/', { host: '::1' })).status, 200);
  } finally {
    await dashboard.close();
  }
});
