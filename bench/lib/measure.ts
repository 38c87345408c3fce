// Runs a command under GNU time and keeps its stdout and stderr: for cases whose runs report numbers of their own (drops, latencies, counts).
//
// runner.ts's runOnce throws output away (a trial's rate is work / wall time); the cases with a measure()
// hook need what the program printed, and some must stop a long-running capturer with a signal. GNU time
// ignores SIGINT and dies on SIGTERM without writing the rusage, so a stop signal goes to its child (the
// measured program itself: `ip netns exec` execs into it), found through /proc by parent pid.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GNU_TIME } from './runner';
import { RunMeasurement } from './types';

const DEFAULT_TIMEOUT_S = 600;
const KEEP_OUTPUT_CHARS = 1 << 20;

export interface MeasuredRun extends RunMeasurement {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunningCommand {
  /** Resolves when stdout or stderr so far matches `pattern`; rejects after timeoutMs or if the command ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Sends `signal` to the measured program (not to GNU time). */
  signal(signal: NodeJS.Signals): void;
  /** GNU time's pid: the measured program and whatever it starts are its descendants (see treeCpuNs). */
  readonly pid: number | undefined;
  readonly done: Promise<MeasuredRun>;
}

/**
 * CPU time so far of every thread of pid and its descendants, in nanoseconds (/proc/TID/schedstat), to sample
 * around an interval: GNU time's rusage covers the whole run (start-up and shutdown too) in 10 ms steps, too
 * coarse for microseconds per packet. Threads that ended before a sample are not counted in it.
 */
export function treeCpuNs(pid: number): number {
  let total = 0;
  const walk = (p: number): void => {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      try {
        total += Number(readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) walk(Number(c));
      } catch {
        /* the thread ended meanwhile */
      }
    }
  };
  walk(pid);
  return total;
}

/** The first child of pid (GNU time's only child is the measured program). */
function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

export function startMeasured(argv: string[], opts: { timeoutS?: number; env?: NodeJS.ProcessEnv } = {}): RunningCommand {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} missing: install GNU time (apt-get install time)`);
  const dir = mkdtempSync(join(tmpdir(), 'tcpcast-bench-'));
  const rusagePath = join(dir, 'rusage');
  const started = process.hrtime.bigint();
  const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', rusagePath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const onData = (which: 'out' | 'err') => (d: Buffer) => {
    if (which === 'out') stdout = (stdout + d.toString()).slice(-KEEP_OUTPUT_CHARS);
    else stderr = (stderr + d.toString()).slice(-KEEP_OUTPUT_CHARS);
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData('out'));
  child.stderr.on('data', onData('err'));
  let timedOut = false;
  const timeoutS = opts.timeoutS ?? DEFAULT_TIMEOUT_S;
  const killer = setTimeout(() => {
    timedOut = true;
    const inner = child.pid !== undefined ? childOf(child.pid) : undefined;
    if (inner) process.kill(inner, 'SIGKILL');
    child.kill('SIGKILL');
  }, timeoutS * 1000);
  let ended = false;
  const done = new Promise<MeasuredRun>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(killer);
      ended = true;
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`${argv[0]}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(killer);
      ended = true;
      for (const w of [...waiters]) w();
      const rusage = existsSync(rusagePath) ? readFileSync(rusagePath, 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      // GNU time writes "Command exited with non-zero status N" (or "terminated by signal") before the format line.
      const [peakRssKb, userS, sysS] = (rusage.trim().split('\n').pop() ?? '').split(' ').map(Number);
      // GNU time exits 128+N when its child died of signal N.
      const childSignal = code !== null && code > 128 && /terminated by signal/.test(rusage) ? (`SIG${code - 128}` as NodeJS.Signals) : signal;
      resolve({ wallS, peakRssKb, userS, sysS, exitCode: childSignal === signal ? code : null, signal: childSignal, stdout, stderr, timedOut });
    });
  });
  return {
    done,
    pid: child.pid,
    signal(sig: NodeJS.Signals): void {
      const inner = child.pid !== undefined ? childOf(child.pid) : undefined;
      if (inner) process.kill(inner, sig);
    },
    waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stdout) || pattern.test(stderr)) finish(resolve);
          else if (ended) finish(() => reject(new Error(`${argv.join(' ')} ended before printing ${pattern}: ${lastLines(stderr)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${argv.join(' ')} did not print ${pattern} within ${timeoutMs} ms: ${lastLines(stderr)}`))), timeoutMs);
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          f();
        };
        waiters.push(check);
        check();
      });
    },
  };
}

/** Runs argv to the end; throws with its last stderr lines unless it exits 0. */
export async function runMeasured(argv: string[], opts: { timeoutS?: number; env?: NodeJS.ProcessEnv } = {}): Promise<MeasuredRun> {
  const run = await startMeasured(argv, opts).done;
  if (run.timedOut) throw new Error(`${argv.join(' ')} timed out after ${opts.timeoutS ?? DEFAULT_TIMEOUT_S} s`);
  if (run.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${run.signal ?? `exit ${run.exitCode}`}): ${lastLines(run.stderr)}`);
  if (![run.peakRssKb, run.userS, run.sysS].every(Number.isFinite)) throw new Error(`cannot read rusage of ${argv[0]}`);
  return run;
}

/** The last few non-empty lines of a program's output, joined for a one-line error. */
export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').slice(-count).join(' | ') || '(no output)';
}

