// The dashboard's bounded memory: a ring buffer per series, kernel drops per window close, and the messages built from them.
import type { WindowRow } from '../features';
import { DEFAULT_PHASE_OPTIONS, measurePhase, type PhaseResult } from './phase';

const NS_PER_S = 1e9;

export interface HistoryOptions {
  windowMs: number;
  /** Windows kept per series (and for kernel drops): what a (re)connecting page gets. */
  historyWindows: number;
  /** Most recent windows the lag and MAE are measured over. */
  phaseWindows: number;
  maxLagWindows: number;
  /** Series beyond this evict the one updated longest ago (top-K churn must not grow memory forever). */
  maxSeries: number;
}

/** Phase result as sent to the page: short keys would save little, so the names stay readable. */
export type PhaseMessage = PhaseResult;

export interface SeriesSnapshot {
  id: number;
  iface: string;
  key: string;
  /** Window end, seconds since the epoch (uPlot's time unit). */
  t: number[];
  actual: number[];
  predicted: (number | null)[];
  rttMs: number[];
  bifBytes: number[];
  /** Lag measured at each window close, ms; null before there was enough data. */
  lagMs: (number | null)[];
  phase: PhaseMessage | null;
}

export interface SnapshotMessage {
  windowMs: number;
  historyWindows: number;
  series: SeriesSnapshot[];
  drops: { t: number[]; kernelDropped: number[] };
  stats: Record<string, number>;
}

/** One window close. rows: [seriesId, tSeconds, actualMbps, predictedMbps|null, rttMs, bifBytes, lagMs|null]. */
export interface WindowsMessage {
  t: number;
  newSeries: { id: number; iface: string; key: string }[];
  removedSeries: number[];
  rows: [number, number, number, number | null, number, number, number | null][];
  phase: Record<number, PhaseMessage>;
  /** Kernel drops since the previous window close. */
  kernelDropped: number;
  stats: Record<string, number>;
}

/** Fixed-capacity columns; oldest entries are overwritten. */
class SeriesRing {
  readonly tS: Float64Array;
  readonly windowIndex: Float64Array;
  readonly actual: Float64Array;
  /** NaN where no forecast was attached. */
  readonly predicted: Float64Array;
  readonly rttMs: Float64Array;
  readonly bifBytes: Float64Array;
  /** NaN where no lag could be measured. */
  readonly lagMs: Float64Array;
  private head = 0;
  length = 0;
  lastUpdate = 0;
  phase: PhaseResult | null = null;

  constructor(
    readonly id: number,
    readonly iface: string,
    readonly key: string,
    readonly capacity: number,
  ) {
    this.tS = new Float64Array(capacity);
    this.windowIndex = new Float64Array(capacity);
    this.actual = new Float64Array(capacity);
    this.predicted = new Float64Array(capacity);
    this.rttMs = new Float64Array(capacity);
    this.bifBytes = new Float64Array(capacity);
    this.lagMs = new Float64Array(capacity);
  }

  push(tS: number, windowIndex: number, actual: number, predicted: number, rttMs: number, bifBytes: number): number {
    const slot = this.head;
    this.tS[slot] = tS;
    this.windowIndex[slot] = windowIndex;
    this.actual[slot] = actual;
    this.predicted[slot] = predicted;
    this.rttMs[slot] = rttMs;
    this.bifBytes[slot] = bifBytes;
    this.lagMs[slot] = NaN;
    this.head = (this.head + 1) % this.capacity;
    if (this.length < this.capacity) this.length++;
    return slot;
  }

  /** Physical slot of the i-th oldest entry. */
  slot(i: number): number {
    return (this.head - this.length + i + this.capacity) % this.capacity;
  }

  /** The last n entries of a column, oldest first. */
  tail(column: Float64Array, n: number): Float64Array {
    const count = Math.min(n, this.length);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = column[this.slot(this.length - count + i)];
    return out;
  }
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** JSON has no NaN or Infinity: a bad value must not make the whole message unparsable. */
function finiteOrZero(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

export class DashboardHistory {
  private readonly series = new Map<string, SeriesRing>();
  private nextSeriesId = 0;
  private readonly dropsT: Float64Array;
  private readonly dropsCount: Float64Array;
  private dropsHead = 0;
  private dropsLength = 0;
  private lastKernelDropped: number | null = null; // cumulative value at the previous close
  private stats: Record<string, number> = {};
  private updates = 0;
  /** Ids of ended series dropped since the last add(): the next windows message tells the pages. */
  private endedIds: number[] = [];
  windows = 0;
  seriesEvicted = 0;
  seriesEnded = 0;

  constructor(readonly options: HistoryOptions) {
    this.dropsT = new Float64Array(options.historyWindows);
    this.dropsCount = new Float64Array(options.historyWindows);
  }

  setStats(stats: Record<string, number>): void {
    this.stats = { ...stats };
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /** Stores one window close and returns the message that tells connected pages about it. */
  add(rows: WindowRow[]): WindowsMessage {
    const { windowMs } = this.options;
    const message: WindowsMessage = {
      t: rows.length > 0 ? Number(rows[0].windowEndNs) / NS_PER_S : 0,
      newSeries: [],
      removedSeries: this.endedIds,
      rows: [],
      phase: {},
      kernelDropped: this.recordDrops(rows),
      stats: this.stats,
    };
    this.endedIds = [];
    const touched: [SeriesRing, number][] = [];
    for (const row of rows) {
      let ring = this.ringFor(row, message);
      const tS = Number(row.windowEndNs) / NS_PER_S;
      const windowIndex = Math.round(Number(row.windowEndNs) / (windowMs * 1e6));
      // Time went back (another file replayed into the same dashboard): a fresh series, not a scribble over the old.
      if (ring.length > 0 && windowIndex < ring.windowIndex[ring.slot(ring.length - 1)]) ring = this.restartSeries(ring, message);
      const predicted = row.predictedThroughput ?? NaN;
      const slot = ring.push(tS, windowIndex, row.values.throughput_mbps, predicted, row.values.delay, row.values.bif);
      ring.lastUpdate = ++this.updates;
      touched.push([ring, slot]);
      this.windows++;
    }
    for (const [ring, slot] of touched) {
      ring.phase = this.measure(ring);
      ring.lagMs[slot] = ring.phase.lagMs ?? NaN;
      message.phase[ring.id] = ring.phase;
      message.rows.push([
        ring.id,
        ring.tS[slot],
        finiteOrZero(ring.actual[slot]),
        finiteOrNull(ring.predicted[slot]),
        finiteOrZero(ring.rttMs[slot]),
        finiteOrZero(ring.bifBytes[slot]),
        finiteOrNull(ring.lagMs[slot]),
      ]);
    }
    return message;
  }

  /** Drops the rings of series that ended (the pipeline's forgetSeries), at once rather than when maxSeries forces it. */
  forget(series: { iface: string; key: string }[]): void {
    for (const s of series) {
      const name = `${s.iface}\u0000${s.key}`;
      const ring = this.series.get(name);
      if (!ring) continue;
      this.series.delete(name);
      this.endedIds.push(ring.id);
      this.seriesEnded++;
    }
  }

  /** Everything kept, for a page that just (re)connected. */
  snapshot(): SnapshotMessage {
    const series: SeriesSnapshot[] = [];
    for (const ring of this.series.values()) {
      const n = ring.length;
      const column = (c: Float64Array) => Array.from(ring.tail(c, n), finiteOrZero);
      const nullable = (c: Float64Array) => Array.from(ring.tail(c, n), finiteOrNull);
      series.push({
        id: ring.id,
        iface: ring.iface,
        key: ring.key,
        t: column(ring.tS),
        actual: column(ring.actual),
        predicted: nullable(ring.predicted),
        rttMs: column(ring.rttMs),
        bifBytes: column(ring.bifBytes),
        lagMs: nullable(ring.lagMs),
        phase: ring.phase,
      });
    }
    const t: number[] = [];
    const kernelDropped: number[] = [];
    const cap = this.options.historyWindows;
    for (let i = 0; i < this.dropsLength; i++) {
      const slot = (this.dropsHead - this.dropsLength + i + cap) % cap;
      t.push(this.dropsT[slot]);
      kernelDropped.push(this.dropsCount[slot]);
    }
    return {
      windowMs: this.options.windowMs,
      historyWindows: this.options.historyWindows,
      series,
      drops: { t, kernelDropped },
      stats: this.stats,
    };
  }

  private ringFor(row: WindowRow, message: WindowsMessage): SeriesRing {
    const name = `${row.iface}\u0000${row.series}`;
    let ring = this.series.get(name);
    if (ring) return ring;
    if (this.series.size >= this.options.maxSeries) {
      let oldest: [string, SeriesRing] | null = null;
      for (const entry of this.series) if (!oldest || entry[1].lastUpdate < oldest[1].lastUpdate) oldest = entry;
      if (oldest) {
        this.series.delete(oldest[0]);
        message.removedSeries.push(oldest[1].id);
        this.seriesEvicted++;
      }
    }
    ring = new SeriesRing(this.nextSeriesId++, row.iface, row.series, this.options.historyWindows);
    this.series.set(name, ring);
    message.newSeries.push({ id: ring.id, iface: ring.iface, key: ring.key });
    return ring;
  }

  private restartSeries(old: SeriesRing, message: WindowsMessage): SeriesRing {
    const name = `${old.iface}\u0000${old.key}`;
    const ring = new SeriesRing(this.nextSeriesId++, old.iface, old.key, this.options.historyWindows);
    this.series.set(name, ring);
    message.removedSeries.push(old.id);
    message.newSeries.push({ id: ring.id, iface: ring.iface, key: ring.key });
    return ring;
  }

  /** Over the last phaseWindows windows of time (not of entries: a series back from a long silence has a gap). */
  private measure(ring: SeriesRing): PhaseResult {
    let n = Math.min(this.options.phaseWindows, ring.length);
    const lastIndex = ring.windowIndex[ring.slot(ring.length - 1)];
    while (n > 0 && ring.windowIndex[ring.slot(ring.length - n)] <= lastIndex - this.options.phaseWindows) n--;
    return measurePhase(ring.tail(ring.windowIndex, n), ring.tail(ring.actual, n), ring.tail(ring.predicted, n), {
      windowMs: this.options.windowMs,
      maxLagWindows: this.options.maxLagWindows,
      minPairs: DEFAULT_PHASE_OPTIONS.minPairs,
    });
  }

  /** Kernel drops are a cumulative counter in the stats; the chart shows what each window close added. */
  private recordDrops(rows: WindowRow[]): number {
    // The capture layer calls it pcapDropped; the daemon may pass its stats through unrenamed.
    const total = this.stats.kernelDropped ?? this.stats.pcapDropped;
    let added = 0;
    if (typeof total === 'number' && Number.isFinite(total)) {
      // A restarted capture resets its counter: count from the new value rather than going negative.
      const previous = this.lastKernelDropped ?? 0;
      added = total >= previous ? total - previous : total;
      this.lastKernelDropped = total;
    }
    if (rows.length === 0) return added;
    const cap = this.options.historyWindows;
    this.dropsT[this.dropsHead] = Number(rows[0].windowEndNs) / NS_PER_S;
    this.dropsCount[this.dropsHead] = added;
    this.dropsHead = (this.dropsHead + 1) % cap;
    if (this.dropsLength < cap) this.dropsLength++;
    return added;
  }
}
