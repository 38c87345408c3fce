// Child process of the sinks case: writes K synthetic window rows through one real sink and prints the time and the sink's counters as JSON.
//
// Usage: node dist/bench/lib/sink-child.js influx URL v1|v2 BUCKET MEASUREMENT ROWS SERIES_PER_WINDOW
//        node dist/bench/lib/sink-child.js csv PATH ROWS SERIES_PER_WINDOW
// The InfluxDB writer runs with its production defaults (batch size, gzip, retries): what the daemon does.
import { CsvSink } from '../../src/sinks/csv';
import { InfluxSink, type InfluxApi } from '../../src/sinks/influx';
import { NS_PER_MS, writeSyntheticRows } from '../../src/sinks/influx-synthetic';
import type { Sink } from '../../src/sinks/sink';
import { staticTokenSource } from '../../src/config/secrets';

/** Window closes per writeSyntheticRows call: 1,000 closes of 21 series is about 6 MB of line protocol. */
const CHUNK_WINDOWS = 1000;
const WINDOW_NS = 50n * NS_PER_MS;

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
  // writeSyntheticRows times write() of every row and the flush that gets them to the server or file. It is
  // called per chunk of CHUNK_WINDOWS window closes, later chunks later in time: all rows at once would
  // outgrow the InfluxDB writer's outage backlog (64 MiB) before its first request returned, and it would
  // rightly drop the oldest; the daemon hands it one window close at a time.
  const windowsTotal = Math.ceil(rows / seriesPerWindow);
  const startNs = BigInt(Date.now() - 3_600_000) * NS_PER_MS;
  let elapsedMs = 0;
  for (let w = 0; w < windowsTotal; w += CHUNK_WINDOWS) {
    const count = Math.min(CHUNK_WINDOWS * seriesPerWindow, rows - w * seriesPerWindow);
    const chunk = await writeSyntheticRows(sink, count, { seriesPerWindow, startNs: startNs + BigInt(w) * WINDOW_NS });
    elapsedMs += chunk.elapsedMs;
  }
  await sink.close();
  process.stdout.write(`${JSON.stringify({ rows, elapsedMs, stats: sink.stats() })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`sink-child: ${err.message}\n`);
  process.exitCode = 1;
});
