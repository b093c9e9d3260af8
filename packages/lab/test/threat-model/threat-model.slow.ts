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
});
