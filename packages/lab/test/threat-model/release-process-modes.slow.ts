import { synthSampleApp } from '../../src/lab/sample-app';
import { modeById, type FunctionFacts } from '../../src/threat-model/catalogue';
import { functionFacts, modelOne } from '../../src/threat-model/run';
import { parseStagesFlag } from '../../src/cli/threat-model-command';
import { runStrategy } from '../../src/rehearsal/runner';
import { parseScenario } from '../../src/rehearsal/scenario';

// The release-process modes the catalogue rehearses on the sample app: what stops each and how
// far it gets come from the lab's run.
describe('release-process failure modes on the sample app', () => {
  const app = synthSampleApp();
  let facts: FunctionFacts[];
  beforeAll(async () => {
    facts = await functionFacts(app);
  }, 120_000);
  const fn = (prefix: string) => facts.find((f) => f.logicalId.startsWith(prefix))!;

  it('hook-timeout: a pre-traffic hook that never reports holds the release at 0 %; the scheduled probes stop it, then CodeDeploy\'s hour', async () => {
    const row = await modelOne(app, fn('OrdersApi'), modeById('hook-timeout'), { rps: 10, seed: 1 });
    // No user traffic moves while the hook hangs; the watchdog's scheduled probes of the new
    // version stop it; without them, only CodeDeploy's one-hour hook timeout fails it.
    expect(row).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 0, failedUserRequests: 0, detectedBy: ['probes', 'fail-closed'], redundancy: 2 });
    expect(row.advice).toBeUndefined();
  }, 600_000);

  it('alarm-never-fires: with the user\'s table alarm watching a metric nothing publishes, the other layers still stop a bad release; a function without an alarm of its user\'s is skipped', async () => {
    const row = await modelOne(app, fn('OrdersApi'), modeById('alarm-never-fires'), { rps: 10, seed: 1 });
    expect(row).toMatchObject({ outcome: 'rolled-back', maxTrafficPercent: 10 });
    expect(row.skipped).toBeUndefined();
    expect(row.redundancy).toBeGreaterThanOrEqual(2);
    const pricing = await modelOne(app, fn('PricingApi'), modeById('alarm-never-fires'), { rps: 10, seed: 1 });
    expect(pricing.skipped).toMatch(/no alarm of yours/);
  }, 600_000);

  it('all-stages-at-once: with the sample pipeline\'s three waves pushed at once, every stage meets the bad release; in waves, beta alone does (guard)', async () => {
    // The sample pipeline's waves (orders-pipeline.ts): beta, then two production regions.
    const stages = parseStagesFlag(['beta:0.01:30', 'prod-first:0.3:60', 'prod-rest:0.69:15']);
    const orders = { ...fn('OrdersApi'), stages };
    const row = await modelOne(app, orders, modeById('all-stages-at-once'), { rps: 100, seed: 1 });
    expect(row).toMatchObject({ outcome: 'rolled-back', stagesReached: 3 });
    expect(row.fleetExposure).toBeGreaterThan(0);
    expect(row.advice).toMatch(/^every stage met it at once \(3 of 3 stages, fleet exposure [\d.]+ %\)/);
    const inWaves = await runStrategy(parseScenario({ name: 'waves', function: 'OrdersApi', traffic: { rps: 100, minutes: 21 }, stages, current: { errorRate: 0.005 }, release: { errorRate: 0.2 }, expect: { outcome: 'rolled-back' } }, 'waves.yaml'), 'watchdog', app);
    expect(inWaves.stagesReached).toBe(1);
    expect(row.fleetExposure!).toBeGreaterThan(inWaves.fleetExposure);
  }, 600_000);
});
