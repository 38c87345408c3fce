// Forecast metrics: MAE, RMSE, R2, congestion ROC AUC (exact, Mann-Whitney) and lag by cross-correlation.
import { correlationPeak } from '../lag';

export interface Metrics {
  n: number;
  mae: number;
  rmse: number;
  /** null when the actual series is constant (R2 undefined). */
  r2: number | null;
  /** null when the data has no congested or no uncongested window. */
  auc: number | null;
  /** Lag (windows) maximising corr(pred[t], actual[t - lag]); persistence gives +1, a perfect forecast 0. */
  lag_windows: number | null;
}

export const MAX_LAG_WINDOWS = 5;

/**
 * Congestion = actual next-window throughput below the threshold; the score is -prediction (a low forecast
 * says "congested"). AUC = P(score of a congested window > score of an uncongested one) + half the ties,
 * computed exactly from average ranks.
 */
export function congestionAuc(actual: ArrayLike<number>, predicted: ArrayLike<number>, thresholdMbps: number): number | null {
  const n = actual.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => predicted[b] - predicted[a]); // ascending score = -pred
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && predicted[idx[j + 1]] === predicted[idx[i]]) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++)
      if (actual[idx[k]] < thresholdMbps) {
        positives++;
        rankSumPositives += averageRank;
      }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The lag (src/lag.ts) of the forecasts pooled over sessions: each session on one grid, maxLag empty windows
 * apart, so no pair crosses a session boundary.
 */
export function lagByCrossCorrelation(sessions: { actual: ArrayLike<number>; predicted: ArrayLike<number> }[], maxLag = MAX_LAG_WINDOWS): number | null {
  const length = sessions.reduce((n, s) => n + Math.min(s.actual.length, s.predicted.length) + maxLag, 0);
  const a = new Float64Array(length).fill(NaN);
  const p = new Float64Array(length).fill(NaN);
  let at = 0;
  for (const s of sessions) {
    const n = Math.min(s.actual.length, s.predicted.length);
    for (let t = 0; t < n; t++) (a[at + t] = s.actual[t]), (p[at + t] = s.predicted[t]);
    at += n + maxLag;
  }
  return correlationPeak(a, p, maxLag, 3).lag;
}

/** All metrics over sessions (each a time-ordered run of forecasts); error metrics pool every sample. */
export function computeMetrics(sessions: { actual: ArrayLike<number>; predicted: ArrayLike<number> }[], thresholdMbps: number): Metrics {
  const actual: number[] = [];
  const predicted: number[] = [];
  for (const s of sessions) for (let i = 0; i < s.actual.length; i++) (actual.push(s.actual[i]), predicted.push(s.predicted[i]));
  const n = actual.length;
  let absSum = 0, sqSum = 0, mean = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - actual[i];
    absSum += Math.abs(e);
    sqSum += e * e;
    mean += actual[i];
  }
  mean /= n || 1;
  let total = 0;
  for (let i = 0; i < n; i++) total += (actual[i] - mean) ** 2;
  return {
    n,
    mae: n ? absSum / n : NaN,
    rmse: n ? Math.sqrt(sqSum / n) : NaN,
    r2: total > 0 ? 1 - sqSum / total : null,
    auc: n ? congestionAuc(actual, predicted, thresholdMbps) : null,
    lag_windows: lagByCrossCorrelation(sessions),
  };
}
