// Flags shared by `run` and `replay`, with TCPCAST_* environment variables and a config file; precedence flags > env > file > defaults.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { Errors } from '../errors';
import { LOG_FORMATS } from '../log';
import {
  CSV_MODES,
  DEFAULT_CSV_MODE,
  DEFAULT_CSV_PATH,
  DEFAULT_DASHBOARD_LISTEN,
  DEFAULT_SHUTDOWN_TIMEOUT_S,
  DEFAULT_STATS_INTERVAL_S,
  DEFAULT_WORKERS,
  parseListenAddress as parseListen,
  parseNonNegativeNumber,
  parsePositiveInt,
  parsePositiveNumber,
  type ListenAddress,
} from '../options';

// The parsers live in src/options.ts (one vocabulary); re-exported for the commands and tests that import them from here.
export { parsePositiveInt, parsePositiveNumber } from '../options';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Adds the pipeline flags (forecasting, sinks, observability) that `run`, `replay` and `demo` share; the window
 * flags (--window-ms, --top-k, --max-flows) come with addCaptureOptions (src/options.ts).
 */
export function addPipelineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--csv <path>', 'append window rows (features + forecast) to this CSV file').env('TCPCAST_CSV').default(DEFAULT_CSV_PATH))
    .addOption(
      new Option('--csv-mode <mode>', 'an existing --csv file: append (logged), new (refuse it if it has rows), rotate (move it to FILE.1); a file with other columns is refused unless rotate')
        .env('TCPCAST_CSV_MODE')
        .default(DEFAULT_CSV_MODE)
        .choices([...CSV_MODES]),
    )
    .addOption(new Option('--no-csv', 'do not write CSV'))
    .addOption(new Option('--model <dir>', 'forecast model directory (tcp_forecast.onnx + model.json)').env('TCPCAST_MODEL'))
    .addOption(new Option('--no-forecast', 'capture and write windows without forecasting'))
    .addOption(new Option('--workers <n>', 'inference worker threads').env('TCPCAST_WORKERS').default(DEFAULT_WORKERS).argParser(parsePositiveInt('--workers')))
    .addOption(new Option('--dashboard [addr]', 'serve the live dashboard on ADDR:PORT').env('TCPCAST_DASHBOARD').default(DEFAULT_DASHBOARD_LISTEN))
    .addOption(new Option('--no-dashboard', 'do not serve the dashboard'))
    .addOption(new Option('--dashboard-allow-host <name>', 'a host name (besides 127.0.0.1, [::1], localhost) a loopback dashboard answers to, e.g. behind a proxy; repeatable').env('TCPCAST_DASHBOARD_ALLOW_HOST').argParser((v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)]))
    .addOption(new Option('--dashboard-max-clients <n>', 'dashboard pages streaming at once; more get HTTP 503').env('TCPCAST_DASHBOARD_MAX_CLIENTS').default(32).argParser(parsePositiveInt('--dashboard-max-clients')))
    .addOption(new Option('--metrics <addr>', 'serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9464)').env('TCPCAST_METRICS'))
    .addOption(new Option('--stats-interval <s>', 'seconds between stats log lines (0: never)').env('TCPCAST_STATS_INTERVAL').default(DEFAULT_STATS_INTERVAL_S).argParser(parseNonNegativeNumber('--stats-interval')))
    .addOption(new Option('--shutdown-timeout <s>', 'seconds to flush sinks on SIGINT/SIGTERM before giving up').env('TCPCAST_SHUTDOWN_TIMEOUT').default(DEFAULT_SHUTDOWN_TIMEOUT_S).argParser(parsePositiveNumber('--shutdown-timeout')))
    .addOption(new Option('--log-level <level>', 'log level').env('TCPCAST_LOG_LEVEL').default('info').choices(LOG_LEVELS))
    .addOption(
      new Option('--log-format <format>', 'log lines: pretty (for people), json (pino), auto: pretty when stderr is a terminal')
        .env('TCPCAST_LOG_FORMAT')
        .default('auto')
        .choices([...LOG_FORMATS]),
    )
    .addOption(new Option('--config <file>', 'YAML or JSON file with option values (keys as the long flags, e.g. window-ms)').env('TCPCAST_CONFIG'));
}

/**
 * Applies a config file under flags and environment: an option takes the file's value only when neither the
 * command line nor the environment set it. Unknown keys are an error, so a typo never silently does nothing.
 */
export function applyConfigFile(cmd: Command): void {
  const file = cmd.getOptionValue('config') as string | undefined;
  if (!file) return;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw Errors.config(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    // Loaded here, not at start-up: only runs with --config pay for the YAML parser.
    const { parse: parseYaml } = require('yaml') as typeof import('yaml');
    data = parseYaml(text);
  } catch (err) {
    throw Errors.config(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw Errors.config(`config file ${file} must hold a mapping of option names to values`);
  }
  const byName = new Map<string, Option>();
  for (const opt of cmd.options) {
    if (opt.negate) continue;
    byName.set(opt.long!.replace(/^--/, ''), opt);
    byName.set(opt.attributeName(), opt);
  }
  for (const [key, raw] of Object.entries(data as Record<string, unknown>)) {
    const opt = byName.get(key);
    if (!opt || key === 'config') {
      throw Errors.config(`config file ${file}: unknown option "${key}"`);
    }
    const name = opt.attributeName();
    const source = cmd.getOptionValueSource(name);
    if (source === 'cli' || source === 'env') continue;
    let value: unknown = raw;
    if (opt.argChoices && !opt.argChoices.includes(String(raw))) {
      throw Errors.config(`config file ${file}: ${key} must be one of ${opt.argChoices.join(', ')}`);
    }
    // Run scalar values through the flag's own parser so the file is validated exactly like the command line.
    if (opt.parseArg && (typeof raw === 'string' || typeof raw === 'number')) {
      try {
        value = opt.parseArg(String(raw), undefined as never);
      } catch (err) {
        throw Errors.config(`config file ${file}: ${(err as Error).message}`);
      }
    }
    cmd.setOptionValueWithSource(name, value, 'config');
  }
}

/** ADDR:PORT, PORT or [v6]:PORT for a server flag (src/options.ts parses every one alike); the host defaults to 127.0.0.1. */
export function parseListenAddress(value: string, flag: string): ListenAddress {
  return parseListen(value, flag);
}
