// Flags shared by `run` and `replay`, with TCPCAST_* environment variables and a config file; precedence flags > env > file > defaults.
import { Command, Option, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function parsePositiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Adds the pipeline flags (windows, forecasting, sinks, observability) that `run` and `replay` share. */
export function addPipelineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--window-ms <ms>', 'window length in milliseconds').env('TCPCAST_WINDOW_MS').default(50).argParser(parsePositiveInt('--window-ms')))
    .addOption(new Option('--top-k <n>', 'per-connection series for the K busiest connections').env('TCPCAST_TOP_K').default(20).argParser(parsePositiveInt('--top-k')))
    .addOption(new Option('--max-flows <n>', 'flow table bound (new flows beyond it are counted, not tracked)').env('TCPCAST_MAX_FLOWS').default(65536).argParser(parsePositiveInt('--max-flows')))
    .addOption(new Option('--csv <path>', 'append window rows (features + forecast) to this CSV file').env('TCPCAST_CSV').default('tcpcast-windows.csv'))
    .addOption(new Option('--no-csv', 'do not write CSV'))
    .addOption(new Option('--model <dir>', 'forecast model directory (tcp_forecast.onnx + model.json)').env('TCPCAST_MODEL'))
    .addOption(new Option('--no-forecast', 'capture and write windows without forecasting'))
    .addOption(new Option('--workers <n>', 'inference worker threads').env('TCPCAST_WORKERS').default(1).argParser(parsePositiveInt('--workers')))
    .addOption(new Option('--dashboard [addr]', 'serve the live dashboard on ADDR:PORT').env('TCPCAST_DASHBOARD').default('127.0.0.1:8080'))
    .addOption(new Option('--no-dashboard', 'do not serve the dashboard'))
    .addOption(new Option('--dashboard-allow-host <name>', 'a host name (besides 127.0.0.1, [::1], localhost) a loopback dashboard answers to, e.g. behind a proxy; repeatable').env('TCPCAST_DASHBOARD_ALLOW_HOST').argParser((v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)]))
    .addOption(new Option('--dashboard-max-clients <n>', 'dashboard pages streaming at once; more get HTTP 503').env('TCPCAST_DASHBOARD_MAX_CLIENTS').default(32).argParser(parsePositiveInt('--dashboard-max-clients')))
    .addOption(new Option('--metrics <addr>', 'serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9464)').env('TCPCAST_METRICS'))
    .addOption(new Option('--stats-interval <s>', 'seconds between stats log lines (0: never)').env('TCPCAST_STATS_INTERVAL').default(5).argParser(Number))
    .addOption(new Option('--shutdown-timeout <s>', 'seconds to flush sinks on SIGINT/SIGTERM before giving up').env('TCPCAST_SHUTDOWN_TIMEOUT').default(20).argParser(parsePositiveNumber('--shutdown-timeout')))
    .addOption(new Option('--log-level <level>', 'log level').env('TCPCAST_LOG_LEVEL').default('info').choices(LOG_LEVELS))
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
    throw Object.assign(new Error(`cannot read config file ${file}: ${(err as Error).message}`), { code: 'ERR_CONFIG' });
  }
  let data: unknown;
  try {
    // Loaded here, not at start-up: only runs with --config pay for the YAML parser.
    const { parse: parseYaml } = require('yaml') as typeof import('yaml');
    data = parseYaml(text);
  } catch (err) {
    throw Object.assign(new Error(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`), { code: 'ERR_CONFIG' });
  }
  if (data === null || data === undefined) return;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw Object.assign(new Error(`config file ${file} must hold a mapping of option names to values`), { code: 'ERR_CONFIG' });
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
      throw Object.assign(new Error(`config file ${file}: unknown option "${key}"`), { code: 'ERR_CONFIG' });
    }
    const name = opt.attributeName();
    const source = cmd.getOptionValueSource(name);
    if (source === 'cli' || source === 'env') continue;
    let value: unknown = raw;
    if (opt.argChoices && !opt.argChoices.includes(String(raw))) {
      throw Object.assign(new Error(`config file ${file}: ${key} must be one of ${opt.argChoices.join(', ')}`), { code: 'ERR_CONFIG' });
    }
    // Run scalar values through the flag's own parser so the file is validated exactly like the command line.
    if (opt.parseArg && (typeof raw === 'string' || typeof raw === 'number')) {
      try {
        value = opt.parseArg(String(raw), undefined as never);
      } catch (err) {
        throw Object.assign(new Error(`config file ${file}: ${(err as Error).message}`), { code: 'ERR_CONFIG' });
      }
    }
    cmd.setOptionValueWithSource(name, value, 'config');
  }
}

/** Parses ADDR:PORT, PORT or [v6]:PORT; the host defaults to 127.0.0.1 so servers are local unless told otherwise. */
export function parseListenAddress(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new Error(`${flag} expects ADDR:PORT or PORT, got "${value}"`), { code: 'ERR_INVALID_ARG' });
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
