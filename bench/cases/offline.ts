// Benchmark case "offline": per-packet metrics and windows from a real-kernel TCP capture, tcpcast against tshark, tcptrace, tcpdump and a bare libpcap loop.
//
// Input: >= 1 M frames (quick: ~100 k) of iperf3 traffic, 8 cubic flows through a 700 Mbit/s tbf bottleneck
// with drops, made once in network namespaces and cached in bench/out/. Every trial reads the same file,
// so rates are frames of the file per second of wall time, and ratios are speed ratios.
//
// The bare loop (bench/peers/bare_loop.c) is the floor: read, parse headers, hash the 5-tuple. tshark with
// the same fields as `tcpcast packets` is the reference the metrics are checked against (see
// test/system/packets-vs-tshark.test.ts); tcptrace -l -r computes per-connection RTT statistics; tcpdump only
// copies the file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSpec, ensureCapture } from '../../test/fixtures/captures';
import { tsharkArgs } from '../../test/lib/tshark';
import { BenchCase, BenchContext, PreparedCase, TargetCheck, TrialResult } from '../lib/types';

const FULL_MIN_PACKETS = 1_000_000;
const QUICK_MIN_PACKETS = 80_000;

const TARGET_VS_BARE = 0.5; // within 2x the bare loop
const TARGET_VS_TSHARK = 150;
const TARGET_PEAK_RSS_MB = 64;

function captureSpec(quick: boolean): CaptureSpec {
  return {
    name: quick ? 'offline-quick' : 'offline-full',
    cc: 'cubic',
    flows: 8,
    durationS: quick ? 2 : 18,
    bottleneckMbit: 700,
    queueBytes: 256 * 1024,
  };
}

/** Compiles the bare loop when its binary is missing or older than its source. */
function buildBareLoop(ctx: BenchContext): string {
  const source = join(ctx.repoRoot, 'bench', 'peers', 'bare_loop.c');
  const binary = join(ctx.outDir, 'bare_loop');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    ctx.log(`   building ${binary}`);
    execFileSync('cc', ['-O2', '-Wall', '-o', binary, source, '-lpcap'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return binary;
}

function targets(results: TrialResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const name of ['tcpcast windows', 'tcpcast packets']) {
    const r = results.find((t) => t.name === name);
    const reached = (v: number | undefined, f: (x: number) => string): string => (v === undefined ? 'not measured (error)' : f(v));
    const vsBare = r?.ratios['bare loop'];
    const vsTshark = r?.ratios['tshark'];
    checks.push({
      target: `${name} within 2x the bare loop (>= ${TARGET_VS_BARE}x its rate)`,
      reached: reached(vsBare, (x) => `${x.toFixed(3)}x`),
      met: vsBare !== undefined && vsBare >= TARGET_VS_BARE,
    });
    checks.push({
      target: `${name} >= ${TARGET_VS_TSHARK}x tshark`,
      reached: reached(vsTshark, (x) => `${x.toFixed(1)}x`),
      met: vsTshark !== undefined && vsTshark >= TARGET_VS_TSHARK,
    });
    checks.push({
      target: `${name} peak RSS <= ${TARGET_PEAK_RSS_MB} MB`,
      reached: reached(r?.peakRssMb, (x) => `${x.toFixed(1)} MB`),
      met: r?.peakRssMb !== undefined && r.peakRssMb <= TARGET_PEAK_RSS_MB,
    });
  }
  return checks;
}

export const benchCase: BenchCase = {
  name: 'offline',
  description: 'per-packet RTT/bytes in flight and 50 ms windows from a pcap file',
  async prepare(ctx: BenchContext): Promise<PreparedCase> {
    mkdirSync(ctx.outDir, { recursive: true });
    const bareLoop = buildBareLoop(ctx);
    const spec = captureSpec(ctx.quick);
    const minPackets = ctx.quick ? QUICK_MIN_PACKETS : FULL_MIN_PACKETS;
    ctx.log(`   capture ${spec.name} (cached in ${ctx.outDir}; made on first use, needs root)`);
    const capture = await ensureCapture(spec, ctx.outDir, 'tcb', minPackets);
    const pcap = capture.path;
    const frames = capture.packets;

    const cli = join(ctx.repoRoot, 'dist', 'src', 'cli.js');
    const notBuilt = (command: string): Array<{ path: string; missing: string }> => [
      { path: join(ctx.repoRoot, 'dist', 'src', 'commands', `${command}.js`), missing: `tcpcast not built: dist/src/commands/${command}.js missing (npm run build)` },
    ];
    // tshark's per-packet analysis on 1 M frames takes tens of seconds a run: fewer repetitions.
    const slowRepeat = ctx.quick ? 1 : Math.min(ctx.repeat, 2);
    return {
      unit: 'packets',
      input: {
        file: pcap,
        frames,
        'size MB': (capture.bytesOnDisk / 1e6).toFixed(1),
        made: `iperf3 -P ${spec.flows} -C ${spec.cc} for ${capture.madeWith?.durationS ?? spec.durationS} s through a ${spec.bottleneckMbit} Mbit/s tbf ` +
          `(queue ${spec.queueBytes} B) in network namespaces, tcpdump -s 256 nanosecond timestamps at the sender; ` +
          `${capture.retransmits} retransmits, ${capture.bottleneckDrops} bottleneck drops`,
      },
      trials: [
        { name: 'bare loop', argv: [bareLoop, pcap], work: frames },
        { name: 'tcpcast windows', argv: [process.execPath, cli, 'windows', pcap, '-o', '/dev/null'], work: frames, requires: notBuilt('windows') },
        { name: 'tcpcast packets', argv: [process.execPath, cli, 'packets', pcap], work: frames, requires: notBuilt('packets') },
        // The C++ engine's own validation tool, same TSV without Node: shows how much of tcpcast packets is the engine.
        { name: 'engine only (tcpcast-dump)', argv: [join(ctx.repoRoot, 'build-native', 'tcpcast-dump'), pcap], work: frames,
          requires: [{ path: join(ctx.repoRoot, 'build-native', 'tcpcast-dump'), missing: 'tcpcast not built: build-native/tcpcast-dump missing (make -C native/test)' }] },
        { name: 'tcpdump -r -w', argv: ['tcpdump', '-n', '-r', pcap, '-w', '/dev/null'], work: frames },
        { name: 'tcptrace -l -r', argv: ['tcptrace', '-l', '-r', pcap], work: frames },
        { name: 'tshark', argv: ['tshark', ...tsharkArgs(pcap)], work: frames, repeat: slowRepeat },
      ],
      ratioAgainst: ['bare loop', 'tshark'],
      versions: {
        tshark: ['tshark', '--version'],
        tcpdump: ['tcpdump', '--version'],
        libpcap: ['sh', '-c', 'tcpdump --version 2>&1 | grep -i libpcap'],
        tcptrace: ['sh', '-c', 'tcptrace -v 2>&1 | grep -i version'],
        cc: ['cc', '--version'],
        iperf3: ['iperf3', '--version'],
      },
      warmup: [['cat', pcap]],
      targets,
    };
  },
};
