// Failure handling of the InfluxDB sink against real servers: unreachable URL, wrong token, 400s, 413s, a full backlog.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { influxTokenSource, staticTokenSource } from '../../src/config/secrets';
import { InfluxSink } from '../../src/sinks/influx';
import { syntheticRows } from '../../src/sinks/influx-synthetic';
import { Influxd1, VictoriaMetrics, freePort } from '../lib/servers';
import { RecordingLogger, waitFor } from '../lib/record-logger';

const FAST_RETRY = { minRetryDelayMs: 20, maxRetryDelayMs: 200 };

describe('influx sink: unreachable server', () => {
  it('retries with one warning line, throws nothing, and counts the points it could not write on close', async () => {
    const port = await freePort(); // nothing listens there
    const log = new RecordingLogger();
    const sink = new InfluxSink({ url: `http://127.0.0.1:${port}`, token: staticTokenSource('t'), host: 'h', ...FAST_RETRY }, log);
    const windows = syntheticRows(12, { seriesPerWindow: 3 });
    for (const rows of windows) sink.write(rows);
    await waitFor(() => sink.stats().batchesRetried >= 4, 'several retries');
    const s = sink.stats();
    assert.equal(s.written, 0);
    assert.equal(s.backlogPoints, 12);
    assert.equal(s.lastErrorStatus, 0);
    assert.match(sink.lastError() ?? '', /ECONNREFUSED/);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0].level, 'warn');
    assert.match(String(log.lines[0].obj.error), /ECONNREFUSED/);

    await sink.close(100);
    assert.equal(sink.stats().dropped, 12);
    assert.equal(sink.stats().backlogPoints, 0);
    const errors = log.at('error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].obj.pointsLost, 12);
  });
});

describe('influx sink: wrong token', () => {
  const vm = new VictoriaMetrics({ basicAuth: { username: 'tcs', password: 'right' } });
  const influxd = new Influxd1({ admin: { username: 'tcsadmin', password: 'right-password' } });
  const dir = mkdtempSync(join(tmpdir(), 'tcs-token-'));
  before(async () => {
    await Promise.all([vm.start(), influxd.start()]);
    await influxd.createDatabase('tcs_auth');
  });
  after(async () => {
    await Promise.all([vm.dispose(), influxd.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('v2: a 401 is logged once, counted and retried, never thrown', async () => {
    const log = new RecordingLogger();
    const sink = new InfluxSink({ url: vm.url, api: 'v2', token: staticTokenSource('wrong'), host: 'h', ...FAST_RETRY }, log);
    for (const rows of syntheticRows(8, { seriesPerWindow: 4 })) sink.write(rows);
    await waitFor(() => sink.stats().batchesRetried >= 3, 'retries after 401');
    assert.equal(sink.stats().lastErrorStatus, 401);
    assert.equal(sink.stats().written, 0);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0].obj.status, 401);
    await sink.close(50);
    assert.equal(sink.stats().dropped, 8);
  });

  it('v1: a 401 keeps the points queued; fixing the token file recovers them all', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'tcsadmin:wrong-password\n', { mode: 0o600 });
    const log = new RecordingLogger();
    const token = influxTokenSource({ tokenFile, env: {} });
    const sink = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_auth', token, host: 'h', ...FAST_RETRY }, log);
    const windows = syntheticRows(20, { seriesPerWindow: 4 });
    for (const rows of windows) sink.write(rows);
    await waitFor(() => sink.stats().batchesRetried >= 2, 'retries after 401');
    assert.equal(sink.stats().lastErrorStatus, 401);
    assert.equal((await influxd.selectAll('tcs_auth', 'traffic_prediction')).length, 0);

    writeFileSync(tokenFile, 'tcsadmin:right-password\n');
    await sink.close(10_000);
    assert.equal(sink.stats().written, 20);
    assert.equal(sink.stats().dropped, 0);
    assert.equal((await influxd.selectAll('tcs_auth', 'traffic_prediction')).length, 20);
    assert.deepEqual(
      log.lines.map((l) => l.level),
      ['warn', 'info'],
      'one line for the failure, one for the recovery',
    );
  });
});

describe('influx sink: the server rejects the data (400)', () => {
  const influxd = new Influxd1();
  before(async () => {
    await influxd.start();
    await influxd.createDatabase('tcs_conflict');
  });
  after(() => influxd.dispose());

  it('drops a batch with a field type conflict after one error line, counts it, and keeps writing later batches', async () => {
    const windows = syntheticRows(6, { seriesPerWindow: 3 });
    // Someone wrote actual_throughput as an integer first, in the same shard (1.x types fields per shard):
    // every float write of it now conflicts.
    const early = windows[0][0].windowEndNs - 1n;
    const res = await fetch(`${influxd.url}/write?db=tcs_conflict&precision=n`, { method: 'POST', body: `traffic_prediction,host=other actual_throughput=1i ${early}` });
    assert.equal(res.status, 204);
    const log = new RecordingLogger();
    const sink = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_conflict', token: staticTokenSource(undefined), host: 'h', ...FAST_RETRY }, log);
    for (const rows of windows) sink.write(rows);
    await sink.flush();
    const s = sink.stats();
    assert.equal(s.lastErrorStatus, 400);
    assert.equal(s.rejected, 6);
    assert.equal(s.batchesRetried, 0, 'a 400 is not retried');
    assert.equal(s.backlogPoints, 0);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0].level, 'error');
    assert.match(String(log.lines[0].obj.error), /field type conflict/);

    // The same sink still delivers data the server accepts.
    const other = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_conflict', measurement: 'tcs_ok', token: staticTokenSource(undefined), host: 'h' }, log);
    other.write(windows[0]);
    await other.close();
    assert.equal((await influxd.selectAll('tcs_conflict', 'tcs_ok')).length, 3);
    await sink.close();
  });
});

describe('influx sink: backlog bound', () => {
  const vm = new VictoriaMetrics();
  before(() => vm.start());
  after(() => vm.dispose());

  it('during an outage keeps at most the byte bound, drops the oldest and counts them; the newest reach the server', async () => {
    await vm.stop();
    const log = new RecordingLogger();
    const maxBacklogBytes = 16 * 1024;
    const sink = new InfluxSink({ url: vm.url, api: 'v2', token: staticTokenSource(undefined), host: 'h', maxBacklogBytes, maxBatchBytes: 4096, ...FAST_RETRY }, log);
    const windows = syntheticRows(400, { seriesPerWindow: 4 });
    for (const rows of windows) {
      sink.write(rows);
      assert.ok(sink.stats().backlogBytes <= maxBacklogBytes);
    }
    const s = sink.stats();
    assert.ok(s.dropped > 0, 'some points dropped');
    assert.equal(s.dropped + s.backlogPoints, 400);
    assert.equal(log.at('error').length, 1, 'one line for the drops');

    await vm.start();
    await sink.close(10_000);
    const final = sink.stats();
    assert.equal(final.written, 400 - s.dropped);
    const series = await vm.export('{__name__="traffic_prediction_actual_throughput"}');
    const stored = series.flatMap((x) => x.timestamps);
    assert.equal(stored.length, final.written);
    // The oldest queued went and the newest stayed. (Window 0 was already in flight when the loop ran,
    // and an in-flight batch is never dropped, so window 1 is the oldest that could go.)
    const msOf = (w: number) => Number(windows[w][0].windowEndNs / 1_000_000n);
    assert.ok(stored.includes(msOf(windows.length - 1)));
    assert.ok(!stored.includes(msOf(1)));
  });
});

/** A minimal line-protocol endpoint that behaves like a strict proxy: records requests, answers as told. */
function recordingServer(answer: (req: IncomingMessage, lines: string[]) => { status: number; headers?: Record<string, string> }) {
  const requests: { url: string; headers: IncomingMessage['headers']; lines: string[]; gzipped: boolean }[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      const gzipped = req.headers['content-encoding'] === 'gzip';
      if (gzipped) body = gunzipSync(body);
      const lines = body.toString('utf8').split('\n').filter((l) => l !== '');
      requests.push({ url: req.url ?? '', headers: req.headers, lines, gzipped });
      const a = answer(req, lines);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.status >= 300 ? JSON.stringify({ error: `status ${a.status}` }) : undefined);
    });
  });
  return { server, requests };
}

describe('influx sink: protocol details against a recording HTTP server', () => {
  it('v1 sends Basic auth, db and precision=n; gzips large bodies; splits on 413; honours 429 then delivers everything', async () => {
    let calls = 0;
    const { server, requests } = recordingServer((_req, lines) => {
      calls += 1;
      if (calls === 1) return { status: 429, headers: { 'retry-after': '0' } };
      return lines.length > 5 ? { status: 413 } : { status: 204 };
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const log = new RecordingLogger();
      const sink = new InfluxSink(
        { url: `http://127.0.0.1:${port}/proxy`, api: 'v1', bucket: 'tcs db', retentionPolicy: 'rp1', username: 'u', token: staticTokenSource('p:w'), host: 'h', gzipThresholdBytes: 100, ...FAST_RETRY },
        log,
      );
      const windows = syntheticRows(16, { seriesPerWindow: 16 });
      sink.write(windows[0]);
      await sink.close(10_000);
      assert.equal(sink.stats().written, 16);
      assert.equal(sink.stats().rejected, 0);
      const first = requests[0];
      const url = new URL(first.url, 'http://x');
      assert.equal(url.pathname, '/proxy/write');
      assert.equal(url.searchParams.get('db'), 'tcs db');
      assert.equal(url.searchParams.get('rp'), 'rp1');
      assert.equal(url.searchParams.get('precision'), 'n');
      assert.equal(first.headers.authorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`);
      assert.ok(first.gzipped, 'large body gzipped');
      const delivered = requests.filter((_, i) => i > 0).flatMap((r) => (r.lines.length <= 5 ? r.lines : []));
      assert.equal(new Set(delivered).size, 16);
      assert.ok(log.lines.some((l) => l.msg.includes('splitting')));
    } finally {
      server.close();
    }
  });

  it('v2 sends the token, org, bucket and precision=ns', async () => {
    const { server, requests } = recordingServer(() => ({ status: 204 }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const sink = new InfluxSink({ url: `http://127.0.0.1:${port}`, api: 'v2', org: 'my org', bucket: 'b', token: staticTokenSource('sekrit'), host: 'h' }, new RecordingLogger());
      sink.write(syntheticRows(1)[0]);
      await sink.close();
      const url = new URL(requests[0].url, 'http://x');
      assert.equal(url.pathname, '/api/v2/write');
      assert.equal(url.searchParams.get('org'), 'my org');
      assert.equal(url.searchParams.get('bucket'), 'b');
      assert.equal(url.searchParams.get('precision'), 'ns');
      assert.equal(requests[0].headers.authorization, 'Token sekrit');
    } finally {
      server.close();
    }
  });
});
