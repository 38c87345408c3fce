// `tcpcast packets` formats its rows natively (native/packet_tsv.cc): the bytes must equal the JS formatter's (src/capture/packet-tsv.ts) on real captures and on the hand-made corner cases (IPv6 forms, wraparound, untracked flows), and a reader closing the pipe must end it quietly.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { openCapture } from '../../src/capture';
import { PacketTsvFormatter } from '../../src/capture/packet-tsv';
import { ensureTestCaptures } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const CLI_JS = join(REPO_ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'tcpcast-packets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pcaps: string[] = [];
before(async () => {
  const crafted = join(dir, 'crafted.pcap');
  execFileSync('python3', [join(REPO_ROOT, 'native', 'test', 'crafted_pcap.py'), crafted]);
  pcaps.push(crafted);
  if (!netnsUnavailableReason()) {
    for (const info of await ensureTestCaptures()) if (existsSync(info.path)) pcaps.push(info.path);
  }
});

/** Today's JS path: packet batches to JS, formatted by PacketTsvFormatter. */
async function jsRows(pcap: string): Promise<string> {
  const capture = openCapture({ files: [pcap], perPacket: true });
  const formatter = new PacketTsvFormatter();
  const parts: string[] = [];
  for await (const batch of capture.packetBatches()) parts.push(formatter.format(batch));
  return parts.join('');
}

test('native rows are byte-identical to the JS formatter on every test capture', async () => {
  assert.ok(pcaps.length >= 1);
  for (const pcap of pcaps) {
    const expected = await jsRows(pcap);
    const r = spawnSync(process.execPath, [CLI_JS, 'packets', pcap], { encoding: 'utf8', maxBuffer: 1 << 30 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(expected.length > 0, pcap);
    if (r.stdout !== expected) {
      const a = r.stdout.split('\n');
      const b = expected.split('\n');
      const i = a.findIndex((line, k) => line !== b[k]);
      assert.fail(`${pcap}: first difference at row ${i + 1}:\n  native: ${a[i]}\n  js:     ${b[i]}`);
    }
  }
});

test('a reader that closes the pipe ends the command quietly (| head)', () => {
  const pcap = pcaps[pcaps.length - 1];
  const r = spawnSync('sh', ['-c', `'${process.execPath}' '${CLI_JS}' packets '${pcap}' | head -3`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim().split('\n').length, 3, r.stdout + r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr');
  const p = spawnSync('bash', ['-c', `set -o pipefail; '${process.execPath}' '${CLI_JS}' packets '${pcap}' | head -1 > /dev/null`]);
  assert.equal(p.status, 0, `exit status ${p.status}: ${p.stderr}`);
});
