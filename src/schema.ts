// The window value columns and engine counters as data, in TypeScript: types, CSV header, InfluxDB fields and docs derive from these.
//
// native/schema.h is the one place the lists are written; scripts/gen-schema.js turns it into
// src/schema-lists.ts on every build:ts. src/native/index.ts refuses an addon built from other lists, and
// test/unit/schema.test.ts fails when the generated file is stale or docs/features.md / docs/metrics.md differ.
// Adding a window column = one line in native/schema.h, a row in docs/features.md, its computation in
// native/window.cc; the CSV header, the InfluxDB field map and the row types follow.

import { COUNTERS, SERIES_END_REASONS, WINDOW_COLUMNS } from './schema-lists';

/**
 * The lists themselves, generated from native/schema.h (src/schema-lists.ts): WINDOW_COLUMNS in native order
 * (append new ones: the first nine are the seed model's inputs), COUNTERS (all only grow, except the gauge
 * flows_active), SERIES_END_REASONS (interface "all" series never end).
 */
export { COUNTERS, SERIES_END_REASONS, WINDOW_COLUMNS };
WINDOW_COLUMNS satisfies readonly SchemaColumn[];
COUNTERS satisfies readonly SchemaCounter[];
SERIES_END_REASONS satisfies readonly SchemaCounter[];
export type SeriesEndReason = (typeof SERIES_END_REASONS)[number]['name'];

export interface SchemaColumn {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

export interface SchemaCounter {
  readonly name: string;
  readonly description: string;
}

/** The lists as the addon reports them at load (addon.cc `schema`). */
export interface NativeSchema {
  windowColumns: SchemaColumn[];
  counters: SchemaCounter[];
  seriesEndReasons: SchemaCounter[];
}

export type WindowValueColumn = (typeof WINDOW_COLUMNS)[number]['name'];
export type CounterName = (typeof COUNTERS)[number]['name'];

/** snake_case -> camelCase (tcp_packets -> tcpPackets): how counters are keyed in stats objects (addon.cc does the same). */
export function camelCase(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** Counter key as it appears in the addon's counters object and the capture stats. */
export type CounterKey = CamelCase<CounterName>;

/** Counter key (camelCase) -> description, for the stats line and /metrics HELP text. */
export const COUNTER_DESCRIPTIONS: ReadonlyMap<string, string> = new Map(COUNTERS.map((c) => [camelCase(c.name), c.description]));

/**
 * Differences between the addon's lists and ours, one line each ("window column 12: addon has x, TypeScript has y");
 * empty when they agree.
 */
export function schemaDifferences(native: NativeSchema): string[] {
  const out: string[] = [];
  const compare = (what: string, theirs: readonly object[], ours: readonly object[], keys: readonly string[]) => {
    const n = Math.max(theirs.length, ours.length);
    for (let i = 0; i < n; i++) {
      const a = theirs[i] as Record<string, unknown> | undefined;
      const b = ours[i] as Record<string, unknown> | undefined;
      if (!a) out.push(`${what} ${i}: addon has none, TypeScript has ${String(b!.name)}`);
      else if (!b) out.push(`${what} ${i}: addon has ${String(a.name)}, TypeScript has none`);
      else
        for (const k of keys)
          if (a[k] !== b[k]) out.push(`${what} ${i} ${k}: addon has ${JSON.stringify(a[k])}, TypeScript has ${JSON.stringify(b[k])}`);
    }
  };
  compare('window column', native.windowColumns ?? [], WINDOW_COLUMNS, ['name', 'unit', 'description']);
  compare('counter', native.counters ?? [], COUNTERS, ['name', 'description']);
  compare('series end reason', native.seriesEndReasons ?? [], SERIES_END_REASONS, ['name', 'description']);
  return out;
}
