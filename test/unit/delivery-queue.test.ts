// The delivery queue against a fake transport: retry keeps order, the byte bound drops the oldest and counts them, reject/split, flush/close deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryQueue, recordBytes, type FailureInfo, type DeliveryQueueOptions } from '../../src/sinks/delivery-queue';
import { RecordingLogger, waitFor } from '../lib/record-logger';

/** A server we script: each request waits for an answer the test gives (accept, fail with a verdict). */
class FakeTransport {
  readonly received: string[][] = [];
  readonly delivered: string[] = [];
  private pending: { records: string[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** When set, requests are answered at once with this (undefined: accept). */
  auto: FailureInfo | 'accept' | null = null;

  send = (records: string[], signal: AbortSignal): Promise<unknown> => {
    this.received.push(records);
    if (this.auto === 'accept') {
      this.delivered.push(...records);
      return Promise.resolve();
    }
    if (this.auto) return Promise.reject(this.auto);
    return new Promise<void>((resolve, reject) => {
      const entry = { records, resolve, reject };
      this.pending.push(entry);
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  };

  get inFlight(): number {
    return this.pending.length;
  }

  accept(): void {
    const p = this.pending.shift()!;
    this.delivered.push(...p.records);
    p.resolve();
  }

  fail(info: FailureInfo): void {
    this.pending.shift()!.reject(info);
  }
}

const DOWN: FailureInfo = { verdict: 'retry', status: 0, reason: 'ECONNREFUSED', retryAfterMs: 0 };
const BAD: FailureInfo = { verdict: 'reject', status: 400, reason: 'bad line', retryAfterMs: 0 };
const TOO_LARGE: FailureInfo = { verdict: 'split', status: 413, reason: 'too large', retryAfterMs: 0 };

function queue(t: FakeTransport, log: RecordingLogger, over: Partial<DeliveryQueueOptions> = {}): DeliveryQueue {
  return new DeliveryQueue({
    name: 'fake',
    target: 'fake://',
    send: t.send,
    classify: (err) => err as FailureInfo,
    logger: log,
    maxBatchBytes: 1000,
    maxBacklogBytes: 10_000,
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
    logRepeatMs: 60_000,
    random: () => 0.5,
    ...over,
  });
}

const recs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `r${String(from + i).padStart(4, '0')}`);

test('one request at a time, oldest first; a backlog is merged up to the batch size', async () => {
  const t = new FakeTransport();
  const q = queue(t, new RecordingLogger());
  q.push(recs(0, 2));
  q.push(recs(2, 2));
  q.push(recs(4, 2));
  assert.equal(t.inFlight, 1, 'never two requests at once');
  assert.deepEqual(t.received[0], recs(0, 2));
  t.accept();
  await waitFor(() => t.inFlight === 1, 'the merged request');
  assert.deepEqual(t.received[1], recs(2, 4), 'the two waiting chunks go as one request');
  t.accept();
  assert.equal(await q.flush(1000), true);
  assert.deepEqual(t.delivered, recs(0, 6));
  assert.deepEqual([q.stats().written, q.stats().backlogBytes, q.stats().batchesWritten], [6, 0, 2]);
});

test('a failing server: the same batch is retried at the front, with backoff, and order holds after recovery', async () => {
  const t = new FakeTransport();
  const log = new RecordingLogger();
  const q = queue(t, log);
  q.push(recs(0, 3));
  t.fail(DOWN);
  q.push(recs(3, 3)); // arrives during the outage: must not overtake
  await waitFor(() => t.inFlight === 1, 'the retry');
  assert.deepEqual(t.received[1], recs(0, 6), 'the failed batch first, merged with what came after');
  t.fail(DOWN);
  await waitFor(() => t.inFlight === 1, 'the second retry');
  assert.ok(q.stats().backlogBytes > 0, 'the backlog is visible during the outage');
  t.accept();
  assert.equal(await q.flush(1000), true);
  assert.deepEqual(t.delivered, recs(0, 6));
  const s = q.stats();
  assert.deepEqual([s.written, s.dropped, s.rejected, s.batchesRetried, s.backlogBytes], [6, 0, 0, 2, 0]);
  // One line when it broke, one when it recovered: none per retry.
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg]), [['warn', 'fake write failed; retrying with backoff'], ['info', 'fake writes recovered']]);
});

test('the byte bound drops the oldest queued records (never the one in flight), counts and logs them once', async () => {
  const t = new FakeTransport();
  const log = new RecordingLogger();
  const per = recordBytes('r0000');
  const q = queue(t, log, { maxBatchBytes: per * 10, maxBacklogBytes: per * 30 });
  for (let i = 0; i < 10; i++) q.push(recs(i * 10, 10)); // 100 records, 1 in flight + 9 queued chunks of 10
  const s = q.stats();
  assert.ok(s.backlogBytes <= per * 30, `backlog ${s.backlogBytes} within its bound`);
  assert.equal(s.dropped, 70, 'everything beyond the bound is counted');
  assert.equal(s.dropped + s.backlogRecords, 100, 'every record is delivered, queued or counted as dropped');
  assert.equal(log.at('error').length, 1, 'one log line for the drops');
  t.auto = 'accept';
  t.accept();
  assert.equal(await q.flush(1000), true);
  assert.deepEqual(t.delivered, [...recs(0, 10), ...recs(80, 20)], 'the first (in flight) and the newest survive, in order');
  assert.equal(q.stats().written, 30);
});

test('a rejected batch is counted and not retried; a too-large one is split in halves that are not merged back', async () => {
  const t = new FakeTransport();
  const q = queue(t, new RecordingLogger());
  q.push(recs(0, 4));
  t.fail(BAD);
  await q.flush(1000);
  assert.deepEqual([q.stats().rejected, q.stats().batchesRetried, t.received.length], [4, 0, 1]);

  q.push(recs(10, 4));
  t.fail(TOO_LARGE);
  await waitFor(() => t.inFlight === 1, 'the first half');
  assert.deepEqual(t.received.at(-1), recs(10, 2));
  t.accept();
  await waitFor(() => t.inFlight === 1, 'the second half');
  assert.deepEqual(t.received.at(-1), recs(12, 2));
  t.accept();
  assert.equal(await q.flush(1000), true);
  assert.equal(q.stats().written, 4);
});

test('flush() returns false at its deadline while the server is down; close() then counts what is left as dropped', async () => {
  const t = new FakeTransport();
  t.auto = DOWN;
  const log = new RecordingLogger();
  const q = queue(t, log);
  q.push(recs(0, 5));
  q.push(recs(5, 5));
  const started = Date.now();
  assert.equal(await q.flush(50), false);
  assert.ok(q.stats().backlogBytes > 0);
  await q.close(50);
  assert.ok(Date.now() - started < 1000, 'close() keeps its deadline');
  const s = q.stats();
  assert.deepEqual([s.written, s.dropped, s.backlogBytes, s.backlogRecords], [0, 10, 0, 0]);
  assert.equal(log.at('error').at(-1)!.obj.pointsLost, 10);
  q.push(recs(10, 1));
  assert.equal(q.stats().dropped, 11, 'records pushed after close are counted as dropped');
});

test('close() aborts a request that never answers and keeps its deadline', async () => {
  const t = new FakeTransport(); // never answers
  const q = queue(t, new RecordingLogger());
  q.push(recs(0, 3));
  const started = Date.now();
  await q.close(30);
  assert.ok(Date.now() - started < 1000);
  assert.equal(q.stats().dropped, 3);
});
