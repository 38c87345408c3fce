// Evaluation plots (actual vs forecasts over time, absolute-error CDF) as SVG via vega-lite, rendered headless.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { SegmentForecasts, ForecasterName } from './evaluate';

/** Enough points to see the dynamics; more makes multi-megabyte SVGs. */
const MAX_POINTS = 1200;
const MAX_SESSIONS = 12;

async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function safeName(session: string): string {
  return session.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Writes timeseries-<session>.svg (up to 12 sessions) and error_cdf.svg; returns the written paths. */
export async function writePlots(dir: string, results: SegmentForecasts[], windowMs: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const sessions = [...new Set(results.map((r) => r.session))].slice(0, MAX_SESSIONS);
  for (const session of sessions) {
    const values: { t_s: number; series: string; mbps: number }[] = [];
    const segs = results.filter((r) => r.session === session);
    const t0 = segs[0].windowEndNs[0];
    for (const r of segs)
      for (let i = 0; i < r.actual.length && values.length < 3 * MAX_POINTS; i++) {
        const t_s = Number(r.windowEndNs[i] - t0) / 1e9;
        values.push({ t_s, series: 'actual', mbps: r.actual[i] }, { t_s, series: 'model', mbps: r.forecasts.model[i] }, { t_s, series: 'persistence', mbps: r.forecasts.persistence[i] });
      }
    const svg = await renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `${session}: next-window throughput (${windowMs} ms windows)`,
      width: 900,
      height: 300,
      data: { values },
      mark: { type: 'line', strokeWidth: 1 },
      encoding: {
        x: { field: 't_s', type: 'quantitative', title: 'time (s)' },
        y: { field: 'mbps', type: 'quantitative', title: 'throughput (Mbps)' },
        color: { field: 'series', type: 'nominal', sort: ['actual', 'model', 'persistence'] },
      },
    });
    const path = join(dir, `timeseries-${safeName(session)}.svg`);
    writeFileSync(path, svg);
    written.push(path);
  }
  // Empirical CDF of |error|, computed here so the chart is a plain line plot.
  const cdf: { abs_error_mbps: number; fraction: number; forecaster: string }[] = [];
  for (const name of ['model', 'persistence', 'ewma', 'moving_average'] as ForecasterName[]) {
    const errors = results.flatMap((r) => Array.from(r.actual, (a, i) => Math.abs(r.forecasts[name][i] - a))).sort((a, b) => a - b);
    const step = Math.max(1, Math.floor(errors.length / 400));
    for (let i = 0; i < errors.length; i += step) cdf.push({ abs_error_mbps: errors[i], fraction: (i + 1) / errors.length, forecaster: name });
    if (errors.length) cdf.push({ abs_error_mbps: errors[errors.length - 1], fraction: 1, forecaster: name });
  }
  const svg = await renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'CDF of absolute forecast error',
    width: 500,
    height: 300,
    data: { values: cdf },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'abs_error_mbps', type: 'quantitative', title: '|forecast - actual| (Mbps)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of windows' },
      color: { field: 'forecaster', type: 'nominal' },
    },
  });
  const path = join(dir, 'error_cdf.svg');
  writeFileSync(path, svg);
  written.push(path);
  return written;
}
