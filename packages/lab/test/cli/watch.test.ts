import 'aws-sdk-client-mock-jest';
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStackResourcesCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentGroupsCommand, ListDeploymentsCommand, type DeploymentInfo, type DeploymentStatus, type GetDeploymentCommandOutput } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { runDeploy, stacksInMotion } from '../../src/cli/deploy';
import { CliError, EXIT, worstExit } from '../../src/cli/exit-codes';
import { shareOf, Watcher, wrap, type WatchTarget } from '../../src/cli/watch';
import { watchTarget } from '../../src/cli/watch-command';

const cd = mockClient(CodeDeployClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBDocumentClient);
const cfn = mockClient(CloudFormationClient);

const appSpec = (fn: string) =>
  JSON.stringify({
    version: 0.0,
    Resources: [{ [fn]: { Type: 'AWS::Lambda::Function', Properties: { Name: fn, Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }],
    Hooks: [{ BeforeAllowTraffic: 'CodeDeployHook_pre' }, { AfterAllowTraffic: 'CodeDeployHook_post' }],
  });
const deployment = (id: string, status: DeploymentStatus, extra: Partial<DeploymentInfo> = {}): GetDeploymentCommandOutput => ({
  $metadata: {},
  deploymentInfo: { deploymentId: id, applicationName: 'app', deploymentGroupName: 'dg', deploymentConfigName: 'cfg', status, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec('orders') } }, ...extra },
});
const rollback: DecisionRecord = {
  type: 'canary-watchdog.decision',
  schemaVersion: 1,
  at: '2026-01-01T00:05:00.000Z',
  trigger: 'schedule',
  deploymentId: 'd-1',
  application: 'app',
  deploymentGroup: 'dg',
  functionName: 'orders',
  alias: 'live',
  currentVersion: '1',
  targetVersion: '2',
  trafficPercent: 10,
  stage: 'shifting',
  action: 'rollback',
  layer: 'new-version',
  reasons: ['new-version/errors failed: 9 of 40 (22.50 %)'],
  layers: [{ name: 'new-version', outcome: 'failed', consecutiveUnreadable: 0 }],
  evidence: [{ layer: 'new-version', signal: 'errors', outcome: 'failed', observed: 0.225, threshold: '> 0.05', sampleSize: 40, window: null, note: '' }],
  actionTaken: 'stop-deployment',
  actionResult: 'ok',
};

function watcher(target: WatchTarget, extra: { table?: string; waitForUpdateMs?: number } = {}) {
  let out = '';
  let clock = 0;
  const w = new Watcher(
    { codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), dynamodb: new DynamoDBClient({}), cloudformation: new CloudFormationClient({}) },
    { target, intervalMs: 1000, timeoutMs: 60_000, columns: 100, out: (s) => (out += s), sleep: async (ms) => void (clock += ms), now: () => clock, ...extra },
  );
  return { w, out: () => out };
}

beforeEach(() => {
  for (const m of [cd, lambda, ddb, cfn]) m.reset();
  lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { CANARY_WATCHDOG_STATE_TABLE: 'state-table' } } });
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
});

describe('Watcher.follow', () => {
  it("reads the decision records from the state table the hook's environment names, and exits 1 with the deciding layer on a rollback", async () => {
    // Prepare
    cd.on(GetDeploymentCommand).resolvesOnce(deployment('d-1', 'InProgress')).resolves(deployment('d-1', 'Stopped', { rollbackInfo: { rollbackDeploymentId: 'd-2' } }));
    ddb.on(GetCommand).resolves({ Item: { decisions: [rollback] } });
    const { w, out } = watcher({ deployment: 'd-1' });
    // Act
    const result = await w.run();
    // Assess
    expect(lambda).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: 'CodeDeployHook_pre' });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: 'state-table', Key: { deploymentId: 'd-1' }, ConsistentRead: true });
    expect(result).toMatchObject({ exitCode: EXIT.failed, deployments: [{ deploymentId: 'd-1', outcome: 'rolled-back', rollbackDeploymentId: 'd-2', reason: 'layer new-version: new-version/errors failed: 9 of 40 (22.50 %)' }] });
    expect(out()).toContain('InProgress | traffic 10 % new | stage shifting | layers new-version failed');
    expect(out()).toContain('evidence: new-version/errors failed: observed 22.50 % against > 0.05 on 40 samples');
  });

  it('takes --table over the hook environment', async () => {
    cd.on(GetDeploymentCommand).resolves(deployment('d-1', 'Succeeded'));
    ddb.on(GetCommand).resolves({});
    const { w } = watcher({ deployment: 'd-1' }, { table: 'mine' });
    expect((await w.run()).exitCode).toBe(EXIT.ok);
    expect(lambda).not.toHaveReceivedCommand(GetFunctionConfigurationCommand);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: 'mine' });
  });

  it('still reaches the verdict from CodeDeploy when the state table cannot be read, and says so once', async () => {
    cd.on(GetDeploymentCommand).resolvesOnce(deployment('d-1', 'InProgress')).resolves(deployment('d-1', 'Stopped', { errorInformation: { code: 'ALARM_ACTIVE', message: 'alarm orders-errors is in ALARM' } }));
    ddb.on(GetCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const { w, out } = watcher({ deployment: 'd-1' });
    const result = await w.run();
    expect(result).toMatchObject({ exitCode: EXIT.failed, deployments: [{ outcome: 'stopped', reason: 'alarm orders-errors is in ALARM' }] });
    expect(out().match(/decision records unreadable/g)).toHaveLength(1);
  });

  it("gives the pre-traffic hook's reasons for a release it failed before any traffic", async () => {
    cd.on(GetDeploymentCommand).resolves(deployment('d-1', 'Failed', { errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'The BeforeAllowTraffic hook reported Failed' } }));
    ddb.on(GetCommand).resolves({ Item: { preTraffic: { hookExecutionId: 'h-1', status: 'Failed', reasons: ['config TAX_RATE: expected a number, got "abc"'] } } });
    const { w, out } = watcher({ deployment: 'd-1' });
    const result = await w.run();
    expect(result).toMatchObject({ exitCode: EXIT.failed, deployments: [{ outcome: 'failed', reason: 'pre-traffic hook: config TAX_RATE: expected a number, got "abc"' }] });
    expect(out()).toContain('pre-traffic hook reported Failed');
    // The reason is printed once: in the verdict line the command ends with (standard error), not also in the follow lines.
    expect(`${out()}\n${result.summary}`.match(/config TAX_RATE/g)).toHaveLength(1);
    expect(result.summary).toBe('d-1 failed: pre-traffic hook: config TAX_RATE: expected a number, got "abc"');
  });

  it('exits 3 when CodeDeploy cannot be read five times in a row', async () => {
    cd.on(GetDeploymentCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { w } = watcher({ deployment: 'd-1' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.unobservable, deployments: [{ outcome: 'unobservable' }] });
    expect(cd).toHaveReceivedCommandTimes(GetDeploymentCommand, 5);
  });

  it('exits 2 for a deployment id CodeDeploy does not know', async () => {
    cd.on(GetDeploymentCommand).rejects(Object.assign(new Error('no such deployment'), { name: 'DeploymentDoesNotExistException' }));
    const { w } = watcher({ deployment: 'd-nope' });
    await expect(w.run()).rejects.toMatchObject({ exitCode: EXIT.badInput, message: expect.stringContaining('--deployment: d-nope does not exist') });
  });

  it('exits 3 at the timeout while the deployment is still in progress', async () => {
    cd.on(GetDeploymentCommand).resolves(deployment('d-1', 'InProgress'));
    ddb.on(GetCommand).resolves({});
    const { w } = watcher({ deployment: 'd-1' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.unobservable, deployments: [{ reason: 'still InProgress at the timeout' }] });
  });
});

describe('Watcher with --application and --group', () => {
  it('waits for the next deployment of the group, then follows it', async () => {
    cd.on(ListDeploymentsCommand).resolvesOnce({ deployments: [] }).resolves({ deployments: ['d-7'] });
    cd.on(GetDeploymentCommand).resolves(deployment('d-7', 'Succeeded'));
    ddb.on(GetCommand).resolves({});
    const { w } = watcher({ application: 'app', group: 'dg' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.ok, deployments: [{ deploymentId: 'd-7', outcome: 'completed' }] });
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, { applicationName: 'app', deploymentGroupName: 'dg', includeOnlyStatuses: expect.arrayContaining(['InProgress']) });
  });
});

describe('Watcher with --stack', () => {
  const began = new Date('2026-01-01T00:10:00Z');
  beforeEach(() => {
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        { StackName: 'S', LogicalResourceId: 'Fn', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'UPDATE_IN_PROGRESS', Timestamp: new Date('2026-01-01T00:10:05Z'), EventId: '2', StackId: 's' },
        { StackName: 'S', LogicalResourceId: 'S', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_IN_PROGRESS', Timestamp: began, EventId: '1', StackId: 's' },
      ],
    });
    cfn.on(DescribeStackResourcesCommand).resolves({
      StackResources: [
        { LogicalResourceId: 'App', PhysicalResourceId: 'app', ResourceType: 'AWS::CodeDeploy::Application', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: began },
        { LogicalResourceId: 'Dg', PhysicalResourceId: 'dg', ResourceType: 'AWS::CodeDeploy::DeploymentGroup', ResourceStatus: 'UPDATE_COMPLETE', Timestamp: began },
      ],
    });
    cd.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: ['dg', 'other-stack-dg'] });
    ddb.on(GetCommand).resolves({ Item: { decisions: [rollback] } });
  });

  it("follows the deployments of the stack's groups created since its update began, skips CloudFormation's rollback deployment, and exits 1", async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: began }] }).resolves({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: began }] });
    cd.on(ListDeploymentsCommand).resolvesOnce({ deployments: ['d-1'] }).resolves({ deployments: ['d-1', 'd-2'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-1' }).resolves(deployment('d-1', 'Stopped', { rollbackInfo: { rollbackDeploymentId: 'd-2' } }));
    cd.on(GetDeploymentCommand, { deploymentId: 'd-2' }).resolves(deployment('d-2', 'Succeeded', { creator: 'CloudFormationRollback' }));
    const { w, out } = watcher({ stack: 'S' });
    const result = await w.run();
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, { applicationName: 'app', deploymentGroupName: 'dg', createTimeRange: { start: began } });
    expect(cd).not.toHaveReceivedCommandWith(ListDeploymentsCommand, { deploymentGroupName: 'other-stack-dg' });
    expect(result.exitCode).toBe(EXIT.failed);
    expect(result.deployments.map((d) => d.deploymentId)).toEqual(['d-1']);
    expect(out()).toContain('stack S: UPDATE_ROLLBACK_COMPLETE');
  });

  it('exits 0 for a stack update that started no guarded deployment', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: began }] }).resolves({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_COMPLETE', CreationTime: began }] });
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const { w } = watcher({ stack: 'S' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.ok, summary: 'stack S UPDATE_COMPLETE without a guarded deployment' });
  });
});

describe('Watcher with --stack, started before cdk deploy began the update', () => {
  const created = new Date('2026-01-01T00:00:00Z');
  const began = new Date('2026-01-01T00:10:00Z');
  const complete: { Stacks: Stack[] } = { Stacks: [{ StackName: 'S', StackStatus: 'CREATE_COMPLETE', CreationTime: created }] };
  /** Whether CloudFormation has begun the update: its events say so only from then on. */
  let updating = false;
  const stacks = (...answers: { Stacks: Stack[] }[]) => {
    let i = 0;
    cfn.on(DescribeStacksCommand).callsFake(() => {
      const a = answers[Math.min(i++, answers.length - 1)];
      if (a.Stacks[0].LastUpdatedTime) updating = true;
      return a;
    });
  };
  beforeEach(() => {
    updating = false;
    const event = (status: string, at: Date, id: string) => ({ StackName: 'S', LogicalResourceId: 'S', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: status, Timestamp: at, EventId: id, StackId: 's' });
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: [...(updating ? [event('UPDATE_IN_PROGRESS', began, '2')] : []), event('CREATE_COMPLETE', created, '1b'), event('CREATE_IN_PROGRESS', created, '1')] }));
    cfn.on(DescribeStackResourcesCommand).resolves({
      StackResources: [
        { LogicalResourceId: 'App', PhysicalResourceId: 'app', ResourceType: 'AWS::CodeDeploy::Application', ResourceStatus: 'CREATE_COMPLETE', Timestamp: created },
        { LogicalResourceId: 'Dg', PhysicalResourceId: 'dg', ResourceType: 'AWS::CodeDeploy::DeploymentGroup', ResourceStatus: 'CREATE_COMPLETE', Timestamp: created },
      ],
    });
    cd.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: ['dg'] });
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    ddb.on(GetCommand).resolves({ Item: { decisions: [rollback] } });
  });

  it("waits for the stack's update to begin (UPDATE_IN_PROGRESS), then follows the deployment it starts", async () => {
    // CREATE_COMPLETE twice (cdk is still synthesizing and publishing assets), then the update.
    stacks(complete, complete, { Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: created, LastUpdatedTime: began }] }, { Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: created, LastUpdatedTime: began }] });
    cd.on(ListDeploymentsCommand, { createTimeRange: { start: began } }).resolves({ deployments: ['d-1'] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-1' }).resolves(deployment('d-1', 'Stopped', { rollbackInfo: { rollbackDeploymentId: 'd-2' } }));
    const { w, out } = watcher({ stack: 'S' });
    const result = await w.run();
    expect(out()).toContain('stack S: CREATE_COMPLETE; waiting up to 15 min for its update to begin');
    expect(result).toMatchObject({ exitCode: EXIT.failed, deployments: [{ deploymentId: 'd-1', outcome: 'rolled-back' }] });
  });

  it('follows a new deployment of a guarded group even before the stack reads as in progress', async () => {
    // The deployment shows before DescribeStacks does (CloudFormation's reads lag): the update's events are there.
    let polls = 0;
    cd.on(ListDeploymentsCommand).callsFake((input: { createTimeRange?: { start?: Date } }) => {
      // The update's deployments, since it began; the deployments in progress, the second poll on.
      if (input.createTimeRange) return { deployments: input.createTimeRange.start?.getTime() === began.getTime() ? ['d-1'] : [] };
      if (++polls < 2) return { deployments: [] };
      updating = true;
      return { deployments: ['d-1'] };
    });
    cfn.on(DescribeStacksCommand).resolvesOnce(complete).resolvesOnce(complete).resolvesOnce(complete).resolves({ Stacks: [{ StackName: 'S', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: created, LastUpdatedTime: began }] });
    cd.on(GetDeploymentCommand, { deploymentId: 'd-1' }).resolves(deployment('d-1', 'Stopped', { rollbackInfo: { rollbackDeploymentId: 'd-2' } }));
    const { w } = watcher({ stack: 'S' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.failed, deployments: [{ deploymentId: 'd-1', outcome: 'rolled-back' }] });
  });

  it('waits for a stack that does not exist yet (the first cdk deploy creates it)', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(Object.assign(new Error('Stack with id S does not exist'), { name: 'ValidationError' }))
      .resolvesOnce({ Stacks: [{ StackName: 'S', StackStatus: 'CREATE_IN_PROGRESS', CreationTime: began }] })
      .resolves({ Stacks: [{ StackName: 'S', StackStatus: 'CREATE_COMPLETE', CreationTime: began }] });
    const { w, out } = watcher({ stack: 'S' });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.ok, summary: 'stack S CREATE_COMPLETE without a guarded deployment' });
    expect(out()).toContain('stack S: does not exist yet; waiting up to 15 min for it to be created');
  });

  it('exits 3, not 0, when no update begins within --wait-for-update, saying so', async () => {
    stacks(complete);
    const { w } = watcher({ stack: 'S' });
    const result = await w.run();
    expect(result).toEqual({ exitCode: EXIT.unobservable, deployments: [], summary: 'stack S: no update began within 15 min of waiting (it is CREATE_COMPLETE); start cdk deploy first, raise --wait-for-update, or --wait-for-update 0 to report its last update' });
  });

  it('with --wait-for-update 0, reports the stack as it is: its last update', async () => {
    stacks(complete);
    const { w } = watcher({ stack: 'S' }, { waitForUpdateMs: 0 });
    expect(await w.run()).toMatchObject({ exitCode: EXIT.ok, summary: 'stack S CREATE_COMPLETE without a guarded deployment' });
  });
});

describe('deploy interrupted', () => {
  it('passes a SIGINT on to cdk, stops following and ends with 130, saying nothing had begun', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [] });
    const interrupt = new AbortController();
    let out = '';
    // A cdk that runs until it is sent SIGINT, then exits 130 as the CDK CLI does.
    const cdk = [process.execPath, '-e', "process.on('SIGINT', () => process.exit(130)); setTimeout(() => {}, 60000);"];
    const clients = { codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), dynamodb: new DynamoDBClient({}), cloudformation: new CloudFormationClient({}) };
    setTimeout(() => interrupt.abort(new CliError(EXIT.interrupted, 'interrupted (SIGINT): stopping')), 500);
    const result = await runDeploy(clients, [], { cdk, intervalMs: 100, timeoutMs: 60_000, columns: 100, out: (x) => (out += x), interrupt: interrupt.signal });
    expect(result).toMatchObject({ exitCode: EXIT.interrupted, cdkStatus: 130, summary: 'interrupted (SIGINT) before any guarded release began' });
    expect(out).toBe('');
  }, 20_000);
});

describe('watch helpers', () => {
  it.each<[string, Record<string, string>, string | WatchTarget]>([
    ['one deployment', { deployment: 'd-1' }, { deployment: 'd-1' }],
    ['a stack', { stack: 'S' }, { stack: 'S' }],
    ['an application and group', { application: 'a', group: 'g' }, { application: 'a', group: 'g' }],
    ['nothing', {}, 'give exactly one of'],
    ['two targets', { deployment: 'd-1', stack: 'S' }, 'give exactly one of'],
    ['a group without its application', { group: 'g' }, '--application and --group go together'],
  ])('watchTarget: %s', (_name, flags, expected) => {
    const f = { interval: 5, timeout: 60, ...flags };
    if (typeof expected === 'string') {
      expect(() => watchTarget(f)).toThrow(CliError);
      expect(() => watchTarget(f)).toThrow(expected);
    } else expect(watchTarget(f)).toEqual(expected);
  });

  it('wraps at spaces to the width, and never cuts a word', () => {
    const lines = wrap('why: new-version/errors failed: 9 of 40 (22.50 %) supercalifragilisticexpialidocious', 20);
    for (const l of lines) expect(l.length <= 20 || !l.trim().includes(' ')).toBe(true);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toBe('why: new-version/errors failed: 9 of 40 (22.50 %) supercalifragilisticexpialidocious');
  });

  it.each([
    [{ FunctionVersion: '2' }, 1],
    [{ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } } }, 0.3],
    [{ FunctionVersion: '1' }, 0],
  ])('shareOf(%j) is %d', (alias, share) => expect(shareOf(alias, '2')).toBe(share));

  it('ranks exit codes worst-first: could not observe, then failed, then ok', () => {
    expect(worstExit([EXIT.ok, EXIT.failed, EXIT.unobservable])).toBe(EXIT.unobservable);
    expect(worstExit([EXIT.ok, EXIT.failed])).toBe(EXIT.failed);
    expect(worstExit([])).toBe(EXIT.ok);
  });

  it('stacksInMotion: a stack under way or changed since the deploy began, not one waiting for review', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const before = new Map([['A', `UPDATE_COMPLETE|${t.toISOString()}`], ['B', `UPDATE_COMPLETE|${t.toISOString()}`]]);
    const now: Stack[] = [
      { StackName: 'A', StackStatus: 'UPDATE_COMPLETE', CreationTime: t, LastUpdatedTime: t },
      { StackName: 'B', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: t, LastUpdatedTime: new Date('2026-01-01T01:00:00Z') },
      { StackName: 'C', StackStatus: 'REVIEW_IN_PROGRESS', CreationTime: t },
      { StackName: 'D', StackStatus: 'CREATE_COMPLETE', CreationTime: t },
    ];
    expect(stacksInMotion(before, now)).toEqual(['B', 'D']);
  });
});
