// Unit tests of the dashboard's lag (cross-correlation peak) and MAE measurement against an independent, brute-force calculation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measurePhase } from '../../src/dashboard/phase';
// Deterministic, so a failure can be replayed.
import { seededRandom as random } from '../../src/random';

const WINDOW_MS = 50;
const OPTIONS = { windowMs: WINDOW_MS, maxLagWindows: 10, minPairs: 8 };

/** A throughput-like signal: a random walk around a level, clipped at zero. */
function walk(rand: () => number, n: number): number[] {
  const out: number[] = [];
  let x = 50;
  for (let i = 0; i < n; i++) {
    x = Math.max(0, x + (rand() - 0.5) * 20);
    out.push(x);
  }
  return out;
}

/**
 * The independent calculation: pairs found by looking window numbers up in a Map (no dense grid), the
 * correlation by the textbook one-pass formula, every lag kept, the peak picked at the end.
 */
function bruteForce(index: number[], actual: number[], predicted: number[], maxLag: number, minPairs: number) {
  const byIndex = new Map<number, { a: number; p: number }>();
  index.forEach((w, i) => byIndex.set(w, { a: actual[i], p: predicted[i] }));
  const correlations: { lag: number; r: number }[] = [];
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [w, { a }] of byIndex) {
      const later = byIndex.get(w + lag);
      if (later === undefined || Number.isNaN(a) || Number.isNaN(later.p)) continue;
      xs.push(a);
      ys.push(later.p);
    }
    const n = xs.length;
    if (n < minPairs) continue;
    const sx = xs.reduce((s, v) => s + v, 0);
    const sy = ys.reduce((s, v) => s + v, 0);
    const sxx = xs.reduce((s, v) => s + v * v, 0);
    const syy = ys.reduce((s, v) => s + v * v, 0);
    const sxy = xs.reduce((s, v, i) => s + v * ys[i], 0);
    const denominator = Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    if (!(denominator > 0)) continue;
    correlations.push({ lag, r: (n * sxy - sx * sy) / denominator });
  }
  let best: { lag: number; r: number } | null = null;
  for (const c of correlations) {
    const better =
      best === null ||
      c.r > best.r + 1e-12 ||
      (Math.abs(c.r - best.r) <= 1e-12 && (Math.abs(c.lag) < Math.abs(best.lag) || (Math.abs(c.lag) === Math.abs(best.lag) && c.lag < best.lag)));
    if (better) best = c;
  }
  let errorSum = 0;
  let persistenceSum = 0;
  let count = 0;
  for (const [w, { a, p }] of byIndex) {
    const previous = byIndex.get(w - 1);
    if (Number.isNaN(a) || Number.isNaN(p) || previous === undefined || Number.isNaN(previous.a)) continue;
    errorSum += Math.abs(p - a);
    persistenceSum += Math.abs(previous.a - a);
    count++;
  }
  return { best, mae: count ? errorSum / count : null, persistenceMae: count ? persistenceSum / count : null, count };
}

test('a prediction shifted by d windows is measured as lag d (positive: trails), in ms via the window length', () => {
  const rand = random(1);
  const n = 300;
  const series = walk(rand, n + 20);
  for (const shift of [-3, -1, 0, 1, 2, 5]) {
    const index: number[] = [];
    const actual: number[] = [];
    const predicted: number[] = [];
    for (let t = 10; t < n + 10; t++) {
      index.push(1000 + t);
      actual.push(series[t]);
      predicted.push(series[t - shift] + (rand() - 0.5)); // predicted[t + shift] follows actual[t]
    }
    const result = measurePhase(index, actual, predicted, OPTIONS);
    assert.equal(result.lagWindows, shift, `shift ${shift}`);
    assert.equal(result.lagMs, shift * WINDOW_MS);
    assert.ok(result.correlation! > 0.9, `correlation at the true shift is high, got ${result.correlation}`);
  }
});

test('persistence trails by exactly one window and its MAE equals the persistence MAE', () => {
  const actual = walk(random(2), 200);
  const index = actual.map((_, i) => i);
  const predicted = actual.map((_, i) => (i === 0 ? NaN : actual[i - 1]));
  const result = measurePhase(index, actual, predicted, OPTIONS);
  assert.equal(result.lagWindows, 1);
  assert.equal(result.lagMs, WINDOW_MS);
  assert.equal(result.predictedWindows, 199);
  assert.equal(result.maeWindows, 199);
  assert.ok(result.mae! > 0);
  assert.equal(result.mae, result.persistenceMae);
});

test('scale and offset errors do not move the peak', () => {
  const actual = walk(random(3), 250);
  const index = actual.map((_, i) => i);
  const predicted = actual.map((_, i) => (i < 2 ? NaN : 3 * actual[i - 2] + 40));
  const result = measurePhase(index, actual, predicted, OPTIONS);
  assert.equal(result.lagWindows, 2);
  assert.ok(Math.abs(result.correlation! - 1) < 1e-9);
});

test('missing windows are gaps on the time grid, not shifts of what follows', () => {
  const rand = random(4);
  const full = walk(rand, 400);
  const index: number[] = [];
  const actual: number[] = [];
  const predicted: number[] = [];
  for (let t = 1; t < full.length; t++) {
    if (t % 7 === 3 || (t > 100 && t < 130)) continue; // windows the series never reported
    index.push(t);
    actual.push(full[t]);
    predicted.push(full[t - 1]);
  }
  const result = measurePhase(index, actual, predicted, OPTIONS);
  assert.equal(result.lagWindows, 1, 'gaps would smear a persistence forecast across lags 0 and 1 if they shifted the data');
  assert.ok(Math.abs(result.correlation! - 1) < 1e-9);
});

test('matches the brute-force calculation on noisy data with gaps and missing forecasts', () => {
  for (let seed = 10; seed < 40; seed++) {
    const rand = random(seed);
    const n = 60 + Math.floor(rand() * 200);
    const base = walk(rand, n + 10);
    const trueLag = Math.floor(rand() * 9) - 4;
    const noise = rand() * 15;
    const index: number[] = [];
    const actual: number[] = [];
    const predicted: number[] = [];
    for (let t = 5; t < n + 5; t++) {
      if (rand() < 0.1) continue;
      index.push(t);
      actual.push(base[t]);
      predicted.push(rand() < 0.15 ? NaN : base[t - trueLag] + (rand() - 0.5) * noise);
    }
    const expected = bruteForce(index, actual, predicted, OPTIONS.maxLagWindows, OPTIONS.minPairs);
    const result = measurePhase(index, actual, predicted, OPTIONS);
    assert.equal(result.lagWindows, expected.best?.lag ?? null, `seed ${seed}`);
    if (expected.best) assert.ok(Math.abs(result.correlation! - expected.best.r) < 1e-9, `seed ${seed} correlation`);
    assert.equal(result.maeWindows, expected.count, `seed ${seed}`);
    assert.ok(Math.abs(result.mae! - expected.mae!) < 1e-9, `seed ${seed} mae`);
    assert.ok(Math.abs(result.persistenceMae! - expected.persistenceMae!) < 1e-9, `seed ${seed} persistence mae`);
  }
});

test('no lag without enough pairs or with a flat series; no MAE without forecasts', () => {
  const short = measurePhase([1, 2, 3, 4], [1, 2, 3, 4], [NaN, 1, 2, 3], OPTIONS);
  assert.equal(short.lagWindows, null);
  assert.equal(short.lagMs, null);
  assert.equal(short.maeWindows, 3);
  assert.equal(short.mae, 1);
  assert.equal(short.persistenceMae, 1);

  const index = Array.from({ length: 50 }, (_, i) => i);
  const flat = measurePhase(index, index.map(() => 0.1), index.map((i) => i), OPTIONS);
  assert.equal(flat.lagWindows, null, 'an idle link (constant throughput) has no meaningful lag');

  const none = measurePhase(index, index.map((i) => i), index.map(() => NaN), OPTIONS);
  assert.equal(none.predictedWindows, 0);
  assert.equal(none.mae, null);
  assert.equal(none.lagWindows, null);

  assert.equal(measurePhase([], [], [], OPTIONS).lagWindows, null);
});
