// `tcpcast train`: split by session, fit scalers on training data, train the tfjs LSTM, export ONNX, verify, evaluate.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { FEATURE_NAMES, TARGET_NAME } from '../features';
import { ForecastError } from '../forecast/errors';
import { OnnxRunner } from '../forecast/onnx-runner';
import { encodeSequence, fitRobustScaler, targetRaw, type OutputMapping, type RobustScalerParams } from '../forecast/scaler';
import { MODEL_FORMAT, MODEL_JSON, type ModelSpec, type TargetMode, type TrainLoss } from '../forecast/spec';
import { FEATURE_COUNT, loadDataset, type SeriesFilter, materialize, sampleRefs, seededRandom, shuffleInPlace, splitSegments, type SampleRef, type Segment } from './dataset';
import { chunkedPredictor, DEFAULT_EVAL_OPTIONS, forecastSegments, summarize, type EvalOptions, type EvalReport } from './evaluate';
import { buildNetwork, ensureBackend, extractNetwork, predictScaled, tf, type Architecture } from './network';
import { buildOnnxModel, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from './onnx-export';

export const ONNX_FILE = 'tcp_forecast.onnx';

/** Export must reproduce the network to this, in target-scale units (i.e. relative to the target's IQR). */
export const EXPORT_TOLERANCE = 1e-4;

export interface TrainOptions {
  data: string[];
  outDir: string;
  sequenceLength: number;
  architecture: Architecture;
  epochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  validationFraction: number;
  seed: number;
  /** Marks the model as trained on synthetic data in model.json (never ship such a model as real). */
  synthetic: boolean;
  /** What the network outputs (see OutputMapping): level, delta (residual over persistence) or relative. */
  targetMode?: TargetMode;
  /** Train on every series, the interface aggregates only, or the connections only. */
  series?: SeriesFilter;
  /** Training loss: Huber (squared near 0) or MAE (absolute error: the median forecast, what MAE scores). */
  loss?: TrainLoss;
  progress: boolean;
  eval: EvalOptions;
  log: (line: string) => void;
}

/**
 * The shipped model's configuration (model/README.md): a 1 x 32 LSTM with a dense 32 head forecast the held-out
 * links as well as the seed's 2 x 128 / 128-64 at a fraction of the training and inference cost; the relative
 * encoding and MAE loss are what made it beat persistence on unseen links.
 */
export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'data' | 'outDir'> = {
  sequenceLength: 15,
  architecture: { lstm_units: [32], dense_units: [32] },
  targetMode: 'relative',
  loss: 'mae',
  epochs: 60,
  patience: 4,
  batchSize: 256,
  learningRate: 1e-3,
  validationFraction: 0.2,
  seed: 42,
  synthetic: false,
  progress: true,
  eval: DEFAULT_EVAL_OPTIONS,
  log: (line) => process.stderr.write(line + '\n'),
};

export interface TrainResult {
  spec: ModelSpec;
  evaluation: EvalReport;
  exportMaxAbsDiffScaled: number;
  epochsRun: number;
  bestValidationLoss: number;
  trainSeconds: number;
}

/**
 * Scalers are fitted on what the network sees: raw training rows (level, delta), or the level-relative values
 * of every training sequence (relative: one window is encoded differently in each sequence it belongs to).
 */
function fitScalers(train: Segment[], refs: SampleRef[], mode: TargetMode, sequenceLength: number, windowMs: number): { features: RobustScalerParams; target: RobustScalerParams } {
  if (mode !== 'relative') {
    const rows = train.reduce((n, s) => n + s.throughput.length, 0);
    const features = new Float64Array(rows * FEATURE_COUNT);
    const target = new Float64Array(rows);
    let r = 0;
    for (const s of train) {
      features.set(s.features, r * FEATURE_COUNT);
      target.set(s.throughput, r);
      r += s.throughput.length;
    }
    return { features: fitRobustScaler(features, FEATURE_COUNT), target: fitRobustScaler(target, 1) };
  }
  const identity: OutputMapping = {
    mode,
    features: { center: new Array(FEATURE_COUNT).fill(0), scale: new Array(FEATURE_COUNT).fill(1) },
    target: { center: [0], scale: [1] },
    sequenceLength,
    featureCount: FEATURE_COUNT,
    windowMs,
  };
  const stride = sequenceLength * FEATURE_COUNT;
  const features = new Float64Array(refs.length * stride);
  const target = new Float64Array(refs.length);
  refs.forEach((ref, k) => {
    const seg = train[ref.segment];
    const base = encodeSequence(identity, seg.features, ref.start * FEATURE_COUNT, features, k * stride);
    target[k] = targetRaw(mode, seg.throughput[ref.start + sequenceLength], base);
  });
  return { features: fitRobustScaler(features, FEATURE_COUNT), target: fitRobustScaler(target, 1) };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const L = options.sequenceLength;
  const series = options.series ?? 'any';
  const { segments, windowMs } = loadDataset(options.data, series);
  const split = splitSegments(segments, options.validationFraction, options.seed);
  const trainRefs = sampleRefs(split.train, L);
  const valRefs = sampleRefs(split.validation, L);
  if (trainRefs.length === 0 || valRefs.length === 0)
    throw new ForecastError('TCM_DATA_INVALID', `not enough windows: ${trainRefs.length} training and ${valRefs.length} validation samples of ${L + 1} windows`);
  if (split.by === 'time') options.log('warning: one session only; validation is its last part in time (not a held-out session)');
  // Scalers see training sessions only: validation must look like unseen data, including its scale.
  const targetMode = options.targetMode ?? 'level';
  const lossName = options.loss ?? 'huber';
  const scaler = fitScalers(split.train, trainRefs, targetMode, L, windowMs);
  const mapping: OutputMapping = { mode: targetMode, ...scaler, sequenceLength: L, featureCount: FEATURE_COUNT, windowMs };
  const trainSet = materialize(split.train, trainRefs, mapping);
  const valSet = materialize(split.validation, valRefs, mapping);
  options.log(
    `data: ${segments.length} segments, ${windowMs} ms windows; split by ${split.by}: ${trainRefs.length} training / ${valRefs.length} validation samples`,
  );

  await ensureBackend();
  const model = buildNetwork(options.architecture, L, FEATURE_COUNT, options.seed);
  // Huber: squared near zero, linear for the throughput spikes cellular links have. MAE: the metric that is
  // reported, and its minimiser is the conditional median, which is what a skewed, spiky series wants.
  const loss = lossName === 'mae' ? tf.losses.absoluteDifference : tf.losses.huberLoss;
  model.compile({ optimizer: tf.train.adam(options.learningRate), loss });

  const xVal = tf.tensor3d(valSet.x, [valRefs.length, L, FEATURE_COUNT]);
  const yVal = tf.tensor2d(valSet.y, [valRefs.length, 1]);
  const random = seededRandom(options.seed ^ 0x5eed);
  const order = Array.from({ length: trainRefs.length }, (_, i) => i);
  const stride = L * FEATURE_COUNT;
  let best = Infinity;
  let bestWeights: tf.Tensor[] | null = null;
  let sinceBest = 0;
  let epoch = 0;
  const batchesPerEpoch = Math.ceil(trainRefs.length / options.batchSize);
  for (; epoch < options.epochs; epoch++) {
    // Our own seeded shuffle (tfjs's uses Math.random), so a seed fixes the whole run.
    shuffleInPlace(order, random);
    const xs = new Float32Array(trainRefs.length * stride);
    const ys = new Float32Array(trainRefs.length);
    order.forEach((src, dst) => {
      xs.set(trainSet.x.subarray(src * stride, (src + 1) * stride), dst * stride);
      ys[dst] = trainSet.y[src];
    });
    const xT = tf.tensor3d(xs, [trainRefs.length, L, FEATURE_COUNT]);
    const yT = tf.tensor2d(ys, [trainRefs.length, 1]);
    const bar = options.progress ? new SingleBar({ format: `epoch ${epoch + 1}/${options.epochs} [{bar}] {value}/{total} loss {loss}`, stream: process.stderr }, Presets.shades_classic) : null;
    bar?.start(batchesPerEpoch, 0, { loss: '-' });
    const history = await model.fit(xT, yT, {
      epochs: 1,
      batchSize: options.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: { onBatchEnd: async (_b, logs) => bar?.increment(1, { loss: (logs?.loss ?? 0).toFixed(4) }) },
    });
    bar?.stop();
    xT.dispose();
    yT.dispose();
    const valLoss = tf.tidy(() => (model.evaluate(xVal, yVal, { batchSize: 1024 }) as tf.Scalar).dataSync()[0]);
    const trainLoss = history.history.loss[0] as number;
    options.log(`epoch ${epoch + 1}: loss ${trainLoss.toFixed(5)} val_loss ${valLoss.toFixed(5)}`);
    if (valLoss < best - 1e-6) {
      best = valLoss;
      bestWeights?.forEach((w) => w.dispose());
      bestWeights = model.getWeights().map((w) => w.clone());
      sinceBest = 0;
    } else if (++sinceBest >= options.patience) {
      epoch++;
      options.log(`early stop: no validation improvement for ${options.patience} epochs`);
      break;
    }
  }
  if (bestWeights) model.setWeights(bestWeights);
  xVal.dispose();
  yVal.dispose();

  mkdirSync(options.outDir, { recursive: true });
  const onnxPath = join(options.outDir, ONNX_FILE);
  const net = extractNetwork(model, L, FEATURE_COUNT);
  writeFileSync(onnxPath, buildOnnxModel(net, `tcpcast next-window throughput forecaster (${options.synthetic ? 'SYNTHETIC data' : 'trained'})`));

  // The exported graph must compute what was trained: compare onnxruntime with tfjs on validation samples.
  const runner = await OnnxRunner.open({ onnxPath, inputName: ONNX_INPUT, outputName: ONNX_OUTPUT, sequenceLength: L, featureCount: FEATURE_COUNT, intraOpThreads: 1 });
  let maxDiff = 0;
  let spec: ModelSpec;
  let evaluation: EvalReport;
  try {
    const nCheck = Math.min(valRefs.length, 2048);
    const xCheck = valSet.x.subarray(0, nCheck * stride);
    const tfOut = predictScaled(model, xCheck, nCheck, L, FEATURE_COUNT);
    const ortOut = await runner.run(Float32Array.from(xCheck), nCheck);
    for (let i = 0; i < nCheck; i++) maxDiff = Math.max(maxDiff, Math.abs(tfOut[i] - ortOut[i]));
    options.log(`onnx export check: max |onnxruntime - tfjs| = ${maxDiff.toExponential(3)} (target-scale units, ${nCheck} validation samples, tolerance ${EXPORT_TOLERANCE})`);
    if (!(maxDiff <= EXPORT_TOLERANCE))
      throw new ForecastError('TCM_EXPORT_MISMATCH', `ONNX export differs from the trained network by ${maxDiff} (> ${EXPORT_TOLERANCE}) in target-scale units`);

    spec = {
      format: MODEL_FORMAT,
      onnx_file: ONNX_FILE,
      features: [...FEATURE_NAMES],
      target: TARGET_NAME,
      window_ms: windowMs,
      sequence_length: L,
      horizon_windows: 1,
      target_mode: targetMode,
      scaler,
      onnx: { input: ONNX_INPUT, output: ONNX_OUTPUT, input_layout: 'batch_seq_feature', opset: ONNX_OPSET },
      architecture: options.architecture,
      training: {
        synthetic: options.synthetic,
        data: options.data.map((p) => resolve(p)),
        series,
        split_by: split.by,
        train_sessions: [...new Set(split.train.map((s) => s.session))],
        validation_sessions: [...new Set(split.validation.map((s) => s.session))],
        train_samples: trainRefs.length,
        validation_samples: valRefs.length,
        epochs_run: epoch,
        best_validation_loss: best,
        loss: lossName,
        batch_size: options.batchSize,
        learning_rate: options.learningRate,
        seed: options.seed,
        backend: tf.getBackend(),
        export_max_abs_diff_scaled: maxDiff,
        trained_at: new Date().toISOString(),
      },
    };
    const results = await forecastSegments(split.validation, spec, chunkedPredictor(runner, L), options.eval);
    evaluation = summarize(results, options.eval, L);
    const { sessions: _sessions, ...overall } = evaluation;
    spec.evaluation = { on: 'validation sessions', ...overall };
  } finally {
    await runner.close();
  }
  writeFileSync(join(options.outDir, MODEL_JSON), JSON.stringify(spec, null, 2) + '\n');
  bestWeights?.forEach((w) => w.dispose());
  model.dispose();
  return { spec, evaluation, exportMaxAbsDiffScaled: maxDiff, epochsRun: epoch, bestValidationLoss: best, trainSeconds: (Date.now() - started) / 1000 };
}
