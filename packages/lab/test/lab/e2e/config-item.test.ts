import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigDelivery, GuardedFunction, ReleaseWatchdog } from 'canary-watchdog';
import { Lab } from '../../../src/lab/lab';

const GUARDS = 15;

/** An app too large for the 4 KB environment: its watchdog reads the configuration from the state table. */
function bigApp(): { dir: string; template: Template } {
  const dir = mkdtempSync(join(tmpdir(), 'big-app-'));
  const app = new App({ outdir: dir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Big');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog', { configDelivery: ConfigDelivery.STATE_TABLE });
  for (let i = 0; i < GUARDS; i++) {
    const fn = new lambda.Function(stack, `Fn${i}`, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });') });
    new GuardedFunction(stack, `Api${i}`, { watchdog, existingFunction: fn, dashboard: false, probes: [{ name: 'ok', event: {}, expect: { body: [{ path: '$.statusCode', equalTo: 200 }] } }] });
  }
  app.synth();
  return { dir, template: Template.fromStack(stack) };
}

describe('configuration in the state table', () => {
  const { dir, template } = bigApp();

  it('synthesizes more guarded functions than the environment holds, writing the configuration with a custom resource', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: 'canary-watchdog watchdog' } }));
    expect(fns).toHaveLength(1);
    const env = (fns[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(env.CANARY_WATCHDOG_CONFIG).toBeUndefined();
    expect(env.CANARY_WATCHDOG_CONFIG_SOURCE).toBe('state-table');
    template.resourceCountIs('Custom::AWS', 1);
    expect(JSON.stringify(template.findResources('Custom::AWS'))).toContain('\\"action\\":\\"putItem\\"');
  });

  it('runs in the lab: the watchdog reads its configuration item and sees every guarded function', async () => {
    const lab = new Lab({ seed: 1 });
    await lab.start();
    try {
      const report = await lab.loadAssembly(dir);
      expect(report.unmodelled['Custom::AWS']).toBeUndefined();
      expect(report.releases).toHaveLength(GUARDS);
      const watchdog = report.functions.find((n) => lab.lambda.getConfiguration(n).description === 'canary-watchdog watchdog')!;
      const r = await lab.lambda.invoke(watchdog, { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, 'test');
      expect(r.payload).toMatchObject({ trigger: 'schedule', decisions: [], errors: [], heartbeat: true });
      expect(lab.server.requests.get('CodeDeploy.ListDeployments')).toBe(GUARDS);
      const { deploymentId } = await lab.deploy(report.releases[3].functionName);
      await lab.advance(30 * 60);
      expect(lab.codedeploy.deployments().find((d) => d.deploymentId === deploymentId)).toMatchObject({ status: 'Succeeded' });
    } finally {
      await lab.stop();
    }
  }, 60_000);
});
