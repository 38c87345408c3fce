// Reading and writing the windows CSV format (CSV_COLUMNS): the training-data format and the capture engine's output.
import { readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS } from '../features';
import { TcpcastError } from '../errors';

/** Splits one CSV line (RFC 4180 quoting; the engine quotes only fields with commas or quotes). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

export interface CsvTable {
  header: string[];
  rows: string[][];
}

/** The columns every windows CSV reader needs besides the values it uses: which series a row belongs to, and when. */
export const CSV_KEY_COLUMNS = ['window_end_ns', 'iface', 'series'] as const;

/**
 * Reads a windows CSV; `required` names the value columns the caller uses (key columns are always required).
 * Any other column may be absent or extra, so a CSV written before a column was added still trains and
 * evaluates a model that does not read that column.
 */
export function readCsv(path: string, required: readonly string[]): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TcpcastError(`${path}: ${(err as Error).message}`, 'TCM_DATA_INVALID');
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) throw new TcpcastError(`${path}: empty file`, 'TCM_DATA_INVALID');
  const header = splitCsvLine(lines[0]);
  const missing = [...new Set([...CSV_KEY_COLUMNS, ...required])].filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new TcpcastError(`${path}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (needed here)`, 'TCM_DATA_INVALID');
  return { header, rows: lines.slice(1).map(splitCsvLine) };
}

/** Serialises window rows (objects keyed by CSV_COLUMNS) with the header, in CSV_COLUMNS order. */
export function windowsToCsv(rows: Record<string, string | number | null>[]): string {
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], cast: { number: (v) => String(v) } });
}
