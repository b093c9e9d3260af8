import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

// The SDK's retry backoff inside a function is time the invocation spends, as on AWS: on a virtual
// clock it moves the invocation's own clock (Date.now(), getRemainingTimeInMillis) and costs no wall
// time, like the function's own sleeps; the SDK's socket and request timers keep real time.
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-sdk-retries-'));
  mkdirSync(join(dir, 'retrier'));
  writeFileSync(
    join(dir, 'retrier', 'index.js'),
    `const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({ maxAttempts: Number(process.env.ATTEMPTS) });
exports.handler = async (event, context) => {
  const t0 = Date.now();
  const remaining0 = context.getRemainingTimeInMillis();
  const wall0 = performance.now();
  let meta = {};
  try { await client.send(new ListTablesCommand({})); } catch (err) { meta = { name: err.name, ...err.$metadata }; }
  return { meta, virtualMs: Date.now() - t0, remainingDrop: remaining0 - context.getRemainingTimeInMillis(), wallMs: performance.now() - wall0 };
};`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let lab: Lab;
beforeEach(async () => {
  lab = new Lab({ seed: 5 });
  await lab.start();
});
afterEach(async () => lab.stop());

const invoke = async (name: string) => {
  const client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
  return JSON.parse(Buffer.from(out.Payload!).toString('utf8')) as {
    meta: { name?: string; attempts?: number; totalRetryDelay?: number };
    virtualMs: number;
    remainingDrop: number;
    wallMs: number;
    errorMessage?: string;
  };
};

describe('the lab: the SDK retry backoff in a function on a virtual clock', () => {
  it('moves the invocation\'s clock by the backoff, and costs no wall time for it', async () => {
    lab.lambda.createFunction({ name: 'retrier', handler: 'index.handler', codeDir: join(dir, 'retrier'), timeoutSeconds: 60, environment: { ATTEMPTS: '6' } });
    // Every DynamoDB call throttled: the SDK retries 5 times, with throttling backoff (base 500 ms).
    lab.setFaults([{ service: 'DynamoDB', throttleRate: 1 }]);
    const r = await invoke('retrier');
    expect(r.meta.name).toBe('ProvisionedThroughputExceededException');
    expect(r.meta.attempts).toBe(6);
    expect(r.meta.totalRetryDelay).toBeGreaterThan(0);
    // The backoff is the invocation's time: its clock and its remaining time moved by it.
    expect(r.virtualMs).toBeGreaterThanOrEqual(r.meta.totalRetryDelay!);
    expect(r.remainingDrop).toBeGreaterThanOrEqual(r.meta.totalRetryDelay!);
    // ... and not the machine's: well under the backoff in wall time when the backoff is long.
    if (r.meta.totalRetryDelay! > 2000) expect(r.wallMs).toBeLessThan(r.meta.totalRetryDelay!);
  }, 60_000);

  it('times the function out when its retries outlast its timeout, as Lambda does', async () => {
    lab.lambda.createFunction({ name: 'retrier', handler: 'index.handler', codeDir: join(dir, 'retrier'), timeoutSeconds: 1, environment: { ATTEMPTS: '12' } });
    lab.setFaults([{ service: 'DynamoDB', throttleRate: 1 }]);
    const r = await invoke('retrier');
    expect(r.errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
  }, 60_000);

  it('keeps a fast call fast: no fault, one attempt, no backoff (guard)', async () => {
    lab.lambda.createFunction({ name: 'retrier', handler: 'index.handler', codeDir: join(dir, 'retrier'), timeoutSeconds: 10, environment: { ATTEMPTS: '3' } });
    const r = await invoke('retrier');
    expect(r.meta).toEqual({});
    expect(r.virtualMs).toBeLessThan(100);
  }, 60_000);
});
