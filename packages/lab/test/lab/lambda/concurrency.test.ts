import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteFunctionConcurrencyCommand, GetFunctionCommand, GetFunctionConcurrencyCommand, InvokeCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { ENVIRONMENT_IDLE_MS } from '../../../src/lab/lambda/environments';

// Functions as code folders: `busy` holds its thread for 300 ms of wall time (so concurrent calls
// from outside the lab are all in flight together), `quick` answers at once, `sleeper` sleeps 5 s of lab time, `broken`
// throws at load, after writing a line.
let dir: string;
const code = (name: string, source: string) => {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'index.js'), source);
  return d;
};
let busyDir: string, quickDir: string, sleeperDir: string, slowDir: string, failingDir: string, brokenDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-concurrency-'));
  busyDir = code('busy', 'exports.handler = async () => { const until = performance.now() + 300; while (performance.now() < until); return { ok: true }; };');
  quickDir = code('quick', 'exports.handler = async () => ({ ok: true });');
  sleeperDir = code('sleeper', 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 5000)); return { records: e.Records ? e.Records.length : 0 }; };');
  slowDir = code('slow', 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 90000)); return {}; };');
  failingDir = code('failing', 'exports.handler = async () => { throw new Error("cannot handle the batch"); };');
  brokenDir = code('broken', 'console.log("loading broken"); throw new Error("no config");');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let lab: Lab;
beforeEach(async () => {
  lab = new Lab({ seed: 3 });
  await lab.start();
});
afterEach(async () => lab.stop());

const client = () => new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
const invoke = (FunctionName: string) => client().send(new InvokeCommand({ FunctionName, LogType: 'Tail', Payload: Buffer.from('{}') }));
const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error: error as Record<string, unknown> & { $metadata: { httpStatusCode?: number } } }));

describe('the lab: reserved concurrency', () => {
  it('throttles the invocations over a reserved concurrency of 2 with 429 TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
    lab.lambda.createFunction({ name: 'busy', handler: 'index.handler', codeDir: busyDir, timeoutSeconds: 10, reservedConcurrency: 2 });
    const out = await Promise.all([1, 2, 3, 4, 5].map(() => settle(invoke('busy'))));
    const throttled = out.flatMap((o) => ('error' in o ? [o.error] : []));
    expect(out.filter((o) => 'value' in o)).toHaveLength(2);
    expect(throttled).toHaveLength(3);
    for (const e of throttled) {
      expect(e.name).toBe('TooManyRequestsException');
      expect(e.message).toBe('Rate Exceeded.');
      expect(e.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
      expect(e.Type).toBe('User');
      expect(e.$metadata.httpStatusCode).toBe(429);
    }
    expect(lab.lambda.throttles).toHaveLength(3);
    expect(lab.lambda.invocations).toHaveLength(2);
  }, 30_000);

  it('never throttles sequential invocations, which reuse one environment (the guard against counting too many)', async () => {
    lab.lambda.createFunction({ name: 'busy', handler: 'index.handler', codeDir: busyDir, timeoutSeconds: 10, reservedConcurrency: 1 });
    for (let i = 0; i < 4; i++) expect((await invoke('busy')).FunctionError).toBeUndefined();
    // From inside the lab too: events one after another.
    await lab.advance(1);
    for (let i = 0; i < 3; i++) {
      lab.lambda.invokeAsync('busy', {});
      await lab.advance(1);
    }
    expect(lab.lambda.throttles).toHaveLength(0);
    expect(lab.lambda.environments('busy', '$LATEST')).toMatchObject({ started: 1, alive: 1 });
  }, 30_000);

  it('throttles every invocation at 0 (put-function-concurrency, the kill switch), and none once deleted', async () => {
    lab.lambda.createFunction({ name: 'busy', handler: 'index.handler', codeDir: busyDir, timeoutSeconds: 10 });
    const c = client();
    expect(await c.send(new PutFunctionConcurrencyCommand({ FunctionName: 'busy', ReservedConcurrentExecutions: 0 }))).toMatchObject({ ReservedConcurrentExecutions: 0 });
    expect(await c.send(new GetFunctionConcurrencyCommand({ FunctionName: 'busy' }))).toMatchObject({ ReservedConcurrentExecutions: 0 });
    expect((await c.send(new GetFunctionCommand({ FunctionName: 'busy' }))).Concurrency).toEqual({ ReservedConcurrentExecutions: 0 });
    for (let i = 0; i < 3; i++) expect(await settle(invoke('busy'))).toMatchObject({ error: { name: 'TooManyRequestsException', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' } });
    expect(lab.lambda.invocations).toHaveLength(0);
    await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'busy' }));
    expect((await c.send(new GetFunctionConcurrencyCommand({ FunctionName: 'busy' }))).ReservedConcurrentExecutions).toBeUndefined();
    expect((await invoke('busy')).StatusCode).toBe(200);
  }, 30_000);

  it.each([
    [-1, 'ReservedConcurrentExecutions: expected an integer >= 0 (0 throttles every invocation), got -1'],
    [1.5, 'ReservedConcurrentExecutions: expected an integer >= 0 (0 throttles every invocation), got 1.5'],
    [901, "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."],
  ])('refuses a reserved concurrency of %p, naming the rule', async (value, message) => {
    lab.lambda.createFunction({ name: 'busy', handler: 'index.handler', codeDir: busyDir });
    const out = await settle(client().send(new PutFunctionConcurrencyCommand({ FunctionName: 'busy', ReservedConcurrentExecutions: value })));
    expect(out).toMatchObject({ error: { name: 'InvalidParameterValueException', message } });
  }, 30_000);

  it('retries a throttled asynchronous invocation after about 1, 2, 4 ... seconds, and runs it once concurrency is free', async () => {
    lab.lambda.createFunction({ name: 'busy', handler: 'index.handler', codeDir: busyDir, reservedConcurrency: 0 });
    const t0 = lab.now();
    lab.lambda.invokeAsync('busy', {});
    await lab.advance(30);
    const at = lab.lambda.throttles.map((t) => t.at - t0);
    expect(at[0]).toBe(0);
    // Each wait is 1 s, 2 s, 4 s ... spread over [d, 2d).
    const waits = at.slice(1).map((t, i) => t - at[i]);
    expect(waits.length).toBeGreaterThanOrEqual(3);
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(1000 * 2 ** i);
      expect(w).toBeLessThan(2000 * 2 ** i);
    });
    lab.lambda.setReservedConcurrency('busy', undefined);
    const next = at.at(-1)! + 2000 * 2 ** waits.length;
    await lab.advance(next / 1000);
    expect(lab.lambda.invocations).toHaveLength(1);
    expect(lab.lambda.invocations[0].at - t0).toBeGreaterThan(at.at(-1)!);
  }, 30_000);

  it('spreads the retries of events throttled together, so a short function drains a burst at its first retry', async () => {
    lab.lambda.createFunction({ name: 'quick', handler: 'index.handler', codeDir: quickDir, reservedConcurrency: 2 });
    for (let i = 0; i < 12; i++) lab.lambda.invokeAsync('quick', { n: i });
    await lab.advance(3);
    expect(lab.lambda.throttles).toHaveLength(10);
    expect(lab.lambda.invocations).toHaveLength(12);
  }, 30_000);

  it('makes a burst of stream triggers during a scheduled run wait: the batch is throttled and retried in order until the run ends', async () => {
    lab.lambda.createFunction({ name: 'watchdog', handler: 'index.handler', codeDir: sleeperDir, timeoutSeconds: 50, reservedConcurrency: 1 });
    lab.dynamodb.createTable('state', 'deploymentId');
    lab.dynamodb.enableStream('state', 'NEW_IMAGE');
    lab.streams.add({ id: 'Trigger', table: 'state', functionName: 'watchdog', patterns: [], batchSize: 100, batchingWindowSeconds: 0 });
    lab.eventbridge.addRule({ name: 'every-minute', scheduleExpression: 'rate(1 minute)', targets: ['watchdog'] });
    const t0 = lab.now();
    // The scheduled run starts at 60 s and sleeps 5 s; a write at 61 s triggers the stream.
    await lab.advance(61);
    lab.dynamodb.service.operations.PutItem({ TableName: 'state', Item: marshall({ deploymentId: 'd-1' }) });
    await lab.advance(10);
    const at = (xs: readonly { at: number }[]) => xs.map((x) => (x.at - t0) / 1000);
    expect(lab.streams.throttled.length).toBeGreaterThan(0);
    expect(Math.min(...at(lab.streams.throttled))).toBeGreaterThanOrEqual(61);
    expect(Math.max(...at(lab.streams.throttled))).toBeLessThan(65);
    expect(at(lab.streams.delivered)).toEqual([65]);
    expect(lab.lambda.invocations.map((i) => i.source)).toEqual(['event', 'event-source-mapping']);
  }, 30_000);
});

describe('the lab: stream batches that cannot be delivered', () => {
  const mapping = (functionName: string, extra: { maxRecordAgeSeconds?: number; maxRetryAttempts?: number }) => {
    lab.dynamodb.createTable('state', 'deploymentId');
    lab.dynamodb.enableStream('state', 'NEW_IMAGE');
    lab.streams.add({ id: 'Trigger', table: 'state', functionName, patterns: [], batchSize: 100, batchingWindowSeconds: 0, ...extra });
  };
  const write = (id: string) => lab.dynamodb.service.operations.PutItem({ TableName: 'state', Item: marshall({ deploymentId: id }) });

  it('discards a throttled batch once its records are older than MaximumRecordAgeInSeconds', async () => {
    // A scheduled run that lasts 90 s holds the only environment; records written meanwhile expire after 60 s.
    lab.lambda.createFunction({ name: 'watchdog', handler: 'index.handler', codeDir: slowDir, timeoutSeconds: 120, reservedConcurrency: 1 });
    mapping('watchdog', { maxRecordAgeSeconds: 60 });
    lab.eventbridge.addRule({ name: 'every-minute', scheduleExpression: 'rate(1 minute)', targets: ['watchdog'] });
    await lab.advance(61);
    write('d-1');
    await lab.advance(100);
    expect(lab.streams.delivered).toHaveLength(0);
    expect(lab.streams.discarded).toEqual([{ at: expect.any(Number), mapping: 'Trigger', records: 1, why: 'older than MaximumRecordAgeInSeconds (60)' }]);
    expect(lab.lambda.invocations.filter((i) => i.source === 'event-source-mapping')).toHaveLength(0);
  }, 30_000);

  it('retries a batch the function fails MaximumRetryAttempts times, then discards it', async () => {
    lab.lambda.createFunction({ name: 'failing', handler: 'index.handler', codeDir: failingDir });
    mapping('failing', { maxRetryAttempts: 2 });
    write('d-1');
    await lab.advance(10);
    expect(lab.lambda.invocations.filter((i) => i.source === 'event-source-mapping')).toHaveLength(3);
    expect(lab.streams.discarded).toMatchObject([{ mapping: 'Trigger', records: 1, why: 'failed 3 times (MaximumRetryAttempts 2)' }]);
  }, 30_000);

  it('retries a failing batch until it succeeds without the limits (the defaults, -1)', async () => {
    lab.lambda.createFunction({ name: 'failing', handler: 'index.handler', codeDir: failingDir });
    mapping('failing', {});
    write('d-1');
    await lab.advance(10);
    expect(lab.lambda.invocations.filter((i) => i.source === 'event-source-mapping').length).toBeGreaterThan(10);
    expect(lab.streams.discarded).toHaveLength(0);
  }, 30_000);
});

describe('the lab: user traffic under reserved concurrency', () => {
  /** Sums of one AWS/Lambda metric of the function, over everything published so far. */
  const sum = async (metricName: string) => {
    const out = await new CloudWatchClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } }).send(
      new GetMetricDataCommand({
        StartTime: new Date(lab.now() - 3_600_000),
        EndTime: new Date(lab.now()),
        MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: 'quick' }] }, Period: 60, Stat: 'Sum' } }],
      }),
    );
    return (out.MetricDataResults?.[0].Values ?? []).reduce((a, b) => a + b, 0);
  };

  beforeEach(() => {
    lab.lambda.createFunction({ name: 'quick', handler: 'index.handler', codeDir: quickDir, reservedConcurrency: 5 });
    lab.lambda.createAlias('quick', 'live', { functionVersion: lab.lambda.publishVersion('quick') });
  });

  it('throttles the share of requests over the reserved concurrency (rate x duration): Throttles, not Invocations, and failed requests for users', async () => {
    // 200 a second of 40-60 ms plus 60 ms: about 22 in flight against 5 reserved, so about 77 % are throttled.
    lab.lambda.setBehaviour('quick', '1', { latencyMs: 60 });
    lab.traffic.set('quick', 'live', 200);
    await lab.advance(180);
    const tally = lab.traffic.tally('quick', 'live').get('1')!;
    expect(tally.requests).toBe(200 * 180);
    expect(tally.failures / tally.requests).toBeGreaterThan(0.72);
    expect(tally.failures / tally.requests).toBeLessThan(0.82);
    const throttles = await sum('Throttles');
    const invocations = await sum('Invocations');
    expect(throttles).toBeGreaterThan(0);
    // What was published (two minutes, after the metric delay) splits into served and throttled.
    expect(throttles / (throttles + invocations)).toBeGreaterThan(0.72);
  }, 30_000);

  it('throttles every user request and every direct invoke at 0 (the kill switch), and Throttles counts each', async () => {
    await client().send(new PutFunctionConcurrencyCommand({ FunctionName: 'quick', ReservedConcurrentExecutions: 0 }));
    lab.traffic.set('quick', 'live', 20);
    for (let i = 0; i < 3; i++) expect(await settle(invoke('quick'))).toMatchObject({ error: { name: 'TooManyRequestsException', message: 'Rate Exceeded.' } });
    await lab.advance(180);
    const tally = lab.traffic.tally('quick', 'live').get('1')!;
    expect(tally).toMatchObject({ requests: 20 * 180, failures: 20 * 180 });
    expect(await sum('Invocations')).toBe(0);
    // At least the first minute of traffic is published by now (a minute ends, then the metric delay), plus the three direct invokes.
    expect(await sum('Throttles')).toBeGreaterThanOrEqual(20 * 60 + 3);
  }, 30_000);

  it('throttles nothing while rate x duration stays within the reserved concurrency', async () => {
    lab.traffic.set('quick', 'live', 50);
    await lab.advance(180);
    expect(lab.traffic.tally('quick', 'live').get('1')).toMatchObject({ requests: 50 * 180, failures: 0 });
    expect(await sum('Throttles')).toBe(0);
  }, 30_000);
});

describe('the lab: execution environments of user traffic', () => {
  it('runs each version in as many environments as rate x duration needs, keeps them warm while idle, and reaps them after', async () => {
    lab.lambda.createFunction({ name: 'quick', handler: 'index.handler', codeDir: quickDir });
    lab.lambda.createAlias('quick', 'live', { functionVersion: lab.lambda.publishVersion('quick') });
    lab.lambda.setBehaviour('quick', '1', { latencyMs: 60 });
    // 200 a second of 110 ms on average: 22 in flight.
    lab.traffic.set('quick', 'live', 200);
    await lab.advance(120);
    expect(lab.traffic.environments('quick', '1')).toEqual({ alive: 22, started: 22 });
    expect(lab.traffic.minuteStats('quick', 'live')[0]).toMatchObject({ environments: 22, coldStarts: 22 });
    // Down to 20 a second (3 in flight, rounded up): the others stay warm for a while...
    lab.traffic.set('quick', 'live', 20);
    await lab.advance(300);
    expect(lab.traffic.minuteStats('quick', 'live')[1]).toMatchObject({ environments: 22, coldStarts: 0 });
    expect(lab.traffic.minuteStats('quick', 'live')[3]).toMatchObject({ environments: 3, coldStarts: 0 });
    expect(lab.traffic.environments('quick', '1')).toEqual({ alive: 22, started: 22 });
    lab.traffic.set('quick', 'live', 200);
    await lab.advance(60);
    expect(lab.traffic.environments('quick', '1')).toEqual({ alive: 22, started: 22 });
    // ...and are reaped once idle long enough: a new burst starts new ones, each a cold start.
    lab.traffic.set('quick', 'live', 20);
    await lab.advance(ENVIRONMENT_IDLE_MS / 1000 + 60);
    expect(lab.traffic.environments('quick', '1')).toEqual({ alive: 3, started: 22 });
    lab.traffic.set('quick', 'live', 200);
    await lab.advance(60);
    expect(lab.traffic.environments('quick', '1')).toEqual({ alive: 22, started: 41 });
  }, 30_000);

  it('never runs more environments than the reserved concurrency', async () => {
    lab.lambda.createFunction({ name: 'quick', handler: 'index.handler', codeDir: quickDir, reservedConcurrency: 5 });
    lab.lambda.createAlias('quick', 'live', { functionVersion: lab.lambda.publishVersion('quick') });
    lab.lambda.setBehaviour('quick', '1', { latencyMs: 60 });
    lab.traffic.set('quick', 'live', 200);
    await lab.advance(120);
    expect(lab.traffic.environments('quick', '1').alive).toBeLessThanOrEqual(5);
  }, 30_000);
});

describe('the lab: execution environments', () => {
  const tailOf = (r: { LogResult?: string }) => Buffer.from(r.LogResult ?? '', 'base64').toString();

  it('starts one environment per invocation in flight, each with its own cold start; sequential ones reuse them', async () => {
    lab.lambda.createFunction({ name: 'sleeper', handler: 'index.handler', codeDir: sleeperDir, timeoutSeconds: 10 });
    lab.lambda.setNoise('sleeper', { coldStartMs: 700 });
    // Three events at the same instant, each taking 5 s: three environments.
    for (let i = 0; i < 3; i++) lab.lambda.invokeAsync('sleeper', { n: i });
    await lab.advance(1);
    expect(lab.lambda.invocations.map((i) => [i.environment, i.coldStart])).toEqual([[1, true], [2, true], [3, true]]);
    // After they ended, one at a time: a warm environment each time, no new one.
    await lab.advance(10);
    for (let i = 0; i < 3; i++) {
      lab.lambda.invokeAsync('sleeper', { m: i });
      await lab.advance(10);
    }
    expect(lab.lambda.invocations.slice(3).map((i) => i.coldStart)).toEqual([false, false, false]);
    expect(lab.lambda.environments('sleeper', '$LATEST')).toMatchObject({ started: 3, alive: 3 });
    // Through the API: a cold start's Init Duration only on a new environment.
    expect(tailOf(await invoke('sleeper'))).not.toContain('Init Duration');
  }, 30_000);

  it('keeps an idle environment warm for a while, then reaps it: the next invocation is a cold start', async () => {
    lab.lambda.createFunction({ name: 'sleeper', handler: 'index.handler', codeDir: sleeperDir, timeoutSeconds: 10 });
    lab.lambda.setNoise('sleeper', { coldStartMs: 700 });
    expect(tailOf(await invoke('sleeper'))).toContain('Init Duration: 700.00 ms');
    await lab.advance(60);
    expect(tailOf(await invoke('sleeper'))).not.toContain('Init Duration');
    await lab.advance(ENVIRONMENT_IDLE_MS / 1000 + 10);
    expect(tailOf(await invoke('sleeper'))).toContain('Init Duration: 700.00 ms');
    expect(lab.lambda.environments('sleeper', '$LATEST')).toMatchObject({ started: 2, alive: 1 });
  }, 30_000);

  it('runs a failing init again in every new environment: each invocation is a cold start that crashes', async () => {
    lab.lambda.createFunction({ name: 'broken', handler: 'index.handler', codeDir: brokenDir });
    lab.lambda.setNoise('broken', { coldStartMs: 300 });
    const tails = [];
    for (let i = 0; i < 3; i++) {
      const r = await invoke('broken');
      expect(r.FunctionError).toBe('Unhandled');
      tails.push(tailOf(r));
      await lab.advance(5);
    }
    for (const t of tails) expect(t).toContain('Init Duration: 300.00 ms');
    expect(lab.lambda.invocations.map((i) => [i.environment, i.coldStart, i.error?.init])).toEqual([[1, true, true], [2, true, true], [3, true, true]]);
    expect(lab.lambda.logs.filter((l) => l.line.includes('loading broken'))).toHaveLength(3);
  }, 30_000);

  it('crashes an injected init (crashOnInit) in each new environment, and a healthy version beside it keeps its one warm environment', async () => {
    lab.lambda.createFunction({ name: 'sleeper', handler: 'index.handler', codeDir: sleeperDir, timeoutSeconds: 10 });
    const good = lab.lambda.publishVersion('sleeper');
    const bad = lab.lambda.publishVersion('sleeper', { crashOnInit: true }, 'bad');
    for (let i = 0; i < 3; i++) {
      await lab.lambda.invoke('sleeper', {}, 'test', good);
      await lab.lambda.invoke('sleeper', {}, 'test', bad);
      await lab.advance(10);
    }
    expect(lab.lambda.environments('sleeper', bad)).toMatchObject({ started: 3, alive: 0 });
    expect(lab.lambda.environments('sleeper', good)).toMatchObject({ started: 1, alive: 1 });
  }, 30_000);
});
