// Online state per series: adaptive calibration reaches nominal coverage on a known distribution; fallback serves the EWMA when the model is worse.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { OnlineSeries } from '../../src/forecast/online';
import { seededRandom } from '../../src/train/dataset';

/** Standard normal draws from a seeded uniform (Box-Muller). */
function normal(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

it('calibration: a badly scaled interval converges to 10% below p10 and 10% above p90 on a known distribution', () => {
  // Throughput iid N(8, 2^2) Mbit/s (clamped at 0, which at 4 sigma never binds). The "network" claims a band
  // of +-0.2 Mbit/s around the true median, far too narrow: raw coverage would be ~8% inside the band.
  const draw = normal(seededRandom(17));
  const series = new OnlineSeries({ horizons: [{ label: '50ms', windows: 1 }], alphas: [0.2] });
  const warmup = 2000;
  const total = 12000;
  let below10 = 0;
  let above90 = 0;
  let counted = 0;
  let rawBelow10 = 0;
  let sumP10 = 0;
  let sumP90 = 0;
  for (let t = 0; t < total; t++) {
    const [f] = series.serve([[7.8, 8, 8.2]], [0.1, 0.5, 0.9]);
    if (t >= total - 4000) (sumP10 += f.p10), (sumP90 += f.p90);
    assert.ok(f.p10 <= f.p50 && f.p50 <= f.p90, 'served quantiles never cross');
    const y = Math.max(0, 8 + 2 * draw());
    series.observe(y);
    if (y < 7.8) rawBelow10++;
    if (t >= warmup) {
      counted++;
      if (y < f.p10) below10++;
      if (y > f.p90) above90++;
    }
  }
  assert.ok(rawBelow10 / total > 0.4, 'uncalibrated, the band misses by far (the test is not vacuous)');
  assert.ok(Math.abs(below10 / counted - 0.1) < 0.02, `share below p10 after warm-up: ${below10 / counted}`);
  assert.ok(Math.abs(above90 / counted - 0.1) < 0.02, `share above p90 after warm-up: ${above90 / counted}`);
  // The band hovers around the true quantiles: 8 -+ 1.2816 x 2 = 5.44 / 10.56 (mean over the last 4000 steps).
  const p10 = sumP10 / 4000;
  const p90 = sumP90 / 4000;
  assert.ok(Math.abs(p10 - 5.44) < 0.4 && Math.abs(p90 - 10.56) < 0.4, `mean band ${p10}..${p90}`);
  const c = series.coverage(0);
  assert.equal(c.resolved, total);
});

it('calibration holds for a 1 s horizon (forecasts resolve 20 windows later) on a series with a level shift', () => {
  const draw = normal(seededRandom(3));
  const series = new OnlineSeries({ horizons: [{ label: '1s', windows: 20 }], alphas: [0.1] });
  const ys: number[] = [];
  const served: { p10: number; p90: number; at: number }[] = [];
  for (let t = 0; t < 16000; t++) {
    // The rate drops from 20 to 5 Mbit/s halfway: a new link, for which the network's band (from 20 Mbit/s) is wrong.
    const level = t < 8000 ? 20 : 5;
    const [f] = series.serve([[level * 0.97, level, level * 1.03]], [0.1, 0.5, 0.9]);
    served.push({ p10: f.p10, p90: f.p90, at: t });
    const y = Math.max(0, level * (1 + 0.3 * draw()));
    ys.push(y);
    series.observe(y);
  }
  let below = 0, above = 0, n = 0;
  for (const s of served.slice(10000, 15900)) {
    const mean = ys.slice(s.at, s.at + 20).reduce((a, b) => a + b, 0) / 20;
    if (mean < s.p10) below++;
    if (mean > s.p90) above++;
    n++;
  }
  assert.ok(Math.abs(below / n - 0.1) < 0.03 && Math.abs(above / n - 0.1) < 0.03, `after the shift: below p10 ${below / n}, above p90 ${above / n}`);
});

it('fallback: serves the EWMA on a series where the model is made worse, and the model where it is better', () => {
  const draw = normal(seededRandom(5));
  const run = (modelNoise: number) => {
    const series = new OnlineSeries({ horizons: [{ label: '50ms', windows: 1 }], alphas: [0.3], fallbackWindow: 100 });
    let level = 10;
    const servedBy: string[] = [];
    for (let t = 0; t < 600; t++) {
      // A slowly wandering rate, observed with noise; "truth" is known to the test, so the model can be made
      // better (it knows the next level) or worse (it is that plus big noise).
      level = Math.max(1, level + 0.3 * draw());
      const next = level + 0.5 * draw();
      const modelP50 = Math.max(0, level + modelNoise * draw());
      const [f] = series.serve([[modelP50 - 1, modelP50, modelP50 + 1]], [0.1, 0.5, 0.9]);
      servedBy.push(f.served);
      if (f.served === 'ewma') assert.equal(f.p50, series.ewmaForecast(0), 'the EWMA p50 is what is served');
      series.observe(next);
    }
    return servedBy;
  };
  const worse = run(6);
  assert.deepEqual(worse.slice(0, 20), new Array(20).fill('model'), 'the model serves until 20 forecasts are resolved');
  assert.ok(worse.slice(200).every((s) => s === 'ewma'), 'a model much worse than the EWMA is replaced');
  const better = run(0);
  assert.ok(better.slice(200).filter((s) => s === 'model').length > 0.95 * 400, 'a model better than the EWMA keeps serving');
});

it('a forecast made late (after more windows arrived) resolves against the windows after it was made', () => {
  const series = new OnlineSeries({ horizons: [{ label: '50ms', windows: 1 }], alphas: [0.5] });
  for (const y of [1, 2, 3]) series.observe(y);
  const madeAt = series.windows; // 3
  series.observe(10); // window 3 arrives before the network answered
  series.serve([[4, 5, 6]], [0.1, 0.5, 0.9], madeAt);
  // Resolved at once against window 3 (10 Mbit/s): above p90.
  const c = series.coverage(0);
  assert.equal(c.resolved, 1);
  assert.equal(c.p90, 0);
});
