// Per-series history of the last N windows' scaled features, kept in flat Float32Array rings (no per-window objects).
import { FEATURE_NAMES, WINDOW_VALUE_COLUMNS } from '../features';
import type { RobustScalerParams } from './scaler';

const FEATURE_COUNT = FEATURE_NAMES.length;
const ROW_WIDTH = WINDOW_VALUE_COLUMNS.length;

interface Ring {
  /** sequenceLength x FEATURE_COUNT, scaled; slot `next` is the oldest once full. */
  data: Float32Array;
  next: number;
  filled: number;
  lastBatch: number;
}

/**
 * Values are scaled once, when the window arrives, with the model's RobustScaler: the same arithmetic as
 * scaleInto() in training, so a window is never scaled twice or with other parameters.
 */
export class SequenceBuffers {
  private readonly rings = new Map<number, Ring>();
  private batchCounter = 0;

  constructor(
    readonly sequenceLength: number,
    private readonly scaler: RobustScalerParams,
  ) {}

  get size(): number {
    return this.rings.size;
  }

  /** Appends one window (the nine features, engine order) to a series' ring. */
  push(series: number, features: ArrayLike<number>, offset = 0): void {
    let ring = this.rings.get(series);
    if (!ring) {
      ring = { data: new Float32Array(this.sequenceLength * FEATURE_COUNT), next: 0, filled: 0, lastBatch: 0 };
      this.rings.set(series, ring);
    }
    const base = ring.next * FEATURE_COUNT;
    const { center, scale } = this.scaler;
    for (let f = 0; f < FEATURE_COUNT; f++) ring.data[base + f] = (features[offset + f] - center[f]) / scale[f];
    ring.next = (ring.next + 1) % this.sequenceLength;
    if (ring.filled < this.sequenceLength) ring.filled++;
    ring.lastBatch = this.batchCounter;
  }

  /**
   * Pushes every row of a columnar batch (values row-major over WINDOW_VALUE_COLUMNS, features first) and
   * returns the series that have a full history, in batch order, each once.
   */
  pushBatch(count: number, series: ArrayLike<number>, values: ArrayLike<number>): number[] {
    this.batchCounter++;
    const ready: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const s = series[i];
      this.push(s, values, i * ROW_WIDTH);
      if (!seen.has(s)) {
        seen.add(s);
        ready.push(s);
      }
    }
    return ready.filter((s) => this.rings.get(s)!.filled === this.sequenceLength);
  }

  /** Copies the chosen series' sequences, oldest window first, into one [batch, seq, feature] tensor buffer. */
  gather(seriesList: readonly number[]): Float32Array {
    const stride = this.sequenceLength * FEATURE_COUNT;
    const out = new Float32Array(seriesList.length * stride);
    seriesList.forEach((s, b) => {
      const ring = this.rings.get(s);
      if (!ring || ring.filled < this.sequenceLength) throw new Error(`series ${s} has no full history`);
      const head = ring.next * FEATURE_COUNT; // oldest slot
      const tail = stride - head;
      out.set(ring.data.subarray(head), b * stride);
      out.set(ring.data.subarray(0, head), b * stride + tail);
    });
    return out;
  }

  /** Drops a series (flow closed) so the map does not grow with every connection ever seen. */
  forget(series: number): void {
    this.rings.delete(series);
  }

  /** Drops series that received no window in the last `batches` pushBatch calls; returns how many. */
  evictIdle(batches: number): number {
    let evicted = 0;
    for (const [s, ring] of this.rings) {
      if (this.batchCounter - ring.lastBatch >= batches) {
        this.rings.delete(s);
        evicted++;
      }
    }
    return evicted;
  }
}
