// The one error class of tcpcast (capture, CLI, sinks, forecasting, training): one line of text plus a stable `code` callers branch on.

/**
 * Every code in one list. ERR_* are the capture layer's and the commands' (docs/capture.md says what each means);
 * TCM_* are the forecasting and training codes (src/forecast/errors.ts keeps ForecastError as their constructor).
 */
export type TcpcastErrorCode =
  | 'ERR_PCAP_OPEN'
  | 'ERR_NO_SUCH_DEVICE'
  | 'ERR_NO_SUCH_NETNS'
  | 'ERR_PERMISSION'
  | 'ERR_BPF'
  | 'ERR_FILE_CORRUPT'
  | 'ERR_FILE_TRUNCATED'
  | 'ERR_CAPTURE'
  | 'ERR_PRIVILEGE_DROP'
  | 'ERR_INVALID_OPTION'
  | 'ERR_ADDON_MISSING'
  | 'ERR_ADDON_SCHEMA'
  | 'ERR_OUTPUT'
  | 'ERR_ADDRESS_IN_USE' // a server flag (--dashboard, --metrics) names a port another process holds
  | 'ERR_CONFIG' // a --config file that cannot be read or holds an unknown key or a bad value
  | 'ERR_NEEDS_ROOT' // the lab and the demo build network namespaces
  | 'ERR_LAB' // a lab helper (iperf3, tcpcast-linkem, ip) failed
  | 'TCM_MODEL_MISSING' // model.json or the ONNX file is not where it should be
  | 'TCM_MODEL_INVALID' // model.json is malformed (missing fields, wrong types)
  | 'TCM_SPEC_MISMATCH' // the model expects other features / window length than this engine produces
  | 'TCM_POOL_CLOSED' // predict() after close()
  | 'TCM_INFERENCE_FAILED' // a batch failed even after its retries
  | 'TCM_DATA_INVALID' // a CSV / log that cannot be used
  | 'TCM_EXPORT_MISMATCH'; // the exported ONNX does not reproduce the trained network

/**
 * Handed to the addon once at load (better-sqlite3's pattern), so native failures are instances of this class
 * with a `code`; the constructor signature (message, code) is what native code calls.
 */
export class TcpcastError extends Error {
  readonly code: string;
  constructor(message: string, code: TcpcastErrorCode | string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TcpcastError';
    this.code = code;
  }
}

export const Errors = {
  invalidOption: (message: string): TcpcastError => new TcpcastError(message, 'ERR_INVALID_OPTION'),
  output: (message: string): TcpcastError => new TcpcastError(message, 'ERR_OUTPUT'),
  config: (message: string): TcpcastError => new TcpcastError(message, 'ERR_CONFIG'),
  needsRoot: (message: string): TcpcastError => new TcpcastError(message, 'ERR_NEEDS_ROOT'),
  lab: (message: string): TcpcastError => new TcpcastError(message, 'ERR_LAB'),
};

/**
 * Gives a native error the stack of the JS caller (sharp's pattern): `site` is an Error made before the native
 * call, so users see their own frames instead of an empty native stack.
 */
export function withCallerStack<E extends Error>(err: E, site: Error): E {
  const frames = (site.stack ?? '').split('\n').slice(1).join('\n');
  err.stack = `${err.name}: ${err.message}\n${frames}`;
  return err;
}
