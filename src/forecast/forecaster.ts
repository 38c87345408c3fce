// Forecaster: the pipeline's entry point — sequence buffers on the main thread, batched inference in the pool.
import { FEATURE_NAMES, type WindowBatch } from '../features';
import { InferencePool, type PoolOptions, type PoolStats } from './pool';
import { outputToMbps, type OutputMapping } from './scaler';
import { SequenceBuffers } from './sequences';
import { loadModel, outputMapping, type ModelSpec } from './spec';

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
}

export class Forecaster {
  private predictions = 0;
  private readonly mapping: OutputMapping;
  private readonly buffers: SequenceBuffers;

  private constructor(
    readonly spec: ModelSpec,
    private readonly pool: InferencePool,
  ) {
    this.mapping = outputMapping(spec);
    this.buffers = new SequenceBuffers(this.mapping);
  }

  /** Loads and checks model.json (coded TCM_SPEC_MISMATCH on a feature/window mismatch), starts the pool, warms it. */
  static async create(options: ForecasterOptions): Promise<Forecaster> {
    const { spec, onnxPath } = loadModel(options.modelDir, { windowMs: options.windowMs });
    const poolOptions: PoolOptions = {
      onnxPath,
      inputName: spec.onnx.input,
      outputName: spec.onnx.output,
      sequenceLength: spec.sequence_length,
      featureCount: FEATURE_NAMES.length,
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
      await pool.run(new Float32Array(spec.sequence_length * FEATURE_NAMES.length), 1);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return forecaster;
  }

  /**
   * Call once per window close with that close's windows. Histories are updated synchronously (so a dropped
   * batch loses only its predictions); every series with a full history is forecast in one batched run.
   * Resolves with series index -> predicted throughput (Mbps) of that series' NEXT window; an empty map when
   * no series has a full history yet or when the batch was dropped because the pool fell behind.
   */
  predict(batch: WindowBatch): Promise<Map<number, number>> {
    const ready = this.buffers.pushBatch(batch.count, batch.series, batch.values);
    if (ready.length === 0) return Promise.resolve(new Map());
    const { input, bases } = this.buffers.gather(ready);
    return this.pool.run(input, ready.length).then((scaled) => {
      const out = new Map<number, number>();
      if (!scaled) return out;
      for (let i = 0; i < ready.length; i++) out.set(ready[i], outputToMbps(this.mapping, scaled[i], bases[i]));
      this.predictions += ready.length;
      return out;
    });
  }

  /** Forget a series that ended (the pipeline calls it for every batch.endedSeries entry). */
  forget(series: number): void {
    this.buffers.forget(series);
  }

  stats(): ForecastStats {
    return { ...this.pool.stats(), series: this.buffers.size, predictions: this.predictions };
  }

  get threadIds(): number[] {
    return this.pool.threadIds;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
