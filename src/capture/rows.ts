// Native window batches -> WindowRow objects (iface and series names resolved), grouped by window close.
import { batchRowValues, SeriesInfo, WindowBatch, WindowRow } from '../features';

/** Remembers series definitions across batches (a batch only carries the series first seen in it). */
export class SeriesNames {
  private readonly byIndex = new Map<number, SeriesInfo>();

  add(batch: WindowBatch): void {
    for (const s of batch.newSeries) this.byIndex.set(s.index, s);
  }

  get(index: number): SeriesInfo {
    return this.byIndex.get(index) ?? { index, iface: '?', key: `series-${index}` };
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

/** The rows of a batch split at window-close boundaries (consecutive rows with the same end time). */
export function rowsByClose(batch: WindowBatch, names: SeriesNames): WindowRow[][] {
  names.add(batch);
  return closeRanges(batch).map(([from, to]) => {
    const rows: WindowRow[] = [];
    for (let i = from; i < to; i++) rows.push(rowAt(batch, i, names));
    return rows;
  });
}
