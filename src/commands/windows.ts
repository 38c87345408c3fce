// `tcpcast windows FILE [-o out.csv] [BPF...]`: the window features of a capture file as CSV (CSV_COLUMNS), to stdout or a file.
import { Command } from 'commander';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { fileOffsetReader, Progress } from '../progress';
import { Capture, openCapture } from '../capture';
import { Errors } from '../errors';
import { rowsByClose, SeriesNames } from '../capture/rows';
import { ChunkWriter } from '../capture/write-stream';
import { CsvSink, csvHeader, csvLines } from '../sinks/csv';
import { addCaptureOptions, captureOptionsFromFlags, type CaptureFlags } from '../options';
import { stopAtLimits } from '../capture/limits';
import { checkWritableOutput } from '../sinks/registry';

export interface WindowsCommandOptions extends CaptureFlags {
  output?: string;
}

export async function runWindows(file: string | undefined, words: string[], options: WindowsCommandOptions): Promise<void> {
  const live = (options.interface ?? []).length > 0;
  // With -i every positional word is filter text (tcpdump's `-i eth0 tcp port 80`).
  const bpf = live && file !== undefined ? [file, ...words] : words;
  if (!live && file === undefined) throw Errors.invalidOption('give a capture file, or -i INTERFACE');
  // The output is checked before the capture starts: a bad -o fails at once (ERR_OUTPUT) with no capture thread
  // left running, and no file is created for a capture that cannot open.
  if (options.output) checkWritableOutput(options.output, 'CSV output');
  const capture = openCapture({
    ...captureOptionsFromFlags(options),
    files: live ? [] : [file as string],
    interfaces: options.interface,
    bpf: bpf.length ? bpf : undefined,
    onWarning: (m) => process.stderr.write(`tcpcast: ${m}\n`),
  });
  let sink: CsvSink | undefined;
  try {
    sink = options.output ? new CsvSink(options.output) : undefined;
  } catch (err) {
    await capture.stop().catch(() => {});
    throw err;
  }
  // Live: until SIGINT/SIGTERM, -c or --duration; stop() closes the open windows so the last rows are written.
  const stop = (): void => void capture.stop();
  const limits = stopAtLimits(capture, { count: options.count, durationS: options.duration });
  if (live) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  // No bar while the rows themselves go to the same terminal: they would be drawn over.
  const barOk = Boolean(options.output) || !process.stdout.isTTY;
  const progress = windowsProgress(capture, live ? undefined : (file as string), options.duration, barOk);
  try {
    await writeWindows(capture, sink);
    progress.stop(true);
  } finally {
    progress.stop(false);
    limits.dispose();
    // On any error path the capture is stopped, so its thread cannot keep the process alive.
    await capture.stop().catch(() => {});
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** A bar over the file (or over --duration live) on a terminal; a line every few seconds otherwise (long runs only). */
function windowsProgress(capture: Capture, file: string | undefined, durationS: number | undefined, barOk: boolean): { stop(complete: boolean): void } {
  let total: number | undefined;
  let done: () => number | undefined;
  const started = Date.now();
  if (file !== undefined && file !== '-') {
    try {
      total = statSync(file).size;
    } catch {
      total = undefined;
    }
    done = fileOffsetReader(file);
  } else if (durationS !== undefined && file === undefined) {
    total = durationS;
    done = () => (Date.now() - started) / 1000;
  } else {
    done = () => undefined;
  }
  const unit = file === undefined ? (durationS !== undefined ? 'seconds' : 'count') : 'bytes';
  const label = file === undefined ? 'windows (live)' : `windows ${file === '-' ? 'stdin' : basename(file)}`;
  const bar = new Progress({ label, total, unit, tty: barOk && Boolean(process.stderr.isTTY) });
  const tick = () => {
    const c = capture.stats();
    bar.update(done() ?? (unit === 'count' ? c.frames : 0), `${c.frames} packets, ${c.windowsEmitted ?? 0} windows`);
  };
  const timer = setInterval(tick, 200);
  timer.unref();
  let stopped = false;
  return {
    stop(complete: boolean) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      tick();
      if (complete && total !== undefined && unit === 'bytes') bar.update(total);
      bar.stop();
    },
  };
}

async function writeWindows(capture: Capture, sink: CsvSink | undefined): Promise<void> {
  const names = new SeriesNames();
  if (sink) {
    try {
      for await (const batch of capture) for (const rows of rowsByClose(batch, names)) sink.write(rows);
    } finally {
      await sink.close();
    }
    // Exit 3 (as run/replay): the rows were computed but some never reached the file (counted and logged by the sink).
    if (sink.stats().dropped > 0) process.exitCode = 3;
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
  addCaptureOptions(cmd, { live: { defaultInterfaces: [] }, file: true, limits: true });
  cmd
    .option('-o, --output <path>', 'append to this CSV file (header only when it is new) instead of stdout')
    .action((file: string | undefined, bpf: string[], opts: WindowsCommandOptions) => runWindows(file, bpf, opts));
}
