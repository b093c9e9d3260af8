import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { synthSampleApp } from '../../src/lab/sample-app';
import { rehearse, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { loadScenarios } from '../../src/rehearsal/scenario';

const out = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
const dir = mkdtempSync(join(tmpdir(), 'rehearsal-'));
let results: ScenarioResult[];

beforeAll(async () => {
  results = await rehearse({
    scenarios: loadScenarios(['config-mistake', 'bad-code', 'state-table-outage']),
    app: synthSampleApp(),
    json: join(dir, 'results.json'),
    report: join(dir, 'report.html'),
    out,
  });
}, 120_000);

describe('rehearse on the sample app', () => {
  it('stops a configuration mistake in the pre-traffic hook with zero user requests, where native rolls back only after users fail', () => {
    const r = results.find((x) => x.name === 'config-mistake')!;
    expect(r.passed).toBe(true);
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 0, userRequestsToNewVersion: 0, failedUserRequests: 0, decidedBy: { layer: 'config' } });
    expect(r.strategies.native).toMatchObject({ outcome: 'rolled-back', decidedBy: { layer: 'codedeploy-alarm' } });
    expect(r.strategies.native.failedUserRequests).toBeGreaterThan(0);
  });

  it('rolls bad code back at the canary share at the latest, with fewer failed requests than native', () => {
    const r = results.find((x) => x.name === 'bad-code')!;
    expect(r.passed).toBe(true);
    // Five probes with three attempts each may already stop it before traffic; never past the canary share.
    expect(r.strategies.watchdog.maxTrafficPercent).toBeLessThanOrEqual(10);
    expect(r.strategies.watchdog.detectionSeconds).not.toBeNull();
    expect(r.strategies.watchdog.failedUserRequests).toBeLessThanOrEqual(r.strategies.native.failedUserRequests);
    expect(r.strategies.watchdog.deploymentIds).toHaveLength(2);
  });

  it('rolls a bad release back before any user traffic when the state table is down from its first minute: the hook fails closed, and the rehearsal is a result', () => {
    const r = results.find((x) => x.name === 'state-table-outage')!;
    expect(r.passed).toBe(true);
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 0, failedUserRequests: 0, decidedBy: { layer: 'hook' } });
    expect(r.strategies.native.outcome).toBe('completed');
  });

  it('runs the telemetry extension for the watchdog strategy only: the native user has no canary-watchdog layer', () => {
    const r = results.find((x) => x.name === 'bad-code')!;
    const holds = (s: ScenarioResult['strategies']['native']) => s.cost.reduce((a, m) => a + m.extensionHolds, 0);
    expect(holds(r.strategies.watchdog)).toBeGreaterThan(0);
    expect(holds(r.strategies.native)).toBe(0);
  });

  it('reports the state table\'s write units per minute by kind of item in the JSON', () => {
    const cost = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).scenarios.find((x: ScenarioResult) => x.name === 'bad-code').strategies.watchdog.cost as { writeUnits: number; writeUnitsByKind: Record<string, number> }[];
    expect(cost.length).toBeGreaterThan(0);
    expect(cost.some((m) => m.writeUnitsByKind.deployment > 0)).toBe(true);
    for (const m of cost) expect(Object.values(m.writeUnitsByKind).reduce((a, b) => a + b, 0)).toBeCloseTo(m.writeUnits, 5);
  });

  it('writes the documented JSON shape', () => {
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(['scenarios']);
    expect(Object.keys(json.scenarios[0])).toEqual(expect.arrayContaining(['name', 'passed', 'expect', 'strategies']));
    expect(Object.keys(json.scenarios[0].strategies.watchdog)).toEqual(
      expect.arrayContaining(['outcome', 'maxTrafficPercent', 'detectionSeconds', 'userRequestsToNewVersion', 'failedUserRequests', 'decidedBy', 'deploymentIds', 'timeline', 'stagesReached', 'fleetExposure']),
    );
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  (chromium ? it : it.skip)('renders a self-contained HTML report with visible charts in headless Chromium', () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\//);
    const run = spawnSync(
      chromium!,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--enable-logging=stderr', '--v=0', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chrome-'))}`, '--dump-dom', `file://${join(dir, 'report.html')}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const dom = run.stdout;
    // Console messages of the page appear in Chromium's log as CONSOLE lines.
    expect(run.stderr.split('\n').filter((l) => /CONSOLE/.test(l))).toEqual([]);
    expect((dom.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2 * 2 * 3);
    expect((dom.match(/<polyline/g) ?? []).length).toBeGreaterThan(4);
    expect(dom).toContain('config-mistake');
    // The summary first, linking to each section; the stop marked; the hook's reason shown.
    expect(dom.indexOf('<table class="summary">')).toBeLessThan(dom.indexOf('<article'));
    expect(dom).toContain('<a href="#config-mistake">config-mistake</a>');
    expect(dom).toContain('<article id="config-mistake">');
    expect(dom).toMatch(/<g class="marker">/);
    const reason = results.find((x) => x.name === 'config-mistake')!.strategies.watchdog.decidedBy!.signal;
    expect(dom).toContain(`stopped by the pre-traffic hook (BeforeAllowTraffic), before any user traffic: config: ${reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
  });
});
