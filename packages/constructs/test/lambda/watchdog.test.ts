import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { resetSettings, STATE_RETRY_RESERVE_MS } from '../../lambda/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, resetMemory } from '../../lambda/watchdog';
import { DECISION_EVENT_EVERY_MINUTES, decisionEventPhase, type DecisionRecord } from '../../src/core/decision-record';
import { answerAlarms, answerMetrics, BAD_CODE, GOOD, stateTable, type Traffic } from './aws-fakes';
import { answerConfig, appSpec, deploymentInfo, guard, MIN, setEnv, T0 } from './env';
import { watchKey } from '../../src/aws/telemetry';

const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBDocumentClient);
const eb = mockClient(EventBridgeClient);

const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
let items: Map<string, Record<string, unknown>>;
let clock = T0 + 5 * MIN;

function world(opts: { traffic?: Traffic; alarms?: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>; weight?: number; deployments?: ReturnType<typeof deploymentInfo>[] } = {}) {
  const deployments = opts.deployments ?? [deploymentInfo('d-BAD1')];
  cd.on(ListDeploymentsCommand).resolves({ deployments: deployments.map((d) => d.deploymentId) });
  cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
    deploymentsInfo: deployments.filter((d) => input.deploymentIds.includes(d.deploymentId)),
  }));
  cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': opts.weight ?? 0.1 } } });
  answerMetrics(cw, opts.traffic ?? GOOD);
  answerAlarms(cw, opts.alarms);
  cw.on(PutMetricDataCommand).resolves({});
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
}

/** Two guarded groups, and the START event of a deployment in the first. */
async function startEventWithTwoGuards() {
  setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
  world();
  return handler({
    source: 'aws.codedeploy',
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    detail: { deploymentId: 'd-BAD1', application: 'orders-app', deploymentGroup: 'orders-dg', state: 'START' },
  });
}

const decisions = (r: Awaited<ReturnType<typeof handler>>): DecisionRecord[] => ('decisions' in r ? [...r.decisions] : []);
const heartbeats = () => cw.commandCalls(PutMetricDataCommand).filter((c) => c.args[0].input.MetricData?.[0]?.MetricName === 'WatchdogHeartbeat');

beforeEach(() => {
  for (const m of [cd, cw, lambda, ddb, eb]) m.reset();
  setEnv();
  items = stateTable(ddb);
  resetMemory();
  clock = T0 + 5 * MIN;
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
});

afterEach(() => jest.restoreAllMocks());

describe('watchdog handler', () => {
  it("stops the deployment with auto-rollback when the new version's error rate is far above the old one's", async () => {
    // Prepare
    world({ traffic: BAD_CODE });
    // Act
    const run = await handler(schedule);
    // Assess
    expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-BAD1', autoRollbackEnabled: true });
    const [d] = decisions(run);
    expect(d).toMatchObject({ action: 'rollback', layer: 'new-version', actionTaken: 'stop-deployment', actionResult: 'ok', trafficPercent: 10 });
    const errors = d.evidence.find((e) => e.signal === 'errors');
    expect(errors).toMatchObject({ observed: 0.2, sampleSize: 600, outcome: 'failed' });
  });

  it('lets a healthy release proceed, publishes the decision and a heartbeat', async () => {
    world();
    const run = await handler(schedule);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(decisions(run)[0]).toMatchObject({ action: 'proceed', layer: null, stage: 'shifting', actionTaken: 'none' });
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = eb.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(entry).toMatchObject({ Source: 'canary-watchdog', DetailType: 'Canary Watchdog Decision' });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ type: 'canary-watchdog.decision', deploymentId: 'd-BAD1', action: 'proceed' });
    expect(heartbeats()).toHaveLength(1);
    expect(heartbeats()[0].args[0].input).toMatchObject({
      Namespace: 'CanaryWatchdog',
      MetricData: [
        {
          MetricName: 'WatchdogHeartbeat',
          Value: 1,
          Dimensions: [
            { Name: 'Watchdog', Value: 'canary-watchdog' },
            { Name: 'DeploymentGroup', Value: 'orders-app/orders-dg' },
          ],
        },
      ],
    });
    expect(run).toMatchObject({ heartbeat: true, heartbeats: { published: ['orders-app/orders-dg'], withheld: {} } });
  });

  it('derives the traffic share from the schedule once shifting began, without reading the alias', async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 3 * MIN });
    const run = await handler(schedule);
    expect(lambda).not.toHaveReceivedCommand(GetAliasCommand);
    expect(decisions(run)[0]).toMatchObject({ trafficPercent: 10, stage: 'shifting' });
    clock += 8 * MIN;
    const later = await handler(schedule);
    expect(decisions(later)[0]).toMatchObject({ trafficPercent: 100, stage: 'complete' });
  });

  it('writes no state on a steady healthy evaluation, and writes it while a layer is unreadable', async () => {
    world();
    // The first run registers the deployment; the next ones find it there and write nothing.
    await handler(schedule);
    ddb.resetHistory();
    clock += MIN;
    await handler(schedule);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    cw.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    clock += MIN;
    await handler(schedule);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('sends a decision event only when the record says something new, and each deployment\'s periodic one in its minute', async () => {
    // Prepare: a 30-minute canary that began shifting at T0, so the stage and share stay put; the
    // first run lands two minutes before the deployment's periodic minute.
    world({ deployments: [deploymentInfo('d-BAD1', { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' })] });
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0 });
    const phase = decisionEventPhase('d-BAD1');
    clock = T0 + 3 * MIN + 5_000;
    while (Math.floor(clock / MIN) % DECISION_EVENT_EVERY_MINUTES !== (phase + DECISION_EVENT_EVERY_MINUTES - 2) % DECISION_EVENT_EVERY_MINUTES) clock += MIN;
    // The first record is news.
    await handler(schedule);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    // Act: a steady minute, out of the deployment's phase.
    clock += MIN;
    const steady = await handler(schedule);
    // Assess: judged and returned (and logged), not sent.
    expect(decisions(steady)).toMatchObject([{ stage: 'shifting', action: 'proceed' }]);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    // In its minute, a run triggered by an alarm does not send it; the scheduled run does.
    clock += MIN;
    await handler({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 'orders-5xx', state: { value: 'OK' } } });
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    await handler(schedule);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    // A change (the service alarm in ALARM: a rollback) is sent at once, off its phase, by any run.
    clock += MIN;
    answerAlarms(cw, { 'orders-5xx': 'ALARM' }, new Date(clock - 30_000));
    const bad = await handler({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 'orders-5xx', state: { value: 'ALARM' } } });
    expect(decisions(bad)).toMatchObject([{ action: 'rollback', actionTaken: 'stop-deployment' }]);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect(JSON.parse(eb.commandCalls(PutEventsCommand)[2].args[0].input.Entries![0].Detail!)).toMatchObject({ action: 'rollback', deploymentId: 'd-BAD1' });
  });

  it("keeps each decision that says something new in the deployment's state item, where `watch` reads it", async () => {
    // Prepare
    world({ traffic: BAD_CODE });
    items.set('d-BAD1', { deploymentId: 'd-BAD1', decisions: [] });
    // Act
    const run = await handler(schedule);
    // Assess
    const kept = items.get('d-BAD1')!.decisions as DecisionRecord[];
    expect(kept).toEqual([decisions(run)[0]]);
    expect(kept[0]).toMatchObject({ action: 'rollback', layer: 'new-version', actionTaken: 'stop-deployment' });
  });

  it('keeps no second record while nothing changed', async () => {
    world();
    await handler(schedule);
    clock += MIN;
    await handler(schedule);
    expect(items.get('d-BAD1')!.decisions).toHaveLength(1);
  });

  it("reads both versions of every metric in one GetMetricData call, scoped by ExecutedVersion, and the probes' last 2 minutes in another", async () => {
    world();
    await handler(schedule);
    // A third call: the p99 has too few samples to be stable, so the new version's share above
    // the reference from the old version's p99 is read (PR(:reference)) for the exceedance test.
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 3);
    expect(cw.commandCalls(GetMetricDataCommand)[1].args[0].input).toMatchObject({ StartTime: new Date(clock - 2 * MIN), EndTime: new Date(clock) });
    expect(cw.commandCalls(GetMetricDataCommand)[2].args[0].input.MetricDataQueries!.map((q) => [q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat])).toEqual([['Duration', expect.stringMatching(/^PR\(:\d+(\.\d+)?\)$/)]]);
    const queries = cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    const errors = queries.filter((q) => q.MetricStat?.Metric?.MetricName === 'Errors');
    expect(errors.map((q) => q.MetricStat!.Metric!.Dimensions)).toEqual([
      [{ Name: 'FunctionName', Value: 'orders' }, { Name: 'Resource', Value: 'orders:live' }, { Name: 'ExecutedVersion', Value: '2' }],
      [{ Name: 'FunctionName', Value: 'orders' }, { Name: 'Resource', Value: 'orders:live' }, { Name: 'ExecutedVersion', Value: '1' }],
    ]);
  });

  it('reads a metric several deployments share once', async () => {
    world({ deployments: [deploymentInfo('d-1'), deploymentInfo('d-2')] });
    const run = await handler(schedule);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 3);
    // Invocations serves both the error and the throttle rate: 16 distinct queries, not 18; the fresh probe counts 2;
    // the exceedance read of the p99 (too few samples) is one more call, with the one PR(:reference) both share.
    expect(cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries).toHaveLength(16);
    expect(cw.commandCalls(GetMetricDataCommand)[1].args[0].input.MetricDataQueries).toHaveLength(2);
    expect(cw.commandCalls(GetMetricDataCommand)[2].args[0].input.MetricDataQueries).toHaveLength(1);
    expect(decisions(run).map((d) => d.action)).toEqual(['proceed', 'proceed']);
  });

  it.each([
    { alarms: 1, calls: 1 },
    { alarms: 100, calls: 1 },
    { alarms: 250, calls: 3 },
  ])('reads $alarms alarms in $calls DescribeAlarms call(s) of at most 100 names', async ({ alarms, calls }) => {
    const names = Array.from({ length: alarms }, (_, i) => `svc-alarm-${i}`);
    setEnv({ guards: [guard({ alarms: { service: names } })] });
    world();
    await handler(schedule);
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, calls);
    const sent = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames!);
    expect(sent.every((n) => n.length <= 100)).toBe(true);
    expect(sent.flat().sort()).toEqual([...names].sort());
  });

  it('batches 250 guarded deployments into BatchGetDeployments calls of 25 and GetMetricData calls of 500 queries', async () => {
    const n = 250;
    setEnv({ guards: Array.from({ length: n }, (_, i) => guard({ deploymentGroup: `dg-${i}`, functionName: `fn-${i}`, alarms: { service: [`fn-${i}-5xx`] } })) });
    const deployments = Array.from({ length: n }, (_, i) =>
      deploymentInfo(`d-${i}`, {
        deploymentGroupName: `dg-${i}`,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec('1', '2').replace(/orders/g, `fn-${i}`) } },
      }),
    );
    world({ deployments });
    cd.on(ListDeploymentsCommand).callsFake((input: { deploymentGroupName: string }) => ({ deployments: [`d-${input.deploymentGroupName.slice(3)}`] }));
    const run = await handler(schedule);
    expect(cd).toHaveReceivedCommandTimes(BatchGetDeploymentsCommand, 10);
    const queries = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.length);
    // 16 distinct queries a deployment (config checks 2, probes 4, errors 4, throttles 2 more, p99 4): 4,000 in 8 calls;
    // and the probes' last 2 minutes (2 a deployment): 500 in 1 more; the exceedance read of
    // the p99 (too few samples for a stable one), PR(:reference) a deployment: 250 in 1 more.
    expect(queries).toEqual([500, 500, 500, 500, 500, 500, 500, 500, 500, 250]);
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 3);
    expect(decisions(run)).toHaveLength(n);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 25);
  });

  it('refuses to judge a deployment whose AppSpec names another function than its guard, and withholds the heartbeat', async () => {
    world({ deployments: [deploymentInfo('d-X', { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec().replace(/orders/g, 'billing') } } })] });
    const run = await handler(schedule);
    expect(decisions(run)).toHaveLength(0);
    expect('errors' in run && run.errors.join()).toMatch(/deployment d-X moves billing:live, but its group orders-app\/orders-dg guards orders:live/);
    expect(heartbeats()).toHaveLength(0);
  });

  it('is harmless when run again on a deployment that is already stopping: its stop was the final record, nothing follows it', async () => {
    world({ traffic: BAD_CODE });
    await handler(schedule);
    cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('The deployment is already completed.'), { name: 'DeploymentAlreadyCompletedException' }));
    clock += 20_000;
    const second = await handler(schedule);
    expect(decisions(second)).toEqual([]);
    expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    expect('heartbeat' in second && second.heartbeat).toBe(true);
  });

  it('stops a deployment whose stop could not be recorded as done (an error result is not final)', async () => {
    world({ traffic: BAD_CODE });
    cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(decisions(await handler(schedule))[0]).toMatchObject({ actionTaken: 'stop-deployment', actionResult: expect.stringMatching(/^error: /) });
    cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('The deployment is already completed.'), { name: 'DeploymentAlreadyCompletedException' }));
    clock += 20_000;
    expect(decisions(await handler(schedule))[0]).toMatchObject({ action: 'rollback', actionTaken: 'stop-deployment', actionResult: 'already-ended' });
  });

  it('runs concurrently triggered invocations without double counting or crashing', async () => {
    world({ traffic: BAD_CODE });
    const alarmEvent = {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: { alarmName: 'orders-5xx', state: { value: 'ALARM' } },
    };
    const runs = await Promise.all([handler(schedule), handler(alarmEvent)]);
    expect(runs.every((r) => 'decisions' in r)).toBe(true);
    expect(cd.commandCalls(StopDeploymentCommand).every((c) => c.args[0].input.autoRollbackEnabled === true)).toBe(true);
  });

  it('never stops a rollback deployment', async () => {
    world({ traffic: BAD_CODE, deployments: [deploymentInfo('d-RB', { creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BAD1' } })] });
    const run = await handler(schedule);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(decisions(run)).toHaveLength(0);
  });

  it('evaluates only the group of a CodeDeploy state-change event', async () => {
    await startEventWithTwoGuards();
    expect(cd).toHaveReceivedCommandTimes(ListDeploymentsCommand, 1);
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, { applicationName: 'orders-app', deploymentGroupName: 'orders-dg' });
  });

  describe('discovery through the registry of active deployments', () => {
    const listings = () => cd.commandCalls(ListDeploymentsCommand).length;

    it('lists every group on its first run and registers what it found, then reads the registry until a reconciliation is due', async () => {
      world();
      await handler(schedule);
      expect(listings()).toBe(1);
      expect(items.get('#active')).toEqual({ deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock });
      for (let i = 1; i < 10; i++) {
        clock += MIN;
        expect(decisions(await handler(schedule))).toHaveLength(1);
      }
      expect(listings()).toBe(1);
      clock += MIN;
      await handler(schedule);
      expect(listings()).toBe(2);
    });

    it('finds a deployment the pre-traffic hook registered without listing, and drops it from the registry once it ended', async () => {
      world({ traffic: BAD_CODE, deployments: [deploymentInfo('d-BAD1')] });
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock - MIN });
      const run = await handler(schedule);
      expect(listings()).toBe(0);
      expect(decisions(run)[0]).toMatchObject({ deploymentId: 'd-BAD1', action: 'rollback' });
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Stopped' })] });
      clock += MIN;
      await handler(schedule);
      expect(items.get('#active')?.ids).toBeUndefined();
    });

    // What the pre-traffic hook records in the state item: the deployment as it described it.
    const recorded = (id: string) => ({
      deploymentId: id,
      application: 'orders-app',
      deploymentGroup: 'orders-dg',
      status: 'InProgress',
      createdAt: T0,
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent10Minutes',
      appSpec: appSpec(),
      isRollback: false,
    });
    const described = () => cd.commandCalls(BatchGetDeploymentsCommand).flatMap((c) => c.args[0].input.deploymentIds ?? []);

    it('takes a deployment the pre-traffic hook recorded from its state item on steady runs, and describes it on the reconciling run', async () => {
      // Prepare: registered and recorded; the registry was reconciled a minute ago.
      world({ deployments: [deploymentInfo('d-BAD1'), deploymentInfo('d-NEW2', { createTime: new Date(T0 + MIN) })] });
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1', 'd-NEW2']), reconciledAt: clock - MIN });
      items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0, deployment: recorded('d-BAD1') });
      // Act
      const steady = await handler(schedule);
      // Assess: only the deployment without a record is described; both are judged.
      expect(described()).toEqual(['d-NEW2']);
      expect(decisions(steady).map((d) => d.deploymentId).sort()).toEqual(['d-BAD1', 'd-NEW2']);
      // The reconciling run describes every id.
      cd.resetHistory();
      clock += 10 * MIN;
      await handler(schedule);
      expect(listings()).toBe(1);
      expect(described().sort()).toEqual(['d-BAD1', 'd-NEW2']);
    });

    it('describes a recorded deployment named by a state-change event, and drops it from the registry once it ended', async () => {
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Succeeded' })] });
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock - MIN });
      items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0, deployment: recorded('d-BAD1') });
      const run = await handler({
        source: 'aws.codedeploy',
        'detail-type': 'CodeDeploy Deployment State-change Notification',
        detail: { deploymentId: 'd-BAD1', application: 'orders-app', deploymentGroup: 'orders-dg', state: 'SUCCESS' },
      });
      expect(described()).toEqual(['d-BAD1']);
      expect(decisions(run)).toEqual([]);
      expect(items.get('#active')?.ids).toBeUndefined();
    });

    it('worst case, a lost end event: judges a recorded deployment that ended until the reconciling run, where a stop is harmless (already ended)', async () => {
      // Prepare: the deployment was stopped, and its state-change event never arrived.
      world({ traffic: BAD_CODE, deployments: [deploymentInfo('d-BAD1', { status: 'Stopped' })] });
      cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('already completed'), { name: 'DeploymentAlreadyCompletedException' }));
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock - MIN });
      items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0, deployment: recorded('d-BAD1') });
      // Act: steady runs until the reconciliation is due.
      const steady = await handler(schedule);
      // Assess: the stop is answered "already ended", nothing else is done, the heartbeat goes out.
      expect(decisions(steady)).toMatchObject([{ deploymentId: 'd-BAD1', actionTaken: 'stop-deployment', actionResult: 'already-ended' }]);
      expect(steady).toMatchObject({ heartbeat: true });
      clock += 8 * MIN;
      // Its stop ("already ended") was the final record: later runs record nothing more for it.
      expect(decisions(await handler(schedule))).toHaveLength(0);
      expect(described()).toEqual([]);
      // The reconciling run, RECONCILE_EVERY_MS after the last, describes it: ended, dropped, not judged.
      clock += MIN;
      const reconciling = await handler(schedule);
      expect(described()).toEqual(['d-BAD1']);
      expect(decisions(reconciling)).toEqual([]);
      expect(items.get('#active')?.ids).toBeUndefined();
    });

    it('lists every group when the registry cannot be read, and still publishes the heartbeat', async () => {
      world({ traffic: BAD_CODE });
      ddb.on(GetCommand, { Key: { deploymentId: '#active' } }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
      const run = await handler(schedule);
      expect(listings()).toBe(1);
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback' });
      expect(run).toMatchObject({ heartbeat: true });
      expect(heartbeats()).toHaveLength(1);
    });

    it('still publishes the heartbeat when a registry write fails: that run saw everything, the next one reconciles', async () => {
      world();
      ddb.on(UpdateCommand, { Key: { deploymentId: '#active' } }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const run = await handler(schedule);
      expect(run).toMatchObject({ heartbeat: true, errors: [] });
      expect(decisions(run)).toHaveLength(1);
      clock += MIN;
      await handler(schedule);
      expect(listings()).toBe(2);
    });

    it('registers the deployment of a state-change event, without recording a reconciliation of the other groups', async () => {
      await startEventWithTwoGuards();
      expect(items.get('#active')).toEqual({ deploymentId: '#active', ids: new Set(['d-BAD1']) });
      clock += MIN;
      await handler(schedule);
      expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, { applicationName: 'other-app', deploymentGroupName: 'other-dg' });
      expect(items.get('#active')?.reconciledAt).toBe(clock);
    });

    it('never registers a rollback deployment', async () => {
      world({ deployments: [deploymentInfo('d-RB', { creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BAD1' } })] });
      await handler(schedule);
      expect(items.get('#active')).toEqual({ deploymentId: '#active', reconciledAt: clock });
    });
  });

  describe("the watch ends when the deployment ends: the telemetry extension's writes stop", () => {
    const KEY = watchKey('orders', '2');
    const endEvent = (state: string, deploymentId = 'd-BAD1') => ({
      source: 'aws.codedeploy',
      'detail-type': 'CodeDeploy Deployment State-change Notification',
      detail: { deploymentId, application: 'orders-app', deploymentGroup: 'orders-dg', state },
    });
    const watching = (id: string) => items.set(KEY, { deploymentId: KEY, watching: id, telemetryInvocations: 40, telemetryErrors: 0 });
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    beforeEach(() => setEnv({ guards: [guard({ telemetry: true })] }));

    it.each([
      ['SUCCESS', 'Succeeded'],
      ['FAILURE', 'Failed'],
      ['STOP', 'Stopped'],
    ])("removes the version's watch item when a state-change event (%s) says the deployment ended (%s), only if it still watches that deployment", async (state, status) => {
      // Prepare
      world({ deployments: [deploymentInfo('d-BAD1', { status })] });
      watching('d-BAD1');
      // Act
      const run = await handler(endEvent(state));
      // Assess
      expect(items.has(KEY)).toBe(false);
      expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
        TableName: 'watchdog-state',
        Key: { deploymentId: KEY },
        ConditionExpression: '#w = :w',
        ExpressionAttributeNames: { '#w': 'watching' },
        ExpressionAttributeValues: { ':w': 'd-BAD1' },
      });
      expect(run).toMatchObject({ errors: [] });
    });

    it("ends a rolled-back release's watch at its own end (Stopped), and the rollback deployment's end removes nothing more", async () => {
      // Prepare: the release was stopped with rollback; CodeDeploy's rollback deployment moves the alias back.
      const rollback = deploymentInfo('d-RB', { status: 'Succeeded', creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BAD1' }, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec('2', '1') } } });
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Stopped' }), rollback] });
      watching('d-BAD1');
      // Act
      await handler(endEvent('STOP'));
      await handler(endEvent('SUCCESS', 'd-RB'));
      // Assess: the release's removals only, of both its watches (the new version's and its baseline's, the old version's).
      expect(items.has(KEY)).toBe(false);
      expect(ddb.commandCalls(DeleteCommand).map((c) => [c.args[0].input.Key, c.args[0].input.ExpressionAttributeValues])).toEqual([
        [{ deploymentId: KEY }, { ':w': 'd-BAD1' }],
        [{ deploymentId: watchKey('orders', '1') }, { ':w': 'd-BAD1' }],
      ]);
    });

    it('keeps the watch item of a redeploy of the same version, which watches the new deployment now', async () => {
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Succeeded' })] });
      watching('d-NEW2');
      const run = await handler(endEvent('SUCCESS'));
      expect(items.get(KEY)).toMatchObject({ watching: 'd-NEW2', telemetryInvocations: 40 });
      expect(run).toMatchObject({ errors: [] });
    });

    it('keeps the watch while the deployment is in progress (guard: no removal on a steady run)', async () => {
      world({ deployments: [deploymentInfo('d-BAD1')] });
      watching('d-BAD1');
      const run = await handler(schedule);
      expect(decisions(run)).toHaveLength(1);
      expect(items.get(KEY)).toMatchObject({ watching: 'd-BAD1' });
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    });

    it('makes no DeleteItem for a guard without telemetry: it has no watch item', async () => {
      setEnv({ guards: [guard()] });
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Succeeded' })] });
      await handler(endEvent('SUCCESS'));
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    });

    it('removes the watch of a deployment whose end event was lost, at the reconciling run that finds it ended', async () => {
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Stopped' })] });
      watching('d-BAD1');
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock - 10 * MIN });
      await handler(schedule);
      expect(items.has(KEY)).toBe(false);
      expect(items.get('#active')?.ids).toBeUndefined();
    });

    it('takes a failed removal as a warning that withholds no heartbeat, and retries it at the next run until it is done', async () => {
      // Prepare: the first DeleteItem is throttled.
      items = stateTable(ddb, { deletes: [throttled()] });
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Succeeded' })] });
      watching('d-BAD1');
      items.set('#active', { deploymentId: '#active', ids: new Set(['d-BAD1']), reconciledAt: clock - MIN });
      // Act: the end event's run cannot remove it.
      const ending = await handler(endEvent('SUCCESS'));
      // Assess: still there, the deployment left the registry all the same, nothing withheld.
      expect(items.get(KEY)).toMatchObject({ watching: 'd-BAD1' });
      expect(items.get('#active')?.ids).toBeUndefined();
      expect(ending).toMatchObject({ errors: [] });
      expect(items.get('#active')?.unwatch).toEqual(new Set(['d-BAD1|orders|2']));
      // The next (steady, non-reconciling) run removes it, publishes its heartbeat, and forgets the retry.
      clock += MIN;
      const next = await handler(schedule);
      expect(items.has(KEY)).toBe(false);
      expect(next).toMatchObject({ heartbeat: true, errors: [] });
      clock += MIN;
      ddb.resetHistory();
      await handler(schedule);
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    });

    it('forgets a retry once the item watches another deployment (a redeploy began meanwhile)', async () => {
      items = stateTable(ddb, { deletes: [throttled()] });
      world({ deployments: [deploymentInfo('d-BAD1', { status: 'Succeeded' })] });
      watching('d-BAD1');
      await handler(endEvent('SUCCESS'));
      watching('d-NEW2');
      clock += MIN;
      await handler(schedule);
      expect(items.get(KEY)).toMatchObject({ watching: 'd-NEW2' });
      clock += MIN;
      ddb.resetHistory();
      await handler(schedule);
      expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    });
  });

  it.each([null, 'garbage', { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change' }, { foo: 1 }])(
    'treats a malformed event (%p) as a full sweep instead of crashing',
    async (event) => {
      world({ traffic: BAD_CODE });
      const run = await handler(event);
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback', trigger: expect.stringMatching(/^unrecognised event/) });
    },
  );

  describe('when AWS APIs fail', () => {
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const serverError = () => Object.assign(new Error('Internal failure'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });

    it('reads throttled alarms as unreadable and rolls back only after 3 consecutive blind evaluations', async () => {
      world();
      cw.on(DescribeAlarmsCommand).rejects(throttled());
      const actions: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await handler(schedule);
        actions.push(decisions(run)[0].action);
        clock += MIN;
      }
      expect(actions).toEqual(['proceed', 'proceed', 'rollback']);
      expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
      expect(items.get('d-BAD1')?.evaluation).toMatchObject({ consecutiveUnreadable: { service: 3 } });
    });

    it('treats GetMetricData 5xx as unreadable signals, not as healthy', async () => {
      world();
      cw.on(GetMetricDataCommand).rejects(serverError());
      const run = await handler(schedule);
      const d = decisions(run)[0];
      expect(d.action).toBe('proceed');
      expect(d.layers.find((l) => l.name === 'new-version')).toMatchObject({ outcome: 'unreadable', consecutiveUnreadable: 1 });
      expect(d.evidence.find((e) => e.signal === 'errors')?.note).toMatch(/GetMetricData failed: InternalFailure: Internal failure/);
    });

    it('withholds the heartbeat when it cannot list deployments, so CodeDeploy stops the release itself', async () => {
      world();
      cd.on(ListDeploymentsCommand).rejects(serverError());
      const run = await handler(schedule);
      expect('heartbeat' in run && run.heartbeat).toBe(false);
      expect(heartbeats()).toHaveLength(0);
    });

    it('withholds the heartbeat when StopDeployment fails', async () => {
      world({ traffic: BAD_CODE });
      cd.on(StopDeploymentCommand).rejects(throttled());
      const run = await handler(schedule);
      expect(decisions(run)[0].actionResult).toBe('error: ThrottlingException: Rate exceeded');
      expect(heartbeats()).toHaveLength(0);
    });

    it('still evaluates when the state table cannot be read', async () => {
      world({ traffic: BAD_CODE });
      ddb.reset();
      ddb.rejects(serverError());
      const run = await handler(schedule);
      expect(decisions(run)[0].action).toBe('rollback');
      expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    });
  });

  describe("when the watchdog's own state fails", () => {
    const throughput = () => Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
    /** The run's time as Lambda tells it: 300 ms left for retries beyond what the run keeps in reserve. */
    const context = { getRemainingTimeInMillis: () => STATE_RETRY_RESERVE_MS + 300 };
    const unprocessedIds = new Set<string>();
    let readsFail = false;
    /** BatchGetItem over the in-memory table: rejected while `readsFail`, and leaving `unprocessedIds` unprocessed. */
    function reads() {
      ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { deploymentId: string }[] }> }) => {
        if (readsFail) throw throughput();
        const [table, req] = Object.entries(input.RequestItems)[0];
        const left = req.Keys.filter((k) => unprocessedIds.has(k.deploymentId));
        return {
          Responses: { [table]: req.Keys.filter((k) => !unprocessedIds.has(k.deploymentId)).flatMap((k) => items.get(k.deploymentId) ?? []) },
          ...(left.length ? { UnprocessedKeys: { [table]: { Keys: left } } } : {}),
        };
      });
    }
    const history = [{ at: new Date(T0).toISOString(), action: 'proceed', reasons: ['earlier'] }];
    const actionsOver = async (runs: number) => {
      const out: string[] = [];
      for (let i = 0; i < runs; i++) {
        const run = await handler(schedule, context);
        expect(run).toMatchObject({ heartbeats: { published: [], withheld: { 'orders-app/orders-dg': expect.any(String) } } });
        out.push(decisions(run)[0].action);
        clock += MIN;
      }
      return out;
    };

    beforeEach(() => {
      unprocessedIds.clear();
      readsFail = false;
      reads();
    });

    it('counts a failed state read towards blindness like an unreadable signal, withholds the heartbeat, and rolls back on the third run', async () => {
      world();
      readsFail = true;
      const actions = await actionsOver(3);
      expect(actions).toEqual(['proceed', 'proceed', 'rollback']);
      expect(heartbeats()).toHaveLength(0);
      expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    });

    it("never treats a deployment whose keys stayed unprocessed as new, nor writes over its history", async () => {
      world();
      items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0, decisions: history });
      unprocessedIds.add('d-BAD1');
      const run = await handler(schedule, context);
      const [d] = decisions(run);
      expect(d.layers.at(-1)).toEqual({ name: 'watchdog-state', outcome: 'unreadable', consecutiveUnreadable: 1 });
      expect(ddb.commandCalls(UpdateCommand).filter((c) => c.args[0].input.Key?.deploymentId === 'd-BAD1')).toHaveLength(0);
      expect(items.get('d-BAD1')!.decisions).toEqual(history);
      expect(run).toMatchObject({ heartbeat: false, heartbeats: { withheld: { 'orders-app/orders-dg': expect.stringMatching(/UnprocessedKeys\): d-BAD1/) } } });
      expect(heartbeats()).toHaveLength(0);
    });

    it('counts a failed state write towards blindness from the next run, and withholds the heartbeat from the first', async () => {
      world();
      ddb.on(UpdateCommand, { Key: { deploymentId: 'd-BAD1' } }).rejects(throughput());
      const actions = await actionsOver(4);
      expect(actions).toEqual(['proceed', 'proceed', 'proceed', 'rollback']);
      expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    });

    it('withholds only the group whose deployment it could not read', async () => {
      setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
      world();
      readsFail = true;
      const run = await handler(schedule, context);
      expect(run).toMatchObject({ heartbeats: { published: ['other-app/other-dg'], withheld: { 'orders-app/orders-dg': expect.stringMatching(/state read d-BAD1: ProvisionedThroughputExceededException/) } } });
    });

    it('guard: once the state reads and writes again, the count restarts and the heartbeat flows', async () => {
      world();
      readsFail = true;
      await handler(schedule, context);
      clock += MIN;
      readsFail = false;
      const run = await handler(schedule, context);
      expect(decisions(run)[0].layers.map((l) => l.name)).not.toContain('watchdog-state');
      expect(run).toMatchObject({ heartbeat: true });
      expect(heartbeats()).toHaveLength(1);
    });
  });

  describe('bake', () => {
    const baking = (until: number, startedAt?: number) =>
      items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0, bake: { hookExecutionId: 'hook-1', until, ...(startedAt !== undefined ? { startedAt } : {}) } });
    const hookReports = () => cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);

    it("waits until the bake's last minute of metrics can be published and evaluated, and says so in the record", async () => {
      world();
      baking(clock - MIN, clock - 11 * MIN);
      const run = await handler(schedule);
      expect(hookReports()).toEqual([]);
      const [d] = decisions(run);
      expect(d).toMatchObject({ stage: 'bake-end', action: 'proceed', actionTaken: 'none' });
      expect(d.reasons[0]).toMatch(/^bake-end deferred until 2026-11-28T10:07:00.000Z .*: waiting for the bake's last minute of metrics to be published and evaluated$/);
      expect(d.deferred).toBe(d.reasons[0]);
      clock += 2 * MIN;
      await handler(schedule);
      expect(hookReports()).toEqual(['Succeeded']);
    });

    it("never ends a bake while a layer is unreadable: defers, then fails the bake at the hook's limit less 3 minutes", async () => {
      world();
      cw.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const startedAt = clock - 13 * MIN;
      baking(clock - 3 * MIN, startedAt);
      const first = await handler(schedule);
      expect(hookReports()).toEqual([]);
      expect(decisions(first)[0]).toMatchObject({ action: 'proceed', actionTaken: 'none', deferred: expect.stringMatching(/service unreadable \(1 of 3 before blind\)/) });
      // Still unreadable (2 of 3, not yet blind) when deferring any longer would pass the hour less the margin.
      clock = startedAt + 57 * MIN;
      const last = await handler(schedule);
      expect(hookReports()).toEqual(['Failed']);
      expect(decisions(last)[0]).toMatchObject({ action: 'rollback', layer: 'service', actionTaken: 'fail-bake' });
      expect(decisions(last)[0].reasons[0]).toMatch(/^bake-end could not be confirmed before 2026-11-28T10:49:00.000Z/);
    });

    it('stops the deployment when a Failed bake report is answered "already reported" (a concurrent run reported Succeeded first)', async () => {
      world({ traffic: BAD_CODE });
      cd.on(PutLifecycleEventHookExecutionStatusCommand).rejects(
        Object.assign(new Error('The lifecycle event is already completed'), { name: 'LifecycleEventAlreadyCompletedException' }),
      );
      baking(clock + 5 * MIN, clock - 5 * MIN);
      const run = await handler(schedule);
      expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-BAD1', autoRollbackEnabled: true });
      expect(decisions(run)[0]).toMatchObject({
        action: 'rollback',
        actionTaken: 'stop-deployment',
        actionResult: expect.stringMatching(/^the bake hook had already been reported \(Succeeded by a concurrent run\); stopped with rollback: ok$/),
      });
    });

    it('reports the bake Succeeded at its end in shadow mode, saying that enforce mode would have failed it, and never stops', async () => {
      setEnv({ mode: 'shadow', guards: [guard()] });
      world({ traffic: BAD_CODE });
      baking(clock + 2 * MIN, clock - 8 * MIN);
      const during = await handler(schedule);
      expect(decisions(during)[0]).toMatchObject({ stage: 'bake', action: 'rollback', actionTaken: 'shadow', actionResult: 'would fail-bake' });
      expect(hookReports()).toEqual([]);
      clock += 5 * MIN;
      const end = await handler(schedule);
      expect(hookReports()).toEqual(['Succeeded']);
      expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
      expect(decisions(end)[0]).toMatchObject({ stage: 'bake-end', action: 'rollback', actionTaken: 'shadow', actionResult: 'would fail-bake; reported Succeeded: ok' });
      expect(items.get('d-BAD1')?.bake).toMatchObject({ reported: 'Succeeded' });
    });

    it('reports the AfterAllowTraffic hook Succeeded once the bake time is up, its last minutes are in, and every layer is healthy', async () => {
      world({ weight: 1 });
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
      baking(clock - 3 * MIN);
      const run = await handler(schedule);
      expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
        deploymentId: 'd-BAD1',
        lifecycleEventHookExecutionId: 'hook-1',
        status: 'Succeeded',
      });
      expect(decisions(run)[0]).toMatchObject({ stage: 'bake-end', actionTaken: 'succeed-bake' });
      expect(items.get('d-BAD1')?.bake).toMatchObject({ reported: 'Succeeded' });
    });

    it('keeps baking before the deadline', async () => {
      world();
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
      baking(clock + 5 * MIN);
      await handler(schedule);
      expect(cd).not.toHaveReceivedCommand(PutLifecycleEventHookExecutionStatusCommand);
      expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    });

    it('reports the hook Failed as soon as a layer fails during the bake, instead of stopping', async () => {
      world({ traffic: BAD_CODE });
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
      baking(clock + 5 * MIN);
      const run = await handler(schedule);
      expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed', lifecycleEventHookExecutionId: 'hook-1' });
      expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
      expect(decisions(run)[0]).toMatchObject({ stage: 'bake', action: 'rollback', actionTaken: 'fail-bake' });
    });

    it('records nothing after the final record: a run that finds the deployment still in progress while CodeDeploy rolls it back leaves it alone', async () => {
      world({ traffic: BAD_CODE });
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
      baking(clock + 5 * MIN);
      expect(decisions(await handler(schedule))[0]).toMatchObject({ action: 'rollback', actionTaken: 'fail-bake', actionResult: 'ok' });
      // A minute later CodeDeploy still lists it in progress, and the old version's traffic looks healthy.
      clock += MIN;
      world();
      lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });
      const later = await handler(schedule);
      expect(decisions(later).map((d) => `[${d.stage}] ${d.action} at ${d.trafficPercent} %`)).toEqual([]);
      expect((items.get('d-BAD1')?.decisions as DecisionRecord[]).at(-1)).toMatchObject({ action: 'rollback', actionTaken: 'fail-bake' });
      expect(hookReports()).toEqual(['Failed']);
      expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    });
  });

  it('does not attribute an alarm to the release when it entered ALARM before the deployment, though its reason was updated since', async () => {
    world();
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'orders-5xx',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 3 datapoints were greater than the threshold',
          StateTransitionedTimestamp: new Date(T0 - 30 * MIN),
          StateUpdatedTimestamp: new Date(T0 + 2 * MIN),
        },
      ],
      CompositeAlarms: [],
    });
    const run = await handler(schedule);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(decisions(run)[0]).toMatchObject({ action: 'proceed', layers: expect.arrayContaining([{ name: 'service', outcome: 'insufficient', consecutiveUnreadable: 0 }]) });
  });

  describe('version-scoped alarms, named for the version they watch', () => {
    const versioned = { service: ['orders-5xx'], 'new-version': ['orders-error-rate-v{version}'] };

    it("reads the target version's alarm, and judges the release by it, not by the old version's", async () => {
      setEnv({ guards: [guard({ alarms: versioned })] });
      world();
      // Both versions' alarms went into ALARM after the deployment began.
      answerAlarms(cw, { 'orders-error-rate-v1': 'ALARM', 'orders-error-rate-v2': 'ALARM' }, new Date(T0 + 2 * MIN));
      const run = await handler(schedule);
      expect(cw.commandCalls(DescribeAlarmsCommand).flatMap((c) => c.args[0].input.AlarmNames!).sort()).toEqual(['orders-5xx', 'orders-error-rate-v2']);
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback', layer: 'new-version' });
    });

    it("routes an alarm event of any version's alarm to the guard whose template names it", async () => {
      setEnv({ guards: [guard({ alarms: versioned }), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other', alarms: { 'new-version': ['other-error-rate-v{version}'] } })] });
      world();
      await handler({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 'orders-error-rate-v2', state: { value: 'ALARM' } } });
      expect(cd.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input.deploymentGroupName)).toEqual(['orders-dg']);
    });
  });

  describe('heartbeats, one per guarded deployment group', () => {
    const alarmEvent = { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 'orders-5xx', state: { value: 'OK' } } };
    const groupsBeating = () =>
      heartbeats().flatMap((c) => c.args[0].input.MetricData!.map((m) => m.Dimensions!.find((d) => d.Name === 'DeploymentGroup')?.Value ?? '(watchdog-wide)'));

    it.each([
      ['an alarm state change', alarmEvent],
      ['a deployment state change', { source: 'aws.codedeploy', 'detail-type': 'CodeDeploy Deployment State-change Notification', detail: { deploymentId: 'd-BAD1', application: 'orders-app', deploymentGroup: 'orders-dg', state: 'START' } }],
    ])('publishes none from a run triggered by %s, which judges only some groups', async (_, event) => {
      world();
      const run = await handler(event);
      expect(decisions(run)).toHaveLength(1);
      expect(heartbeats()).toHaveLength(0);
      expect(run).toMatchObject({ heartbeat: false, heartbeats: null });
    });

    it('publishes one for every guarded group from a full run, also for groups with nothing in flight', async () => {
      setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
      world();
      await handler(schedule);
      expect(groupsBeating()).toEqual(['orders-app/orders-dg', 'other-app/other-dg']);
    });

    it("withholds only the group of a deployment it cannot judge, and names it", async () => {
      setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
      world({ deployments: [deploymentInfo('d-X', { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec().replace(/orders/g, 'billing') } } })] });
      const run = await handler(schedule);
      expect(groupsBeating()).toEqual(['other-app/other-dg']);
      expect(run).toMatchObject({
        heartbeat: false,
        heartbeats: { published: ['other-app/other-dg'], withheld: { 'orders-app/orders-dg': expect.stringMatching(/deployment d-X moves billing:live/) } },
      });
    });

    it('withholds only the group whose action failed', async () => {
      setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
      world({ traffic: BAD_CODE });
      cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const run = await handler(schedule);
      expect(groupsBeating()).toEqual(['other-app/other-dg']);
      expect(run).toMatchObject({ heartbeats: { withheld: { 'orders-app/orders-dg': 'd-BAD1: error: ThrottlingException: Rate exceeded' } } });
    });

    it('withholds every group when an error concerns them all (BatchGetDeployments failed)', async () => {
      setEnv({ guards: [guard(), guard({ application: 'other-app', deploymentGroup: 'other-dg', functionName: 'other' })] });
      world();
      cd.on(BatchGetDeploymentsCommand).rejects(Object.assign(new Error('Internal failure'), { name: 'InternalFailure' }));
      const run = await handler(schedule);
      expect(heartbeats()).toHaveLength(0);
      expect(run).toMatchObject({ heartbeats: { published: [], withheld: { 'orders-app/orders-dg': expect.stringMatching(/BatchGetDeployments/), 'other-app/other-dg': expect.stringMatching(/BatchGetDeployments/) } } });
    });
  });

  it('rolls back at the final shift when the prober has stopped: old probe samples are not fresh evidence', async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: T0 + MIN });
    clock = T0 + 10 * MIN;
    // The probes' last 2 minutes hold no samples; everything since the deployment began is healthy.
    cw.on(GetMetricDataCommand, { StartTime: new Date(clock - 2 * MIN) }).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.map((q) => ({ Id: q.Id, StatusCode: 'Complete', Values: [] })),
    }));
    const run = await handler(schedule);
    expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    expect(decisions(run)[0]).toMatchObject({ stage: 'final-shift', action: 'rollback', layer: 'probes' });
    expect(decisions(run)[0].reasons[0]).toMatch(/only 0 samples in the last 2 minutes/);
  });

  it('only records what it would do in shadow mode', async () => {
    setEnv({ mode: 'shadow', guards: [guard()] });
    world({ traffic: BAD_CODE });
    const run = await handler(schedule);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(decisions(run)[0]).toMatchObject({ action: 'rollback', actionTaken: 'shadow', actionResult: 'would stop-deployment' });
  });

  describe('with the configuration in the state table', () => {
    const useTable = (config: unknown) => {
      delete process.env.CANARY_WATCHDOG_CONFIG;
      process.env.CANARY_WATCHDOG_CONFIG_SOURCE = 'state-table';
      resetSettings();
      ddb.on(GetCommand, { Key: { deploymentId: '#config' } }).resolves(config === undefined ? {} : { Item: { deploymentId: '#config', config: JSON.stringify(config) } });
    };
    afterEach(() => {
      delete process.env.CANARY_WATCHDOG_CONFIG_SOURCE;
    });

    it('reads it from the #config item and guards as with the environment', async () => {
      world({ traffic: BAD_CODE });
      useTable({ guards: [guard()] });
      const run = await handler(schedule);
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback', layer: 'new-version' });
      expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: 'watchdog-state', Key: { deploymentId: '#config' }, ConsistentRead: true });
    });

    it('reads it again after a minute, so a deploy that changes it needs no restart', async () => {
      world();
      useTable({ guards: [guard()] });
      const configReads = () => ddb.commandCalls(GetCommand).filter((c) => c.args[0].input.Key?.deploymentId === '#config').length;
      await handler(schedule);
      await handler(schedule);
      expect(configReads()).toBe(1);
      clock += 61_000;
      await handler(schedule);
      expect(configReads()).toBe(2);
    });

    it('reads it again, within the minute, for a deployment that began after it was read: the release is judged by its own configuration', async () => {
      world({ deployments: [] });
      useTable({ guards: [guard()] });
      await handler(schedule);
      // The next deploy writes a configuration in shadow mode, then its deployment starts (bad code).
      answerConfig(ddb, { mode: 'shadow', guards: [guard()] });
      world({ traffic: BAD_CODE, deployments: [deploymentInfo('d-BAD1', { createTime: new Date(clock + 1000) })] });
      clock += 20_000;
      const run = await handler({
        source: 'aws.codedeploy',
        'detail-type': 'CodeDeploy Deployment State-change Notification',
        detail: { deploymentId: 'd-BAD1', application: 'orders-app', deploymentGroup: 'orders-dg', state: 'START' },
      });
      expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback', actionTaken: 'shadow' });
    });

    it('keeps judging by the configuration it read when a refresh fails (a state table outage), and says so; it withholds the heartbeat', async () => {
      world();
      useTable({ guards: [guard()] });
      await handler(schedule);
      // The release goes bad after the first run (which was healthy, so not final).
      answerMetrics(cw, BAD_CODE);
      // The table goes down after the configuration was read: every read of it fails from now on.
      ddb.on(GetCommand, { Key: { deploymentId: '#config' } }).rejects(Object.assign(new Error('DynamoDB is currently unavailable'), { name: 'ServiceUnavailable' }));
      clock += 61_000;
      cw.resetHistory();
      cd.resetHistory();
      const run = await handler(schedule);
      // CloudWatch still reads: the bad release is stopped on its own evidence.
      expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-BAD1', autoRollbackEnabled: true });
      expect(decisions(run)[0]).toMatchObject({ action: 'rollback', layer: 'new-version' });
      expect('errors' in run && run.errors.join('; ')).toMatch(/configuration: reading it again failed \(kept the one read at .*\): ServiceUnavailable/);
      expect(heartbeats()).toHaveLength(0);
    });

    it('reports a missing item without evaluating or publishing a heartbeat', async () => {
      world();
      useTable(undefined);
      expect(await handler(schedule)).toEqual({ error: "InputError: state table item #config.config is not set: it must hold the watchdog's JSON configuration" });
      expect(heartbeats()).toHaveLength(0);
    });
  });

  it('reports a bad configuration without calling AWS or publishing a heartbeat', async () => {
    setEnv({ guards: [guard({ bakeMinutes: 90 })] });
    world();
    const run = await handler(schedule);
    expect(run).toEqual({ error: 'InputError: CANARY_WATCHDOG_CONFIG.guards[0].bakeMinutes: expected a number from 0 to 60, got 90' });
    expect(cd.calls()).toHaveLength(0);
    expect(cw.calls()).toHaveLength(0);
  });
});

describe('watchdog handler: the telemetry fast signal', () => {
  /**
   * A batch from the state table's stream, as the event source mapping delivers it: each record a
   * write of a version's watch item (`#watch#<function>#<version>`) naming the deployment it counts for.
   */
  const streamBatch = (...ids: string[]) => ({
    Records: ids.map((id, i) => watchRecord(watchKey(i === 0 ? 'orders' : `fn${i}`, '2'), id)),
  });
  const watchRecord = (key: string, watching: string) => ({
    eventSource: 'aws:dynamodb',
    eventName: 'MODIFY',
    dynamodb: { Keys: { deploymentId: { S: key } }, NewImage: { deploymentId: { S: key }, watching: { S: watching }, telemetryFailed: { BOOL: true } } },
  });
  /** The watch item of orders:2 (the deployments' target version) with the extension's counts. */
  const counted = (deploymentId: string, invocations: number, errors: number, fn = 'orders', version = '2') =>
    items.set(watchKey(fn, version), { deploymentId: watchKey(fn, version), watching: deploymentId, telemetryInvocations: invocations, telemetryErrors: errors, telemetryAt: clock - 2000, telemetryFailed: errors > 0 });

  beforeEach(() => setEnv({ guards: [guard({ telemetry: true })] }));

  it("rolls back on the extension's counts as soon as their write arrives, while CloudWatch's minute metrics still look healthy", async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-BAD1', 40, 14);
    const run = await handler(streamBatch('d-BAD1'));
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-BAD1', autoRollbackEnabled: true });
    const [d] = decisions(run);
    expect(d).toMatchObject({ action: 'rollback', layer: 'new-version', trigger: 'telemetry: failures counted for d-BAD1' });
    expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ outcome: 'failed', observed: 14 / 40, sampleSize: 40 });
    expect(d.evidence.find((e) => e.signal === 'errors')).toMatchObject({ outcome: 'healthy' });
    // A partial run: it publishes no heartbeat.
    expect(heartbeats()).toHaveLength(0);
  });

  it("a good release's everyday failure costs one state read: judged in full only once its counts fail the signal", async () => {
    world();
    const deployment = { deploymentId: 'd-BAD1', application: 'orders-app', deploymentGroup: 'orders-dg', status: 'InProgress', createdAt: T0, deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent10Minutes', appSpec: appSpec(), isRollback: false };
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN, deployment });
    counted('d-BAD1', 400, 2);
    const quiet = await handler(streamBatch('d-BAD1'));
    expect(decisions(quiet)).toHaveLength(0);
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    counted('d-BAD1', 420, 70);
    const loud = await handler(streamBatch('d-BAD1'));
    expect(decisions(loud)[0]).toMatchObject({ action: 'rollback', layer: 'new-version' });
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, { deploymentId: 'd-BAD1', autoRollbackEnabled: true });
  });

  it("does not roll back on failures both versions meet: the old version's counts of the same deployment are the baseline", async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-BAD1', 120, 12);
    counted('d-BAD1', 1080, 108, 'orders', '1');
    const run = await handler(streamBatch('d-BAD1'));
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    for (const d of decisions(run)) expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ outcome: 'healthy', baseline: { observed: 0.1, sampleSize: 1080 } });
    // Guard: a new version failing more than the old one still rolls back at once.
    counted('d-BAD1', 160, 50);
    const bad = await handler(streamBatch('d-BAD1'));
    expect(decisions(bad)[0]).toMatchObject({ action: 'rollback', layer: 'new-version' });
  });

  it("takes the probes' invocations off the counts: failing probes are not failed user requests", async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-BAD1', 60, 14);
    items.set('#probed#d-BAD1', { deploymentId: '#probed#d-BAD1', probeInvocations_2: 30, probeErrors_2: 14 });
    const run = await handler(streamBatch('d-BAD1'));
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    for (const d of decisions(run)) expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ observed: 0, sampleSize: 30 });
  });

  it("keeps both versions' counts for the fast signal's slices only in a state write made anyway (no call of its own)", async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-BAD1', 120, 1);
    counted('d-BAD1', 1080, 5, 'orders', '1');
    // The first record is news: its write carries this read's point.
    await handler(schedule);
    expect((items.get('d-BAD1') as { telemetryPoints?: unknown[] }).telemetryPoints).toEqual([[clock, 120, 1, 1080, 5]]);
    // A steady minute writes nothing, points included (guard against a write per run).
    ddb.resetHistory();
    clock += MIN;
    counted('d-BAD1', 240, 2);
    counted('d-BAD1', 2160, 10, 'orders', '1');
    await handler(schedule);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    // The next write (the service alarm fires: news) keeps this environment's last read too.
    clock += MIN;
    counted('d-BAD1', 360, 3);
    counted('d-BAD1', 3240, 15, 'orders', '1');
    answerAlarms(cw, { 'orders-5xx': 'ALARM' }, new Date(clock - 30_000));
    const run = await handler(schedule);
    expect((items.get('d-BAD1') as { telemetryPoints?: unknown[] }).telemetryPoints).toHaveLength(3);
    expect(decisions(run)[0].evidence.find((e) => e.signal === 'telemetry-errors')!.note).toMatch(/compared within 3 time slices between reads/);
  });

  it('judges only the deployments in the batch', async () => {
    setEnv({ guards: [guard({ telemetry: true }), guard({ application: 'other-app', deploymentGroup: 'other-dg', telemetry: true })] });
    world({ deployments: [deploymentInfo('d-BAD1'), deploymentInfo('d-OTHER', { applicationName: 'other-app', deploymentGroupName: 'other-dg' })] });
    const run = await handler(streamBatch('d-OTHER'));
    expect(decisions(run).map((d) => d.deploymentId)).toEqual(['d-OTHER']);
  });

  it('without any count from the extension the signal is insufficient evidence, never healthy', async () => {
    world();
    const run = await handler(schedule);
    const [d] = decisions(run);
    expect(d.action).toBe('proceed');
    expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ outcome: 'insufficient', sampleSize: 0 });
  });

  it("counts written into a deployment's own item are not the extension's: only the version's watch item counts", async () => {
    // Anything able to write the deployment's item (before issue 21, every guarded function's
    // role) could fail another release this way; the extension may write only its own watch item.
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN, telemetryInvocations: 40, telemetryErrors: 14, telemetryAt: clock - 2000, telemetryFailed: true });
    const run = await handler({ Records: [{ eventSource: 'aws:dynamodb', eventName: 'MODIFY', dynamodb: { Keys: { deploymentId: { S: 'd-BAD1' } }, NewImage: { telemetryFailed: { BOOL: true } } } }] });
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    for (const d of decisions(run)) expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ outcome: 'insufficient', sampleSize: 0 });
  });

  it("another function's watch item that names this deployment cannot fail it", async () => {
    // `other` may write its own watch item as it likes: naming d-BAD1 there gets d-BAD1 judged,
    // by the counts of d-BAD1's own version (orders:2), which are healthy.
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-BAD1', 200, 0);
    counted('d-BAD1', 40, 40, 'other', '5');
    const run = await handler({ Records: [watchRecord(watchKey('other', '5'), 'd-BAD1')] });
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    for (const d of decisions(run)) expect(d.evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ sampleSize: 200 });
  });

  it("a version's watch item left by an earlier deployment of the same version is not this one's evidence", async () => {
    world();
    items.set('d-BAD1', { deploymentId: 'd-BAD1', trafficShiftStartedAt: clock - 1 * MIN });
    counted('d-EARLIER', 40, 14);
    const run = await handler(schedule);
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(decisions(run)[0].evidence.find((e) => e.signal === 'telemetry-errors')).toMatchObject({ outcome: 'insufficient', sampleSize: 0 });
  });

  it('a stream batch without a deployment key sweeps everything instead of crashing', async () => {
    world();
    const run = await handler({ Records: [{ eventSource: 'aws:dynamodb', dynamodb: { Keys: { deploymentId: { S: '#active' } } } }] });
    expect(decisions(run)).toHaveLength(1);
    expect(decisions(run)[0].trigger).toMatch(/^unrecognised event \(a batch of 1 records without a deployment's telemetry\)/);
  });
});
