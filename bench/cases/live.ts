// Benchmark case "live": CPU per packet at fixed rates and the highest zero-loss rate of each capturer on a veth (tcpcast with and without forecasting, tcpdump, tshark, the cap npm package).
//
// A veth pair inside a bench namespace; tcpreplay sends a real-kernel TCP capture (full frames) out of one
// end at a fixed rate, the capturer listens on the other. Rates rise; at each rate every capturer still in
// the race gets one run of its own (capturers never run side by side). A run is loss-free when the
// capturer reports no kernel drops AND its packet count equals what the interface received (rx_packets):
// tcpcast, tcpdump and tshark report pcap_stats drops; cap has no pcap_stats, so for it only the count
// comparison applies; tshark can also fall behind without kernel drops (dumpcap spools to disk), which the
// count shows. Every capturer runs every rate up to its first lossy one, so CPU per packet is compared at the
// same rates: CPU time of the capturer's threads and child processes (tshark's dumpcap) from
// just before the sender starts to just before the stop (so start-up, model load and shutdown are out, the idle
// work during that time is in), divided by the packets delivered. Every peer gets
// the same kernel buffer (32 MiB) and snaplen (128) where it has the option (cap has no snaplen). The reported
// rate is what tcpreplay achieved (it tops out near 400 kpps on 2 cores, less while a capturer competes for the
// CPU), not the requested one; "max" is tcpreplay --topspeed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSpec, ensureCapture } from '../../test/fixtures/captures';
import { tsharkArgs } from '../../test/lib/tshark';
import { lastLines, startMeasured, treeCpuNs } from '../lib/measure';
import { BenchCase, BenchContext, MeasuredCase, PreparedCase, RunMeasurement, TargetCheck, TrialResult } from '../lib/types';

const PREFIX = 'tcv';
const TX_IF = `${PREFIX}-tx`;
const RX_IF = `${PREFIX}-rx`;
/** 0 = the sender's maximum (tcpreplay --topspeed). */
const MAX_RATE = 0;
const FULL_RATES_PPS = [50_000, 100_000, 200_000, 300_000, 400_000, MAX_RATE];
const QUICK_RATES_PPS = [50_000, 200_000];
const FULL_SEND_S = 5;
const QUICK_SEND_S = 2;
/** After the sender is done, a capturer gets this long to read what is still queued before it is stopped. */
const DRAIN_MS = 1000;
const READY_TIMEOUT_MS = 30_000;
/** Every live peer gets tcpcast's defaults, so the comparison is like for like: 32 MiB ring, 128-byte snaplen. */
const BUFFER_KIB = 32 * 1024;
const SNAPLEN = 128;
const CAP_BUFFER_BYTES = BUFFER_KIB * 1024;
const TCPCAST = 'tcpcast run';
const TCPCAST_FORECAST = 'tcpcast run (forecast, CSV)';
const TCPDUMP = 'tcpdump -w /dev/null';

/** Full frames (snaplen 1600): tcpreplay sends what the file holds, and truncated frames would not parse as TCP. */
export const INPUT_SPEC: CaptureSpec = { name: 'live-replay', cc: 'cubic', flows: 8, durationS: 1, bottleneckMbit: 500, queueBytes: 256 * 1024, snaplen: 1600 };
export const INPUT_MIN_PACKETS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Capturer {
  name: string;
  /** Runs inside the namespace. */
  argv: string[];
  /** Printed once the capture handle is open. */
  ready: RegExp;
  /** Parses the end-of-run output: packets the program saw and kernel drops (null: it cannot tell). */
  parse(stdout: string, stderr: string): { captured: number; kernelDropped: number | null; closeLatencyP99Ms?: number };
  requires?: { path: string; missing: string };
}

function numberAfter(text: string, pattern: RegExp, what: string): number {
  const m = pattern.exec(text);
  if (!m) throw new Error(`no "${what}" in output: ${lastLines(text)}`);
  return Number(m[1]);
}

function capturers(ctx: BenchContext): Capturer[] {
  const cli = join(ctx.repoRoot, 'dist', 'src', 'cli.js');
  const capPeer = join(ctx.repoRoot, 'bench', 'peers', 'cap-capture.js');
  // tsharkArgs(FILE) is [-n, -r, FILE, ...fields]: the same analysis and fields as the offline case, live.
  const tsharkFields = tsharkArgs('-').slice(3).map((a) => `'${a}'`).join(' ');
  const tcpcastParse = (_out: string, err: string): { captured: number; kernelDropped: number; closeLatencyP99Ms?: number } => {
    const line = err.split('\n').find((l) => l.includes('"msg":"tcpcast stopped"'));
    if (!line) throw new Error(`no "tcpcast stopped" log line: ${lastLines(err)}`);
    const stopped = JSON.parse(line) as { packets: number; kernelDropped: number; closeLatencyP99Ms?: number };
    return { captured: stopped.packets, kernelDropped: stopped.kernelDropped, closeLatencyP99Ms: stopped.closeLatencyP99Ms };
  };
  const tcpcastBuilt = { path: join(ctx.repoRoot, 'dist', 'src', 'commands', 'run.js'), missing: 'tcpcast not built: dist/src/commands/run.js missing (npm run build)' };
  const tcpcastArgv = [process.execPath, cli, 'run', '-i', RX_IF, '-B', String(BUFFER_KIB), '-s', String(SNAPLEN), '--no-dashboard', '--stats-interval', '0'];
  return [
    {
      name: TCPCAST,
      argv: [...tcpcastArgv, '--no-forecast', '--no-csv'],
      ready: /"msg":"tcpcast started"/,
      parse: tcpcastParse,
      requires: tcpcastBuilt,
    },
    {
      name: TCPCAST_FORECAST,
      // The shipped model and a CSV file: what `tcpcast run` does by default, less the dashboard.
      argv: [...tcpcastArgv, '--model', join(ctx.repoRoot, 'model'), '--csv', join(ctx.outDir, 'live-windows.csv')],
      ready: /"msg":"tcpcast started"/,
      parse: tcpcastParse,
      requires: existsSync(join(ctx.repoRoot, 'model', 'model.json')) ? tcpcastBuilt : { path: join(ctx.repoRoot, 'model', 'model.json'), missing: 'no shipped model (model/model.json)' },
    },
    {
      name: TCPDUMP,
      argv: ['tcpdump', '-n', '-B', String(BUFFER_KIB), '-s', String(SNAPLEN), '-i', RX_IF, '-w', '/dev/null'],
      ready: /listening on/,
      parse: (_out, err) => ({
        captured: numberAfter(err, /(\d+) packets? captured/, 'packets captured'),
        kernelDropped: numberAfter(err, /(\d+) packets? dropped by kernel/, 'packets dropped by kernel'),
      }),
    },
    {
      name: 'tshark fields',
      // The field lines go to /dev/null inside the namespace: piping them to the harness would load the CPU it measures.
      // tshark's -B is in MiB.
      argv: ['sh', '-c', `exec tshark -n -B ${BUFFER_KIB / 1024} -s ${SNAPLEN} -i ${RX_IF} ${tsharkFields} > /dev/null`],
      ready: /Capturing on/,
      parse: (_out, err) => {
        const dropped = /(\d+) packets? dropped/.exec(err);
        return { captured: numberAfter(err, /(\d+) packets? captured/, 'packets captured'), kernelDropped: dropped ? Number(dropped[1]) : 0 };
      },
    },
    {
      name: 'cap (npm) + JS decoders',
      argv: [process.execPath, capPeer, RX_IF, String(CAP_BUFFER_BYTES)],
      ready: /capturing on/,
      parse: (out) => {
        const line = out.trim().split('\n').pop() ?? '';
        const counts = JSON.parse(line) as { captured: number };
        return { captured: counts.captured, kernelDropped: null };
      },
      requires: {
        path: join(ctx.repoRoot, 'bench', 'node_modules', 'cap', 'build', 'Release', 'cap.node'),
        missing: 'cap not installed: npm_config_nodedir=/usr npm install --prefix bench',
      },
    },
  ];
}

/** One veth pair inside its own namespace; IPv6 off so the kernel adds no frames (router solicitations, MLD) to the count. */
class VethBench {
  readonly ns = `${PREFIX}-live-${process.pid}`;
  private readonly onExit = (): void => this.destroy();

  constructor() {
    removeStaleNamespaces();
    process.once('exit', this.onExit);
    this.ip('netns', 'add', this.ns);
    this.exec('ip', 'link', 'add', TX_IF, 'type', 'veth', 'peer', 'name', RX_IF);
    for (const ifname of [TX_IF, RX_IF]) {
      this.exec('sysctl', '-qw', `net.ipv6.conf.${ifname}.disable_ipv6=1`);
      this.exec('ip', 'link', 'set', ifname, 'up');
    }
  }

  private ip(...args: string[]): string {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  exec(...argv: string[]): string {
    return this.ip('netns', 'exec', this.ns, ...argv);
  }

  inNs(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns, ...argv];
  }

  rxPackets(): number {
    return Number(this.exec('cat', `/sys/class/net/${RX_IF}/statistics/rx_packets`).trim());
  }

  destroy(): void {
    process.off('exit', this.onExit);
    try {
      execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

/** Namespaces of earlier runs of this case whose process is gone (killed with SIGKILL, so no exit hook ran). */
function removeStaleNamespaces(): void {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}-live-(\\d+)$`).exec(name);
    if (m && !existsSync(`/proc/${m[1]}`)) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/**
 * The input without its few ARP and IPv6 frames: --unique-ip turns the IPv6 source :: into ::1 on the second
 * loop, which tcpcast's default live filter (not loopback) rightly drops, and would count as a loss.
 */
function tcpOnly(source: string): { path: string; frames: number } {
  const path = source.replace(/\.pcap$/, '-tcp.pcap');
  if (!existsSync(path) || statSync(path).mtimeMs < statSync(source).mtimeMs) {
    execFileSync('tcpdump', ['-n', '-r', source, '-w', `${path}.tmp`, 'ip and tcp'], { stdio: 'ignore' });
    execFileSync('mv', [`${path}.tmp`, path]);
  }
  const frames = Number(execFileSync('sh', ['-c', `tcpdump -n -r '${path}' 2>/dev/null | wc -l`], { encoding: 'utf8' }).trim());
  return { path, frames };
}

interface SendResult {
  sent: number;
  achievedPps: number;
}

/** What tcpreplay --topspeed is assumed to reach when sizing its packet limit (it stops at the limit). */
const MAX_RATE_LIMIT_PPS = 400_000;

function replay(bench: VethBench, pcap: string, pps: number, sendS: number): SendResult {
  const limit = (pps === MAX_RATE ? MAX_RATE_LIMIT_PPS : pps) * sendS;
  const rate = pps === MAX_RATE ? '--topspeed' : `--pps=${pps}`;
  // -K: packets from RAM, so disk reads do not pace the sender. --unique-ip: each loop is new flows, not
  // a replay of the same sequence numbers (which every analyser would see as retransmissions).
  const out = bench.exec('tcpreplay', '-i', TX_IF, '-K', rate, '--loop=100000', `--limit=${limit}`, '--unique-ip', '--no-flow-stats', pcap);
  const sent = numberAfter(out, /Actual: (\d+) packets/, 'tcpreplay Actual');
  const achievedPps = numberAfter(out, /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/, 'tcpreplay Rated');
  return { sent, achievedPps };
}

interface PointResult {
  capturer: string;
  requestedPps: number;
  achievedPps: number;
  sent: number;
  delivered: number;
  captured: number;
  kernelDropped: number | null;
  lossFree: boolean;
  measurement: RunMeasurement;
  /** CPU of the capturer while packets were sent and drained / delivered, microseconds. */
  cpuPerPacketUs: number;
  closeLatencyP99Ms?: number;
}

async function runPoint(bench: VethBench, c: Capturer, pcap: string, pps: number, sendS: number): Promise<PointResult> {
  const run = startMeasured(bench.inNs(c.argv), { timeoutS: sendS + 120 });
  try {
    await run.waitFor(c.ready, READY_TIMEOUT_MS);
  } catch (err) {
    run.signal('SIGKILL');
    await run.done;
    throw err;
  }
  // The ready line comes after the handle is active; a moment more for a Node capturer's event loop to settle.
  await sleep(300);
  const rxBefore = bench.rxPackets();
  const cpuBeforeNs = run.pid !== undefined ? treeCpuNs(run.pid) : 0;
  let send: SendResult;
  try {
    send = replay(bench, pcap, pps, sendS);
  } catch (err) {
    run.signal('SIGKILL');
    await run.done;
    throw err;
  }
  await sleep(DRAIN_MS);
  const delivered = bench.rxPackets() - rxBefore;
  const cpuNs = run.pid !== undefined ? treeCpuNs(run.pid) - cpuBeforeNs : 0;
  run.signal('SIGTERM');
  const done = await run.done;
  if (done.timedOut || done.exitCode !== 0) throw new Error(`${c.name} failed (${done.signal ?? `exit ${done.exitCode}`}): ${lastLines(done.stderr)}`);
  const { captured, kernelDropped, closeLatencyP99Ms } = c.parse(done.stdout, done.stderr);
  return {
    capturer: c.name,
    requestedPps: pps,
    closeLatencyP99Ms,
    cpuPerPacketUs: delivered > 0 ? cpuNs / 1e3 / delivered : 0,
    achievedPps: send.achievedPps,
    sent: send.sent,
    delivered,
    captured,
    kernelDropped,
    lossFree: (kernelDropped ?? 0) === 0 && captured >= delivered,
    measurement: { wallS: done.wallS, peakRssKb: done.peakRssKb, userS: done.userS, sysS: done.sysS },
  };
}

function fmtK(x: number): string {
  return `${(x / 1e3).toFixed(1)} k`;
}

function fmtRate(pps: number): string {
  return pps === MAX_RATE ? 'max' : fmtK(pps);
}

function notesFor(points: PointResult[], errors: Map<string, string>, names: string[], sendS: number): string[] {
  const lines = [
    `Highest loss-free rate per capturer ("${'packets'}/s" above: the rate tcpreplay achieved in that run; "-": lossy at every rate).`,
    `Each point: tcpreplay sends ${sendS} s of full frames, the capturer gets ${DRAIN_MS} ms more, then SIGTERM. ` +
      'delivered = rx_packets of the receiving veth; loss = delivered - captured (kernel drops, or not analysed before the stop).',
    '',
    '| capturer | requested pps | achieved pps | sent | delivered | captured | kernel drops | loss-free | peak RSS MB | CPU s (whole run) | CPU us/packet (while sending) | window close p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const name of names) {
    for (const p of points.filter((x) => x.capturer === name)) {
      lines.push(`| ${[name, fmtRate(p.requestedPps), fmtK(p.achievedPps), p.sent, p.delivered, p.captured,
        p.kernelDropped === null ? 'n/a (no pcap_stats)' : p.kernelDropped, p.lossFree ? 'yes' : `no (${p.delivered - p.captured} lost)`,
        (p.measurement.peakRssKb / 1024).toFixed(1), (p.measurement.userS + p.measurement.sysS).toFixed(2),
        p.cpuPerPacketUs.toFixed(3), p.closeLatencyP99Ms === undefined ? '' : p.closeLatencyP99Ms.toFixed(2)].join(' | ')} |`);
    }
    const err = errors.get(name);
    if (err) lines.push(`| ${name} | error: ${err.replace(/\|/g, '/')} | | | | | | | | | | |`);
  }
  return lines;
}

/** CPU per packet at each requested rate, and each capturer's multiple of tcpdump's at the same rate. */
function cpuTable(points: PointResult[], names: string[], rates: number[]): string[] {
  const at = (name: string, pps: number) => points.find((p) => p.capturer === name && p.requestedPps === pps);
  const lines = [
    '',
    'CPU per packet, microseconds (CPU time of the capturer while the sender ran and 1 s after, over the packets delivered), and x tcpdump at the same rate:',
    '',
    `| capturer | ${rates.map(fmtRate).join(' | ')} |`,
    `|---|${rates.map(() => '---:').join('|')}|`,
  ];
  for (const name of names) {
    const cells = rates.map((pps) => {
      const p = at(name, pps);
      const base = at(TCPDUMP, pps);
      if (!p) return '-';
      const ratio = base && base.cpuPerPacketUs > 0 ? ` (${(p.cpuPerPacketUs / base.cpuPerPacketUs).toFixed(1)}x)` : '';
      return `${p.cpuPerPacketUs.toFixed(3)}${name === TCPDUMP ? '' : ratio}${p.lossFree ? '' : ' lossy'}`;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export const benchCase: BenchCase = {
  name: 'live',
  description: 'CPU per packet at fixed rates and highest zero-loss capture rate on a veth (tcpreplay)',
  async prepare(ctx: BenchContext): Promise<PreparedCase> {
    if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespace, packet capture)');
    for (const tool of ['ip', 'tcpreplay', 'tcpdump', 'tshark']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      } catch {
        throw new Error(`${tool} not installed (scripts/setup.sh)`);
      }
    }
    mkdirSync(ctx.outDir, { recursive: true });
    ctx.log(`   input ${INPUT_SPEC.name} (cached in ${ctx.outDir}; made on first use)`);
    const capture = await ensureCapture(INPUT_SPEC, ctx.outDir, PREFIX, INPUT_MIN_PACKETS);
    const { path: pcap, frames } = tcpOnly(capture.path);
    const rates = ctx.quick ? QUICK_RATES_PPS : FULL_RATES_PPS;
    const sendS = ctx.quick ? QUICK_SEND_S : FULL_SEND_S;
    const list = capturers(ctx);
    const targets: TargetCheck[] = [];
    const capVersion = (() => {
      try {
        return `cap ${(JSON.parse(readFileSync(join(ctx.repoRoot, 'bench', 'node_modules', 'cap', 'package.json'), 'utf8')) as { version: string }).version}`;
      } catch {
        return 'not installed';
      }
    })();
    return {
      unit: 'packets',
      input: {
        file: pcap,
        frames,
        'size MB': (statSync(pcap).size / 1e6).toFixed(1),
        made: `the IPv4 TCP frames of ${capture.path}: iperf3 -P ${INPUT_SPEC.flows} -C ${INPUT_SPEC.cc} through a ${INPUT_SPEC.bottleneckMbit} Mbit/s tbf, full frames (snaplen ${INPUT_SPEC.snaplen})`,
        sent: `tcpreplay -K --pps=RATE --unique-ip, looped, ${sendS} s per point; requested rates ${rates.map(fmtRate).join(', ')} pps (max: --topspeed)`,
        'capture buffers': `every peer ${BUFFER_KIB / 1024} MiB and snaplen ${SNAPLEN} (cap: 32 MiB, no snaplen option)`,
      },
      trials: [],
      // No ratio column: the rates sit on a grid of requested rates, and the sender slows when a capturer takes its CPU.
      ratioAgainst: [],
      versions: {
        tcpreplay: ['sh', '-c', 'tcpreplay --version 2>&1 | head -1'],
        tcpdump: ['tcpdump', '--version'],
        tshark: ['tshark', '--version'],
        cap: ['echo', capVersion],
      },
      targets: () => targets,
      async measure(): Promise<MeasuredCase> {
        const bench = new VethBench();
        const points: PointResult[] = [];
        const errors = new Map<string, string>();
        const out: string[] = [];
        try {
          for (const c of list) if (c.requires && !existsSync(c.requires.path)) errors.set(c.name, c.requires.missing);
          const running = new Set(list.filter((c) => !errors.has(c.name)).map((c) => c.name));
          for (const pps of rates) {
            for (const c of list) {
              if (!running.has(c.name)) continue;
              try {
                const p = await runPoint(bench, c, pcap, pps, sendS);
                ctx.log(`  ${c.name} @ ${fmtRate(pps)} pps requested, ${fmtK(p.achievedPps)} achieved: delivered ${p.delivered}, captured ${p.captured}, ` +
                  `kernel drops ${p.kernelDropped ?? 'n/a'} -> ${p.lossFree ? 'loss-free' : 'LOSS'}, ${p.cpuPerPacketUs.toFixed(3)} us CPU/packet`);
                points.push(p);
                // Past its first lossy rate a capturer only falls further behind (tshark then needs minutes to
                // drain): its CPU per packet there would measure a backlog, not the rate.
                if (!p.lossFree) running.delete(c.name);
              } catch (err) {
                errors.set(c.name, (err as Error).message);
                running.delete(c.name);
                ctx.log(`  ${c.name} @ ${fmtRate(pps)}: ERROR ${(err as Error).message}`);
              }
            }
          }
        } finally {
          bench.destroy();
        }
        const rated = points;
        const trials: TrialResult[] = list.map((c) => {
          const mine = rated.filter((p) => p.capturer === c.name);
          const best = mine.filter((p) => p.lossFree).sort((a, b) => b.achievedPps - a.achievedPps)[0];
          return {
            name: c.name,
            argv: c.argv,
            work: best?.captured ?? 0,
            runs: mine.map((p) => p.measurement),
            wallS: best?.measurement.wallS,
            ratePerS: best?.achievedPps,
            peakRssMb: best ? best.measurement.peakRssKb / 1024 : undefined,
            cpuS: best ? best.measurement.userS + best.measurement.sysS : undefined,
            ratios: {},
            // A failure at a higher rate after loss-free points is in the notes; the row keeps what was measured.
            error: best ? undefined : errors.get(c.name),
          };
        });
        out.push(...notesFor(points, errors, list.map((c) => c.name), sendS));
        out.push(...cpuTable(rated, list.map((c) => c.name), rates));
        // The issue's target: forecasting on, CSV on, 100 kpps: CPU per packet <= 2x tcpdump's, no kernel drops.
        const target = (name: string, pps: number): void => {
          const p = rated.find((x) => x.capturer === name && x.requestedPps === pps);
          const base = rated.find((x) => x.capturer === TCPDUMP && x.requestedPps === pps);
          if (!p || !base || !base.cpuPerPacketUs) return;
          const ratio = p.cpuPerPacketUs / base.cpuPerPacketUs;
          targets.push({
            target: `${name} @ ${fmtRate(pps)} pps: CPU per packet <= 2x tcpdump's, 0 kernel drops`,
            reached: `${p.cpuPerPacketUs.toFixed(3)} us vs ${base.cpuPerPacketUs.toFixed(3)} us (${ratio.toFixed(1)}x), ${p.kernelDropped ?? '?'} drops`,
            met: ratio <= 2 && p.kernelDropped === 0,
          });
        };
        target(TCPCAST_FORECAST, rates.includes(100_000) ? 100_000 : rates[0]);
        target(TCPCAST, rates.includes(100_000) ? 100_000 : rates[0]);
        return { trials, notes: out };
      },
    };
  },
};
