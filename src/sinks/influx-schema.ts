// What tcpcast writes to InfluxDB: measurement, tags, field names and the row -> line protocol mapping (the one source of truth for the writer, docs and Grafana).
import { Point } from '@influxdata/influxdb-client';
import { WINDOW_VALUE_COLUMNS, type WindowRow, type WindowValueColumn } from '../features';

export { DEFAULT_BUCKET, DEFAULT_MEASUREMENT } from './influx-config';

/** Tag keys on every point: the host that captured, the interface, and the series (5-tuple key or `all`). */
export const INFLUX_TAGS = ['host', 'iface', 'series'] as const;

/**
 * Window column -> field name, for the columns the seed wrote under another name (its Grafana dashboards
 * query these). Every other column is written under its own name, so a new window column reaches InfluxDB
 * without an edit here.
 */
export const INFLUX_FIELD_RENAMES = {
  throughput_mbps: 'actual_throughput',
  delay: 'rtt_delay',
  bif: 'bytes_in_flight',
} as const satisfies Partial<Record<WindowValueColumn, string>>;

/** Field name -> window column, one per window column, in column order (derived from the column list). */
export const INFLUX_VALUE_FIELDS: Readonly<Record<string, WindowValueColumn>> = Object.fromEntries(
  WINDOW_VALUE_COLUMNS.map((c) => [(INFLUX_FIELD_RENAMES as Partial<Record<WindowValueColumn, string>>)[c] ?? c, c]),
);

export const PREDICTED_FIELD = 'predicted_throughput';

/** Every field a point may carry (predicted_throughput is omitted while no forecast exists yet). */
export const INFLUX_FIELDS: readonly string[] = [...Object.keys(INFLUX_VALUE_FIELDS), PREDICTED_FIELD];
export type InfluxField = string;

const VALUE_FIELD_ENTRIES = Object.entries(INFLUX_VALUE_FIELDS);

/**
 * One window row as one line of line protocol, or undefined when it has no finite value at all.
 * All fields are floats (no `i` suffix) so the field types never conflict between windows; a non-finite
 * value (line protocol cannot carry NaN/Inf) leaves that field out of the point rather than the whole point.
 * The timestamp is the window end in ns, taken from the bigint's decimal string so no float ever rounds it.
 */
export function rowToLineProtocol(row: WindowRow, measurement: string, host: string): string | undefined {
  const point = new Point(measurement).tag('host', host).tag('iface', row.iface).tag('series', row.series);
  for (const [field, column] of VALUE_FIELD_ENTRIES) {
    const v = row.values[column];
    if (Number.isFinite(v)) point.floatField(field, v);
  }
  const predicted = row.predictedThroughput;
  if (predicted !== null && Number.isFinite(predicted)) point.floatField(PREDICTED_FIELD, predicted);
  point.timestamp(row.windowEndNs.toString());
  return point.toLineProtocol();
}
