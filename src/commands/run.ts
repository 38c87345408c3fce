// `tcpcast run`: live capture on real interfaces through the whole pipeline (forecast -> CSV / InfluxDB / dashboard).
import { Command, Option } from 'commander';
import { addPipelineOptions, applyConfigFile } from '../daemon/options';
// The daemon (onnxruntime, influx client, dashboard) loads only when this command runs: other commands start lean.
import type { DaemonOptions } from '../daemon/daemon';
import { addSinkOptions } from '../sinks/registry';
import { Errors } from '../errors';
import { addCaptureOptions, captureOptionsFromFlags, type CaptureFlags } from '../options';

interface RunOptions extends DaemonOptions, CaptureFlags {
  interface: string[];
  read?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('capture live traffic, forecast next-window throughput, write CSV / InfluxDB / dashboard (needs CAP_NET_RAW, e.g. sudo)')
    .argument('[bpf...]', 'capture filter as tcpdump takes it (default: not (net 127.0.0.0/8 or ip6 host ::1))');
  addCaptureOptions(cmd, { live: { defaultInterfaces: ['any'] }, limits: true });
  cmd
    .addOption(new Option('-r, --read <file>', 'read packets from a pcap/pcapng file (- for stdin) instead of interfaces, as fast as possible (= tcpcast replay FILE)'))
    .addOption(new Option('--user <name>', 'drop root for this user once the capture handles are open (as tcpdump -Z)').env('TCPCAST_USER'));
  addPipelineOptions(cmd);
  addSinkOptions(cmd);
  cmd.action(async (bpf: string[], _opts: RunOptions, command: Command) => {
    applyConfigFile(command);
    const opts = command.opts<RunOptions>();
    // Only an address the user asked for makes a busy dashboard port fatal (the default one is a convenience).
    opts.dashboardRequired = opts.dashboard !== false && command.getOptionValueSource('dashboard') !== 'default';
    const filter = bpf.length > 0 ? bpf : undefined;
    if (opts.read !== undefined) {
      // tcpdump's -r: the file replaces the interfaces; an explicit -i with it is a contradiction, not a preference.
      if (command.getOptionValueSource('interface') === 'cli') throw Errors.invalidOption('give -r FILE or -i INTERFACE, not both');
      process.exitCode = await (await import('../daemon/daemon')).runDaemon({ mode: 'replay', capture: { files: [opts.read], bpf: filter, speed: 0, decap: opts.decap, vxlanPorts: opts.vxlanPorts } }, opts);
      return;
    }
    const { windowMs: _w, topK: _k, maxFlows: _m, speed: _s, ...source } = captureOptionsFromFlags(opts);
    process.exitCode = await (await import('../daemon/daemon')).runDaemon({ mode: 'live', capture: { ...source, interfaces: opts.interface, bpf: filter } }, opts);
  });
}
