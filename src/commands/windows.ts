// `tcpcast windows FILE [-o out.csv] [BPF...]`: the window features of a capture file as CSV (CSV_COLUMNS), to stdout or a file.
import { Command } from 'commander';
import { Capture, openCapture } from '../capture';
import { Errors } from '../errors';
import { rowsByClose, SeriesNames } from '../capture/rows';
import { ChunkWriter } from '../capture/write-stream';
import { CsvSink, csvHeader, csvLines } from '../sinks/csv';
import { addCaptureOptions, captureOptionsFromFlags, parseNonNegativeNumber, type CaptureFlags } from '../options';

export interface WindowsCommandOptions extends CaptureFlags {
  output?: string;
  duration?: number;
}

export async function runWindows(file: string | undefined, words: string[], options: WindowsCommandOptions): Promise<void> {
  const live = (options.interface ?? []).length > 0;
  // With -i every positional word is filter text (tcpdump's `-i eth0 tcp port 80`).
  const bpf = live && file !== undefined ? [file, ...words] : words;
  if (!live && file === undefined) throw Errors.invalidOption('give a capture file, or -i INTERFACE');
  const capture = openCapture({
    ...captureOptionsFromFlags(options),
    files: live ? [] : [file as string],
    interfaces: options.interface,
    bpf: bpf.length ? bpf : undefined,
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

export function register(program: Command): void {
  const cmd = program
    .command('windows')
    .description('compute window features of a capture file (or live interfaces) and write them as CSV (one row per series per window)')
    .argument('[file]', 'pcap or pcapng file (- for stdin); omit with -i')
    .argument('[bpf...]', 'capture filter, as tcpdump takes it');
  // -i here captures live instead of reading a file: no interface unless asked.
  addCaptureOptions(cmd, { live: { defaultInterfaces: [] }, file: true });
  cmd
    .option('--duration <s>', 'live: stop after this many seconds (default: until SIGINT/SIGTERM)', parseNonNegativeNumber('--duration'))
    .option('-o, --output <path>', 'append to this CSV file (header only when it is new) instead of stdout')
    .action((file: string | undefined, bpf: string[], opts: WindowsCommandOptions) => runWindows(file, bpf, opts));
}
