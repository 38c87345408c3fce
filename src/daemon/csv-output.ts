// What happens to an existing --csv file (--csv-mode append|new|rotate), decided before the capture starts, and cleanup of a file a failed start created.
import { closeSync, openSync, readSync, renameSync, statSync, unlinkSync, existsSync } from 'node:fs';
import { csvHeader } from '../sinks/csv';
import { Errors } from '../errors';

import { CSV_MODES, DEFAULT_CSV_MODE, type CsvMode } from '../options';

export { CSV_MODES, DEFAULT_CSV_MODE, type CsvMode } from '../options';

export interface CsvPlan {
  path: string;
  mode: CsvMode;
  /** The file exists with rows (more than a header). */
  existingRows: boolean;
  /** The file did not exist: a start that fails before any row removes it again. */
  createdByUs: boolean;
}

function firstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const nl = text.indexOf('\n');
    return nl < 0 ? text : text.slice(0, nl + 1);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks an existing CSV against the mode before anything starts: a header other than this version's columns is
 * refused in every mode but rotate (appending would mix two schemas in one file), and `new` refuses any file
 * that already holds rows. Nothing is changed on disk here.
 */
export function planCsvOutput(path: string, mode: CsvMode = DEFAULT_CSV_MODE): CsvPlan {
  if (!CSV_MODES.includes(mode)) throw Errors.invalidOption(`--csv-mode must be one of ${CSV_MODES.join(', ')}, got "${mode}"`);
  let size: number;
  let isFile: boolean;
  try {
    const st = statSync(path);
    size = st.size;
    isFile = st.isFile();
  } catch {
    return { path, mode, existingRows: false, createdByUs: true };
  }
  // /dev/stdout, a FIFO: nothing to append to or rotate.
  if (!isFile || size === 0) return { path, mode, existingRows: false, createdByUs: false };
  const header = csvHeader();
  const first = firstLine(path);
  const existingRows = size > first.length;
  if (mode !== 'rotate' && first !== header) {
    throw Errors.output(
      `CSV output ${path} has other columns than this tcpcast writes (first line: ${JSON.stringify(first.trim().slice(0, 80))}...): ` +
        'use --csv-mode rotate to move it aside, or another --csv path',
    );
  }
  if (mode === 'new' && existingRows) throw Errors.output(`CSV output ${path} already holds rows and --csv-mode is new: use --csv-mode append or rotate, or another --csv path`);
  return { path, mode, existingRows, createdByUs: false };
}

/** Rotation name: path.1 is the newest old file, as logrotate numbers them; older ones move up by one. */
function rotate(path: string): string {
  let n = 1;
  while (existsSync(`${path}.${n}`)) n++;
  for (let i = n; i > 1; i--) renameSync(`${path}.${i - 1}`, `${path}.${i}`);
  renameSync(path, `${path}.1`);
  return `${path}.1`;
}

/** Applies the plan just before the sink opens the file (after the capture opened); returns what to log. */
export function applyCsvPlan(plan: CsvPlan): { message: string; fields: Record<string, unknown> } | undefined {
  if (plan.mode === 'rotate' && plan.existingRows) {
    const moved = rotate(plan.path);
    plan.createdByUs = true;
    return { message: `moved the existing CSV output aside (--csv-mode rotate)`, fields: { path: plan.path, movedTo: moved } };
  }
  if (plan.mode === 'append' && plan.existingRows) {
    return { message: 'appending to the existing CSV output (--csv-mode append; new or rotate to start a fresh file)', fields: { path: plan.path, bytes: statSync(plan.path).size } };
  }
  return undefined;
}

/** After a failed start: removes the file only if this run created it and it holds no row (a header at most). */
export function removeIfUnused(plan: CsvPlan | undefined): void {
  if (!plan?.createdByUs) return;
  try {
    const st = statSync(plan.path);
    if (st.isFile() && st.size <= Buffer.byteLength(csvHeader())) unlinkSync(plan.path);
  } catch {
    // never created, or already gone
  }
}
