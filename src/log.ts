// The structured logger (pino, JSON lines on stderr) shared by the daemon, sinks and commands.
import pino from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * JSON lines on stderr keep stdout free for data (`packets`, `windows` write there) and are what
 * journald, Loki and jq expect. Synchronous destination: the last lines before an exit must not be lost.
 */
export function createLogger(level: LogLevel = 'info', name = 'tcpcast'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
