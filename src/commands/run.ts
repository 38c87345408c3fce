// `tcpcast run`: live capture on real interfaces through the whole pipeline (forecast -> CSV / InfluxDB / dashboard).
import { Command, Option } from 'commander';
import { addPipelineOptions, applyConfigFile, parsePositiveInt } from '../daemon/options';
// The daemon (onnxruntime, influx client, dashboard) loads only when this command runs: other commands start lean.
import type { DaemonOptions } from '../daemon/daemon';
import { addInfluxOptions } from '../sinks/influx-options';
import { addDecapOptions } from '../capture/options';

interface RunOptions extends DaemonOptions {
  interface: string[];
  snaplen?: number;
  bufferSize?: number;
  promisc: boolean;
  netns?: string;
  decap: boolean;
  vxlanPorts?: number[];
}

const DEFAULT_INTERFACES = ['any'];

/** Repeated -i adds to the list; a comma list (handy in the environment or a config file) splits. */
function collectInterfaces(value: string, previous: string[]): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  return previous === DEFAULT_INTERFACES ? names : [...previous, ...names];
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('capture live traffic, forecast next-window throughput, write CSV / InfluxDB / dashboard (needs CAP_NET_RAW, e.g. sudo)')
    .argument('[bpf...]', 'capture filter as tcpdump takes it (default: not (net 127.0.0.0/8 or ip6 host ::1))')
    .addOption(
      // Not variadic: the trailing words are the BPF filter, as in `tcpdump -i eth0 tcp port 80`.
      new Option('-i, --interface <name>', 'interface to capture on; repeat for several ("any": all, one series per interface)')
        .env('TCPCAST_INTERFACE')
        .default(DEFAULT_INTERFACES)
        .argParser(collectInterfaces),
    )
    .addOption(new Option('-s, --snaplen <bytes>', 'bytes captured per packet (headers only by default)').env('TCPCAST_SNAPLEN').argParser(parsePositiveInt('--snaplen')))
    .addOption(new Option('-B, --buffer-size <KiB>', 'kernel capture buffer per interface, KiB (as tcpdump -B)').env('TCPCAST_BUFFER_SIZE').argParser(parsePositiveInt('--buffer-size')))
    .addOption(new Option('--no-promisc', 'do not put interfaces in promiscuous mode'))
    .addOption(
      // The dashboard, metrics and InfluxDB connection stay in our namespace; only the capture handles go there.
      new Option('--netns <name>', 'open the interfaces inside this network namespace (ip netns list) while the daemon stays in its own').env('TCPCAST_NETNS'),
    )
    .addOption(new Option('--user <name>', 'drop root for this user once the capture handles are open (as tcpdump -Z)').env('TCPCAST_USER'));
  addDecapOptions(cmd);
  addPipelineOptions(cmd);
  addInfluxOptions(cmd);
  cmd.action(async (bpf: string[], _opts: RunOptions, command: Command) => {
    applyConfigFile(command);
    const opts = command.opts<RunOptions>();
    process.exitCode = await (await import('../daemon/daemon')).runDaemon(
      {
        mode: 'live',
        capture: {
          interfaces: opts.interface,
          bpf: bpf.length > 0 ? bpf : undefined,
          snaplen: opts.snaplen,
          bufferKib: opts.bufferSize,
          promisc: opts.promisc,
          netns: opts.netns,
          decap: opts.decap,
          vxlanPorts: opts.vxlanPorts,
        },
      },
      opts,
    );
  });
}
