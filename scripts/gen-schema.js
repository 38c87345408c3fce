#!/usr/bin/env node
// Generates src/schema-lists.ts from native/schema.h, so the window columns and counters are written in one place only.
//
// Why generate TypeScript from the C++ header rather than the other way round: the C++ struct must exist at
// compile time with no generator step in node-gyp, the fuzzers or the native test Makefile, while tsc always
// runs through npm scripts (build:ts, prepare), which run this first. `--check` exits 1 when the committed
// file is stale (test/unit/schema.test.ts runs it), so an edit to schema.h alone cannot drift from TypeScript.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const HEADER = join(ROOT, 'native', 'schema.h');
const OUT = join(ROOT, 'src', 'schema-lists.ts');

/** The X(...) entries of one `#define NAME(X)` list: [name, ...string arguments]. */
function xMacroList(header, macro) {
  const start = header.indexOf(`#define ${macro}(X)`);
  if (start < 0) throw new Error(`native/schema.h: no #define ${macro}(X)`);
  const lines = header.slice(start).split('\n').slice(1);
  const entries = [];
  for (const line of lines) {
    const m = /^\s*X\((\w+)((?:,\s*"(?:[^"\\]|\\.)*")*)\)\s*\\?\s*$/.exec(line);
    if (!m) throw new Error(`native/schema.h: not an X(...) entry in ${macro}: ${line}`);
    const strings = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1].replace(/\\(.)/g, '$1'));
    entries.push([m[1], ...strings]);
    if (!line.trimEnd().endsWith('\\')) break;
  }
  return entries;
}

function render(header) {
  const list = (macro, keys) =>
    xMacroList(header, macro)
      .map((e) => {
        if (e.length !== keys.length) throw new Error(`native/schema.h: ${macro} entry ${e[0]} needs ${keys.length - 1} strings`);
        return `  { ${keys.map((k, i) => `${k}: ${JSON.stringify(e[i]).replace(/'/g, "\\'").replace(/^"|"$/g, "'")}`).join(', ')} },`;
      })
      .join('\n');
  return `// Generated from native/schema.h by scripts/gen-schema.js (npm run build:ts runs it): edit schema.h, never this file.

/** TCPCAST_WINDOW_COLUMNS: every value column of a window record, in native order. */
export const WINDOW_COLUMNS = [
${list('TCPCAST_WINDOW_COLUMNS', ['name', 'unit', 'description'])}
] as const;

/** TCPCAST_COUNTERS: engine counters, summed over sources. */
export const COUNTERS = [
${list('TCPCAST_COUNTERS', ['name', 'description'])}
] as const;

/** TCPCAST_SERIES_END_REASONS: why a connection series ended. */
export const SERIES_END_REASONS = [
${list('TCPCAST_SERIES_END_REASONS', ['name', 'description'])}
] as const;
`;
}

const text = render(readFileSync(HEADER, 'utf8'));
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('src/schema-lists.ts is stale: run node scripts/gen-schema.js (npm run build:ts does)');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
