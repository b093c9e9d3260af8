import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetDeploymentsCommand, CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loopbackEndpoint } from './endpoint';
import { handler as postTraffic } from '../../lambda/post-traffic';
import { handler as preTraffic } from '../../lambda/pre-traffic';
import { logger, STATE_RETRY_RESERVE_MS } from '../../lambda/shared';
import { stateTable } from './aws-fakes';
import { answerConfig, configInTable, deploymentInfo, expectingStatus, guard, MIN, payload, setEnv, T0 } from './env';

const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBDocumentClient);

const hookEvent = { DeploymentId: 'd-NEW1', LifecycleEventHookExecutionId: 'hook-exec-1' };
const GOOD_ENV = { TABLE_NAME: 'orders', PRICING_URL: 'https://pricing.example.com/v1' };
const ok = (body: unknown) => ({ StatusCode: 200, Payload: payload(JSON.stringify(body)) });
let items: Map<string, Record<string, unknown>>;

function world(env: Record<string, string | undefined> = GOOD_ENV) {
  cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1')] });
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'hook-exec-1' });
  lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: env as Record<string, string> } });
  lambda.on(InvokeCommand).resolves(ok({ statusCode: 200, body: '{"orders":[]}' }));
  cw.on(PutMetricDataCommand).resolves({});
}

const reported = () => cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);

beforeEach(() => {
  for (const m of [cd, cw, lambda, ddb]) m.reset();
  setEnv();
  items = stateTable(ddb);
  jest.spyOn(Date, 'now').mockImplementation(() => T0);
});
afterEach(() => jest.restoreAllMocks());

describe('pre-traffic hook', () => {
  it('reports Succeeded when every config check and probe passes against the target version', async () => {
    world();
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(lambda).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: 'orders', Qualifier: '2' });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: 'orders', Qualifier: '2', InvocationType: 'RequestResponse' });
    expect(cd).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: 'd-NEW1',
      lifecycleEventHookExecutionId: 'hook-exec-1',
      status: 'Succeeded',
    });
    // With the deployment as described, which the watchdog's steady runs read instead of BatchGetDeployments.
    expect(items.get('d-NEW1')).toMatchObject({
      trafficShiftStartedAt: T0,
      deployment: { deploymentId: 'd-NEW1', application: 'orders-app', deploymentGroup: 'orders-dg', status: 'InProgress', isRollback: false, appSpec: expect.stringContaining('TargetVersion') },
    });
    // Registered for the watchdog and the prober to find without listing.
    expect(items.get('#active')).toEqual({ deploymentId: '#active', ids: new Set(['d-NEW1']) });
  });

  it('reports Failed when it cannot register the deployment: a release the watchdog might not find must not shift traffic', async () => {
    world();
    ddb.on(UpdateCommand, { Key: { deploymentId: '#active' } }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons.join()).toMatch(/pre-traffic hook error: ThrottlingException/);
    expect(reported()).toEqual(['Failed']);
  });

  it('publishes config check and probe results as 1-second metrics of the target version', async () => {
    world();
    await preTraffic(hookEvent);
    const data = cw.commandCalls(PutMetricDataCommand)[0].args[0].input;
    expect(data.Namespace).toBe('CanaryWatchdog');
    expect(data.MetricData!.map((m) => `${m.MetricName}=${m.Value}`)).toEqual([
      'ConfigCheckFailure=0',
      'ConfigCheckFailure=0',
      'ProbeFailure=0',
      `ProbeLatency=0`,
    ]);
    expect(data.MetricData![0]).toMatchObject({ StorageResolution: 1, Dimensions: [{ Name: 'FunctionName', Value: 'orders' }, { Name: 'Version', Value: '2' }] });
  });

  it.each([
    { name: 'a required key is missing', env: { PRICING_URL: 'https://p.example.com' }, reason: /config: TABLE_NAME is required but not set/ },
    { name: 'a URL is malformed', env: { TABLE_NAME: 't', PRICING_URL: 'htp//nope' }, reason: /config: PRICING_URL: not a valid URL: "htp\/\/nope"/ },
  ])('reports Failed when $name, before any user traffic', async ({ env, reason }) => {
    world(env);
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons.join('\n')).toMatch(reason);
    expect(reported()).toEqual(['Failed']);
    // No shift start and no registration; only the answer is stored, for repeated invocations.
    expect(items.get('d-NEW1')).toEqual({ deploymentId: 'd-NEW1', preTraffic: { hookExecutionId: 'hook-exec-1', status: 'Failed', reasons: r.reasons }, expiresAt: expect.any(Number) });
    expect(items.has('#active')).toBe(false);
  });

  it('reports Failed when a probe gets a function error from the new version', async () => {
    world();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorType":"TypeError","errorMessage":"x is undefined"}') });
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons[0]).toMatch(/^probe list: expected success, got error \(Unhandled: .*TypeError/);
  });

  it('reports Failed when a probe response body does not match', async () => {
    world();
    lambda.on(InvokeCommand).resolves(ok({ statusCode: 500, body: 'oops' }));
    const r = await preTraffic(hookEvent);
    expect(r.reasons).toEqual(['probe list: $.statusCode is 500, expected 200 (3 of 3 attempts failed)']);
  });

  it.each([
    { name: 'GetFunctionConfiguration is throttled', prep: () => lambda.on(GetFunctionConfigurationCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' })), reason: /pre-traffic hook error: TooManyRequestsException: Rate exceeded/ },
    { name: 'the deployment is not found', prep: () => cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [] }), reason: /deployment d-NEW1 not found/ },
    { name: 'the group is not guarded', prep: () => cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1', { deploymentGroupName: 'other' })] }), reason: /deployment group orders-app\/other is not in the watchdog's configuration \(guarded: orders-app\/orders-dg\)/ },
    { name: 'the invoke API fails', prep: () => lambda.on(InvokeCommand).rejects(Object.assign(new Error('boom'), { name: 'ServiceException' })), reason: /probe list: invoke failed: ServiceException: boom/ },
  ])('fails closed when $name', async ({ prep, reason }) => {
    world();
    prep();
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons.join('\n')).toMatch(reason);
    expect(reported()).toEqual(['Failed']);
  });

  it.each([null, {}, { DeploymentId: 'd-1' }, 'text'])('does not crash on a malformed event (%p) and reports nothing it cannot address', async (event) => {
    world();
    const r = await preTraffic(event);
    expect(r.status).toBe('unreported');
    expect(cd).not.toHaveReceivedCommand(PutLifecycleEventHookExecutionStatusCommand);
  });

  it('reports Failed when its own configuration is invalid', async () => {
    process.env.CANARY_WATCHDOG_CONFIG = '{not json';
    const { resetSettings } = await import('../../lambda/shared');
    resetSettings();
    world();
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r.reasons[0]).toMatch(/^InputError: CANARY_WATCHDOG_CONFIG is not valid JSON/);
  });

  describe('reachability of configured URLs', () => {
    const endpoint = loopbackEndpoint();

    it.each([
      { path: '/up', within: 5000, status: 'Succeeded', reason: null },
      { path: '/broken', within: 5000, status: 'Failed', reason: /answered HTTP 503 \(server error\)/ },
      { path: '/slow', within: 300, status: 'Failed', reason: /did not answer within 300 ms/ },
    ])('$path: $status', async ({ path, within, status, reason }) => {
      jest.restoreAllMocks();
      setEnv({ guards: [guard({ configChecks: [{ key: 'PRICING_URL', format: 'url', reachableWithinMs: within }] })] });
      world({ PRICING_URL: `${endpoint.base}${path}` });
      const r = await preTraffic(hookEvent);
      expect(r.status).toBe(status);
      if (reason) expect(r.reasons.join('\n')).toMatch(reason);
    });
  });
});

const published = () => cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
const valuesOf = (name: string) => published().filter((m) => m.MetricName === name).map((m) => m.Value);
/** An Invoke log tail whose REPORT line says `Duration` (and `Init Duration` on a cold start). */
const tail = (ms: number, initMs?: number) =>
  Buffer.from(
    `START RequestId: r Version: 2\nEND RequestId: r\nREPORT RequestId: r\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(ms)} ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t${initMs === undefined ? '' : `Init Duration: ${initMs} ms\t`}\n`,
  ).toString('base64');
const ROLLBACK_INFO = { creator: 'codeDeployRollback' as const, rollbackInfo: { rollbackTriggeringDeploymentId: 'd-OLD1' } };

describe('pre-traffic hook: the telemetry watch item', () => {
  it("names the deployment for the new version's telemetry extension before any probe runs", async () => {
    setEnv({ guards: [guard({ telemetry: true })] });
    world();
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(items.get('#watch#orders#2')).toMatchObject({ deploymentId: '#watch#orders#2', watching: 'd-NEW1', expiresAt: expect.any(Number) });
  });

  it("watches the old version for the same deployment as the baseline, whose writes never wake the watchdog", async () => {
    setEnv({ guards: [guard({ telemetry: true })] });
    world();
    await preTraffic(hookEvent);
    expect(items.get('#watch#orders#1')).toMatchObject({ watching: 'd-NEW1', watchRole: 'baseline', telemetryInvocations: 0, watchStartedAt: expect.any(Number) });
    expect(items.get('#watch#orders#2')).toMatchObject({ watching: 'd-NEW1', watchRole: 'release' });
  });

  it("records its probes' invocations of the new version in the deployment's probe record, for the fast signal to take off", async () => {
    setEnv({ guards: [guard({ telemetry: true })] });
    world();
    const r = await preTraffic(hookEvent);
    const record = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).filter((i) => i.Key?.deploymentId === '#probed#d-NEW1');
    expect(record).toHaveLength(1);
    expect(record[0]).toMatchObject({ ExpressionAttributeNames: { '#n0': 'probeInvocations_2', '#e0': 'probeErrors_2' }, ExpressionAttributeValues: { ':n0': r.probes.reduce((a, p) => a + p.attempts, 0), ':e0': 0 } });
  });

  it('writes none for a guard without telemetry', async () => {
    world();
    await preTraffic(hookEvent);
    expect(items.has('#watch#orders#2')).toBe(false);
    expect(items.has('#watch#orders#1')).toBe(false);
    expect(ddb.commandCalls(UpdateCommand).filter((c) => String(c.args[0].input.Key?.deploymentId).startsWith('#probed#'))).toHaveLength(0);
  });

  it('a failed write is a warning: the fast signal is missing, every other layer still judges, the hook answers on its checks', async () => {
    setEnv({ guards: [guard({ telemetry: true })] });
    world();
    const update = ddb.commandCalls(UpdateCommand);
    expect(update).toHaveLength(0);
    ddb.on(UpdateCommand, { Key: { deploymentId: '#watch#orders#2' } }).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(items.has('#watch#orders#2')).toBe(false);
  });
});

describe('pre-traffic hook: rollback deployments', () => {
  it('lets a rollback deployment through at once, without checks or probes, and records that it did', async () => {
    world();
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1', ROLLBACK_INFO)] });
    // The old version's probe fails (say during the incident that caused the rollback).
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"down"}') });
    const info = jest.spyOn(logger, 'info');
    const r = await preTraffic(hookEvent);
    expect(r).toMatchObject({ status: 'Succeeded', rollback: true, reasons: [], probes: [], configChecks: [] });
    expect(reported()).toEqual(['Succeeded']);
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(lambda).not.toHaveReceivedCommand(GetFunctionConfigurationCommand);
    expect(info).toHaveBeenCalledWith('pre-traffic hook', {
      record: expect.objectContaining({ type: 'canary-watchdog.pre-traffic', deploymentId: 'd-NEW1', status: 'Succeeded', rollback: true, note: expect.stringMatching(/rollback deployment/) }),
    });
  });

  it('lets a rollback of an unguarded group through as well: a rollback is never blocked', async () => {
    world();
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1', { ...ROLLBACK_INFO, deploymentGroupName: 'other' })] });
    expect(await preTraffic(hookEvent)).toMatchObject({ status: 'Succeeded', rollback: true });
    expect(reported()).toEqual(['Succeeded']);
  });
});

describe('pre-traffic hook: duplicate invocations', () => {
  it('answers a second invocation of the same hook execution as the first, without probing again or moving the shift start', async () => {
    world();
    const first = await preTraffic(hookEvent);
    jest.spyOn(Date, 'now').mockImplementation(() => T0 + 5 * MIN);
    cd.on(PutLifecycleEventHookExecutionStatusCommand).rejects(Object.assign(new Error('already completed'), { name: 'LifecycleEventAlreadyCompletedException' }));
    const second = await preTraffic(hookEvent);
    expect(first.status).toBe('Succeeded');
    expect(second).toMatchObject({ status: 'Succeeded', duplicate: true, reasons: [] });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(items.get('d-NEW1')).toMatchObject({ trafficShiftStartedAt: T0, preTraffic: { hookExecutionId: 'hook-exec-1', status: 'Succeeded', reasons: [] } });
    expect(reported()).toEqual(['Succeeded', 'Succeeded']);
  });

  it('never takes a repeated invocation whose stored answer it could not read for a first one: Failed, without probing again or writing over the answer', async () => {
    world();
    await preTraffic(hookEvent);
    // DynamoDB leaves the deployment's key unprocessed for as long as the hook may retry it.
    ddb.on(BatchGetCommand).resolves({ Responses: { 'watchdog-state': [] }, UnprocessedKeys: { 'watchdog-state': { Keys: [{ deploymentId: 'd-NEW1' }] } } });
    const second = await preTraffic(hookEvent, { getRemainingTimeInMillis: () => STATE_RETRY_RESERVE_MS + 200 });
    expect(second.status).toBe('Failed');
    expect(second.reasons.join()).toMatch(/pre-traffic hook error: StateReadError: BatchGetItem left 1 key unprocessed .*: d-NEW1/);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(items.get('d-NEW1')).toMatchObject({ trafficShiftStartedAt: T0, preTraffic: { hookExecutionId: 'hook-exec-1', status: 'Succeeded' } });
  });

  it('repeats a Failed answer even when the probe would pass now', async () => {
    world();
    lambda.on(InvokeCommand).resolves(ok({ statusCode: 500 }));
    const first = await preTraffic(hookEvent);
    lambda.on(InvokeCommand).resolves(ok({ statusCode: 200 }));
    const second = await preTraffic(hookEvent);
    expect(first.status).toBe('Failed');
    expect(second).toMatchObject({ status: 'Failed', duplicate: true, reasons: first.reasons });
    expect(reported()).toEqual(['Failed', 'Failed']);
    expect(items.get('d-NEW1')?.trafficShiftStartedAt).toBeUndefined();
  });

  it('gives the answer of a concurrent run of the same hook execution that stored its answer first, so both report the same', async () => {
    world();
    // The other delivery finished (Failed, say a flaky probe) while this one was probing.
    lambda.on(InvokeCommand).callsFake(() => {
      items.set('d-NEW1', { deploymentId: 'd-NEW1', preTraffic: { hookExecutionId: 'hook-exec-1', status: 'Failed', reasons: ['probe list: flaked'] } });
      return ok({ statusCode: 200 });
    });
    const r = await preTraffic(hookEvent);
    expect(r).toMatchObject({ status: 'Failed', duplicate: true, reasons: ['probe list: flaked'] });
    expect(reported()).toEqual(['Failed']);
  });

  it('keeps the first shift start when a concurrent run got there first (conditional write)', async () => {
    world();
    // Another delivery of the same event passed its checks and wrote the start, but has not recorded its answer yet.
    items.set('d-NEW1', { deploymentId: 'd-NEW1', trafficShiftStartedAt: T0 - 30_000 });
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(items.get('d-NEW1')?.trafficShiftStartedAt).toBe(T0 - 30_000);
  });
});

describe('pre-traffic hook: shadow mode', () => {
  it('reports Succeeded when a probe fails, records what enforce would have done, and still publishes the results', async () => {
    setEnv({ mode: 'shadow', guards: [guard()] });
    world();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"boom"}') });
    const r = await preTraffic(hookEvent);
    expect(r).toMatchObject({ status: 'Succeeded', wouldHave: 'Failed' });
    expect(r.reasons.join()).toMatch(/probe list: expected success, got error/);
    expect(reported()).toEqual(['Succeeded']);
    expect(valuesOf('ProbeFailure')).toEqual([1, 1, 1]);
    expect(items.get('d-NEW1')).toMatchObject({ trafficShiftStartedAt: T0 });
  });

  it('reports Succeeded when a config check fails', async () => {
    setEnv({ mode: 'shadow', guards: [guard()] });
    world({ PRICING_URL: 'https://p.example.com' });
    const r = await preTraffic(hookEvent);
    expect(r).toMatchObject({ status: 'Succeeded', wouldHave: 'Failed' });
    expect(valuesOf('ConfigCheckFailure')).toEqual([1, 0]);
  });

  it('reports Failed in enforce mode for the same failure, with no wouldHave', async () => {
    world({ PRICING_URL: 'https://p.example.com' });
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(r).not.toHaveProperty('wouldHave');
  });
});

describe('pre-traffic hook: cold starts and flaky probes', () => {
  const LATENCY_GUARD = guard({ probes: [{ name: 'list', event: {}, expect: { status: 'success', maxLatencyMs: 1000 } }] });
  /** Each Invoke takes `roundTrips[i]` ms of the clock and answers with `answers[i]`. */
  function invocations(roundTrips: number[], answers: Record<string, unknown>[]) {
    let clock = T0;
    let i = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    lambda.on(InvokeCommand).callsFake(() => {
      const n = Math.min(i++, roundTrips.length - 1);
      clock += roundTrips[n];
      return { StatusCode: 200, Payload: payload('{"statusCode":200}'), ...answers[Math.min(n, answers.length - 1)] };
    });
  }

  it('judges the REPORT duration, which excludes the init phase of a cold start', async () => {
    setEnv({ guards: [LATENCY_GUARD] });
    world();
    invocations([1500], [{ LogResult: tail(80, 1400) }]);
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(valuesOf('ProbeLatency')).toEqual([80]);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('without a REPORT line, judges the round trip and retries a probe that was slow on a cold start', async () => {
    setEnv({ guards: [LATENCY_GUARD] });
    world();
    invocations([1500, 40], [{}]);
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(r.probes[0]).toMatchObject({ probe: 'list', passed: true, attempts: 2, earlierFailures: ['latency 1500 ms above 1000 ms'] });
    // Every attempt is published, so the probes layer's rate test counts the failed one.
    expect(valuesOf('ProbeFailure')).toEqual([1, 0]);
    expect(valuesOf('ProbeLatency')).toEqual([1500, 40]);
  });

  it('passes a probe whose first invocation failed transiently and the retry passed', async () => {
    world();
    invocations([5, 5], [{ FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"socket hang up"}') }, {}]);
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Succeeded');
    expect(valuesOf('ProbeFailure')).toEqual([1, 0]);
  });

  it('fails a probe that fails all three attempts, and publishes each', async () => {
    world();
    lambda.on(InvokeCommand).resolves(ok({ statusCode: 500 }));
    const r = await preTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 3);
    expect(valuesOf('ProbeFailure')).toEqual([1, 1, 1]);
    expect(r.reasons).toEqual(['probe list: $.statusCode is 500, expected 200 (3 of 3 attempts failed)']);
  });

  it('never retries a configuration check', async () => {
    world({ PRICING_URL: 'https://p.example.com' });
    await preTraffic(hookEvent);
    expect(lambda).toHaveReceivedCommandTimes(GetFunctionConfigurationCommand, 1);
    expect(valuesOf('ConfigCheckFailure')).toEqual([1, 0]);
  });
});

describe('post-traffic hook (bake)', () => {
  it('records the bake deadline and returns without reporting, so no function idles through the bake', async () => {
    world();
    const r = await postTraffic(hookEvent);
    expect(r).toEqual({ deploymentId: 'd-NEW1', status: 'baking', until: T0 + 10 * MIN });
    expect(items.get('d-NEW1')).toMatchObject({ bake: { hookExecutionId: 'hook-exec-1', startedAt: T0, until: T0 + 10 * MIN } });
    expect(cd).not.toHaveReceivedCommand(PutLifecycleEventHookExecutionStatusCommand);
  });

  it('cuts a 60-minute bake to 54 minutes, so that it, the 3-minute settle wait and a 3-minute margin fit the one-hour hook limit', async () => {
    setEnv({ guards: [guard({ bakeMinutes: 60 })] });
    world();
    const r = await postTraffic(hookEvent);
    expect(r.until).toBe(T0 + 54 * MIN);
  });

  it('keeps the first bake, and its report, when the same hook execution is invoked again (Lambda may deliver an asynchronous invocation twice)', async () => {
    world();
    await postTraffic(hookEvent);
    items.set('d-NEW1', { ...items.get('d-NEW1')!, bake: { ...(items.get('d-NEW1')!.bake as object), reported: 'Succeeded' } });
    jest.spyOn(Date, 'now').mockImplementation(() => T0 + 12 * MIN);
    const again = await postTraffic(hookEvent);
    expect(again).toEqual({ deploymentId: 'd-NEW1', status: 'baking', until: T0 + 10 * MIN });
    expect(items.get('d-NEW1')!.bake).toEqual({ hookExecutionId: 'hook-exec-1', startedAt: T0, until: T0 + 10 * MIN, reported: 'Succeeded' });
    expect(cd).not.toHaveReceivedCommand(PutLifecycleEventHookExecutionStatusCommand);
  });

  it('guard: a new hook execution of the deployment starts a new bake', async () => {
    world();
    await postTraffic(hookEvent);
    jest.spyOn(Date, 'now').mockImplementation(() => T0 + 12 * MIN);
    const next = await postTraffic({ ...hookEvent, LifecycleEventHookExecutionId: 'hook-exec-2' });
    expect(next).toEqual({ deploymentId: 'd-NEW1', status: 'baking', until: T0 + 22 * MIN });
    expect(items.get('d-NEW1')!.bake).toEqual({ hookExecutionId: 'hook-exec-2', startedAt: T0 + 12 * MIN, until: T0 + 22 * MIN });
  });

  it('reports Failed when it cannot store the bake', async () => {
    world();
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const r = await postTraffic(hookEvent);
    expect(r.status).toBe('Failed');
    expect(reported()).toEqual(['Failed']);
  });

  it('starts no bake for a rollback deployment and reports Succeeded at once', async () => {
    world();
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW1', ROLLBACK_INFO)] });
    const r = await postTraffic(hookEvent);
    expect(r).toMatchObject({ deploymentId: 'd-NEW1', status: 'Succeeded' });
    expect(reported()).toEqual(['Succeeded']);
    expect(items.get('d-NEW1')?.bake).toBeUndefined();
  });

  it('does not crash on a malformed event', async () => {
    world();
    expect(await postTraffic({ hello: 'world' })).toMatchObject({ status: 'unreported' });
  });
});

describe('pre-traffic hook with the configuration in the state table', () => {
  afterEach(() => {
    delete process.env.CANARY_WATCHDOG_CONFIG_SOURCE;
  });

  it('reads the configuration again for a deployment that began after it was read, so a good release is not judged by the last one', async () => {
    configInTable(ddb, expectingStatus(200));
    world();
    expect((await preTraffic(hookEvent)).status).toBe('Succeeded');

    // Thirty seconds later the next release: its deploy wrote what its probes expect, then its deployment began.
    answerConfig(ddb, expectingStatus(201));
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-NEW2', { createTime: new Date(T0 + 20_000) })] });
    lambda.on(InvokeCommand).resolves(ok({ statusCode: 201, body: '{}' }));
    jest.spyOn(Date, 'now').mockImplementation(() => T0 + 30_000);
    const r = await preTraffic({ DeploymentId: 'd-NEW2', LifecycleEventHookExecutionId: 'hook-exec-2' });
    expect(r.reasons).toEqual([]);
    expect(r.status).toBe('Succeeded');
  });
});
