// Native window batches -> WindowRow objects (iface and series names resolved), grouped by window close.
import { batchRowValues, type EndedSeries, type SeriesInfo, type WindowBatch, type WindowRow } from '../features';

/** Remembers series definitions across batches (a batch only carries the series first seen in it). */
export class SeriesNames {
  private readonly byIndex = new Map<number, SeriesInfo>();

  add(batch: WindowBatch): void {
    for (const s of batch.newSeries) this.byIndex.set(s.index, s);
  }

  get(index: number): SeriesInfo {
    return this.byIndex.get(index) ?? { index, iface: '?', key: `series-${index}` };
  }

  has(index: number): boolean {
    return this.byIndex.has(index);
  }

  /** Drops an ended series (batch.endedSeries), so the map holds live series only, however many come and go. */
  forget(index: number): void {
    this.byIndex.delete(index);
  }

  get size(): number {
    return this.byIndex.size;
  }
}

/** [from, to) row ranges of a batch that share a window end: one range per window close, in order. */
export function closeRanges(batch: WindowBatch): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let from = 0;
  for (let i = 1; i <= batch.count; i++) {
    if (i === batch.count || batch.windowEndNs[i] !== batch.windowEndNs[from]) {
      ranges.push([from, i]);
      from = i;
    }
  }
  return ranges;
}

/** Row i of a batch as a sink sees it, without a forecast. */
export function rowAt(batch: WindowBatch, i: number, names: SeriesNames): WindowRow {
  const s = names.get(batch.series[i]);
  return { windowEndNs: batch.windowEndNs[i], iface: s.iface, series: s.key, values: batchRowValues(batch, i), predictedThroughput: null };
}

/** The rows of a batch split at window-close boundaries (consecutive rows with the same end time); ended series are forgotten after. */
export function rowsByClose(batch: WindowBatch, names: SeriesNames): WindowRow[][] {
  names.add(batch);
  const closes = closeRanges(batch).map(([from, to]) => {
    const rows: WindowRow[] = [];
    for (let i = from; i < to; i++) rows.push(rowAt(batch, i, names));
    return rows;
  });
  for (const e of batch.endedSeries ?? []) names.forget(e.index);
  return closes;
}

/**
 * When to forget each ended series of a batch: the position just after its last row in the batch (0 when it has
 * none), so a sink forgets it before a later close of the same batch can start a new series under the same key.
 */
export function endedAfter(batch: WindowBatch): Map<number, EndedSeries[]> {
  const ended = batch.endedSeries ?? [];
  const out = new Map<number, EndedSeries[]>();
  if (ended.length === 0) return out;
  const last = new Map<number, number>(ended.map((e) => [e.index, 0]));
  for (let i = 0; i < batch.count; i++) if (last.has(batch.series[i])) last.set(batch.series[i], i + 1);
  for (const e of ended) {
    const at = last.get(e.index)!;
    const list = out.get(at);
    if (list) list.push(e);
    else out.set(at, [e]);
  }
  return out;
}
