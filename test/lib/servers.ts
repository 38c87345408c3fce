// Real database servers for tests: VictoriaMetrics (InfluxDB v2 write API) and InfluxDB 1.6 (v1 API), on 127.0.0.1 ephemeral ports, temp data dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port the kernel just handed out on 127.0.0.1 (closed again, so a server can bind it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url: string, okStatus: number[], proc: ChildProcess, logPath: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited early (${proc.exitCode ?? proc.signalCode}); log tail:\n${tail(logPath)}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (okStatus.includes(res.status)) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`server at ${url} not ready after ${timeoutMs} ms; log tail:\n${tail(logPath)}`);
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

function stopProcess(proc: ChildProcess | null, timeoutMs = 15_000): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Common shape: a process that can be stopped and started again on the same port and data dir (outage tests). */
abstract class TestServer {
  readonly dir: string;
  protected proc: ChildProcess | null = null;
  port = 0;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected get logPath(): string {
    return join(this.dir, 'server.log');
  }

  protected launch(cmd: string, args: string[]): ChildProcess {
    const fd = openSync(this.logPath, 'a');
    try {
      const proc = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
      proc.on('error', () => undefined);
      return proc;
    } finally {
      closeSync(fd);
    }
  }

  /** Stops the process (SIGTERM, so it flushes its data) but keeps the data dir for a restart. */
  async stop(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = null;
  }

  abstract start(): Promise<void>;

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface VictoriaOptions {
  /** Enables -httpAuth.*: every endpoint then needs Basic auth with these. */
  basicAuth?: { username: string; password: string };
}

/** Debian's victoria-metrics binary; speaks the InfluxDB line protocol on /write and /api/v2/write. */
export class VictoriaMetrics extends TestServer {
  constructor(private readonly opts: VictoriaOptions = {}) {
    super('tcs-vm-');
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = [
      `-httpListenAddr=127.0.0.1:${this.port}`,
      `-storageDataPath=${join(this.dir, 'data')}`,
      '-retentionPeriod=100y',
      '-dedup.minScrapeInterval=1ms',
      '-loggerLevel=ERROR',
    ];
    if (this.opts.basicAuth) args.push(`-httpAuth.username=${this.opts.basicAuth.username}`, `-httpAuth.password=${this.opts.basicAuth.password}`);
    this.proc = this.launch('victoria-metrics', args);
    await waitHttp(`${this.url}/health`, this.opts.basicAuth ? [200, 401] : [200], this.proc, this.logPath);
  }

  private authHeaders(): Record<string, string> {
    const a = this.opts.basicAuth;
    return a ? { authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` } : {};
  }

  /** Makes recently written samples visible to queries (VictoriaMetrics buffers them for about a second). */
  async forceFlush(): Promise<void> {
    const res = await fetch(`${this.url}/internal/force_flush`, { headers: this.authHeaders() });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`force_flush: HTTP ${res.status}`);
  }

  /** /api/v1/export for a series selector: one object per series with its labels, values and ms timestamps. */
  async export(match: string): Promise<{ metric: Record<string, string>; values: number[]; timestamps: number[] }[]> {
    await this.forceFlush();
    const q = new URLSearchParams({ 'match[]': match, start: '0' });
    const res = await fetch(`${this.url}/api/v1/export?${q}`, { headers: this.authHeaders() });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`export: HTTP ${res.status}: ${text}`);
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l));
  }
}

export interface InfluxdOptions {
  /** auth-enabled = true, and an admin user created before the database. */
  admin?: { username: string; password: string };
}

/** Debian's influxd 1.6.7 with a generated config: everything under a temp dir, bound to 127.0.0.1, no phoning home. */
export class Influxd1 extends TestServer {
  rpcPort = 0;

  constructor(private readonly opts: InfluxdOptions = {}) {
    super('tcs-influxd-');
  }

  private writeConfig(): string {
    const path = join(this.dir, 'influxdb.conf');
    const d = this.dir;
    writeFileSync(
      path,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${this.rpcPort}"`,
        '[meta]',
        `  dir = "${join(d, 'meta')}"`,
        '  logging-enabled = false',
        '[data]',
        `  dir = "${join(d, 'data')}"`,
        `  wal-dir = "${join(d, 'wal')}"`,
        '  query-log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[continuous_queries]',
        '  enabled = false',
        '[subscriber]',
        '  enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${this.port}"`,
        `  auth-enabled = ${this.opts.admin ? 'true' : 'false'}`,
        '  log-enabled = false',
        '  pprof-enabled = false',
        '[logging]',
        '  level = "warn"',
        '  suppress-logo = true',
        '',
      ].join('\n'),
    );
    return path;
  }

  async start(): Promise<void> {
    const first = this.port === 0;
    if (first) {
      this.port = await freePort();
      this.rpcPort = await freePort();
    }
    const conf = this.writeConfig();
    this.proc = this.launch('influxd', ['run', '-config', conf]);
    await waitHttp(`${this.url}/ping`, [204], this.proc, this.logPath);
    // Without users, 1.x accepts the first admin user's creation unauthenticated, even with auth on.
    if (first && this.opts.admin) {
      const { username, password } = this.opts.admin;
      await this.query(`CREATE USER "${username}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`, undefined, false);
    }
  }

  private authHeaders(): Record<string, string> {
    const a = this.opts.admin;
    return a ? { authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` } : {};
  }

  /**
   * Runs InfluxQL and returns the CSV answer (CSV, not JSON: JSON.parse would round ns timestamps to float64).
   */
  async query(q: string, db?: string, auth = true): Promise<string> {
    const params = new URLSearchParams({ q, epoch: 'ns' });
    if (db) params.set('db', db);
    const res = await fetch(`${this.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/csv', ...(auth ? this.authHeaders() : {}) },
      body: params.toString(),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`influx query "${q}": HTTP ${res.status}: ${text}`);
    return text;
  }

  async createDatabase(db: string): Promise<void> {
    await this.query(`CREATE DATABASE "${db}"`);
  }

  /** Every row of a measurement as records of strings (time as the exact ns decimal). */
  async selectAll(db: string, measurement: string): Promise<Record<string, string>[]> {
    const csv = await this.query(`SELECT * FROM "${measurement}"`, db);
    const lines = csv.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) return [];
    const header = lines[0].split(',');
    return lines.slice(1).map((l) => {
      const cells = l.split(',');
      const rec: Record<string, string> = {};
      header.forEach((h, i) => (rec[h] = cells[i] ?? ''));
      return rec;
    });
  }
}
