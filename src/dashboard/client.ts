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

  function makeChart(figureId: string, seriesOpts: uPlot.Series[], yLabel: string): { plot: uPlot; figure: HTMLElement } {
    const figure = $(figureId);
    const data: uPlot.AlignedData = [[], ...seriesOpts.map(() => [] as number[])];
    const plot = new uPlot(
      {
        width: chartWidth(figure),
        height: CHART_HEIGHT_PX,
        series: [{}, ...seriesOpts],
        axes: [{}, { label: yLabel, size: 60 }],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
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
    bif: makeChart('chart-bif', [line('bytes in flight', '#7c3aed')], 'bytes'),
    drops: makeChart('chart-drops', [{ ...line('dropped', '#dc2626'), fill: 'rgba(220,38,38,0.15)' }], 'packets'),
  };

  window.addEventListener('resize', () => {
    for (const { plot, figure } of Object.values(charts)) plot.setSize({ width: chartWidth(figure), height: CHART_HEIGHT_PX });
  });

  /** The user's picks, by name: server ids restart with the daemon, names survive it (and a flow's return). */
  let chosenAggregate: string | null = null;
  let chosenFlow: string | null = null;
  const nameOf = (s: { iface: string; key: string }) => `${s.iface}\u0000${s.key}`;

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
    // Default flow: the first connection (the aggregate is already on its own chart), else the aggregate;
    // the user's pick wins whenever it is (back) in the list.
    const current = flowId === null ? undefined : series.get(flowId);
    const currentIsChosen = current !== undefined && nameOf(current) === chosenFlow;
    if (name === chosenFlow || (!currentIsChosen && (current === undefined || (s.key !== 'all' && current.key === 'all')))) {
      flowId = s.id;
      flowSelect.value = String(s.id);
    }
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
    const aggregate = aggregateId === null ? undefined : series.get(aggregateId);
    const flow = flowId === null ? undefined : series.get(flowId);
    const none: uPlot.AlignedData = [[], []];
    setChart(charts.aggregate, aggregate ? [aggregate.t, aggregate.actual, aggregate.predicted] : [[], [], []]);
    setChart(charts.flow, flow ? [flow.t, flow.actual, flow.predicted] : [[], [], []]);
    setChart(charts.rtt, flow ? [flow.t, flow.rttMs] : none);
    setChart(charts.bif, flow ? [flow.t, flow.bifBytes] : none);
    setChart(charts.drops, [dropsT, dropsCount]);
    // The two series may not share every window: join aligns them on time, with gaps where one is missing.
    const lagTables: uPlot.AlignedData[] = [aggregate ? [aggregate.t, aggregate.lagMs] : [[], []], flow ? [flow.t, flow.lagMs] : [[], []]];
    setChart(charts.lag, uPlot.join(lagTables));
    showPhase('aggregate', aggregate);
    showPhase('flow', flow);

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
