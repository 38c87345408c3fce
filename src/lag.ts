// Lag of a forecast behind the actual series, by lagged Pearson correlation: one definition for `tcpcast eval` and the dashboard.
//
// Lag k maximises corr(actual[t], predicted[t + k]) over the t where both are finite. Persistence
// (predicted[t] = actual[t - 1]) has lag +1: positive trails, negative leads. Ties go to the smallest |k|,
// then to the negative k, so the answer is deterministic.

export interface CorrelationPeak {
  /** null when no lag had enough pairs with variance on both sides. */
  lag: number | null;
  correlation: number | null;
}

/**
 * a and p on one grid (same index = same window), NaN where a value is missing; separate runs (sessions) can
 * share a grid when at least maxLag NaN slots lie between them, so that no pair crosses from one to the next.
 */
export function correlationPeak(a: Float64Array, p: Float64Array, maxLag: number, minPairs: number): CorrelationPeak {
  let lag: number | null = null;
  let best = -Infinity;
  // Visit 0, -1, +1, -2, +2 ...: with a strict ">" the first maximum found is the tie-break winner.
  for (let step = 0; step <= 2 * maxLag; step++) {
    const k = step === 0 ? 0 : step % 2 === 1 ? -((step + 1) >> 1) : step >> 1;
    const r = laggedPearson(a, p, k, minPairs);
    if (r !== null && r > best) {
      best = r;
      lag = k;
    }
  }
  return { lag, correlation: lag === null ? null : best };
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
