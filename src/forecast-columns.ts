// The forecast outputs every sink writes, declared once: per horizon p10/p50/p90 and which forecaster served; CSV and InfluxDB derive from this list.

/**
 * Horizon labels written by the sinks: the default horizons of a model at 50 ms windows (src/forecast/spec.ts
 * defaultHorizons: the next window, and the mean over the next second). A model with other horizons fills the
 * ones whose labels match; the others stay empty.
 */
export const FORECAST_HORIZONS = ['50ms', '1s'] as const;
export const FORECAST_QUANTILES = ['p10', 'p50', 'p90'] as const;
export type ForecastQuantile = (typeof FORECAST_QUANTILES)[number];

/** One horizon's served forecast, as a row carries it (Mbit/s; `served`: the network or the tuned EWMA). */
export interface RowForecast {
  p10: number;
  p50: number;
  p90: number;
  served: 'model' | 'ewma';
}
/** A row's forecasts by horizon label. */
export type RowForecasts = Record<string, RowForecast>;

export interface ForecastColumn {
  /** Column / field name: predicted_<horizon>_<p10|p50|p90> or predicted_<horizon>_served. */
  name: string;
  horizon: string;
  key: ForecastQuantile | 'served';
}

/** Every forecast column in order: per horizon its three quantiles, then which forecaster served. */
export const FORECAST_COLUMNS: readonly ForecastColumn[] = FORECAST_HORIZONS.flatMap((horizon) => [
  ...FORECAST_QUANTILES.map((key) => ({ name: `predicted_${horizon}_${key}`, horizon, key })),
  { name: `predicted_${horizon}_served`, horizon, key: 'served' as const },
]);
export const FORECAST_COLUMN_NAMES = FORECAST_COLUMNS.map((c) => c.name);

/** The value of a forecast column in a row's forecasts (undefined when that horizon has no forecast). */
export function forecastColumnValue(forecasts: RowForecasts | undefined | null, column: ForecastColumn): number | string | undefined {
  const f = forecasts?.[column.horizon];
  return f === undefined ? undefined : f[column.key];
}
