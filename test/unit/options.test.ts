// The shared options vocabulary (src/options.ts): parsers, listen addresses, one set of capture flags for run/replay/windows, one error class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { buildProgram } from '../../src/cli';
import { TcpcastError } from '../../src/errors';
import { ForecastError } from '../../src/forecast';
import {
  DEFAULT_TOP_K,
  DEFAULT_WINDOW_MS,
  parseListenAddress,
  parseNonNegativeInt,
  parsePositiveInt,
  parsePositiveNumber,
  parseSpeed,
} from '../../src/options';
import { ENGINE_DEFAULT_WINDOW_MS } from '../../src/forecast/spec';
import { influxConfigFromOptions } from '../../src/sinks/influx-options';

test('number parsers accept what they name and refuse the rest with the flag in the message', () => {
  assert.equal(parsePositiveInt('--n')('7'), 7);
  assert.equal(parseNonNegativeInt('--n')('0'), 0);
  assert.equal(parsePositiveNumber('--n')('0.5'), 0.5);
  for (const [parse, bad] of [
    [parsePositiveInt('--n'), ['0', '-1', '1.5', 'x', '']],
    [parseNonNegativeInt('--n'), ['-1', '2.5', 'x', '']],
    [parsePositiveNumber('--n'), ['0', '-0.1', 'Infinity', 'x', '']],
  ] as const) {
    for (const b of bad) assert.throws(() => parse(b), (e: unknown) => e instanceof InvalidArgumentError && /--n must be/.test((e as Error).message), b);
  }
  assert.equal(parseSpeed('max'), 0);
  assert.equal(parseSpeed('0'), 0);
  assert.equal(parseSpeed('realtime'), 1);
  assert.equal(parseSpeed('2.5'), 2.5);
  assert.throws(() => parseSpeed('fast'), /--speed expects/);
});

test('one listen-address parser for --dashboard and --metrics, errors coded ERR_INVALID_OPTION', () => {
  assert.deepEqual(parseListenAddress('9464', '--metrics'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress(':80', '--metrics'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(parseListenAddress('[::1]:8080', '--metrics'), { host: '::1', port: 8080 });
  assert.deepEqual(parseListenAddress(true, '--dashboard', 8080), { host: '127.0.0.1', port: 8080 });
  for (const bad of ['localhost', '::1:80', '[10.0.0.1]:80', 'h:99999', 'h:x']) {
    assert.throws(() => parseListenAddress(bad, '--metrics'), (e: unknown) => e instanceof TcpcastError && e.code === 'ERR_INVALID_OPTION' && /--metrics expects/.test(e.message), bad);
  }
  assert.throws(() => parseListenAddress(true, '--metrics'), /missing port/);
});

test('run, replay and windows spell, default and validate the capture flags alike', () => {
  const program = buildProgram();
  const byName = new Map(program.commands.map((c) => [c.name(), c]));
  const shared = ['--window-ms', '--top-k', '--max-flows'];
  for (const name of ['run', 'replay', 'windows', 'demo']) {
    const cmd = byName.get(name)!;
    for (const flag of shared) {
      const opt = cmd.options.find((o) => o.long === flag);
      assert.ok(opt, `${name} has ${flag}`);
      assert.equal(opt.envVar, `TCPCAST_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`, `${name} ${flag} env`);
    }
    assert.equal(cmd.options.find((o) => o.long === '--window-ms')!.defaultValue, DEFAULT_WINDOW_MS);
    assert.equal(cmd.options.find((o) => o.long === '--top-k')!.defaultValue, DEFAULT_TOP_K);
  }
  for (const name of ['run', 'windows']) {
    for (const flag of ['--interface', '--snaplen', '--buffer-size', '--no-promisc', '--netns']) {
      assert.ok(byName.get(name)!.options.some((o) => o.long === flag), `${name} has ${flag}`);
    }
  }
  for (const name of ['replay', 'windows']) assert.ok(byName.get(name)!.options.some((o) => o.long === '--speed'), `${name} has --speed`);
  // The forecaster's idea of the engine's window is the capture default, not a second literal.
  assert.equal(ENGINE_DEFAULT_WINDOW_MS, DEFAULT_WINDOW_MS);
});

test('one error class: forecast and influx configuration errors are TcpcastErrors with codes', () => {
  const f = new ForecastError('TCM_MODEL_MISSING', 'gone');
  assert.ok(f instanceof TcpcastError);
  assert.equal(f.code, 'TCM_MODEL_MISSING');
  assert.throws(
    () => influxConfigFromOptions({ influxUrl: 'ftp://x' } as never, {}),
    (e: unknown) => e instanceof TcpcastError && e.code === 'ERR_INVALID_OPTION' && /only http and https/.test((e as Error).message),
  );
});
