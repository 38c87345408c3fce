// Runs one trial in its own child process under GNU time: wall time from the harness clock, peak RSS and CPU from wait4's rusage.
//
// A fresh process per run means no run inherits another's heap, JIT state or page cache of its own
// allocations; GNU time (-f) reports the child's rusage (ru_maxrss is the peak resident set).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunMeasurement, Trial } from './types';

export const GNU_TIME = '/usr/bin/time';
const DEFAULT_TIMEOUT_S = 600;
const HEARTBEAT_MS = 15_000;

export class TrialError extends Error {}

/** Runs trial once; throws TrialError with the reason (missing tool, non-zero exit, timeout). */
export function runOnce(trial: Trial, log: (message: string) => void): Promise<RunMeasurement> {
  for (const need of trial.requires ?? []) {
    if (!existsSync(need.path)) return Promise.reject(new TrialError(need.missing));
  }
  if (!existsSync(GNU_TIME)) return Promise.reject(new TrialError(`${GNU_TIME} missing: install GNU time (apt-get install time)`));
  const dir = mkdtempSync(join(tmpdir(), 'tcpcast-bench-'));
  const rusagePath = join(dir, 'rusage');
  return new Promise<RunMeasurement>((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    // Own process group: a timeout must kill the measured program too, not only GNU time above it.
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', rusagePath, ...trial.argv], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.on('exit', killGroup);
    // Head and tail of stderr are kept: the head holds the program's own error line, the tail where it ended.
    let stderrHead = '';
    let stderrTail = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderrHead.length < 2000) stderrHead += d.toString();
      stderrTail = (stderrTail + d.toString()).slice(-2000);
    });
    const timeoutS = trial.timeoutS ?? DEFAULT_TIMEOUT_S;
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutS * 1000);
    const heartbeat = setInterval(() => {
      log(`    ... ${trial.name} still running (${Math.round(Number(process.hrtime.bigint() - started) / 1e9)} s)`);
    }, HEARTBEAT_MS);
    child.on('error', (err) => {
      process.off('exit', killGroup);
      clearTimeout(killer);
      clearInterval(heartbeat);
      rmSync(dir, { recursive: true, force: true });
      reject(new TrialError(`${trial.argv[0]}: ${err.message}`));
    });
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      process.off('exit', killGroup);
      clearTimeout(killer);
      clearInterval(heartbeat);
      const rusage = existsSync(rusagePath) ? readFileSync(rusagePath, 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      if (timedOut) return reject(new TrialError(`timed out after ${timeoutS} s`));
      // GNU time writes "Command exited with non-zero status N" before the format line.
      const last = rusage.trim().split('\n').pop() ?? '';
      const [rssKb, userS, sysS] = last.split(' ').map(Number);
      if (code !== 0) {
        // First line (usually the program's own one-line error) and the last two (where a trace ends).
        const head = stderrHead.trim().split('\n').filter((l) => l.trim() !== '');
        const tail = stderrTail.trim().split('\n').filter((l) => l.trim() !== '');
        const picked = head.length <= 3 && stderrHead === stderrTail ? head : [head[0], '...', ...tail.slice(-2)];
        const why = picked.join(' | ') || `exit status ${code}`;
        return reject(new TrialError(`${trial.argv.join(' ')} failed: ${why}`));
      }
      if (![rssKb, userS, sysS].every(Number.isFinite)) return reject(new TrialError(`cannot read rusage: ${rusage}`));
      resolvePromise({ wallS, peakRssKb: rssKb, userS, sysS });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
