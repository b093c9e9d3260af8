import { LabError } from '../../../src/lab/kernel';
import { appSpec, makeLab, revision, START } from './fakes';

const split = (w: number) => ({ functionVersion: '1', additional: { version: '2', weight: w } });
const whole = (v: string) => ({ functionVersion: v });

async function rejection(p: unknown): Promise<LabError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LabError) return err;
    throw err;
  }
  throw new Error('expected a LabError, got success');
}

describe('traffic shifting follows the deployment config exactly', () => {
  const cases: { config: string; shifts: [number, object][]; done: number }[] = [
    { config: 'CodeDeployDefault.LambdaCanary10Percent5Minutes', shifts: [[0, split(0.1)], [300, whole('2')]], done: 300 },
    {
      config: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
      shifts: [
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k): [number, object] => [(k - 1) * 60, split(k / 10)]),
        [540, whole('2')],
      ],
      done: 540,
    },
    { config: 'CodeDeployDefault.LambdaAllAtOnce', shifts: [[0, whole('2')]], done: 0 },
  ];

  it.each(cases)('$config shifts at the documented times', async ({ config, shifts, done }) => {
    const lab = await makeLab({ config });
    const id = await lab.deploy();
    await lab.at(done - 1 >= 0 ? done - 1 : 0);
    if (done > 0) expect((await lab.info(id)).status).toBe('InProgress');
    await lab.at(done + 3600);
    expect(lab.lambda.routings.map((r) => [r.at, r.routing])).toEqual(shifts);
    const info = await lab.info(id);
    expect(info).toMatchObject({ status: 'Succeeded', creator: 'user', computePlatform: 'Lambda', deploymentConfigName: config });
    expect(info.completeTime).toBe((START + done * 1000) / 1000);
    expect(info.createTime).toBe(START / 1000);
  });

  it('shifts a custom linear config until 100 %, the last step capped', async () => {
    const lab = await makeLab();
    await lab.ops.CreateDeploymentConfig({
      deploymentConfigName: 'Linear40Every2',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 40, linearInterval: 2 } },
    });
    await lab.deploy({}, { deploymentConfigName: 'Linear40Every2' });
    await lab.at(3600);
    expect(lab.lambda.routings.map((r) => [r.at, r.routing])).toEqual([
      [0, split(0.4)],
      [120, split(0.8)],
      [240, whole('2')],
    ]);
  });
});

describe('lifecycle hooks', () => {
  it('invokes BeforeAllowTraffic with the deployment and execution ids and shifts once it reports Succeeded', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_pre' });
    expect(lab.lambda.invocations).toHaveLength(1);
    const { fn, payload } = lab.lambda.invocations[0];
    expect(fn).toBe('CodeDeployHook_pre');
    expect(payload.DeploymentId).toBe(id);
    await lab.at(120);
    expect(lab.lambda.routings).toEqual([]);
    await lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: id, lifecycleEventHookExecutionId: payload.LifecycleEventHookExecutionId, status: 'Succeeded' });
    expect(lab.lambda.routings.map((r) => [r.at, r.routing])).toEqual([[120, split(0.1)]]);
    await lab.at(420);
    expect((await lab.info(id)).status).toBe('Succeeded');
  });

  const outcomes: { name: string; hook: 'before' | 'after'; report?: 'Failed'; code: string; failedAt: number; routings: number }[] = [
    { name: 'BeforeAllowTraffic reports Failed', hook: 'before', report: 'Failed', code: 'HOOK_EXECUTION_FAILURE', failedAt: 10, routings: 0 },
    { name: 'BeforeAllowTraffic never reports', hook: 'before', code: 'TIMEOUT', failedAt: 3600, routings: 0 },
    { name: 'AfterAllowTraffic reports Failed', hook: 'after', report: 'Failed', code: 'HOOK_EXECUTION_FAILURE', failedAt: 310, routings: 2 },
    { name: 'AfterAllowTraffic never reports', hook: 'after', code: 'TIMEOUT', failedAt: 300 + 3600, routings: 2 },
  ];

  it.each(outcomes)('fails the deployment when $name', async ({ hook, report, code, failedAt, routings }) => {
    const lab = await makeLab();
    const id = await lab.deploy(hook === 'before' ? { before: 'CodeDeployHook_pre' } : { after: 'CodeDeployHook_post' });
    if (report) {
      await lab.at(failedAt);
      const exec = lab.lambda.invocations[0].payload.LifecycleEventHookExecutionId;
      await lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: id, lifecycleEventHookExecutionId: exec, status: report });
    } else {
      await lab.at(failedAt - 1);
      expect((await lab.info(id)).status).toBe('InProgress');
      await lab.at(failedAt);
    }
    const info = await lab.info(id);
    expect(info).toMatchObject({ status: 'Failed', errorInformation: { code } });
    expect(info.completeTime).toBe((START + failedAt * 1000) / 1000);
    expect(lab.lambda.routings).toHaveLength(routings);
    // Without auto-rollback the alias stays where the deployment left it.
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(routings ? whole('2') : whole('1'));
  });

  it('rejects reports with an unknown execution id, an invalid status, or for a completed event', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_pre' });
    const exec = lab.lambda.invocations[0].payload.LifecycleEventHookExecutionId;
    const put = (over: Record<string, unknown>) => lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: id, lifecycleEventHookExecutionId: exec, status: 'Succeeded', ...over });
    expect((await rejection(put({ lifecycleEventHookExecutionId: 'nope' }))).code).toBe('InvalidLifecycleEventHookExecutionIdException');
    expect((await rejection(put({ status: 'Skipped' }))).code).toBe('InvalidLifecycleEventHookExecutionStatusException');
    expect((await rejection(put({ deploymentId: 'd-NOTTHERE1' }))).code).toBe('DeploymentDoesNotExistException');
    expect((await rejection(put({ deploymentId: 'x' }))).code).toBe('InvalidDeploymentIdException');
    expect((await lab.info(id)).status).toBe('InProgress');
    await put({});
    expect((await rejection(put({}))).code).toBe('LifecycleEventAlreadyCompletedException');
  });

  it('fails when the hook function does not exist', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_missing' });
    expect(await lab.info(id)).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
  });
});

describe('native alarm polling', () => {
  it('stops at the first poll after an alarm goes into ALARM, leaving the alias split', async () => {
    const lab = await makeLab({ alarms: ['errors'] });
    lab.cloudwatch.states.errors = 'OK';
    const id = await lab.deploy();
    await lab.at(90);
    lab.cloudwatch.states.errors = 'ALARM';
    await lab.at(119);
    expect((await lab.info(id)).status).toBe('InProgress');
    await lab.at(120);
    const info = await lab.info(id);
    expect(info).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
    expect(info.completeTime).toBe((START + 120_000) / 1000);
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(split(0.1));
    expect(lab.cd.timeline(id).find((e) => e.type === 'stop')).toMatchObject({ at: START + 120_000, code: 'ALARM_ACTIVE', rollback: false });
  });

  it('polls at the configured interval', async () => {
    const lab = await makeLab({ alarms: ['errors'] }, 120);
    lab.cloudwatch.states.errors = 'OK';
    const id = await lab.deploy();
    await lab.at(121);
    lab.cloudwatch.states.errors = 'ALARM';
    await lab.at(239);
    expect((await lab.info(id)).status).toBe('InProgress');
    await lab.at(240);
    expect((await lab.info(id)).status).toBe('Stopped');
  });

  const reads: { name: string; state?: 'INSUFFICIENT_DATA'; failing?: boolean; ignore: boolean; status: string }[] = [
    { name: 'an alarm in INSUFFICIENT_DATA', state: 'INSUFFICIENT_DATA', ignore: false, status: 'Succeeded' },
    { name: 'a missing alarm', ignore: false, status: 'Stopped' },
    { name: 'a missing alarm with ignorePollAlarmFailure', ignore: true, status: 'Succeeded' },
    { name: 'CloudWatch failing', state: 'INSUFFICIENT_DATA', failing: true, ignore: false, status: 'Stopped' },
    { name: 'CloudWatch failing with ignorePollAlarmFailure', state: 'INSUFFICIENT_DATA', failing: true, ignore: true, status: 'Succeeded' },
  ];

  it.each(reads)('$name ends in $status', async ({ state, failing, ignore, status }) => {
    const lab = await makeLab({ alarms: ['errors'], ignorePollAlarmFailure: ignore });
    if (state) lab.cloudwatch.states.errors = state;
    lab.cloudwatch.failing = Boolean(failing);
    const id = await lab.deploy();
    await lab.at(600);
    expect((await lab.info(id)).status).toBe(status);
    if (status === 'Stopped') expect((await lab.info(id)).completeTime).toBe(START / 1000);
  });

  it('does not poll when the alarm configuration is disabled', async () => {
    const lab = await makeLab();
    await lab.deploy();
    await lab.at(600);
    expect(lab.cloudwatch.polls).toBe(0);
  });
});

/** Report the i-th hook invocation's status, as the hook function would. */
const reporter = (lab: Awaited<ReturnType<typeof makeLab>>) => (i: number, status: 'Succeeded' | 'Failed') =>
  lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: lab.lambda.invocations[i].payload.DeploymentId, lifecycleEventHookExecutionId: lab.lambda.invocations[i].payload.LifecycleEventHookExecutionId, status });

describe('stops and rollbacks', () => {
  it('StopDeployment with autoRollbackEnabled creates a new rollback deployment that returns the alias to the old version', async () => {
    const lab = await makeLab();
    const id = await lab.deploy();
    await lab.at(60);
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(split(0.1));
    const out = await lab.ops.StopDeployment({ deploymentId: id, autoRollbackEnabled: true });
    expect(out).toMatchObject({ status: 'Succeeded' });
    const stopped = await lab.info(id);
    expect(stopped).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    const rollbackId = (stopped.rollbackInfo as { rollbackDeploymentId: string }).rollbackDeploymentId;
    expect(rollbackId).toMatch(/^d-[A-Z0-9]{9}$/);
    expect(rollbackId).not.toBe(id);
    expect(await lab.info(rollbackId)).toMatchObject({
      status: 'Succeeded',
      creator: 'codeDeployRollback',
      rollbackInfo: { rollbackTriggeringDeploymentId: id },
    });
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(whole('1'));
    // Nothing of the stopped deployment runs later.
    await lab.at(3600);
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(whole('1'));
  });

  it('a rollback deployment runs the lifecycle hooks of the revision it restores: the alias moves back only once BeforeAllowTraffic succeeds', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_pre', after: 'CodeDeployHook_post' });
    const report = reporter(lab);
    await report(0, 'Succeeded');
    await lab.at(60);
    await lab.ops.StopDeployment({ deploymentId: id, autoRollbackEnabled: true });
    const rollbackId = ((await lab.info(id)).rollbackInfo as { rollbackDeploymentId: string }).rollbackDeploymentId;
    expect(lab.lambda.invocations.map((i) => [i.fn, i.payload.DeploymentId])).toEqual([
      ['CodeDeployHook_pre', id],
      ['CodeDeployHook_pre', rollbackId],
    ]);
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(split(0.1));
    expect((await lab.info(rollbackId)).status).toBe('InProgress');
    await report(1, 'Succeeded');
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(whole('1'));
    expect(lab.lambda.invocations.map((i) => i.fn)).toEqual(['CodeDeployHook_pre', 'CodeDeployHook_pre', 'CodeDeployHook_post']);
    await report(2, 'Succeeded');
    expect((await lab.info(rollbackId)).status).toBe('Succeeded');
  });

  it('a hook that fails a rollback deployment leaves the alias split, and nothing rolls the rollback back', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_pre' });
    const report = reporter(lab);
    await report(0, 'Succeeded');
    await lab.at(60);
    await lab.ops.StopDeployment({ deploymentId: id, autoRollbackEnabled: true });
    const rollbackId = ((await lab.info(id)).rollbackInfo as { rollbackDeploymentId: string }).rollbackDeploymentId;
    await report(1, 'Failed');
    expect(await lab.info(rollbackId)).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    expect((await lab.info(rollbackId)).rollbackInfo).not.toHaveProperty('rollbackDeploymentId');
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(split(0.1));
  });

  it('StopDeployment without rollback leaves the alias split between the two versions', async () => {
    const lab = await makeLab({ rollbackEvents: ['DEPLOYMENT_STOP_ON_REQUEST'] });
    const id = await lab.deploy();
    await lab.ops.StopDeployment({ deploymentId: id, autoRollbackEnabled: false });
    expect((await lab.info(id)).rollbackInfo).toBeUndefined();
    expect(lab.lambda.getAlias('fn', 'live')).toEqual(split(0.1));
    expect(lab.cd.deployments()).toHaveLength(1);
  });

  const groupRollbacks: { name: string; events: string[]; trigger: 'alarm' | 'hook' | 'request'; rolledBack: boolean }[] = [
    { name: 'DEPLOYMENT_STOP_ON_ALARM rolls back an alarm stop', events: ['DEPLOYMENT_STOP_ON_ALARM'], trigger: 'alarm', rolledBack: true },
    { name: 'DEPLOYMENT_FAILURE alone does not roll back an alarm stop', events: ['DEPLOYMENT_FAILURE'], trigger: 'alarm', rolledBack: false },
    { name: 'DEPLOYMENT_FAILURE rolls back a failed hook', events: ['DEPLOYMENT_FAILURE'], trigger: 'hook', rolledBack: true },
    { name: 'DEPLOYMENT_STOP_ON_REQUEST applies when the request says nothing', events: ['DEPLOYMENT_STOP_ON_REQUEST'], trigger: 'request', rolledBack: true },
  ];

  it.each(groupRollbacks)('$name', async ({ events, trigger, rolledBack }) => {
    const lab = await makeLab({ alarms: ['errors'], rollbackEvents: events });
    lab.cloudwatch.states.errors = 'OK';
    const id = await lab.deploy(trigger === 'hook' ? { after: 'CodeDeployHook_post' } : {});
    // Mid-canary, or with the AfterAllowTraffic hook running once all traffic has moved.
    await lab.at(trigger === 'hook' ? 300 : 200);
    if (trigger === 'alarm') lab.cloudwatch.states.errors = 'ALARM';
    if (trigger === 'hook') {
      const exec = lab.lambda.invocations[0].payload.LifecycleEventHookExecutionId;
      await lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: id, lifecycleEventHookExecutionId: exec, status: 'Failed' });
    }
    if (trigger === 'request') await lab.ops.StopDeployment({ deploymentId: id });
    if (trigger === 'alarm') await lab.seconds(60);
    const info = await lab.info(id);
    expect(info.status).toBe(trigger === 'hook' ? 'Failed' : 'Stopped');
    expect(Boolean(info.rollbackInfo)).toBe(rolledBack);
    expect(lab.cd.deployments()).toHaveLength(rolledBack ? 2 : 1);
    if (rolledBack) expect(lab.lambda.getAlias('fn', 'live')).toEqual(whole('1'));
  });

  it('refuses to stop a deployment that has completed', async () => {
    const lab = await makeLab({ config: 'CodeDeployDefault.LambdaAllAtOnce' });
    const id = await lab.deploy();
    expect((await lab.info(id)).status).toBe('Succeeded');
    const err = await rejection(lab.ops.StopDeployment({ deploymentId: id }));
    expect(err.code).toBe('DeploymentAlreadyCompletedException');
    expect(lab.cd.deployments()).toHaveLength(1);
  });
});

describe('one deployment in progress per deployment group', () => {
  it('rejects a second deployment while the first runs, and accepts one after it ends', async () => {
    const lab = await makeLab();
    const first = await lab.deploy();
    const err = await rejection(lab.deploy());
    expect(err.code).toBe('DeploymentLimitExceededException');
    expect(err.message).toContain(first);
    expect(err.message).toContain('conflicting deployment');
    expect(lab.cd.deployments()).toHaveLength(1);
    await lab.at(300);
    lab.lambda.addFunction('fn', ['1', '2', '3'], { live: '2' });
    const out = (await lab.ops.CreateDeployment({ applicationName: 'app', deploymentGroupName: 'dg', revision: revision(appSpec({}, ['2', '3'])) })) as { deploymentId: string };
    expect(out.deploymentId).not.toBe(first);
  });

  it('lets another group of the same application deploy meanwhile', async () => {
    const lab = await makeLab();
    await lab.ops.CreateDeploymentGroup({ applicationName: 'app', deploymentGroupName: 'other', serviceRoleArn: 'arn:aws:iam::123456789012:role/cd' });
    await lab.deploy();
    lab.lambda.addFunction('fn', ['1', '2'], { live: '1' });
    await expect(lab.ops.CreateDeployment({ applicationName: 'app', deploymentGroupName: 'other', revision: revision(appSpec()) })).resolves.toBeDefined();
  });
});

describe('deployment records', () => {
  it('derives deployment ids from a counter, so two labs agree', async () => {
    const a = await makeLab();
    const b = await makeLab();
    const ia = await a.deploy();
    const ib = await b.deploy();
    expect(ia).toBe(ib);
    expect(ia).toMatch(/^d-[A-Z0-9]{9}$/);
  });

  it('publishes START and SUCCESS state-change events in EventBridge form', async () => {
    const lab = await makeLab();
    const id = await lab.deploy();
    await lab.at(300);
    const events = lab.events.log.map((l) => ({ at: (l.at - START) / 1000, ...l.event }));
    expect(events).toEqual([
      expect.objectContaining({ at: 0, source: 'aws.codedeploy', detailType: 'CodeDeploy Deployment State-change Notification', detail: expect.objectContaining({ state: 'START', deploymentId: id, application: 'app', deploymentGroup: 'dg', region: 'us-east-1' }) }),
      expect.objectContaining({ at: 300, detail: expect.objectContaining({ state: 'SUCCESS' }) }),
    ]);
    expect(events[0].resources).toEqual(['arn:aws:codedeploy:us-east-1:123456789012:application:app', 'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:app/dg']);
  });

  it('publishes STOP for the stopped deployment, then START and SUCCESS for its rollback', async () => {
    const lab = await makeLab();
    const id = await lab.deploy();
    await lab.ops.StopDeployment({ deploymentId: id, autoRollbackEnabled: true });
    expect(lab.events.log.map((l) => [l.event.detail.deploymentId === id ? 'orig' : 'rollback', l.event.detail.state])).toEqual([
      ['orig', 'START'],
      ['orig', 'STOP'],
      ['rollback', 'START'],
      ['rollback', 'SUCCESS'],
    ]);
  });

  it('keeps a timeline of weights, hook results and the end', async () => {
    const lab = await makeLab();
    const id = await lab.deploy({ before: 'CodeDeployHook_pre' });
    const exec = lab.lambda.invocations[0].payload.LifecycleEventHookExecutionId;
    await lab.at(30);
    await lab.ops.PutLifecycleEventHookExecutionStatus({ deploymentId: id, lifecycleEventHookExecutionId: exec, status: 'Succeeded' });
    await lab.at(400);
    const t = lab.cd.timeline(id).map((e) => [(e.at - START) / 1000, e.type, e.type === 'status' ? e.status : e.type === 'hook' ? e.result : e.type === 'traffic' ? e.targetWeight : '']);
    expect(t).toEqual([
      [0, 'status', 'Created'],
      [0, 'status', 'InProgress'],
      [0, 'hook', 'Invoked'],
      [30, 'hook', 'Succeeded'],
      [30, 'traffic', 0.1],
      [330, 'traffic', 1],
      [330, 'status', 'Succeeded'],
    ]);
  });

  it('fails a deployment whose AppSpec CurrentVersion is not what the alias points to', async () => {
    const lab = await makeLab();
    lab.lambda.addFunction('fn', ['1', '2', '3'], { live: '3' });
    const id = await lab.deploy();
    expect(await lab.info(id)).toMatchObject({ status: 'Failed', errorInformation: { code: 'INVALID_LAMBDA_CONFIGURATION' } });
    expect(lab.lambda.routings).toEqual([]);
  });
});

describe('malformed input', () => {
  const junk: unknown[] = [null, 0, -1, 1.5, '', 'x', 'd-AAAAAAAAA', true, [], [1], ['x'], {}, { a: 1 }, { name: 5 }, 'x'.repeat(101)];
  const fields: Record<string, string[]> = {
    CreateApplication: ['applicationName', 'computePlatform'],
    GetApplication: ['applicationName'],
    CreateDeploymentGroup: ['applicationName', 'deploymentGroupName', 'deploymentConfigName', 'serviceRoleArn', 'alarmConfiguration', 'autoRollbackConfiguration', 'deploymentStyle'],
    GetDeploymentGroup: ['applicationName', 'deploymentGroupName'],
    ListDeploymentGroups: ['applicationName', 'nextToken'],
    CreateDeploymentConfig: ['deploymentConfigName', 'computePlatform', 'trafficRoutingConfig', 'minimumHealthyHosts'],
    GetDeploymentConfig: ['deploymentConfigName'],
    CreateDeployment: ['applicationName', 'deploymentGroupName', 'deploymentConfigName', 'revision', 'description', 'autoRollbackConfiguration'],
    GetDeployment: ['deploymentId'],
    BatchGetDeployments: ['deploymentIds'],
    ListDeployments: ['applicationName', 'deploymentGroupName', 'includeOnlyStatuses', 'createTimeRange', 'nextToken'],
    StopDeployment: ['deploymentId', 'autoRollbackEnabled'],
    PutLifecycleEventHookExecutionStatus: ['deploymentId', 'lifecycleEventHookExecutionId', 'status'],
  };
  const valid: Record<string, Record<string, unknown>> = {
    CreateDeploymentGroup: { applicationName: 'app', deploymentGroupName: 'g2' },
    GetDeploymentGroup: { applicationName: 'app', deploymentGroupName: 'dg' },
    CreateDeploymentConfig: { deploymentConfigName: 'c2', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'AllAtOnce' } },
    CreateDeployment: { applicationName: 'app', deploymentGroupName: 'dg', revision: revision(appSpec()) },
    ListDeployments: { applicationName: 'app', deploymentGroupName: 'dg' },
  };

  it('answers every malformed field with a LabError, never a crash', async () => {
    const lab = await makeLab({ config: 'CodeDeployDefault.LambdaAllAtOnce' });
    for (const [op, names] of Object.entries(fields)) {
      for (const field of names) {
        for (const v of junk) {
          try {
            await lab.ops[op]({ ...(valid[op] ?? {}), [field]: v });
          } catch (err) {
            if (!(err instanceof LabError)) throw new Error(`${op} with ${field}=${JSON.stringify(v)} crashed: ${(err as Error).message}`, { cause: err });
          }
        }
      }
    }
  });
});

describe('ListDeployments', () => {
  it('pages by nextToken, newest first, and filters by status', async () => {
    const lab = await makeLab({ config: 'CodeDeployDefault.LambdaAllAtOnce' });
    // The first succeeds; the rest fail at once (the alias no longer points to CurrentVersion 1).
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) ids.push(lab.cd.createDeploymentFor('app', 'dg', appSpec()));
    const list = (input: Record<string, unknown>) => lab.ops.ListDeployments({ applicationName: 'app', deploymentGroupName: 'dg', ...input }) as Promise<{ deployments: string[]; nextToken?: string }>;
    const first = await list({});
    expect(first.deployments).toHaveLength(100);
    expect(first.deployments[0]).toBe(ids[100]);
    const second = await list({ nextToken: first.nextToken });
    expect(second).toEqual({ deployments: [ids[0]], nextToken: undefined });
    expect((await list({ includeOnlyStatuses: ['Succeeded'] })).deployments).toEqual([ids[0]]);
    expect(new Set(ids).size).toBe(101);
  });
});
