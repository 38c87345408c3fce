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
}

/** The rows of a batch split at window-close boundaries (consecutive rows with the same end time). */
export function rowsByClose(batch: WindowBatch, names: SeriesNames): WindowRow[][] {
  names.add(batch);
  const closes: WindowRow[][] = [];
  let current: WindowRow[] = [];
  let currentEnd: bigint | undefined;
  for (let i = 0; i < batch.count; i++) {
    const end = batch.windowEndNs[i];
    if (currentEnd !== undefined && end !== currentEnd) {
      closes.push(current);
      current = [];
    }
    currentEnd = end;
    const s = names.get(batch.series[i]);
    current.push({ windowEndNs: end, iface: s.iface, series: s.key, values: batchRowValues(batch, i), predictedThroughput: null });
  }
  if (current.length) closes.push(current);
  return closes;
}
