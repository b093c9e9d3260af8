import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli';
import { synthSampleApp } from '../../src/lab/sample-app';
import { modeById } from '../../src/threat-model/catalogue';
import { functionFacts, modelOne } from '../../src/threat-model/run';

// The threat model on the sample app: a bad release meets several layers in turn, each stopping
// it with the ones before taken away; without probes, a latency regression is left with one
// chance, and --fail-under 2 says so with exit 1.
describe('threat-model on the sample app', () => {
  const app = synthSampleApp();

  it('finds the layers that stop 20 % errors on OrdersApi in turn, each with the ones before taken away', async () => {
    const [orders] = (await functionFacts(app)).filter((f) => f.logicalId.startsWith('OrdersApi'));
    const row = await modelOne(app, orders, modeById('errors-20'), { rps: 10, seed: 1 });
    // With every layer, the fast signal stops it in the canary; without it, the probes; and so on.
    expect(row).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 10, detectedBy: expect.arrayContaining(['fast-signal', 'probes']) });
    expect(row.detectedBy[0]).toBe('fast-signal');
    expect(new Set(row.detectedBy).size).toBe(row.detectedBy.length);
    expect(row.redundancy).toBeGreaterThanOrEqual(2);
    expect(row.advice).toBeUndefined();
  }, 300_000);

  it('without probes, names the modes left with one chance or none, and --fail-under 2 exits 1', async () => {
    const bare = synthSampleApp(undefined, { 'orders-service:probes': false });
    const out = join(mkdtempSync(join(tmpdir(), 'tm-')), 'tm.json');
    const run = await runCli(['threat-model', '--app', bare, '--function', 'ShippingQuote', '--mode', 'crash-on-init', 'latency-regression', '--fail-under', '2', '--json', out], process.cwd());
    const code = run.code;
    const printed = run.stdout;
    expect(code).toBe(1);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { findings: { id: string }[]; rows: { mode: string; redundancy: number; advice?: string }[] };
    expect(json.findings.map((f) => f.id)).toContain('no-probes');
    // A crash still meets the fast signal and the new version's metrics in the canary; a latency
    // regression only the new version's p99 (with probes, their latency limit too).
    const crash = json.rows.find((r) => r.mode === 'crash-on-init')!;
    expect(crash.redundancy).toBeGreaterThanOrEqual(2);
    const slow = json.rows.find((r) => r.mode === 'latency-regression')!;
    expect(slow.redundancy).toBeLessThan(2);
    expect(slow.advice).toMatch(/a probe that sends the requests this breaks/);
    expect(printed).toMatch(/ShippingQuote +latency-regression +nv +10 %.*ONLY 1/);
  }, 600_000);

  it('--scenario takes a user mode with real traffic (events and a code change, paths relative to its file) and rehearses it only for the function it names', async () => {
    // The sample's real-traffic bug, run from another folder: its ../sample paths must resolve from the scenario file.
    const scenario = join(__dirname, '../../scenarios/40-real-traffic-bug.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'tm-'));
    const out = join(dir, 'tm.json');
    const run = await runCli(['threat-model', '--app', app, '--function', 'OrdersApi', 'PricingApi', '--scenario', scenario, '--mode', 'real-traffic-bug', '--json', out], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = (JSON.parse(readFileSync(out, 'utf8')) as { rows: { function: string; mode: string; skipped?: string; outcome?: string; maxTrafficPercent?: number; detectedBy: string[]; redundancy: number }[] }).rows;
    expect(rows.map((r) => [r.function.replace(/^OrdersService-|Function.*$/g, ''), r.mode])).toEqual([['OrdersApi', 'real-traffic-bug'], ['PricingApi', 'real-traffic-bug']]);
    // Only real users' bulk orders reach the bug: the probes never do, the new version's errors stop it in the canary.
    expect(rows[0]).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 10 });
    expect(rows[0].skipped).toBeUndefined();
    expect(rows[0].detectedBy).not.toContain('probes');
    expect(rows[1].skipped).toMatch(/the scenario is for OrdersApi/);
  }, 600_000);

  it('ShippingQuote\'s silent HTTP 500s meet the probes before 100 % as well as the new version\'s metrics (two chances; one before its two extra probes)', async () => {
    const [shipping] = (await functionFacts(app)).filter((f) => f.logicalId.startsWith('ShippingQuote'));
    const row = await modelOne(app, shipping, modeById('silent-http-500s'), { rps: 10, seed: 1 });
    expect(row).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 10 });
    expect(row.detectedBy.slice(0, 2).sort()).toEqual(['new-version', 'probes']);
    expect(row.redundancy).toBeGreaterThanOrEqual(2);
    expect(row.advice).toBeUndefined();
  }, 600_000);
});
