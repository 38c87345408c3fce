// Windows CSVs -> per-session contiguous segments -> supervised samples (15 windows in, next throughput out).
import { basename, dirname } from 'node:path';
import { AGGREGATE_SERIES, FEATURE_NAMES, TARGET_NAME } from '../features';
import { ForecastError } from '../forecast/errors';
import { encodeSequence, targetFromMbps, type OutputMapping } from '../forecast/scaler';
import { readCsv } from './csv';
import { seededRandom } from '../random';

export const FEATURE_COUNT = FEATURE_NAMES.length;

/** A run of consecutive windows of one series (no gap), the unit samples are cut from. */
export interface Segment {
  /** file session / iface / series: the unit that never straddles train and validation. */
  session: string;
  /** Sessions sharing a link trace (lab name before "__") are split together; see splitSessions(). */
  group: string;
  file: string;
  windowEndNs: bigint[];
  /** length x FEATURE_COUNT, raw (unscaled), engine order. */
  features: Float64Array;
  throughput: Float64Array;
}

/**
 * The session name of a file: lab sessions are directories (data/lab/<session>/windows.csv), anything else
 * is named by its file name.
 */
export function fileSessionName(path: string): string {
  const base = basename(path);
  if (base === 'windows.csv') return basename(dirname(path));
  return base.replace(/\.csv$/i, '');
}

/** Which series to use: every one, the interface aggregates (`all`) only, or the connections only. */
export const SERIES_FILTERS = ['any', 'aggregate', 'connections'] as const;
export type SeriesFilter = (typeof SERIES_FILTERS)[number];

function seriesWanted(filter: SeriesFilter, series: string): boolean {
  return filter === 'any' || (filter === 'aggregate') === (series === AGGREGATE_SERIES);
}

/** Loads one windows CSV into segments; a gap (a window end not one window after the previous) starts a new one. */
export function loadSegments(path: string, series: SeriesFilter = 'any'): { segments: Segment[]; windowNs: number } {
  const { header, rows } = readCsv(path);
  const col = (name: string) => header.indexOf(name);
  const iEnd = col('window_end_ns');
  const iIface = col('iface');
  const iSeries = col('series');
  const featureCols = FEATURE_NAMES.map(col);
  const targetCol = col(TARGET_NAME);
  const fileSession = fileSessionName(path);
  const group = fileSession.split('__')[0];

  const bySeries = new Map<string, { ends: bigint[]; values: number[][] }>();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!seriesWanted(series, row[iSeries])) continue;
    const key = `${row[iIface]}/${row[iSeries]}`;
    let s = bySeries.get(key);
    if (!s) bySeries.set(key, (s = { ends: [], values: [] }));
    const values = featureCols.map((c) => Number(row[c]));
    if (values.some((v) => !Number.isFinite(v)))
      throw new ForecastError('TCM_DATA_INVALID', `${path}: row ${r + 2} has a non-numeric feature`);
    s.ends.push(BigInt(row[iEnd]));
    s.values.push(values);
  }

  // The window length is the most common step between consecutive windows of a series.
  const steps = new Map<bigint, number>();
  for (const s of bySeries.values())
    for (let i = 1; i < s.ends.length; i++) {
      const d = s.ends[i] - s.ends[i - 1];
      steps.set(d, (steps.get(d) ?? 0) + 1);
    }
  let windowNs = 0n;
  let best = 0;
  for (const [d, n] of steps) if (n > best && d > 0n) [windowNs, best] = [d, n];

  const segments: Segment[] = [];
  const targetIndex = featureCols.indexOf(targetCol);
  for (const [key, s] of bySeries) {
    const order = s.ends.map((_, i) => i).sort((a, b) => (s.ends[a] < s.ends[b] ? -1 : s.ends[a] > s.ends[b] ? 1 : 0));
    let start = 0;
    const flush = (end: number) => {
      if (end <= start) return;
      const idx = order.slice(start, end);
      const features = new Float64Array(idx.length * FEATURE_COUNT);
      const throughput = new Float64Array(idx.length);
      idx.forEach((ri, j) => {
        features.set(s.values[ri], j * FEATURE_COUNT);
        throughput[j] = s.values[ri][targetIndex];
      });
      segments.push({ session: `${fileSession}/${key}`, group, file: path, windowEndNs: idx.map((i) => s.ends[i]), features, throughput });
    };
    for (let j = 1; j < order.length; j++) if (s.ends[order[j]] - s.ends[order[j - 1]] !== windowNs) (flush(j), (start = j));
    flush(order.length);
  }
  return { segments, windowNs: Number(windowNs) };
}

export function loadDataset(paths: string[], series: SeriesFilter = 'any'): { segments: Segment[]; windowMs: number } {
  const segments: Segment[] = [];
  const windows = new Set<number>();
  for (const p of paths) {
    const loaded = loadSegments(p, series);
    segments.push(...loaded.segments);
    if (loaded.windowNs > 0) windows.add(loaded.windowNs);
  }
  if (windows.size > 1)
    throw new ForecastError('TCM_DATA_INVALID', `files mix window lengths (${[...windows].map((w) => w / 1e6).join(', ')} ms)`);
  if (windows.size === 0) throw new ForecastError('TCM_DATA_INVALID', 'no series with two consecutive windows in the data');
  return { segments, windowMs: [...windows][0] / 1e6 };
}

/** Sample k of a segment: windows start..start+L-1 as input, throughput of window start+L as target. */
export interface SampleRef {
  segment: number;
  start: number;
}

export function sampleRefs(segments: Segment[], sequenceLength: number): SampleRef[] {
  const refs: SampleRef[] = [];
  segments.forEach((seg, si) => {
    for (let start = 0; start + sequenceLength < seg.throughput.length; start++) refs.push({ segment: si, start });
  });
  return refs;
}

/**
 * Encoded inputs [N, L, F], targets [N] and each sample's base (see OutputMapping), through encodeSequence():
 * the arithmetic inference uses.
 */
export function materialize(segments: Segment[], refs: SampleRef[], m: OutputMapping): { x: Float32Array; y: Float32Array; base: Float64Array } {
  const L = m.sequenceLength;
  const stride = L * FEATURE_COUNT;
  const x = new Float32Array(refs.length * stride);
  const y = new Float32Array(refs.length);
  const base = new Float64Array(refs.length);
  refs.forEach((ref, k) => {
    const seg = segments[ref.segment];
    base[k] = encodeSequence(m, seg.features, ref.start * FEATURE_COUNT, x, k * stride);
    y[k] = targetFromMbps(m, seg.throughput[ref.start + L], base[k]);
  });
  return { x, y, base };
}

export { seededRandom };

export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export interface Split {
  train: Segment[];
  validation: Segment[];
  /** 'group' (by link trace), 'session', or 'time' (one session only: first part / last part; weaker). */
  by: 'group' | 'session' | 'time';
}

/**
 * Held-out data must be unseen links, not unseen minutes of a seen link: sessions over the same lab trace
 * (ATT-LTE-driving.down__cubic__d20 and __bbr__d20) share capacity patterns, so they are split together.
 * With one trace we fall back to sessions; with one session, to a chronological split (flagged in model.json).
 */
export function splitSegments(segments: Segment[], validationFraction: number, seed: number): Split {
  const random = seededRandom(seed);
  const pick = (key: (s: Segment) => string, by: 'group' | 'session'): Split | null => {
    const keys = shuffleInPlace([...new Set(segments.map(key))].sort(), random);
    if (keys.length < 2) return null;
    const nVal = Math.min(keys.length - 1, Math.max(1, Math.round(keys.length * validationFraction)));
    const val = new Set(keys.slice(0, nVal));
    return { train: segments.filter((s) => !val.has(key(s))), validation: segments.filter((s) => val.has(key(s))), by };
  };
  const split = pick((s) => s.group, 'group') ?? pick((s) => s.session, 'session');
  if (split) return split;
  const train: Segment[] = [];
  const validation: Segment[] = [];
  for (const seg of segments) {
    const cut = Math.round(seg.throughput.length * (1 - validationFraction));
    const part = (a: number, b: number): Segment => ({
      ...seg,
      windowEndNs: seg.windowEndNs.slice(a, b),
      features: seg.features.slice(a * FEATURE_COUNT, b * FEATURE_COUNT),
      throughput: seg.throughput.slice(a, b),
    });
    train.push(part(0, cut));
    validation.push(part(cut, seg.throughput.length));
  }
  return { train, validation, by: 'time' };
}
