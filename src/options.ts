// The options vocabulary every command shares: number and listen-address parsers, DEFAULT_* values, and the capture flags of run, replay and windows.
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_MAX_FLOWS,
  DEFAULT_TOP_K,
  DEFAULT_WINDOW_MS,
  addDecapOptions,
  type CaptureOptions,
} from './capture/options';
import { Errors } from './errors';

// Capture defaults are policy of the capture layer (src/capture/options.ts); re-exported so commands import one place.
export {
  DEFAULT_BUFFER_KIB,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LIVE_BPF,
  DEFAULT_MAX_FLOWS,
  DEFAULT_SNAPLEN,
  DEFAULT_TOP_K,
  DEFAULT_WINDOW_MS,
} from './capture/options';

/** Pipeline defaults (run, replay, demo). */
export const DEFAULT_CSV_PATH = 'tcpcast-windows.csv';
/** What happens to an existing --csv file (src/daemon/csv-output.ts). */
export const CSV_MODES = ['append', 'new', 'rotate'] as const;
export type CsvMode = (typeof CSV_MODES)[number];
/** Appending keeps a daemon's rows across restarts; it is logged, and a file with other columns is refused. */
export const DEFAULT_CSV_MODE: CsvMode = 'append';
export const DEFAULT_WORKERS = 1;
export const DEFAULT_STATS_INTERVAL_S = 5;
export const DEFAULT_SHUTDOWN_TIMEOUT_S = 20;
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_DASHBOARD_PORT = 8080;
export const DEFAULT_DASHBOARD_LISTEN = `${DEFAULT_LISTEN_HOST}:${DEFAULT_DASHBOARD_PORT}`;

// Parsers throw commander's InvalidArgumentError: commander then names the flag and exits 1 with one line.

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function parseNonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

export function parsePositiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

export function parseNonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got "${value}"`);
    return n;
  };
}

/** File replay pacing: max (or 0) = as fast as the pipeline takes it, realtime = 1, N = N times real time. */
export function parseSpeed(value: string): number {
  if (value === 'max') return 0;
  if (value === 'realtime') return 1;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--speed expects max, realtime or a positive number, got "${value}"`);
  return n;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * ADDR:PORT, PORT, :PORT or [IPv6]:PORT for every server flag (--dashboard, --metrics). The host defaults to
 * loopback: a server that shows the machine's traffic must not be reachable from the network unless asked for.
 * An IPv6 address needs brackets, since "::1:8080" could be read two ways. `true` (a bare flag) or an empty
 * value takes `defaultPort` when the flag has one.
 */
export function parseListenAddress(value: string | true | undefined, flag: string, defaultPort?: number): ListenAddress {
  const bad = (why: string) => Errors.invalidOption(`${flag} expects ADDR:PORT, PORT or [IPv6]:PORT (${why}), got "${value}"`);
  if (value === true || value === undefined || value === '') {
    if (defaultPort === undefined) throw bad('missing port');
    return { host: DEFAULT_LISTEN_HOST, port: defaultPort };
  }
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (!host.includes(':')) throw bad('brackets are for IPv6 addresses');
  } else if (/^\d+$/.test(value)) {
    host = DEFAULT_LISTEN_HOST;
    portText = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw bad('missing port');
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) throw bad('put an IPv6 address in brackets');
    if (host === '') host = DEFAULT_LISTEN_HOST;
  }
  if (!/^\d+$/.test(portText)) throw bad('port is not a number');
  const port = Number(portText);
  if (port > 65535) throw bad('port out of range');
  if (host === '' || /[\s/]/.test(host)) throw bad('bad host');
  return { host, port };
}

/** Repeated -i adds to the list; a comma list (handy in the environment or a config file) splits. */
function interfaceCollector(defaults: string[]) {
  return (value: string, previous: string[]): string[] => {
    const names = value.split(',').map((s) => s.trim()).filter(Boolean);
    return previous === defaults ? names : [...previous, ...names];
  };
}

export interface CaptureFlagSet {
  /** Live flags (-i, -s, -B, --no-promisc, --netns); `defaultInterfaces` is what -i means when not given. */
  live?: { defaultInterfaces: string[] };
  /** File flags (--speed). */
  file?: boolean;
  /** -c COUNT and --duration S (stop conditions, as tcpdump -c and tshark -a duration:S). */
  limits?: boolean;
}

/** What addCaptureOptions gives back through commander's opts(). */
export interface CaptureFlags {
  windowMs: number;
  topK: number;
  maxFlows: number;
  interface?: string[];
  snaplen?: number;
  bufferSize?: number;
  promisc?: boolean;
  netns?: string;
  speed?: number;
  count?: number;
  duration?: number;
  /** --no-decap sets false; tunnels are followed by default. */
  decap?: boolean;
  vxlanPorts?: number[];
}

/**
 * The capture flags of run, replay and windows, declared once so the three commands spell, default and validate
 * them alike, each with its TCPCAST_* environment variable (and config-file key, where the command reads one).
 */
export function addCaptureOptions(cmd: Command, set: CaptureFlagSet): Command {
  if (set.live) {
    const defaults = set.live.defaultInterfaces;
    cmd
      .addOption(
        // Not variadic: the trailing words are the BPF filter, as in `tcpdump -i eth0 tcp port 80`.
        new Option('-i, --interface <name>', 'interface to capture on; repeat for several ("any": all, one series per interface)')
          .env('TCPCAST_INTERFACE')
          .default(defaults)
          .argParser(interfaceCollector(defaults)),
      )
      .addOption(new Option('-s, --snaplen <bytes>', 'bytes captured per packet (headers only by default)').env('TCPCAST_SNAPLEN').argParser(parsePositiveInt('--snaplen')))
      .addOption(new Option('-B, --buffer-size <KiB>', 'kernel capture buffer per interface, KiB (as tcpdump -B)').env('TCPCAST_BUFFER_SIZE').argParser(parsePositiveInt('--buffer-size')))
      .addOption(new Option('--no-promisc', 'do not put interfaces in promiscuous mode'))
      .addOption(
        // The dashboard, metrics and sinks stay in our namespace; only the capture handles go there.
        new Option('--netns <name>', 'open the interfaces inside this network namespace (ip netns list) while tcpcast stays in its own').env('TCPCAST_NETNS'),
      );
  }
  if (set.file) {
    cmd.addOption(new Option('--speed <speed>', 'file pacing: max, realtime, or a factor of real time').env('TCPCAST_SPEED').default(0, 'max').argParser(parseSpeed));
  }
  if (set.limits) {
    cmd
      .addOption(new Option('-c, --count <n>', 'stop after about N packets (as tcpdump -c)').env('TCPCAST_COUNT').argParser(parsePositiveInt('--count')))
      .addOption(new Option('--duration <s>', 'stop after this many seconds (default: until the end of the input, or SIGINT/SIGTERM)').env('TCPCAST_DURATION').argParser(parsePositiveNumber('--duration')));
  }
  addDecapOptions(cmd);
  return cmd
    .addOption(new Option('--window-ms <ms>', 'window length in milliseconds').env('TCPCAST_WINDOW_MS').default(DEFAULT_WINDOW_MS).argParser(parsePositiveInt('--window-ms')))
    .addOption(
      new Option('--top-k <n>', 'per-connection series for the K busiest connections (0: the link aggregate only)')
        .env('TCPCAST_TOP_K')
        .default(DEFAULT_TOP_K)
        .argParser(parseNonNegativeInt('--top-k')),
    )
    .addOption(
      new Option('--max-flows <n>', 'flow table bound (new flows beyond it are counted, not tracked)').env('TCPCAST_MAX_FLOWS').default(DEFAULT_MAX_FLOWS).argParser(parsePositiveInt('--max-flows')),
    );
}

/** The CaptureOptions the capture flags describe (sources and filter come from the command's arguments). */
export function captureOptionsFromFlags(flags: CaptureFlags): Omit<CaptureOptions, 'files' | 'interfaces' | 'bpf'> {
  return {
    windowMs: flags.windowMs,
    topK: flags.topK,
    maxFlows: flags.maxFlows,
    snaplen: flags.snaplen,
    bufferKib: flags.bufferSize,
    promisc: flags.promisc,
    netns: flags.netns,
    speed: flags.speed,
    decap: flags.decap,
    vxlanPorts: flags.vxlanPorts,
  };
}
