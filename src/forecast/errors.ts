// Error codes of the forecasting and training areas; the class is the project's one error class, TcpcastError.
import { TcpcastError } from '../errors';

export type ForecastErrorCode =
  | 'TCM_MODEL_MISSING' // model.json or the ONNX file is not where it should be
  | 'TCM_MODEL_INVALID' // model.json is malformed (missing fields, wrong types)
  | 'TCM_SPEC_MISMATCH' // the model asks for a column the engine does not have, or another window length
  | 'TCM_POOL_CLOSED' // predict() after close()
  | 'TCM_INFERENCE_FAILED' // a batch failed even after its retries
  | 'TCM_DATA_INVALID' // a CSV / log that cannot be used
  | 'TCM_EXPORT_MISMATCH'; // the exported ONNX does not reproduce the trained network

/** Kept only so older imports compile: the same class as TcpcastError (new code throws TcpcastError). */
export const ForecastError = TcpcastError;
export type ForecastError = TcpcastError;
