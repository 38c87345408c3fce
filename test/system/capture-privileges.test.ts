// dropPrivileges(): after the handles are open, the process leaves root and the open live capture keeps working.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { test } from 'node:test';
import { dropPrivileges, openCapture } from '../../src/capture';
import { TcpcastError } from '../../src/errors';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';

const SIZE = WINDOW_VALUE_COLUMNS.indexOf('size');
const PAYLOAD_BYTES = 200_000;

/** Child mode: capture on lo (loopback only), drop to nobody, then make real TCP traffic and count its bytes in windows. */
async function runChild(): Promise<void> {
  const capture = openCapture({ interfaces: ['lo'], bpf: 'tcp', windowMs: 20 });
  dropPrivileges('nobody');
  const ids = { uid: process.getuid!(), gid: process.getgid!(), euid: process.geteuid!() };
  const server = createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const c = connect(port, '127.0.0.1', () => c.end(Buffer.alloc(PAYLOAD_BYTES, 1), resolve));
  });
  await new Promise((r) => setTimeout(r, 100));
  server.close();
  const stopping = capture.stop();
  let bytes = 0;
  const all = new Set<number>();
  for await (const b of capture) {
    for (const s of b.newSeries) if (s.key === 'all') all.add(s.index);
    for (let i = 0; i < b.count; i++) if (all.has(b.series[i])) bytes += b.values[i * WINDOW_VALUE_COLUMNS.length + SIZE];
  }
  await stopping;
  process.stdout.write(JSON.stringify({ ...ids, bytes }));
}

if (process.env.TCC_PRIV_CHILD) {
  runChild().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
} else {
  const notRoot = process.getuid?.() !== 0 ? 'needs root' : undefined;

  test('after dropping to nobody the open capture still sees real TCP, and root is gone', { skip: notRoot }, () => {
    const r = spawnSync(process.execPath, [__filename], { env: { ...process.env, TCC_PRIV_CHILD: '1' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { uid: number; gid: number; euid: number; bytes: number };
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    assert.equal(out.uid, nobody);
    assert.equal(out.euid, nobody);
    // Both directions are captured on lo; the payload is counted once in the client->server direction.
    assert.ok(out.bytes >= PAYLOAD_BYTES, `bytes in windows after the drop: ${out.bytes}`);
  });

  test('unknown user: ERR_PRIVILEGE_DROP, ids unchanged', { skip: notRoot }, () => {
    assert.throws(() => dropPrivileges('tcc-no-such-user'), (err: TcpcastError) => {
      assert.equal(err.code, 'ERR_PRIVILEGE_DROP');
      assert.ok(err.stack?.includes('capture-privileges.test'));
      return true;
    });
    assert.equal(process.getuid!(), 0);
  });
}
