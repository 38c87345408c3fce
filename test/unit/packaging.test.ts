// What `npm pack` ships (a files list, a real main/types, man page, completions, sources to compile) and that the addon loads from a prebuild when no compiler ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  man: string;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

test('npm pack --dry-run lists what a user needs and nothing of the development tree', () => {
  // --ignore-scripts: `prepare` (tsc) has run already for this test layer.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  for (const need of [pkg.main, pkg.types, 'dist/src/cli.js', 'dist/src/forecast/worker.js', 'dist/src/dashboard/client.js', 'bin/tcpcast', 'binding.gyp', 'native/addon.cc', 'native/linkem/linkem.cc', 'model/model.json', 'model/tcp_forecast.onnx', pkg.man.replace(/^\.\//, ''), 'completions/tcpcast.bash', 'completions/_tcpcast', 'deploy/tcpcast.service', 'README.md', 'package.json']) {
    assert.ok(files.includes(need), `packed: ${need}`);
  }
  for (const f of files) assert.doesNotMatch(f, /^(test|bench|dist\/test|dist\/bench|build|build-native|node_modules|data|scripts\/|\.ci)\/|\.map$|\.env$/, `not packed: ${f}`);
  assert.ok(files.length < 300, `${files.length} files (was 464 without a files list)`);
});

test('main and types resolve to built files; install compiles only when no prebuild fits', () => {
  assert.ok(existsSync(join(ROOT, pkg.main)), pkg.main);
  assert.ok(existsSync(join(ROOT, pkg.types)), pkg.types);
  assert.equal(pkg.scripts.install, 'node-gyp-build');
  assert.ok(pkg.dependencies['node-gyp-build']);
  assert.match(pkg.scripts.prebuilds, /prebuildify --napi --strip --tag-libc/);
});

test('the addon loads from prebuilds/linux-x64 when build/Release is absent (node-gyp-build), and from build/Release here', (t) => {
  const built = join(ROOT, 'build', 'Release', 'tcpcast.node');
  if (!existsSync(built)) return t.skip('addon not built');
  const dir = mkdtempSync(join(tmpdir(), 'tcpcast-prebuild-'));
  try {
    mkdirSync(join(dir, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
    copyFileSync(built, join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'tcpcast.napi.glibc.node'));
    writeFileSync(join(dir, 'package.json'), '{"name":"tcpcast"}');
    const load = require('node-gyp-build') as ((d: string) => { pcapVersion: string }) & { resolve(d: string): string };
    assert.match(load.resolve(dir), /prebuilds\/linux-x64\/tcpcast\.napi\.glibc\.node$/);
    assert.match(load(dir).pcapVersion, /^libpcap version/);
    assert.equal(load.resolve(ROOT), built, 'a local build wins over any prebuild');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
