// model.json: the model's feature spec, scalers and provenance; loading, validation and the engine-compatibility check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TcpcastError } from '../errors';
import { TARGET_NAME, WINDOW_VALUE_COLUMNS } from '../features';
import { DEFAULT_WINDOW_MS } from '../capture/options';
import { TARGET_MODES, unencodableFeatures, type OutputMapping, type RobustScalerParams, type TargetMode } from './scaler';

export const MODEL_FORMAT = 'tcpcast-forecast-model/1';
export const MODEL_JSON = 'model.json';
/** The capture engine's default window length; a daemon started with another window passes its own. */
export const ENGINE_DEFAULT_WINDOW_MS = DEFAULT_WINDOW_MS;

export { TARGET_MODES, type TargetMode };
/** Training losses (`training.loss` in model.json). */
export const TRAIN_LOSSES = ['pinball', 'huber', 'mae'] as const;
export type TrainLoss = (typeof TRAIN_LOSSES)[number];

export interface ModelSpec {
  format: string;
  onnx_file: string;
  features: string[];
  target: string;
  window_ms: number;
  sequence_length: number;
  /** Windows ahead the target lies: 1 = the next window (models without `horizons`). */
  horizon_windows: number;
  /**
   * What is forecast: per horizon, the mean throughput of the next `windows` windows (1 = the next window).
   * Absent: one horizon of `horizon_windows` (models made before #14). See modelHorizons().
   */
  horizons?: HorizonSpec[];
  /** Quantile levels the network outputs per horizon (ascending); absent = [0.5] (a point forecast). */
  quantiles?: number[];
  /** Relative encoding version (see OutputMapping.encoding); absent = 1. */
  encoding?: number;
  /** The tuned EWMA per horizon label: alpha (weight of the newest window) fitted on the training data. */
  ewma?: Record<string, { alpha: number }>;
  /**
   * The quantile baseline per horizon label: persistence plus empirical quantiles of (actual - persistence) /
   * level on the training data (level as in relative mode), keyed by quantile level ("0.1").
   */
  quantile_baseline?: Record<string, Record<string, number>>;
  /** Online calibration and fallback settings (src/forecast/online.ts; defaults there when absent). */
  online?: { calibration_step?: number; fallback_window?: number };
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
  throw new TcpcastError(`${path}: ${what}`, 'TCM_MODEL_INVALID');
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
  if (spec.horizons === undefined && spec.horizon_windows !== 1) invalid(path, 'only horizon_windows = 1 (next window) is supported without horizons');
  if (spec.horizons !== undefined) {
    if (!Array.isArray(spec.horizons) || spec.horizons.length === 0) invalid(path, 'horizons must be a non-empty list');
    for (const h of spec.horizons)
      if (typeof h?.label !== 'string' || !/^[A-Za-z0-9]+$/.test(h.label) || !Number.isInteger(h.windows) || h.windows < 1)
        invalid(path, 'each horizon needs a label ([A-Za-z0-9]+) and windows (a positive integer)');
    if (new Set(spec.horizons.map((h) => h.label)).size !== spec.horizons.length) invalid(path, 'horizon labels must differ');
  }
  if (spec.quantiles !== undefined) {
    const q = spec.quantiles;
    if (!Array.isArray(q) || q.length === 0 || !q.every((v, i) => typeof v === 'number' && v > 0 && v < 1 && (i === 0 || v > q[i - 1])))
      invalid(path, 'quantiles must be ascending numbers in (0, 1)');
  }
  const width = spec.features.length;
  const horizonCount = (spec.horizons ?? [null]).length;
  if (!spec.scaler || !isNumberArray(spec.scaler.features?.center, width) || !isNumberArray(spec.scaler.features?.scale, width))
    invalid(path, `scaler.features needs center and scale of length ${width}`);
  if (!isNumberArray(spec.scaler.target?.center, horizonCount) || !isNumberArray(spec.scaler.target?.scale, horizonCount))
    invalid(path, `scaler.target needs center and scale of length ${horizonCount} (one per horizon)`);
  for (const [label, e] of Object.entries(spec.ewma ?? {}))
    if (!(typeof e?.alpha === 'number' && e.alpha > 0 && e.alpha <= 1)) invalid(path, `ewma.${label}.alpha must be in (0, 1]`);
  if ([...spec.scaler.features.scale, ...spec.scaler.target.scale].some((s) => s === 0)) invalid(path, 'a scaler scale is 0');
  if (spec.target_mode !== undefined && !TARGET_MODES.includes(spec.target_mode)) invalid(path, `target_mode must be one of ${TARGET_MODES.join(', ')}`);
  if (!spec.onnx || typeof spec.onnx.input !== 'string' || typeof spec.onnx.output !== 'string') invalid(path, 'onnx.input / onnx.output missing');
  if (spec.onnx.input_layout !== 'batch_seq_feature') invalid(path, 'onnx.input_layout must be batch_seq_feature');
  return spec;
}

/**
 * Refuses a model that asks for a column the engine does not produce, a relative model with a column it cannot
 * encode, another target or another window length: such a model would run and return plausible-looking numbers
 * that mean nothing, which is worse than not starting. Columns the engine has and the model does not read are
 * fine: inputs are gathered by name (SequenceBuffers), so adding a window column never breaks a shipped model.
 */
export function checkEngineCompatibility(
  spec: ModelSpec,
  windowMs: number = ENGINE_DEFAULT_WINDOW_MS,
  engineColumns: readonly string[] = WINDOW_VALUE_COLUMNS,
): void {
  const missing = spec.features.filter((f) => !engineColumns.includes(f));
  if (missing.length > 0)
    throw new TcpcastError(
      `model reads column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that this engine does not produce (engine columns: ${engineColumns.join(', ')})`,
      'TCM_SPEC_MISMATCH',
    );
  if (spec.target !== TARGET_NAME) throw new TcpcastError(`model target ${spec.target} is not the engine's ${TARGET_NAME}`, 'TCM_SPEC_MISMATCH');
  if ((spec.target_mode ?? 'level') === 'relative') {
    const bad = unencodableFeatures(spec.features, spec.encoding ?? 1);
    if (bad.length > 0) throw new TcpcastError(`relative model cannot encode ${bad.join(', ')}`, 'TCM_SPEC_MISMATCH');
  }
  if (spec.window_ms !== windowMs)
    throw new TcpcastError(`model was trained on ${spec.window_ms} ms windows but the engine closes ${windowMs} ms windows`, 'TCM_SPEC_MISMATCH');
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
    throw new TcpcastError(`${jsonPath} not found (see model/README.md for how to train one)`, 'TCM_MODEL_MISSING');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new TcpcastError(`${jsonPath}: ${(err as Error).message}`, 'TCM_MODEL_INVALID');
  }
  const spec = validateModelSpec(raw, jsonPath);
  if (opts.checkEngine !== false) checkEngineCompatibility(spec, opts.windowMs ?? ENGINE_DEFAULT_WINDOW_MS);
  const onnxPath = join(dir, spec.onnx_file);
  if (!existsSync(onnxPath)) throw new TcpcastError(`${onnxPath} not found`, 'TCM_MODEL_MISSING');
  return { dir, spec, onnxPath };
}

/** How this model's outputs become Mbps (see OutputMapping): shared by eval and the inference pool. */
export function outputMapping(spec: ModelSpec): OutputMapping {
  return {
    mode: spec.target_mode ?? 'level',
    featureNames: spec.features,
    features: spec.scaler.features,
    target: spec.scaler.target,
    sequenceLength: spec.sequence_length,
    windowMs: spec.window_ms,
    encoding: spec.encoding ?? 1,
  };
}

/** One forecast horizon: the mean throughput of the next `windows` windows, named `label` in outputs. */
export interface HorizonSpec {
  label: string;
  windows: number;
}

/** A horizon's label from its length: "50ms", "1s", "1500ms". */
export function horizonLabel(windows: number, windowMs: number): string {
  const ms = windows * windowMs;
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The default horizons of new models: the next window and the mean over the next second. */
export function defaultHorizons(windowMs: number): HorizonSpec[] {
  const second = Math.max(1, Math.round(1000 / windowMs));
  return [
    { label: horizonLabel(1, windowMs), windows: 1 },
    { label: horizonLabel(second, windowMs), windows: second },
  ];
}
/** Quantile levels new models output per horizon. */
export const DEFAULT_QUANTILES = [0.1, 0.5, 0.9];

/** A model's horizons (models without the field: one, the next window). */
export function modelHorizons(spec: Pick<ModelSpec, 'horizons' | 'horizon_windows' | 'window_ms'>): HorizonSpec[] {
  return spec.horizons ?? [{ label: horizonLabel(spec.horizon_windows, spec.window_ms), windows: spec.horizon_windows }];
}

/** A model's quantile levels per horizon (models without the field: the point forecast, read as the median). */
export function modelQuantiles(spec: Pick<ModelSpec, 'quantiles'>): number[] {
  return spec.quantiles ?? [0.5];
}

/** Outputs per sequence: horizons x quantiles, horizon-major (output h * Q + q). */
export function outputWidth(spec: Pick<ModelSpec, 'horizons' | 'horizon_windows' | 'window_ms' | 'quantiles'>): number {
  return modelHorizons(spec).length * modelQuantiles(spec).length;
}
