// Measures how far the forecast trails (or leads) the actual throughput, and its error against persistence's.
//
// Definitions (one implementation: the dashboard server computes these and the page only shows them; the lag
// itself is src/lag.ts, shared with `tcpcast eval`):
// - Windows are placed on a grid by their index (window end / window length), so a missing window is a gap,
//   never a silent shift of everything after it.
// - Lag k (in windows) maximises the Pearson correlation of actual[t] with predicted[t + k], over the pairs
//   where both exist. A forecast that only repeats the last value (persistence: predicted[t] = actual[t - 1])
//   has predicted[t + 1] = actual[t], so its lag is +1 window: positive means the prediction trails the actual,
//   negative means it leads. Pearson per lag (not a raw dot product) so that lags with fewer overlapping
//   pairs are not penalised and a constant offset or scale error does not move the peak.
// - Ties (equal correlation) go to the smallest |k|, then to the negative k: a deterministic answer.
// - MAE is mean |predicted[t] - actual[t]| over windows with a prediction; persistence's MAE is
//   mean |actual[t - 1] - actual[t]| over those same windows that also have actual[t - 1], so both errors
//   describe the same stretch of time and "better than persistence" is a fair comparison.
import { correlationPeak } from '../lag';

export interface PhaseOptions {
  /** Window length, to convert the lag to milliseconds. */
  windowMs: number;
  /** Largest |lag| searched, in windows. */
  maxLagWindows: number;
  /** Fewest overlapping pairs for a correlation to count (short overlaps give noisy peaks). */
  minPairs: number;
}

export interface PhaseResult {
  /** Windows with both an actual value and a prediction. */
  predictedWindows: number;
  /** Lag of the correlation peak in windows; null when no lag had enough pairs with non-zero variance. */
  lagWindows: number | null;
  lagMs: number | null;
  /** Pearson correlation at the peak. */
  correlation: number | null;
  /** Forecast MAE, Mbps (same unit as the inputs). */
  mae: number | null;
  /** Persistence (last value) MAE over the same windows, Mbps. */
  persistenceMae: number | null;
  /** Windows used for both MAEs (have a prediction and a previous actual). */
  maeWindows: number;
}

export const DEFAULT_PHASE_OPTIONS: Omit<PhaseOptions, 'windowMs'> = { maxLagWindows: 20, minPairs: 8 };

/**
 * windowIndex: integer window numbers (e.g. round(windowEnd / windowLength)); actual and predicted are aligned
 * with it, NaN where a value is missing (a window without a forecast yet). The grid spans min..max of
 * windowIndex, so the caller bounds that range (the dashboard passes only its last N windows of time).
 */
export function measurePhase(
  windowIndex: ArrayLike<number>,
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: PhaseOptions,
): PhaseResult {
  const n = windowIndex.length;
  const empty: PhaseResult = {
    predictedWindows: 0,
    lagWindows: null,
    lagMs: null,
    correlation: null,
    mae: null,
    persistenceMae: null,
    maeWindows: 0,
  };
  if (n === 0) return empty;

  // Dense grid: slot = windowIndex - first; gaps stay NaN (a repeated window index keeps the last values).
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    first = Math.min(first, windowIndex[i]);
    last = Math.max(last, windowIndex[i]);
  }
  const span = last - first + 1;
  const a = new Float64Array(span).fill(NaN);
  const p = new Float64Array(span).fill(NaN);
  for (let i = 0; i < n; i++) {
    const slot = windowIndex[i] - first;
    a[slot] = actual[i];
    p[slot] = predicted[i];
  }

  let predictedWindows = 0;
  let absError = 0;
  let absPersistenceError = 0;
  let maeWindows = 0;
  for (let t = 0; t < span; t++) {
    if (!Number.isFinite(a[t]) || !Number.isFinite(p[t])) continue;
    predictedWindows++;
    if (t === 0 || !Number.isFinite(a[t - 1])) continue;
    absError += Math.abs(p[t] - a[t]);
    absPersistenceError += Math.abs(a[t - 1] - a[t]);
    maeWindows++;
  }

  const peak = correlationPeak(a, p, Math.min(options.maxLagWindows, span - 1), options.minPairs);

  return {
    predictedWindows,
    lagWindows: peak.lag,
    lagMs: peak.lag === null ? null : peak.lag * options.windowMs,
    correlation: peak.correlation,
    mae: maeWindows > 0 ? absError / maeWindows : null,
    persistenceMae: maeWindows > 0 ? absPersistenceError / maeWindows : null,
    maeWindows,
  };
}
