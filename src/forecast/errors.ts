// Coded errors of the forecasting and training areas: TcpcastError with a TCM_* code (the codes live in src/errors.ts).
import { TcpcastError, type TcpcastErrorCode } from '../errors';

export type ForecastErrorCode = Extract<TcpcastErrorCode, `TCM_${string}`>;

/** A TcpcastError (so the CLI and callers handle one class) whose constructor takes the code first, as this area always has. */
export class ForecastError extends TcpcastError {
  declare readonly code: ForecastErrorCode;
  constructor(code: ForecastErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
