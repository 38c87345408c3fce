// A tcpcast command as a child process whose JSON log lines are parsed as they arrive (fault and soak tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

export type LogLine = Record<string, unknown> & { msg?: string };

export interface CliChild {
  child: ChildProcess;
  logs: LogLine[];
  /** Exit code and when it exited (Date.now()). */
  exited: Promise<{ code: number | null; at: number }>;
  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  stderr(): string;
}

export function startCli(args: string[], opts: { cwd?: string; prefix?: string[] } = {}): CliChild {
  const argv = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  const logs: LogLine[] = [];
  let raw = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line, raw: true });
      }
    }
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  return {
    child,
    logs,
    exited,
    stderr: () => raw,
    async waitForLog(pred, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(pred);
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what} log line; got:\n${raw.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
