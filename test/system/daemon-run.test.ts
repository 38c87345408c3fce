// `tcpcast run` end to end: a child daemon captures real TCP in its own namespace, stops on SIGTERM with every row written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSV_COLUMNS } from '../../src/features';
import { COUNTERS, camelCase } from '../../src/schema';
import { netnsUnavailableReason, withTopology, type Topology } from '../lib/netns';
import { startCli } from '../lib/cli-child';

const ROOT = join(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'bin', 'tcpcast');
const skip = netnsUnavailableReason() ?? (existsSync(join(ROOT, 'build', 'Release', 'tcpcast.node')) ? undefined : 'addon not built');

interface Daemon {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `tcpcast run` inside a namespace; JSON log lines are parsed as they come (test/lib/cli-child). */
function startDaemon(ns: string, args: string[]): Daemon {
  const c = startCli(['run', ...args], { prefix: ['ip', 'netns', 'exec', ns] });
  return {
    child: c.child,
    logs: c.logs,
    exited: c.exited.then((e) => e.code),
    waitForLog: (msg, timeoutMs = 20_000) => c.waitForLog((l) => l.msg === msg, `"${msg}"`, timeoutMs),
  };
}

const TRANSFER = join(__dirname, '..', 'lib', 'transfer.js');

/** Exact-size transfers (one connection per flow); resolves with the bytes the receivers got, which is what crossed the wire once. */
async function sendFlows(t: Topology, flows: number, bytes: number, target: string, ns: string, serverNs: string, basePort: number): Promise<number> {
  const received = [...Array(flows).keys()].map(
    (i) =>
      new Promise<number>((resolve, reject) => {
        const server = t.spawn(serverNs, process.execPath, [TRANSFER, 'serve', target, String(basePort + i)]);
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.startsWith('listening\n')) {
            out = out.slice('listening\n'.length);
            const client = t.spawn(ns, process.execPath, [TRANSFER, 'send', target, String(basePort + i), String(bytes)]);
            client.on('exit', (code) => code !== 0 && reject(new Error(`sender exited ${code}`)));
          }
        });
        server.on('exit', () => (/^\d+\n$/.test(out) ? resolve(Number(out)) : reject(new Error(`receiver said: ${out}`))));
      }),
  );
  const total = (await Promise.all(received)).reduce((a, b) => a + b, 0);
  assert.equal(total, flows * bytes, 'every byte arrived');
  return total;
}

function readCsv(path: string): Array<Record<string, string>> {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'the CSV ends with a whole line');
  const [header, ...lines] = text.trimEnd().split('\n');
  assert.equal(header, CSV_COLUMNS.join(','));
  return lines.map((line, i) => {
    const cells = line.split(',');
    assert.equal(cells.length, CSV_COLUMNS.length, `row ${i + 2} is whole: ${line}`);
    return Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, cells[k]]));
  });
}

test('run -i any: bytes match the senders, loopback is filtered out, SIGTERM flushes and exits 0', { skip, timeout: 120_000 }, async () => {
  await withTopology({ prefix: 'tcr' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcast-run-'));
    const csv = join(dir, 'windows.csv');
    const daemon = startDaemon(t.sender.ns, ['-i', 'any', '--csv', csv, '--no-dashboard', '--no-forecast', '--stats-interval', '1', '--metrics', '127.0.0.1:9464']);
    try {
      await daemon.waitForLog('tcpcast started');
      assert.equal((await daemon.waitForLog('metrics listening')).url, 'http://127.0.0.1:9464/metrics');
      // Real TCP across the veth (three flows) and the same amount over loopback in the same namespace.
      t.exec(t.sender.ns, 'ip', ['link', 'set', 'lo', 'up']);
      const [sentVeth, sentLoopback] = await Promise.all([
        sendFlows(t, 3, 4_000_000, t.receiver.addr4, t.sender.ns, t.receiver.ns, 5201),
        sendFlows(t, 1, 4_000_000, '127.0.0.1', t.sender.ns, t.sender.ns, 5301),
      ]);
      assert.ok(sentVeth >= 12_000_000 && sentLoopback >= 4_000_000);
      await daemon.waitForLog('stats');
      await new Promise((r) => setTimeout(r, 300));
      // Prometheus scrapes from the daemon's namespace (the endpoint binds loopback there).
      const scrape = t.exec(t.sender.ns, process.execPath, ['-e', "fetch('http://127.0.0.1:9464/metrics').then(r => r.text()).then(t => process.stdout.write(t))"]);
      const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(scrape)?.[1]);
      assert.ok(metric('tcpcast_engine_tcp_packets_total') >= sentVeth / 1500, `packets counted in /metrics:\n${scrape.split("\n").filter((l) => /^tcpcast_(engine|pipeline)/.test(l)).join("\n")}`);
      assert.ok(metric('tcpcast_pipeline_windows_total') > 0, 'windows counted in /metrics');
      assert.equal(metric('tcpcast_pcap_kernel_dropped_packets_total{iface="any"}'), 0, 'kernel drops exported');
      daemon.child.kill('SIGTERM');
      const code = await daemon.exited;
      assert.equal(code, 0, 'exit code after SIGTERM');

      const rows = readCsv(csv);
      const ifaces = new Set(rows.map((r) => r.iface));
      assert.ok(ifaces.has(t.sender.ifname), `rows for ${t.sender.ifname}: ${[...ifaces]}`);
      assert.ok(!ifaces.has('lo'), 'no loopback series');
      assert.ok(rows.every((r) => !r.series.includes('127.0.0.1')), 'no loopback connection series');
      const captured = rows.filter((r) => r.iface === t.sender.ifname && r.series === 'all').reduce((a, r) => a + Number(r.size), 0);
      const ratio = captured / sentVeth;
      console.log(`# run: senders sent ${sentVeth} B over the veth, the CSV's "all" series counts ${captured} B (ratio ${ratio.toFixed(5)})`);
      const stoppedLine = JSON.stringify(daemon.logs.find((l) => l.msg === 'tcpcast stopped'));
      assert.ok(Math.abs(ratio - 1) <= 0.01, `CSV bytes within 1% of what was sent (ratio ${ratio}); ${stoppedLine}`);
      const flowSeries = new Set(rows.filter((r) => r.series !== 'all').map((r) => r.series));
      assert.ok(flowSeries.size >= 3, `a series per connection: ${[...flowSeries]}`);

      const stopped = daemon.logs.find((l) => l.msg === 'tcpcast stopped');
      assert.ok(stopped, 'final summary logged');
      assert.equal(typeof stopped.kernelDropped, 'number', 'kernel drops reported');
      const stats = daemon.logs.find((l) => l.msg === 'stats')!;
      for (const key of ['packets', 'kernelDropped', 'flows', 'windows']) assert.equal(typeof stats[key], 'number', `stats line has ${key}`);
      // Every engine counter of the schema, the ones nobody names in the daemon included (iface_series_full, flows_port_reused, segments_dropped).
      const engine = (line: Record<string, unknown>) => (line.engine ?? {}) as Record<string, unknown>;
      for (const { name } of COUNTERS) {
        assert.equal(typeof engine(stats)[camelCase(name)], 'number', `stats line has engine.${camelCase(name)}`);
        assert.equal(typeof engine(stopped)[camelCase(name)], 'number', `final line has engine.${camelCase(name)}`);
      }
      assert.equal(engine(stopped).frames, stopped.packets);
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  });
});

test('run --user nobody keeps capturing after dropping root', { skip, timeout: 60_000 }, async () => {
  await withTopology({ prefix: 'tcu' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcast-user-'));
    chmodSync(dir, 0o777);
    const csv = join(dir, 'windows.csv');
    const daemon = startDaemon(t.sender.ns, ['-i', t.sender.ifname, '--user', 'nobody', '--csv', csv, '--no-dashboard', '--no-forecast', '--stats-interval', '0']);
    try {
      await daemon.waitForLog('tcpcast started');
      // The daemon's process is node under `ip netns exec`; find it by its parent.
      const pid = Number(spawnSync('pgrep', ['-P', String(daemon.child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || daemon.child.pid!;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!;
      assert.deepEqual(uids.slice(1).map(Number), [65534, 65534, 65534], 'real, effective and saved uid are nobody');
      const sizeBefore = existsSync(csv) ? statSync(csv).size : 0;
      const sent = await sendFlows(t, 1, 2_000_000, t.receiver.addr4, t.sender.ns, t.receiver.ns, 5401);
      await new Promise((r) => setTimeout(r, 400));
      daemon.child.kill('SIGTERM');
      assert.equal(await daemon.exited, 0);
      const rows = readCsv(csv);
      const captured = rows.filter((r) => r.series === 'all').reduce((a, r) => a + Number(r.size), 0);
      assert.ok(statSync(csv).size > sizeBefore, 'windows were written after the privilege drop');
      assert.ok(captured >= sent * 0.99, `captured ${captured} of ${sent} bytes as nobody`);
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  });
});

test('SIGHUP reopens the CSV so logrotate can move it; both files hold whole rows with one header each', { skip, timeout: 60_000 }, async () => {
  await withTopology({ prefix: 'tch' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcast-hup-'));
    const csv = join(dir, 'windows.csv');
    const rotated = join(dir, 'windows.csv.1');
    const daemon = startDaemon(t.sender.ns, ['-i', t.sender.ifname, '--csv', csv, '--no-dashboard', '--no-forecast', '--stats-interval', '0']);
    try {
      await daemon.waitForLog('tcpcast started');
      const before = await sendFlows(t, 1, 2_000_000, t.receiver.addr4, t.sender.ns, t.receiver.ns, 5501);
      await new Promise((r) => setTimeout(r, 200));
      renameSync(csv, rotated);
      daemon.child.kill('SIGHUP');
      await daemon.waitForLog('reopened output (SIGHUP)');
      const after = await sendFlows(t, 1, 3_000_000, t.receiver.addr4, t.sender.ns, t.receiver.ns, 5502);
      await new Promise((r) => setTimeout(r, 200));
      daemon.child.kill('SIGTERM');
      assert.equal(await daemon.exited, 0);
      const bytes = (rows: Array<Record<string, string>>) => rows.filter((r) => r.series === 'all').reduce((a, r) => a + Number(r.size), 0);
      const oldRows = readCsv(rotated);
      const freshRows = readCsv(csv);
      const old = bytes(oldRows);
      const fresh = bytes(freshRows);
      console.log(`# SIGHUP: first transfer ${before} B, rotated file ${old} B; second ${after} B, new file ${fresh} B; last old ${oldRows.at(-1)?.window_end_ns} first new ${freshRows[0]?.window_end_ns}`);
      assert.ok(oldRows.length > 0 && freshRows.length > 0, 'rows on both sides of the rotation');
      assert.ok(BigInt(oldRows.at(-1)!.window_end_ns) < BigInt(freshRows[0].window_end_ns), 'no window written twice or out of order across the rotation');
      const total = (old + fresh) / (before + after);
      assert.ok(Math.abs(total - 1) <= 0.01, `nothing lost across the rotation: ${old} + ${fresh} vs ${before} + ${after}`);
      assert.ok(fresh >= after * 0.99, `the new file holds at least the second transfer: ${fresh} vs ${after}`);
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  });
});

test('bad flags, an unknown interface and an invalid filter: one clear error line, non-zero exit', { skip, timeout: 60_000 }, () => {
  const cases: Array<{ args: string[]; expect: RegExp }> = [
    { args: ['run', '--window-ms', 'soon'], expect: /--window-ms must be a positive integer, got "soon"/ },
    { args: ['run', '--bogus-flag'], expect: /unknown option '--bogus-flag'/ },
    { args: ['run', '-i', 'nosuchif0', '--no-dashboard', '--no-csv'], expect: /nosuchif0/ },
    { args: ['run', '-i', 'lo', '--no-dashboard', '--no-csv', 'tcp', 'port', 'banana'], expect: /filter|BPF|bpf/ },
    { args: ['replay', '/nonexistent.pcap', '--no-dashboard', '--no-csv'], expect: /\/nonexistent\.pcap/ },
  ];
  for (const c of cases) {
    const r = spawnSync(process.execPath, [CLI, ...c.args], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, `${c.args.join(' ')} exits non-zero`);
    const errorLines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('"level":30') && !l.includes('"level":40'));
    assert.equal(errorLines.length, 1, `one error line for ${c.args.join(' ')}; got:\n${r.stderr}`);
    assert.match(errorLines[0], c.expect);
  }
});
