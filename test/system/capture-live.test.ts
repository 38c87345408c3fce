// Live capture through the addon on a veth in a 'tcc' namespace while iperf3 runs: windows while traffic flows, silent windows when idle, pcap_stats, stop() and -i any.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { openCapture } from '../../src/capture';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';
import { PREFIX, exited, runIperfClient, startIperfServer } from '../lib/capture-fixtures';
import { netnsUnavailableReason, withTopology } from '../lib/netns';

const WIDTH = WINDOW_VALUE_COLUMNS.length;
const SIZE = WINDOW_VALUE_COLUMNS.indexOf('size');
const SILENT = WINDOW_VALUE_COLUMNS.indexOf('is_silent');
const NS_PER_MS = 1_000_000n;

interface ChildWindow {
  iface: string;
  key: string;
  endNs: string;
  size: number;
  silent: number;
}
interface ChildMessage {
  type: 'ready' | 'batch' | 'end';
  wallMs?: number;
  afterStop?: boolean;
  windows?: ChildWindow[];
  stats?: Record<string, number>;
  pcap?: Array<{ source: string; live: boolean; received: number }>;
  stopAtNs?: string;
}

/** Child mode: runs inside the namespace (a capture needs to be where the interface is) and reports JSON lines. */
// slow: a consumer that reads nothing until the stop, with a 2-batch queue, to exercise live drop-oldest.
async function runChild(iface: string, slow: boolean): Promise<void> {
  const emit = (m: ChildMessage): boolean => process.stdout.write(`${JSON.stringify(m)}\n`);
  const capture = openCapture({ interfaces: [iface], windowMs: 50, queueBatches: slow ? 2 : undefined });
  let stopAtNs: bigint | undefined;
  let stopped: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (stopped = resolve));
  process.stdin.on('data', (d) => {
    if (!d.toString().includes('stop') || stopAtNs !== undefined) return;
    stopAtNs = BigInt(Date.now()) * NS_PER_MS;
    stopped();
    void capture.stop();
  });
  emit({ type: 'ready' });
  if (slow) await stopRequested;
  const names = new Map<number, { iface: string; key: string }>();
  let unnamed = 0;
  for await (const batch of capture) {
    for (const s of batch.newSeries) names.set(s.index, s);
    const windows: ChildWindow[] = [];
    for (let i = 0; i < batch.count; i++) {
      const s = names.get(batch.series[i]);
      if (!s) unnamed++;
      if (!s || s.key !== 'all') continue;
      windows.push({ iface: s.iface, key: s.key, endNs: batch.windowEndNs[i].toString(), size: batch.values[i * WIDTH + SIZE], silent: batch.values[i * WIDTH + SILENT] });
    }
    emit({ type: 'batch', wallMs: Date.now(), afterStop: stopAtNs !== undefined, windows });
  }
  emit({ type: 'end', stats: { ...capture.stats(), unnamed }, pcap: capture.detailedStats().pcap, stopAtNs: String(stopAtNs) });
  process.stdin.destroy();
}

function collectLines(child: ChildProcess): { messages: ChildMessage[]; ready: Promise<void> } {
  const messages: ChildMessage[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as ChildMessage;
    messages.push(m);
    if (m.type === 'ready') markReady();
  });
  child.stderr!.on('data', (d) => process.stderr.write(`[capture child] ${d}`));
  return { messages, ready };
}

const unavailable = netnsUnavailableReason();

if (process.env.TCC_LIVE_CHILD) {
  runChild(process.env.TCC_LIVE_CHILD, process.env.TCC_LIVE_SLOW === '1').catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
} else {
  test('live capture on a veth: windows while iperf3 runs, silent windows when idle, pcap_stats, stop() flushes the partial window; -i any names interfaces', { skip: unavailable, timeout: 60_000 }, async () => {
    await withTopology({ prefix: PREFIX }, async (t) => {
      const server = await startIperfServer(t);
      const spawnChild = (iface: string, slow = false): ChildProcess =>
        t.spawn(t.sender.ns, process.execPath, [__filename], {
          env: { ...process.env, TCC_LIVE_CHILD: iface, TCC_LIVE_SLOW: slow ? '1' : '0' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      const named = spawnChild(t.sender.ifname);
      const any = spawnChild('any');
      const slow = spawnChild(t.sender.ifname, true);
      const namedOut = collectLines(named);
      const anyOut = collectLines(any);
      const slowOut = collectLines(slow);
      await Promise.all([namedOut.ready, anyOut.ready, slowOut.ready]);

      const trafficStartMs = Date.now();
      await runIperfClient(t, 1, 20);
      const trafficEndMs = Date.now();
      await exited(server);
      await new Promise((r) => setTimeout(r, 500));
      for (const c of [named, any, slow]) c.stdin!.write('stop\n');
      assert.equal(await exited(named), 0);
      assert.equal(await exited(any), 0);
      assert.equal(await exited(slow), 0);

      const batches = namedOut.messages.filter((m) => m.type === 'batch');
      const end = namedOut.messages.find((m) => m.type === 'end');
      assert.ok(end, 'the child reported its end');
      const duringTraffic = batches.filter((b) => b.wallMs! > trafficStartMs && b.wallMs! < trafficEndMs && b.windows!.some((w) => w.size > 0));
      assert.ok(duringTraffic.length >= 5, `windows must arrive while traffic flows (got ${duringTraffic.length} batches with bytes)`);
      const trafficEndNs = BigInt(trafficEndMs) * NS_PER_MS + 100n * NS_PER_MS;
      const idle = batches.filter((b) => !b.afterStop).flatMap((b) => b.windows!).filter((w) => BigInt(w.endNs) > trafficEndNs);
      assert.ok(idle.length >= 3, `an idle link still closes windows (got ${idle.length})`);
      assert.ok(idle.every((w) => w.silent === 1 && w.size === 0), 'windows after the transfer are silent');
      const afterStop = batches.filter((b) => b.afterStop).flatMap((b) => b.windows!);
      const stopAtNs = BigInt(end.stopAtNs!);
      assert.ok(afterStop.some((w) => BigInt(w.endNs) > stopAtNs), 'stop() delivers the open window, which ends after the stop');
      assert.equal(end.pcap![0].source, t.sender.ifname);
      assert.equal(end.pcap![0].live, true);
      assert.ok(end.pcap![0].received > 1000, `pcap_stats received: ${end.pcap![0].received}`);
      assert.equal(end.stats!.pcapDropped, 0);
      assert.ok(end.stats!.tcpPackets > 1000);

      assert.equal(end.stats!.batchesDropped, 0, 'a prompt consumer loses nothing');
      assert.equal(end.stats!.unnamed, 0);

      // A consumer that reads nothing for the whole transfer: the 2-batch queue drops the oldest, counted, and the
      // series of dropped batches are still defined for the windows that remain.
      const slowEnd = slowOut.messages.find((m) => m.type === 'end');
      assert.ok(slowEnd);
      assert.ok(slowEnd.stats!.batchesDropped > 10, `dropped batches are counted (${slowEnd.stats!.batchesDropped})`);
      assert.ok(slowEnd.stats!.windowsDropped >= slowEnd.stats!.batchesDropped);
      assert.equal(slowEnd.stats!.unnamed, 0, 'no window of an unknown series after drops');
      assert.ok(slowOut.messages.filter((m) => m.type === 'batch').length <= 4, 'at most the bounded queue plus the final batch remain');

      const anyIfaces = new Set(anyOut.messages.flatMap((m) => m.windows ?? []).filter((w) => w.size > 0).map((w) => w.iface));
      assert.deepEqual([...anyIfaces], [t.sender.ifname], '-i any: the "all" series is per interface, named by ifindex');
    });
  });
}
