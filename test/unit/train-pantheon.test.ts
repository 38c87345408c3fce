// import-pantheon: a hand-made tunnel log, windows checked against values derived here from its events.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { CSV_COLUMNS } from '../../src/features';
import { pantheonWindows } from '../../src/train/pantheon';

const LOG = join(__dirname, '../../../test/fixtures/forecast/pantheon-small.log');
const CLI = join(__dirname, '../../../bin/tcpcast');

// The log's events, restated: ingress (+) at 5,10,20,60,70 ms; egress (-) [ts, bytes, one-way delay].
const ingress = [[5, 1500], [10, 1500], [20, 1000], [60, 1500], [70, 1500]];
const egress = [[12, 1500, 7], [30, 1500, 20], [48, 1000, 28], [140, 1500, 80], [149, 1500, 79]];

it('windows the egress side with one-way delay, bytes in the link and inter-arrival stats', () => {
  const { windows, initMs } = pantheonWindows(readFileSync(LOG, 'utf8'), 50);
  assert.equal(initMs, 1e6);
  assert.equal(windows.length, 3, 'events span windows [0,50), [50,100), [100,150)');
  for (let w = 0; w < 3; w++) {
    const lo = w * 50, hi = lo + 50;
    const out = egress.filter(([ts]) => ts >= lo && ts < hi);
    const bytes = out.reduce((a, [, b]) => a + b, 0);
    const inBytes = ingress.filter(([ts]) => ts < hi).reduce((a, [, b]) => a + b, 0);
    const outBytes = egress.filter(([ts]) => ts < hi).reduce((a, [, b]) => a + b, 0);
    const got = windows[w];
    assert.equal(got.window_end_ns, BigInt((1e6 + hi) * 1e6));
    assert.equal(got.size, bytes);
    assert.equal(got.packets, out.length);
    assert.equal(got.bif, inBytes - outBytes);
    assert.equal(got.throughput_mbps, (bytes * 8) / 0.05 / 1e6);
    assert.equal(got.is_silent, out.length === 0 ? 1 : 0);
  }
  // Window 0: delays 7, 20, 28 -> mean 55/3; gaps 18 and 18 -> mean 18, std 0; min 7.
  assert.ok(Math.abs(windows[0].delay - 55 / 3) < 1e-12);
  assert.equal(windows[0].iat_mean, 18);
  assert.equal(windows[0].iat_std, 0);
  assert.equal(windows[0].min_rtt, 7);
  // Window 1 is silent: delay carried forward, gradient 0, no RTT sample.
  assert.ok(Math.abs(windows[1].delay - 55 / 3) < 1e-12);
  assert.equal(windows[1].delay_gradient, 0);
  assert.equal(windows[1].min_rtt, 0);
  assert.equal(windows[1].bif_gradient, 3000, 'two packets entered, none left');
  // Window 2: delays 80 and 79 (the second line carries a flow id); one gap of 9 ms.
  assert.equal(windows[2].delay, 79.5);
  assert.ok(Math.abs(windows[2].delay_gradient - (79.5 - 55 / 3)) < 1e-12);
  assert.equal(windows[2].iat_mean, 9);
  assert.equal(windows[2].bif, 0, 'everything sent was delivered');
});

it('tcpcast import-pantheon writes the windows CSV schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcm-pantheon-'));
  try {
    const out = join(dir, 'out.csv');
    execFileSync(process.execPath, [CLI, 'import-pantheon', LOG, '-o', out]);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.deepEqual(lines[0].split(','), [...CSV_COLUMNS]);
    assert.equal(lines.length, 4);
    const row = Object.fromEntries(lines[1].split(',').map((v, i) => [CSV_COLUMNS[i], v]));
    assert.equal(row.window_end_ns, '1000050000000');
    assert.equal(row.series, 'pantheon-small');
    assert.equal(Number(row.size), 4000);
    assert.equal(row.predicted_throughput, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('rejects a line that is not a tunnel log event with a coded error', () => {
  assert.throws(() => pantheonWindows('# init timestamp: 0\n5 * 1500\n'), { code: 'TCM_DATA_INVALID' });
});
