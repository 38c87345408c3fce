// Evaluation metrics against independent computations on small hand-made series.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { baselineForecasts } from '../../src/train/baselines';
import { computeMetrics, congestionAuc, lagByCrossCorrelation } from '../../src/train/metrics';

// A hand-made throughput series with ups and downs (Mbps).
const actual = [30, 12, 25, 40, 8, 15, 33, 27, 5, 19, 44, 21, 9, 36, 17, 28, 6, 31, 24, 14];

it('persistence: MAE is the mean absolute step, and it lags by one window', () => {
  const persistence = baselineForecasts(actual).persistence;
  const a = actual.slice(1);
  const p = Array.from(persistence.slice(1));
  let steps = 0;
  for (let t = 1; t < actual.length; t++) steps += Math.abs(actual[t] - actual[t - 1]);
  const m = computeMetrics([{ actual: a, predicted: p }], 20);
  assert.ok(Math.abs(m.mae - steps / (actual.length - 1)) < 1e-12);
  assert.equal(m.lag_windows, 1);
  // A perfect forecast has lag 0, MAE 0, R2 1; a forecast two windows late has lag 2.
  const perfect = computeMetrics([{ actual: a, predicted: a }], 20);
  assert.deepEqual([perfect.mae, perfect.rmse, perfect.r2, perfect.lag_windows], [0, 0, 1, 0]);
  assert.equal(lagByCrossCorrelation([{ actual: actual.slice(2), predicted: actual.slice(0, -2) }]), 2);
});

it('RMSE and R2 match their definitions', () => {
  const a = [10, 20, 30, 40];
  const p = [12, 18, 33, 40];
  const m = computeMetrics([{ actual: a, predicted: p }], 0);
  assert.ok(Math.abs(m.rmse - Math.sqrt((4 + 4 + 9 + 0) / 4)) < 1e-12);
  assert.ok(Math.abs((m.r2 as number) - (1 - 17 / 500)) < 1e-12); // mean 25: SStot = 225+25+25+225
});

it('congestion AUC equals the pairwise (Mann-Whitney) probability, ties counting half', () => {
  const predicted = actual.map((v, i) => (i % 3 === 0 ? 20 : v + ((i * 7) % 11) - 5)); // includes ties at 20
  let wins = 0, pairs = 0;
  for (let i = 0; i < actual.length; i++)
    for (let j = 0; j < actual.length; j++)
      if (actual[i] < 20 && actual[j] >= 20) {
        pairs++;
        const si = -predicted[i], sj = -predicted[j];
        wins += si > sj ? 1 : si === sj ? 0.5 : 0;
      }
  assert.ok(Math.abs((congestionAuc(actual, predicted, 20) as number) - wins / pairs) < 1e-12);
  assert.equal(congestionAuc([30, 40], [1, 2], 20), null, 'no congested window: undefined');
});

it('EWMA and moving average follow their recurrences', () => {
  const { ewma, moving_average } = baselineForecasts(actual, 0.5, 3);
  assert.equal(ewma[1], 30);
  assert.equal(ewma[2], 0.5 * 12 + 0.5 * 30);
  assert.equal(moving_average[2], (30 + 12) / 2);
  assert.equal(moving_average[5], (25 + 40 + 8) / 3);
  assert.ok(Number.isNaN(ewma[0]));
});
