// `tcpcast lab`: one session of real TCP over a trace-driven emulated link, written to a folder (pcap, meta.json, windows).
import { Command, InvalidArgumentError, Option } from 'commander';
import { basename } from 'node:path';
import { parseNonNegativeInt } from '../options';
import { Progress } from '../progress';
import { CLIENT_GRACE_S, CONGESTION_CONTROLS, CongestionControl, LabAborted, runLabSession, sessionName } from '../lab';

export const DEFAULT_QUEUE_PACKETS = 500;

/** "500" or "500p": packets; "150000b", "150kB", "1.5MB": bytes. */
export function parseQueue(value: string): { packets: number; bytes: number } {
  const m = /^(\d+(?:\.\d+)?)\s*(p|pkts?|packets?|b|bytes?|kb|mb)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--queue must look like 500, 500p, 150kB or 1.5MB, got "${value}"`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'p').toLowerCase();
  if (unit.startsWith('p')) {
    if (!Number.isInteger(n)) throw new InvalidArgumentError('--queue in packets must be an integer');
    return { packets: n, bytes: 0 };
  }
  const scale = unit === 'kb' ? 1000 : unit === 'mb' ? 1_000_000 : 1;
  return { packets: 0, bytes: Math.round(n * scale) };
}

/** Turns SIGINT/SIGTERM into an abort, so sessions clean up before the process exits. */
export function abortOnSignals(): { signal: AbortSignal; dispose: () => void; received: () => NodeJS.Signals | undefined } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) return; // a second signal while cleaning up: cleanup is already on its way
    received = sig;
    process.stderr.write(`tcpcast: ${sig}: stopping and cleaning up\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function register(program: Command): void {
  program
    .command('lab')
    .description('run real TCP flows across an emulated link that follows a mahimahi trace (root)')
    .requiredOption('--trace <file>', 'downlink trace (mahimahi format: one ms timestamp per 1500-byte opportunity)')
    .option('--uplink <file>', 'uplink trace for the ACK direction (default: unconstrained)')
    .option('--delay-ms <ms>', 'one-way propagation delay each way', parseNonNegativeInt('--delay-ms'), 20)
    .option('--queue <size>', 'droptail queue per direction: packets (500, 500p) or bytes (150kB, 1.5MB); 0 = unlimited', `${DEFAULT_QUEUE_PACKETS}`)
    .addOption(new Option('--cc <name>', 'congestion control of the flows').choices([...CONGESTION_CONTROLS]).default('cubic'))
    .option('--flows <n>', 'parallel TCP flows (iperf3)', parseNonNegativeInt('--flows'), 4)
    .option('--duration <s>', 'seconds of traffic', parseNonNegativeInt('--duration'), 60)
    .option('--out <dir>', 'output folder (default: data/lab/<session name>)')
    .option('--seed <n>', 'seed for the trace offset and flow start times (0: start of trace, flows together)', parseNonNegativeInt('--seed'), 1)
    .option('--offset-ms <ms>', 'start this far into the trace (overrides the seed)', parseNonNegativeInt('--offset-ms'))
    .option('--emulator-log', "also write the emulator's mahimahi-format log of the down link")
    .option('--no-windows', 'do not turn the capture into windows.csv')
    .option('--client-grace <s>', 'seconds iperf3 gets after --duration to finish; clients still running then are stopped and marked unfinished', parseNonNegativeInt('--client-grace'), CLIENT_GRACE_S)
    .action(async (o) => {
      if (o.flows < 1) throw new InvalidArgumentError('--flows must be at least 1');
      if (o.duration < 1) throw new InvalidArgumentError('--duration must be at least 1');
      const queue = parseQueue(o.queue);
      const outDir = o.out ?? `data/lab/${sessionName(o.trace, o.cc, o.delayMs)}`;
      const signals = abortOnSignals();
      // The session's traffic time (--duration) is what the user waits for; the capture's windows come after.
      const bar = new Progress({ label: `lab ${basename(o.trace)} ${o.cc}`, total: o.duration, unit: 'seconds' });
      try {
        const result = await runLabSession({
          trace: o.trace,
          uplink: o.uplink,
          delayMs: o.delayMs,
          queuePackets: queue.packets,
          queueBytes: queue.bytes,
          cc: o.cc as CongestionControl,
          flows: o.flows,
          durationS: o.duration,
          outDir,
          seed: o.seed,
          offsetMs: o.offsetMs,
          emulatorLog: Boolean(o.emulatorLog),
          windows: o.windows,
          clientGraceS: o.clientGrace,
          signal: signals.signal,
          onProgress: (elapsedS) => bar.update(Math.min(elapsedS, o.duration), `${o.flows} flows`),
        });
        bar.stop();
        const emu = result.meta.emulator as { down?: { delivered_bytes: number; lateness_us: { p99: number } }; elapsed_s?: number } | null;
        const line = {
          session: result.name,
          out: result.outDir,
          delivered_mbps: emu?.down && emu.elapsed_s ? Math.round((emu.down.delivered_bytes * 8) / emu.elapsed_s / 1e3) / 1e3 : null,
          lateness_p99_us: emu?.down?.lateness_us.p99 ?? null,
        };
        process.stdout.write(JSON.stringify(line) + '\n');
      } catch (err) {
        if (err instanceof LabAborted || signals.received()) {
          // Conventional exit status for death by signal, after cleanup has run.
          process.exitCode = signals.received() === 'SIGTERM' ? 143 : 130;
          process.stderr.write('tcpcast: lab interrupted; namespaces and processes removed\n');
          return;
        }
        throw err;
      } finally {
        bar.stop();
        signals.dispose();
      }
    });
}
