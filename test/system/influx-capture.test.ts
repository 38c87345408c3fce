// Windows from a real pcap through the capture API into the InfluxDB sink (influxd 1.6) and the CSV sink at once: both hold the same rows and values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/capture';
import { SeriesNames, rowsByClose } from '../../src/capture/rows';
import { staticTokenSource } from '../../src/config/secrets';
import { CSV_COLUMNS } from '../../src/features';
import { CsvSink } from '../../src/sinks/csv';
import { InfluxSink } from '../../src/sinks/influx';
import { INFLUX_VALUE_FIELDS, PREDICTED_FIELD } from '../../src/sinks/influx-schema';
import { ensureCapture, TEST_CAPTURE_DIR, TEST_CAPTURES } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';
import { Influxd1 } from '../lib/servers';
import { RecordingLogger } from '../lib/record-logger';

/** Splits one CSV line made by csv-stringify (quotes only around cells holding commas, quotes or newlines). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') cells.push(cell), (cell = '');
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** The CSV at csvPath and the measurement in database db hold the same rows, value for value. */
async function compareCsvWithInflux(influxd: Influxd1, csvPath: string, db: string, expectedRows: number): Promise<void> {
  const [header, ...lines] = readFileSync(csvPath, 'utf8').split('\n').filter((l) => l !== '');
  assert.deepEqual(splitCsvLine(header), [...CSV_COLUMNS]);
  const csvRows = lines.map((l) => {
    const cells = splitCsvLine(l);
    return Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]])) as Record<(typeof CSV_COLUMNS)[number], string>;
  });
  assert.equal(csvRows.length, expectedRows);

  const stored = await influxd.selectAll(db, 'traffic_prediction');
  assert.equal(stored.length, csvRows.length);
  const byKey = new Map(stored.map((r) => [`${r.time}|${r.iface}|${r.series}`, r]));
  for (const c of csvRows) {
    const found = byKey.get(`${c.window_end_ns}|${c.iface}|${c.series}`);
    assert.ok(found, `row ${c.window_end_ns} ${c.series} missing in InfluxDB`);
    // A field no point carries is not even a column of the answer.
    const r = (name: string) => found[name] ?? '';
    for (const [field, column] of Object.entries(INFLUX_VALUE_FIELDS)) {
      const v = Number(c[column]);
      // Line protocol cannot carry NaN/Inf: the sink leaves such a field out.
      if (Number.isFinite(v)) assert.equal(Number(r(field)), v, `${field} at ${c.window_end_ns} ${c.series}`);
      else assert.equal(r(field), '', `${field} should be absent`);
    }
    assert.equal(r(PREDICTED_FIELD) === '' ? '' : Number(r(PREDICTED_FIELD)), c.predicted_throughput === '' ? '' : Number(c.predicted_throughput));
  }
}

const skip = netnsUnavailableReason();

describe('capture -> influx and CSV sinks', { skip }, () => {
  const influxd = new Influxd1();
  const dir = mkdtempSync(join(tmpdir(), 'tcs-capture-'));
  before(async () => {
    await influxd.start();
    await influxd.createDatabase('tcs_capture');
  });
  after(async () => {
    await influxd.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a real pcap yields the same rows in InfluxDB as in the CSV, value for value', async () => {
    const capture = await ensureCapture(TEST_CAPTURES[0], TEST_CAPTURE_DIR);
    const csvPath = join(dir, 'windows.csv');
    const csv = new CsvSink(csvPath);
    const log = new RecordingLogger();
    const influx = new InfluxSink({ url: influxd.url, api: 'v1', bucket: 'tcs_capture', token: staticTokenSource(undefined), host: 'tcs' }, log);
    const names = new SeriesNames();
    let rowsWritten = 0;
    for await (const batch of openCapture({ files: [capture.path], speed: 0 })) {
      for (const rows of rowsByClose(batch, names)) {
        csv.write(rows);
        influx.write(rows);
        rowsWritten += rows.length;
      }
    }
    await Promise.all([csv.close(), influx.close()]);
    assert.ok(rowsWritten > 20, `enough windows (${rowsWritten})`);
    assert.deepEqual(log.lines, []);
    assert.equal(influx.stats().written, rowsWritten);

    await compareCsvWithInflux(influxd, csvPath, 'tcs_capture', rowsWritten);
  });

  it('tcpcast replay with --csv and --influx-url (v1): N rows in the CSV, exactly N points in InfluxDB, same values', async () => {
    const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
    await influxd.createDatabase('tcs_replay');
    const csvPath = join(dir, 'replay.csv');
    const cli = join(__dirname, '..', '..', '..', 'bin', 'tcpcast');
    const args = [cli, 'replay', capture.path, '--csv', csvPath, '--influx-url', influxd.url, '--influx-api', 'v1', '--influx-bucket', 'tcs_replay', '--no-dashboard', '--stats-interval', '0'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    const rows = readFileSync(csvPath, 'utf8').trim().split('\n').length - 1;
    assert.ok(rows > 20, `enough windows (${rows})`);
    // The last log line says what the database acknowledged: every row, nothing dropped or rejected.
    const stopped = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.msg === 'tcpcast stopped');
    assert.deepEqual(stopped?.sinks?.influx, { written: rows, dropped: 0, rejected: 0, backlogBytes: 0 });
    assert.deepEqual(stopped?.sinks?.csv, { written: rows, dropped: 0, rejected: 0, backlogBytes: 0 });
    await compareCsvWithInflux(influxd, csvPath, 'tcs_replay', rows);
  });
});
