/**
 * Injected faults, as every caller of the lab meets them: DynamoDB's errors, throttles and outage
 * in its own codes, latency on the lab's clock (it counts against the calling invocation's time
 * and timeout), and windows in minutes since the faults were set.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Faults, faultSpecErrors } from '../../../src/lab/faults';
import { Lab } from '../../../src/lab/lab';

const T0 = Date.UTC(2026, 0, 1);

describe('Faults (pure)', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['an outage', { unavailable: true }, 'ServiceUnavailable 503'],
    ['a throttle', { throttleRate: 1 }, 'ProvisionedThroughputExceededException 400'],
    ['an error', { errorRate: 1 }, 'InternalServerError 500'],
  ])('answers a DynamoDB call under %s with DynamoDB\'s code', (_n, spec, expected) => {
    const f = new Faults(() => 0.5);
    f.set([{ service: 'DynamoDB', ...spec }], T0);
    const { error } = f.decide('DynamoDB', 'GetItem', T0);
    expect(`${error?.code} ${error?.status}`).toBe(expected);
  });

  it('keeps the other services\' codes: Lambda 429, CloudWatch ThrottlingException, InternalFailure', () => {
    const f = new Faults(() => 0);
    f.set([{ service: 'Lambda', throttleRate: 1 }, { service: 'CloudWatch', throttleRate: 1 }, { service: 'CodeDeploy', errorRate: 1 }], T0);
    expect(f.decide('Lambda', 'Invoke', T0).error).toMatchObject({ code: 'TooManyRequestsException', status: 429 });
    expect(f.decide('CloudWatch', 'GetMetricData', T0).error).toMatchObject({ code: 'ThrottlingException', status: 400 });
    expect(f.decide('CodeDeploy', 'GetDeployment', T0).error).toMatchObject({ code: 'InternalFailure', status: 500 });
  });

  it('carries the throttling reason DynamoDB gives a hot key, read or write', () => {
    const f = new Faults(() => 0);
    f.set([{ service: 'DynamoDB', throttleRate: 1 }], T0);
    expect(f.decide('DynamoDB', 'UpdateItem', T0).error?.fields).toMatchObject({ ThrottlingReasons: [{ reason: 'TableWriteKeyRangeThroughputExceeded' }] });
    expect(f.decide('DynamoDB', 'GetItem', T0).error?.fields).toMatchObject({ ThrottlingReasons: [{ reason: 'TableReadKeyRangeThroughputExceeded' }] });
  });

  it('fails calls at the configured rate and no others', () => {
    let i = 0;
    const f = new Faults(() => ((i++ * 0.37) % 1));
    f.set([{ service: 'DynamoDB', throttleRate: 0.2 }], T0);
    const n = 1000;
    const throttled = Array.from({ length: n }, () => f.decide('DynamoDB', 'GetItem', T0).error).filter(Boolean).length;
    expect(throttled / n).toBeGreaterThan(0.15);
    expect(throttled / n).toBeLessThan(0.25);
    expect(f.decide('CloudWatch', 'GetMetricData', T0)).toEqual({ latencyMs: 0 });
  });

  it('applies a window from fromMinute up to, not including, toMinute, counted from when the faults were set', () => {
    const f = new Faults(() => 0);
    const setAt = T0 + 180_000;
    f.set([{ service: 'DynamoDB', unavailable: true, latencyMs: 40, fromMinute: 1, toMinute: 6 }], setAt);
    const at = (minute: number) => f.decide('DynamoDB', 'GetItem', setAt + minute * 60_000);
    expect(at(0.99)).toEqual({ latencyMs: 0 });
    expect(at(1)).toMatchObject({ latencyMs: 40, error: { code: 'ServiceUnavailable' } });
    expect(at(5.99).error?.code).toBe('ServiceUnavailable');
    expect(at(6)).toEqual({ latencyMs: 0 });
  });

  it('adds the latency of every spec in force, and slows a call it does not fail', () => {
    const f = new Faults(() => 0.99);
    f.set([{ service: 'DynamoDB', latencyMs: 250 }, { service: 'DynamoDB', operation: 'GetItem', latencyMs: 50, errorRate: 0.5 }], T0);
    expect(f.decide('DynamoDB', 'GetItem', T0)).toEqual({ latencyMs: 300 });
    expect(f.decide('DynamoDB', 'PutItem', T0)).toEqual({ latencyMs: 250 });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a window that ends before it starts', { toMinute: 3, fromMinute: 5 }, 'faults[0].toMinute: expected a minute after fromMinute (5), got 3'],
    ['an empty window', { toMinute: 0 }, 'faults[0].toMinute: expected a minute after fromMinute (0), got 0'],
    ['a negative start', { fromMinute: -1 }, 'faults[0].fromMinute: expected a minute from 0 to 3000, got -1'],
    ['a negative latency', { latencyMs: -5 }, 'faults[0].latencyMs: expected milliseconds from 0 to 900000, got -5'],
    ['a latency that is not a number', { latencyMs: '5' }, 'faults[0].latencyMs: expected milliseconds from 0 to 900000, got "5"'],
    ['an outage that is not a boolean', { unavailable: 'yes' }, 'faults[0].unavailable: expected true or false, got "yes"'],
    ['an unknown field', { latency: 5 }, 'faults[0].latency: unknown field; allowed: service, operation, table, errorRate, throttleRate, latencyMs, unavailable, fromMinute, toMinute'],
  ])('rejects %s, naming the field and the allowed values', (_n, spec, message) => {
    expect(faultSpecErrors([{ service: 'DynamoDB', ...spec }])).toEqual([message]);
  });

  it('accepts a full, valid spec (guard against over-strict checks)', () => {
    expect(faultSpecErrors([{ service: 'DynamoDB', operation: 'GetItem', errorRate: 0, throttleRate: 1, latencyMs: 0, unavailable: false, fromMinute: 0, toMinute: 0.5 }])).toEqual([]);
  });
});

/** One stack: a table and a function that reads it, timing the call on its own clock. */
function assembly(timeoutSeconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-faults-'));
  const code = [
    "const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');",
    'const client = new DynamoDBClient({ maxAttempts: 1 });',
    'exports.handler = async (e, context) => {',
    '  const t = Date.now(); const before = context.getRemainingTimeInMillis();',
    '  try { await client.send(new GetItemCommand({ TableName: "state", Key: { deploymentId: { S: "d-1" } } })); }',
    '  catch (err) { return { error: err.name, status: err.$metadata && err.$metadata.httpStatusCode, roundTripMs: Date.now() - t }; }',
    '  if (e.thenWaitForever) await new Promise(() => {});',
    '  return { roundTripMs: Date.now() - t, remainingSpentMs: before - context.getRemainingTimeInMillis() };',
    '};',
  ].join('\n');
  const template = {
    Resources: {
      State: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'state', KeySchema: [{ AttributeName: 'deploymentId', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' } },
      Reader: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'reader', Handler: 'index.handler', Code: { ZipFile: code }, Timeout: timeoutSeconds } },
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

describe('the lab: DynamoDB faults as functions and outside clients meet them', () => {
  let lab: Lab;
  const sdk = () => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
  const invoke = async (event: Record<string, unknown> = {}) => {
    const out = await new LambdaClient(sdk()).send(new InvokeCommand({ FunctionName: 'reader', Payload: Buffer.from(JSON.stringify(event)) }));
    return { functionError: out.FunctionError, payload: JSON.parse(Buffer.from(out.Payload!).toString()) as Record<string, unknown> };
  };
  beforeEach(async () => {
    lab = new Lab({ seed: 3 });
    await lab.start();
  });
  afterEach(async () => lab.stop());

  it('answers each call that much later on the calling invocation\'s clock, out of its remaining time', async () => {
    await lab.loadAssembly(assembly(10));
    lab.setFaults([{ service: 'DynamoDB', latencyMs: 1500 }]);
    const { payload } = await invoke();
    expect(payload.roundTripMs).toBeGreaterThanOrEqual(1500);
    expect(payload.roundTripMs).toBeLessThan(2500);
    expect(payload.remainingSpentMs).toBeGreaterThanOrEqual(1500);
  });

  it('ends the invocation at its timeout when a call is slower than the time it has left', async () => {
    await lab.loadAssembly(assembly(3));
    lab.setFaults([{ service: 'DynamoDB', latencyMs: 5000 }]);
    const { functionError, payload } = await invoke();
    expect(functionError).toBe('Unhandled');
    expect(payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
  });

  it('ends the invocation as soon as a call returns past the timeout, whatever the code does next', async () => {
    await lab.loadAssembly(assembly(3));
    lab.setFaults([{ service: 'DynamoDB', latencyMs: 5000 }]);
    const { payload } = await invoke({ thenWaitForever: true });
    expect(payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
  }, 15_000);

  it('fails every call of a function during an outage with a 503, and none after the window', async () => {
    await lab.loadAssembly(assembly(10));
    lab.setFaults([{ service: 'DynamoDB', unavailable: true, toMinute: 5 }]);
    expect((await invoke()).payload).toMatchObject({ error: 'ServiceUnavailable', status: 503 });
    await lab.advance(300);
    expect((await invoke()).payload).not.toHaveProperty('error');
  });

  it('applies the same faults to an outside client, and takes them from the control API', async () => {
    await lab.loadAssembly(assembly(10));
    const post = await fetch(`${lab.endpoint}/_lab/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ faults: [{ service: 'DynamoDB', throttleRate: 1, fromMinute: 0, toMinute: 2 }] }) });
    expect(await post.json()).toEqual({ faults: [{ service: 'DynamoDB', throttleRate: 1, fromMinute: 0, toMinute: 2 }] });
    const client = new DynamoDBClient({ ...sdk(), maxAttempts: 1 });
    await expect(client.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'x' } } }))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
    await lab.advance(120);
    await expect(client.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'x' } } }))).resolves.toBeDefined();
    client.destroy();
  });

  it('rejects a bad window through the control API, naming the field', async () => {
    const r = await fetch(`${lab.endpoint}/_lab/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ faults: [{ service: 'DynamoDB', fromMinute: 4, toMinute: 4 }] }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toBe('faults[0].toMinute: expected a minute after fromMinute (4), got 4');
  });
});
