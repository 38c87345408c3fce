// Child process of the sinks case: writes K synthetic window rows through one real sink and prints the time and the sink's counters as JSON.
//
// Usage: node dist/bench/lib/sink-child.js influx URL v1|v2 BUCKET MEASUREMENT ROWS SERIES_PER_WINDOW
//        node dist/bench/lib/sink-child.js csv PATH ROWS SERIES_PER_WINDOW
// The InfluxDB writer runs with its production defaults (batch size, gzip, retries): what the daemon does.
import { CsvSink } from '../../src/sinks/csv';
import { InfluxSink, type InfluxApi } from '../../src/sinks/influx';
import { writeSyntheticRows } from '../../src/sinks/influx-synthetic';
import type { Sink } from '../../src/sinks/sink';
import { staticTokenSource } from '../../src/config/secrets';

async function main(): Promise<void> {
  const [kind, ...rest] = process.argv.slice(2);
  let sink: Sink;
  let rows: number;
  let seriesPerWindow: number;
  if (kind === 'influx') {
    const [url, api, bucket, measurement, count, perWindow] = rest;
    sink = new InfluxSink({ url, api: api as InfluxApi, bucket, measurement, org: 'tcpcast-bench', token: staticTokenSource(undefined), host: 'bench' });
    rows = Number(count);
    seriesPerWindow = Number(perWindow);
  } else if (kind === 'csv') {
    const [path, count, perWindow] = rest;
    sink = new CsvSink(path);
    rows = Number(count);
    seriesPerWindow = Number(perWindow);
  } else {
    throw new Error('usage: sink-child.js influx URL API BUCKET MEASUREMENT ROWS SERIES | csv PATH ROWS SERIES');
  }
  // writeSyntheticRows times write() of every row and the flush that gets them to the server or file.
  const { elapsedMs } = await writeSyntheticRows(sink, rows, { seriesPerWindow });
  await sink.close();
  process.stdout.write(`${JSON.stringify({ rows, elapsedMs, stats: sink.stats() })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`sink-child: ${err.message}\n`);
  process.exitCode = 1;
});
