// Synthetic window rows for sink benchmarks and tests: K rows written as fast as the sink accepts them.
import { WINDOW_VALUE_COLUMNS, type WindowRow, type WindowValueColumn } from '../features';
import type { Sink } from './sink';

export const NS_PER_MS = 1_000_000n;

export interface SyntheticOptions {
  /** Rows per window close (series count, including `all`). */
  seriesPerWindow?: number;
  /** First window end, ns since the epoch. */
  startNs?: bigint;
  windowNs?: bigint;
  iface?: string;
}

/**
 * Deterministic rows: values derive from the row index with fractional parts that need full float64
 * precision, so a sink that rounds anything shows up in a comparison. Every 7th row has no forecast yet.
 */
export function syntheticRows(count: number, opts: SyntheticOptions = {}): WindowRow[][] {
  const perWindow = Math.max(1, opts.seriesPerWindow ?? 4);
  const windowNs = opts.windowNs ?? 50n * NS_PER_MS;
  const startNs = opts.startNs ?? BigInt(Date.now() - 3_600_000) * NS_PER_MS + 123_457n;
  const iface = opts.iface ?? 'lo';
  const windows: WindowRow[][] = [];
  for (let i = 0; i < count; i++) {
    const w = Math.floor(i / perWindow);
    const s = i % perWindow;
    if (s === 0) windows.push([]);
    const values = {} as Record<WindowValueColumn, number>;
    WINDOW_VALUE_COLUMNS.forEach((col, c) => {
      values[col] = (i + 1) * 1.000123456789 + c / 3 + Math.sqrt(2) * 1e-7;
    });
    values.is_silent = i % 5 === 0 ? 1 : 0;
    values.delay_gradient = -values.delay_gradient;
    windows[w].push({
      windowEndNs: startNs + BigInt(w) * windowNs,
      iface,
      series: s === 0 ? 'all' : `tcp 10.0.0.1:${40000 + s} 10.0.0.2:5201`,
      values,
      predictedThroughput: i % 7 === 0 ? null : values.throughput_mbps * 0.987654321,
    });
  }
  return windows;
}

/** Writes K synthetic rows window by window, then flushes; returns the elapsed time and the sink's counters. */
export async function writeSyntheticRows(sink: Sink, count: number, opts: SyntheticOptions = {}): Promise<{ elapsedMs: number; stats: Record<string, number> }> {
  const windows = syntheticRows(count, opts);
  const t0 = process.hrtime.bigint();
  for (const rows of windows) sink.write(rows);
  await sink.flush();
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { elapsedMs, stats: sink.stats() };
}
