// Where secrets come from: the InfluxDB token from a file or the INFLUX_TOKEN environment variable, never from argv.
import { readFileSync, statSync } from 'node:fs';
import { Errors } from '../errors';

/**
 * A token that can be re-read: when the server answers 401/403 the sink asks again, so an operator can fix a
 * token file (or a mounted Docker/Kubernetes secret that is rotated) without restarting the capture.
 */
export interface TokenSource {
  /** Where the token comes from, for log lines (never the token itself). */
  readonly origin: string;
  /** The current token, or undefined when none is configured. */
  read(): string | undefined;
}

export interface TokenSourceOptions {
  /** --influx-token-file; wins over the environment because it was asked for explicitly. */
  tokenFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Called once with a warning (e.g. a token file readable by other users). */
  warn?: (msg: string) => void;
}

/** Trailing newlines are what `echo token > file` leaves; they are never part of a token. */
function readTokenFile(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw Errors.config(`influx token file ${path} is empty`);
  return token;
}

/**
 * Resolves the token source: --influx-token-file, else $INFLUX_TOKEN_FILE (the Docker secrets convention),
 * else $INFLUX_TOKEN, else none (servers without auth). A token on the command line would show in `ps` and
 * shell history, so there is deliberately no flag for it. A missing or empty file fails at start, loudly.
 */
export function influxTokenSource(opts: TokenSourceOptions = {}): TokenSource {
  const env = opts.env ?? process.env;
  const file = opts.tokenFile ?? (env.INFLUX_TOKEN_FILE || undefined);
  if (file) {
    let last = readTokenFile(file);
    try {
      // Group/other bits on a secret are worth a warning, not a refusal (containers often mount 0644).
      if ((statSync(file).mode & 0o077) !== 0) opts.warn?.(`influx token file ${file} is readable by other users`);
    } catch {
      /* stat failing right after a successful read is not worth failing for */
    }
    return {
      origin: `file ${file}`,
      read() {
        // Keep the last good token if the file is briefly missing mid-rotation.
        try {
          last = readTokenFile(file);
        } catch {
          /* keep last */
        }
        return last;
      },
    };
  }
  const fromEnv = env.INFLUX_TOKEN;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const token = fromEnv.trim();
    return { origin: 'env INFLUX_TOKEN', read: () => token };
  }
  return { origin: 'none', read: () => undefined };
}

/** A fixed token (tests, embedding). */
export function staticTokenSource(token: string | undefined): TokenSource {
  return { origin: token === undefined ? 'none' : 'static', read: () => token };
}
