// The error class for user-facing failures (capture, CLI): one line of text plus a stable `code` callers can branch on.

/** Codes the capture layer and commands use; docs/capture.md lists what each means. */
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
  | 'ERR_OUTPUT';

/**
 * Handed to the addon once at load (better-sqlite3's pattern), so native failures are instances of this class
 * with a `code`; the constructor signature (message, code) is what native code calls.
 */
export class TcpcastError extends Error {
  readonly code: string;
  constructor(message: string, code: TcpcastErrorCode | string) {
    super(message);
    this.name = 'TcpcastError';
    this.code = code;
  }
}

export const Errors = {
  invalidOption: (message: string): TcpcastError => new TcpcastError(message, 'ERR_INVALID_OPTION'),
  output: (message: string): TcpcastError => new TcpcastError(message, 'ERR_OUTPUT'),
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
