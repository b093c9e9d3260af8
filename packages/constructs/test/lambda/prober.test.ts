import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetDeploymentsCommand, CodeDeployClient, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/prober';
import { stateTable } from './aws-fakes';
import { answerConfig, appSpec, configInTable, deploymentInfo, expectingStatus, guard, payload, setEnv, T0 } from './env';

const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBDocumentClient);
let items: Map<string, Record<string, unknown>>;

function world(newVersionFails = false) {
  cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-1'] });
  cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-1')] });
  lambda.on(InvokeCommand).callsFake((input: InvokeCommandInput) =>
    newVersionFails && input.Qualifier === '2'
      ? { StatusCode: 200, FunctionError: 'Unhandled', Payload: payload('{"errorMessage":"boom"}') }
      : { StatusCode: 200, Payload: payload('{"statusCode":200}') },
  );
  cw.on(PutMetricDataCommand).resolves({});
}

beforeEach(() => {
  for (const m of [cd, cw, lambda, ddb]) m.reset();
  setEnv();
  items = stateTable(ddb);
  process.env.CANARY_WATCHDOG_PROBER_ROUNDS = '3';
  process.env.CANARY_WATCHDOG_PROBER_INTERVAL_MS = '0';
  let t = T0;
  jest.spyOn(Date, 'now').mockImplementation(() => (t += 5));
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env.CANARY_WATCHDOG_PROBER_ROUNDS;
  delete process.env.CANARY_WATCHDOG_PROBER_INTERVAL_MS;
});

const published = () => cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);

describe('prober', () => {
  it('probes the new and the old version every round and publishes high-resolution results per version', async () => {
    world();
    const run = await handler();
    expect(run).toMatchObject({ rounds: 3, invocations: 6, failures: 0, errors: [] });
    expect(lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.Qualifier).sort()).toEqual(['1', '1', '1', '2', '2', '2']);
    expect(cw).toHaveReceivedCommandTimes(PutMetricDataCommand, 3);
    const failures = published().filter((m) => m.MetricName === 'ProbeFailure');
    expect(failures).toHaveLength(6);
    expect(failures.every((m) => m.StorageResolution === 1 && m.Value === 0)).toBe(true);
    expect(failures[0].Dimensions).toEqual([{ Name: 'FunctionName', Value: 'orders' }, { Name: 'Version', Value: '2' }]);
  });

  it('judges latency by the duration Lambda reports in the log tail, not the round trip (which includes a cold start\'s init)', async () => {
    world();
    const report = (ms: number) => Buffer.from(`START RequestId: r Version: 2\nEND RequestId: r\nREPORT RequestId: r\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(ms)} ms\t\n`).toString('base64');
    lambda.on(InvokeCommand).callsFake((input: InvokeCommandInput) => ({ StatusCode: 200, Payload: payload('{"statusCode":200}'), LogResult: report(input.Qualifier === '2' ? 1520.5 : 1) }));
    await handler();
    expect(lambda.commandCalls(InvokeCommand).every((c) => c.args[0].input.LogType === 'Tail')).toBe(true);
    const latency = (v: string) => published().filter((m) => m.MetricName === 'ProbeLatency' && m.Dimensions?.some((d) => d.Name === 'Version' && d.Value === v)).map((m) => m.Value);
    expect(latency('2')).toEqual([1520.5, 1520.5, 1520.5]);
    // The mocked clock moves 5 ms a read, so the round trip reads more than the 1 ms reported: not judged.
    expect(latency('1')).toEqual([1, 1, 1]);
  });

  it('records failures of the new version only against the new version', async () => {
    world(true);
    const run = await handler();
    expect(run).toMatchObject({ failures: 3 });
    const byVersion = (v: string) =>
      published().filter((m) => m.MetricName === 'ProbeFailure' && m.Dimensions?.some((d) => d.Name === 'Version' && d.Value === v)).map((m) => m.Value);
    expect(byVersion('2')).toEqual([1, 1, 1]);
    expect(byVersion('1')).toEqual([0, 0, 0]);
  });

  it('finds deployments in the registry once the watchdog has reconciled it, and never writes to it', async () => {
    world();
    items.set('#active', { deploymentId: '#active', ids: new Set(['d-1']), reconciledAt: T0 - 60_000 });
    expect(await handler()).toMatchObject({ invocations: 3 * 2 });
    expect(cd).not.toHaveReceivedCommand(ListDeploymentsCommand);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it("records each round's probe invocations per version for the fast signal to take off, failed ones as the extension counts them", async () => {
    setEnv({ guards: [guard({ telemetry: true })] });
    world(true);
    await handler();
    const writes = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    // One write per round, to the deployment's probe record only.
    expect(writes).toHaveLength(3);
    expect(writes.every((w) => w.Key?.deploymentId === '#probed#d-1')).toBe(true);
    expect(writes[0]).toMatchObject({
      UpdateExpression: 'ADD #n0 :n0, #e0 :e0, #n1 :n1, #e1 :e1 SET #x = :x',
      ExpressionAttributeNames: { '#n0': 'probeInvocations_2', '#e0': 'probeErrors_2', '#n1': 'probeInvocations_1', '#e1': 'probeErrors_1' },
      ExpressionAttributeValues: { ':n0': 1, ':e0': 1, ':n1': 1, ':e1': 0 },
    });
  });

  it('records nothing for a guard without the fast signal (guard: the probe record is for telemetry only)', async () => {
    world(true);
    await handler();
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('lists the groups while the registry has never been reconciled', async () => {
    world();
    items.set('#active', { deploymentId: '#active', ids: new Set(['d-0']) });
    expect(await handler()).toMatchObject({ invocations: 3 * 2 });
    expect(cd).toHaveReceivedCommandTimes(ListDeploymentsCommand, 1);
  });

  it('does nothing when no deployment is in progress', async () => {
    world();
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    expect(await handler()).toMatchObject({ rounds: 0, invocations: 0 });
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
  });

  it('skips guards without probes', async () => {
    setEnv({ guards: [guard({ probes: [] })] });
    world();
    await handler();
    expect(cd).not.toHaveReceivedCommand(ListDeploymentsCommand);
  });

  it('keeps probing when publishing fails, and reports the error', async () => {
    world();
    cw.on(PutMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const run = await handler();
    expect(run).toMatchObject({ rounds: 3, errors: ['PutMetricData: ThrottlingException: Rate exceeded', 'PutMetricData: ThrottlingException: Rate exceeded', 'PutMetricData: ThrottlingException: Rate exceeded'] });
  });

  it('rejects an out-of-range round count with a message naming the variable', async () => {
    world();
    process.env.CANARY_WATCHDOG_PROBER_ROUNDS = '99';
    expect(await handler()).toEqual({ error: 'InputError: CANARY_WATCHDOG_PROBER_ROUNDS: expected an integer from 1 to 12, got 99' });
  });
});

describe('prober with the configuration in the state table', () => {
  afterEach(() => {
    delete process.env.CANARY_WATCHDOG_CONFIG_SOURCE;
  });

  it('reads the configuration again for a deployment that began after it was read: a new release brings new probe expectations', async () => {
    configInTable(ddb, expectingStatus(200));
    world();
    expect(await handler()).toMatchObject({ failures: 0 });

    // The next release changes what its probes expect (the deploy writes the #config item first), then its deployment starts.
    const started = Date.now() + 1000;
    answerConfig(ddb, expectingStatus(201));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-2'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [deploymentInfo('d-2', { createTime: new Date(started), revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec('2', '3') } } })] });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('{"statusCode":201}') });
    jest.spyOn(Date, 'now').mockImplementation(() => started + 2000);
    const run = await handler();
    expect(run).toMatchObject({ invocations: 6, failures: 0, errors: [] });
  });
});
