import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE } from '../../src/threat-model/catalogue';
import { threatReport } from '../../src/threat-model/output';
import type { ThreatRow } from '../../src/threat-model/run';

// The threat model's report: a matrix of modes by layers per function, single points of failure
// in red, readable at 1,400 px (the test fails when it overflows).
const layers = ['config', 'probes', 'fast-signal', 'new-version', 'service', 'heartbeat', 'downstream'];
const rows: ThreatRow[] = ['OrdersService-OrdersApiFunction28E5008F', 'OrdersService-PricingApiFunctionE656641C'].flatMap((fn) =>
  CATALOGUE.map((m, i) => ({
    function: fn,
    mode: m.id,
    group: m.group,
    kind: m.kind,
    detectedBy: layers.slice(0, i % 4),
    redundancy: i % 4,
    outcome: i % 4 ? 'rolled-back' : 'completed',
    maxTrafficPercent: i % 4 ? 10 : 100,
    failedUserRequests: 10 * i,
    detectionSeconds: i % 4 ? 30 : null,
    ...(i % 4 < 2 ? { advice: 'only probes stops it before 100 %: add a probe that sends the requests this breaks, or a longer canary than canary 10 % for 5 min, or an alarm of your own on what users see (addAlarm)' } : {}),
  })),
);

describe('the threat-model report', () => {
  const html = threatReport(rows, [{ id: 'no-probes', severity: 'warning', path: 'Stack/Orders', message: 'no probes.', fix: 'declare probes.' }], 2);

  it('marks each mode with fewer than the redundancy asked in red, and numbers the layers in the order they stopped it', () => {
    const redRows = (html.match(/<tr class="spof">/g) ?? []).length;
    expect(redRows).toBe(rows.filter((r) => r.kind === 'bad' && r.redundancy < 2).length + rows.filter((r) => r.kind === 'good' && r.outcome === 'rolled-back').length);
    expect(html).toContain('<td class="hit">1</td><td class="hit">2</td>');
    expect(html).toContain('<b>no-probes</b> Stack/Orders');
    expect(html).not.toContain('<script');
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  (chromium ? it : it.skip)('fits a 1,400 px window in Chromium', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-report-'));
    const file = join(dir, 'report.html');
    const measure = `<script>addEventListener('load',()=>{document.body.setAttribute('data-measured',JSON.stringify({viewport:document.documentElement.clientWidth,scroll:document.documentElement.scrollWidth,tables:Math.max(...[...document.querySelectorAll('table')].map((t)=>t.getBoundingClientRect().right))}))})</script>`;
    writeFileSync(file, html.replace('</body>', `${measure}</body>`));
    const run = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--window-size=1400,900', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chrome-'))}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    const m = JSON.parse((/data-measured="([^"]*)"/.exec(run.stdout)?.[1] ?? 'null').replace(/&quot;/g, '"')) as { viewport: number; scroll: number; tables: number };
    expect(m.viewport).toBeGreaterThan(1300);
    expect(m.tables).toBeLessThanOrEqual(m.viewport);
    expect(m.scroll).toBeLessThanOrEqual(m.viewport);
  });
});
