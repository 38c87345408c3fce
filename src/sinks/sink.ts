// The contract every sink (InfluxDB, CSV, dashboard) fulfils for the pipeline, and its one stats shape.
import type { SeriesInfo, WindowRow } from '../features';

/**
 * One shape for every sink, camelCase, so the stats line, /metrics and the final "tcpcast stopped" line read
 * them the same way: rows delivered, rows lost by us (backlog bound, shutdown deadline), rows the destination
 * refused, and bytes still waiting. A sink may add counters of its own (camelCase numbers).
 */
export interface SinkStats {
  /** Rows (points) the destination has accepted. */
  written: number;
  /** Rows lost on our side: the backlog bound forced them out, or shutdown came before they could be written. */
  dropped: number;
  /** Rows the destination refused for good (e.g. HTTP 400): retrying cannot fix them. */
  rejected: number;
  /** Bytes accepted by write() and not yet delivered (queued, in flight, waiting for a retry). */
  backlogBytes: number;
  [extra: string]: number;
}

export interface Sink {
  readonly name: string;
  /** Accepts the rows of one window close (all series); must not block the event loop for I/O. */
  write(rows: WindowRow[]): void;
  /** Resolves when everything written so far is durable (or retried until the deadline passes). */
  flush(): Promise<void>;
  /**
   * Flushes, then releases resources. Called once on shutdown. Must resolve within timeoutMs (when given): what
   * could not be delivered by then is counted in `dropped`, so stats() after close() is final.
   */
  close(timeoutMs?: number): Promise<void>;
  /**
   * These series ended (batch.endedSeries): no more rows will come for them, and a later series may reuse the
   * key. Called right after the close holding each one's last row. Optional: for sinks that keep per-series state.
   */
  forgetSeries?(series: SeriesInfo[]): void;
  /** Log rotation (SIGHUP): reopen files by name. Optional. */
  reopen?(): Promise<void>;
  stats(): SinkStats;
}

/** True when the sink lost rows (dropped or rejected): the run's exit code is then 3, not 0. */
export function sinkLostRows(stats: SinkStats): boolean {
  return stats.dropped > 0 || stats.rejected > 0;
}
