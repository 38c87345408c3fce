// Windows CSVs -> per-session contiguous segments -> supervised samples (15 windows in, next throughput out).
import { basename, dirname } from 'node:path';
import { AGGREGATE_SERIES, FEATURE_NAMES, TARGET_NAME } from '../features';
import type { HorizonSpec } from '../forecast/spec';
import { TcpcastError } from '../errors';
import { encodeSequence, targetFromMbps, type OutputMapping } from '../forecast/scaler';
import { readCsv } from './csv';
import { seededRandom } from '../random';

/** The columns a model reads when the command is not told otherwise (the seed's nine). */
export const DEFAULT_FEATURES: readonly string[] = FEATURE_NAMES;

/** A run of consecutive windows of one series (no gap), the unit samples are cut from. */
export interface Segment {
  /** file session / iface / series: the unit that never straddles train and validation. */
  session: string;
  /** Sessions sharing a link trace (lab name before "__") are split together; see splitSessions(). */
  group: string;
  file: string;
  windowEndNs: bigint[];
  /** The columns in `features`, in order (the model's features). */
  featureNames: readonly string[];
  /** length x featureNames.length, raw (unscaled). */
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

/**
 * Loads one windows CSV into segments of the named feature columns (only those and the target must be in the
 * file); a gap (a window end not one window after the previous) starts a new one.
 */
export function loadSegments(path: string, series: SeriesFilter = 'any', featureNames: readonly string[] = DEFAULT_FEATURES): { segments: Segment[]; windowNs: number } {
  const columns = featureNames.includes(TARGET_NAME) ? [...featureNames] : [...featureNames, TARGET_NAME];
  const { header, rows } = readCsv(path, columns);
  const col = (name: string) => header.indexOf(name);
  const iEnd = col('window_end_ns');
  const iIface = col('iface');
  const iSeries = col('series');
  const featureCols = columns.map(col);
  const W = featureNames.length;
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
      throw new TcpcastError(`${path}: row ${r + 2} has a non-numeric feature`, 'TCM_DATA_INVALID');
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
  const targetIndex = columns.indexOf(TARGET_NAME);
  for (const [key, s] of bySeries) {
    const order = s.ends.map((_, i) => i).sort((a, b) => (s.ends[a] < s.ends[b] ? -1 : s.ends[a] > s.ends[b] ? 1 : 0));
    let start = 0;
    const flush = (end: number) => {
      if (end <= start) return;
      const idx = order.slice(start, end);
      const features = new Float64Array(idx.length * W);
      const throughput = new Float64Array(idx.length);
      idx.forEach((ri, j) => {
        for (let f = 0; f < W; f++) features[j * W + f] = s.values[ri][f];
        throughput[j] = s.values[ri][targetIndex];
      });
      segments.push({ session: `${fileSession}/${key}`, group, file: path, windowEndNs: idx.map((i) => s.ends[i]), featureNames, features, throughput });
    };
    for (let j = 1; j < order.length; j++) if (s.ends[order[j]] - s.ends[order[j - 1]] !== windowNs) (flush(j), (start = j));
    flush(order.length);
  }
  return { segments, windowNs: Number(windowNs) };
}

export function loadDataset(paths: string[], series: SeriesFilter = 'any', featureNames: readonly string[] = DEFAULT_FEATURES): { segments: Segment[]; windowMs: number } {
  const segments: Segment[] = [];
  const windows = new Set<number>();
  for (const p of paths) {
    const loaded = loadSegments(p, series, featureNames);
    segments.push(...loaded.segments);
    if (loaded.windowNs > 0) windows.add(loaded.windowNs);
  }
  if (windows.size > 1)
    throw new TcpcastError(`files mix window lengths (${[...windows].map((w) => w / 1e6).join(', ')} ms)`, 'TCM_DATA_INVALID');
  if (windows.size === 0) throw new TcpcastError('no series with two consecutive windows in the data', 'TCM_DATA_INVALID');
  return { segments, windowMs: [...windows][0] / 1e6 };
}

/**
 * Sample k of a segment: windows start..start+L-1 as input; per horizon, the mean throughput of the `windows`
 * windows from start+L on as target. A sample exists only where every horizon's target lies inside the segment.
 */
export interface SampleRef {
  segment: number;
  start: number;
}

export function sampleRefs(segments: Segment[], sequenceLength: number, maxHorizonWindows = 1): SampleRef[] {
  const refs: SampleRef[] = [];
  segments.forEach((seg, si) => {
    for (let start = 0; start + sequenceLength + maxHorizonWindows - 1 < seg.throughput.length; start++) refs.push({ segment: si, start });
  });
  return refs;
}

/** Mean throughput of windows from..from+windows-1: a horizon's actual value. */
export function horizonActual(throughput: ArrayLike<number>, from: number, windows: number): number {
  let sum = 0;
  for (let i = 0; i < windows; i++) sum += throughput[from + i];
  return sum / windows;
}

/** The next-window horizon of models that predate `horizons`. */
export const NEXT_WINDOW: readonly HorizonSpec[] = [{ label: 'next', windows: 1 }];

/**
 * Encoded inputs [N, L, F], scaled targets [N, H] (one per horizon), actuals [N, H] in Mbps and each sample's
 * base (see OutputMapping), through encodeSequence(): the arithmetic inference uses.
 */
export function materialize(
  segments: Segment[],
  refs: SampleRef[],
  m: OutputMapping,
  horizons: readonly HorizonSpec[] = NEXT_WINDOW,
): { x: Float32Array; y: Float32Array; actual: Float64Array; base: Float64Array } {
  const L = m.sequenceLength;
  const W = m.featureNames.length;
  const H = horizons.length;
  const stride = L * W;
  const x = new Float32Array(refs.length * stride);
  const y = new Float32Array(refs.length * H);
  const actual = new Float64Array(refs.length * H);
  const base = new Float64Array(refs.length);
  refs.forEach((ref, k) => {
    const seg = segments[ref.segment];
    base[k] = encodeSequence(m, seg.features, ref.start * W, x, k * stride);
    horizons.forEach((h, j) => {
      actual[k * H + j] = horizonActual(seg.throughput, ref.start + L, h.windows);
      y[k * H + j] = targetFromMbps(m, actual[k * H + j], base[k], j);
    });
  });
  return { x, y, actual, base };
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
    const W = seg.featureNames.length;
    const part = (a: number, b: number): Segment => ({
      ...seg,
      windowEndNs: seg.windowEndNs.slice(a, b),
      features: seg.features.slice(a * W, b * W),
      throughput: seg.throughput.slice(a, b),
    });
    train.push(part(0, cut));
    validation.push(part(cut, seg.throughput.length));
  }
  return { train, validation, by: 'time' };
}
