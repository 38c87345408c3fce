// Evaluation plots as SVG via vega-lite, rendered headless: a 10 s zoom with the interval band, a reliability diagram, the error CDF.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { ForecasterName, SegmentForecasts } from './evaluate';

const MAX_SESSIONS = 12;
/** The zoomed panel: 10 s is 200 windows at 50 ms, few enough that model, persistence and actual can be told apart. */
const ZOOM_SECONDS = 10;
/** Series whose mean throughput is below this (Mbit/s) carry a few ACKs, not a transfer: plotting them says nothing. */
export const IDLE_MBPS = 0.05;
const POINT_FORECASTERS: ForecasterName[] = ['model', 'persistence', 'ewma', 'moving_average', 'quantile_baseline'];

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

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}

/**
 * Writes, per horizon: zoom-<horizon>-<session>.svg (the busiest 10 s of each non-idle session: actual, the
 * served model's p50 and p10-p90 band, persistence), reliability-<horizon>.svg (nominal vs observed share of
 * actuals below each quantile, model and quantile baseline) and error_cdf-<horizon>.svg (|error| on a log axis).
 * Returns the written files and the sessions left out as idle.
 */
export async function writePlots(dir: string, results: SegmentForecasts[], windowMs: number): Promise<{ written: string[]; skipped: string[] }> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const labels = results.length ? Object.keys(results[0].horizons) : [];
  const first = labels[0];
  const sessions = [...new Set(results.map((r) => r.session))];
  const active = sessions.filter((s) => mean(results.filter((r) => r.session === s).flatMap((r) => Array.from(r.horizons[first].actual))) >= IDLE_MBPS);
  const skipped = sessions.filter((s) => !active.includes(s));
  const zoomWindows = Math.round((ZOOM_SECONDS * 1000) / windowMs);
  for (const label of labels) {
    for (const session of active.slice(0, MAX_SESSIONS)) {
      // The longest segment of the session, and in it the 10 s with the most variation (where forecasts differ).
      const seg = results.filter((r) => r.session === session).sort((a, b) => b.windowEndNs.length - a.windowEndNs.length)[0];
      const h = seg.horizons[label];
      const n = h.actual.length;
      let from = 0;
      let bestVar = -1;
      for (let s = 0; s + zoomWindows <= n || s === 0; s += Math.max(1, Math.floor(zoomWindows / 4))) {
        const part = h.actual.subarray(s, Math.min(n, s + zoomWindows));
        const m = mean(part);
        const v = part.reduce((a, x) => a + (x - m) ** 2, 0);
        if (v > bestVar) [bestVar, from] = [v, s];
        if (s + zoomWindows >= n) break;
      }
      const to = Math.min(n, from + zoomWindows);
      const t0 = seg.windowEndNs[from];
      const lines: { t_s: number; series: string; mbps: number }[] = [];
      const band: { t_s: number; p10: number; p90: number }[] = [];
      for (let i = from; i < to; i++) {
        const t_s = Number(seg.windowEndNs[i] - t0) / 1e9;
        lines.push({ t_s, series: 'actual', mbps: h.actual[i] }, { t_s, series: 'model p50', mbps: h.forecasts.model.p50[i] }, { t_s, series: 'persistence', mbps: h.forecasts.persistence.p50[i] });
        band.push({ t_s, p10: h.forecasts.model.p10![i], p90: h.forecasts.model.p90![i] });
      }
      const svg = await renderSvg({
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `${session}: ${label} horizon, ${ZOOM_SECONDS} s zoom (band: served p10-p90)`,
        width: 900,
        height: 300,
        layer: [
          { data: { values: band }, mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { x: { field: 't_s', type: 'quantitative', title: 'time (s)' }, y: { field: 'p10', type: 'quantitative', title: 'throughput (Mbit/s)' }, y2: { field: 'p90' } } },
          {
            data: { values: lines },
            mark: { type: 'line', strokeWidth: 1.2 },
            encoding: {
              x: { field: 't_s', type: 'quantitative' },
              y: { field: 'mbps', type: 'quantitative' },
              color: { field: 'series', type: 'nominal', sort: ['actual', 'model p50', 'persistence'], scale: { range: ['#000000', '#4c78a8', '#e45756'] } },
              strokeDash: { field: 'series', type: 'nominal', sort: ['actual', 'model p50', 'persistence'], scale: { range: [[1, 0], [1, 0], [4, 3]] } },
            },
          },
        ],
      });
      const path = join(dir, `zoom-${label}-${safeName(session)}.svg`);
      writeFileSync(path, svg);
      written.push(path);
    }

    const runs = results.filter((r) => active.includes(r.session)).map((r) => r.horizons[label]);
    // Reliability: nominal level vs the observed share of actuals below that quantile.
    const reliability: { nominal: number; observed: number; forecaster: string }[] = [];
    for (const name of ['model', 'quantile_baseline'] as ForecasterName[]) {
      for (const [q, key] of [[0.1, 'p10'], [0.5, 'p50'], [0.9, 'p90']] as const) {
        let below = 0, total = 0;
        for (const r of runs) {
          const f = r.forecasts[name][key]!;
          for (let i = 0; i < r.actual.length; i++) (below += r.actual[i] < f[i] ? 1 : 0), total++;
        }
        if (total) reliability.push({ nominal: q, observed: below / total, forecaster: name });
      }
    }
    const diag = [{ nominal: 0, observed: 0, forecaster: 'ideal' }, { nominal: 1, observed: 1, forecaster: 'ideal' }];
    const rel = await renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `Reliability, ${label} horizon: share of actuals below each quantile`,
      width: 320,
      height: 320,
      data: { values: [...diag, ...reliability] },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'nominal', type: 'quantitative', title: 'nominal quantile', scale: { domain: [0, 1] } },
        y: { field: 'observed', type: 'quantitative', title: 'observed share below', scale: { domain: [0, 1] } },
        color: { field: 'forecaster', type: 'nominal' },
      },
    });
    const relPath = join(dir, `reliability-${label}.svg`);
    writeFileSync(relPath, rel);
    written.push(relPath);

    // Empirical CDF of |error| of each forecaster's p50 on a log axis (errors span orders of magnitude).
    const cdf: { abs_error_mbps: number; fraction: number; forecaster: string }[] = [];
    for (const name of POINT_FORECASTERS) {
      const errors = runs.flatMap((r) => Array.from(r.actual, (a, i) => Math.max(1e-4, Math.abs(r.forecasts[name].p50[i] - a)))).sort((a, b) => a - b);
      const step = Math.max(1, Math.floor(errors.length / 400));
      for (let i = 0; i < errors.length; i += step) cdf.push({ abs_error_mbps: errors[i], fraction: (i + 1) / errors.length, forecaster: name });
      if (errors.length) cdf.push({ abs_error_mbps: errors[errors.length - 1], fraction: 1, forecaster: name });
    }
    const svg = await renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `CDF of absolute error of the p50, ${label} horizon`,
      width: 500,
      height: 300,
      data: { values: cdf },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'abs_error_mbps', type: 'quantitative', title: '|forecast - actual| (Mbit/s, log)', scale: { type: 'log' } },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of forecasts' },
        color: { field: 'forecaster', type: 'nominal' },
      },
    });
    const path = join(dir, `error_cdf-${label}.svg`);
    writeFileSync(path, svg);
    written.push(path);
  }
  return { written, skipped };
}

