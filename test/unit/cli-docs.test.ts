// Shell completion and the man page are generated from the commander definitions: every command and flag is in each, and the committed files are current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli';
import { allFlags, commandNames, generateAll, GENERATED_FILES } from '../../src/cli-docs';

const ROOT = join(__dirname, '..', '..', '..');
const program = buildProgram();
const generated = generateAll(program);

test('the committed man page and completions equal a fresh generation (run npm run docs:cli after changing a flag)', () => {
  for (const [key, rel] of Object.entries(GENERATED_FILES)) {
    assert.equal(readFileSync(join(ROOT, rel), 'utf8'), generated[key as keyof typeof generated], `${rel} is stale: npm run docs:cli`);
  }
});

test('every command and every flag appears in the man page, the bash and the zsh completion', () => {
  const flags = allFlags(program);
  assert.ok(flags.length > 100, `expected the whole CLI, got ${flags.length} flags`);
  for (const name of commandNames(program)) {
    assert.match(generated.man, new RegExp(`^\\.SS "tcpcast ${name} `, 'm'), `man: ${name}`);
    assert.match(generated.bash, new RegExp(`^    ${name}\\)$`, 'm'), `bash: ${name}`);
    assert.match(generated.zsh, new RegExp(`'${name}:`), `zsh: ${name}`);
  }
  for (const entry of flags) {
    const flag = entry.split(' ')[1];
    assert.ok(generated.man.includes(flag.replace(/-/g, '\\-')), `man: ${entry}`);
    const bashCase = generated.bash.split(`    ${entry.split(' ')[0]})\n`)[1].split('\n      ;;')[0];
    assert.ok(bashCase.split(/[\s"|)]/).includes(flag), `bash: ${entry}`);
    assert.ok(generated.zsh.includes(flag), `zsh: ${entry}`);
  }
});

function complete(words: string[]): string[] {
  const script = `source ${JSON.stringify(join(ROOT, GENERATED_FILES.bash))}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _tcpcast; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completion completes commands, flags and flag values', () => {
  assert.ok(complete(['tcpcast', 're']).includes('replay'));
  assert.deepEqual(complete(['tcpcast', 'replay', '--window']), ['--window-ms']);
  assert.deepEqual(complete(['tcpcast', 'run', '--log-format', '']).sort(), ['auto', 'json', 'pretty']);
  assert.ok(complete(['tcpcast', 'run', '-i', 'l']).includes('lo'));
});

test('the man page formats without groff warnings', (t) => {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: generated.man, encoding: 'utf8' });
  if (r.error) return t.skip('groff not installed');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});
