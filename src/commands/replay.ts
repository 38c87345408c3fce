// `tcpcast replay FILE`: a capture file through the same pipeline as live capture, optionally paced by capture time.
import { Command } from 'commander';
import { addPipelineOptions, applyConfigFile } from '../daemon/options';
// The daemon (onnxruntime, influx client, dashboard) loads only when this command runs: other commands start lean.
import type { DaemonOptions } from '../daemon/daemon';
import { addSinkOptions } from '../sinks/registry';
import { addCaptureOptions, type CaptureFlags } from '../options';

interface ReplayOptions extends DaemonOptions, CaptureFlags {
  speed: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description('run a pcap/pcapng file through the live pipeline (forecast -> CSV / InfluxDB / dashboard); no root needed')
    .argument('<file>', 'pcap or pcapng file (- for stdin)')
    .argument('[bpf...]', 'capture filter as tcpdump takes it');
  addCaptureOptions(cmd, { file: true, limits: true });
  addPipelineOptions(cmd);
  addSinkOptions(cmd);
  cmd.action(async (file: string, bpf: string[], _opts: ReplayOptions, command: Command) => {
    applyConfigFile(command);
    const opts = command.opts<ReplayOptions>();
    process.exitCode = await (await import('../daemon/daemon')).runDaemon(
      { mode: 'replay', capture: { files: [file], bpf: bpf.length > 0 ? bpf : undefined, speed: opts.speed, decap: opts.decap, vxlanPorts: opts.vxlanPorts } },
      opts,
    );
  });
}
