// Coded errors of the forecasting and training areas, so callers (CLI, pipeline, tests) branch on `code`, not on text.

export type ForecastErrorCode =
  | 'TCM_MODEL_MISSING' // model.json or the ONNX file is not where it should be
  | 'TCM_MODEL_INVALID' // model.json is malformed (missing fields, wrong types)
  | 'TCM_SPEC_MISMATCH' // the model expects other features / window length than this engine produces
  | 'TCM_POOL_CLOSED' // predict() after close()
  | 'TCM_INFERENCE_FAILED' // a batch failed even after its retries
  | 'TCM_DATA_INVALID' // a CSV / log that cannot be used
  | 'TCM_EXPORT_MISMATCH'; // the exported ONNX does not reproduce the trained network

export class ForecastError extends Error {
  readonly code: ForecastErrorCode;
  constructor(code: ForecastErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForecastError';
    this.code = code;
  }
}
