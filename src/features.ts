// The window feature schema shared by capture, CSV, training, inference and sinks: derived from the one list in src/schema.ts.
import { FORECAST_COLUMN_NAMES, type RowForecasts } from './forecast-columns';
import { WINDOW_COLUMNS, type SeriesEndReason, type WindowValueColumn } from './schema';

export type { WindowValueColumn } from './schema';

/** The model's input features, in the order the model sees them (the seed's nine). */
export const FEATURE_NAMES = [
  'size',
  'delay',
  'bif',
  'iat_mean',
  'iat_std',
  'throughput_mbps',
  'delay_gradient',
  'bif_gradient',
  'is_silent',
] as const satisfies readonly WindowValueColumn[];
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** Every value column of a native WindowRecord, in native order (src/schema.ts WINDOW_COLUMNS). */
export const WINDOW_VALUE_COLUMNS: readonly WindowValueColumn[] = WINDOW_COLUMNS.map((c) => c.name);

/** The forecast target: next window's throughput. */
export const TARGET_NAME = 'throughput_mbps' as const;

/** The key of an interface's aggregate series (native/window.cc names it). */
export const AGGREGATE_SERIES = 'all';

/** One series: the aggregate of an interface (key AGGREGATE_SERIES) or one TCP connection. */
export interface SeriesInfo {
  index: number;
  iface: string;
  key: string;
}

/** A series that ended: its last window was in this batch or an earlier one; no more will come, and its index is never reused. */
export interface EndedSeries {
  index: number;
  reason: SeriesEndReason;
}

/**
 * A batch of closed windows as the native side hands it over: columnar typed arrays, one call per batch.
 * values is row-major, count x WINDOW_VALUE_COLUMNS.length.
 */
export interface WindowBatch {
  count: number;
  series: Uint32Array;
  windowEndNs: BigInt64Array;
  values: Float64Array;
  /** Series first seen in this batch (their windows may be in it). */
  newSeries: SeriesInfo[];
  /** Series that ended since the previous batch (native always sets it; hand-made batches may leave it out). */
  endedSeries?: EndedSeries[];
}

/** One window of one series as the sinks see it, with the forecast made for it (if any). */
export interface WindowRow {
  windowEndNs: bigint;
  iface: string;
  series: string;
  values: Record<WindowValueColumn, number>;
  /** Throughput predicted for this window from the windows before it, in Mbps; null when none yet. */
  predictedThroughput: number | null;
  /** Every horizon's served forecast made at the previous close (src/forecast-columns.ts); absent when none. */
  forecasts?: RowForecasts;
}

/** CSV column order: the training-data format and the audit trail. */
export const CSV_COLUMNS = ['window_end_ns', 'iface', 'series', ...WINDOW_VALUE_COLUMNS, 'predicted_throughput', ...FORECAST_COLUMN_NAMES] as const;

/** Reads row i of a batch into a plain record (used by sinks, never per packet). */
export function batchRowValues(batch: WindowBatch, i: number): Record<WindowValueColumn, number> {
  const width = WINDOW_VALUE_COLUMNS.length;
  const out = {} as Record<WindowValueColumn, number>;
  for (let c = 0; c < width; c++) out[WINDOW_VALUE_COLUMNS[c]] = batch.values[i * width + c];
  return out;
}
