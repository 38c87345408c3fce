// Per-series online state beside the network: tuned EWMA, adaptive interval calibration and model/EWMA fallback.
//
// One OnlineSeries per series and its state is a few numbers per horizon, so it lives on the main thread with
// the sequence buffers (the daemon) and is replayed window by window by `tcpcast eval`, which therefore scores
// exactly what the daemon would serve.
//
// Calibration: adaptive conformal inference in its quantile-tracking form (Gibbs & Candes 2021, "Adaptive
// conformal inference under distribution shift", update (2) applied to an offset instead of a miscoverage
// level, as in Angelopoulos, Candes & Tibshirani 2023, "Conformal PID control", the quantile tracker). For the
// lower bound: offset_lo <- offset_lo - step * (1[y < p10] - 0.1), for the upper: offset_hi <- offset_hi +
// step * (1[y > p90] - 0.1), with offsets in units of the series' level (so one step size fits 0.5 and 100
// Mbit/s). Long-run guarantee (their Prop. 1): over T resolved forecasts the share of actuals below p10 is
// within (B + step) / (step * T) of 10% for bounded actuals, whatever the link does: coverage holds on a link
// the network never saw, after a warm-up of a few hundred forecasts.
//
// Fallback: per horizon, the absolute errors of the network's p50 and of the tuned EWMA over the last
// `fallbackWindow` resolved forecasts; the one with the lower sum serves (the network while fewer than
// MIN_RESOLVED_FOR_FALLBACK are resolved). The interval is carried over: the served p10/p90 are the served
// p50 plus the network's quantile spread plus the calibration offsets, so calibration covers whichever serves.
import type { HorizonSpec } from './spec';

export type ServedBy = 'model' | 'ewma';

export interface HorizonForecast {
  p10: number;
  p50: number;
  p90: number;
  served: ServedBy;
}

export interface OnlineOptions {
  horizons: readonly HorizonSpec[];
  /** EWMA alpha per horizon (same order as horizons). */
  alphas: readonly number[];
  /** Calibration step, in units of the series' level (default DEFAULT_CALIBRATION_STEP). */
  calibrationStep?: number;
  /** Resolved forecasts the fallback compares over (default DEFAULT_FALLBACK_WINDOW). */
  fallbackWindow?: number;
}

/**
 * Calibration step: 5% of the level per miss. Chosen on the validation links of the shipped model (model/README.md):
 * 0.02 left a session's coverage up to 3.1 points off after 60 s, 0.05 at most 1.8, with pinball still well under
 * the quantile baseline's; 0.1 tightens coverage a little more but widens bands (pinball 0.80x the baseline).
 */
export const DEFAULT_CALIBRATION_STEP = 0.05;
/**
 * Fallback compares the last 50 resolved forecasts (2.5 s of forecasts at 50 ms windows): on the validation links
 * 50 reacted to a change of regime sooner than 100-400 and gave the lowest 1 s MAE.
 */
export const DEFAULT_FALLBACK_WINDOW = 50;
/** The network serves until this many forecasts of a horizon are resolved: less is noise, not evidence. */
export const MIN_RESOLVED_FOR_FALLBACK = 20;
/** Levels below this (Mbps) are floored when scaling the calibration offsets (an idle series). */
const LEVEL_FLOOR_MBPS = 0.1;
const LOWER = 0.1;
const UPPER = 0.9;

interface Pending {
  madeAt: number;
  h: number;
  p10: number;
  p50: number;
  p90: number;
  modelP50: number;
  ewmaP50: number;
}

interface HorizonState {
  ewma: number;
  offsetLo: number;
  offsetHi: number;
  /** Ring of the last fallbackWindow absolute errors: network p50, EWMA. */
  errModel: Float64Array;
  errEwma: Float64Array;
  sumModel: number;
  sumEwma: number;
  resolved: number;
  /** Running coverage counts since the series started (for /metrics and the dashboard). */
  below10: number;
  below90: number;
  pinballSum: number;
}

/** Online state of one series: call observe() for every window, serve() for every network forecast. */
export class OnlineSeries {
  private count = 0;
  private readonly recent: Float64Array;
  private readonly pending: Pending[] = [];
  readonly state: HorizonState[];
  private readonly step: number;
  private readonly window: number;

  constructor(private readonly opts: OnlineOptions) {
    this.step = opts.calibrationStep ?? DEFAULT_CALIBRATION_STEP;
    this.window = opts.fallbackWindow ?? DEFAULT_FALLBACK_WINDOW;
    const maxH = Math.max(...opts.horizons.map((h) => h.windows));
    this.recent = new Float64Array(maxH + 64);
    this.state = opts.horizons.map(() => ({
      ewma: NaN,
      offsetLo: 0,
      offsetHi: 0,
      errModel: new Float64Array(this.window),
      errEwma: new Float64Array(this.window),
      sumModel: 0,
      sumEwma: 0,
      resolved: 0,
      below10: 0,
      below90: 0,
      pinballSum: 0,
    }));
  }

  /** Windows observed so far: the index the next window will have. */
  get windows(): number {
    return this.count;
  }

  /** A window's throughput arrived: EWMAs move, and forecasts whose horizon it completes are resolved. */
  observe(throughputMbps: number): void {
    this.recent[this.count % this.recent.length] = throughputMbps;
    this.count++;
    this.opts.horizons.forEach((_, h) => {
      const s = this.state[h];
      s.ewma = Number.isNaN(s.ewma) ? throughputMbps : this.opts.alphas[h] * throughputMbps + (1 - this.opts.alphas[h]) * s.ewma;
    });
    this.resolvePending();
  }

  /** Resolves every pending forecast whose horizon's windows have all arrived. */
  private resolvePending(): void {
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i];
      const windows = this.opts.horizons[p.h].windows;
      if (this.count - p.madeAt > this.recent.length) this.pending.splice(i, 1); // too old to resolve (cannot happen in order)
      else if (this.count >= p.madeAt + windows) {
        let sum = 0;
        for (let k = p.madeAt; k < p.madeAt + windows; k++) sum += this.recent[k % this.recent.length];
        this.resolve(p, sum / windows);
        this.pending.splice(i, 1);
      } else i++;
    }
  }

  private resolve(p: Pending, actual: number): void {
    const s = this.state[p.h];
    const slot = s.resolved % this.window;
    const eModel = Math.abs(p.modelP50 - actual);
    const eEwma = Math.abs(p.ewmaP50 - actual);
    s.sumModel += eModel - s.errModel[slot];
    s.sumEwma += eEwma - s.errEwma[slot];
    s.errModel[slot] = eModel;
    s.errEwma[slot] = eEwma;
    s.resolved++;
    const below = actual < p.p10 ? 1 : 0;
    const above = actual > p.p90 ? 1 : 0;
    s.offsetLo -= this.step * (below - LOWER);
    s.offsetHi += this.step * (above - (1 - UPPER));
    s.below10 += below;
    s.below90 += actual < p.p90 ? 1 : 0;
    s.pinballSum += (pinball(actual, p.p10, LOWER) + pinball(actual, p.p50, 0.5) + pinball(actual, p.p90, UPPER)) / 3;
  }

  /** Which forecaster serves horizon h now. */
  servedBy(h: number): ServedBy {
    const s = this.state[h];
    return s.resolved >= MIN_RESOLVED_FOR_FALLBACK && s.sumEwma < s.sumModel ? 'ewma' : 'model';
  }

  /** The tuned EWMA's forecast for horizon h (NaN before the first window). */
  ewmaForecast(h: number): number {
    return this.state[h].ewma;
  }

  /**
   * The served forecast of every horizon from the network's quantiles (Mbps, per horizon ascending, made when
   * the series had `madeAt` windows; defaults to now), registered to be resolved by later windows.
   * `quantiles` are the network's levels (e.g. [0.1, 0.5, 0.9], or [0.5] for a point model).
   */
  serve(network: readonly (readonly number[])[], quantiles: readonly number[], madeAt = this.count): HorizonForecast[] {
    const iMid = nearest(quantiles, 0.5);
    const iLo = nearest(quantiles, LOWER);
    const iHi = nearest(quantiles, UPPER);
    const forecasts = this.opts.horizons.map((_, h) => {
      const s = this.state[h];
      const q = network[h];
      const modelP50 = q[iMid];
      const ewmaP50 = Number.isNaN(s.ewma) ? modelP50 : s.ewma;
      const served = this.servedBy(h);
      const p50 = served === 'model' ? modelP50 : ewmaP50;
      const scale = Math.max(Number.isNaN(s.ewma) ? modelP50 : s.ewma, LEVEL_FLOOR_MBPS);
      const p10 = Math.max(0, Math.min(p50, p50 + (q[iLo] - modelP50) + s.offsetLo * scale));
      const p90 = Math.max(p50, p50 + (q[iHi] - modelP50) + s.offsetHi * scale);
      this.pending.push({ madeAt, h, p10, p50, p90, modelP50, ewmaP50 });
      return { p10, p50, p90, served };
    });
    // A late answer (windows arrived while the network ran) may already be resolvable.
    if (madeAt < this.count) this.resolvePending();
    return forecasts;
  }

  /** Running coverage per horizon: share of resolved actuals below p10 and below p90 (null before any). */
  coverage(h: number): { resolved: number; p10: number | null; p90: number | null; pinball: number | null } {
    const s = this.state[h];
    const n = s.resolved;
    return { resolved: n, p10: n ? s.below10 / n : null, p90: n ? s.below90 / n : null, pinball: n ? s.pinballSum / n : null };
  }
}

/** Pinball (quantile) loss of forecast f at level q for actual y. */
export function pinball(y: number, f: number, q: number): number {
  const e = y - f;
  return e >= 0 ? q * e : (q - 1) * e;
}

function nearest(levels: readonly number[], q: number): number {
  let best = 0;
  for (let i = 1; i < levels.length; i++) if (Math.abs(levels[i] - q) < Math.abs(levels[best] - q)) best = i;
  return best;
}
