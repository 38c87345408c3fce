// A SinkLogger that keeps every line, so tests can assert "one clear log line" per event.
import type { SinkLogger } from '../../src/sinks/influx';

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj: Record<string, unknown>;
}

export class RecordingLogger implements SinkLogger {
  readonly lines: LoggedLine[] = [];
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj: obj as Record<string, unknown> });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', msg, obj: obj as Record<string, unknown> });
  }
  at(level: LoggedLine['level']): LoggedLine[] {
    return this.lines.filter((l) => l.level === level);
  }
}

/** Polls until cond() holds; the deadline only bounds a broken test, it is never the thing asserted. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
