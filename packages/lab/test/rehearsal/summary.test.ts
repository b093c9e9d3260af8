import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from '../../src/rehearsal/rehearse';
import { minuteTicks, preTrafficHookReason, renderReport, sharedXMax, stopSeconds, svgChart } from '../../src/rehearsal/report';
import type { StrategyResult } from '../../src/rehearsal/runner';
import { liveStatusLine, summaryTable, TABLE_COLUMNS, wrap } from '../../src/rehearsal/summary';
import { strategyResult } from './fixtures';

const LONG_REASON =
  'probe reject-zero-qty: expected success, got error (Unhandled: {"errorType":"LabInjectedError","errorMessage":"error injected by the lab (behaviour.errorRate)"}); $.statusCode is missing, expected 400 (3 of 3 attempts failed)';

/** Stopped by the watchdog at 4 minutes, at the canary share. */
const strategy = (over: Partial<StrategyResult>): StrategyResult =>
  strategyResult({
    timeline: [
      { t: 0, what: 'deployment Created' },
      { t: 0, what: 'traffic 10 % to v2' },
      { t: 240, what: 'watchdog stop-deployment (new-version): new-version/errors failed' },
      { t: 240, what: 'stopped: ALARM_ACTIVE, rolling back' },
    ],
    series: { t: [10, 240, 300], weight: [0.1, 0.1, 0], minutes: [{ t: 60, version: '2', requests: 100, errors: 20, p99: 80 }] },
    virtualMinutes: 5,
    ...over,
  });

const hookStopped = strategy({
  maxTrafficPercent: 0,
  failedUserRequests: 0,
  decidedBy: { layer: 'probes', signal: LONG_REASON },
  timeline: [
    { t: 0, what: 'deployment Created' },
    { t: 0, what: 'BeforeAllowTraffic hook Failed' },
    { t: 0, what: 'deployment Failed' },
  ],
  series: { t: [10, 20], weight: [0, 0], minutes: [] },
});
const nativeLong = strategy({
  outcome: 'completed',
  maxTrafficPercent: 100,
  failedUserRequests: 123456,
  detectionSeconds: null,
  decidedBy: null,
  timeline: [{ t: 0, what: 'deployment Created' }],
  series: { t: [10, 1800], weight: [0.1, 1], minutes: [{ t: 1200, version: '2', requests: 1000, errors: 300, p99: 90 }] },
});

const rows: ScenarioResult[] = [
  { name: 'bad-code', description: 'bad code', passed: true, failures: [], expect: { outcome: 'rolled-back' }, strategies: { watchdog: hookStopped, native: nativeLong } },
  {
    name: 'fix-during-incident-rollback-with-a-long-name',
    description: '',
    passed: false,
    failures: ['outcome completed, expected rolled-back', 'the new version reached 100 % of traffic, expected at most 10 %'],
    expect: { outcome: 'rolled-back' },
    strategies: { watchdog: strategy({ maxTrafficPercent: 12.5 }), native: nativeLong },
  },
];

describe('the terminal summary', () => {
  const table = summaryTable(rows);

  it(`fits ${TABLE_COLUMNS} columns`, () => {
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(TABLE_COLUMNS);
  });

  it('moves long reasons under the table, whole: every word of them is there, none cut', () => {
    const notes = table.slice(table.indexOf('decided by (watchdog):'));
    const words = notes.split(/\s+/);
    for (const word of LONG_REASON.split(/\s+/)) expect(words).toContain(word);
    expect(notes).toContain('outcome completed, expected rolled-back; the new version reached 100 % of traffic, expected at most 10 %'.split(' ').slice(0, 5).join(' '));
  });

  it.each([
    [10, 'a quick brown fox jumps', ['a quick', 'brown fox', 'jumps']],
    [6, 'an extraordinarily long word', ['an', 'extraordinarily', 'long', 'word']],
  ])('wraps at %i columns between words', (width, text, lines) => {
    expect(wrap(text, width)).toEqual(lines);
  });

  it.each([40, 60, 100, 300])('keeps the live status within %i columns', (width) => {
    const line = liveStatusLine(
      [
        { strategy: 'watchdog', weight: 0.1, status: 'InProgress', layers: 'config=healthy probes=healthy new-version=insufficient service=healthy' },
        { strategy: 'native', weight: 0.1, status: 'InProgress', layers: '' },
      ],
      width,
    );
    expect(line.length).toBeLessThanOrEqual(width);
    expect(line).toMatch(/^(watchdog:|W) 10 ?%/);
    if (width >= 300) expect(line).toContain('new-version=insufficient');
    if (width === 40) expect(line).toBe('W 10% InProgress | N 10% InProgress');
  });
});

describe('the HTML report', () => {
  const html = renderReport(rows);

  it('opens with a summary table that links to each scenario\'s section', () => {
    const summary = html.indexOf('<table class="summary">');
    expect(summary).toBeGreaterThan(0);
    expect(summary).toBeLessThan(html.indexOf('<article'));
    for (const r of rows) {
      expect(html).toContain(`<a href="#${r.name}">${r.name}</a>`);
      expect(html).toContain(`<article id="${r.name}">`);
    }
    expect(html).toMatch(/<td class="met">rolled-back<\/td><td>0 %<\/td><td>0<\/td><td>60 s<\/td><td class="not-met">completed<\/td><td>100 %<\/td><td>123,456<\/td><td>—<\/td>/);
  });

  it('colours an outcome by whether it is the expected one, not by what it is', () => {
    const completedAsExpected: ScenarioResult = { ...rows[0], name: 'good', expect: { outcome: 'completed' }, strategies: { watchdog: nativeLong, native: hookStopped } };
    const page = renderReport([completedAsExpected]);
    expect(page).toContain('<td class="met">completed</td>');
    expect(page).toContain('<td class="not-met">rolled-back</td>');
    expect(page).not.toMatch(/class="(stopped|completed)"/);
  });

  it('says in a headline how many failed user requests the watchdog saved against native', () => {
    const w = rows.reduce((a, r) => a + r.strategies.watchdog.failedUserRequests, 0);
    const n = rows.reduce((a, r) => a + r.strategies.native.failedUserRequests, 0);
    expect(html).toContain(`<p class="headline">The watchdog saved ${(n - w).toLocaleString('en-US')} failed user requests against native CodeDeploy alarm rollback: ${w.toLocaleString('en-US')} failed instead of ${n.toLocaleString('en-US')}, over ${rows.length} scenarios.</p>`);
    const worse: ScenarioResult = { ...rows[0], strategies: { watchdog: nativeLong, native: hookStopped } };
    expect(renderReport([worse])).toContain('The watchdog let 123,456 more user requests fail than native CodeDeploy alarm rollback');
  });

  it('shows only the columns some scenario needs: stages when a scenario has stages', () => {
    expect(html).not.toContain('<th>stages reached</th>');
    const staged: ScenarioResult = { ...rows[0], stages: ['beta', 'prod'] };
    expect(renderReport([staged])).toContain('<th>stages reached</th>');
  });

  it('reads sensibly when every value is zero: a 0-1 % axis, no 1e-7', () => {
    const zero = svgChart('user error rate', [{ label: 'v2', color: '#000', points: [[0, 0], [60, 0]] }], 'failed requests, %', { yTick: (v) => `${+(v * 100).toPrecision(2)} %`, zeroTop: 0.01 });
    expect([...zero.matchAll(/font-size="10">([^<]*%)<\/text>/g)].map((m) => m[1])).toEqual(['0 %', '0.5 %', '1 %']);
    const counts = svgChart('write units', [{ label: 'all', color: '#000', points: [[0, 0]] }], 'write units');
    expect(counts).not.toMatch(/e-\d/);
    expect(renderReport(rows)).not.toMatch(/e-\d+ %/);
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  (chromium ? it : it.skip)('fits the summary table, "decided by" included, in a 1,400 px window in Chromium', () => {
    // Many scenarios with long names and reasons, as `npm run rehearse` gives.
    const many = Array.from({ length: 12 }, (_, i) => ({ ...rows[i % 2], name: `${rows[i % 2].name}-${i}-linear-regression-during-shared-errors` }));
    const dir = mkdtempSync(join(tmpdir(), 'report-width-'));
    const file = join(dir, 'report.html');
    // The measuring script goes into the test's copy only: the report itself has no script.
    const measure = `<script>addEventListener('load',()=>{const t=document.querySelector('table.summary');const th=[...t.querySelectorAll('th')].find((h)=>/decided by/.test(h.textContent));document.body.setAttribute('data-measured',JSON.stringify({viewport:document.documentElement.clientWidth,table:t.getBoundingClientRect().right,scroll:document.documentElement.scrollWidth,decided:th.getBoundingClientRect().right}))})</script>`;
    writeFileSync(file, renderReport(many).replace('</body>', `${measure}</body>`));
    const run = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--window-size=1400,900', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chrome-'))}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    const m = JSON.parse((/data-measured="([^"]*)"/.exec(run.stdout)?.[1] ?? 'null').replace(/&quot;/g, '"')) as { viewport: number; table: number; scroll: number; decided: number };
    expect(m.viewport).toBeGreaterThan(1300);
    expect(m.table).toBeLessThanOrEqual(m.viewport);
    expect(m.decided).toBeLessThanOrEqual(m.viewport);
    expect(m.scroll).toBeLessThanOrEqual(m.viewport);
  });

  it('draws both strategies\' charts on one x-axis', () => {
    expect(sharedXMax([hookStopped, nativeLong])).toBe(1800);
    const article = html.slice(html.indexOf('<article id="bad-code">'), html.indexOf('</article>'));
    // The right-most x tick of every chart, both strategies: 30 minutes.
    const lastTicks = [...article.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => [...m[0].matchAll(/text-anchor="middle">([\d.]+)<\/text>/g)].pop()![1]);
    expect(lastTicks).toHaveLength(6);
    expect(new Set(lastTicks)).toEqual(new Set(['30']));
  });

  it.each([
    [300, [0, 1, 2, 3, 4, 5]],
    [1800, [0, 10, 20, 30]],
    [1230, [0, 5, 10, 15, 20.5]],
  ])('puts whole-minute ticks on an axis of %i s', (xMax, ticks) => {
    expect(minuteTicks(xMax)).toEqual(ticks);
  });

  it('marks the stop on a stopped strategy\'s charts only', () => {
    expect(stopSeconds(strategy({}))).toBe(240);
    expect(stopSeconds(nativeLong)).toBeNull();
    const article = html.slice(html.indexOf('<article id="fix-during'));
    const [watchdog, native] = article.split('<section class="strategy">').slice(1);
    expect((watchdog.match(/<g class="marker">/g) ?? []).length).toBe(3);
    expect(watchdog).toContain('stopped at 4.00 min');
    expect(native).not.toContain('class="marker"');
  });

  it('shows rates and shares in percent', () => {
    expect(html).toMatch(/font-size="10">100 %<\/text>/);
    expect(html).toMatch(/font-size="10">\d+(\.\d+)? %<\/text>/);
    expect(html).not.toMatch(/font-size="10">0\.\d+<\/text>/);
  });

  it('shows the pre-traffic hook\'s reason, whole, when the hook stopped the release', () => {
    expect(preTrafficHookReason(hookStopped)).toBe(`probes: ${LONG_REASON}`);
    expect(preTrafficHookReason(strategy({}))).toBeNull();
    const escaped = LONG_REASON.replace(/"/g, '&quot;');
    expect(html).toContain(`stopped by the pre-traffic hook (BeforeAllowTraffic), before any user traffic: probes: ${escaped}`);
    expect(html).toContain(`BeforeAllowTraffic hook Failed: probes: ${escaped}`);
  });
});

describe('where the new version\'s failed requests came from', () => {
  const result = (name: string, userTraffic?: StrategyResult['userTraffic']): ScenarioResult => ({
    name, description: '', passed: true, failures: [], expect: { outcome: 'rolled-back' },
    strategies: { watchdog: strategyResult(userTraffic ? { userTraffic } : {}), native: strategyResult({}) },
  });
  const failures = (f: Partial<Record<'code' | 'injected' | 'noise' | 'throttled', number>>) => ({ code: 0, injected: 0, noise: 0, throttled: 0, ...f });

  it('says, per scenario with events or with failures of its code or noise, each source, the share invoked for real and the margin', () => {
    const text = summaryTable([
      result('real-bug', { events: 'traffic.yaml', requests: 600, realShare: 0.25, failures: failures({ code: 40, injected: 3 }), failureRateMargin95: 0.021 }),
      result('noisy', { requests: 900, realShare: 1, failures: failures({ injected: 5, noise: 2 }), failureRateMargin95: 0 }),
      result('injected-only', { requests: 900, realShare: 1, failures: failures({ injected: 50 }), failureRateMargin95: 0 }),
      result('older-result'),
    ]);
    expect(text).toContain("where the new version's failed requests came from (watchdog):\n  real-bug: 40 real code, 3 injected behaviour; 25 % of 600 requests invoked the real code, failure\n    rate known within ±2.1 % (95 %)\n  noisy: 5 injected behaviour, 2 noise (simulated traffic: 900 requests)\n");
    expect(renderReport([result('real-bug', { events: 'traffic.yaml', requests: 600, realShare: 0.25, failures: failures({ code: 40 }), failureRateMargin95: 0.021 })])).toContain(
      "<p>where the new version's failed requests came from: 40 real code; 25 % of 600 requests invoked the real code, failure rate known within ±2.1 % (95 %)</p>",
    );
    // A scenario whose failures are all the behaviour it states adds nothing to read.
    expect(text).not.toContain('injected-only: 50');
    expect(text).not.toMatch(/older-result: (\d|none)/);
  });
});
