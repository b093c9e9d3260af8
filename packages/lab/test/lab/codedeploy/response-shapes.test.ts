/**
 * CodeDeploy's read operations (GetDeployment, GetDeploymentGroup, ListDeployments) checked against
 * their output shapes in botocore's service model: no member the shape lacks, every value of the
 * shape's type, and every field a Lambda deployment has that the lab knows present.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentGroupInfo.html
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { loadModel, missing, shapeProblems } from '../shapes/check';
import { appSpec } from './fakes';

const model = loadModel('codedeploy');
let lab: Lab;
let codeDir: string;
let first: string;
let second: string;

async function call(op: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(lab.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${op}` }, body: JSON.stringify(body) });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${op}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}
const deploy = async (versions: [string, string]) =>
  (await call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'dg', description: `${versions[0]} to ${versions[1]}`, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec({}, versions) } } })).deploymentId as string;
const info = async (id: string) => (await call('GetDeployment', { deploymentId: id })).deploymentInfo as Record<string, unknown>;

beforeAll(async () => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-codedeploy-shapes-'));
  writeFileSync(join(codeDir, 'index.js'), 'exports.handler = async () => "ok";\n');
  lab = new Lab({ warm: false });
  await lab.start();
  lab.lambda.createFunction({ name: 'fn', handler: 'index.handler', codeDir });
  lab.lambda.publishVersion('fn', {}, 'a');
  lab.lambda.publishVersion('fn', {}, 'b');
  lab.lambda.createAlias('fn', 'live', { functionVersion: '1' });
  await call('CreateApplication', { applicationName: 'app', computePlatform: 'Lambda' });
  await call('CreateDeploymentGroup', {
    applicationName: 'app', deploymentGroupName: 'dg', serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
    deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  });
  first = await deploy(['1', '2']);
  for (let i = 0; i < 60 && (await info(first)).status !== 'Succeeded'; i++) await lab.advance(5);
  second = await deploy(['2', '1']);
});
afterAll(async () => {
  await lab.stop();
  rmSync(codeDir, { recursive: true, force: true });
});

/** What every Lambda deployment describes. */
const DEPLOYMENT = ['applicationName', 'deploymentGroupName', 'deploymentConfigName', 'deploymentId', 'revision.revisionType', 'revision.appSpecContent.sha256', 'status', 'createTime', 'deploymentOverview', 'description', 'creator', 'ignoreApplicationStopFailures', 'autoRollbackConfiguration.enabled', 'updateOutdatedInstancesOnly', 'deploymentStyle.deploymentType', 'instanceTerminationWaitTimeStarted', 'deploymentStatusMessages', 'computePlatform'];

describe('GetDeployment', () => {
  it('a finished deployment: every member in the output shape, with its start and completion times', async () => {
    const out = await call('GetDeployment', { deploymentId: first });
    expect(shapeProblems(model, 'GetDeployment', out)).toEqual([]);
    const d = out.deploymentInfo as Record<string, unknown>;
    expect(d.status).toBe('Succeeded');
    expect(missing(d, [...DEPLOYMENT, 'startTime', 'completeTime'])).toEqual([]);
    // The group's first deployment has no revision before it.
    expect(d.previousRevision).toBeUndefined();
  });

  it('a later deployment names the revision the group had before it (previousRevision)', async () => {
    const out = await call('GetDeployment', { deploymentId: second });
    expect(shapeProblems(model, 'GetDeployment', out)).toEqual([]);
    const d = out.deploymentInfo as Record<string, unknown>;
    expect(missing(d, [...DEPLOYMENT, 'previousRevision.revisionType'])).toEqual([]);
    expect((d.previousRevision as { appSpecContent: { sha256: string } }).appSpecContent.sha256).toBe(((await info(first)).revision as { appSpecContent: { sha256: string } }).appSpecContent.sha256);
  });
});

describe('GetDeploymentGroup', () => {
  it('every member in the output shape, with its last attempted and last successful deployments and target revision', async () => {
    const out = await call('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'dg' });
    expect(shapeProblems(model, 'GetDeploymentGroup', out)).toEqual([]);
    const g = out.deploymentGroupInfo as Record<string, unknown>;
    expect(missing(g, ['applicationName', 'deploymentGroupId', 'deploymentGroupName', 'deploymentConfigName', 'serviceRoleArn', 'alarmConfiguration', 'autoRollbackConfiguration', 'deploymentStyle', 'computePlatform', 'targetRevision.revisionType', 'lastSuccessfulDeployment.deploymentId', 'lastSuccessfulDeployment.status', 'lastSuccessfulDeployment.endTime', 'lastSuccessfulDeployment.createTime', 'lastAttemptedDeployment.deploymentId', 'lastAttemptedDeployment.status', 'lastAttemptedDeployment.createTime'])).toEqual([]);
    // AllAtOnce without hooks may already have finished the second deployment.
    const latest = (await info(second)).status === 'Succeeded' ? second : first;
    expect((g.lastSuccessfulDeployment as { deploymentId: string }).deploymentId).toBe(latest);
    expect((g.targetRevision as { appSpecContent: { sha256: string } }).appSpecContent.sha256).toBe(((await info(latest)).revision as { appSpecContent: { sha256: string } }).appSpecContent.sha256);
    expect((g.lastAttemptedDeployment as { deploymentId: string }).deploymentId).toBe(second);
  });
});

describe('a stopped deployment and its rollback', () => {
  it('describe errorInformation and rollbackInfo in the output shape (their codes among the model\'s)', async () => {
    await call('CreateDeploymentGroup', {
      applicationName: 'app', deploymentGroupName: 'slow', serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_REQUEST'] },
    });
    // From the version the alias is on now to the other one.
    const now = lab.lambda.getAlias('fn', 'live')!.functionVersion;
    const live: [string, string] = now === '1' ? ['1', '2'] : ['2', '1'];
    const id = (await call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'slow', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec({}, live) } } })).deploymentId as string;
    await lab.advance(5);
    await call('StopDeployment', { deploymentId: id, autoRollbackEnabled: true });
    await lab.advance(5);
    const stopped = await call('GetDeployment', { deploymentId: id });
    expect(shapeProblems(model, 'GetDeployment', stopped)).toEqual([]);
    const d = stopped.deploymentInfo as Record<string, unknown>;
    expect(missing(d, ['errorInformation.code', 'errorInformation.message', 'rollbackInfo.rollbackDeploymentId'])).toEqual([]);
    const rollback = await call('GetDeployment', { deploymentId: (d.rollbackInfo as { rollbackDeploymentId: string }).rollbackDeploymentId });
    expect(shapeProblems(model, 'GetDeployment', rollback)).toEqual([]);
    expect(missing(rollback.deploymentInfo, ['rollbackInfo.rollbackTriggeringDeploymentId', 'creator'])).toEqual([]);
  });
});

describe('ListDeployments', () => {
  it('every member in the output shape, newest first', async () => {
    const out = await call('ListDeployments', { applicationName: 'app', deploymentGroupName: 'dg' });
    expect(shapeProblems(model, 'ListDeployments', out)).toEqual([]);
    expect(out.deployments).toEqual([second, first]);
  });
});
