// The systemd unit is hardened (systemd-analyze security --offline=true <= 3.0) and takes the InfluxDB token as a credential, never from argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const UNIT = join(__dirname, '..', '..', '..', 'deploy', 'tcpcast.service');

test('systemd-analyze security --offline=true scores deploy/tcpcast.service at 3.0 or less', (t) => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
  if (r.error) return t.skip('systemd-analyze not installed');
  const m = /Overall exposure level for tcpcast\.service: (\d+\.\d+)/.exec(r.stdout + r.stderr);
  assert.ok(m, `no score in:\n${r.stdout}\n${r.stderr}`);
  assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]} > 3.0:\n${r.stdout.split('\n').filter((l) => l.includes('✗')).join('\n')}`);
});

test('the token arrives through LoadCredential= and the credentials directory; capabilities are only NET_RAW + NET_ADMIN', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const value = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(value('LoadCredential'), ['influx-token:/etc/tcpcast/influx-token']);
  assert.ok(value('Environment').includes('TCPCAST_INFLUX_TOKEN_FILE=%d/influx-token'));
  assert.doesNotMatch(value('ExecStart').join(' '), /token/i);
  assert.deepEqual(value('CapabilityBoundingSet'), ['CAP_NET_RAW CAP_NET_ADMIN']);
  assert.deepEqual(value('AmbientCapabilities'), ['CAP_NET_RAW CAP_NET_ADMIN']);
  assert.deepEqual(value('DynamicUser'), ['yes']);
});
