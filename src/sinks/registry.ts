// The sink registry: every sink kind declares its flags and how it is built from them, so run/replay/demo and the daemon loop over sinks instead of wiring each by hand.
//
// A new sink (Kafka, an OTLP exporter) is one file implementing Sink (with a DeliveryQueue for the network part)
// plus one entry in SINK_KINDS below. Building is in two steps because of privileges: fromOptions() runs BEFORE
// the capture starts and before root is dropped (--user): it validates the flags, checks that outputs can be
// written and reads secrets (a root-only 0600 token file stays usable), so a bad output fails fast with
// ERR_OUTPUT and no capture to stop. The daemon calls the factory it returns before the drop too, so files
// are opened as root and kept open (tcpdump -Z's order): `--user nobody` works from a root-owned directory.
import type { Command } from 'commander';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Errors } from '../errors';
import { EXIT_CODES_HELP } from '../daemon/exit-codes';
import type { Sink } from './sink';
import type { SinkLogger } from './influx-config';
import { addInfluxOptions, influxConfigFromOptions, type InfluxCliOptions } from './influx-options';

export interface SinkContext {
  logger: SinkLogger;
  env?: NodeJS.ProcessEnv;
}

/** Opens the sink (before the privilege drop: the descriptor is kept). */
export type SinkFactory = () => Sink;

export interface SinkKind {
  readonly name: string;
  /** Declares this sink's flags on a command. */
  addOptions(cmd: Command): Command;
  /** Validates the flags and reads secrets now; null when this sink is off. Throws TcpcastError (ERR_OUTPUT, ERR_INVALID_OPTION). */
  fromOptions(opts: Record<string, unknown>, ctx: SinkContext): SinkFactory | null;
}

/**
 * Throws ERR_OUTPUT unless `path` can be appended to: an existing writable file (or device), or a new name in an
 * existing writable directory. Checked before a capture starts so a typo fails in milliseconds, not after setup.
 */
export function checkWritableOutput(path: string, what: string): void {
  const abs = resolve(path);
  try {
    const st = statSync(abs);
    if (st.isDirectory()) throw Errors.output(`${what} ${path} is a directory`);
    accessSync(abs, constants.W_OK);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      if ((err as { name?: string }).name === 'TcpcastError') throw err;
      throw Errors.output(`cannot write ${what} ${path}: ${(err as Error).message}`);
    }
  }
  const dir = dirname(abs);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw Errors.output(`cannot create ${what} ${path}: directory ${dir}: ${(err as Error).message}`);
  }
}

/** --csv PATH (declared with the pipeline flags in src/daemon/options.ts, which `windows` shares the meaning of). */
export const csvSinkKind: SinkKind = {
  name: 'csv',
  addOptions: (cmd) => cmd,
  fromOptions(opts, ctx) {
    if (typeof opts.csv !== 'string' || opts.csv === '') return null;
    // Absolute: reopen (SIGHUP) must find the same file after the daemon changed directory (--user).
    const path = resolve(opts.csv);
    checkWritableOutput(path, 'CSV output');
    return () => {
      // Loaded on use: the CSV writer pulls in csv-stringify.
      const { CsvSink } = require('./csv') as typeof import('./csv');
      return new CsvSink(path, { logger: ctx.logger });
    };
  },
};

/** --influx-url and friends (src/sinks/influx-options.ts). */
export const influxSinkKind: SinkKind = {
  name: 'influx',
  addOptions: addInfluxOptions,
  fromOptions(opts, ctx) {
    let cfg;
    try {
      cfg = influxConfigFromOptions(opts as InfluxCliOptions, ctx.env ?? process.env, (msg) => ctx.logger.warn({ sink: 'influx' }, msg));
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.name === 'TcpcastError') throw e;
      throw Errors.invalidOption(e.message);
    }
    if (!cfg) return null;
    const config = cfg;
    return () => {
      // Loaded on first use: every command declares these flags, few write to InfluxDB (the client is ~5 MB).
      const { InfluxSink } = require('./influx') as typeof import('./influx');
      return new InfluxSink(config, ctx.logger);
    };
  },
};

/** Every sink the daemon can write to, in the order they receive rows. The dashboard is a server, wired apart. */
export const SINK_KINDS: readonly SinkKind[] = [csvSinkKind, influxSinkKind];

/** Declares every sink's flags (run, replay, demo), and the exit codes that report whether the sinks got every row. */
export function addSinkOptions(cmd: Command): Command {
  for (const kind of SINK_KINDS) kind.addOptions(cmd);
  return cmd.addHelpText('after', EXIT_CODES_HELP);
}

/** Validates every sink's flags (before capture); returns the factories of the sinks that are on. */
export function prepareSinks(opts: Record<string, unknown>, ctx: SinkContext): Array<{ name: string; open: SinkFactory }> {
  const out: Array<{ name: string; open: SinkFactory }> = [];
  for (const kind of SINK_KINDS) {
    const open = kind.fromOptions(opts, ctx);
    if (open) out.push({ name: kind.name, open });
  }
  return out;
}
