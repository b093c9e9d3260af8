import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigFormat, GuardedFunction, ReleaseWatchdog, Rollout } from 'canary-watchdog';
import { Lab } from '../../../src/lab/lab';
import { synthForLab } from '../../../src/lab/sample-app';

/** The README's "Guard your own function" example, as written, synthesized into a fresh assembly. */
function checkoutApp(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'checkout-app-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Checkout');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  new GuardedFunction(stack, 'Checkout', {
    watchdog,
    entry: join(__dirname, 'fixtures', 'checkout.ts'),
    runtime: lambda.Runtime.NODEJS_24_X,
    bundling: { externalModules: ['@aws-sdk/*'], target: 'node20' },
    depsLockFilePath: resolve(__dirname, '../../../../../package-lock.json'),
    projectRoot: resolve(__dirname, '../../../../..'),
    environment: { PAYMENTS_URL: 'https://payments.internal/v2' },
    rollout: Rollout.canary({ percent: 10, minutes: 10 }),
    configChecks: [{ key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 2000 }],
    probes: [{ name: 'health', event: { rawPath: '/health' }, expect: { body: [{ path: '$.statusCode', equalTo: 200 }] } }],
  });
  synthForLab(app);
  return outdir;
}

let assembly: string;
beforeAll(() => {
  assembly = checkoutApp();
}, 120_000);

/** Release a change of the Checkout function and let the pre-traffic hook run. */
async function release(env: Record<string, string>): Promise<{ lab: Lab; deploymentId: string }> {
  const lab = new Lab({ seed: 2 });
  await lab.start();
  await lab.loadAssembly(assembly);
  const fn = lab.release('Checkout');
  // Two scheduled watchdog runs publish the first heartbeats, so the new heartbeat alarm lets the release start.
  await lab.advance(180);
  const { deploymentId } = await lab.deploy(fn.functionName, { env: { ...lab.lambda.getConfiguration(fn.functionName).env, ...env } });
  await lab.advance(120);
  return { lab, deploymentId };
}

const hook = (lab: Lab, id: string) => lab.codedeploy.timeline(id).find((e) => e.type === 'hook' && e.hook === 'BeforeAllowTraffic' && e.result !== 'Invoked') as { result: string } | undefined;

describe('the README example in the lab (reachableWithinMs, the lab network)', () => {
  let lab: Lab | undefined;
  afterEach(async () => lab?.stop());

  it('passes its reachability check as written: the host its environment names answers in the lab', async () => {
    const r = await release({ RELEASE_NOTE: 'a configuration change' });
    lab = r.lab;
    expect(hook(lab, r.deploymentId)?.result).toBe('Succeeded');
  }, 60_000);

  it('fails the check of a release that points PAYMENTS_URL at a host nobody serves', async () => {
    const r = await release({ PAYMENTS_URL: 'https://payments.typo.internal/v2' });
    lab = r.lab;
    expect(hook(lab, r.deploymentId)?.result).toBe('Failed');
    const reasons = lab.lambda.logs.filter((l) => l.line.includes(r.deploymentId) && l.line.includes('PAYMENTS_URL: https://payments.typo.internal/v2 did not answer within 2000 ms: TypeError: fetch failed'));
    expect(reasons.length).toBeGreaterThan(0);
  }, 60_000);
});
