// The namespace helpers other tests build on: traffic really crosses the router's tbf, offloads are off, and namespaces never outlive their owner.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTopology, netnsUnavailableReason, withTopology } from '../lib/netns';

const unavailable = netnsUnavailableReason();

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n !== '');
}

function ownedBy(pid: number): string[] {
  return namespaces().filter((n) => n.startsWith(`tcf-${pid}-`));
}

test('routed topology: TCP crosses the router through its tbf, offloads off, namespaces removed afterwards', { skip: unavailable }, async () => {
  let created: string[] = [];
  await withTopology({ prefix: 'tcf', router: true }, async (t) => {
    created = ownedBy(process.pid);
    assert.equal(created.length, 3);
    t.setTbf(t.bottleneck.ns, t.bottleneck.ifname, { rateMbit: 20, limitBytes: 32 * 1024 });
    const offloads = t.exec(t.sender.ns, 'ethtool', ['-k', t.sender.ifname]);
    for (const feature of ['tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload']) {
      assert.match(offloads, new RegExp(`^${feature}: off`, 'm'));
    }
    const server = t.spawn(t.receiver.ns, 'iperf3', ['-s', '-1', '-p', '5299']);
    for (let i = 0; i < 100 && t.exec(t.receiver.ns, 'ss', ['-Hltn', 'sport = :5299']).trim() === ''; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = t.exec(t.sender.ns, 'iperf3', ['-c', t.receiver.addr6, '-p', '5299', '-n', '2M', '-J']);
    // The client's own count: what left the sender; the tbf's counter below shows it crossed the router.
    const report = JSON.parse(out) as { end: { sum_sent: { bytes: number } } };
    assert.equal(report.end.sum_sent.bytes, 2 * 1024 * 1024, 'iperf3 sent the 2 MiB over IPv6');
    await new Promise((r) => server.once('exit', r));
    const stats = t.exec(t.bottleneck.ns, 'tc', ['-s', 'qdisc', 'show', 'dev', t.bottleneck.ifname]);
    assert.match(stats, /tbf .* rate 20Mbit/);
    const sentBytes = Number(/Sent (\d+) bytes/.exec(stats)?.[1]);
    // Not all 2 MiB: iperf3 ends the test once the client has written its last byte, with some still in flight.
    assert.ok(sentBytes >= 1024 * 1024, `the data went through the bottleneck (${sentBytes} bytes)`);
  });
  const left = namespaces().filter((n) => created.includes(n));
  assert.deepEqual(left, [], 'namespaces deleted by withTopology');
});

test('a killed owner: SIGTERM cleans up at once, SIGKILL leftovers are removed by the next createTopology', { skip: unavailable }, async () => {
  const helper = join(__dirname, '..', 'lib', 'netns.js');
  // A child process that makes a topology, says so, and waits to be killed.
  const script = `const n = require(${JSON.stringify(helper)}); n.createTopology({ prefix: 'tcf' }); console.log('ready'); setInterval(() => {}, 1000);`;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`helper exited early (${code})`)));
    });
    const pid = child.pid!;
    assert.equal(ownedBy(pid).length, 2, 'the child made its two namespaces');
    child.kill(signal);
    await new Promise((r) => child.once('exit', r));
    if (signal === 'SIGTERM') {
      assert.deepEqual(ownedBy(pid), [], 'SIGTERM handler deleted the namespaces');
    } else {
      assert.equal(ownedBy(pid).length, 2, 'SIGKILL gives no chance to clean up');
      createTopology({ prefix: 'tcf' }).destroy();
      assert.deepEqual(ownedBy(pid), [], 'stale namespaces of a dead owner removed');
    }
  }
});
