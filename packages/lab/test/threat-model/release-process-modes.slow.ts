import { synthSampleApp } from '../../src/lab/sample-app';
import { modeById, type FunctionFacts } from '../../src/threat-model/catalogue';
import { functionFacts, modelOne } from '../../src/threat-model/run';

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
});
