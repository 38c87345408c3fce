// Capture-layer test fixtures: real TCP (iperf3) between 'tcc' namespaces recorded with tcpdump, and pcap surgery for damaged files.
import { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, withTopology } from './netns';

export const PREFIX = 'tcc';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tcc-${tag}-`));
}

/** Resolves when `pattern` appears on the child's stderr/stdout (tcpdump says "listening on", iperf3 "Server listening"). */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${seen}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!pattern.test(seen)) reject(new Error(`exited (${code}) before ${pattern}: ${seen}`));
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts an iperf3 server in the receiver namespace and waits until it listens. */
export async function startIperfServer(t: Topology): Promise<ChildProcess> {
  const server = t.spawn(t.receiver.ns, 'iperf3', ['-s', '-1', '--forceflush', '-B', t.receiver.addr4]);
  await waitForOutput(server, /Server listening/);
  return server;
}

/** Runs an iperf3 client (rate-limited so captures stay small) to completion. */
export async function runIperfClient(t: Topology, seconds: number, rateMbit: number, streams = 1): Promise<void> {
  const client = t.spawn(t.sender.ns, 'iperf3', ['-c', t.receiver.addr4, '-t', String(seconds), '-b', `${rateMbit}M`, '-P', String(streams)]);
  const code = await exited(client);
  if (code !== 0) throw new Error(`iperf3 client exited ${code}`);
}

/** Records `seconds` of iperf3 traffic with tcpdump (snaplen 128) on the sender's veth; returns the pcap path. */
export async function recordIperfCapture(path: string, seconds = 1, rateMbit = 20, streams = 1): Promise<string> {
  await withTopology({ prefix: PREFIX }, async (t) => {
    const server = await startIperfServer(t);
    const dump = t.spawn(t.sender.ns, 'tcpdump', ['-i', t.sender.ifname, '-n', '-s', '128', '-U', '-w', path, 'tcp']);
    await waitForOutput(dump, /listening on/);
    await runIperfClient(t, seconds, rateMbit, streams);
    await exited(server);
    dump.kill('SIGINT');
    await exited(dump);
  });
  return path;
}

/** Offsets of every record in a classic pcap file (24-byte header, 16-byte record headers; either byte order). */
export function pcapRecordOffsets(path: string): number[] {
  const buf = readFileSync(path);
  const magic = buf.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const offsets: number[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = little ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (off + 16 + caplen > buf.length) break;
    offsets.push(off);
    off += 16 + caplen;
  }
  return offsets;
}

/** Copies the first `bytes` bytes of a file (to cut a record in the middle) and optionally appends bytes. */
export function truncateCopy(src: string, dst: string, bytes: number, append: Buffer = Buffer.alloc(0)): void {
  const fd = openSync(src, 'r');
  const head = Buffer.alloc(bytes);
  readSync(fd, head, 0, bytes, 0);
  closeSync(fd);
  writeFileSync(dst, Buffer.concat([head, append]));
}
