// Faults at the dashboard: DNS rebinding (a foreign Host that merely starts with 127.) and too many pages (a clear 503, not unbounded memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { startDashboard, hostAllowed } from '../../src/dashboard/server';

function get(port: number, path: string, host: string): Promise<{ status: number; body: string; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host } }, (res) => {
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        resolve({ status: res.statusCode ?? 0, body: '', req });
        return;
      }
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, req }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('Host check: loopback literals with our port, or an allowed name; never a prefix match', () => {
  const p = 8080;
  for (const ok of ['127.0.0.1:8080', '[::1]:8080', 'localhost:8080', 'LOCALHOST:8080', 'dash.internal:8080']) assert.ok(hostAllowed(ok, p, ['dash.internal']), ok);
  for (const bad of ['127.0.0.1.evil.com:8080', '127.0.0.1.nip.io:8080', '127.0.0.1:8081', '127.0.0.1', 'evil.localhost:8080', '127.1.2.3:8080', 'localhost.evil.com:8080', 'dash.internal.evil:8080', '[::1]x:8080', ''])
    assert.ok(!hostAllowed(bad, p, ['dash.internal']), bad);
  assert.ok(hostAllowed('example:80', 80, ['example']), 'no port in Host means 80');
});

test('DNS rebinding: a loopback dashboard refuses 127.0.0.1.evil.com and 127.0.0.1.nip.io, answers 127.0.0.1 and an allowed name', async () => {
  const dashboard = await startDashboard({ port: 0, allowHosts: ['tcpcast.lan'] });
  try {
    const port = dashboard.port;
    for (const host of [`127.0.0.1.evil.com:${port}`, `127.0.0.1.nip.io:${port}`, `localhost:${port + 1}`]) {
      const r = await get(port, '/events', host);
      assert.equal(r.status, 403, host);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `tcpcast.lan:${port}`]) assert.equal((await get(port, '/', host)).status, 200, host);
    assert.equal(dashboard.sink.stats().rejectedHost, 3);
  } finally {
    await dashboard.close();
  }
});

test('a cap on pages streaming at once: the next one gets a 503 that says what to do; a slot frees when a page leaves', async () => {
  const dashboard = await startDashboard({ port: 0, maxClients: 2 });
  const host = `127.0.0.1:${dashboard.port}`;
  try {
    const a = await get(dashboard.port, '/events', host);
    const b = await get(dashboard.port, '/events', host);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const c = await get(dashboard.port, '/events', host);
    assert.equal(c.status, 503);
    assert.match(c.body, /too many dashboard pages open \(2\).*--dashboard-max-clients/);
    assert.equal(dashboard.sink.stats().rejectedFull, 1);
    a.req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const d = await get(dashboard.port, '/events', host);
    assert.equal(d.status, 200, 'a slot freed');
    b.req.destroy();
    d.req.destroy();
  } finally {
    await dashboard.close();
  }
});
