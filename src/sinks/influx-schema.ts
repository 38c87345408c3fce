// What tcpcast writes to InfluxDB: measurement, tags, field names and the row -> line protocol mapping (the one source of truth for the writer, docs and Grafana).
import { Point } from '@influxdata/influxdb-client';
import { WINDOW_VALUE_COLUMNS, type WindowRow, type WindowValueColumn } from '../features';
import { FORECAST_COLUMN_NAMES, FORECAST_COLUMNS, forecastColumnValue } from '../forecast-columns';

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

/**
 * Every field a point may carry (the forecast fields are omitted while no forecast exists yet). The forecast
 * fields (predicted_<horizon>_p10/p50/p90 floats, predicted_<horizon>_served a string) come from src/forecast-columns.ts.
 */
export const INFLUX_FIELDS: readonly string[] = [...Object.keys(INFLUX_VALUE_FIELDS), PREDICTED_FIELD, ...FORECAST_COLUMN_NAMES];
export type InfluxField = string;

const VALUE_FIELD_ENTRIES = Object.entries(INFLUX_VALUE_FIELDS);

/**
 * One window row as one line of line protocol, or undefined when it has no finite value at all.
 * All fields are floats (no `i` suffix) so the field types never conflict between windows; a non-finite
 * value (line protocol cannot carry NaN/Inf) leaves that field out of the point rather than the whole point.
 * The timestamp is the window end in ns, taken from the bigint's decimal string so no float ever rounds it.
 */
export function rowToLineProtocol(row: WindowRow, measurement: string, host: string, globalTags: Record<string, string> = {}): string | undefined {
  const point = new Point(measurement).tag('host', host).tag('iface', row.iface).tag('series', row.series);
  for (const [k, v] of Object.entries(globalTags)) point.tag(k, v);
  for (const [field, column] of VALUE_FIELD_ENTRIES) {
    const v = row.values[column];
    if (Number.isFinite(v)) point.floatField(field, v);
  }
  const predicted = row.predictedThroughput;
  if (predicted !== null && Number.isFinite(predicted)) point.floatField(PREDICTED_FIELD, predicted);
  for (const c of FORECAST_COLUMNS) {
    const v = forecastColumnValue(row.forecasts, c);
    if (typeof v === 'string') point.stringField(c.name, v);
    else if (v !== undefined && Number.isFinite(v)) point.floatField(c.name, v);
  }
  point.timestamp(row.windowEndNs.toString());
  return point.toLineProtocol();
}
