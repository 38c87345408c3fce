// The structured logger (pino) shared by the daemon, sinks and commands: JSON lines off a terminal, readable lines on one.
import { writeSync } from 'node:fs';
import pino from 'pino';
import { clearProgressLine, redrawProgressLine } from './progress';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** auto: pretty when stderr is a terminal, JSON otherwise (journald, Loki, jq, the tests). */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const prettyLoggers = new WeakSet<object>();

/** Whether this logger writes human-readable lines (so callers may add tcpdump-style text lines of their own). */
export function isPretty(logger: Logger): boolean {
  return prettyLoggers.has(logger);
}

export function resolveLogFormat(format: LogFormat = 'auto', stderrIsTty = Boolean(process.stderr.isTTY)): 'pretty' | 'json' {
  if (format === 'auto') return stderrIsTty ? 'pretty' : 'json';
  return format;
}

/**
 * JSON lines on stderr keep stdout free for data (`packets`, `windows` write there) and are what journald, Loki
 * and jq expect. Synchronous destination in both formats: the last lines before an exit must not be lost (why
 * the pretty format is a small synchronous stream here rather than pino-pretty's worker-thread transport).
 */
export function createLogger(level: LogLevel = 'info', name = 'tcpcast', format: LogFormat = 'auto'): Logger {
  if (resolveLogFormat(format) === 'json') {
    return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  }
  const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const logger = pino({ name, level, base: undefined }, prettyStream(color));
  prettyLoggers.add(logger);
  return logger;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const HIDDEN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** 4 significant digits: a ratio or a latency read by a person, not 0.30000000000000004. */
function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (Array.isArray(v)) return v.map(formatValue).join(',');
  return JSON.stringify(v);
}

/** Nested objects (stats groups) one level flat: inference.p99Ms=2.1 reads better than a JSON blob. */
function fields(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (!prefix && HIDDEN_KEYS.has(k)) continue;
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && !prefix) out.push(...fields(v as Record<string, unknown>, `${k}.`));
    else out.push(`${prefix}${k}=${formatValue(v)}`);
  }
  return out;
}

/** One pino JSON record as `HH:MM:SS.mmm LEVEL message key=value ...` (local time, as tcpdump prints it). */
export function formatPrettyLine(line: string, color: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const t = new Date(typeof rec.time === 'number' ? rec.time : Date.now());
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const rest = fields(rec);
  const err = rec.err as { stack?: string } | undefined;
  return (
    `${paint('2', time)} ${paint(LEVEL_COLORS[level] ?? '0', name)} ${String(rec.msg ?? '')}` +
    (rest.length ? ` ${paint('2', rest.join(' '))}` : '') +
    (err?.stack && level >= 50 && process.env.TCPCAST_DEBUG ? `\n${err.stack}` : '') +
    '\n'
  );
}

function prettyStream(color: boolean): { write(chunk: string): void } {
  return {
    write(chunk: string) {
      // A progress bar shares the terminal line: take it away, write the log line, draw it again below.
      clearProgressLine();
      for (const line of chunk.split('\n')) if (line) writeSync(2, formatPrettyLine(line, color));
      redrawProgressLine();
    },
  };
}

/** A plain text line on stderr for pretty mode (tcpdump's "listening on ..." and its closing counts), kept clear of a progress bar. */
export function writeTextLine(text: string): void {
  clearProgressLine();
  writeSync(2, text.endsWith('\n') ? text : `${text}\n`);
  redrawProgressLine();
}
