// The contract every sink (InfluxDB, CSV, dashboard) fulfils for the pipeline.
import type { SeriesInfo, WindowRow } from '../features';

export interface Sink {
  readonly name: string;
  /** Accepts the rows of one window close (all series); must not block the event loop for I/O. */
  write(rows: WindowRow[]): void;
  /** Resolves when everything written so far is durable (or retried until the deadline passes). */
  flush(): Promise<void>;
  /** Flushes, then releases resources. Called once on shutdown. */
  close(): Promise<void>;
  /**
   * These series ended (batch.endedSeries): no more rows will come for them, and a later series may reuse the
   * key. Called right after the close holding each one's last row. Optional: for sinks that keep per-series state.
   */
  forgetSeries?(series: SeriesInfo[]): void;
  /** Log rotation (SIGHUP): reopen files by name. Optional. */
  reopen?(): Promise<void>;
  /** Counters for the stats line and /metrics (points written, retried, dropped, backlog bytes...). */
  stats(): Record<string, number>;
}
