// One lab session: topology, emulator, iperf3 flows and a sender-side capture, then meta.json — and no leftovers, ever.
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProcessGroup, Tracked, run, sleep, toolVersion, waitForOutput } from './exec';
import { Topology, createTopology, destroyTopology, inNs, newTopologyId, removeStaleTopologies } from './netns';
import { loadTrace, meanCapacityMbps, sessionName } from './trace';
import { dataSegmentSizes, handshakeRttsNs, readTcpPackets } from './pcap';
import { seededRandom } from '../random';
import { Errors } from '../errors';

export const CONGESTION_CONTROLS = ['cubic', 'bbr', 'reno'] as const;
export type CongestionControl = (typeof CONGESTION_CONTROLS)[number];

export interface LabOptions {
  trace: string;
  uplink?: string;
  delayMs: number;
  /** Droptail limit per direction: packets, or bytes when queueBytes is set. 0 = unlimited. */
  queuePackets: number;
  queueBytes: number;
  cc: CongestionControl;
  flows: number;
  durationS: number;
  outDir: string;
  seed: number;
  /** Where in the trace the session starts; default: derived from the seed (seed 0: the beginning, and flows start together). */
  offsetMs?: number;
  /** Also write the emulator's mahimahi-format log of the down link (large: ~3 lines per packet). */
  emulatorLog?: boolean;
  /** Turn the capture into windows.csv with the engine's `windows` command when it is available. */
  windows?: boolean;
  /** Seconds after the last client's -t that iperf3 gets to finish (default CLIENT_GRACE_S). */
  clientGraceS?: number;
  signal?: AbortSignal;
  onProgress?: (elapsedS: number) => void;
}

export interface LabResult {
  name: string;
  outDir: string;
  meta: Record<string, unknown>;
}

const FIRST_PORT = 5201;
const EMULATOR_PRIORITY = '50';
const READY_TIMEOUT_MS = 10_000;
// iperf3 needs a moment after its -t for the results exchange on the control connection.
export const CLIENT_GRACE_S = 20;
const MAX_START_STAGGER_MS = 1000;

export { seededRandom };

/** The emulator binary: the gyp build, else a standalone build, else $TCPCAST_LINKEM. */
export function linkemPath(): string {
  const root = resolve(__dirname, '../../..');
  const candidates = [process.env.TCPCAST_LINKEM, join(root, 'build/Release/tcpcast-linkem'), join(root, 'build-native/tcpcast-linkem')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw Errors.lab('tcpcast-linkem not built: run `npm run build:native` (or set TCPCAST_LINKEM)');
}

export class LabAborted extends Error {
  constructor() {
    super('lab session interrupted');
    this.name = 'LabAborted';
  }
}

export async function runLabSession(opts: LabOptions): Promise<LabResult> {
  if (process.getuid && process.getuid() !== 0) throw Errors.needsRoot('the lab needs root (network namespaces, AF_PACKET): run with sudo');
  const linkem = linkemPath();
  const trace = loadTrace(opts.trace);
  if (opts.uplink) loadTrace(opts.uplink);
  const name = sessionName(opts.trace, opts.cc, opts.delayMs);
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  // A rerun replaces the session: stale meta.json must never vouch for new, partial files.
  rmSync(join(outDir, 'meta.json'), { force: true });
  const random = seededRandom(opts.seed);
  const offsetMs = opts.offsetMs ?? (opts.seed === 0 ? 0 : Math.floor(random() * trace.periodMs));
  const staggersMs = Array.from({ length: opts.flows }, (_, i) => (i === 0 || opts.seed === 0 ? 0 : Math.floor(random() * MAX_START_STAGGER_MS)));

  removeStaleTopologies();
  const procs = new ProcessGroup();
  let topo: Topology | undefined;
  const aborted = () => opts.signal?.aborted === true;
  try {
    if (aborted()) throw new LabAborted();
    topo = createTopology(newTopologyId());

    const statsPath = join(outDir, 'linkem-stats.json');
    rmSync(statsPath, { force: true });
    const emuArgs = [
      '-f', EMULATOR_PRIORITY, linkem,
      '--if-a', topo.emuSndIf, '--if-b', topo.emuRcvIf,
      '--down', resolve(opts.trace),
      '--delay-ms', String(opts.delayMs),
      '--trace-offset-ms', String(offsetMs),
      '--stats', statsPath,
    ];
    if (opts.uplink) emuArgs.push('--up', resolve(opts.uplink));
    if (opts.queueBytes > 0) emuArgs.push('--queue-bytes', String(opts.queueBytes));
    else emuArgs.push('--queue-packets', String(opts.queuePackets));
    if (opts.emulatorLog) emuArgs.push('--log-down', join(outDir, 'linkem-down.log'));
    const emulator = procs.start('tcpcast-linkem', ...inNs(topo.emu, 'chrt', emuArgs));
    await waitForOutput(emulator, /"ready":true/, READY_TIMEOUT_MS);

    const servers: Tracked[] = [];
    for (let i = 0; i < opts.flows; i++) {
      const server = procs.start(`iperf3 server ${i}`, ...inNs(topo.rcv, 'iperf3', ['-s', '-1', '--forceflush', '-p', String(FIRST_PORT + i)]));
      servers.push(server);
    }
    for (const server of servers) await waitForOutput(server, /Server listening/, READY_TIMEOUT_MS);

    const pcapPath = join(outDir, 'capture.pcap');
    const tcpdump = procs.start('tcpdump', ...inNs(topo.snd, 'tcpdump', [
      '-i', topo.sndIf, '-w', pcapPath, '--time-stamp-precision=nano', '-s', '128', '-U', '-n', 'tcp',
    ]));
    await waitForOutput(tcpdump, /listening on/, READY_TIMEOUT_MS, 'stderr');

    const startedAt = Date.now();
    const clients: Tracked[] = [];
    for (let i = 0; i < opts.flows; i++) {
      const wait = staggersMs[i] - (Date.now() - startedAt);
      if (wait > 0) await sleep(wait, opts.signal);
      if (aborted()) throw new LabAborted();
      clients.push(procs.start(`iperf3 client ${i}`, ...inNs(topo.snd, 'iperf3', [
        '-c', topo.rcvAddr, '-p', String(FIRST_PORT + i), '-t', String(opts.durationS), '-C', opts.cc, '-J',
      ])));
    }
    const progress = opts.onProgress ? setInterval(() => opts.onProgress!((Date.now() - startedAt) / 1000), 500) : undefined;
    try {
      const deadline = sleep((opts.durationS + MAX_START_STAGGER_MS / 1000 + (opts.clientGraceS ?? CLIENT_GRACE_S)) * 1000, opts.signal);
      const done = Promise.all(clients.map((c) => c.exited));
      await Promise.race([done, deadline]);
    } finally {
      if (progress) clearInterval(progress);
    }
    if (aborted()) throw new LabAborted();
    // A client still running at the deadline is held up by the link, not broken: a trace outage (ATT's uplink
    // has a 78 s one) or seconds of queue in front of iperf3's results exchange. Its traffic is in the capture,
    // which is what the session is for; it is stopped and marked unfinished. A client that exited non-zero failed.
    const unfinished = new Set(clients.filter((c) => c.exitCode === undefined));
    for (const c of unfinished) await procs.stop(c);
    const failed = clients.filter((c) => !unfinished.has(c) && c.exitCode !== 0);
    if (failed.length > 0) {
      throw Errors.lab(`${failed.length} iperf3 client(s) failed: ${failed.map((c) => `${c.name}: exit ${c.exitCode} ${lastIperfError(c)}`).join('; ')}`);
    }

    // SIGTERM makes tcpdump flush the capture and the emulator write its final statistics.
    await procs.stop(tcpdump);
    await procs.stop(emulator);
    const emulatorStats = existsSync(statsPath) ? JSON.parse(readFileSync(statsPath, 'utf8')) : null;

    const windows = opts.windows === false ? { skipped: 'disabled' } : buildWindows(pcapPath, join(outDir, 'windows.csv'));
    const meta: Record<string, unknown> = {
      complete: true,
      name,
      trace: resolve(opts.trace),
      trace_mean_mbps: round(meanCapacityMbps(trace), 3),
      uplink: opts.uplink ? resolve(opts.uplink) : null,
      cc: opts.cc,
      delay_ms: opts.delayMs,
      queue: opts.queueBytes > 0 ? { bytes: opts.queueBytes } : { packets: opts.queuePackets },
      flows: opts.flows,
      duration_s: opts.durationS,
      seed: opts.seed,
      trace_offset_ms: offsetMs,
      flow_start_offsets_ms: staggersMs,
      started_at: new Date(startedAt).toISOString(),
      capture: { file: 'capture.pcap', ...summarizeCapture(pcapPath, topo.sndAddr) },
      windows,
      flows_result: clients.map((c) => (unfinished.has(c) ? { unfinished: true } : iperfSummary(c))),
      clients_unfinished: unfinished.size,
      emulator: emulatorStats,
      versions: toolVersions(linkem),
    };
    writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    return { name, outDir, meta };
  } finally {
    await procs.stopAll();
    if (topo) destroyTopology(topo);
  }
}

function lastIperfError(c: Tracked): string {
  try {
    return String(JSON.parse(c.stdout).error ?? '').slice(0, 200);
  } catch {
    return c.stderr.trim().slice(0, 200);
  }
}

function iperfSummary(c: Tracked): Record<string, unknown> {
  try {
    const j = JSON.parse(c.stdout);
    return {
      port: j.start?.connecting_to?.port,
      received_mbps: round((j.end?.sum_received?.bits_per_second ?? 0) / 1e6, 3),
      retransmits: j.end?.sum_sent?.retransmits ?? null,
      congestion: j.end?.sender_tcp_congestion ?? null,
    };
  } catch {
    return { error: 'no iperf3 JSON' };
  }
}

function summarizeCapture(pcapPath: string, sender: string): Record<string, unknown> {
  const packets = readTcpPackets(pcapPath);
  const rtts = handshakeRttsNs(packets).sort((a, b) => a - b);
  const sizes = dataSegmentSizes(packets, sender);
  return {
    packets: packets.length,
    handshake_rtt_ms: rtts.length ? { min: round(rtts[0] / 1e6, 3), max: round(rtts[rtts.length - 1] / 1e6, 3), count: rtts.length } : null,
    max_segment_payload_bytes: sizes.maxPayloadBytes,
  };
}

/** Runs the engine's `tcpcast windows` on the capture when that command exists; the lab stays useful without it. */
function buildWindows(pcapPath: string, csvPath: string): Record<string, unknown> {
  const cli = resolve(__dirname, '../cli.js');
  if (!existsSync(resolve(__dirname, '../commands/windows.js'))) return { skipped: 'tcpcast windows not available' };
  try {
    // The command appends; a rerun of the session must not add its windows to the old ones.
    rmSync(csvPath, { force: true });
    run(process.execPath, [cli, 'windows', pcapPath, '-o', csvPath]);
    return { file: 'windows.csv' };
  } catch (err) {
    return { error: (err as Error).message.slice(0, 500) };
  }
}

function toolVersions(linkem: string): Record<string, string | null> {
  return {
    node: process.version,
    kernel: toolVersion('uname', ['-r']),
    iperf3: toolVersion('iperf3', ['--version']),
    tcpdump: toolVersion('tcpdump', ['--version']),
    linkem,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
