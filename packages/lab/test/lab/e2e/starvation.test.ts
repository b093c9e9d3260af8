/**
 * The guard cannot be starved (issue 21): a burst of telemetry-stream triggers during scheduled
 * runs, on the sample app, with the lab enforcing reserved concurrency. Every watchdog run is held
 * 40 s, so the event-driven watchdog's two reserved executions are taken by the stream and the
 * alarm events; the scheduled watchdog, with its own two, still runs every minute unthrottled.
 */
import { Lab } from '../../../src/lab/lab';
import { synthSampleApp } from '../../../src/lab/sample-app';

let assembly: string;
beforeAll(() => {
  assembly = synthSampleApp();
}, 60_000);

it('a burst of stream triggers never throttles the scheduled watchdog: it runs every minute, and the bad release is still stopped', async () => {
  const lab = new Lab({ seed: 3 });
  await lab.start();
  try {
    await lab.loadAssembly(assembly);
    const r = lab.release('OrdersApi');
    const byDescription = (d: string) => lab.lambda.functionNames().find((n) => lab.lambda.getConfiguration(n).description === d)!;
    const scheduled = byDescription('canary-watchdog watchdog');
    // Before issue 21 one function took both (then the check below fails on its throttles).
    const events = byDescription('canary-watchdog watchdog (events)') ?? scheduled;
    expect(lab.lambda.reservedConcurrency(scheduled)).toBe(2);
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(120);
    // Each run holds its execution environment for 40 s of the lab's clock.
    for (const fn of new Set([scheduled, events])) lab.lambda.setBehaviour(fn, '$LATEST', { latencyMs: 40_000 });
    const t0 = lab.now();
    const { deploymentId } = await lab.deploy(r.functionName, { behaviour: { errorRate: 0.3 } });
    await lab.advance(8 * 60);

    // The stream and the alarms overwhelmed the event-driven watchdog...
    const throttledEvents = lab.lambda.throttles.filter((t) => t.functionName === events && t.at >= t0);
    expect(throttledEvents.length + lab.streams.throttled.length).toBeGreaterThan(0);
    // ...and never the scheduled one, which ran in every minute.
    expect(lab.lambda.throttles.filter((t) => t.functionName === scheduled)).toEqual([]);
    const minutes = new Set(lab.lambda.invocations.filter((i) => i.functionName === scheduled && i.at >= t0).map((i) => Math.floor((i.at - t0) / 60_000)));
    for (let m = 0; m < 8; m++) expect([m, minutes.has(m)]).toEqual([m, true]);
    const d = lab.codedeploy.deployments().find((x) => x.deploymentId === deploymentId)!;
    expect(d.status).toBe('Stopped');
  } finally {
    await lab.stop();
  }
}, 180_000);
