// The window value columns and engine counters as data: the TypeScript copy of native/schema.h, from which types, CSV header, InfluxDB fields and docs derive.
//
// native/schema.h declares the same two lists for C++ (the struct, the summing, the marshalling). This file is
// the only other place they are written: src/native/index.ts refuses an addon whose lists differ, and
// test/unit/schema.test.ts parses native/schema.h and docs/features.md and fails when either differs from here.
// Adding a window column = one entry here and in schema.h, a row in docs/features.md, its computation in
// native/window.cc; the CSV header, the InfluxDB field map and the row types follow from these lists.

/** Every value column of a window record, in native order (append new ones: the first nine are the seed model's inputs). */
export const WINDOW_COLUMNS = [
  { name: 'size', unit: 'bytes', description: 'TCP payload bytes in the window, both directions' },
  { name: 'delay', unit: 'ms', description: 'Mean ack RTT of the window, carried forward when it has no sample' },
  { name: 'bif', unit: 'bytes', description: 'Bytes in flight at the window end' },
  { name: 'iat_mean', unit: 'ms', description: 'Mean packet inter-arrival time in the window' },
  { name: 'iat_std', unit: 'ms', description: 'Population standard deviation of the packet inter-arrival times in the window' },
  { name: 'throughput_mbps', unit: 'Mbit/s', description: 'Payload throughput of the window: size * 8 / window seconds / 1e6' },
  { name: 'delay_gradient', unit: 'ms', description: "delay minus the previous window's delay" },
  { name: 'bif_gradient', unit: 'bytes', description: "bif minus the previous window's bif" },
  { name: 'is_silent', unit: 'flag', description: '1 when the series had no packet in the window, else 0' },
  { name: 'packets', unit: 'packets', description: 'TCP packets in the window' },
  { name: 'retransmits', unit: 'packets', description: 'Packets flagged as retransmissions in the window' },
  { name: 'min_rtt', unit: 'ms', description: 'Smallest ack RTT sample of the window, 0 when none' },
  { name: 'acked_bytes', unit: 'bytes', description: "Sequence space newly acknowledged by the window's ACKs, both directions" },
] as const satisfies readonly SchemaColumn[];

/** Engine counters (native Counters), summed over sources. All only grow, except the gauge flows_active. */
export const COUNTERS = [
  { name: 'frames', description: 'Frames handed to the engine' },
  { name: 'tcp_packets', description: 'TCP segments parsed' },
  { name: 'not_ip', description: 'Frames skipped: not IPv4 or IPv6' },
  { name: 'not_tcp', description: 'IP packets skipped: not TCP' },
  { name: 'fragments', description: 'IP fragments skipped (no reassembly)' },
  { name: 'truncated', description: 'Frames skipped: captured too short to hold the headers up to the TCP options' },
  { name: 'malformed', description: 'Frames skipped: inconsistent IP or TCP header fields' },
  { name: 'unsupported_link', description: 'Frames skipped: link type not supported' },
  { name: 'flows_created', description: 'TCP connections that entered the flow table (port reuse included)' },
  { name: 'flows_evicted_idle', description: 'Connections evicted from the flow table after the idle timeout' },
  { name: 'flows_table_full', description: 'Packets of connections not tracked because the flow table was full' },
  { name: 'flows_active', description: 'Connections in the flow table now (a gauge)' },
  { name: 'flows_port_reused', description: 'Connections replaced by a new one on the same 5-tuple (SYN with a new ISN)' },
  { name: 'retransmissions', description: 'Segments flagged as retransmissions' },
  { name: 'ack_rtt_samples', description: 'Ack RTT samples taken (tcp.analysis.ack_rtt)' },
  { name: 'ts_rtt_samples', description: 'TCP timestamp RTT samples taken (TSval echoed as TSecr)' },
  { name: 'segments_dropped', description: 'Segments not remembered for ack matching: the global unacked-segment bound was hit' },
  { name: 'windows_emitted', description: 'Window records closed (all series)' },
  { name: 'iface_series_full', description: 'Packets of interfaces beyond the per-interface series bound (no all series)' },
] as const satisfies readonly SchemaCounter[];

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
  return out;
}
