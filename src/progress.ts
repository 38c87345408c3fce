// Progress of long commands (replay, windows, lab, dataset, train): a bar on a terminal, a plain line every few seconds otherwise.
import { writeSync } from 'node:fs';

export const PROGRESS_LINE_INTERVAL_MS = 5000;
const BAR_REDRAW_MS = 100;
const BAR_WIDTH = 24;

/** 1000-based, as network people count bytes (and as the dashboard shows them). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export interface ProgressOptions {
  /** What is progressing ("replay trace.pcap", "dataset"). */
  label: string;
  /** The end value; unknown (stdin) shows counts without a percentage. */
  total?: number;
  unit?: 'bytes' | 'count' | 'seconds';
  /** Draw a bar (stderr is a terminal) or write a line every intervalMs. Default: stderr's isTTY. */
  tty?: boolean;
  intervalMs?: number;
  /** Where non-terminal lines go (default: stderr); the daemon sends them through its JSON logger instead. */
  writeLine?: (text: string, state: ProgressState) => void;
}

export interface ProgressState {
  done: number;
  total?: number;
  percent?: number;
  detail?: string;
  elapsedS: number;
}

let activeBar: Progress | undefined;

/** Erases the bar so another line can be written (log lines call this); a no-op without a bar. */
export function clearProgressLine(): void {
  if (activeBar?.drawn) writeSync(2, '\r\x1b[K');
}

export function redrawProgressLine(): void {
  activeBar?.draw(true);
}

export class Progress {
  private done = 0;
  private detail = '';
  private readonly started = Date.now();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private linesWritten = 0;
  drawn = false;
  readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.tty = opts.tty ?? Boolean(process.stderr.isTTY);
    if (this.tty) {
      activeBar = this;
    } else {
      this.timer = setInterval(() => this.line(), opts.intervalMs ?? PROGRESS_LINE_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** `done` in the unit of `total`; `detail` is free text shown after the numbers ("1.2 M packets, 640 windows"). */
  update(done: number, detail?: string): void {
    if (this.stopped) return;
    this.done = done;
    if (detail !== undefined) this.detail = detail;
    if (this.tty) this.draw(false);
  }

  state(): ProgressState {
    const total = this.opts.total;
    const percent = total && total > 0 ? Math.min(100, (100 * this.done) / total) : undefined;
    return { done: this.done, total, percent, detail: this.detail || undefined, elapsedS: (Date.now() - this.started) / 1000 };
  }

  private amount(v: number): string {
    if (this.opts.unit === 'bytes') return formatBytes(v);
    if (this.opts.unit === 'seconds') return formatDuration(v);
    return String(Math.round(v));
  }

  /** "45% (12.3 MB of 27.4 MB, ~20 s left)" or, without a total, "12.3 MB". */
  text(): string {
    const s = this.state();
    const left = s.percent && s.percent > 0 && s.percent < 100 ? `, ~${formatDuration((s.elapsedS * (100 - s.percent)) / s.percent)} left` : '';
    const amounts = s.total !== undefined ? `${this.amount(s.done)} of ${this.amount(s.total)}${left}` : this.amount(s.done);
    return `${s.percent !== undefined ? `${s.percent.toFixed(0)}% ` : ''}(${amounts})${s.detail ? ` ${s.detail}` : ''}`;
  }

  draw(force: boolean): void {
    if (!this.tty || this.stopped) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < BAR_REDRAW_MS) return;
    this.lastDraw = now;
    const p = this.state().percent;
    const filled = p === undefined ? 0 : Math.round((p / 100) * BAR_WIDTH);
    const bar = p === undefined ? '' : `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] `;
    const width = process.stderr.columns || 100;
    writeSync(2, `\r\x1b[K${`${this.opts.label} ${bar}${this.text()}`.slice(0, width - 1)}`);
    this.drawn = true;
  }

  private line(): void {
    this.linesWritten++;
    const text = `${this.opts.label}: ${this.text()}`;
    if (this.opts.writeLine) this.opts.writeLine(text, this.state());
    else writeSync(2, `${text}\n`);
  }

  /**
   * Ends the bar (left on screen) or, off a terminal, writes a last line when periodic lines were written (a
   * short run stays silent, so scripts reading stderr see only what they saw before); idempotent.
   */
  stop(): void {
    if (this.stopped) return;
    if (this.tty) {
      this.draw(true);
      if (this.drawn) writeSync(2, '\n');
      if (activeBar === this) activeBar = undefined;
    } else {
      if (this.timer) clearInterval(this.timer);
      if (this.linesWritten > 0 || this.opts.writeLine) this.line();
    }
    this.stopped = true;
  }
}

/**
 * How far the capture thread has read into `path`: its file offset from /proc/self/fdinfo (Linux), found by the
 * fd whose link is the file. No native change needed, and the offset is exactly what a bar over the file size
 * wants (stdio read-ahead makes it lead by at most one buffer). Returns undefined where /proc is not available.
 */
export function fileOffsetReader(path: string): () => number | undefined {
  const { readdirSync, readlinkSync, readFileSync, realpathSync } = require('node:fs') as typeof import('node:fs');
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return () => undefined;
  }
  let fd: string | undefined;
  const find = (): string | undefined => {
    try {
      for (const f of readdirSync('/proc/self/fd')) {
        try {
          if (readlinkSync(`/proc/self/fd/${f}`) === target) return f;
        } catch {
          // fds come and go while we look
        }
      }
    } catch {
      // no /proc
    }
    return undefined;
  };
  let last = 0;
  return () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (fd === undefined) fd = find();
      if (fd === undefined) return last || undefined;
      try {
        const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        if (m && readlinkSync(`/proc/self/fd/${fd}`) === target) {
          last = Math.max(last, Number(m[1]));
          return last;
        }
      } catch {
        // closed: the reader is done or reopened it
      }
      fd = undefined;
    }
    return last || undefined;
  };
}
