// Capture inside a named network namespace from a process that stays in its own: real TCP in a 'tcx' namespace, seen from the root namespace; unknown namespaces are coded errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCapture, type Capture } from '../../src/capture';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';
import { exited, startIperfServer } from '../lib/capture-fixtures';
import { netnsUnavailableReason, withTopology } from '../lib/netns';

const ROOT = join(__dirname, '..', '..', '..');
const PREFIX = 'tcx';
const WIDTH = WINDOW_VALUE_COLUMNS.length;
const SIZE = WINDOW_VALUE_COLUMNS.indexOf('size');
const unavailable = netnsUnavailableReason() ?? (existsSync(join(ROOT, 'build', 'Release', 'tcpcast.node')) ? undefined : 'addon not built');

/** The network namespace of every thread of this process (the addon's threads included). */
function threadNamespaces(): Set<string> {
  return new Set(readdirSync('/proc/self/task').map((tid) => readlinkSync(`/proc/self/task/${tid}/ns/net`)));
}

/** Payload bytes per interface name in the "all" series, and every connection key seen, until the capture ends. */
async function drain(capture: Capture): Promise<{ bytesByIface: Map<string, number>; keys: Set<string> }> {
  const names = new Map<number, { iface: string; key: string }>();
  const bytesByIface = new Map<string, number>();
  const keys = new Set<string>();
  for await (const batch of capture) {
    for (const s of batch.newSeries) {
      names.set(s.index, s);
      keys.add(s.key);
    }
    for (let i = 0; i < batch.count; i++) {
      const s = names.get(batch.series[i]);
      if (!s || s.key !== 'all') continue;
      bytesByIface.set(s.iface, (bytesByIface.get(s.iface) ?? 0) + batch.values[i * WIDTH + SIZE]);
    }
  }
  return { bytesByIface, keys };
}

test('a capture with netns sees TCP inside that namespace while this process stays in its own', { skip: unavailable }, async () => {
  const ownNs = readlinkSync('/proc/self/ns/net');
  await withTopology({ prefix: PREFIX }, async (t) => {
    // The interface exists only inside the namespace: without netns it cannot be found from here.
    assert.throws(() => openCapture({ interfaces: [t.sender.ifname] }), (err: Error & { code?: string }) => err.code === 'ERR_NO_SUCH_DEVICE');

    const byName = openCapture({ interfaces: [t.sender.ifname], netns: t.sender.ns, windowMs: 50 });
    // "any" inside the namespace: interface names come from the SLL2 ifindex, which only means something there.
    const any = openCapture({ interfaces: ['any'], netns: t.sender.ns, windowMs: 50 });
    const drained = [drain(byName), drain(any)];
    assert.deepEqual([...threadNamespaces()], [ownNs], 'no thread of this process is left in the capture namespace');

    const server = await startIperfServer(t);
    const client = t.spawn(t.sender.ns, 'iperf3', ['-c', t.receiver.addr4, '-t', '1', '-b', '20M', '-J']);
    let report = '';
    client.stdout!.on('data', (d: Buffer) => (report += d.toString()));
    assert.equal(await exited(client), 0, 'iperf3 client ran');
    await exited(server);
    const sentBytes = (JSON.parse(report) as { end: { sum_sent: { bytes: number } } }).end.sum_sent.bytes;
    // Let the last ACKs and the FIN exchange reach the ring before stopping.
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all([byName.stop(), any.stop()]);
    const [named, anyResult] = await Promise.all(drained);

    const namedBytes = named.bytesByIface.get(t.sender.ifname) ?? 0;
    assert.ok(namedBytes >= sentBytes, `capture by name saw the ${sentBytes} payload bytes iperf3 sent (saw ${namedBytes})`);
    assert.ok([...named.keys].some((k) => k.includes(`${t.receiver.addr4}:5201`)), `a connection to the iperf3 server: ${[...named.keys].join(', ')}`);
    const anyBytes = anyResult.bytesByIface.get(t.sender.ifname) ?? 0;
    assert.ok(anyBytes >= sentBytes, `-i any in the namespace names the veth ${t.sender.ifname} (series: ${[...anyResult.bytesByIface.keys()].join(', ')})`);
    assert.equal(byName.detailedStats().pcap[0].live, true);
    assert.ok(byName.detailedStats().pcap[0].received > 0, 'pcap_stats work on a handle opened in another namespace');
  });
  assert.equal(readlinkSync('/proc/self/ns/net'), ownNs, 'the process is still in its own network namespace');
  assert.deepEqual([...threadNamespaces()], [ownNs]);
});

test('an unknown namespace is a coded error naming it; a name that is a path is refused', { skip: unavailable }, () => {
  const ownNs = readlinkSync('/proc/self/ns/net');
  const missing = `${PREFIX}-${process.pid}-missing`;
  assert.throws(
    () => openCapture({ interfaces: ['lo'], netns: missing }),
    (err: Error & { code?: string }) => err.code === 'ERR_NO_SUCH_NETNS' && err.message.includes(missing),
  );
  for (const bad of ['../../proc/1/ns/net', '..', 'a/b']) {
    assert.throws(() => openCapture({ interfaces: ['lo'], netns: bad }), (err: Error & { code?: string }) => err.code === 'ERR_INVALID_OPTION', bad);
  }
  assert.throws(() => openCapture({ files: ['x.pcap'], netns: 'somewhere' }), (err: Error & { code?: string }) => err.code === 'ERR_INVALID_OPTION');
  assert.equal(readlinkSync('/proc/self/ns/net'), ownNs);
});

test('tcpcast run --netns: an unknown namespace ends the command with the coded error before anything starts', { skip: unavailable }, () => {
  const missing = `${PREFIX}-${process.pid}-missing`;
  const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'tcpcast'), 'run', '-i', 'lo', '--netns', missing, '--no-dashboard', '--no-csv'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 1);
  assert.match(res.stderr, new RegExp(`network namespace '${missing}' does not exist.*\\(ERR_NO_SUCH_NETNS\\)`));
});
