import { CodeDeployClient, CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

/**
 * `tiny` (versions 1 and 2, alias live, a CodeDeploy group) and `judge`, which does what the
 * watchdog does with a decision: logs it as a structured line, sends it to EventBridge, and stops
 * the deployment with rollback.
 */
function assembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-decisions-'));
  const judge = [
    "const { EventBridgeClient, PutEventsCommand } = require('@aws-sdk/client-eventbridge');",
    "const { CodeDeployClient, StopDeploymentCommand } = require('@aws-sdk/client-codedeploy');",
    'exports.handler = async (record) => {',
    '  console.log(JSON.stringify({ level: "INFO", message: "decision", decision: record }));',
    '  await new EventBridgeClient({}).send(new PutEventsCommand({ Entries: [{ Source: "canary-watchdog", DetailType: "Canary Watchdog Decision", Detail: JSON.stringify(record) }] }));',
    '  await new CodeDeployClient({}).send(new StopDeploymentCommand({ deploymentId: record.deploymentId, autoRollbackEnabled: true }));',
    '};',
  ].join('\n');
  const fn = (name: string, code: string) => ({ Type: 'AWS::Lambda::Function', Properties: { FunctionName: name, Handler: 'index.handler', Code: { ZipFile: code }, Timeout: 30 } });
  const template = {
    Resources: {
      Tiny: fn('tiny', 'exports.handler = async () => 1;'),
      V1: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Tiny' } } },
      Live: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Tiny' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['V1', 'Version'] } } },
      Judge: fn('judge', judge),
      App: { Type: 'AWS::CodeDeploy::Application', Properties: { ApplicationName: 'tiny-app', ComputePlatform: 'Lambda' } },
      Group: {
        Type: 'AWS::CodeDeploy::DeploymentGroup',
        Properties: {
          ApplicationName: { Ref: 'App' },
          DeploymentGroupName: 'tiny-group',
          DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
          AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_STOP_ON_REQUEST'] },
          ServiceRoleArn: 'arn:aws:iam::123456789012:role/x',
        },
      },
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

const record = (deploymentId: string) => ({
  type: 'canary-watchdog.decision',
  schemaVersion: 1,
  at: '2026-01-01T00:02:00.000Z',
  trigger: 'schedule',
  deploymentId,
  application: 'tiny-app',
  deploymentGroup: 'tiny-group',
  functionName: 'tiny',
  alias: 'live',
  currentVersion: '1',
  targetVersion: '2',
  trafficPercent: 10,
  stage: 'canary',
  action: 'rollback',
  layer: 'new-version',
  reasons: ['errors failed: 9 of 40 (22.50 %)'],
  layers: [],
  evidence: [],
  actionTaken: 'stop-and-rollback',
  actionResult: 'stopped',
});

describe('the lab shows the watchdog decisions it sees', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ seed: 1 });
    await lab.start();
    await lab.loadAssembly(assembly());
  });
  afterEach(() => lab.stop());

  it('tells each decision once as it happens (log line and event are one decision), serves it at /_lab/decisions, and /_lab/state says why the deployment ended', async () => {
    const cfg = { endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } };
    lab.lambda.updateConfiguration('tiny', { RELEASE: '2' });
    lab.lambda.publishVersion('tiny');
    const appSpec = { version: 0.0, Resources: [{ tiny: { Type: 'AWS::Lambda::Function', Properties: { Name: 'tiny', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }] };
    const { deploymentId } = await new CodeDeployClient(cfg).send(
      new CreateDeploymentCommand({ applicationName: 'tiny-app', deploymentGroupName: 'tiny-group', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } } }),
    );
    await lab.advance(1);
    const seen: DecisionRecord[] = [];
    lab.onDecision((r) => seen.push(r));
    const out = await new LambdaClient(cfg).send(new InvokeCommand({ FunctionName: 'judge', Payload: Buffer.from(JSON.stringify(record(deploymentId!))) }));
    expect(out.FunctionError).toBeUndefined();
    await lab.advance(1);

    expect(seen.map((r) => [r.deploymentId, r.layer, r.action, r.reasons])).toEqual([[deploymentId, 'new-version', 'rollback', ['errors failed: 9 of 40 (22.50 %)']]]);
    const decisions = (await (await fetch(`${lab.endpoint}/_lab/decisions?deploymentId=${deploymentId}`)).json()) as { decisions: DecisionRecord[] };
    expect(decisions.decisions).toEqual([record(deploymentId!)]);

    const state = (await (await fetch(`${lab.endpoint}/_lab/state`)).json()) as { deployments: { deploymentId: string; status: string; endedBecause?: Record<string, unknown> }[] };
    const ended = state.deployments.find((d) => d.deploymentId === deploymentId)!;
    expect(ended.status).toBe('Stopped');
    expect(ended.endedBecause).toEqual({
      status: 'Stopped',
      code: 'MANUAL_STOP',
      reason: 'The deployment was stopped by the user (StopDeployment).',
      watchdog: { at: '2026-01-01T00:02:00.000Z', layer: 'new-version', action: 'rollback', actionTaken: 'stop-and-rollback', reasons: ['errors failed: 9 of 40 (22.50 %)'] },
      rollback: expect.stringMatching(/was rolled back by deployment d-/),
    });
  }, 30_000);

  it('answers a deployment it does not know with 404', async () => {
    const res = await fetch(`${lab.endpoint}/_lab/decisions?deploymentId=d-NOPE`);
    expect([res.status, res.headers.get('x-amzn-errortype')]).toEqual([404, 'DeploymentDoesNotExistException']);
    expect((await (await fetch(`${lab.endpoint}/_lab/decisions`)).json()) as unknown).toEqual({ decisions: [] });
  });
});
