// The dashboard page and its stylesheet; no inline script or style, so the CSP can stay at default-src 'self'.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tcpcast live dashboard</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/uPlot.min.css">
<link rel="stylesheet" href="/dashboard.css">
</head>
<body data-state="connecting" data-messages="0" data-snapshots="0" data-series="0" data-paused="false">
<header>
  <h1>tcpcast</h1>
  <span id="connection" class="connection">connecting…</span>
  <span id="window-info"></span>
</header>
<details class="stats"><summary>daemon counters</summary><div id="stats"></div></details>
<section class="controls">
  <label>Aggregate <select id="aggregate-select"></select></label>
  <label>Flow <select id="flow-select" title="connections, busiest first (mean throughput over the shown history)"></select></label>
  <label>History <select id="history-select">
    <option value="0" selected>all kept</option>
    <option value="300">5 min</option>
    <option value="60">1 min</option>
    <option value="30">30 s</option>
    <option value="10">10 s</option>
    <option value="2">2 s</option>
  </select></label>
  <button id="pause" type="button" aria-pressed="false">Pause</button>
  <span class="hint-inline">drag across a chart to zoom (pauses); Resume goes live again</span>
</section>
<section class="cards">
  <div class="card">
    <h2>Aggregate: forecast lag</h2>
    <div class="lag" id="lag-aggregate" data-lag-ms="">–</div>
    <div class="detail" id="error-aggregate"></div>
  </div>
  <div class="card">
    <h2>Flow: forecast lag</h2>
    <div class="lag" id="lag-flow" data-lag-ms="">–</div>
    <div class="detail" id="error-flow"></div>
  </div>
  <div class="card">
    <h2>Kernel drops</h2>
    <div class="lag" id="kernel-dropped">–</div>
    <div class="detail">packets the kernel dropped before capture saw them</div>
  </div>
</section>
<p class="hint">Lag: shift of the predicted series against the actual one at the peak of their cross-correlation over the last windows; positive means the prediction trails, negative means it leads. Persistence (repeating the last window) trails by one window.</p>
<section class="charts">
  <figure class="chart" id="chart-aggregate" data-points="0"><figcaption>Aggregate throughput, Mbps: actual vs predicted</figcaption></figure>
  <figure class="chart" id="chart-flow" data-points="0"><figcaption>Flow throughput, Mbps: actual vs predicted</figcaption></figure>
  <figure class="chart" id="chart-lag" data-points="0"><figcaption>Measured lag, ms (aggregate and flow)</figcaption></figure>
  <figure class="chart" id="chart-rtt" data-points="0"><figcaption>Flow RTT, ms</figcaption></figure>
  <figure class="chart" id="chart-bif" data-points="0"><figcaption>Flow bytes in flight</figcaption></figure>
  <figure class="chart" id="chart-drops" data-points="0"><figcaption>Kernel drops per window</figcaption></figure>
</section>
<script src="/uPlot.min.js"></script>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
body { font-family: system-ui, sans-serif; margin: 0 1rem 1rem; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; padding: .5rem 0; border-bottom: 1px solid #d8dce3; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: .85rem; font-weight: 600; margin: 0 0 .3rem; color: #4a5364; }
.connection { padding: .1rem .5rem; border-radius: .8rem; font-size: .8rem; background: #e3e6eb; }
body[data-state="open"] .connection { background: #d4f2dc; color: #17652e; }
body[data-state="closed"] .connection { background: #f8d9d9; color: #8a1c1c; }
.stats { font-size: .8rem; color: #4a5364; font-variant-numeric: tabular-nums; margin-top: .4rem; }
.stats summary { cursor: pointer; }
.controls { display: flex; gap: 1.5rem; margin: .7rem 0; }
.controls { align-items: center; flex-wrap: wrap; }
.controls select { min-width: 14rem; }
#history-select { min-width: 6rem; }
#pause { padding: .2rem .8rem; }
body[data-paused="true"] #pause { background: #fde68a; }
.hint-inline { font-size: .75rem; color: #6b7486; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .7rem; }
.card { background: #fff; border: 1px solid #d8dce3; border-radius: .4rem; padding: .6rem .8rem; }
.lag { font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.detail { font-size: .8rem; color: #4a5364; font-variant-numeric: tabular-nums; }
.hint { font-size: .75rem; color: #6b7486; margin: .4rem 0 .7rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr)); gap: .7rem; }
.chart { background: #fff; border: 1px solid #d8dce3; border-radius: .4rem; margin: 0; padding: .4rem; min-width: 0; }
.chart figcaption { font-size: .8rem; font-weight: 600; color: #4a5364; margin-bottom: .2rem; }
`;

/** Linked from the page so the browser does not ask for /favicon.ico (a 404 in its console otherwise). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M1 12 L5 6 L9 9 L15 2" fill="none" stroke="#2563eb" stroke-width="2"/></svg>`;
