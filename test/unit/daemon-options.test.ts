// Option precedence for run/replay: command line over TCPCAST_* environment over config file over defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addPipelineOptions, applyConfigFile, parseListenAddress } from '../../src/daemon/options';
import { addCaptureOptions } from '../../src/options';

function parse(argv: string[], env: Record<string, string> = {}): Command {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = addPipelineOptions(addCaptureOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }), {}));
    cmd.parse(argv, { from: 'user' });
    applyConfigFile(cmd);
    return cmd;
  } finally {
    process.env = saved;
  }
}

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tcpcast-config-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

test('defaults apply when nothing else is given', () => {
  const o = parse([]).opts();
  assert.equal(o.windowMs, 50);
  assert.equal(o.topK, 20);
  assert.equal(o.csv, 'tcpcast-windows.csv');
  assert.equal(o.dashboard, '127.0.0.1:8080');
});

test('config file overrides defaults; environment overrides the file; flags override both', () => {
  const file = configFile('window-ms: 100\ntop-k: 5\ncsv: /tmp/from-file.csv\n');
  const fromFile = parse(['--config', file]).opts();
  assert.equal(fromFile.windowMs, 100);
  assert.equal(fromFile.topK, 5);
  assert.equal(fromFile.csv, '/tmp/from-file.csv');

  const fromEnv = parse(['--config', file], { TCPCAST_WINDOW_MS: '200' }).opts();
  assert.equal(fromEnv.windowMs, 200);
  assert.equal(fromEnv.topK, 5);

  const fromFlag = parse(['--config', file, '--window-ms', '25'], { TCPCAST_WINDOW_MS: '200' }).opts();
  assert.equal(fromFlag.windowMs, 25);
});

test('the config file is validated like the command line', () => {
  assert.throws(() => parse(['--config', configFile('window-ms: -3\n')]), /window-ms must be a positive integer/);
  assert.throws(() => parse(['--config', configFile('windw-ms: 3\n')]), /unknown option "windw-ms"/);
  assert.throws(() => parse(['--config', configFile('log-level: loud\n')]), /log-level must be one of/);
  assert.throws(() => parse(['--config', '/nonexistent/tcpcast.yaml']), /cannot read config file \/nonexistent\/tcpcast.yaml/);
});

test('bad flag values are rejected with the flag named', () => {
  assert.throws(() => parse(['--window-ms', 'abc']), /--window-ms must be a positive integer, got "abc"/);
});

test('listen addresses default to loopback', () => {
  assert.deepEqual(parseListenAddress('9464', '--metrics'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('0.0.0.0:80', '--metrics'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListenAddress('[::1]:8080', '--metrics'), { host: '::1', port: 8080 });
  assert.throws(() => parseListenAddress('localhost', '--metrics'), /--metrics expects ADDR:PORT/);
});
