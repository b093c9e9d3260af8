/**
 * Rehearsals whose user traffic runs the sample's real code (issue 25): a code change that only
 * real requests expose is stopped in the canary by the new-version layer, with its failures
 * counted as the real code's; a code change that fails to load is the scenario's outcome, not a
 * broken rehearsal.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LAB_FILES } from '../../src/lab/files';
import { synthSampleApp } from '../../src/lab/sample-app';
import { rehearse, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { loadScenarios, parseScenario } from '../../src/rehearsal/scenario';

const out = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
let results: ScenarioResult[];
const result = (name: string) => results.find((x) => x.name === name)!;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'code-crash-'));
  writeFileSync(join(dir, 'crash.js'), "throw new Error('the new module throws at load');\nexports.handler = async () => ({ statusCode: 200 });\n");
  const crash = parseScenario(
    {
      name: 'code-crash',
      function: 'OrdersApi',
      traffic: { rps: 20, minutes: 4, events: join(LAB_FILES, 'sample', 'traffic.yaml') },
      release: { code: join(dir, 'crash.js') },
      expect: { outcome: 'rolled-back', maxTrafficPercent: 0 },
    },
    join(dir, 'code-crash.yaml'),
  );
  results = await rehearse({ scenarios: [...loadScenarios(['real-traffic-bug']), crash], app: synthSampleApp(), out });
}, 300_000);

describe('rehearsals with real traffic', () => {
  it('stops a code change that throws for requests the probes never send at the canary share, by the new-version layer, counting its failures as the real code\'s', () => {
    const r = result('real-traffic-bug');
    expect(r.passed).toBe(true);
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', decidedBy: { layer: 'new-version' } });
    expect(r.strategies.watchdog.maxTrafficPercent).toBeLessThanOrEqual(10);
    const u = r.strategies.watchdog.userTraffic!;
    expect(u.failures.code).toBeGreaterThan(0);
    expect(u.failures).toMatchObject({ injected: 0, noise: 0 });
    expect(u.realShare).toBeGreaterThan(0);
    expect(u.realShare).toBeLessThan(1);
    // Native alarm rollback on the alias-wide rate lets it through: the bug is a share of a share.
    expect(r.strategies.native.maxTrafficPercent).toBe(100);
  });

  it('takes a code change that fails to load as the scenario\'s outcome (the pre-traffic hook stops it), not as a broken rehearsal', () => {
    const r = result('code-crash');
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 0 });
    expect(r.passed).toBe(true);
  });
});
