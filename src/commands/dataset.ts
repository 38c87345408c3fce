// `tcpcast dataset` (npm run dataset): the training set — every cellular downlink trace and fixed-rate links x {cubic, bbr, reno} in the lab, resumable.
import { Command, InvalidArgumentError } from 'commander';
import { parseNonNegativeInt } from '../options';
import { Progress } from '../progress';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CONGESTION_CONTROLS, CongestionControl, LabAborted, runLabSession, sessionName, writeFixedRateTrace } from '../lab';
import { DEFAULT_QUEUE_PACKETS, abortOnSignals, parseQueue } from './lab';

const REPO_ROOT = resolve(__dirname, '../../..');
/** Where the cellular traces live: the repo's copy if it has one, else ../shared beside the checkout (where CI and the team keep them). */
const TRACE_DIRS = [join(REPO_ROOT, 'traces/cellular'), join(REPO_ROOT, '..', 'shared', 'traces', 'cellular')];
const DEFAULT_FIXED_MBPS = [12, 48];

export interface DatasetSession {
  name: string;
  trace: string;
  cc: CongestionControl;
}

function list(name: string) {
  return (value: string): string[] => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`${name} needs at least one value`);
    return items;
  };
}

export function defaultTraceDir(): string {
  return TRACE_DIRS.find((d) => existsSync(d)) ?? TRACE_DIRS[0];
}

/** The session plan: downlink traces (sorted) and fixed-rate traces, each with every congestion control. */
export function planSessions(traceDir: string, fixedTraces: string[], ccs: CongestionControl[], delayMs: number): DatasetSession[] {
  const downlinks = readdirSync(traceDir).filter((f) => f.endsWith('.down')).sort().map((f) => join(traceDir, f));
  const sessions: DatasetSession[] = [];
  for (const trace of [...downlinks, ...fixedTraces]) {
    for (const cc of ccs) sessions.push({ name: sessionName(trace, cc, delayMs), trace, cc });
  }
  return sessions;
}

export function isComplete(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).complete === true;
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  program
    .command('dataset')
    .description('build the training set in the lab: every cellular downlink trace and fixed-rate links x congestion controls (root; resumable)')
    .option('--out <dir>', 'output folder, one subfolder per session; complete sessions are skipped', 'data/lab')
    .option('--traces <dir>', 'folder of mahimahi *.down traces', defaultTraceDir())
    .option('--fixed-mbps <list>', 'fixed-rate links to add (Mbit/s, comma-separated; "none" for none)', DEFAULT_FIXED_MBPS.join(','))
    .option('--cc <list>', 'congestion controls', list('--cc'), [...CONGESTION_CONTROLS])
    .option('--duration <s>', 'seconds of traffic per session', parseNonNegativeInt('--duration'), 60)
    .option('--delay-ms <ms>', 'one-way delay each way', parseNonNegativeInt('--delay-ms'), 20)
    .option('--queue <size>', 'droptail queue per direction (packets or bytes, as for lab)', `${DEFAULT_QUEUE_PACKETS}`)
    .option('--flows <n>', 'parallel TCP flows per session', parseNonNegativeInt('--flows'), 4)
    .option('--seed <n>', 'seed for trace offsets and flow starts', parseNonNegativeInt('--seed'), 1)
    .option('--limit <n>', 'run at most this many sessions this time (smoke checks)', parseNonNegativeInt('--limit'))
    .action(async (o) => {
      for (const cc of o.cc) if (!(CONGESTION_CONTROLS as readonly string[]).includes(cc)) throw new InvalidArgumentError(`unknown congestion control ${cc}`);
      const queue = parseQueue(o.queue);
      const outDir = resolve(o.out);
      const fixedDir = join(outDir, 'traces');
      mkdirSync(fixedDir, { recursive: true });
      const fixedTraces: string[] = [];
      if (o.fixedMbps !== 'none') {
        for (const text of list('--fixed-mbps')(o.fixedMbps)) {
          const mbps = Number(text);
          if (!(mbps > 0)) throw new InvalidArgumentError(`--fixed-mbps: not a rate: ${text}`);
          const path = join(fixedDir, `fixed-${text}mbps.down`);
          writeFixedRateTrace(path, mbps);
          fixedTraces.push(path);
        }
      }
      const plan = planSessions(o.traces, fixedTraces, o.cc, o.delayMs);
      const todo = plan.filter((s) => !isComplete(join(outDir, s.name)));
      const toRun = o.limit !== undefined ? todo.slice(0, o.limit) : todo;
      process.stderr.write(`dataset: ${plan.length} sessions, ${plan.length - todo.length} already complete, running ${toRun.length} (${o.duration} s each)\n`);

      const signals = abortOnSignals();
      // A bar on a terminal, a line every few seconds otherwise: a 15-minute run must not be silent in a log.
      const completeBefore = plan.length - todo.length;
      let finished = 0;
      let current = '';
      const bar = new Progress({ label: 'dataset', total: plan.length, unit: 'count' });
      const show = (elapsedS: number) =>
        bar.update(completeBefore + finished + Math.min(elapsedS / Math.max(1, o.duration), 0.99), `sessions, now ${current} ${Math.round(elapsedS)} s`);
      const started = Date.now();
      const failures: string[] = [];
      try {
        for (const s of toRun) {
          current = s.name;
          show(0);
          try {
            await runLabSession({
              trace: s.trace,
              delayMs: o.delayMs,
              queuePackets: queue.packets,
              queueBytes: queue.bytes,
              cc: s.cc,
              flows: o.flows,
              durationS: o.duration,
              outDir: join(outDir, s.name),
              seed: o.seed,
              signal: signals.signal,
              onProgress: (elapsedS) => show(elapsedS),
            });
            finished++;
            show(0);
          } catch (err) {
            if (err instanceof LabAborted || signals.received()) throw err;
            // One broken session (say, a trace the link cannot carry) must not cost the rest of a long run.
            failures.push(`${s.name}: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        bar.stop();
        if (err instanceof LabAborted || signals.received()) {
          process.exitCode = signals.received() === 'SIGTERM' ? 143 : 130;
          process.stderr.write('dataset: interrupted; complete sessions are kept, rerun to resume\n');
          return;
        }
        throw err;
      } finally {
        bar.stop();
        signals.dispose();
      }
      const index = plan.map((s) => ({ name: s.name, trace: basename(s.trace), cc: s.cc, complete: isComplete(join(outDir, s.name)) }));
      writeFileSync(join(outDir, 'index.json'), JSON.stringify({ sessions: index }, null, 2) + '\n');
      const minutes = ((Date.now() - started) / 60000).toFixed(1);
      process.stderr.write(`dataset: ran ${toRun.length - failures.length} sessions in ${minutes} min; ${index.filter((s) => s.complete).length}/${plan.length} complete in ${outDir}\n`);
      if (failures.length > 0) {
        process.stderr.write(failures.map((f) => `dataset: failed ${f}`).join('\n') + '\n');
        process.exitCode = 1;
      }
    });
}
