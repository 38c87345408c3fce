// `npm run soak -- --minutes N`: live capture in a namespace with connection churn and a database that goes away and comes back; samples RSS and counts, fails on growth or loss.
//
// Setup: sender and receiver namespaces (test/lib/netns), an iperf3 server in the receiver, and a loop of short
// iperf3 clients in the sender (new connections every few seconds: series come and go). The daemon runs in the
// root namespace (`tcpcast run --netns SENDER -i VETH`) writing CSV and InfluxDB line protocol to a real
// VictoriaMetrics on 127.0.0.1, which is stopped for OUTAGE_S every OUTAGE_EVERY_S (once in a short run).
// The daemon's RSS is read from /proc every SAMPLE_S seconds.
//
// Verdict (exit 1 on any failure, a JSON summary on stdout either way):
// - the daemon exits 0 after SIGTERM, and its final line counts 0 dropped / 0 rejected for every sink;
// - the CSV holds exactly the rows the daemon counted, and VictoriaMetrics holds the same number of points;
// - 0 kernel drops (pcap) and 0 windows dropped between native and JS at this rate;
// - RSS slope after warm-up (least squares over the samples after the first quarter, at least 60 s) is under
//   --max-rss-slope MB/hour (default 20); it is reported for every run, judged only for runs of 5 minutes or more,
//   where start-up noise no longer dominates.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopology, netnsUnavailableReason } from '../lib/netns';
import { VictoriaMetrics } from '../lib/servers';
import { tempDir } from '../lib/capture-fixtures';
import { CLI, type LogLine } from '../lib/cli-child';

interface Args {
  minutes: number;
  forecast: boolean;
  maxRssSlope: number;
  rateMbit: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 1, forecast: true, maxRssSlope: 20, rateMbit: 20 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} expects a positive number`);
      return n;
    };
    if (k === '--minutes') a.minutes = v();
    else if (k === '--max-rss-slope') a.maxRssSlope = v();
    else if (k === '--rate-mbit') a.rateMbit = v();
    else if (k === '--no-forecast') a.forecast = false;
    else throw new Error(`unknown argument ${k} (--minutes N, --rate-mbit N, --max-rss-slope MB/h, --no-forecast)`);
  }
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SAMPLE_S = 5;
const IPERF_PORT = 5299;

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of y over t (seconds), in units per hour. */
function slopePerHour(samples: Array<{ t: number; mb: number }>): number {
  const n = samples.length;
  if (n < 3) return 0;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const my = samples.reduce((s, x) => s + x.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - mt) * (x.mb - my);
    den += (x.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const why = netnsUnavailableReason();
  if (why) throw new Error(`the soak needs network namespaces: ${why}`);
  const durationMs = args.minutes * 60_000;
  // One outage per ~5 minutes (at least one), each a fifth of that, at most 60 s.
  const outageEveryMs = Math.min(durationMs / 2, 5 * 60_000);
  const outageMs = Math.min(60_000, Math.max(5_000, outageEveryMs / 5));

  const t = createTopology({ prefix: 'tck' });
  const vm = new VictoriaMetrics();
  const dir = tempDir('soak');
  const csv = join(dir, 'soak.csv');
  const failures: string[] = [];
  try {
    await vm.start();
    const daemonArgs = ['run', '--netns', t.sender.ns, '-i', t.sender.ifname, '--csv', csv, '--influx-url', vm.url, '--influx-measurement', 'soak',
      '--no-dashboard', '--stats-interval', '10', '--shutdown-timeout', '30', ...(args.forecast ? [] : ['--no-forecast']), 'tcp'];
    const daemon = spawn(process.execPath, [CLI, ...daemonArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    const logs: LogLine[] = [];
    let buf = '';
    daemon.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          logs.push({ msg: line });
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && !logs.some((l) => l.msg === 'tcpcast started'); i++) await sleep(100);
    if (!logs.some((l) => l.msg === 'tcpcast started')) throw new Error(`daemon did not start: ${JSON.stringify(logs.slice(-5))}`);

    const started = Date.now();
    let stopChurn = false;
    let connections = 0;
    let runsKilled = 0;
    // Churn: back-to-back short iperf3 runs of 2 parallel flows (plus the control connection) at a modest rate.
    // Each run gets a one-off server on its own port and both are killed if they overrun: an iperf3 server
    // left "busy" by a stalled client (seen under CPU contention) would otherwise stop the churn for good.
    const churn = (async () => {
      for (let run = 0; !stopChurn; run++) {
        const port = String(IPERF_PORT + (run % 50));
        const server = t.spawn(t.receiver.ns, 'iperf3', ['-s', '-1', '-p', port]);
        await sleep(300);
        const c = t.spawn(t.sender.ns, 'iperf3', ['-c', t.receiver.addr4, '-p', port, '-t', '3', '-P', '2', '-b', `${args.rateMbit / 2}M`]);
        connections += 3;
        const overran = await Promise.race([
          new Promise<boolean>((r) => c.on('exit', () => r(false))),
          sleep(15_000).then(() => true),
        ]);
        if (overran) runsKilled++;
        for (const p of [c, server]) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
        await sleep(300);
      }
    })();
    const outages: Array<{ atS: number; forS: number }> = [];
    const samples: Array<{ t: number; mb: number }> = [];
    let nextOutage = started + outageEveryMs / 2;
    while (Date.now() - started < durationMs) {
      const mb = rssMb(daemon.pid!);
      if (mb !== undefined) samples.push({ t: (Date.now() - started) / 1000, mb });
      if (Date.now() >= nextOutage && Date.now() + outageMs < started + durationMs) {
        outages.push({ atS: Math.round((Date.now() - started) / 1000), forS: outageMs / 1000 });
        await vm.stop();
        await sleep(outageMs);
        await vm.start();
        nextOutage += outageEveryMs;
        continue;
      }
      await sleep(SAMPLE_S * 1000);
    }
    stopChurn = true;
    await churn;
    // Let the backlog of the last outage drain before stopping, as an operator would not stop mid-outage.
    await sleep(3000);
    daemon.kill('SIGTERM');
    const code = await exited;

    const stopped = logs.find((l) => l.msg === 'tcpcast stopped') as (LogLine & { sinks?: Record<string, { written: number; dropped: number; rejected: number }> }) | undefined;
    const csvRows = readFileSync(csv, 'utf8').trimEnd().split('\n').length - 1;
    await vm.forceFlush();
    await sleep(1500);
    const series = await vm.export('{__name__="soak_actual_throughput"}');
    const vmPoints = series.reduce((n, s) => n + s.timestamps.length, 0);
    const warm = samples.filter((s) => s.t >= Math.max(60, (durationMs / 1000) * 0.25));
    const slope = slopePerHour(warm);
    const kernelDrops = Number(stopped?.kernelDropped ?? -1) + Number(stopped?.interfaceDropped ?? 0);
    const summary = {
      minutes: args.minutes,
      forecast: args.forecast,
      rateMbit: args.rateMbit,
      connections,
      iperfRunsKilled: runsKilled,
      outages,
      exitCode: code,
      packets: stopped?.packets,
      windowsRows: stopped?.windows,
      csvRows,
      vmPoints,
      sinks: stopped?.sinks,
      kernelDrops,
      windowsDropped: stopped?.windowsDropped,
      rssMb: { first: samples[0]?.mb, afterWarmup: warm[0]?.mb, last: samples.at(-1)?.mb, max: Math.max(...samples.map((s) => s.mb)) },
      rssSlopeMbPerHour: Math.round(slope * 10) / 10,
    };
    if (!stopped) failures.push('no "tcpcast stopped" line');
    if (code !== 0) failures.push(`exit code ${code}`);
    for (const [name, s] of Object.entries(stopped?.sinks ?? {})) {
      if (s.dropped || s.rejected) failures.push(`sink ${name} lost rows: dropped ${s.dropped}, rejected ${s.rejected}`);
    }
    if (csvRows !== stopped?.windows) failures.push(`CSV holds ${csvRows} rows, the daemon counted ${stopped?.windows}`);
    if (vmPoints !== csvRows) failures.push(`VictoriaMetrics holds ${vmPoints} points, the CSV ${csvRows} rows`);
    if (kernelDrops !== 0) failures.push(`kernel drops: ${kernelDrops}`);
    if (Number(stopped?.windowsDropped ?? 0) !== 0) failures.push(`windows dropped between native and JS: ${stopped?.windowsDropped}`);
    if (args.minutes >= 5 && slope > args.maxRssSlope) failures.push(`RSS grows ${slope.toFixed(1)} MB/hour after warm-up (limit ${args.maxRssSlope})`);
    process.stdout.write(`${JSON.stringify({ ...summary, failures }, null, 2)}\n`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await vm.dispose().catch(() => {});
    t.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`soak: ${err.message}\n`);
    process.exit(1);
  },
);
