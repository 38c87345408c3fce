// Child processes for the lab: run-to-completion commands and tracked long-running ones that are always reaped.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { Errors } from '../errors';

/** Runs a command to completion; throws with its stderr on failure. */
export function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.error) throw Errors.lab(`${cmd}: ${res.error.message}`);
  if (res.status !== 0 && !opts.allowFail) {
    throw Errors.lab(`${cmd} ${args.join(' ')} failed (exit ${res.status}): ${(res.stderr || '').trim()}`);
  }
  return res.stdout;
}

export function toolVersion(cmd: string, args: string[]): string | null {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.error) return null;
  const text = `${res.stdout}\n${res.stderr}`.trim();
  return text.split('\n')[0] || null;
}

/** A long-running child with its output collected and a promise for its exit. */
export interface Tracked {
  name: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
  exitCode: number | null | undefined;
}

/**
 * Owns every long-running process of one lab session, so that cleanup can stop exactly those, in reverse start
 * order, with SIGTERM first (tcpdump and the emulator flush their output on it) and SIGKILL after a grace period.
 */
export class ProcessGroup {
  private readonly procs: Tracked[] = [];

  start(name: string, cmd: string, args: string[]): Tracked {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const t: Tracked = { name, child, stdout: '', stderr: '', exitCode: undefined, exited: Promise.resolve(null) };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (t.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (t.stderr += d));
    t.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        t.stderr += String(err);
        t.exitCode = null;
        resolve(null);
      });
      child.on('exit', (code, signal) => {
        t.exitCode = code ?? (signal ? -1 : null);
        resolve(t.exitCode);
      });
    });
    this.procs.push(t);
    return t;
  }

  /** Stops one process: SIGTERM, then SIGKILL after graceMs. */
  async stop(t: Tracked, graceMs = 3000): Promise<void> {
    if (t.exitCode !== undefined) return;
    t.child.kill('SIGTERM');
    const timer = setTimeout(() => t.child.kill('SIGKILL'), graceMs);
    await t.exited;
    clearTimeout(timer);
  }

  async stopAll(graceMs = 3000): Promise<void> {
    for (const t of [...this.procs].reverse()) await this.stop(t, graceMs);
  }
}

/** Resolves when the process writes text matching pattern, rejects if it exits first or timeoutMs passes. */
export function waitForOutput(t: Tracked, pattern: RegExp, timeoutMs: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => pattern.test(t[stream]);
    if (check()) return resolve();
    const timer = setTimeout(() => finish(new Error(`${t.name} not ready after ${timeoutMs} ms: ${t.stderr.trim()}`)), timeoutMs);
    const onData = () => check() && finish();
    const onExit = () => finish(new Error(`${t.name} exited early (code ${t.exitCode}): ${t.stderr.trim()}`));
    const source = stream === 'stdout' ? t.child.stdout! : t.child.stderr!;
    function finish(err?: Error) {
      clearTimeout(timer);
      source.off('data', onData);
      t.child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    // Our accumulating listener was attached first, so t[stream] already holds this chunk when onData runs.
    source.on('data', onData);
    t.child.on('exit', onExit);
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
