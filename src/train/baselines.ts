// Baseline forecasters the model must beat, each from a series' past throughput only.

/** EWMA smoothing factor: weight of the newest window (documented in docs/forecast.md). */
export const DEFAULT_EWMA_ALPHA = 0.3;
/** Moving-average length in windows (250 ms at 50 ms windows). */
export const DEFAULT_MA_WINDOWS = 5;

export type BaselineName = 'persistence' | 'ewma' | 'moving_average';

/**
 * For every window index t of a throughput series, the forecast of window t made from windows < t
 * (NaN for t = 0). EWMA starts at the first window; the moving average uses what exists at the start.
 */
export function baselineForecasts(throughput: ArrayLike<number>, ewmaAlpha = DEFAULT_EWMA_ALPHA, maWindows = DEFAULT_MA_WINDOWS): Record<BaselineName, Float64Array> {
  const n = throughput.length;
  const persistence = new Float64Array(n).fill(NaN);
  const ewma = new Float64Array(n).fill(NaN);
  const movingAverage = new Float64Array(n).fill(NaN);
  let level = NaN;
  let windowSum = 0;
  for (let t = 1; t < n; t++) {
    const prev = throughput[t - 1];
    persistence[t] = prev;
    level = Number.isNaN(level) ? prev : ewmaAlpha * prev + (1 - ewmaAlpha) * level;
    ewma[t] = level;
    windowSum += prev;
    if (t - 1 - maWindows >= 0) windowSum -= throughput[t - 1 - maWindows];
    movingAverage[t] = windowSum / Math.min(t, maWindows);
  }
  return { persistence, ewma, moving_average: movingAverage };
}
