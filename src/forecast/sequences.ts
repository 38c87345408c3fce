// Per-series history of the last N windows' features, kept in flat typed-array rings (no per-window objects).
import { TcpcastError } from '../errors';
import { WINDOW_VALUE_COLUMNS } from '../features';
import { encodeSequence, type OutputMapping } from './scaler';

interface Ring {
  /** sequenceLength x the model's feature count, raw engine values; slot `next` is the oldest once full. */
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
  /** Position in a batch row of each column the model reads, in the model's order (gathered by name). */
  private readonly columns: Int32Array;
  private readonly featureCount: number;
  private readonly rowWidth: number;

  /**
   * `rowColumns` names the columns of a batch row (the engine's WINDOW_VALUE_COLUMNS); the model's features
   * (mapping.featureNames) are picked from it by name, so the engine may add, drop or reorder columns the
   * model does not read.
   */
  constructor(
    private readonly mapping: OutputMapping,
    rowColumns: readonly string[] = WINDOW_VALUE_COLUMNS,
  ) {
    this.featureCount = mapping.featureNames.length;
    this.rowWidth = rowColumns.length;
    this.columns = Int32Array.from(mapping.featureNames, (name) => {
      const at = rowColumns.indexOf(name);
      if (at < 0) throw new TcpcastError(`model reads column ${name} that window batches do not have`, 'TCM_SPEC_MISMATCH');
      return at;
    });
  }

  /** Where a column lies in a batch row (-1 when absent). */
  static columnIndex(name: string, rowColumns: readonly string[] = WINDOW_VALUE_COLUMNS): number {
    return rowColumns.indexOf(name);
  }

  get sequenceLength(): number {
    return this.mapping.sequenceLength;
  }

  get size(): number {
    return this.rings.size;
  }

  /** Appends one window (a whole batch row at row[offset], engine column order) to a series' ring. */
  push(series: number, row: ArrayLike<number>, offset = 0): void {
    const W = this.featureCount;
    let ring = this.rings.get(series);
    if (!ring) {
      ring = { data: new Float64Array(this.sequenceLength * W), next: 0, filled: 0, lastBatch: 0 };
      this.rings.set(series, ring);
    }
    const base = ring.next * W;
    for (let f = 0; f < W; f++) ring.data[base + f] = row[offset + this.columns[f]];
    ring.next = (ring.next + 1) % this.sequenceLength;
    if (ring.filled < this.sequenceLength) ring.filled++;
    ring.lastBatch = this.batchCounter;
  }

  /**
   * Pushes every row of a columnar batch (values row-major over the row columns) and
   * returns the series that have a full history, in batch order, each once.
   */
  pushBatch(count: number, series: ArrayLike<number>, values: ArrayLike<number>): number[] {
    this.batchCounter++;
    const ready: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const s = series[i];
      this.push(s, values, i * this.rowWidth);
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
    const W = this.featureCount;
    const stride = this.sequenceLength * W;
    const input = new Float32Array(seriesList.length * stride);
    const bases = new Float64Array(seriesList.length);
    const ordered = new Float64Array(stride);
    seriesList.forEach((s, b) => {
      const ring = this.rings.get(s);
      if (!ring || ring.filled < this.sequenceLength) throw new TcpcastError(`series ${s} has no full history`, 'TCM_INFERENCE_FAILED');
      const head = ring.next * W; // oldest slot
      ordered.set(ring.data.subarray(head), 0);
      ordered.set(ring.data.subarray(0, head), stride - head);
      bases[b] = encodeSequence(this.mapping, ordered, 0, input, b * stride);
    });
    return { input, bases };
  }

  /** Whether a series has a history here. */
  has(series: number): boolean {
    return this.rings.has(series);
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
