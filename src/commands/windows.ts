// `tcpcast windows FILE [-o out.csv] [BPF...]`: the window features of a capture file as CSV (CSV_COLUMNS), to stdout or a file.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_TOP_K, DEFAULT_WINDOW_MS, openCapture } from '../capture';
import { rowsByClose, SeriesNames } from '../capture/rows';
import { ChunkWriter } from '../capture/write-stream';
import { CsvSink, csvHeader, csvLines } from '../sinks/csv';

export interface WindowsCommandOptions {
  windowMs: number;
  topK: number;
  output?: string;
  speed: number;
}

export async function runWindows(file: string, bpf: string[], options: WindowsCommandOptions): Promise<void> {
  const capture = openCapture({
    files: [file],
    bpf: bpf.length ? bpf : undefined,
    windowMs: options.windowMs,
    topK: options.topK,
    speed: options.speed,
  });
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

export function register(program: Command): void {
  program
    .command('windows')
    .description('compute window features of a capture file and write them as CSV (one row per series per window)')
    .argument('<file>', 'pcap or pcapng file (- for stdin)')
    .argument('[bpf...]', 'capture filter, as tcpdump takes it')
    .option('--window-ms <ms>', 'window length in milliseconds', number(1), DEFAULT_WINDOW_MS)
    .option('--top-k <k>', 'per-connection series for the K connections with the most bytes', number(0), DEFAULT_TOP_K)
    .option('--speed <x>', 'replay pacing: 0 = as fast as possible, 1 = real time', number(0), 0)
    .option('-o, --output <path>', 'append to this CSV file (header only when it is new) instead of stdout')
    .action((file: string, bpf: string[], opts: WindowsCommandOptions) => runWindows(file, bpf, opts));
}
