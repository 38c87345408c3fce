// The window columns and counters are declared once: native/schema.h, src/schema.ts, the docs tables and the built addon must all say the same.
import { FORECAST_COLUMN_NAMES } from '../../src/forecast-columns';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COUNTERS, SERIES_END_REASONS, WINDOW_COLUMNS, schemaDifferences, camelCase, type SchemaColumn } from '../../src/schema';
import { CSV_COLUMNS, WINDOW_VALUE_COLUMNS } from '../../src/features';
import { INFLUX_FIELD_RENAMES, INFLUX_VALUE_FIELDS, rowToLineProtocol } from '../../src/sinks/influx-schema';
import { csvHeader, csvLines } from '../../src/sinks/csv';
import type { WindowRow } from '../../src/features';
import { native } from '../../src/native';
import { TcpcastError } from '../../src/errors';

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The X(...) entries of one `#define NAME(X)` list in a C header, each as its string arguments after the name. */
function xMacroList(header: string, macro: string): string[][] {
  const start = header.indexOf(`#define ${macro}(X)`);
  assert.ok(start >= 0, `${macro} is defined`);
  // The list runs while lines end in a backslash; the last entry is the first line without one.
  const lines = header.slice(start).split('\n');
  const body: string[] = [];
  for (const line of lines.slice(1)) {
    body.push(line);
    if (!line.trimEnd().endsWith('\\')) break;
  }
  return body.map((line) => {
    const m = /^\s*X\((\w+)((?:,\s*"(?:[^"\\]|\\.)*")*)\)\s*\\?\s*$/.exec(line);
    assert.ok(m, `not an X(...) entry: ${line}`);
    const strings = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1].replace(/\\(.)/g, '$1'));
    return [m[1], ...strings];
  });
}

/** The rows of the first markdown table whose header starts with `firstHeader`, as trimmed cells (backticks removed). */
function markdownTable(doc: string, firstHeader: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  assert.ok(start >= 0, `a table headed "${firstHeader}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((c) => c.trim().replace(/^`(.*)`$/, '$1')));
  }
  return rows;
}

describe('schema: one list of window columns and counters', () => {
  it('src/schema-lists.ts is generated from native/schema.h and is current', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-schema.js'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('native/schema.h declares the same window columns as src/schema.ts (name, unit, description, order)', () => {
    const header = read('native/schema.h');
    assert.deepEqual(
      xMacroList(header, 'TCPCAST_WINDOW_COLUMNS'),
      WINDOW_COLUMNS.map((c) => [c.name, c.unit, c.description]),
    );
  });

  it('native/schema.h declares the same counters and series end reasons as src/schema.ts', () => {
    const header = read('native/schema.h');
    assert.deepEqual(
      xMacroList(header, 'TCPCAST_COUNTERS'),
      COUNTERS.map((c) => [c.name, c.description]),
    );
    assert.deepEqual(
      xMacroList(header, 'TCPCAST_SERIES_END_REASONS'),
      SERIES_END_REASONS.map((c) => [c.name, c.description]),
    );
  });

  it("docs/features.md's column table is the list (name, unit, description), and every column has a definition", () => {
    const rows = markdownTable(read('docs/features.md'), 'column');
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3)),
      WINDOW_COLUMNS.map((c) => [c.name, c.unit, c.description]),
    );
    for (const r of rows) assert.ok((r[3] ?? '').length > 20, `${r[0]} has a written definition`);
  });

  it("docs/metrics.md's counter table is the list", () => {
    const rows = markdownTable(read('docs/metrics.md'), 'counter');
    assert.deepEqual(rows, COUNTERS.map((c) => [c.name, c.description]));
  });

  it('the built addon reports the same lists, and its counters object has every counter', () => {
    const addon = native();
    assert.deepEqual(schemaDifferences(addon.schema), []);
    assert.deepEqual(addon.schema.windowColumns, WINDOW_COLUMNS.map((c) => ({ ...c })));
    assert.deepEqual(addon.schema.counters.map((c) => c.name), COUNTERS.map((c) => c.name));
  });

  it('a differing addon list is named precisely (what ERR_ADDON_SCHEMA reports at load)', () => {
    const windowColumns: SchemaColumn[] = WINDOW_COLUMNS.map((c) => ({ ...c }));
    windowColumns[2] = { ...windowColumns[2], name: 'bytes_in_flight' };
    const counters = COUNTERS.slice(0, -1).map((c) => ({ ...c }));
    const seriesEndReasons = SERIES_END_REASONS.map((r) => ({ ...r }));
    assert.deepEqual(schemaDifferences({ windowColumns, counters, seriesEndReasons }), [
      'window column 2 name: addon has "bytes_in_flight", TypeScript has "bif"',
      `counter ${COUNTERS.length - 1}: addon has none, TypeScript has ${COUNTERS[COUNTERS.length - 1].name}`,
    ]);
    assert.equal(new TcpcastError('x', 'ERR_ADDON_SCHEMA').code, 'ERR_ADDON_SCHEMA');
  });

  it('the CSV header and the InfluxDB fields derive from the list: seed names kept, every other column under its own name', () => {
    assert.deepEqual([...WINDOW_VALUE_COLUMNS], WINDOW_COLUMNS.map((c) => c.name));
    // The forecast columns follow, from their own one list (src/forecast-columns.ts).
    assert.deepEqual([...CSV_COLUMNS], ['window_end_ns', 'iface', 'series', ...WINDOW_VALUE_COLUMNS, 'predicted_throughput', ...FORECAST_COLUMN_NAMES]);
    assert.deepEqual(Object.values(INFLUX_VALUE_FIELDS), [...WINDOW_VALUE_COLUMNS], 'one field per column, in column order');
    assert.equal(INFLUX_VALUE_FIELDS.actual_throughput, 'throughput_mbps');
    assert.equal(INFLUX_VALUE_FIELDS.rtt_delay, 'delay');
    assert.equal(INFLUX_VALUE_FIELDS.bytes_in_flight, 'bif');
    const renamed = new Set<string>(Object.keys(INFLUX_FIELD_RENAMES));
    for (const c of WINDOW_VALUE_COLUMNS) if (!renamed.has(c)) assert.equal(INFLUX_VALUE_FIELDS[c], c);
  });

  // The "must show" of issue #12: acked_bytes was added as one entry in native/schema.h and src/schema.ts, a docs row
  // and its computation (native/flow_table.cc, window.cc); no other list was edited (git show of that commit).
  it('a column added to the list (acked_bytes) reaches the CSV header and rows, the InfluxDB line protocol and the docs table', () => {
    const values = Object.fromEntries(WINDOW_VALUE_COLUMNS.map((c, i) => [c, i + 0.5])) as WindowRow['values'];
    values.acked_bytes = 12345;
    const row: WindowRow = { windowEndNs: 1_700_000_000_050_000_000n, iface: 'eth0', series: 'all', values, predictedThroughput: null };
    const header = csvHeader().trim().split(',');
    assert.ok(header.includes('acked_bytes'));
    const cells = csvLines([row]).trim().split(',');
    assert.equal(cells[header.indexOf('acked_bytes')], '12345');
    const line = rowToLineProtocol(row, 'traffic_prediction', 'h')!;
    assert.match(line, /[ ,]acked_bytes=12345[ ,]/);
    const docs = markdownTable(read('docs/features.md'), 'column');
    assert.ok(docs.some((r) => r[0] === 'acked_bytes' && r[1] === 'bytes'));
  });

  it('counter keys are camelCase of the schema names', () => {
    assert.equal(camelCase('tcp_packets'), 'tcpPackets');
    assert.equal(camelCase('flows_port_reused'), 'flowsPortReused');
  });
});

describe('schema: every counter reaches /metrics', () => {
  it('each engine counter is exported under its name with its description as HELP', async () => {
    const { createMetricsRegistry } = await import('../../src/daemon/metrics');
    const capture = Object.fromEntries(COUNTERS.map((c, i) => [camelCase(c.name), i + 1]));
    const metrics = createMetricsRegistry(() => ({ capture }));
    const text = await metrics.registry.metrics();
    for (const c of COUNTERS) {
      const help = text.split('\n').find((l: string) => l.startsWith(`# HELP tcpcast_engine_${c.name} `) || l.startsWith(`# HELP tcpcast_engine_${c.name}_total `));
      assert.ok(help, `a metric for ${c.name}`);
      assert.ok(help.endsWith(c.description), `HELP of ${c.name} is its description: ${help}`);
    }
  });
});
