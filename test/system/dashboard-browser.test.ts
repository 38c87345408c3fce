// End-to-end: headless Chromium opens the dashboard while windows are fed, and must plot them, show the lag, and survive a server restart.
//
// Two feeds: a real-kernel TCP capture replayed in real time through the capture layer and the Pipeline (with a
// persistence forecaster, whose lag is known: +1 window), and generated rows for what real data cannot pin down
// (a leading forecast, 20 series, series renumbered by a restart).
// TODO(lead): once `tcpcast replay` exists, the first test could run it as a child process with --dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import type { WindowRow } from '../../src/features';
import { WINDOW_VALUE_COLUMNS } from '../../src/features';
import { openCapture } from '../../src/capture';
import { Pipeline, type Forecaster } from '../../src/pipeline';
import { createLogger } from '../../src/log';
import { ensureCapture, TEST_CAPTURE_DIR, type CaptureSpec } from '../fixtures/captures';
import { netnsUnavailableReason } from '../lib/netns';

const WINDOW_MS = 50;
const FLOWS = 19; // + the aggregate: the 20 series the dashboard must keep up with
const HISTORY_WINDOWS = 60;
const OUT_DIR = join(__dirname, '..', '..', '..', 'test', 'out');
const WAIT = { timeout: 30_000 };

/** A deterministic, wiggly throughput per series and window (Mbps). */
function throughput(series: number, window: number): number {
  const noise = Math.sin(window * 12.9898 + series * 78.233) * 43758.5453;
  return 20 + 10 * Math.sin(window / (4 + series)) + 6 * (noise - Math.floor(noise)) + series;
}

/**
 * Each series' forecast is its actual shifted by a known number of windows: the aggregate is persistence
 * (trails by one window: +50 ms), flow 1 sees one window ahead (leads: -50 ms), the others trail by two.
 */
const shiftOf = (series: number) => (series === 0 ? 1 : series === 1 ? -1 : 2);

const START_MS = Date.now() - (Date.now() % WINDOW_MS);

/** reversed: the flows come in the opposite order, so a restarted server gives them other ids. */
function rowsFor(window: number, reversed: boolean): WindowRow[] {
  const rows: WindowRow[] = [];
  for (let i = 0; i <= FLOWS; i++) {
    const s = reversed && i > 0 ? FLOWS + 1 - i : i;
    const values = Object.fromEntries(WINDOW_VALUE_COLUMNS.map((c) => [c, 0])) as WindowRow['values'];
    values.throughput_mbps = throughput(s, window);
    values.delay = 30 + 10 * Math.sin(window / 9 + s);
    values.bif = 20_000 + 15_000 * Math.cos(window / 7 + s);
    rows.push({
      windowEndNs: BigInt(START_MS + window * WINDOW_MS) * 1_000_000n,
      iface: 'eth0',
      series: s === 0 ? 'all' : `10.0.0.2:${40000 + s}-10.0.0.1:5201`,
      values,
      predictedThroughput: window > 5 ? throughput(s, window - shiftOf(s)) : null,
    });
  }
  return rows;
}

/** Writes one window close per WINDOW_MS, like the daemon does, with a slowly growing kernel drop counter. */
function feed(dashboard: Dashboard, reversed = false): { stop: () => void; windows: () => number } {
  let window = 0;
  const timer = setInterval(() => {
    window++;
    dashboard.setStats({ kernelDropped: Math.floor(window / 40) * 3, windows: window });
    dashboard.sink.write(rowsFor(window, reversed));
  }, WINDOW_MS);
  return { stop: () => clearInterval(timer), windows: () => window };
}

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

const attr = (page: Page, selector: string, name: string) => page.$eval(selector, (el, n) => el.getAttribute(n), name);

/** Page errors, failed requests and CSP violations, collected as text. */
async function watchProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return problems;
}

/** Real TCP (iperf3 through a 40 Mbit/s bottleneck, four flows), long enough to watch for a few seconds. */
const REPLAY_CAPTURE: CaptureSpec = { name: 'dashboard-cubic-4flows-40mbit', cc: 'cubic', flows: 4, durationS: 8, bottleneckMbit: 40, queueBytes: 48 * 1024 };

/** Predicts each series' next window as its current one: the forecast whose lag is exactly one window. */
const THROUGHPUT_COLUMN = WINDOW_VALUE_COLUMNS.indexOf('throughput_mbps');
const persistence: Forecaster = {
  async predict(batch) {
    const next = new Map<number, number>();
    for (let i = 0; i < batch.count; i++) next.set(batch.series[i], batch.values[i * WINDOW_VALUE_COLUMNS.length + THROUGHPUT_COLUMN]);
    return next;
  },
  stats: () => ({}),
  close: async () => {},
};

/** Replays a capture in real time through the capture layer and the Pipeline into the dashboard. */
function replay(path: string, dashboard: Dashboard): { done: Promise<void>; stop: () => Promise<void> } {
  const capture = openCapture({ files: [path], speed: 1, windowMs: WINDOW_MS });
  const pipeline = new Pipeline({ source: capture, sinks: [dashboard.sink], forecaster: persistence, logger: createLogger('silent'), windowMs: WINDOW_MS });
  const statsTimer = setInterval(() => dashboard.setStats({ ...capture.stats(), ...pipeline.stats() }), 100);
  const done = pipeline.run().finally(() => clearInterval(statsTimer));
  return { done, stop: () => capture.stop() };
}

const netnsUnavailable = netnsUnavailableReason();

test('a real capture replayed through the pipeline: the page plots it, shows persistence lag +50 ms, and reconnects after a restart', { skip: netnsUnavailable, timeout: 180_000 }, async () => {
  mkdirSync(OUT_DIR, { recursive: true });
  const capture = await ensureCapture(REPLAY_CAPTURE, TEST_CAPTURE_DIR, 'tcd');
  let dashboard = await startDashboard({ port: 0, windowMs: WINDOW_MS });
  const port = dashboard.port;
  const browser = await launch();
  let feed: ReturnType<typeof replay> | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems = await watchProblems(page);
    await page.goto(dashboard.url);
    await page.waitForFunction(() => document.body.dataset.state === 'open', undefined, WAIT);

    feed = replay(capture.path, dashboard);
    // While windows arrive: points on the aggregate chart and the lag of a persistence forecast.
    await page.waitForFunction(
      () => Number(document.getElementById('chart-aggregate')!.dataset.points) >= 30 && document.getElementById('lag-aggregate')!.dataset.lagMs === '50',
      undefined,
      WAIT,
    );
    for (const id of ['chart-aggregate', 'chart-flow', 'chart-lag', 'chart-rtt', 'chart-bif', 'chart-drops']) {
      assert.ok(Number(await attr(page, `#${id}`, 'data-points')) > 0, `${id} has points`);
      assert.ok(await page.$(`#${id} .uplot canvas`), `${id} is drawn by uPlot`);
    }
    assert.match((await page.textContent('#error-aggregate'))!, /MAE [\d.]+ Mbps vs persistence [\d.]+ Mbps \(skill 0%\)/);
    await feed.done;

    // Every message the server sent reached the page (the page connected before the first window).
    const windowMessagesSent = dashboard.sink.stats().messagesSent - 1;
    assert.ok(windowMessagesSent >= REPLAY_CAPTURE.durationS! * (1000 / WINDOW_MS) * 0.8, `about one message per window, got ${windowMessagesSent}`);
    await page.waitForFunction((expected) => Number(document.body.dataset.messages) === expected, windowMessagesSent, WAIT);

    // Each iperf3 data connection is a series in the list, and each shows the persistence lag once picked.
    const labels = await page.$$eval('#flow-select option', (options) => options.map((o) => o.textContent!));
    let flowsWithLag = 0;
    for (const label of labels) {
      await page.selectOption('#flow-select', { label });
      await page.waitForFunction((l) => document.getElementById('lag-flow')!.title === l, label, WAIT);
      if ((await attr(page, '#lag-flow', 'data-lag-ms')) === '50') flowsWithLag++;
    }
    assert.ok(flowsWithLag >= REPLAY_CAPTURE.flows + 1, `the aggregate and ${REPLAY_CAPTURE.flows} data flows show +50 ms, got ${flowsWithLag} of ${labels.length}`);
    await page.selectOption('#flow-select', { index: 1 });
    await page.screenshot({ path: join(OUT_DIR, 'dashboard-replay.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no page errors, CSP violations or failed requests');

    // Restart on the same port while nothing is fed, then replay again: the page picks up without a reload.
    await dashboard.close();
    await page.waitForFunction(() => document.body.dataset.state === 'closed', undefined, WAIT);
    dashboard = await startDashboard({ port, windowMs: WINDOW_MS });
    await page.waitForFunction(() => document.body.dataset.state === 'open' && document.body.dataset.snapshots === '2', undefined, WAIT);
    feed = replay(capture.path, dashboard);
    await page.waitForFunction(() => Number(document.getElementById('chart-aggregate')!.dataset.points) > 10, undefined, WAIT);
    await feed.stop();
    await feed.done;
    assert.deepEqual(problems.filter((p) => !/ERR_CONNECTION_REFUSED/.test(p)), []);
  } finally {
    if (feed) {
      await feed.stop();
      await feed.done.catch(() => {});
    }
    await browser.close();
    await dashboard.close();
  }
});

test('generated windows for 20 series: leading and trailing lags, bounded page history, no loss, a restart that renumbers series', async () => {
  mkdirSync(OUT_DIR, { recursive: true });
  let dashboard = await startDashboard({ port: 0, windowMs: WINDOW_MS, historyWindows: HISTORY_WINDOWS });
  const port = dashboard.port;
  let feeder = feed(dashboard);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems = await watchProblems(page);
    await page.goto(dashboard.url);

    await page.waitForFunction(() => document.body.dataset.state === 'open', undefined, WAIT);
    // Enough windows for the lag (it needs a few forecasts), then the aggregate's lag is persistence's +1 window.
    await page.waitForFunction(
      () => Number(document.getElementById('chart-aggregate')!.dataset.points) >= 30 && document.getElementById('lag-aggregate')!.dataset.lagMs === '50',
      undefined,
      WAIT,
    );
    assert.match((await page.textContent('#lag-aggregate'))!, /^\+50 ms/);
    assert.match((await page.textContent('#error-aggregate'))!, /MAE [\d.]+ Mbps vs persistence [\d.]+ Mbps/);

    // Every chart is a uPlot with points in it.
    for (const id of ['chart-aggregate', 'chart-flow', 'chart-lag', 'chart-rtt', 'chart-bif', 'chart-drops']) {
      assert.ok(Number(await attr(page, `#${id}`, 'data-points')) > 0, `${id} has points`);
      assert.ok(await page.$(`#${id} .uplot canvas`), `${id} is drawn by uPlot`);
    }

    // The flow list fills as series appear; picking the flow that sees ahead shows a negative lag.
    assert.equal(await page.$$eval('#flow-select option', (o) => o.length), FLOWS + 1);
    assert.equal(await page.$$eval('#aggregate-select option', (o) => o.length), 1);
    await page.selectOption('#flow-select', { label: '10.0.0.2:40001-10.0.0.1:5201 (eth0)' });
    await page.waitForFunction(() => document.getElementById('lag-flow')!.dataset.lagMs === '-50', undefined, WAIT);
    await page.selectOption('#flow-select', { label: '10.0.0.2:40005-10.0.0.1:5201 (eth0)' });
    await page.waitForFunction(() => document.getElementById('lag-flow')!.dataset.lagMs === '100', undefined, WAIT);

    // The page's arrays stay bounded (history plus at most a quarter before a trim).
    await page.waitForFunction((n) => Number(document.body.dataset.messages) > 2 * n, HISTORY_WINDOWS, WAIT);
    const points = Number(await attr(page, '#chart-flow', 'data-points'));
    assert.ok(points >= HISTORY_WINDOWS && points <= HISTORY_WINDOWS * 1.25, `client history bounded, got ${points}`);
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('kernel-dropped')!.textContent!) && document.getElementById('kernel-dropped')!.textContent !== '0', undefined, WAIT);

    // Nothing is lost on the way: once the feed stops, the page has every message sent since its snapshot.
    feeder.stop();
    const windowMessagesSent = dashboard.sink.stats().messagesSent - 1; // one page; its first message was the snapshot
    await page.waitForFunction((expected) => Number(document.body.dataset.messages) === expected, windowMessagesSent, WAIT);

    await page.screenshot({ path: join(OUT_DIR, 'dashboard.png'), fullPage: true });

    assert.deepEqual(problems, [], 'no page errors, CSP violations or failed requests');

    // Restart on the same port: EventSource reconnects by itself and the new server's snapshot comes first.
    const messagesBefore = Number(await attr(page, 'body', 'data-messages'));
    await dashboard.close();
    await page.waitForFunction(() => document.body.dataset.state === 'closed', undefined, WAIT);
    dashboard = await startDashboard({ port, windowMs: WINDOW_MS, historyWindows: HISTORY_WINDOWS });
    feeder = feed(dashboard, true);
    await page.waitForFunction(() => document.body.dataset.state === 'open' && document.body.dataset.snapshots === '2', undefined, WAIT);
    await page.waitForFunction(
      (before) => Number(document.body.dataset.messages) > before + 10 && Number(document.getElementById('chart-aggregate')!.dataset.points) > 10,
      messagesBefore,
      WAIT,
    );
    // The restarted daemon numbers series afresh; the page keeps the user's flow by name.
    await page.waitForFunction(() => document.getElementById('lag-flow')!.dataset.lagMs === '100', undefined, WAIT);
    assert.equal(await page.$eval('#flow-select', (s) => (s as HTMLSelectElement).selectedOptions[0].label), '10.0.0.2:40005-10.0.0.1:5201 (eth0)');
    await page.screenshot({ path: join(OUT_DIR, 'dashboard-after-restart.png'), fullPage: true });
    // A retry that hit the port while it was closed is the browser's own, expected noise.
    assert.deepEqual(problems.filter((p) => !/ERR_CONNECTION_REFUSED/.test(p)), []);
  } finally {
    feeder.stop();
    await browser.close();
    await dashboard.close();
  }
});

test('the Flow list puts the busiest connection first and shows it; pause and drag-to-zoom hold the charts; history length; bytes in kB; time labels that do not overlap', async () => {
  const dashboard = await startDashboard({ port: 0, windowMs: WINDOW_MS, historyWindows: 400 });
  const feeder = feed(dashboard);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems = await watchProblems(page);
    await page.goto(dashboard.url);
    await page.waitForFunction(() => Number(document.getElementById('chart-flow')!.dataset.points) >= 60, undefined, WAIT);
    await page.waitForTimeout(1200); // one re-sort pass (at most one a second)

    // Busiest first, the link aggregate last; nobody picked, so the busiest connection is the one charted.
    const options = await page.$$eval('#flow-select option', (os) => os.map((o) => ({ label: (o as HTMLOptionElement).label, mbps: Number((o as HTMLOptionElement).dataset.mbps) })));
    assert.equal(options.length, FLOWS + 1);
    assert.match(options[options.length - 1].label, /^all traffic/);
    const flows = options.slice(0, -1);
    for (let i = 1; i < flows.length; i++) assert.ok(flows[i - 1].mbps >= flows[i].mbps, `sorted by throughput: ${JSON.stringify(flows)}`);
    // The feed gives series s a mean of about 20 + 3 + s Mbps: the top of the list is one of the last few.
    assert.match(flows[0].label, /^10\.0\.0\.2:400(1[5-9])-/);
    assert.equal(await page.$eval('#flow-select', (s) => (s as HTMLSelectElement).selectedOptions[0].label), flows[0].label);

    // Units: bytes in flight (5-35 kB in this feed) on a kB axis; time ticks as HH:MM:SS, at most one per 90 px.
    const yTicks = JSON.parse((await attr(page, '#chart-bif', 'data-y-ticks'))!) as string[];
    assert.ok(yTicks.length > 1 && yTicks.every((t) => /^\d+(\.\d)? kB$/.test(t)), `bytes scaled: ${yTicks}`);
    const xTicks = JSON.parse((await attr(page, '#chart-aggregate', 'data-x-ticks'))!) as string[];
    const width = await page.$eval('#chart-aggregate .uplot', (el) => el.getBoundingClientRect().width);
    assert.ok(xTicks.every((t) => /^\d\d:\d\d:\d\d$/.test(t)), `clock labels: ${xTicks}`);
    assert.ok(xTicks.length >= 1 && xTicks.length <= Math.floor(width / 90) + 1, `${xTicks.length} labels on ${width} px`);

    // History length: 2 s of 50 ms windows.
    await page.selectOption('#history-select', '2');
    await page.waitForFunction(() => Number(document.getElementById('chart-flow')!.dataset.points) <= 41, undefined, WAIT);

    // Pause: messages keep coming, the charts hold; Resume: they move again.
    await page.click('#pause');
    assert.equal(await attr(page, 'body', 'data-paused'), 'true');
    const heldT = await attr(page, '#chart-flow', 'data-last-t');
    const messages = Number(await attr(page, 'body', 'data-messages'));
    await page.waitForFunction((m) => Number(document.body.dataset.messages) > m + 10, messages, WAIT);
    assert.equal(await attr(page, '#chart-flow', 'data-last-t'), heldT, 'paused charts do not move');
    await page.click('#pause');
    await page.waitForFunction((t) => document.getElementById('chart-flow')!.dataset.lastT !== t, heldT, WAIT);

    // Zoom: a drag across the aggregate chart narrows its time range and pauses the page.
    await page.selectOption('#history-select', '0');
    await page.waitForFunction(() => Number(document.getElementById('chart-aggregate')!.dataset.points) > 60, undefined, WAIT);
    const before = Number(await attr(page, '#chart-aggregate', 'data-x-range'));
    const box = (await page.$('#chart-aggregate .u-over'))!;
    const b = (await box.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.4, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.6, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset.paused === 'true', undefined, WAIT);
    const after = Number(await attr(page, '#chart-aggregate', 'data-x-range'));
    assert.ok(after > 0 && after < before * 0.5, `zoomed from ${before} s to ${after} s`);
    await page.screenshot({ path: join(OUT_DIR, 'dashboard-controls.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    feeder.stop();
    await browser.close();
    await dashboard.close();
  }
});
