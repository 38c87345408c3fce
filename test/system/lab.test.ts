// The lab end to end: real TCP through the emulator follows the trace, RTT respects the delay, and nothing is left behind (also after SIGINT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ackedBytesPerBin, capacityBytesPerBin, dataSegmentSizes, handshakeRttsNs, loadTrace, pidAlive, readLinkLog, readTcpPackets } from '../../src/lab';
import { parseQueue } from '../../src/commands/lab';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/src/cli.js');
// The first 15 s of mahimahi's Verizon-LTE-short downlink (5-12 Mbit/s, falling): enough for a 10 s session.
const TRACE = join(ROOT, 'test/fixtures/lab/Verizon-LTE-short.first15s.down');
const DELAY_MS = 20;
const DURATION_S = 10;
const BIN_MS = 1000;
const NS_PER_MS = 1_000_000;
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root (network namespaces)' : false;

/** Lab namespaces created by the lab process with this pid (names embed the pid in base 36). */
function namespacesOf(pid: number): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`tcl-${pid.toString(36)}-`));
}

function pidsIn(namespaces: string[]): number[] {
  const pids: number[] = [];
  for (const ns of namespaces) {
    const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout;
    for (const p of out.split('\n')) if (Number(p) > 0) pids.push(Number(p));
  }
  return pids;
}

/** Processes still running one of the lab's tools whose command line mentions the session (its folder or interfaces). */
function labProcessesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(marker) && /tcpcast-linkem|tcpdump|iperf3/.test(cmdline)) found.push(`${entry}: ${cmdline}`);
  }
  return found;
}


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  namespacesSeen: string[];
  pidsSeen: number[];
}

/** Runs `tcpcast lab`, snapshots its namespaces and their processes while it runs, optionally SIGINTs it after a while. */
function runLab(args: string[], interruptAfterCaptureBytes?: number, outDir?: string): Promise<Run> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, 'lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: null, stdout: '', stderr: '', namespacesSeen: [], pidsSeen: [] };
    child.stdout.on('data', (d) => (run.stdout += d));
    child.stderr.on('data', (d) => (run.stderr += d));
    let interrupted = false;
    const poll = setInterval(() => {
      const ns = namespacesOf(child.pid!);
      for (const n of ns) if (!run.namespacesSeen.includes(n)) run.namespacesSeen.push(n);
      for (const p of pidsIn(ns)) if (!run.pidsSeen.includes(p)) run.pidsSeen.push(p);
      if (interruptAfterCaptureBytes !== undefined && !interrupted && outDir) {
        const pcap = join(outDir, 'capture.pcap');
        // Interrupt mid-transfer: once the capture holds real traffic, every part of the session is running.
        if (existsSync(pcap) && statSync(pcap).size > interruptAfterCaptureBytes && run.pidsSeen.length >= 4) {
          interrupted = true;
          child.kill('SIGINT');
        }
      }
    }, 200);
    child.on('exit', (code) => {
      clearInterval(poll);
      run.code = code;
      resolvePromise(run);
    });
  });
}

function assertNothingLeft(run: Run, marker: string): void {
  assert.ok(run.namespacesSeen.length === 3, `expected the run's 3 namespaces while it ran, saw ${run.namespacesSeen}`);
  const leftNs = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const ns of run.namespacesSeen) assert.ok(!leftNs.includes(ns), `namespace ${ns} left behind`);
  assert.ok(run.pidsSeen.length >= 3, `expected emulator, servers, tcpdump and clients, saw pids ${run.pidsSeen}`);
  const stillAlive = run.pidsSeen.filter(pidAlive).filter((p) => {
    try {
      return /tcpcast-linkem|tcpdump|iperf3/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
  assert.deepEqual(stillAlive, [], 'lab processes left running');
  assert.deepEqual(labProcessesMentioning(marker), [], 'lab processes left running');
}

test('queue sizes parse as packets or bytes', () => {
  assert.deepEqual(parseQueue('500'), { packets: 500, bytes: 0 });
  assert.deepEqual(parseQueue('64p'), { packets: 64, bytes: 0 });
  assert.deepEqual(parseQueue('150kB'), { packets: 0, bytes: 150_000 });
  assert.deepEqual(parseQueue('1.5MB'), { packets: 0, bytes: 1_500_000 });
  assert.throws(() => parseQueue('lots'));
});

test('a lab session delivers what the trace allows, with at least the base RTT, and leaves nothing behind', { skip, timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'tcpcast-lab-'));
  try {
    const run = await runLab(['--trace', TRACE, '--delay-ms', String(DELAY_MS), '--duration', String(DURATION_S), '--flows', '4',
      '--cc', 'cubic', '--seed', '0', '--queue', '500', '--emulator-log', '--no-windows', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    assert.equal(meta.complete, true);
    assert.equal(meta.name, 'Verizon-LTE-short.first15s.down__cubic__d20');
    assert.equal(meta.emulator.realtime_priority, true);
    assert.ok(meta.flows_result.every((f: { congestion: string }) => f.congestion === 'cubic'), JSON.stringify(meta.flows_result));

    const packets = readTcpPackets(join(out, 'capture.pcap'));
    const sender = '10.201.0.1';

    // RTT: every handshake crossed the emulator twice, so it took at least the configured base RTT.
    const rtts = handshakeRttsNs(packets);
    assert.ok(rtts.length >= 4, `handshakes seen: ${rtts.length}`);
    const minRttMs = Math.min(...rtts) / NS_PER_MS;
    assert.ok(minRttMs >= 2 * DELAY_MS, `min handshake RTT ${minRttMs} ms < ${2 * DELAY_MS} ms`);
    // The first handshake met an empty queue: its RTT is the base RTT plus the emulator's lateness, not more.
    assert.ok(minRttMs < 2 * DELAY_MS + 25, `min handshake RTT ${minRttMs} ms: delay applied more than once?`);

    // Throughput: in every saturated 1 s bin, what the receiver acknowledged (seen at the sender, one base RTT
    // after the link delivered it) matches the trace's capacity for that second, computed from the trace file.
    const trace = loadTrace(TRACE);
    const durationMs = DURATION_S * 1000;
    const capacity = capacityBytesPerBin(trace, meta.trace_offset_ms, durationMs, BIN_MS);
    const link = readLinkLog(join(out, 'linkem-down.log'), BIN_MS);
    const startNs = BigInt(meta.emulator.start_realtime_ns) + BigInt(2 * DELAY_MS * NS_PER_MS);
    const acked = ackedBytesPerBin(packets, sender, startNs, BigInt(BIN_MS * NS_PER_MS), capacity.length);
    const { maxIpBytes, maxPayloadBytes } = dataSegmentSizes(packets, sender);
    assert.ok(maxPayloadBytes > 1000, `data segments of ${maxPayloadBytes} bytes: offloads on or no data?`);
    const wirePerPayload = maxIpBytes / maxPayloadBytes;
    const checked: string[] = [];
    // Bin 0 holds the handshakes and slow start; the last bins may be cut short by the end of the flows.
    for (let i = 1; i < capacity.length - 1; i++) {
      if (!link[i]?.saturated || capacity[i] === 0) continue;
      const deliveredWire = acked[i] * wirePerPayload;
      const ratio = deliveredWire / capacity[i];
      checked.push(`${i}:${ratio.toFixed(3)}`);
      assert.ok(Math.abs(ratio - 1) <= 0.1, `bin ${i}: delivered ${deliveredWire} B vs capacity ${capacity[i]} B (ratio ${ratio.toFixed(3)}); bins ${checked}`);
    }
    assert.ok(checked.length >= 5, `only ${checked.length} saturated bins to compare: ${checked}`);

    // The emulator's own accounting agrees: offered bytes per bin are exactly the trace's capacity.
    for (let i = 0; i < capacity.length - 1; i++) assert.equal(link[i].offeredBytes, capacity[i], `bin ${i} offered bytes`);

    assertNothingLeft(run, out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('SIGINT midway stops the session and removes its namespaces and processes', { skip, timeout: 60_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'tcpcast-lab-int-'));
  try {
    const run = await runLab(['--trace', TRACE, '--duration', '30', '--flows', '2', '--no-windows', '--out', out], 100_000, out);
    assert.equal(run.code, 130, `exit ${run.code}: ${run.stderr}`);
    assert.match(run.stderr, /interrupted/);
    assert.ok(!existsSync(join(out, 'meta.json')), 'an interrupted session must not look complete');
    assertNothingLeft(run, out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a link outage that keeps iperf3 from finishing: clients are stopped at the deadline, marked unfinished, and the session kept', { skip, timeout: 60_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'tcpcast-lab-outage-'));
  try {
    // 1 s of 12 Mbit/s (an opportunity per ms), then nothing until 60 s: an outage like ATT-LTE-driving.up's 78 s one.
    const trace = join(out, 'outage.down');
    writeFileSync(trace, [...Array.from({ length: 1000 }, (_, i) => i + 1), 60_000].join('\n') + '\n');
    const run = await runLab(['--trace', trace, '--duration', '2', '--client-grace', '1', '--flows', '2', '--seed', '0', '--out', join(out, 's')]);
    assert.equal(run.code, 0, run.stderr);
    const meta = JSON.parse(readFileSync(join(out, 's', 'meta.json'), 'utf8'));
    assert.equal(meta.complete, true);
    assert.equal(meta.clients_unfinished, 2);
    assert.deepEqual(meta.flows_result, [{ unfinished: true }, { unfinished: true }]);
    // The traffic before and during the outage is the session's data: captured and turned into windows.
    const packets = readTcpPackets(join(out, 's', 'capture.pcap'));
    assert.ok(dataSegmentSizes(packets, '10.201.0.1').maxPayloadBytes > 1000, 'data segments captured');
    const csv = readFileSync(join(out, 's', 'windows.csv'), 'utf8').trim().split('\n');
    assert.ok(csv.length > 40, `windows.csv rows: ${csv.length}`);
    assertNothingLeft(run, join(out, 's'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
