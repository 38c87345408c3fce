// Window-close latency histogram: quantiles from known values, overflow reported as the maximum, no samples -> zeros.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseLatency, wallClockNs } from '../../src/capture/close-latency';

const MS = 1_000_000n;

test('p50/p99 are the upper edges of the buckets holding them (0.25 ms resolution)', () => {
  const h = new CloseLatency();
  const end = 1_700_000_000_000n * MS;
  // 98 closes 1.1 ms after their window end, one at 7.6 ms, one at 15.05 ms.
  for (let i = 0; i < 98; i++) h.record(end, end + 1_100_000n);
  h.record(end, end + 7_600_000n);
  h.record(end, end + 15_050_000n);
  const s = h.stats();
  assert.equal(s.closeLatencyCount, 100);
  assert.equal(s.closeLatencyP50Ms, 1.25);
  assert.equal(s.closeLatencyP99Ms, 7.75);
  assert.equal(s.closeLatencyMaxMs, 15.05);
});

test('beyond the histogram the maximum is reported; rows "before" their window end count as 0', () => {
  const h = new CloseLatency();
  h.record(10n * MS, 5n * MS);
  assert.equal(h.quantileMs(1), 0);
  h.record(0n, 2500n * MS);
  h.record(0n, 3000n * MS);
  assert.equal(h.quantileMs(0.99), 3000);
  assert.deepEqual(new CloseLatency().stats(), { closeLatencyCount: 0, closeLatencyP50Ms: 0, closeLatencyP99Ms: 0, closeLatencyMaxMs: 0 });
});

test('wallClockNs agrees with Date.now() to within a few milliseconds', () => {
  const diffMs = Number(wallClockNs() / MS) - Date.now();
  assert.ok(Math.abs(diffMs) < 50, `wallClockNs differs from Date.now() by ${diffMs} ms`);
});
