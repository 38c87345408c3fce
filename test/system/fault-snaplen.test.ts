// Fault: a capture whose snaplen cuts the TCP header (editcap -s 64). It used to give 0 rows, exit 0 and no word; now one warning says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureCapture, TEST_CAPTURES, TEST_CAPTURE_DIR } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';
import { tempDir } from '../lib/capture-fixtures';
import { CLI } from '../lib/cli-child';

const skip = netnsUnavailableReason();

test('windows and replay on a 64-byte-snaplen capture: one warning naming the cause and -s; a full capture gets none', { skip }, async () => {
  const capture = await ensureCapture(TEST_CAPTURES[1], TEST_CAPTURE_DIR);
  const cut = join(tempDir('snaplen'), 's64.pcap');
  execFileSync('editcap', ['-s', '64', capture.path, cut]);

  const w = spawnSync(process.execPath, [CLI, 'windows', cut], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(w.status, 0);
  const warnings = w.stderr.split('\n').filter((l) => l.includes('cut short'));
  assert.equal(warnings.length, 1, `warned once: ${w.stderr}`);
  assert.match(warnings[0], /larger snaplen.*-s 256/);

  const r = spawnSync(process.execPath, [CLI, 'replay', cut, '--no-csv', '--no-dashboard', '--no-forecast', '--stats-interval', '0'], { encoding: 'utf8', timeout: 60_000 });
  const logged = r.stderr.split('\n').filter((l) => l.includes('cut short'));
  assert.equal(logged.length, 1, r.stderr);
  assert.equal(JSON.parse(logged[0]).level, 40, 'a warn log line');

  const ok = spawnSync(process.execPath, [CLI, 'windows', capture.path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(ok.status, 0);
  assert.ok(!ok.stderr.includes('cut short'), ok.stderr);
});
