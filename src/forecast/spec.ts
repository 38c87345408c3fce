// model.json: the model's feature spec, scalers and provenance; loading, validation and the engine-compatibility check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES, TARGET_NAME } from '../features';
import { ForecastError } from './errors';
import { TARGET_MODES, type OutputMapping, type RobustScalerParams, type TargetMode } from './scaler';

export const MODEL_FORMAT = 'tcpcast-forecast-model/1';
export const MODEL_JSON = 'model.json';
/** The capture engine's default window length; a daemon started with another window passes its own. */
export const ENGINE_DEFAULT_WINDOW_MS = 50;

export { TARGET_MODES, type TargetMode };
/** Training losses (`training.loss` in model.json). */
export const TRAIN_LOSSES = ['huber', 'mae'] as const;
export type TrainLoss = (typeof TRAIN_LOSSES)[number];

export interface ModelSpec {
  format: string;
  onnx_file: string;
  features: string[];
  target: string;
  window_ms: number;
  sequence_length: number;
  /** Windows ahead the target lies: 1 = the next window. */
  horizon_windows: number;
  /**
   * What the network outputs: 'level' = the scaled throughput of the next window; 'delta' = the change from the
   * last window's throughput in target-scale units (a residual forecast: the network learns corrections to
   * persistence); 'relative' = the next throughput as a multiple of the sequence's own level, from level-relative
   * inputs (see OutputMapping in scaler.ts). Absent means 'level' (models made before the field existed).
   */
  target_mode?: TargetMode;
  scaler: { features: RobustScalerParams; target: RobustScalerParams };
  onnx: { input: string; output: string; input_layout: 'batch_seq_feature'; opset: number };
  architecture: { lstm_units: number[]; dense_units: number[] };
  /** Where the training data came from; `synthetic: true` marks a model that must never ship as real. */
  training: Record<string, unknown> & { synthetic: boolean; data: string[] };
  evaluation?: Record<string, unknown>;
}

function invalid(path: string, what: string): never {
  throw new ForecastError('TCM_MODEL_INVALID', `${path}: ${what}`);
}

function isNumberArray(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Structural validation: everything inference relies on must be present and well-typed. */
export function validateModelSpec(raw: unknown, path = MODEL_JSON): ModelSpec {
  if (typeof raw !== 'object' || raw === null) invalid(path, 'not a JSON object');
  const spec = raw as ModelSpec;
  if (spec.format !== MODEL_FORMAT) invalid(path, `format is ${JSON.stringify(spec.format)}, expected ${MODEL_FORMAT}`);
  if (typeof spec.onnx_file !== 'string' || spec.onnx_file === '') invalid(path, 'onnx_file missing');
  if (!Array.isArray(spec.features) || !spec.features.every((f) => typeof f === 'string')) invalid(path, 'features must be a list of names');
  if (typeof spec.window_ms !== 'number' || !(spec.window_ms > 0)) invalid(path, 'window_ms must be a positive number');
  if (!Number.isInteger(spec.sequence_length) || spec.sequence_length < 1) invalid(path, 'sequence_length must be a positive integer');
  if (spec.horizon_windows !== 1) invalid(path, 'only horizon_windows = 1 (next window) is supported');
  const width = spec.features.length;
  if (!spec.scaler || !isNumberArray(spec.scaler.features?.center, width) || !isNumberArray(spec.scaler.features?.scale, width))
    invalid(path, `scaler.features needs center and scale of length ${width}`);
  if (!isNumberArray(spec.scaler.target?.center, 1) || !isNumberArray(spec.scaler.target?.scale, 1))
    invalid(path, 'scaler.target needs center and scale of length 1');
  if ([...spec.scaler.features.scale, ...spec.scaler.target.scale].some((s) => s === 0)) invalid(path, 'a scaler scale is 0');
  if (spec.target_mode !== undefined && !TARGET_MODES.includes(spec.target_mode)) invalid(path, `target_mode must be one of ${TARGET_MODES.join(', ')}`);
  if (!spec.onnx || typeof spec.onnx.input !== 'string' || typeof spec.onnx.output !== 'string') invalid(path, 'onnx.input / onnx.output missing');
  if (spec.onnx.input_layout !== 'batch_seq_feature') invalid(path, 'onnx.input_layout must be batch_seq_feature');
  return spec;
}

/**
 * Refuses a model trained on other features, another order, or another window length: such a model would
 * run and return plausible-looking numbers that mean nothing, which is worse than not starting.
 */
export function checkEngineCompatibility(spec: ModelSpec, windowMs: number = ENGINE_DEFAULT_WINDOW_MS): void {
  const expected = FEATURE_NAMES as readonly string[];
  const same = spec.features.length === expected.length && spec.features.every((f, i) => f === expected[i]);
  if (!same)
    throw new ForecastError(
      'TCM_SPEC_MISMATCH',
      `model features [${spec.features.join(', ')}] do not match the engine's [${expected.join(', ')}] (names and order must be identical)`,
    );
  if (spec.target !== TARGET_NAME)
    throw new ForecastError('TCM_SPEC_MISMATCH', `model target ${spec.target} is not the engine's ${TARGET_NAME}`);
  if (spec.window_ms !== windowMs)
    throw new ForecastError(
      'TCM_SPEC_MISMATCH',
      `model was trained on ${spec.window_ms} ms windows but the engine closes ${windowMs} ms windows`,
    );
}

export interface LoadedModel {
  dir: string;
  spec: ModelSpec;
  onnxPath: string;
}

/** Reads and validates model.json in `dir`; with `windowMs`, also checks it against the running engine. */
export function loadModel(dir: string, opts: { windowMs?: number; checkEngine?: boolean } = {}): LoadedModel {
  const jsonPath = join(dir, MODEL_JSON);
  if (!existsSync(jsonPath))
    throw new ForecastError('TCM_MODEL_MISSING', `${jsonPath} not found (see model/README.md for how to train one)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new ForecastError('TCM_MODEL_INVALID', `${jsonPath}: ${(err as Error).message}`, { cause: err });
  }
  const spec = validateModelSpec(raw, jsonPath);
  if (opts.checkEngine !== false) checkEngineCompatibility(spec, opts.windowMs ?? ENGINE_DEFAULT_WINDOW_MS);
  const onnxPath = join(dir, spec.onnx_file);
  if (!existsSync(onnxPath)) throw new ForecastError('TCM_MODEL_MISSING', `${onnxPath} not found`);
  return { dir, spec, onnxPath };
}

/** How this model's outputs become Mbps (see OutputMapping): shared by eval and the inference pool. */
export function outputMapping(spec: ModelSpec): OutputMapping {
  return {
    mode: spec.target_mode ?? 'level',
    features: spec.scaler.features,
    target: spec.scaler.target,
    sequenceLength: spec.sequence_length,
    featureCount: FEATURE_NAMES.length,
    windowMs: spec.window_ms,
  };
}
