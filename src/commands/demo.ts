// `tcpcast demo` (npm run demo): the whole system in one command: real TCP over a lab link that follows a cellular trace, captured, forecast and shown live on the dashboard.
//
// Layout: the lab topology (src/lab: sender, emulator and receiver namespaces) carries long-lived iperf3 flows;
// the daemon (runDaemon) runs in THIS process, in the root namespace, so its dashboard is where a browser can
// reach it; only its capture handle is opened inside the sender's namespace (capture option netns).
//
// Stopping: SIGINT/SIGTERM (or --duration) first stop the daemon the way `tcpcast run` stops (last window
// closed, sinks flushed: runDaemon's own signal handling), then the demo stops its flows and emulator and
// deletes its namespaces, in a finally, so an error tears down as well. A second signal makes runDaemon exit at
// once without flushing; the exit hook below still deletes the namespaces (and with them their processes).
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { addPipelineOptions, applyConfigFile } from '../daemon/options';
import { addCaptureOptions, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from '../options';
// The daemon (onnxruntime, influx client, dashboard) loads only when this command runs: other commands start lean.
import type { DaemonOptions } from '../daemon/daemon';
import { addSinkOptions } from '../sinks/registry';
import {
  CONGESTION_CONTROLS,
  type CongestionControl,
  type Topology,
  createTopology,
  destroyTopology,
  inNs,
  linkemPath,
  loadTrace,
  meanCapacityMbps,
  newTopologyId,
  removeStaleTopologies,
} from '../lab';
import { ProcessGroup, sleep, waitForOutput } from '../lab/exec';
import { DEFAULT_QUEUE_PACKETS, parseQueue } from './lab';
import { Errors } from '../errors';
import { defaultTraceDir } from './dataset';

const REPO_ROOT = resolve(__dirname, '../../..');
const DEFAULT_TRACE_NAME = 'Verizon-LTE-short.down';
/** The 15 s excerpt the repository ships; the emulator loops it, so it serves when the full trace is not beside us. */
const FIXTURE_TRACE = join(REPO_ROOT, 'test', 'fixtures', 'lab', 'Verizon-LTE-short.first15s.down');
export const DEFAULT_DEMO_CSV = 'demo-windows.csv';
const FIRST_PORT = 5201;
const READY_TIMEOUT_MS = 10_000;
/** The lab's emulator priority: with normal scheduling its frames run tens of ms late on a busy 2-core machine. */
const EMULATOR_PRIORITY = '50';
/** One iperf3 run; when it ends (or fails) the flow is started again, so flows last as long as the demo. */
const FLOW_RUN_S = 600;
const FLOW_RESTART_DELAY_MS = 500;

export interface DemoOptions extends DaemonOptions {
  trace: string;
  cc: CongestionControl;
  flows: number;
  duration?: number;
  delayMs: number;
  queue: string;
}

/** The full Verizon trace where the shared traces are (as `dataset` finds them), else the excerpt in the repo. */
export function defaultDemoTrace(): string {
  const full = join(defaultTraceDir(), DEFAULT_TRACE_NAME);
  return existsSync(full) ? full : FIXTURE_TRACE;
}

/** Keeps one long-lived flow going: a new iperf3 run whenever the last one ends, until the signal aborts. */
async function keepFlowRunning(procs: ProcessGroup, topo: Topology, port: number, cc: CongestionControl, signal: AbortSignal): Promise<void> {
  for (let run = 0; !signal.aborted; run++) {
    const client = procs.start(`iperf3 client :${port} #${run}`, ...inNsDetached(topo.snd, 'iperf3', [
      '-c', topo.rcvAddr, '-p', String(port), '-t', String(FLOW_RUN_S), '-C', cc,
    ]));
    // The teardown stops every client through the process group; that ends this wait too.
    await client.exited;
    // Old runs' output is not needed; without this a long demo would hold every line iperf3 ever printed.
    client.stdout = '';
    if (!signal.aborted) await sleep(FLOW_RESTART_DELAY_MS, signal);
  }
}

/**
 * `ip netns exec NS CMD` in a session of its own (setsid execs, so the pid stays the command's): Ctrl-C in a
 * terminal signals the whole foreground process group, and the flows and the emulator must outlive the daemon's
 * flush and stop when the teardown says so, not before.
 */
function inNsDetached(ns: string, cmd: string, args: string[]): [string, string[]] {
  const [ip, ipArgs] = inNs(ns, cmd, args);
  return ['setsid', [ip, ...ipArgs]];
}

function banner(lines: Array<[string, string]>): string {
  const width = Math.max(...lines.map(([k]) => k.length));
  const body = lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
  return `\ntcpcast demo\n${body}\n\n`;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  if (process.getuid && process.getuid() !== 0) throw Errors.needsRoot('the demo needs root (network namespaces, AF_PACKET): run it with sudo');
  const linkem = linkemPath();
  const trace = loadTrace(opts.trace);
  const queue = parseQueue(opts.queue);
  if (opts.flows < 1) throw new InvalidArgumentError('--flows must be at least 1');

  // Aborted by a signal, by --duration, or when the daemon ends on its own (a capture error): everything then stops.
  const stop = new AbortController();
  // Once the daemon is up, its own handler takes signals (first: flush and stop; second: exit now), as in `run`.
  let daemonHasSignals = false;
  const onSignal = (): void => {
    if (!daemonHasSignals) stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let topo: Topology | undefined;
  // Synchronous and idempotent: process.exit() (runDaemon's second-signal path) skips every finally.
  const onExit = (): void => {
    if (topo) destroyTopology(topo);
  };
  process.on('exit', onExit);

  removeStaleTopologies();
  const procs = new ProcessGroup();
  const keepers: Array<Promise<void>> = [];
  let durationTimer: NodeJS.Timeout | undefined;
  try {
    topo = createTopology(newTopologyId());
    const t = topo;
    const emuArgs = [
      '-f', EMULATOR_PRIORITY, linkem,
      '--if-a', t.emuSndIf, '--if-b', t.emuRcvIf,
      '--down', resolve(opts.trace),
      '--delay-ms', String(opts.delayMs),
    ];
    if (queue.bytes > 0) emuArgs.push('--queue-bytes', String(queue.bytes));
    else emuArgs.push('--queue-packets', String(queue.packets));
    const emulator = procs.start('tcpcast-linkem', ...inNsDetached(t.emu, 'chrt', emuArgs));
    await waitForOutput(emulator, /"ready":true/, READY_TIMEOUT_MS);
    const servers = [];
    for (let i = 0; i < opts.flows; i++) {
      // No -1: the server outlives each client run, so a restarted flow finds it listening.
      servers.push(procs.start(`iperf3 server :${FIRST_PORT + i}`, ...inNsDetached(t.rcv, 'iperf3', ['-s', '--forceflush', '-p', String(FIRST_PORT + i)])));
    }
    for (const server of servers) await waitForOutput(server, /Server listening/, READY_TIMEOUT_MS);
    if (stop.signal.aborted) return 0;

    const csvPath = opts.csv ? resolve(opts.csv) : undefined;
    const exitCode = await (await import('../daemon/daemon')).runDaemon(
      { mode: 'live', capture: { interfaces: [t.sndIf], netns: t.snd } },
      { ...opts, csv: csvPath ?? false },
      {
        signal: stop.signal,
        onStarted: ({ dashboardUrl }) => {
          daemonHasSignals = true;
          // Flows start once the capture is up, so their handshakes are in it and the first windows show the ramp-up.
          for (let i = 0; i < opts.flows; i++) keepers.push(keepFlowRunning(procs, t, FIRST_PORT + i, opts.cc, stop.signal));
          if (opts.duration !== undefined) durationTimer = setTimeout(() => stop.abort(), opts.duration * 1000);
          const queueText = queue.bytes > 0 ? `${queue.bytes} bytes` : queue.packets > 0 ? `${queue.packets} packets` : 'unlimited';
          process.stdout.write(banner([
            ['link', `${basename(opts.trace)} (mean ${meanCapacityMbps(trace).toFixed(1)} Mbit/s, looped), ${opts.delayMs} ms each way, queue ${queueText}`],
            ['flows', `${opts.flows} x ${opts.cc} (iperf3) ${t.sndAddr} -> ${t.rcvAddr}`],
            ['capture', `${t.sndIf} in network namespace ${t.snd}`],
            ['csv', csvPath ?? 'off'],
            ['dashboard', dashboardUrl ? `${dashboardUrl}   <- open this in a browser` : 'off'],
            ['stop', opts.duration !== undefined ? `after ${opts.duration} s, or Ctrl-C` : 'Ctrl-C (the last windows are flushed, then the lab is removed)'],
          ]));
        },
      },
    );
    daemonHasSignals = false;
    return exitCode;
  } finally {
    if (durationTimer) clearTimeout(durationTimer);
    // The daemon has flushed (or never started): now the traffic, then the namespaces.
    stop.abort();
    await procs.stopAll();
    await Promise.all(keepers);
    if (topo) destroyTopology(topo);
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (topo) process.stdout.write(`tcpcast demo: stopped; namespaces ${topo.snd}, ${topo.emu}, ${topo.rcv} removed\n`);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('everything in one command: real TCP over an emulated cellular link, captured and forecast live, dashboard on 127.0.0.1:8080 (root)')
    .option('--trace <file>', 'downlink trace, mahimahi format (default: the Verizon LTE trace)', defaultDemoTrace())
    .addOption(new Option('--cc <name>', 'congestion control of the flows').choices([...CONGESTION_CONTROLS]).default('cubic'))
    .option('--flows <n>', 'parallel long-lived TCP flows (iperf3, restarted when they end)', parsePositiveInt('--flows'), 2)
    .option('--duration <s>', 'stop after this many seconds (default: until Ctrl-C)', parsePositiveNumber('--duration'))
    .option('--delay-ms <ms>', 'one-way propagation delay each way', parseNonNegativeInt('--delay-ms'), 20)
    .option('--queue <size>', 'droptail queue per direction: packets (500) or bytes (150kB); 0 = unlimited', `${DEFAULT_QUEUE_PACKETS}`);
  addCaptureOptions(cmd, {});
  addPipelineOptions(cmd);
  addSinkOptions(cmd);
  // The demo's rows go to their own file, not into a `tcpcast run` output that may sit in the same folder.
  cmd.options.find((o) => o.long === '--csv')?.default(DEFAULT_DEMO_CSV);
  cmd.setOptionValueWithSource('csv', DEFAULT_DEMO_CSV, 'default');
  cmd.action(async (_opts: DemoOptions, command: Command) => {
    applyConfigFile(command);
    process.exitCode = await runDemo(command.opts<DemoOptions>());
  });
}
