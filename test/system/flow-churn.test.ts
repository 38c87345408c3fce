// Flow table under floods and churn, end to end through `tcpcast windows`: a SYN flood larger than the table must not keep a real connection from its series, and 30,000 short connections must not grow memory with every one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { PcapWriter, SYN, writeConnection } from '../lib/synthetic-pcap';

const CLI = resolve(__dirname, '..', '..', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'tcpcast-churn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

/** Runs `tcpcast windows FILE -o CSV` under GNU time; returns the CSV rows and the peak RSS in MB. */
function windows(pcap: string, csv: string): { rows: Array<Record<string, string>>; peakRssMb: number; stderr: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS %M', process.execPath, CLI, 'windows', pcap, '-o', csv], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rss = /RSS (\d+)/.exec(r.stderr);
  assert.ok(rss, r.stderr);
  const [header, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  const names = header.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
  return { rows, peakRssMb: Number(rss[1]) / 1024, stderr: r.stderr };
}

test('70,000 half-open SYNs, then one real connection: it gets its own series at once', () => {
  const pcap = join(dir, 'syn-flood.pcap');
  const w = new PcapWriter(pcap);
  let t = T0;
  // More SYNs than the default table holds (65,536), 10 us apart: all within the half-open timeout.
  for (let i = 0; i < 70_000; i++) {
    w.write({ tsNs: (t += 10_000n), src: [192, 168, (i >> 8) & 0xff, i & 0xff], dst: [10, 0, 0, 2], sport: 1024 + (i >> 16), dport: 80, seq: i, ack: 0, flags: SYN, payload: 0 });
  }
  // The real one: 2,000 data segments of 1,000 bytes, 0.5 ms apart (1 s, 20 windows).
  writeConnection(w, t + MS, [10, 0, 0, 1], 40000, 2000, 1000);
  w.close();
  const { rows } = windows(pcap, join(dir, 'syn-flood.csv'));
  const key = '10.0.0.2:5201-10.0.0.1:40000';
  const mine = rows.filter((r) => r.series === key);
  assert.ok(mine.length >= 18, `the real connection has ${mine.length} windows of its own (series: ${[...new Set(rows.map((r) => r.series))].slice(0, 5).join(' ')})`);
  const bytes = mine.reduce((s, r) => s + Number(r.size), 0);
  // Its series starts at the first window close after it began: all but the first window's data is in it.
  assert.ok(bytes >= 1_850_000, `bytes in its series: ${bytes}`);
  // And no series for the SYN-only connections.
  assert.equal(new Set(rows.map((r) => r.series)).size, 2, 'series: "all" and the real connection');
});

// todo: not met yet. With --top-k 0 the 30,000-connection run peaks at ~115 MB; with the default top-k 20 it
// peaks at 110 MB for 3,000 connections and 231 MB for 30,000, still after the series lifecycle (issue 12 item
// 3) was merged, and still 184 MB with the JS heap capped at 48 MB (--max-old-space-size): so what grows is not
// retained JS objects but memory outside the V8 heap (batch buffers, native allocations per series, malloc arenas
// of the capture thread), and CPU grows with it (3.9 s vs 0.9 s). Find it with a heap/malloc profile, then drop
// the todo; the assertions are the targets of issue 13.
const SERIES_FORGOTTEN_IN_JS = false;

test('30,000 short connections, one every 50 ms: peak memory bounded and flat after the first few thousand', { todo: SERIES_FORGOTTEN_IN_JS ? false : 'memory grows with every series seen (see above)' }, () => {
  const run = (connections: number): number => {
    const pcap = join(dir, `churn-${connections}.pcap`);
    const w = new PcapWriter(pcap);
    for (let i = 0; i < connections; i++) {
      writeConnection(w, T0 + BigInt(i) * 50n * MS, [10, 1, (i >> 8) & 0xff, i & 0xff], 10000 + (i % 50000), 8, 1000);
    }
    w.close();
    const { rows, peakRssMb } = windows(pcap, join(dir, `churn-${connections}.csv`));
    assert.ok(rows.length > connections, `${rows.length} rows`);
    rmSync(pcap);
    return peakRssMb;
  };
  const few = run(3_000);
  const many = run(30_000);
  console.log(`peak RSS: 3,000 connections ${few.toFixed(1)} MB, 30,000 connections ${many.toFixed(1)} MB`);
  assert.ok(many <= 128, `peak RSS ${many.toFixed(1)} MB for 30,000 connections (target <= 128 MB)`);
  // Flat: ten times the connections may not cost more than a few MB more (GC slack), not KB per series.
  assert.ok(many - few <= 24, `peak RSS grew from ${few.toFixed(1)} MB (3,000 connections) to ${many.toFixed(1)} MB (30,000)`);
});
