// `tcpcast demo` end to end: a short demo in a child process; its dashboard is reached from this (root) namespace while it runs; afterwards CSV rows, exit 0, and no namespace or process left.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CSV_COLUMNS } from '../../src/features';
import { pidAlive } from '../../src/lab/netns';
import { netnsUnavailableReason } from '../lib/netns';

const ROOT = join(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'bin', 'tcpcast');
const DURATION_S = 8;

function missing(): string | undefined {
  const reason = netnsUnavailableReason();
  if (reason) return reason;
  for (const f of ['tcpcast.node', 'tcpcast-linkem']) if (!existsSync(join(ROOT, 'build', 'Release', f))) return `${f} not built`;
  for (const tool of ['iperf3', 'chrt']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed`;
    }
  }
  return undefined;
}

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}


function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Reads the dashboard's SSE stream until `enough` says so (or the time is up); returns the parsed messages by event. */
function readEvents(url: string, enough: (events: Array<{ event: string; data: any }>) => boolean, timeoutMs: number): Promise<Array<{ event: string; data: any }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: any }> = [];
    let buffered = '';
    let res: IncomingMessage | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      req.destroy();
      res?.destroy();
      resolve(events);
    };
    const timer = setTimeout(finish, timeoutMs);
    const req = get(url, (r) => {
      res = r;
      if (r.statusCode !== 200) return reject(new Error(`/events answered ${r.statusCode}`));
      r.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
        if (enough(events)) finish();
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

test('npm run demo: lab link, real flows, dashboard reachable from the root namespace, CSV rows, clean teardown', { skip: missing(), timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcx-demo-'));
  const csv = join(dir, 'demo.csv');
  const child = spawn(process.execPath, [CLI, 'demo', '--duration', String(DURATION_S), '--flows', '1', '--dashboard', '127.0.0.1:0', '--csv', csv, '--stats-interval', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const demoNamespaces: string[] = [];
  const labPids: number[] = [];
  let senderIf = '';
  try {
    const deadline = Date.now() + 30_000;
    while (!/dashboard\s+http:\/\/\S+/.test(stdout)) {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`no dashboard URL from the demo (exit ${child.exitCode}):\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /dashboard\s+(http:\/\/\S+)/.exec(stdout)![1];
    const [, captureIf, senderNs] = /capture\s+(\S+) in network namespace (\S+)/.exec(stdout)!;
    senderIf = captureIf;
    assert.match(stdout, /link\s+Verizon-LTE-short/, 'the default trace is the Verizon one');
    const id = senderNs.replace(/-snd$/, '');
    demoNamespaces.push(...namespaces().filter((n) => n.startsWith(`${id}-`)));
    assert.equal(demoNamespaces.length, 3, `sender, emulator and receiver namespaces: ${demoNamespaces.join(', ')}`);
    // The daemon, and so its dashboard, lives in the demo process itself, in the root namespace.
    assert.equal(readlinkSync(`/proc/${child.pid}/ns/net`), readlinkSync('/proc/self/ns/net'));

    const page = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      get(url, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
      }).on('error', reject);
    });
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);

    const senderSeries = new Set<number>();
    const busyWindows = (events: Array<{ event: string; data: any }>): number => {
      let n = 0;
      for (const { event, data } of events) {
        if (event === 'snapshot') for (const s of data.series) if (s.iface === senderIf) senderSeries.add(s.id);
        if (event !== 'windows') continue;
        for (const s of data.newSeries) if (s.iface === senderIf) senderSeries.add(s.id);
        if (data.rows.some((r: number[]) => senderSeries.has(r[0]) && r[2] > 0)) n++;
      }
      return n;
    };
    const events = await readEvents(new URL('/events', url).toString(), (e) => busyWindows(e) >= 5, (DURATION_S - 2) * 1000);
    senderSeries.clear();
    assert.ok(busyWindows(events) >= 5, `window messages with traffic on ${senderIf} arrive on /events (${events.length} events)`);

    // The emulator and the iperf3 processes the demo runs in its namespaces (ours to check for afterwards).
    for (const ns of demoNamespaces) {
      labPids.push(...execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0));
    }
    const names = labPids.map(comm);
    assert.ok(names.includes('tcpcast-linkem') && names.includes('iperf3'), `emulator and iperf3 in the demo's namespaces: ${names.join(', ')}`);

    assert.equal(await exited, 0, `demo exit code; stderr:\n${stderr}`);
    assert.match(stdout, /namespaces .* removed/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    const left = namespaces().filter((n) => demoNamespaces.includes(n));
    for (const pid of labPids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const ns of left) execFileSync('ip', ['netns', 'del', ns]);
    assert.deepEqual(left, [], 'no namespace of the demo is left');
  }
  assert.deepEqual(labPids.filter(pidAlive), [], 'no emulator or iperf3 process of the demo is left');

  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  const iface = CSV_COLUMNS.indexOf('iface');
  const series = CSV_COLUMNS.indexOf('series');
  const throughput = CSV_COLUMNS.indexOf('throughput_mbps');
  const senderRows = lines.slice(1).map((l) => l.split(',')).filter((c) => c[series] === 'all' && c[iface] === senderIf);
  const busy = senderRows.filter((c) => Number(c[throughput]) > 0);
  // At 50 ms windows, 8 s is ~160 closes; most carry data once the flow is up (a loose bound: the machine is shared).
  assert.ok(busy.length >= 20, `${busy.length} of ${senderRows.length} sender windows carry traffic`);
  rmSync(dir, { recursive: true, force: true });
});
