// Decapsulation options (--no-decap, --vxlan-ports and their native form) and the once-per-reason report of frames not analysed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addDecapOptions, DEFAULT_VXLAN_PORTS, parseVxlanPorts, toNativeOptions } from '../../src/capture/options';
import { UndecodedReporter } from '../../src/capture/undecoded';
import { TcpcastError } from '../../src/errors';

function parse(argv: string[], env: Record<string, string> = {}): { decap: boolean; vxlanPorts?: number[] } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = addDecapOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }));
    cmd.parse(argv, { from: 'user' });
    return cmd.opts();
  } finally {
    process.env = saved;
  }
}

test('decapsulation is on by default with VXLAN on 4789 and 8472', () => {
  const n = toNativeOptions({ files: ['x.pcap'] });
  assert.equal(n.decap, true);
  assert.deepEqual(n.vxlanPorts, [4789, 8472]);
  assert.deepEqual([...DEFAULT_VXLAN_PORTS], [4789, 8472]);
  assert.equal(toNativeOptions({ files: ['x.pcap'], decap: false }).decap, false);
});

test('--no-decap and --vxlan-ports (flag and TCPCAST_VXLAN_PORTS)', () => {
  assert.deepEqual(parse([]), { decap: true });
  assert.equal(parse(['--no-decap']).decap, false);
  assert.deepEqual(parse(['--vxlan-ports', '4789, 4790']).vxlanPorts, [4789, 4790]);
  assert.deepEqual(parse([], { TCPCAST_VXLAN_PORTS: '9000' }).vxlanPorts, [9000]);
  assert.deepEqual(parseVxlanPorts(''), []);
});

test('bad VXLAN port lists are ERR_INVALID_OPTION', () => {
  for (const bad of ['0', '65536', 'x', '1.5', '1,2,3,4,5,6,7,8,9']) {
    assert.throws(() => parseVxlanPorts(bad), (e: unknown) => e instanceof TcpcastError && e.code === 'ERR_INVALID_OPTION', bad);
  }
  assert.throws(() => toNativeOptions({ files: ['x'], vxlanPorts: [70000] }), /vxlanPorts/);
});

test('each reason for frames not analysed is reported once, when it first appears', () => {
  const r = new UndecodedReporter();
  assert.deepEqual(r.report({ unknownEncap: 0, truncated: 0 }), []);
  const first = r.report({ unknownEncap: 3, truncated: 0 });
  assert.equal(first.length, 1);
  assert.match(first[0], /unknownEncap/);
  assert.deepEqual(r.report({ unknownEncap: 9 }), []);
  const next = r.report({ unknownEncap: 9, decapDepthLimit: 1, unsupportedLink: 2 });
  assert.equal(next.length, 2);
  assert.ok(next.some((l) => l.includes('decapDepthLimit')) && next.some((l) => l.includes('unsupportedLink')));
});
