// The one way an ONNX forecast model is opened and run (pool workers, eval, export check): scaled in, scaled out.
import * as ort from 'onnxruntime-node';

export interface RunnerOptions {
  onnxPath: string;
  inputName: string;
  outputName: string;
  sequenceLength: number;
  featureCount: number;
  /** Outputs per sequence (horizons x quantiles; default 1). */
  outputs?: number;
  /** onnxruntime intra-op threads for this session; the pool sizes it so workers x threads <= cores. */
  intraOpThreads: number;
}

export class OnnxRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly options: RunnerOptions,
  ) {}

  static async open(options: RunnerOptions): Promise<OnnxRunner> {
    const session = await ort.InferenceSession.create(options.onnxPath, {
      intraOpNumThreads: Math.max(1, options.intraOpThreads),
      // One inter-op thread: the graph is a chain, and parallelism comes from the pool's workers.
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Windows close every 50 ms and a run takes < 1 ms: spinning pool threads between runs burned ~17x the
      // CPU of the inference itself (11.6 vs 0.67 ms CPU per run of 21 series, 2 intra-op threads, measured
      // under contention with the same model), and no latency was gained (0.7 ms either way).
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    return new OnnxRunner(session, options);
  }

  /** input: [batch, sequenceLength, featureCount] scaled features; returns batch x outputs scaled predictions (row-major). */
  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    const { sequenceLength, featureCount, inputName, outputName } = this.options;
    if (input.length !== batch * sequenceLength * featureCount)
      throw new Error(`input has ${input.length} values, expected ${batch} x ${sequenceLength} x ${featureCount}`);
    if (batch === 0) return new Float32Array(0);
    const feeds = { [inputName]: new ort.Tensor('float32', input, [batch, sequenceLength, featureCount]) };
    const result = await this.session.run(feeds);
    const data = result[outputName].data as Float32Array;
    // Copy out of onnxruntime's buffer so the result can be transferred and the tensor released.
    return Float32Array.from(data.subarray(0, batch * (this.options.outputs ?? 1)));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
