/**
 * The sample's Python function (sample/functions/shipping/shipping_quote.py) rehearsed end to
 * end: its real code answers the hooks' probes in a python3 process, and its users' requests
 * reach the watchdog through the telemetry extension (the fast signal), as the Node.js
 * functions' do. Its guard scenario, `python-good-release` (a healthy release must complete),
 * runs with every built-in scenario in CI's rehearse step (.ci/rehearse), where its 17-minute
 * bake costs npm test nothing.
 */
import { Writable } from 'node:stream';
import { synthSampleApp } from '../../src/lab/sample-app';
import { rehearse, type ScenarioResult } from '../../src/rehearsal/rehearse';
import { loadScenarios } from '../../src/rehearsal/scenario';

const out = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
let results: ScenarioResult[];
const result = (name: string) => results.find((x) => x.name === name)!;

beforeAll(async () => {
  results = await rehearse({ scenarios: loadScenarios(['python-bad-code', 'python-rates-missing-field']), app: synthSampleApp(), out });
}, 120_000);

describe('rehearse the sample\'s Python function', () => {
  it('rolls back a version that fails 30 % of requests on the fast signal, within the canary share', () => {
    const r = result('python-bad-code');
    expect(r.passed).toBe(true);
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', decidedBy: { layer: 'new-version', signal: 'telemetry-errors' } });
    expect(r.strategies.watchdog.maxTrafficPercent).toBeLessThanOrEqual(10);
    // The extension's counts arrive every few seconds; the one-minute alarms could not decide this soon.
    expect(r.strategies.watchdog.detectionSeconds).toBeLessThan(60);
  });

  it('stops rates its real code cannot price in the pre-traffic hook: the EU probe meets the KeyError the Python code raises', () => {
    const r = result('python-rates-missing-field');
    expect(r.passed).toBe(true);
    expect(r.strategies.watchdog).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 0, failedUserRequests: 0, decidedBy: { layer: 'probes' } });
    expect(JSON.stringify(r.strategies.watchdog.decidedBy)).toMatch(/quote-eu-parcel.*perKgCents.*KeyError/);
  });
});
