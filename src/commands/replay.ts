// `tcpcast replay FILE`: a capture file through the same pipeline as live capture, optionally paced by capture time.
import { Command, InvalidArgumentError, Option } from 'commander';
import { addPipelineOptions, applyConfigFile } from '../daemon/options';
// The daemon (onnxruntime, influx client, dashboard) loads only when this command runs: other commands start lean.
import type { DaemonOptions } from '../daemon/daemon';
import { addInfluxOptions } from '../sinks/influx-options';
import { addDecapOptions } from '../capture/options';

interface ReplayOptions extends DaemonOptions {
  speed: number;
  decap: boolean;
  vxlanPorts?: number[];
}

/** max = as fast as the pipeline takes it (0), realtime = 1, N = N times real time. */
export function parseSpeed(value: string): number {
  if (value === 'max') return 0;
  if (value === 'realtime') return 1;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--speed expects max, realtime or a positive number, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description('run a pcap/pcapng file through the live pipeline (forecast -> CSV / InfluxDB / dashboard); no root needed')
    .argument('<file>', 'pcap or pcapng file (- for stdin)')
    .argument('[bpf...]', 'capture filter as tcpdump takes it')
    .addOption(new Option('--speed <speed>', 'max, realtime, or a factor of real time').env('TCPCAST_SPEED').default(0, 'max').argParser(parseSpeed));
  addDecapOptions(cmd);
  addPipelineOptions(cmd);
  addInfluxOptions(cmd);
  cmd.action(async (file: string, bpf: string[], _opts: ReplayOptions, command: Command) => {
    applyConfigFile(command);
    const opts = command.opts<ReplayOptions>();
    process.exitCode = await (await import('../daemon/daemon')).runDaemon(
      { mode: 'replay', capture: { files: [file], bpf: bpf.length > 0 ? bpf : undefined, speed: opts.speed, decap: opts.decap, vxlanPorts: opts.vxlanPorts } },
      opts,
    );
  });
}
