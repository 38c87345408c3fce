// Measures how far the forecast trails (or leads) the actual throughput, and its error against persistence's.
//
// Definitions (one implementation: the dashboard server computes these and the page only shows them):
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

  let bestLag: number | null = null;
  let bestCorrelation = -Infinity;
  const maxLag = Math.min(options.maxLagWindows, span - 1);
  // Visit 0, -1, +1, -2, +2 ...: with a strict ">" the first maximum found is the tie-break winner.
  for (let step = 0; step <= 2 * maxLag; step++) {
    const k = step === 0 ? 0 : step % 2 === 1 ? -((step + 1) >> 1) : step >> 1;
    const r = laggedPearson(a, p, k, options.minPairs);
    if (r !== null && r > bestCorrelation) {
      bestCorrelation = r;
      bestLag = k;
    }
  }

  return {
    predictedWindows,
    lagWindows: bestLag,
    lagMs: bestLag === null ? null : bestLag * options.windowMs,
    correlation: bestLag === null ? null : bestCorrelation,
    mae: maeWindows > 0 ? absError / maeWindows : null,
    persistenceMae: maeWindows > 0 ? absPersistenceError / maeWindows : null,
    maeWindows,
  };
}

/** Pearson correlation of a[t] with p[t + k] over slots where both are finite; null when too few or flat. */
function laggedPearson(a: Float64Array, p: Float64Array, k: number, minPairs: number): number | null {
  const from = Math.max(0, -k);
  const to = Math.min(a.length, p.length - k);
  let count = 0;
  let sumA = 0;
  let sumP = 0;
  let minA = Infinity;
  let maxA = -Infinity;
  let minP = Infinity;
  let maxP = -Infinity;
  for (let t = from; t < to; t++) {
    const x = a[t];
    const y = p[t + k];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    count++;
    sumA += x;
    sumP += y;
    if (x < minA) minA = x;
    if (x > maxA) maxA = x;
    if (y < minP) minP = y;
    if (y > maxP) maxP = y;
  }
  // A flat side has no correlation; checked exactly, since rounding in the mean makes its variance tiny, not 0.
  if (count < minPairs || minA === maxA || minP === maxP) return null;
  const meanA = sumA / count;
  const meanP = sumP / count;
  // Two passes around the means: the one-pass sum-of-squares formula cancels badly for large, steady rates.
  let covariance = 0;
  let varianceA = 0;
  let varianceP = 0;
  for (let t = from; t < to; t++) {
    const x = a[t];
    const y = p[t + k];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    covariance += (x - meanA) * (y - meanP);
    varianceA += (x - meanA) ** 2;
    varianceP += (y - meanP) ** 2;
  }
  return covariance / Math.sqrt(varianceA * varianceP);
}
