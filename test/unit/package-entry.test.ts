// package.json `main` points at a real module that exposes the programmatic API.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

it("package.json main resolves to the built entry, which exports capture, pipeline, forecast, sinks and the schema", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
  const api = require(join(ROOT, pkg.main)) as Record<string, unknown>;
  for (const name of ['openCapture', 'Pipeline', 'Forecaster', 'CsvSink', 'InfluxSink', 'TcpcastError', 'WINDOW_COLUMNS', 'COUNTERS', 'CSV_COLUMNS'])
    assert.ok(api[name] !== undefined, `exports ${name}`);
});
