// The benchmark runner measures what it claims: a child's peak RSS through GNU time, failures and missing tools as errors, never as numbers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { GNU_TIME, median, runOnce, TrialError } from '../../bench/lib/runner';

const noGnuTime = existsSync(GNU_TIME) ? undefined : `${GNU_TIME} not installed`;
const quiet = (): void => undefined;

test('peak RSS is the child process, not the harness', { skip: noGnuTime }, async () => {
  const allocMb = 200;
  // Touch every page so the memory is resident, not only reserved.
  const m = await runOnce({ name: 'alloc', argv: [process.execPath, '-e', `Buffer.alloc(${allocMb} * 2 ** 20).fill(1)`], work: 1 }, quiet);
  assert.ok(m.peakRssKb / 1024 >= allocMb, `peak RSS ${m.peakRssKb} kB below the ${allocMb} MB the child touched`);
  assert.ok(m.peakRssKb / 1024 < allocMb * 3, `peak RSS ${m.peakRssKb} kB is not the child's`);
  assert.ok(m.wallS > 0 && m.userS + m.sysS > 0);
});

test('a non-zero exit is an error carrying the program\'s first stderr line', { skip: noGnuTime }, async () => {
  const argv = [process.execPath, '-e', 'console.error("tool: broken input"); for (let i = 0; i < 10; i++) console.error("detail " + i); process.exit(3)'];
  await assert.rejects(runOnce({ name: 'fails', argv, work: 1 }, quiet), (err: Error) => {
    assert.ok(err instanceof TrialError);
    assert.match(err.message, /tool: broken input/);
    assert.match(err.message, /detail 9/);
    return true;
  });
});

test('missing prerequisites and timeouts are errors', { skip: noGnuTime }, async () => {
  await assert.rejects(
    runOnce({ name: 'x', argv: ['true'], work: 1, requires: [{ path: '/nonexistent/tcpcast', missing: 'tcpcast not built' }] }, quiet),
    /tcpcast not built/,
  );
  const marker = `tcpcast-bench-timeout-${process.pid}`;
  await assert.rejects(runOnce({ name: 'slow', argv: ['bash', '-c', `exec -a ${marker} sleep 30`], work: 1, timeoutS: 0.5 }, quiet), /timed out/);
  // The measured program itself is gone, not only GNU time above it.
  const survivors = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(marker));
  assert.deepEqual(survivors, []);
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
