// Where secrets come from: the InfluxDB token from a file or the INFLUX_TOKEN environment variable, never from argv.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
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

/**
 * One trailing newline (what `echo token > file` leaves, LF or CRLF) is removed; anything else that cannot be
 * in an HTTP header (spaces, tabs, more newlines, control characters) is refused here, once, with the file's
 * name, instead of failing every request with ERR_INVALID_CHAR and being retried forever.
 */
export function parseTokenFile(text: string, path: string): string {
  const token = text.replace(/\r?\n$/, '');
  if (token === '') throw Errors.config(`influx token file ${path} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw Errors.config(`influx token file ${path} holds whitespace or control characters besides one trailing newline`);
  return token;
}

function readTokenFile(path: string): string {
  return parseTokenFile(readFileSync(path, 'utf8'), path);
}

/**
 * Resolves the token source: --influx-token-file, else $INFLUX_TOKEN_FILE (the Docker secrets convention),
 * else $INFLUX_TOKEN, else none (servers without auth). A token on the command line would show in `ps` and
 * shell history, so there is deliberately no flag for it. A missing or empty file fails at start, loudly.
 */
export function influxTokenSource(opts: TokenSourceOptions = {}): TokenSource {
  const env = opts.env ?? process.env;
  const given = opts.tokenFile ?? (env.INFLUX_TOKEN_FILE || undefined);
  if (given) {
    // Absolute: the daemon may change directory later (--user), and the file is re-read after a 401/403.
    const file = resolve(given);
    // Read now, at start: with --user this runs before root is dropped, so a root-only 0600 file works.
    let last = readTokenFile(file);
    try {
      // Group/other bits on a secret are worth a warning, not a refusal (containers often mount 0644). stat
      // follows symlinks: the mode that matters is the real file's, not the link's (always 0777).
      if ((statSync(file).mode & 0o077) !== 0) opts.warn?.(`influx token file ${given} is readable by other users`);
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
