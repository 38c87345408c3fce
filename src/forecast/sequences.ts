// Per-series history of the last N windows' features, kept in flat typed-array rings (no per-window objects).
import { FEATURE_NAMES, WINDOW_VALUE_COLUMNS } from '../features';
import { encodeSequence, type OutputMapping } from './scaler';

const FEATURE_COUNT = FEATURE_NAMES.length;
const ROW_WIDTH = WINDOW_VALUE_COLUMNS.length;

interface Ring {
  /** sequenceLength x FEATURE_COUNT, raw engine values; slot `next` is the oldest once full. */
  data: Float64Array;
  next: number;
  filled: number;
  lastBatch: number;
}

/**
 * Rings keep raw values (float64, as the engine and the CSV have them); gather() encodes each sequence with
 * encodeSequence(), the function training and eval use, so inference sees bit-for-bit what the network was
 * trained on. Encoding at gather time is needed anyway: relative mode divides by the whole sequence's level.
 */
export class SequenceBuffers {
  private readonly rings = new Map<number, Ring>();
  private batchCounter = 0;

  constructor(
    private readonly mapping: OutputMapping,
  ) {}

  get sequenceLength(): number {
    return this.mapping.sequenceLength;
  }

  get size(): number {
    return this.rings.size;
  }

  /** Appends one window (the nine features, engine order) to a series' ring. */
  push(series: number, features: ArrayLike<number>, offset = 0): void {
    let ring = this.rings.get(series);
    if (!ring) {
      ring = { data: new Float64Array(this.sequenceLength * FEATURE_COUNT), next: 0, filled: 0, lastBatch: 0 };
      this.rings.set(series, ring);
    }
    const base = ring.next * FEATURE_COUNT;
    for (let f = 0; f < FEATURE_COUNT; f++) ring.data[base + f] = features[offset + f];
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

  /**
   * Encodes the chosen series' sequences, oldest window first, into one [batch, seq, feature] tensor buffer;
   * bases[i] is what outputToMbps() needs to turn output i into Mbps.
   */
  gather(seriesList: readonly number[]): { input: Float32Array; bases: Float64Array } {
    const stride = this.sequenceLength * FEATURE_COUNT;
    const input = new Float32Array(seriesList.length * stride);
    const bases = new Float64Array(seriesList.length);
    const ordered = new Float64Array(stride);
    seriesList.forEach((s, b) => {
      const ring = this.rings.get(s);
      if (!ring || ring.filled < this.sequenceLength) throw new Error(`series ${s} has no full history`);
      const head = ring.next * FEATURE_COUNT; // oldest slot
      ordered.set(ring.data.subarray(head), 0);
      ordered.set(ring.data.subarray(0, head), stride - head);
      bases[b] = encodeSequence(this.mapping, ordered, 0, input, b * stride);
    });
    return { input, bases };
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
