// capture -> sequence buffers/forecast -> sinks: turns native window batches into rows, attaches forecasts, fans out to sinks.
import type { SeriesInfo, WindowBatch, WindowRow } from './features';
import { batchRowValues } from './features';
import type { Sink } from './sinks/sink';
import type { Logger } from './log';

/** What the pipeline needs from a capture (live or file): batches, a way to stop, counters. */
export interface WindowSource extends AsyncIterable<WindowBatch> {
  stop(): Promise<void>;
  stats(): Record<string, number>;
  /** File sources are paced by the reader (backpressure); live sources cannot wait. */
  readonly live: boolean;
}

/** What the pipeline needs from forecasting: feed one window close, get next-window predictions per series. */
export interface Forecaster {
  /** rows: every series' window of one close. Resolves with predicted throughput (Mbps) for the NEXT window, by seriesId(row). */
  observe(rows: WindowRow[]): Promise<Map<string, number>>;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** A series is unique per interface: the same 5-tuple seen on two interfaces is two series. */
export function seriesId(row: Pick<WindowRow, 'iface' | 'series'>): string {
  return `${row.iface}\u0000${row.series}`;
}

export interface PipelineOptions {
  source: WindowSource;
  sinks: Sink[];
  forecaster?: Forecaster;
  logger: Logger;
  windowMs: number;
}

export interface PipelineStats {
  batches: number;
  windows: number;
  windowCloses: number;
  predictionsAttached: number;
  /** Windows whose forecast was requested but had not arrived when the window closed (live sources only). */
  predictionsLate: number;
  forecastErrors: number;
  sinkErrors: number;
  series: number;
}

/**
 * Predictions are made at the close of window t for window t+1 and attached to row t+1 when it closes, so
 * every row carries the forecast that was made BEFORE its actual value was known (what Grafana's phase shift shows).
 */
export class Pipeline {
  private readonly series = new Map<number, SeriesInfo>();
  private readonly pendingForecast = new Map<string, { windowEndNs: bigint; value: number }>();
  /** Window end each series' latest forecast request was for: tells a late forecast from none. */
  private readonly requestedFor = new Map<string, bigint>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly windowNs: bigint;
  readonly counters: PipelineStats = {
    batches: 0,
    windows: 0,
    windowCloses: 0,
    predictionsAttached: 0,
    predictionsLate: 0,
    forecastErrors: 0,
    sinkErrors: 0,
    series: 0,
  };

  constructor(private readonly opts: PipelineOptions) {
    this.windowNs = BigInt(Math.round(opts.windowMs * 1e6));
  }

  /** Consumes the source until it ends (end of file, or stop()), then drains forecasts. Sinks are NOT closed here. */
  async run(): Promise<void> {
    for await (const batch of this.opts.source) {
      await this.handleBatch(batch);
    }
    await this.drain();
  }

  /** Waits for forecasts still in flight (shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  stats(): PipelineStats {
    return { ...this.counters, series: this.series.size };
  }

  private async handleBatch(batch: WindowBatch): Promise<void> {
    this.counters.batches++;
    for (const s of batch.newSeries) this.series.set(s.index, s);
    // A batch may hold several window closes: hand them to sinks and the forecaster one close at a time, in order.
    let start = 0;
    while (start < batch.count) {
      const end = batch.windowEndNs[start];
      let stop = start;
      while (stop < batch.count && batch.windowEndNs[stop] === end) stop++;
      await this.handleClose(batch, start, stop);
      start = stop;
    }
  }

  private async handleClose(batch: WindowBatch, from: number, to: number): Promise<void> {
    const rows: WindowRow[] = [];
    for (let i = from; i < to; i++) {
      const info = this.series.get(batch.series[i]);
      const row: WindowRow = {
        windowEndNs: batch.windowEndNs[i],
        iface: info?.iface ?? '?',
        series: info?.key ?? `#${batch.series[i]}`,
        values: batchRowValues(batch, i),
        predictedThroughput: null,
      };
      const id = seriesId(row);
      const forecast = this.pendingForecast.get(id);
      if (forecast && forecast.windowEndNs === row.windowEndNs) {
        row.predictedThroughput = forecast.value;
        this.counters.predictionsAttached++;
      } else if (this.requestedFor.get(id) === row.windowEndNs) {
        this.counters.predictionsLate++;
      }
      rows.push(row);
    }
    this.counters.windows += rows.length;
    this.counters.windowCloses++;
    const nextWindowEndNs = batch.windowEndNs[from] + this.windowNs;

    for (const sink of this.opts.sinks) {
      try {
        sink.write(rows);
      } catch (err) {
        this.counters.sinkErrors++;
        this.opts.logger.error({ sink: sink.name, err }, 'sink write failed');
      }
    }
    if (!this.opts.forecaster) return;

    for (const row of rows) this.requestedFor.set(seriesId(row), nextWindowEndNs);
    const task = this.opts.forecaster.observe(rows).then(
      (predictions) => {
        for (const row of rows) {
          const id = seriesId(row);
          const value = predictions.get(id);
          if (value !== undefined) this.pendingForecast.set(id, { windowEndNs: nextWindowEndNs, value });
          // No forecast for this series (history not full yet): its next window is not "late".
          else if (this.requestedFor.get(id) === nextWindowEndNs) this.requestedFor.delete(id);
        }
      },
      (err: unknown) => {
        this.counters.forecastErrors++;
        this.opts.logger.warn({ err }, 'forecast failed for a window close');
      },
    );
    // Files wait for the forecast (the reader pauses, nothing is late); live capture never waits on inference.
    if (!this.opts.source.live) {
      await task;
      return;
    }
    const tracked: Promise<void> = task.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
