// The --influx-* flags and token sources: parsed by a real commander program, token from env or file (never argv), re-read on rotation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { influxTokenSource, parseTokenFile } from '../../src/config/secrets';
import { addInfluxOptions, createInfluxSink, influxConfigFromOptions, type InfluxCliOptions } from '../../src/sinks/influx-options';
import { INFLUX_DEFAULTS, InfluxSink, MIB } from '../../src/sinks/influx';
import { createLogger } from '../../src/log';

function parse(args: string[]): InfluxCliOptions {
  const cmd = addInfluxOptions(new Command('run').exitOverride().configureOutput({ writeErr: () => undefined }));
  cmd.parse(args, { from: 'user' });
  return cmd.opts<InfluxCliOptions>();
}

describe('influx flags', () => {
  it('are off without --influx-url', () => {
    assert.equal(influxConfigFromOptions(parse([]), {}), null);
    assert.equal(createInfluxSink(parse([]), undefined, {}), null);
  });

  it('build a sink that logs through the daemon\'s pino logger', async () => {
    const sink = createInfluxSink(parse(['--influx-url', 'http://127.0.0.1:9']), createLogger('silent'), {});
    assert.ok(sink instanceof InfluxSink);
    await sink.close(1);
  });

  it('default to v2, bucket network_stats, measurement traffic_prediction, 64 MiB backlog', () => {
    const cfg = influxConfigFromOptions(parse(['--influx-url', 'http://127.0.0.1:8086']), {})!;
    assert.equal(cfg.api, 'v2');
    assert.equal(cfg.bucket, 'network_stats');
    assert.equal(cfg.measurement, 'traffic_prediction');
    assert.equal(cfg.maxBacklogBytes, 64 * MIB);
    assert.equal(cfg.flushTimeoutMs, INFLUX_DEFAULTS.flushTimeoutMs);
    assert.equal(cfg.token.read(), undefined);
  });

  it('take the v1 database, org, sizes and deadline', () => {
    const cfg = influxConfigFromOptions(
      parse(['--influx-url', 'http://h:8086', '--influx-api', 'v1', '--influx-bucket', 'db1', '--influx-org', 'o', '--influx-backlog-mib', '8', '--influx-batch-mib', '0.5', '--influx-flush-timeout-s', '5', '--influx-host-tag', 'probe1']),
      {},
    )!;
    assert.equal(cfg.api, 'v1');
    assert.equal(cfg.bucket, 'db1');
    assert.equal(cfg.org, 'o');
    assert.equal(cfg.maxBacklogBytes, 8 * MIB);
    assert.equal(cfg.maxBatchBytes, MIB / 2);
    assert.equal(cfg.flushTimeoutMs, 5000);
    assert.equal(cfg.host, 'probe1');
  });

  it('reject an unknown API, a non-positive size, credentials in the URL, and have no token flag', () => {
    assert.throws(() => parse(['--influx-api', 'v3']), /v3/);
    assert.throws(() => parse(['--influx-backlog-mib', '0']), /positive/);
    assert.throws(() => parse(['--influx-token', 'x']), /unknown option/);
    assert.throws(() => influxConfigFromOptions(parse(['--influx-url', 'http://u:p@h:8086']), {}), /credentials/);
    assert.throws(() => influxConfigFromOptions(parse(['--influx-url', 'ftp://h']), {}), /http/);
  });
});

describe('influx token sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcs-secrets-'));
  it('read INFLUX_TOKEN, and a token file wins over it; the file is re-read after rotation', () => {
    try {
      assert.equal(influxTokenSource({ env: { INFLUX_TOKEN: ' abc \n' } }).read(), 'abc');
      const file = join(dir, 'token');
      writeFileSync(file, 'from-file\n', { mode: 0o600 });
      const warnings: string[] = [];
      const src = influxTokenSource({ tokenFile: file, env: { INFLUX_TOKEN: 'abc' }, warn: (m) => warnings.push(m) });
      assert.equal(src.read(), 'from-file');
      assert.deepEqual(warnings, []);
      writeFileSync(file, 'rotated\n');
      assert.equal(src.read(), 'rotated');
      rmSync(file);
      assert.equal(src.read(), 'rotated', 'keeps the last good token while the file is missing');
      // $INFLUX_TOKEN_FILE (Docker secrets) is honoured when no flag is given.
      const f2 = join(dir, 'token2');
      writeFileSync(f2, 'docker-secret', { mode: 0o644 });
      const w2: string[] = [];
      assert.equal(influxTokenSource({ env: { INFLUX_TOKEN_FILE: f2 }, warn: (m) => w2.push(m) }).read(), 'docker-secret');
      assert.equal(w2.length, 1, 'warns about a world-readable token file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trim one trailing newline only; refuse whitespace inside at start; warn about the real file mode, not a symlink', () => {
    const d = mkdtempSync(join(tmpdir(), 'tcs-secrets-'));
    try {
      assert.equal(parseTokenFile('tok\n', 'f'), 'tok');
      assert.equal(parseTokenFile('tok\r\n', 'f'), 'tok');
      assert.equal(parseTokenFile('tok', 'f'), 'tok');
      assert.throws(() => parseTokenFile('tok\n\n', 'f'), /whitespace or control characters/);
      assert.throws(() => parseTokenFile('to k\n', 'f'), /whitespace/);
      const real = join(d, 'real');
      writeFileSync(real, 'secret\n', { mode: 0o600 });
      const link = join(d, 'link');
      symlinkSync(real, link);
      const warnings: string[] = [];
      assert.equal(influxTokenSource({ tokenFile: link, env: {}, warn: (m) => warnings.push(m) }).read(), 'secret');
      assert.equal(warnings.length, 0, 'a symlink (0777 itself) to a 0600 file is not "readable by others"');
      chmodSync(real, 0o644);
      influxTokenSource({ tokenFile: link, env: {}, warn: (m) => warnings.push(m) });
      assert.equal(warnings.length, 1, 'the real file is what is warned about');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('fail loudly at start for a missing or empty token file', () => {
    assert.throws(() => influxTokenSource({ tokenFile: '/nonexistent/tcs-token', env: {} }), /ENOENT/);
    const d = mkdtempSync(join(tmpdir(), 'tcs-secrets-'));
    try {
      writeFileSync(join(d, 'empty'), '\n');
      assert.throws(() => influxTokenSource({ tokenFile: join(d, 'empty'), env: {} }), /empty/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('influx flags from the environment', () => {
  it('take TCPCAST_INFLUX_* values, and a flag wins over its variable', () => {
    const saved = { ...process.env };
    try {
      process.env.TCPCAST_INFLUX_URL = 'http://127.0.0.1:9999';
      process.env.TCPCAST_INFLUX_API = 'v1';
      process.env.TCPCAST_INFLUX_BACKLOG_MIB = '4';
      const cfg = influxConfigFromOptions(parse(['--influx-api', 'v2']), {})!;
      assert.equal(cfg.url, 'http://127.0.0.1:9999');
      assert.equal(cfg.api, 'v2');
      assert.equal(cfg.maxBacklogBytes, 4 * MIB);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });
});

describe('--influx-tag (global tags, as Telegraf global_tags)', () => {
  it('adds key=value tags to every point, repeatable and comma-separated, and refuses bad or reserved keys', async () => {
    const { rowToLineProtocol } = await import('../../src/sinks/influx-schema');
    const { WINDOW_VALUE_COLUMNS } = await import('../../src/features');
    const cfg = influxConfigFromOptions(parse(['--influx-url', 'http://127.0.0.1:1', '--influx-tag', 'site=ams 1', '--influx-tag', 'region=eu,rack=r7']), {})!;
    assert.deepEqual(cfg.globalTags, { site: 'ams 1', region: 'eu', rack: 'r7' });
    const values = Object.fromEntries(WINDOW_VALUE_COLUMNS.map((c) => [c, 1])) as never;
    const line = rowToLineProtocol({ windowEndNs: 1n, iface: 'eth0', series: 'all', values, predictedThroughput: null }, 'm', 'h', cfg.globalTags)!;
    assert.match(line, /^m,host=h,iface=eth0,rack=r7,region=eu,series=all,site=ams\\ 1 /);
    assert.throws(() => parse(['--influx-tag', 'noequals']), /key=value/);
    assert.throws(() => parse(['--influx-tag', 'iface=x']), /set by tcpcast itself/);
    assert.deepEqual(influxConfigFromOptions(parse(['--influx-url', 'http://127.0.0.1:1']), {})!.globalTags, {});
  });
});
