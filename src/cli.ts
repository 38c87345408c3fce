// The tcpcast command line: every module in ./commands registers one subcommand on a shared commander program.
import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface CommandModule {
  register(program: Command): void;
}

export function buildProgram(): Command {
  const program = new Command('tcpcast')
    .description('Forecast TCP throughput on live links (libpcap capture, per-flow RTT and bytes in flight, LSTM forecasts)')
    .option('-V, --version', 'print the versions of tcpcast, libpcap, onnxruntime and Node, then exit')
    .configureOutput({ outputError: (str, write) => write(str.trimEnd() + '\n') });
  // Not commander's .version(): the libpcap line needs the addon, which only --version should pay for.
  program.on('option:version', () => {
    process.stdout.write(versionText());
    process.exit(0);
  });
  // Commands live one per file so each area owns its flags; loading them by directory keeps this file stable.
  const dir = join(__dirname, 'commands');
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.js')) continue;
    const mod = require(join(dir, file)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

/** What a bug report needs (tcpdump --version prints its libpcap the same way). */
export function versionText(): string {
  const v = (require('./versions') as typeof import('./versions')).versionLabels();
  return [
    `tcpcast ${v.version}`,
    `libpcap version ${v.libpcap}`,
    `onnxruntime-node ${v.onnxruntime}`,
    `Node.js ${v.node} (V8 ${process.versions.v8}, N-API ${process.versions.napi}) on ${process.platform}-${process.arch}`,
  ].join('\n') + '\n';
}

/** Runs the CLI; errors become one line on stderr and a non-zero exit, never a stack dump. */
export function main(argv: string[] = process.argv): Promise<void> {
  return buildProgram()
    .parseAsync(argv)
    .then(() => undefined)
    .catch((err: unknown) => {
      const e = err as Error & { code?: string };
      process.stderr.write(`tcpcast: ${e.message}${e.code ? ` (${e.code})` : ''}\n`);
      if (process.env.TCPCAST_DEBUG) process.stderr.write(`${e.stack}\n`);
      process.exitCode = process.exitCode || 1;
    });
}

if (require.main === module) void main();
