import type { ScenarioResult } from './result';
import type { CostMinute } from './capacity';
import type { StrategyResult } from './runner';
import { decidedByText, failureSourcesText, percent } from './summary';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly [number, number][];
}

export interface ChartOptions {
  /** Top of the y-axis; default the data's maximum plus 10 %. */
  readonly yMax?: number;
  /** Right end of the x-axis, seconds since the release: the same for both strategies of a scenario. */
  readonly xMax?: number;
  /** A vertical marker: seconds since the release, and its label. */
  readonly marker?: { readonly t: number; readonly label: string };
  /** A y value as a tick label. */
  readonly yTick?: (v: number) => string;
  /** Pixels between the legend's entries (short labels fit more). @default 150 */
  readonly legendStep?: number;
  /** Top of the y-axis when every value is 0 (1 % for a rate: 0.01). @default 2 (whole ticks: 0, 1, 2) */
  readonly zeroTop?: number;
}

/** The smallest of 1, 2 or 5 times a power of ten at or above `v` (> 0): an axis top that reads. */
export function niceTop(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((f) => f * p >= v * (1 - 1e-12)) ?? 10) * p;
}

/** Seconds since the release at which a strategy's release was stopped or its hook failed; null if never. */
export function stopSeconds(r: StrategyResult): number | null {
  const stop = r.timeline.find((e) => /^stopped: |hook (Failed|TimedOut)$|^watchdog (stop-deployment|fail-bake)\b/.test(e.what));
  return stop ? stop.t : null;
}

/** The reason the pre-traffic hook failed the release, when it did (its config checks or probes). */
export function preTrafficHookReason(r: StrategyResult): string | null {
  const failed = r.timeline.some((e) => /^BeforeAllowTraffic hook (Failed|TimedOut)$/.test(e.what));
  return failed && r.decidedBy ? decidedByText(r) ?? null : null;
}

/** The x extent shared by both strategies' charts of a scenario: their data, at least a minute. */
export function sharedXMax(results: readonly StrategyResult[]): number {
  return Math.max(60, ...results.flatMap((r) => [...r.series.t, ...r.series.minutes.map((m) => m.t)]));
}

/** Whole-number minute ticks from 0 to the axis' end, at most six, the end included. */
export function minuteTicks(xMaxSeconds: number): number[] {
  const end = xMaxSeconds / 60;
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => end / s <= 5) ?? Math.ceil(end / 5);
  const ticks: number[] = [];
  for (let m = 0; m < end - step / 4; m += step) ticks.push(m);
  return [...ticks, +end.toFixed(1)];
}

const percentTick = (v: number) => `${+(v * 100).toPrecision(2)} %`;

/** A line chart as inline SVG: no script, no network. */
export function svgChart(title: string, series: readonly Series[], yLabel: string, opts: ChartOptions = {}): string {
  const W = 460;
  const H = 170;
  const L = 46;
  const B = 26;
  // The chart starts at the release; the warm-up before it is left out.
  series = series.map((s) => ({ ...s, points: s.points.filter(([t]) => t >= 0) }));
  const all = series.flatMap((s) => s.points);
  const xMax = opts.xMax ?? Math.max(60, ...all.map((p) => p[0]));
  const dataMax = Math.max(0, ...all.map((p) => p[1]));
  // Nothing above zero: an axis of 0 to one unit, not of 0 to 1e-9.
  const top = opts.yMax ?? (dataMax > 0 ? niceTop(dataMax * 1.1) : (opts.zeroTop ?? 2));
  const yTick = opts.yTick ?? ((v: number) => String(+v.toPrecision(2)));
  const x = (v: number) => L + (Math.min(v, xMax) / xMax) * (W - L - 10);
  const y = (v: number) => H - B - (Math.min(v, top) / top) * (H - B - 20);
  const lines = series
    .filter((s) => s.points.length)
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${L + 8 + i * (opts.legendStep ?? 150)}" y="14" fill="${s.color}" font-size="11">■ ${esc(s.label)}</text>`).join('');
  const yTicks = [0, 0.5, 1].map((f) => `<text x="4" y="${y(top * f) + 4}" font-size="10">${esc(yTick(top * f))}</text>`).join('');
  const xTicks = minuteTicks(xMax)
    .map((m) => `<text x="${x(m * 60).toFixed(1)}" y="${H - 14}" font-size="10" text-anchor="middle">${m}</text>`)
    .join('');
  const marker = opts.marker
    ? `<g class="marker"><line x1="${x(opts.marker.t).toFixed(1)}" x2="${x(opts.marker.t).toFixed(1)}" y1="20" y2="${H - B}" stroke="#c53030" stroke-dasharray="4 3" stroke-width="1.5"/><text x="${(x(opts.marker.t) + 3).toFixed(1)}" y="30" font-size="10" fill="#c53030">${esc(opts.marker.label)}</text><title>${esc(opts.marker.label)} at ${(opts.marker.t / 60).toFixed(2)} min</title></g>`
    : '';
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect x="${L}" y="20" width="${W - L - 10}" height="${H - B - 20}" fill="#fafafa" stroke="#ccc"/>${yTicks}${xTicks}${legend}${lines}${marker}
<text x="${W / 2}" y="${H - 2}" font-size="10" text-anchor="middle">minutes since the release (${esc(yLabel)})</text></svg></figure>`;
}

/** A rate chart's axis: a readable top above the data, at most 100 %; 0-1 % when nothing failed. */
function rateTop(series: readonly Series[]): Pick<ChartOptions, 'yMax' | 'zeroTop'> {
  const max = Math.max(0, ...series.flatMap((v) => v.points.map((p) => p[1])));
  return max > 0 ? { yMax: Math.min(1, niceTop(max * 1.1)) } : { zeroTop: 0.01 };
}

const detection = (r: StrategyResult) => (r.detectionSeconds === null ? '—' : `${r.detectionSeconds} s`);

function strategyBlock(name: string, r: StrategyResult, xMax: number): string {
  const versions = [...new Set(r.series.minutes.map((m) => m.version))];
  const colors = ['#2b6cb0', '#c53030', '#2f855a', '#b7791f'];
  const perVersion = (f: (m: StrategyResult['series']['minutes'][number]) => number | null) =>
    versions.map((v, i) => ({
      label: `v${v}`,
      color: colors[i % colors.length],
      points: r.series.minutes.filter((m) => m.version === v && f(m) !== null).map((m) => [m.t, f(m) as number] as [number, number]),
    }));
  // A rate's axis ends at 100 %, however the margin above the data falls.
  const errorRates = perVersion((m) => (m.requests ? m.errors / m.requests : null));
  const stop = stopSeconds(r);
  const chart = { xMax, ...(stop !== null ? { marker: { t: stop, label: 'stopped' } } : {}) };
  const hookReason = preTrafficHookReason(r);
  const layerNames = [...new Set(r.layers.flatMap((l) => Object.keys(l.layers)))];
  const layerRows = r.layers
    .filter((_, i) => i % Math.max(1, Math.ceil(r.layers.length / 12)) === 0)
    .map((l) => `<tr><td>${(l.t / 60).toFixed(1)}</td>${layerNames.map((n) => `<td class="${esc(l.layers[n] ?? '')}">${esc(l.layers[n] ?? '')}</td>`).join('')}</tr>`)
    .join('');
  return `<section class="strategy"><h3>${esc(name)}: ${esc(r.outcome)}</h3>
<p>max traffic to the new version ${r.maxTrafficPercent} %; ${r.userRequestsToNewVersion} user requests to it, ${r.failedUserRequests} failed;
detection ${detection(r)}${stop !== null ? `; stopped at ${(stop / 60).toFixed(2)} min` : ''}</p>
${r.userTraffic ? `<p>where the new version's failed requests came from: ${esc(failureSourcesText(r.userTraffic))}</p>` : ''}
${stagesHtml(r)}
${hookReason ? `<p class="reason">stopped by the pre-traffic hook (BeforeAllowTraffic), before any user traffic: ${esc(hookReason)}</p>` : r.decidedBy ? `<p class="reason">decided by ${esc(decidedByText(r) ?? '')}</p>` : ''}
${svgChart('new version traffic share', [{ label: 'share', color: '#2b6cb0', points: r.series.t.map((t, i) => [t, r.series.weight[i]] as [number, number]) }], 'share of traffic, %', { ...chart, yMax: 1, yTick: percentTick })}
${svgChart('user error rate per version', errorRates, 'failed requests, %', { ...chart, ...rateTop(errorRates), yTick: percentTick })}
${svgChart('p99 latency per version (ms)', perVersion((m) => m.p99), 'ms', chart)}
${costCharts(r, chart)}
${layerNames.length ? `<table class="layers"><tr><th>min</th>${layerNames.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>${layerRows}</table>` : ''}
<ol class="timeline">${r.timeline.map((e) => `<li><b>${(e.t / 60).toFixed(2)} min</b> ${esc(e.what)}${hookReason && /^BeforeAllowTraffic hook (Failed|TimedOut)$/.test(e.what) ? `: ${esc(hookReason)}` : ''}</li>`).join('')}</ol></section>`;
}

/**
 * The state table's write units per minute, in all and by kind of item, and the longest time the
 * telemetry extension held an invocation of the guarded function in each minute.
 */
function costCharts(r: StrategyResult, chart: ChartOptions): string {
  if (!r.cost.length) return '';
  const colors: Record<string, string> = { all: '#222', deployment: '#2b6cb0', active: '#c53030', config: '#2f855a', watch: '#b7791f', other: '#718096' };
  const kinds = Object.keys(r.cost[0].writeUnitsByKind) as (keyof CostMinute['writeUnitsByKind'])[];
  const units = [
    { label: 'all', color: colors.all, points: r.cost.map((m) => [m.t, m.writeUnits] as [number, number]) },
    ...kinds.filter((k) => r.cost.some((m) => m.writeUnitsByKind[k] > 0)).map((k) => ({ label: k, color: colors[k], points: r.cost.map((m) => [m.t, m.writeUnitsByKind[k]] as [number, number]) })),
  ];
  return `${svgChart('state table write units per minute', units, 'write units', { ...chart, legendStep: 68 })}
${svgChart('added latency per invocation (telemetry extension, ms)', [{ label: 'longest hold', color: '#c53030', points: r.cost.map((m) => [m.t, m.maxAddedLatencyMs] as [number, number]) }], 'ms', chart)}`;
}

/** A staged release's stages: each one's outcome, traffic, requests and exposure; the charts below are the last one's. */
function stagesHtml(r: StrategyResult): string {
  if (!r.stages) return '';
  const rows = r.stages
    .map((s) => `<tr><td>${esc(s.name)}</td><td>${percent(s.trafficShare)}</td><td>${esc(s.outcome)}</td><td>${s.maxTrafficPercent} %</td><td>${s.userRequestsToNewVersion} of ${s.requests}</td><td>${s.failedUserRequests}</td><td>${percent(s.exposure)}</td><td class="reason">${esc(s.decidedBy ? `${s.decidedBy.layer}: ${s.decidedBy.signal}` : '—')}</td></tr>`)
    .join('');
  return `<p>stages reached: ${r.stagesReached}; fleet exposure ${percent(r.fleetExposure)} (the share of all user requests the new version served)</p>
<table class="stages"><tr><th>stage</th><th>share of users</th><th>outcome</th><th>max share</th><th>requests to the new version</th><th>failed</th><th>exposure</th><th>decided by</th></tr>${rows}</table>
<p>The charts and the timeline below are stage ${esc(r.stages[r.stages.length - 1].name)}'s.</p>`;
}

/** Whether a strategy's outcome is the one the scenario expects: the colour of its cell. */
const outcomeClass = (r: StrategyResult, s: ScenarioResult) => (r.outcome === s.expect.outcome ? 'met' : 'not-met');

/**
 * The summary at the top: one row per scenario, both strategies, each row linking to its section.
 * Stages and fleet exposure only when a scenario has stages, so that it fits a 1,400 px window.
 */
function summaryHtml(results: readonly ScenarioResult[]): string {
  const staged = results.some((s) => s.stages?.length);
  const cells = (r: StrategyResult, s: ScenarioResult) =>
    `<td class="${outcomeClass(r, s)}">${esc(r.outcome)}</td><td>${r.maxTrafficPercent} %</td><td>${r.failedUserRequests.toLocaleString('en-US')}</td><td>${detection(r)}</td>` +
    (staged ? `<td>${r.stagesReached} of ${s.stages?.length ?? 1}</td><td>${percent(r.fleetExposure)}</td>` : '');
  const rows = results
    .map(
      (s) =>
        `<tr><td class="name"><a href="#${esc(s.name)}">${esc(s.name)}</a></td><td class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'met' : 'not met'}</td>${cells(s.strategies.watchdog, s)}${cells(s.strategies.native, s)}<td class="reason">${esc(decidedByText(s.strategies.watchdog) ?? '—')}</td></tr>`,
    )
    .join('\n');
  const head = `<th>outcome</th><th>max share</th><th>failed requests</th><th>detection</th>${staged ? '<th>stages reached</th><th>fleet exposure</th>' : ''}`;
  const span = staged ? 6 : 4;
  return `<table class="summary"><thead><tr><th rowspan="2">scenario</th><th rowspan="2">expectations</th><th colspan="${span}">watchdog</th><th colspan="${span}">native CodeDeploy alarm rollback</th><th rowspan="2">decided by (watchdog)</th></tr>
<tr>${head}${head}</tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** The failed user requests the watchdog saved against native over all scenarios, in one sentence. */
function headline(results: readonly ScenarioResult[]): string {
  const w = results.reduce((a, s) => a + s.strategies.watchdog.failedUserRequests, 0);
  const n = results.reduce((a, s) => a + s.strategies.native.failedUserRequests, 0);
  const f = (v: number) => v.toLocaleString('en-US');
  const over = `over ${results.length} scenario${results.length === 1 ? '' : 's'}`;
  return n >= w
    ? `<p class="headline">The watchdog saved ${f(n - w)} failed user requests against native CodeDeploy alarm rollback: ${f(w)} failed instead of ${f(n)}, ${over}.</p>`
    : `<p class="headline">The watchdog let ${f(w - n)} more user requests fail than native CodeDeploy alarm rollback: ${f(w)} failed instead of ${f(n)}, ${over}.</p>`;
}

/** One self-contained page: a summary table, then every scenario with both strategies, charts as inline SVG. */
export function renderReport(results: readonly ScenarioResult[]): string {
  const body = results
    .map((s) => {
      const xMax = sharedXMax([s.strategies.watchdog, s.strategies.native]);
      return `<article id="${esc(s.name)}"><h2>${esc(s.name)} <span class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'expectations met' : 'expectations not met'}</span></h2>
<p>${esc(s.description)}</p>${s.failures.length ? `<p class="fail">${esc(s.failures.join('; '))}</p>` : ''}
<div class="pair">${strategyBlock('watchdog', s.strategies.watchdog, xMax)}${strategyBlock('native CodeDeploy alarm rollback', s.strategies.native, xMax)}</div><p><a href="#summary">back to the summary</a></p></article>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canary-watchdog rehearsal</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h2 span{font-size:12px;padding:2px 6px;border-radius:4px}.pass{background:#c6f6d5}.fail{background:#fed7d7}
.pair{display:flex;gap:2em;flex-wrap:wrap}.strategy{flex:1;min-width:480px}figure{margin:.5em 0}figcaption{font-weight:600;font-size:12px}
.reason{overflow-wrap:break-word;word-break:normal;hyphens:none}
table.summary{border-collapse:collapse;font-size:12px;max-width:100%}table.summary td,table.summary th{border:1px solid #ddd;padding:3px 5px;vertical-align:top}
table.summary td.reason{min-width:14em}table.summary td.name{overflow-wrap:anywhere;min-width:10em}table.summary td:not(.reason):not(.name){white-space:nowrap}
td.met{background:#c6f6d5}td.not-met{background:#fed7d7}.headline{font-size:16px;font-weight:600}
table.layers,table.stages{border-collapse:collapse;font-size:11px}table.layers td,table.layers th,table.stages td,table.stages th{border:1px solid #ddd;padding:2px 4px}
td.failed{background:#fed7d7}td.healthy{background:#c6f6d5}td.insufficient{background:#fefcbf}td.unreadable{background:#e9d8fd}.timeline{font-size:12px}</style></head>
<body><h1>canary-watchdog release rehearsal</h1>${headline(results)}<p id="summary">${results.filter((r) => r.passed).length} of ${results.length} scenarios met their expectations. Virtual time; each scenario ran both strategies on identical traffic and faults.</p>
${summaryHtml(results)}
${body}</body></html>
`;
}
