// The dashboard's browser script: keeps bounded per-series arrays from the SSE stream and redraws uPlot charts at most once per frame.
/// <reference path="../../node_modules/uplot/dist/uPlot.d.ts" />
// A script, not a module (no import/export): tsc emits it as-is and the browser runs it without a bundler.

(() => {
  type Snapshot = import('./history').SnapshotMessage;
  type Windows = import('./history').WindowsMessage;

  // The page keeps each series exactly as the server's snapshot sends it.
  type SeriesState = import('./history').SeriesSnapshot;

  const CHART_HEIGHT_PX = 200;
  const ACTUAL_COLOR = '#2563eb';
  const PREDICTED_COLOR = '#ea580c';

  let historyWindows = 1200;
  let windowMs = 50;
  const series = new Map<number, SeriesState>();
  let dropsT: number[] = [];
  let dropsCount: number[] = [];
  let stats: Record<string, number> = {};
  let aggregateId: number | null = null;
  let flowId: number | null = null;
  let messages = 0;
  let snapshots = 0;
  let frameRequested = false;

  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const aggregateSelect = $<HTMLSelectElement>('aggregate-select');
  const flowSelect = $<HTMLSelectElement>('flow-select');
  const historySelect = $<HTMLSelectElement>('history-select');
  const pauseButton = $<HTMLButtonElement>('pause');
  /** Paused: data keeps arriving (nothing is lost) but the charts hold still, for reading or zooming. */
  let paused = false;
  /** Seconds of history shown (0: all the page keeps). */
  let shownSeconds = 0;

  /** 1000-based units, as network people count: 12.3 kB, 4.5 MB. */
  function scaleBytes(v: number): string {
    const a = Math.abs(v);
    if (a >= 1e9) return `${+(v / 1e9).toFixed(1)} GB`;
    if (a >= 1e6) return `${+(v / 1e6).toFixed(1)} MB`;
    if (a >= 1e3) return `${+(v / 1e3).toFixed(1)} kB`;
    return `${v} B`;
  }

  /** HH:MM:SS only: full dates on every tick are what made the labels overlap. */
  function clockTicks(_u: uPlot, splits: number[]): string[] {
    return splits.map((t) => {
      const d = new Date(t * 1000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    });
  }

  function makeChart(figureId: string, seriesOpts: uPlot.Series[], yLabel: string, yValues?: (u: uPlot, splits: number[]) => string[]): { plot: uPlot; figure: HTMLElement } {
    const figure = $(figureId);
    const data: uPlot.AlignedData = [[], ...seriesOpts.map(() => [] as number[])];
    // Tick labels are drawn on the canvas; the last ones are kept on the figure so tests (and people with devtools) can read them.
    const recordTicks = (axis: 'x' | 'y', format: (u: uPlot, splits: number[]) => string[]) => (u: uPlot, splits: number[]) => {
      const out = format(u, splits);
      figure.dataset[axis === 'x' ? 'xTicks' : 'yTicks'] = JSON.stringify(out);
      return out;
    };
    const plainY = (_u: uPlot, splits: number[]) => splits.map((v) => String(+v.toFixed(3)));
    const plot = new uPlot(
      {
        width: chartWidth(figure),
        height: CHART_HEIGHT_PX,
        series: [{}, ...seriesOpts],
        // space: at least 90 px per time label (HH:MM:SS is ~60 px), so they never touch.
        axes: [{ space: 90, values: recordTicks('x', clockTicks) }, { label: yLabel, size: 70, values: recordTicks('y', yValues ?? plainY) }],
        legend: { live: false },
        // Drag across x to zoom; the page pauses so the zoom is not undone by the next window.
        cursor: { drag: { x: true, y: false } },
        hooks: {
          setSelect: [
            (u: uPlot) => {
              if (u.select.width > 0) setPaused(true);
            },
          ],
          // The visible time range, for tests and devtools (zoom narrows it).
          setScale: [
            (u: uPlot, key: string) => {
              if (key === 'x') figure.dataset.xRange = String((u.scales.x.max ?? 0) - (u.scales.x.min ?? 0));
            },
          ],
        },
      },
      data,
      figure,
    );
    return { plot, figure };
  }

  function chartWidth(figure: HTMLElement): number {
    return Math.max(200, figure.clientWidth - 12);
  }

  const line = (label: string, stroke: string, dashed = false): uPlot.Series => ({
    label,
    stroke,
    width: 1.5,
    dash: dashed ? [6, 3] : undefined,
    spanGaps: false,
    points: { show: false },
  });

  const charts = {
    aggregate: makeChart('chart-aggregate', [line('actual', ACTUAL_COLOR), line('predicted', PREDICTED_COLOR, true)], 'Mbps'),
    flow: makeChart('chart-flow', [line('actual', ACTUAL_COLOR), line('predicted', PREDICTED_COLOR, true)], 'Mbps'),
    lag: makeChart('chart-lag', [line('aggregate', '#7c3aed'), line('flow', '#0d9488', true)], 'ms'),
    rtt: makeChart('chart-rtt', [line('RTT', '#0d9488')], 'ms'),
    bif: makeChart('chart-bif', [line('bytes in flight', '#7c3aed')], 'bytes', (_u, splits) => splits.map(scaleBytes)),
    drops: makeChart('chart-drops', [{ ...line('dropped', '#dc2626'), fill: 'rgba(220,38,38,0.15)' }], 'packets'),
  };

  window.addEventListener('resize', () => {
    for (const { plot, figure } of Object.values(charts)) plot.setSize({ width: chartWidth(figure), height: CHART_HEIGHT_PX });
  });

  /** The user's picks, by name: server ids restart with the daemon, names survive it (and a flow's return). */
  let chosenAggregate: string | null = null;
  let chosenFlow: string | null = null;
  const nameOf = (s: { iface: string; key: string }) => `${s.iface}\u0000${s.key}`;

  function setPaused(on: boolean): void {
    paused = on;
    document.body.dataset.paused = String(on);
    pauseButton.textContent = on ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(on));
    if (!on) schedule();
  }
  pauseButton.addEventListener('click', () => setPaused(!paused));
  historySelect.addEventListener('change', () => {
    shownSeconds = Number(historySelect.value);
    schedule();
  });

  aggregateSelect.addEventListener('change', () => {
    aggregateId = Number(aggregateSelect.value);
    const s = series.get(aggregateId);
    chosenAggregate = s ? nameOf(s) : null;
    schedule();
  });
  flowSelect.addEventListener('change', () => {
    flowId = Number(flowSelect.value);
    const s = series.get(flowId);
    chosenFlow = s ? nameOf(s) : null;
    schedule();
  });

  function label(s: { iface: string; key: string }): string {
    return s.key === 'all' ? `all traffic (${s.iface})` : `${s.key} (${s.iface})`;
  }

  function addSeries(s: SeriesState): void {
    series.set(s.id, s);
    const name = nameOf(s);
    flowSelect.add(new Option(label(s), String(s.id)));
    if (s.key === 'all') {
      aggregateSelect.add(new Option(label(s), String(s.id)));
      const current = aggregateId === null ? undefined : series.get(aggregateId);
      if (name === chosenAggregate || current === undefined) {
        aggregateId = s.id;
        aggregateSelect.value = String(s.id);
      }
    }
    // The user's pick wins whenever it is (back) in the list; otherwise sortFlows() picks the busiest connection.
    const current = flowId === null ? undefined : series.get(flowId);
    const currentIsChosen = current !== undefined && nameOf(current) === chosenFlow;
    if (name === chosenFlow || (!currentIsChosen && (current === undefined || (s.key !== 'all' && current.key === 'all')))) {
      flowId = s.id;
      flowSelect.value = String(s.id);
    }
  }

  /** Mean actual throughput over the shown history: what "busiest" means in the Flow list. */
  function meanMbps(s: SeriesState): number {
    const from = firstShown(s.t);
    let sum = 0;
    let n = 0;
    for (let i = from; i < s.actual.length; i++) {
      const v = s.actual[i];
      if (v !== null && Number.isFinite(v)) {
        sum += v as number;
        n++;
      }
    }
    return n > 0 ? sum / n : 0;
  }

  let lastSort = 0;
  const SORT_EVERY_MS = 1000;
  /**
   * Flows busiest first (links' aggregates last: they have their own chart), at most once a second so the list
   * does not jump under the pointer; until the user picks one, the busiest connection is the one shown.
   */
  function sortFlows(force = false): void {
    const now = Date.now();
    if (!force && now - lastSort < SORT_EVERY_MS) return;
    lastSort = now;
    const ranked = [...series.values()].map((s) => ({ s, mbps: meanMbps(s) }));
    ranked.sort((a, b) => Number(a.s.key === 'all') - Number(b.s.key === 'all') || b.mbps - a.mbps || a.s.id - b.s.id);
    const byId = new Map(Array.from(flowSelect.options, (o) => [o.value, o] as const));
    ranked.forEach(({ s, mbps }, i) => {
      const o = byId.get(String(s.id));
      if (!o) return;
      o.dataset.mbps = mbps.toFixed(3);
      if (flowSelect.options[i] !== o) flowSelect.insertBefore(o, flowSelect.options[i] ?? null);
    });
    const current = flowId === null ? undefined : series.get(flowId);
    const chosenPresent = current !== undefined && nameOf(current) === chosenFlow;
    if (!chosenPresent && ranked.length > 0 && ranked[0].s.key !== 'all') {
      flowId = ranked[0].s.id;
    }
    if (flowId !== null) flowSelect.value = String(flowId);
  }

  /** Index of the first point inside the shown history (all when "all kept"). */
  function firstShown(t: number[]): number {
    if (shownSeconds <= 0 || t.length === 0) return 0;
    const from = t[t.length - 1] - shownSeconds;
    let i = t.length - 1;
    while (i > 0 && t[i - 1] > from) i--;
    return i;
  }

  function shown<T>(t: number[], ...columns: T[][]): [number[], ...T[][]] {
    const from = firstShown(t);
    return [t.slice(from), ...columns.map((c) => c.slice(from))];
  }

  function removeSeries(id: number): void {
    series.delete(id);
    for (const select of [aggregateSelect, flowSelect]) {
      const option = select.querySelector(`option[value="${id}"]`);
      if (option) option.remove();
    }
    if (aggregateId === id) aggregateId = aggregateSelect.options.length > 0 ? Number(aggregateSelect.options[0].value) : null;
    if (flowId === id) flowId = flowSelect.options.length > 0 ? Number(flowSelect.options[0].value) : null;
    if (aggregateId !== null) aggregateSelect.value = String(aggregateId);
    if (flowId !== null) flowSelect.value = String(flowId);
  }

  /** Arrays grow to 1.25x the history, then are cut back: amortised O(1) per point instead of a shift each time. */
  function trim(s: { [k: string]: unknown }, columns: string[]): void {
    const length = (s[columns[0]] as unknown[]).length;
    if (length <= historyWindows * 1.25) return;
    const excess = length - historyWindows;
    for (const c of columns) (s[c] as unknown[]).splice(0, excess);
  }
  const SERIES_COLUMNS = ['t', 'actual', 'predicted', 'rttMs', 'bifBytes', 'lagMs'];

  function onSnapshot(m: Snapshot): void {
    historyWindows = m.historyWindows;
    windowMs = m.windowMs;
    series.clear();
    aggregateSelect.length = 0;
    flowSelect.length = 0;
    aggregateId = null;
    flowId = null;
    for (const s of m.series) addSeries({ ...s });
    sortFlows(true);
    dropsT = m.drops.t;
    dropsCount = m.drops.kernelDropped;
    stats = m.stats;
    snapshots++;
    schedule();
  }

  function onWindows(m: Windows): void {
    for (const id of m.removedSeries) removeSeries(id);
    for (const s of m.newSeries) {
      addSeries({ ...s, t: [], actual: [], predicted: [], rttMs: [], bifBytes: [], lagMs: [], phase: null });
    }
    for (const [id, tS, actual, predicted, rttMs, bifBytes, lagMs] of m.rows) {
      const s = series.get(id);
      if (!s) continue;
      s.t.push(tS);
      s.actual.push(actual);
      s.predicted.push(predicted);
      s.rttMs.push(rttMs);
      s.bifBytes.push(bifBytes);
      s.lagMs.push(lagMs);
      trim(s as unknown as { [k: string]: unknown }, SERIES_COLUMNS);
    }
    for (const [id, phase] of Object.entries(m.phase)) {
      const s = series.get(Number(id));
      if (s) s.phase = phase;
    }
    dropsT.push(m.t);
    dropsCount.push(m.kernelDropped);
    if (dropsT.length > historyWindows * 1.25) {
      dropsT.splice(0, dropsT.length - historyWindows);
      dropsCount.splice(0, dropsCount.length - historyWindows);
    }
    stats = m.stats;
    messages++;
    schedule();
  }

  function schedule(): void {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(render);
  }

  function setChart(chart: { plot: uPlot; figure: HTMLElement }, data: uPlot.AlignedData): void {
    chart.plot.setData(data);
    chart.figure.dataset.points = String(data[0].length);
    const t = data[0] as number[];
    chart.figure.dataset.lastT = t.length ? String(t[t.length - 1]) : '';
  }

  function formatNumber(x: number | null | undefined, digits = 2): string {
    return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
  }

  function showPhase(which: 'aggregate' | 'flow', s: SeriesState | undefined): void {
    const lagEl = $(`lag-${which}`);
    const errorEl = $(`error-${which}`);
    const p = s?.phase;
    if (!s || !p || p.lagMs === null) {
      lagEl.textContent = '–';
      lagEl.dataset.lagMs = '';
      errorEl.textContent = s ? (p && p.predictedWindows > 0 ? `${p.predictedWindows} windows with a forecast: too few or flat` : 'no forecasts yet') : 'no series yet';
    } else {
      const windows = p.lagWindows!;
      lagEl.textContent = `${p.lagMs > 0 ? '+' : ''}${p.lagMs} ms (${windows > 0 ? '+' : ''}${windows} window${Math.abs(windows) === 1 ? '' : 's'})`;
      lagEl.dataset.lagMs = String(p.lagMs);
      const skill = p.mae !== null && p.persistenceMae ? 1 - p.mae / p.persistenceMae : null;
      errorEl.textContent =
        `r = ${formatNumber(p.correlation)} · MAE ${formatNumber(p.mae)} Mbps vs persistence ${formatNumber(p.persistenceMae)} Mbps` +
        (skill === null ? '' : ` (skill ${formatNumber(skill * 100, 0)}%)`) +
        ` · ${p.maeWindows} windows`;
    }
    if (s) lagEl.title = label(s);
  }

  function render(): void {
    frameRequested = false;
    sortFlows();
    const aggregate = aggregateId === null ? undefined : series.get(aggregateId);
    const flow = flowId === null ? undefined : series.get(flowId);
    showPhase('aggregate', aggregate);
    showPhase('flow', flow);
    if (!paused) {
      const none: uPlot.AlignedData = [[], []];
      type Cols = uPlot.AlignedData;
      setChart(charts.aggregate, aggregate ? (shown(aggregate.t, aggregate.actual, aggregate.predicted) as Cols) : [[], [], []]);
      setChart(charts.flow, flow ? (shown(flow.t, flow.actual, flow.predicted) as Cols) : [[], [], []]);
      setChart(charts.rtt, flow ? (shown(flow.t, flow.rttMs) as Cols) : none);
      setChart(charts.bif, flow ? (shown(flow.t, flow.bifBytes) as Cols) : none);
      setChart(charts.drops, shown(dropsT, dropsCount) as Cols);
      // The two series may not share every window: join aligns them on time, with gaps where one is missing.
      const lagTables: uPlot.AlignedData[] = [aggregate ? (shown(aggregate.t, aggregate.lagMs) as Cols) : [[], []], flow ? (shown(flow.t, flow.lagMs) as Cols) : [[], []]];
      setChart(charts.lag, uPlot.join(lagTables));
    }

    const dropped = stats.kernelDropped ?? stats.pcapDropped;
    $('kernel-dropped').textContent = dropped === undefined ? '–' : String(dropped);
    $('stats').textContent = Object.entries(stats)
      .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`)
      .join(' · ');
    $('window-info').textContent = `${windowMs} ms windows · ${series.size} series`;
    document.body.dataset.messages = String(messages);
    document.body.dataset.snapshots = String(snapshots);
    document.body.dataset.series = String(series.size);
  }

  function setConnection(state: 'connecting' | 'open' | 'closed', text: string): void {
    document.body.dataset.state = state;
    $('connection').textContent = text;
  }

  function connect(): void {
    const source = new EventSource('/events');
    source.addEventListener('open', () => setConnection('open', 'live'));
    source.addEventListener('snapshot', (ev) => onSnapshot(JSON.parse((ev as MessageEvent).data)));
    source.addEventListener('windows', (ev) => onWindows(JSON.parse((ev as MessageEvent).data)));
    source.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself. CLOSED (e.g. a proxy answered with an error page): retry here.
      if (source.readyState === EventSource.CLOSED) {
        setConnection('closed', 'disconnected, retrying…');
        setTimeout(connect, 2000);
      } else setConnection('closed', 'reconnecting…');
    });
  }

  render();
  connect();
})();
