// `tcpcast train`: split by session, fit scalers on training data, train the tfjs LSTM, export ONNX, verify, evaluate.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { TARGET_NAME } from '../features';
import { TcpcastError } from '../errors';
import { OnnxRunner } from '../forecast/onnx-runner';
import { DEFAULT_CALIBRATION_STEP, DEFAULT_FALLBACK_WINDOW } from '../forecast/online';
import { CURRENT_RELATIVE_ENCODING, encodeSequence, fitRobustScaler, targetRaw, type OutputMapping, type RobustScalerParams } from '../forecast/scaler';
import { DEFAULT_QUANTILES, defaultHorizons, MODEL_FORMAT, MODEL_JSON, type HorizonSpec, type ModelSpec, type TargetMode, type TrainLoss } from '../forecast/spec';
import { DEFAULT_FEATURES, horizonActual, loadDataset, type SeriesFilter, materialize, sampleRefs, seededRandom, shuffleInPlace, splitSegments, type SampleRef, type Segment } from './dataset';
import { chunkedPredictor, DEFAULT_EVAL_OPTIONS, fitEwmaAlphas, fitQuantileBaseline, forecastSegments, summarize, type EvalOptions, type EvalReport } from './evaluate';
import { buildNetwork, ensureBackend, extractNetwork, pinballLoss, predictScaled, tf, type Architecture } from './network';
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
  /** Training loss: pinball over `quantiles` (default), Huber (squared near 0) or MAE (a p50-only network). */
  loss?: TrainLoss;
  /** Columns the network reads (default DEFAULT_FEATURES); the CSVs need only these and the target. */
  features?: readonly string[];
  /** Horizons (default: the next window and the mean over the next second). */
  horizons?: HorizonSpec[];
  /** Quantile levels per horizon with the pinball loss (default p10, p50, p90). */
  quantiles?: number[];
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
  loss: 'pinball',
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
 * The target scaler has one column per horizon.
 */
function fitScalers(train: Segment[], refs: SampleRef[], mode: TargetMode, m: Omit<OutputMapping, 'features' | 'target' | 'mode'>, horizons: readonly HorizonSpec[]): { features: RobustScalerParams; target: RobustScalerParams } {
  const W = m.featureNames.length;
  const L = m.sequenceLength;
  const H = horizons.length;
  const identity: OutputMapping = {
    ...m,
    mode,
    features: { center: new Array(W).fill(0), scale: new Array(W).fill(1) },
    target: { center: new Array(H).fill(0), scale: new Array(H).fill(1) },
  };
  const target = new Float64Array(refs.length * H);
  if (mode !== 'relative') {
    const rows = train.reduce((n, s) => n + s.throughput.length, 0);
    const features = new Float64Array(rows * W);
    let r = 0;
    for (const s of train) {
      features.set(s.features, r * W);
      r += s.throughput.length;
    }
    refs.forEach((ref, k) => horizons.forEach((h, j) => (target[k * H + j] = horizonActual(train[ref.segment].throughput, ref.start + L, h.windows))));
    return { features: fitRobustScaler(features, W), target: fitRobustScaler(target, H) };
  }
  const stride = L * W;
  const features = new Float64Array(refs.length * stride);
  refs.forEach((ref, k) => {
    const seg = train[ref.segment];
    const base = encodeSequence(identity, seg.features, ref.start * W, features, k * stride);
    horizons.forEach((h, j) => (target[k * H + j] = targetRaw(mode, horizonActual(seg.throughput, ref.start + L, h.windows), base)));
  });
  return { features: fitRobustScaler(features, W), target: fitRobustScaler(target, H) };
}

/** Tiles per-horizon targets [N, H] to one column per output [N, H x Q] (quantiles of a horizon share its target). */
function tileTargets(y: Float32Array, n: number, H: number, Q: number): Float32Array {
  const out = new Float32Array(n * H * Q);
  for (let k = 0; k < n; k++) for (let h = 0; h < H; h++) for (let q = 0; q < Q; q++) out[(k * H + h) * Q + q] = y[k * H + h];
  return out;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const L = options.sequenceLength;
  const series = options.series ?? 'any';
  const featureNames = [...(options.features ?? DEFAULT_FEATURES)];
  const W = featureNames.length;
  const { segments, windowMs } = loadDataset(options.data, series, featureNames);
  const horizons = options.horizons ?? defaultHorizons(windowMs);
  const H = horizons.length;
  const maxH = Math.max(...horizons.map((h) => h.windows));
  const split = splitSegments(segments, options.validationFraction, options.seed);
  const trainRefs = sampleRefs(split.train, L, maxH);
  const valRefs = sampleRefs(split.validation, L, maxH);
  if (trainRefs.length === 0 || valRefs.length === 0)
    throw new TcpcastError(`not enough windows: ${trainRefs.length} training and ${valRefs.length} validation samples of ${L + 1} windows`, 'TCM_DATA_INVALID');
  if (split.by === 'time') options.log('warning: one session only; validation is its last part in time (not a held-out session)');
  // Scalers see training sessions only: validation must look like unseen data, including its scale.
  const targetMode = options.targetMode ?? 'level';
  const lossName = options.loss ?? 'huber';
  const quantiles = lossName === 'pinball' ? [...(options.quantiles ?? DEFAULT_QUANTILES)] : [0.5];
  const Q = quantiles.length;
  const encoding = targetMode === 'relative' ? CURRENT_RELATIVE_ENCODING : 1;
  const shape = { featureNames, sequenceLength: L, windowMs, encoding };
  const scaler = fitScalers(split.train, trainRefs, targetMode, shape, horizons);
  const mapping: OutputMapping = { mode: targetMode, ...scaler, ...shape };
  const trainSet = materialize(split.train, trainRefs, mapping, horizons);
  const valSet = materialize(split.validation, valRefs, mapping, horizons);
  const trainY = tileTargets(trainSet.y, trainRefs.length, H, Q);
  const valY = tileTargets(valSet.y, valRefs.length, H, Q);
  // The tuned EWMA and the quantile baseline are fitted on the same training sessions as the network.
  const ewma = fitEwmaAlphas(split.train, L, horizons);
  const quantileBaseline = fitQuantileBaseline(split.train, mapping, horizons);
  options.log(`tuned EWMA on training data: ${horizons.map((h) => `${h.label} alpha ${ewma[h.label].alpha} (MAE ${ewma[h.label].mae.toFixed(3)})`).join(', ')}`);
  options.log(
    `data: ${segments.length} segments, ${windowMs} ms windows; split by ${split.by}: ${trainRefs.length} training / ${valRefs.length} validation samples`,
  );

  await ensureBackend();
  const outputs = H * Q;
  const model = buildNetwork(options.architecture, L, W, options.seed, outputs);
  // Pinball: one output per (horizon, quantile), each minimised by its conditional quantile. Huber: squared near
  // zero, linear for the throughput spikes cellular links have. MAE: the conditional median only.
  const loss = lossName === 'pinball' ? pinballLoss(horizons.flatMap(() => quantiles)) : lossName === 'mae' ? tf.losses.absoluteDifference : tf.losses.huberLoss;
  model.compile({ optimizer: tf.train.adam(options.learningRate), loss });

  const xVal = tf.tensor3d(valSet.x, [valRefs.length, L, W]);
  const yVal = tf.tensor2d(valY, [valRefs.length, outputs]);
  const random = seededRandom(options.seed ^ 0x5eed);
  const order = Array.from({ length: trainRefs.length }, (_, i) => i);
  const stride = L * W;
  let best = Infinity;
  let bestWeights: tf.Tensor[] | null = null;
  let sinceBest = 0;
  let epoch = 0;
  const batchesPerEpoch = Math.ceil(trainRefs.length / options.batchSize);
  for (; epoch < options.epochs; epoch++) {
    // Our own seeded shuffle (tfjs's uses Math.random), so a seed fixes the whole run.
    shuffleInPlace(order, random);
    const xs = new Float32Array(trainRefs.length * stride);
    const ys = new Float32Array(trainRefs.length * outputs);
    order.forEach((src, dst) => {
      xs.set(trainSet.x.subarray(src * stride, (src + 1) * stride), dst * stride);
      ys.set(trainY.subarray(src * outputs, (src + 1) * outputs), dst * outputs);
    });
    const xT = tf.tensor3d(xs, [trainRefs.length, L, W]);
    const yT = tf.tensor2d(ys, [trainRefs.length, outputs]);
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
    const elapsed = (Date.now() - started) / 1000;
    const trainLoss = history.history.loss[0] as number;
    options.log(`epoch ${epoch + 1}/${options.epochs}: loss ${trainLoss.toFixed(5)} val_loss ${valLoss.toFixed(5)} (${elapsed.toFixed(0)} s)`);
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
  const net = extractNetwork(model, L, W);
  writeFileSync(onnxPath, buildOnnxModel(net, `tcpcast next-window throughput forecaster (${options.synthetic ? 'SYNTHETIC data' : 'trained'})`));

  // The exported graph must compute what was trained: compare onnxruntime with tfjs on validation samples.
  const runner = await OnnxRunner.open({ onnxPath, inputName: ONNX_INPUT, outputName: ONNX_OUTPUT, sequenceLength: L, featureCount: W, outputs, intraOpThreads: 1 });
  let maxDiff = 0;
  let spec: ModelSpec;
  let evaluation: EvalReport;
  try {
    const nCheck = Math.min(valRefs.length, 2048);
    const xCheck = valSet.x.subarray(0, nCheck * stride);
    const tfOut = predictScaled(model, xCheck, nCheck, L, W, 4096, outputs);
    const ortOut = await runner.run(Float32Array.from(xCheck), nCheck);
    // Every output (each horizon's every quantile) must match, not just the first.
    for (let i = 0; i < nCheck * outputs; i++) maxDiff = Math.max(maxDiff, Math.abs(tfOut[i] - ortOut[i]));
    options.log(`onnx export check: max |onnxruntime - tfjs| = ${maxDiff.toExponential(3)} over ${outputs} outputs (target-scale units, ${nCheck} validation samples, tolerance ${EXPORT_TOLERANCE})`);
    if (!(maxDiff <= EXPORT_TOLERANCE))
      throw new TcpcastError(`ONNX export differs from the trained network by ${maxDiff} (> ${EXPORT_TOLERANCE}) in target-scale units`, 'TCM_EXPORT_MISMATCH');

    spec = {
      format: MODEL_FORMAT,
      onnx_file: ONNX_FILE,
      features: featureNames,
      target: TARGET_NAME,
      window_ms: windowMs,
      sequence_length: L,
      horizon_windows: horizons[0].windows,
      horizons,
      quantiles,
      target_mode: targetMode,
      ...(targetMode === 'relative' ? { encoding } : {}),
      ewma: Object.fromEntries(horizons.map((h) => [h.label, { alpha: ewma[h.label].alpha }])),
      quantile_baseline: quantileBaseline,
      online: { calibration_step: DEFAULT_CALIBRATION_STEP, fallback_window: DEFAULT_FALLBACK_WINDOW },
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
    const results = await forecastSegments(split.validation, spec, chunkedPredictor(runner, L, W, outputs), options.eval);
    evaluation = summarize(results, spec, options.eval);
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
