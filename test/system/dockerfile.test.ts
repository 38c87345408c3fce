// The Dockerfile built as far as this machine allows (no Docker engine): each build-stage step replayed in a temp dir holding only the files COPY'd before it; the runtime stage checked for a non-root user with two file capabilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** Dockerfile -> stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `unparsable Dockerfile line: ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2].trim());
      stages.push({ from: f![1], name: f![2], steps: [] });
    } else {
      stages[stages.length - 1].steps.push({ op, args: m[2].trim() });
    }
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

test('images: Node 22 or 24 pinned to a patch release; the runtime runs as a non-root user with only CAP_NET_RAW + CAP_NET_ADMIN', () => {
  assert.equal(stages.length, 2, 'multi-stage: build, runtime');
  for (const s of stages) assert.match(s.from, /^node:(22|24)\.\d+\.\d+-bookworm(-slim)?$/, s.from);
  const runtime = stages[1];
  const user = runtime.steps.filter((s) => s.op === 'USER').pop();
  assert.ok(user && user.args !== 'root' && user.args !== '0', 'USER is not root');
  const setcap = runtime.steps.map((s) => s.args).join('\n').match(/setcap (\S+) (\S+)/);
  assert.ok(setcap, 'file capabilities on the capture binary');
  assert.deepEqual(setcap[1].split('=')[0].split(',').sort(), ['cap_net_admin', 'cap_net_raw']);
  const entry = JSON.parse(runtime.steps.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
  assert.equal(entry[0], setcap[2], 'the entrypoint is the binary that carries the capabilities');
  // Build tools stay in the build stage.
  assert.doesNotMatch(runtime.steps.map((s) => s.args).join('\n'), /libpcap-dev|g\+\+/);
});

test('the build stage replayed: each RUN sees only what was copied before it, and the runtime stage finds everything it copies', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpcast-docker-'));
  const env: Record<string, string> = {};
  try {
    for (const step of stages[0].steps) {
      if (step.op === 'WORKDIR') continue;
      if (step.op === 'ENV') {
        const [k, v] = step.args.split('=');
        env[k] = v;
        continue;
      }
      if (step.op === 'COPY') {
        const parts = step.args.split(/\s+/);
        const dest = parts.pop()!;
        for (const src of parts) {
          assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the repository`);
          cpSync(join(ROOT, src), dest.endsWith('/') || parts.length > 1 ? join(dir, dest, src.split('/').pop()!) : join(dir, dest), { recursive: true });
        }
        continue;
      }
      assert.equal(step.op, 'RUN', `unexpected ${step.op}`);
      for (const cmd of step.args.split('&&').map((c) => c.trim())) {
        if (/^(apt-get|rm -rf \/var\/lib\/apt)/.test(cmd)) continue; // the system packages: scripts/setup.sh installs the same here
        if (cmd === 'npm ci --ignore-scripts') {
          // What npm ci needs is there (lock file, .npmrc); its result is this checkout's node_modules (no network here).
          for (const f of ['package.json', 'package-lock.json', '.npmrc']) assert.ok(existsSync(join(dir, f)), `npm ci without ${f}`);
          assert.match(readFileSync(join(dir, '.npmrc'), 'utf8'), /onnxruntime-node-install=skip/);
          symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
          continue;
        }
        if (cmd === 'npm prune --omit=dev') continue; // would edit the shared node_modules; prune needs nothing copied
        assert.match(cmd, /^npm run [\w:]+$/, `a RUN step this test cannot replay: ${cmd}`);
        // Run with only the copied files; node-gyp uses this machine's headers (.npmrc), not the image's /usr/local.
        const r = spawnSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8', env: { ...process.env }, timeout: 600_000 });
        assert.equal(r.status, 0, `${cmd} failed with only the files copied before it:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      }
    }
    assert.equal(env.npm_config_nodedir, '/usr/local', "node-gyp uses the official image's headers");
    // Every COPY --from=build of the runtime stage names a file the build produced.
    for (const step of stages[1].steps.filter((s) => s.op === 'COPY' && s.args.startsWith('--from=build'))) {
      const src = step.args.split(/\s+/)[1];
      assert.ok(existsSync(join(dir, src.replace(/^\/app\//, ''))), `runtime stage copies ${src}, which the build did not make`);
    }
    // The built tree runs: the CLI starts from the copied layout and loads the addon it built.
    const v = spawnSync(process.execPath, [join(dir, 'dist', 'src', 'cli.js'), '--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^libpcap version \d/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
