// `tcpcast windows FILE [-o out.csv] [BPF...]`: the window features of a capture file as CSV (CSV_COLUMNS), to stdout or a file.
import { Command, InvalidArgumentError } from 'commander';
import { Capture, DEFAULT_TOP_K, DEFAULT_WINDOW_MS, openCapture } from '../capture';
import { Errors } from '../errors';
import { addDecapOptions } from '../capture/options';
import { rowsByClose, SeriesNames } from '../capture/rows';
import { ChunkWriter } from '../capture/write-stream';
import { CsvSink, csvHeader, csvLines } from '../sinks/csv';

export interface WindowsCommandOptions {
  windowMs: number;
  topK: number;
  output?: string;
  speed: number;
  interface?: string[];
  duration?: number;
  netns?: string;
  decap?: boolean;
  vxlanPorts?: number[];
}

export async function runWindows(file: string | undefined, words: string[], options: WindowsCommandOptions): Promise<void> {
  const live = (options.interface ?? []).length > 0;
  // With -i every positional word is filter text (tcpdump's `-i eth0 tcp port 80`).
  const bpf = live && file !== undefined ? [file, ...words] : words;
  if (!live && file === undefined) throw Errors.invalidOption('give a capture file, or -i INTERFACE');
  const capture = openCapture({
    files: live ? [] : [file as string],
    interfaces: options.interface,
    bpf: bpf.length ? bpf : undefined,
    windowMs: options.windowMs,
    topK: options.topK,
    speed: options.speed,
    netns: options.netns,
    decap: options.decap,
    vxlanPorts: options.vxlanPorts,
    onWarning: (m) => process.stderr.write(`tcpcast: ${m}\n`),
  });
  // Live: until SIGINT/SIGTERM or --duration; stop() closes the open windows so the last rows are written.
  const stop = (): void => void capture.stop();
  const timer = options.duration !== undefined ? setTimeout(stop, options.duration * 1000) : undefined;
  if (live) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  try {
    await writeWindows(capture, options);
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function writeWindows(capture: Capture, options: WindowsCommandOptions): Promise<void> {
  const names = new SeriesNames();
  if (options.output) {
    const sink = new CsvSink(options.output);
    try {
      for await (const batch of capture) for (const rows of rowsByClose(batch, names)) sink.write(rows);
    } finally {
      await sink.close();
    }
    return;
  }
  const out = new ChunkWriter(process.stdout);
  await out.write(csvHeader());
  for await (const batch of capture) {
    await out.write(rowsByClose(batch, names).map(csvLines).join(''));
    if (out.closedByReader) break;
  }
  await out.end();
}

function number(min: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isFinite(v) || v < min) throw new InvalidArgumentError(`expected a number >= ${min}`);
    return v;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const cmd = program
    .command('windows')
    .description('compute window features of a capture file (or live interfaces) and write them as CSV (one row per series per window)')
    .argument('[file]', 'pcap or pcapng file (- for stdin); omit with -i')
    .argument('[bpf...]', 'capture filter, as tcpdump takes it')
    .option('--window-ms <ms>', 'window length in milliseconds', number(1), DEFAULT_WINDOW_MS)
    .option('--top-k <k>', 'per-connection series for the K connections with the most bytes', number(0), DEFAULT_TOP_K)
    .option('--speed <x>', 'replay pacing: 0 = as fast as possible, 1 = real time', number(0), 0)
    .option('-i, --interface <name>', 'capture live on this interface (repeatable; any = all) instead of reading a file', collect, [])
    .option('--netns <name>', 'with -i: open the interfaces inside this network namespace (ip netns list)')
    .option('--duration <s>', 'live: stop after this many seconds (default: until SIGINT/SIGTERM)', number(0))
    .option('-o, --output <path>', 'append to this CSV file (header only when it is new) instead of stdout');
  addDecapOptions(cmd).action((file: string | undefined, bpf: string[], opts: WindowsCommandOptions) => runWindows(file, bpf, opts));
}
