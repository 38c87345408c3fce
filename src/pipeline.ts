// capture -> sequence buffers/forecast -> sinks: turns native window batches into rows, attaches forecasts, fans out to sinks.
import type { EndedSeries, WindowBatch, WindowRow } from './features';
import { WINDOW_VALUE_COLUMNS } from './features';
import type { RowForecasts } from './forecast-columns';
import { closeRanges, endedAfter, rowAt, SeriesNames } from './capture/rows';
import { CloseLatency, type CloseLatencyStats } from './capture/close-latency';
import type { Sink } from './sinks/sink';
import type { Logger } from './log';

/** What the pipeline needs from a capture (live or file): batches, a way to stop, counters. */
export interface WindowSource extends AsyncIterable<WindowBatch> {
  stop(): Promise<void>;
  stats(): Record<string, number>;
  /** File sources are paced by the reader (backpressure); live sources cannot wait. */
  readonly live: boolean;
}

/** What the pipeline needs from forecasting (src/forecast's Forecaster): feed one window close, get next-window predictions. */
export interface Forecaster {
  /** batch: every series' window of ONE close. Resolves with series index -> predicted throughput (Mbps) of the NEXT window. */
  predict(batch: WindowBatch): Promise<Map<number, number>>;
  /** Every horizon's served forecast (src/forecast-columns.ts) per series; used instead of predict() when present. */
  forecast?(batch: WindowBatch): Promise<Map<number, RowForecasts>>;
  /** The label of the horizon whose p50 is `predicted_throughput` (the next window). */
  readonly horizons?: readonly { label: string }[];
  /** Drops the history of a series that ended (native announces every end: batch.endedSeries). */
  forget?(series: number): void;
  stats(): object;
  close(): Promise<void>;
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
  /** Series live now (known and not ended). */
  series: number;
  /** Series that ended and were forgotten by the pipeline, the forecaster and the sinks. */
  seriesEnded: number;
}

/**
 * Predictions are made at the close of window t for window t+1 and attached to row t+1 when it closes, so
 * every row carries the forecast that was made BEFORE its actual value was known (what Grafana's phase shift shows).
 */
export class Pipeline {
  private readonly names = new SeriesNames();
  private readonly pendingForecast = new Map<number, { windowEndNs: bigint; value: number; forecasts?: RowForecasts }>();
  /** Window end each series' latest forecast request was for: tells a late forecast from none. */
  private readonly requestedFor = new Map<number, bigint>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly windowNs: bigint;
  /** Live sources only: window end -> rows handed to the sinks (what a dashboard viewer waits for). */
  private readonly closeLatency = new CloseLatency();
  readonly counters: PipelineStats = {
    batches: 0,
    windows: 0,
    windowCloses: 0,
    predictionsAttached: 0,
    predictionsLate: 0,
    forecastErrors: 0,
    sinkErrors: 0,
    series: 0,
    seriesEnded: 0,
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

  stats(): PipelineStats & Partial<CloseLatencyStats> {
    return { ...this.counters, series: this.names.size, ...(this.opts.source.live ? this.closeLatency.stats() : {}) };
  }

  private async handleBatch(batch: WindowBatch): Promise<void> {
    this.counters.batches++;
    this.names.add(batch);
    // Each ended series is forgotten right after the close with its last row: before a later close of this batch
    // can start a new series under the same key (port reuse, a connection back after its series went idle).
    const ended = endedAfter(batch);
    this.forgetEnded(ended.get(0));
    // A batch may hold several window closes: hand them to sinks and the forecaster one close at a time, in order.
    for (const [from, to] of closeRanges(batch)) {
      await this.handleClose(batch, from, to);
      for (let i = from + 1; i <= to; i++) this.forgetEnded(ended.get(i));
    }
  }

  /** Ended series leave every map at once (memory bounded by the live series, not by every series ever seen). */
  private forgetEnded(ended: EndedSeries[] | undefined): void {
    if (!ended) return;
    const infos = ended.map((e) => this.names.get(e.index));
    for (const e of ended) {
      this.opts.forecaster?.forget?.(e.index);
      this.pendingForecast.delete(e.index);
      this.requestedFor.delete(e.index);
      this.names.forget(e.index);
      this.counters.seriesEnded++;
    }
    for (const sink of this.opts.sinks) {
      try {
        sink.forgetSeries?.(infos);
      } catch (err) {
        this.counters.sinkErrors++;
        this.opts.logger.error({ sink: sink.name, err }, 'sink forgetSeries failed');
      }
    }
  }

  private async handleClose(batch: WindowBatch, from: number, to: number): Promise<void> {
    const rows: WindowRow[] = [];
    for (let i = from; i < to; i++) {
      const index = batch.series[i];
      const row = rowAt(batch, i, this.names);
      const forecast = this.pendingForecast.get(index);
      if (forecast && forecast.windowEndNs === row.windowEndNs) {
        row.predictedThroughput = forecast.value;
        if (forecast.forecasts) row.forecasts = forecast.forecasts;
        this.counters.predictionsAttached++;
      } else if (this.requestedFor.get(index) === row.windowEndNs) {
        this.counters.predictionsLate++;
      }
      rows.push(row);
    }
    this.counters.windows += rows.length;
    this.counters.windowCloses++;
    const nextWindowEndNs = batch.windowEndNs[from] + this.windowNs;

    if (this.opts.source.live) this.closeLatency.record(batch.windowEndNs[from]);
    for (const sink of this.opts.sinks) {
      try {
        sink.write(rows);
      } catch (err) {
        this.counters.sinkErrors++;
        this.opts.logger.error({ sink: sink.name, err }, 'sink write failed');
      }
    }
    const forecaster = this.opts.forecaster;
    if (!forecaster) return;

    const width = WINDOW_VALUE_COLUMNS.length;
    const close: WindowBatch = {
      count: to - from,
      series: batch.series.subarray(from, to),
      windowEndNs: batch.windowEndNs.subarray(from, to),
      values: batch.values.subarray(from * width, to * width),
      newSeries: [],
    };
    for (const index of close.series) this.requestedFor.set(index, nextWindowEndNs);
    // With forecast(): every horizon's p10/p50/p90 rides along; predicted_throughput is the first horizon's p50.
    const first = forecaster.horizons?.[0]?.label;
    const request: Promise<Map<number, number | RowForecasts>> = forecaster.forecast && first ? forecaster.forecast(close) : forecaster.predict(close);
    const task = request.then(
      (predictions) => {
        for (const index of close.series) {
          // The series ended (and was forgotten) while its forecast was in flight: nothing will carry it.
          if (!this.requestedFor.has(index)) continue;
          const got = predictions.get(index);
          if (got !== undefined)
            this.pendingForecast.set(
              index,
              typeof got === 'number' ? { windowEndNs: nextWindowEndNs, value: got } : { windowEndNs: nextWindowEndNs, value: got[first!].p50, forecasts: got },
            );
          // No forecast for this series (history not full yet, or the pool dropped the batch): not "late".
          else if (this.requestedFor.get(index) === nextWindowEndNs) this.requestedFor.delete(index);
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
