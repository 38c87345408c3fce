// Reading and writing the windows CSV format (CSV_COLUMNS): the training-data format and the capture engine's output.
import { readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS } from '../features';
import { ForecastError } from '../forecast/errors';

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

export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ForecastError('TCM_DATA_INVALID', `${path}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) throw new ForecastError('TCM_DATA_INVALID', `${path}: empty file`);
  const header = splitCsvLine(lines[0]);
  const missing = CSV_COLUMNS.filter((c) => c !== 'predicted_throughput' && !header.includes(c));
  if (missing.length > 0)
    throw new ForecastError('TCM_DATA_INVALID', `${path}: not a windows CSV, missing columns ${missing.join(', ')}`);
  return { header, rows: lines.slice(1).map(splitCsvLine) };
}

/** Serialises window rows (objects keyed by CSV_COLUMNS) with the header, in CSV_COLUMNS order. */
export function windowsToCsv(rows: Record<string, string | number | null>[]): string {
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], cast: { number: (v) => String(v) } });
}
