import type { ScenarioResult } from './rehearse';
import type { StrategyResult } from './runner';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly [number, number][];
}

/** A line chart as inline SVG: no script, no network. */
export function svgChart(title: string, series: readonly Series[], yLabel: string, yMax?: number): string {
  const W = 460;
  const H = 170;
  const L = 46;
  const B = 26;
  // The chart starts at the release; the warm-up before it is left out.
  series = series.map((s) => ({ ...s, points: s.points.filter(([t]) => t >= 0) }));
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(60, ...all.map((p) => p[0]));
  const top = yMax ?? Math.max(1e-9, ...all.map((p) => p[1])) * 1.1;
  const x = (v: number) => L + (v / xMax) * (W - L - 10);
  const y = (v: number) => H - B - (Math.min(v, top) / top) * (H - B - 20);
  const lines = series
    .filter((s) => s.points.length)
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${L + 8 + i * 150}" y="14" fill="${s.color}" font-size="11">■ ${esc(s.label)}</text>`).join('');
  const ticks = [0, 0.5, 1].map((f) => `<text x="4" y="${y(top * f) + 4}" font-size="10">${+(top * f).toPrecision(2)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect x="${L}" y="20" width="${W - L - 10}" height="${H - B - 20}" fill="#fafafa" stroke="#ccc"/>${ticks}${legend}${lines}
<text x="${W / 2}" y="${H - 6}" font-size="10" text-anchor="middle">minutes since the release (${esc(yLabel)})</text>
<text x="${L}" y="${H - 6}" font-size="10">0</text><text x="${W - 30}" y="${H - 6}" font-size="10">${(xMax / 60).toFixed(0)}</text></svg></figure>`;
}

function strategyBlock(name: string, r: StrategyResult): string {
  const versions = [...new Set(r.series.minutes.map((m) => m.version))];
  const colors = ['#2b6cb0', '#c53030', '#2f855a', '#b7791f'];
  const perVersion = (f: (m: StrategyResult['series']['minutes'][number]) => number | null) =>
    versions.map((v, i) => ({
      label: `v${v}`,
      color: colors[i % colors.length],
      points: r.series.minutes.filter((m) => m.version === v && f(m) !== null).map((m) => [m.t, f(m) as number] as [number, number]),
    }));
  const layerNames = [...new Set(r.layers.flatMap((l) => Object.keys(l.layers)))];
  const layerRows = r.layers
    .filter((_, i) => i % Math.max(1, Math.ceil(r.layers.length / 12)) === 0)
    .map((l) => `<tr><td>${(l.t / 60).toFixed(1)}</td>${layerNames.map((n) => `<td class="${esc(l.layers[n] ?? '')}">${esc(l.layers[n] ?? '')}</td>`).join('')}</tr>`)
    .join('');
  return `<section class="strategy"><h3>${esc(name)}: ${esc(r.outcome)}</h3>
<p>max traffic to the new version ${r.maxTrafficPercent} %; ${r.userRequestsToNewVersion} user requests to it, ${r.failedUserRequests} failed;
detection ${r.detectionSeconds === null ? '—' : `${r.detectionSeconds} s`}; decided by ${r.decidedBy ? esc(`${r.decidedBy.layer}: ${r.decidedBy.signal}`) : '—'}</p>
${svgChart('new version traffic share', [{ label: 'share', color: '#2b6cb0', points: r.series.t.map((t, i) => [t, r.series.weight[i]] as [number, number]) }], 'share 0-1', 1)}
${svgChart('user error rate per version', perVersion((m) => (m.requests ? m.errors / m.requests : null)), 'errors / requests')}
${svgChart('p99 latency per version (ms)', perVersion((m) => m.p99), 'ms')}
${layerNames.length ? `<table class="layers"><tr><th>min</th>${layerNames.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>${layerRows}</table>` : ''}
<ol class="timeline">${r.timeline.map((e) => `<li><b>${(e.t / 60).toFixed(2)} min</b> ${esc(e.what)}</li>`).join('')}</ol></section>`;
}

/** One self-contained page: every scenario, both strategies, charts as inline SVG. */
export function renderReport(results: readonly ScenarioResult[]): string {
  const body = results
    .map(
      (s) => `<article id="${esc(s.name)}"><h2>${esc(s.name)} <span class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'expectations met' : 'expectations not met'}</span></h2>
<p>${esc(s.description)}</p>${s.failures.length ? `<p class="fail">${esc(s.failures.join('; '))}</p>` : ''}
<div class="pair">${strategyBlock('watchdog', s.strategies.watchdog)}${strategyBlock('native CodeDeploy alarm rollback', s.strategies.native)}</div></article>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canary-watchdog rehearsal</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h2 span{font-size:12px;padding:2px 6px;border-radius:4px}.pass{background:#c6f6d5}.fail{background:#fed7d7}
.pair{display:flex;gap:2em;flex-wrap:wrap}.strategy{flex:1;min-width:480px}figure{margin:.5em 0}figcaption{font-weight:600;font-size:12px}
table.layers{border-collapse:collapse;font-size:11px}table.layers td,table.layers th{border:1px solid #ddd;padding:2px 4px}
td.failed{background:#fed7d7}td.healthy{background:#c6f6d5}td.insufficient{background:#fefcbf}td.unreadable{background:#e9d8fd}.timeline{font-size:12px}</style></head>
<body><h1>canary-watchdog release rehearsal</h1><p>${results.filter((r) => r.passed).length} of ${results.length} scenarios met their expectations. Virtual time; each scenario ran both strategies on identical traffic and faults.</p>
${body}</body></html>
`;
}
