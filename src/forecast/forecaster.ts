// Forecaster: the pipeline's entry point — sequence buffers and online state on the main thread, batched inference in the pool.
import { TARGET_NAME, WINDOW_VALUE_COLUMNS, type WindowBatch } from '../features';
import { DEFAULT_EWMA_ALPHA } from '../train/baselines';
import { OnlineSeries, type HorizonForecast } from './online';
import { InferencePool, type PoolOptions, type PoolStats } from './pool';
import { outputToMbps, type OutputMapping } from './scaler';
import { SequenceBuffers } from './sequences';
import { loadModel, modelHorizons, modelQuantiles, outputMapping, outputWidth, type HorizonSpec, type ModelSpec } from './spec';

export interface ForecasterOptions {
  modelDir: string;
  workers?: number;
  /** The engine's window length; the model is refused when it was trained on another (default 50). */
  windowMs?: number;
  intraOpThreads?: number;
  maxPending?: number;
  maxRetries?: number;
  workerFile?: string;
  workerDataExtra?: Record<string, unknown>;
}

export interface ForecastStats extends PoolStats {
  series: number;
  predictions: number;
  /** Per horizon label: series served by the EWMA now, and the running coverage / pinball over all series. */
  horizons: Record<string, { ewma_serving: number; resolved: number; coverage_p10: number | null; coverage_p90: number | null; pinball: number | null }>;
  /**
   * The same flattened to `horizon_<label>_<name>` numbers (null ones left out), so the daemon's generic stats
   * path exports them to /metrics as tcpcast_forecast_horizon_<label>_coverage_p10 etc. without a new gauge.
   */
  [flat: `horizon_${string}`]: number;
}

/** One series' served forecast: per horizon label (model.json), p10/p50/p90 in Mbps and who served. */
export type SeriesForecast = Record<string, HorizonForecast>;

/** The tuned EWMA alphas of a model, per horizon (DEFAULT_EWMA_ALPHA for a model without them). */
export function modelAlphas(spec: ModelSpec): number[] {
  return modelHorizons(spec).map((h) => spec.ewma?.[h.label]?.alpha ?? DEFAULT_EWMA_ALPHA);
}

/** Makes the online state of one series for this model (the daemon and `tcpcast eval` use the same). */
export function onlineSeriesFor(spec: ModelSpec): OnlineSeries {
  return new OnlineSeries({
    horizons: modelHorizons(spec),
    alphas: modelAlphas(spec),
    calibrationStep: spec.online?.calibration_step,
    fallbackWindow: spec.online?.fallback_window,
  });
}

/**
 * The network's outputs of one sequence (row i of a run) as Mbps quantiles per horizon, sorted so they never
 * cross (rearrangement: Chernozhukov, Fernandez-Val & Galichon 2010; sorting never increases pinball loss).
 */
export function networkQuantiles(mapping: OutputMapping, scaled: ArrayLike<number>, row: number, base: number, horizons: number, quantiles: number): number[][] {
  const out: number[][] = [];
  for (let h = 0; h < horizons; h++) {
    const q: number[] = [];
    for (let k = 0; k < quantiles; k++) q.push(outputToMbps(mapping, scaled[row * horizons * quantiles + h * quantiles + k], base, h));
    out.push(q.sort((a, b) => a - b));
  }
  return out;
}

export class Forecaster {
  private predictions = 0;
  private readonly mapping: OutputMapping;
  private readonly buffers: SequenceBuffers;
  private readonly online = new Map<number, OnlineSeries>();
  readonly horizons: HorizonSpec[];
  readonly quantiles: number[];
  private readonly throughputColumn: number;
  private readonly rowWidth: number;

  private constructor(
    readonly spec: ModelSpec,
    private readonly pool: InferencePool,
  ) {
    this.mapping = outputMapping(spec);
    this.buffers = new SequenceBuffers(this.mapping, WINDOW_VALUE_COLUMNS);
    this.horizons = modelHorizons(spec);
    this.quantiles = modelQuantiles(spec);
    this.throughputColumn = WINDOW_VALUE_COLUMNS.indexOf(TARGET_NAME);
    this.rowWidth = WINDOW_VALUE_COLUMNS.length;
  }

  /** Loads and checks model.json (coded TCM_SPEC_MISMATCH when it reads a column the engine lacks), starts the pool, warms it. */
  static async create(options: ForecasterOptions): Promise<Forecaster> {
    const { spec, onnxPath } = loadModel(options.modelDir, { windowMs: options.windowMs });
    const poolOptions: PoolOptions = {
      onnxPath,
      inputName: spec.onnx.input,
      outputName: spec.onnx.output,
      sequenceLength: spec.sequence_length,
      featureCount: spec.features.length,
      outputs: outputWidth(spec),
      workers: options.workers,
      intraOpThreads: options.intraOpThreads,
      maxPending: options.maxPending,
      maxRetries: options.maxRetries,
      workerFile: options.workerFile,
      workerDataExtra: options.workerDataExtra,
    };
    const pool = new InferencePool(poolOptions);
    const forecaster = new Forecaster(spec, pool);
    try {
      // A broken ONNX file should fail here, at start-up, not at the first window close.
      await pool.run(new Float32Array(spec.sequence_length * spec.features.length), 1);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return forecaster;
  }

  /**
   * Call once per window close with that close's windows. Histories and online state are updated
   * synchronously (so a dropped batch loses only its predictions); every series with a full history is
   * forecast in one batched run. Resolves with series index -> the served forecast of every horizon (p10/p50/p90
   * after calibration, and whether the network or the EWMA served) for the windows after this close; an empty map
   * when no series has a full history yet or when the batch was dropped because the pool fell behind.
   */
  forecast(batch: WindowBatch): Promise<Map<number, SeriesForecast>> {
    for (let i = 0; i < batch.count; i++) {
      const s = batch.series[i];
      let o = this.online.get(s);
      if (!o) this.online.set(s, (o = onlineSeriesFor(this.spec)));
      o.observe(batch.values[i * this.rowWidth + this.throughputColumn]);
    }
    const ready = this.buffers.pushBatch(batch.count, batch.series, batch.values);
    if (ready.length === 0) return Promise.resolve(new Map());
    // The window index each forecast is made at: a late batch still resolves against the right windows.
    const madeAt = ready.map((s) => this.online.get(s)!.windows);
    const { input, bases } = this.buffers.gather(ready);
    const H = this.horizons.length;
    const Q = this.quantiles.length;
    return this.pool.run(input, ready.length).then((scaled) => {
      const out = new Map<number, SeriesForecast>();
      if (!scaled) return out;
      for (let i = 0; i < ready.length; i++) {
        const o = this.online.get(ready[i]);
        if (!o) continue; // forgotten while in flight
        const served = o.serve(networkQuantiles(this.mapping, scaled, i, bases[i], H, Q), this.quantiles, madeAt[i]);
        out.set(ready[i], Object.fromEntries(this.horizons.map((h, k) => [h.label, served[k]])));
      }
      this.predictions += ready.length;
      return out;
    });
  }

  /** The served p50 of the model's first horizon (the next window) per series, in Mbps: the seed's `predicted_throughput`. */
  predict(batch: WindowBatch): Promise<Map<number, number>> {
    const first = this.horizons[0].label;
    return this.forecast(batch).then((m) => new Map([...m].map(([s, f]) => [s, f[first].p50])));
  }

  /** Forget a series that ended (the pipeline calls it for every batch.endedSeries entry): history and online state. */
  forget(series: number): void {
    this.buffers.forget(series);
    this.online.delete(series);
  }

  stats(): ForecastStats {
    const horizons: ForecastStats['horizons'] = {};
    this.horizons.forEach((h, k) => {
      let ewma = 0, resolved = 0, b10 = 0, b90 = 0, pin = 0;
      for (const o of this.online.values()) {
        if (o.servedBy(k) === 'ewma') ewma++;
        const c = o.coverage(k);
        if (c.resolved === 0) continue;
        resolved += c.resolved;
        b10 += c.p10! * c.resolved;
        b90 += c.p90! * c.resolved;
        pin += c.pinball! * c.resolved;
      }
      horizons[h.label] = { ewma_serving: ewma, resolved, coverage_p10: resolved ? b10 / resolved : null, coverage_p90: resolved ? b90 / resolved : null, pinball: resolved ? pin / resolved : null };
    });
    const flat: Record<string, number> = {};
    for (const [label, h] of Object.entries(horizons))
      for (const [k, v] of Object.entries(h)) if (typeof v === 'number') flat[`horizon_${label}_${k}`] = v;
    return { ...this.pool.stats(), series: this.buffers.size, predictions: this.predictions, horizons, ...flat } as ForecastStats;
  }

  get threadIds(): number[] {
    return this.pool.threadIds;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
