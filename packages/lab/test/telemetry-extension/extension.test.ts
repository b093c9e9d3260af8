/**
 * The native `canary-watchdog-telemetry` extension (packages/constructs/extension), run as Lambda
 * runs it (its own process, the Extensions and Telemetry APIs played over loopback by
 * ./fake-lambda.ts), writing to the lab's DynamoDB. Its DynamoDB calls happen in the background,
 * after it has answered INVOKE with /next, so the tests wait for their effects, never for INVOKE.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TELEMETRY_BUFFER_MS, TELEMETRY_EXTENSION_NAME, TELEMETRY_FIELDS, telemetryOf, watchItem, watchKey } from 'canary-watchdog/lib/runtime/telemetry';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { DynamoDbLab } from '../../src/lab/dynamodb';
import { LabError } from '../../src/lab/kernel';
import { LabServer } from '../../src/lab/server';
import { FakeLambda, runtimeDone, until } from './fake-lambda';

const TABLE = 'watchdog-state';
const DEPLOYMENT = 'd-ABCDEF123';
const FLUSH_MS = 600;
const RECHECK_MS = 800;
/** The breaker's cool-down after three failed calls (30 s in Lambda). */
const COOLDOWN_MS = 300;

let ddb: DynamoDbLab;
let server: LabServer;
let endpoint: string;
let doc: DynamoDBDocumentClient;
/** UpdateItem fails with a 500 while this is set. */
let failWrites = false;
let lambda: FakeLambda;

beforeEach(async () => {
  failWrites = false;
  ddb = new DynamoDbLab({ now: () => Date.now() });
  ddb.createTable(TABLE, 'deploymentId');
  server = new LabServer([ddb.service], [], { fault: (service, op) => (failWrites && service === 'DynamoDB' && op === 'UpdateItem' ? { error: new LabError('InternalServerError', 'injected', 500), latencyMs: 0 } : { latencyMs: 0 }) });
  endpoint = await server.listen(0, '127.0.0.1');
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 }));
});

afterEach(async () => {
  await lambda?.stop();
  doc.destroy();
  await server.close();
});

/** The pre-traffic hook's write: the version's watch item names the deployment. */
async function watch(version = '7', deploymentId = DEPLOYMENT): Promise<void> {
  await doc.send(new PutCommand({ TableName: TABLE, Item: watchItem({ deploymentId, functionName: 'orders', version }) }));
}

/** The counts in the version's watch item: the only item the extension writes. */
async function counts(version = '7') {
  const out = await doc.send(new GetCommand({ TableName: TABLE, Key: { deploymentId: watchKey('orders', version) }, ConsistentRead: true }));
  return telemetryOf(out.Item);
}

async function start(env: Record<string, string> = {}, version = '7'): Promise<FakeLambda> {
  lambda = new FakeLambda({ functionName: 'orders', functionVersion: version });
  await lambda.start({ CANARY_WATCHDOG_TELEMETRY_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: endpoint, CANARY_WATCHDOG_TELEMETRY_FLUSH_MS: String(FLUSH_MS), CANARY_WATCHDOG_TELEMETRY_RECHECK_MS: String(RECHECK_MS), CANARY_WATCHDOG_TELEMETRY_WATCHING_RECHECK_MS: String(RECHECK_MS), CANARY_WATCHDOG_TELEMETRY_COOLDOWN_MS: String(COOLDOWN_MS), ...env });
  await lambda.ready();
  return lambda;
}

const gets = () => server.requests.get('DynamoDB.GetItem') ?? 0;
const updates = () => server.requests.get('DynamoDB.UpdateItem') ?? 0;

it('registers for INVOKE and SHUTDOWN and subscribes to platform telemetry with the documented body', async () => {
  await watch();
  const l = await start();
  expect(l.registrations).toHaveLength(1);
  expect(l.registrations[0].headers['lambda-extension-name']).toBe(TELEMETRY_EXTENSION_NAME);
  expect(l.registrations[0].body).toEqual({ events: ['INVOKE', 'SHUTDOWN'] });
  expect(l.subscriptions).toHaveLength(1);
  const { body } = l.subscriptions[0];
  expect(body).toEqual({
    schemaVersion: '2022-12-13',
    types: ['platform'],
    buffering: { timeoutMs: TELEMETRY_BUFFER_MS, maxItems: 1000, maxBytes: 262144 },
    destination: { protocol: 'HTTP', URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
  });
  expect(l.logs.map((e) => e.event)).toEqual(['telemetry.subscribed']);
});

it('adds a failure to the item at once and successes within the flush interval, never per invocation', async () => {
  await watch();
  const l = await start();
  await l.invoke();
  // The extension's stdout is read apart from its HTTP calls: wait for the line, not for the call.
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  // Three successes: not due yet (no failure, flush interval not passed).
  expect(await l.telemetry([runtimeDone('success'), runtimeDone('success'), { time: new Date().toISOString(), type: 'platform.report', record: {} }, runtimeDone('success')])).toBe(200);
  await new Promise((r) => setTimeout(r, 150));
  expect(await counts()).toBeUndefined();
  // A failure: written as soon as its batch arrives, with the successes counted before it.
  const sent = Date.now();
  await l.telemetry([runtimeDone('timeout')]);
  await until(async () => (await counts())?.invocations === 4, 2000, 'the failure to be written');
  const failureLatencyMs = Date.now() - sent;
  expect(await counts()).toMatchObject({ invocations: 4, errors: 1 });
  expect(failureLatencyMs).toBeLessThan(1000);
  // Two successes: written on the first batch or INVOKE after the flush interval, not before.
  await l.telemetry([runtimeDone('success'), runtimeDone('success')]);
  await l.invoke();
  expect(await counts()).toMatchObject({ invocations: 4, errors: 1 });
  await new Promise((r) => setTimeout(r, 100));
  expect(await counts()).toMatchObject({ invocations: 4, errors: 1 });
  await new Promise((r) => setTimeout(r, FLUSH_MS));
  await l.invoke();
  await until(async () => (await counts())?.invocations === 6, 2000, 'the successes to be written');
  expect(await counts()).toMatchObject({ invocations: 6, errors: 1 });
  expect(updates()).toBe(2);
  // `telemetryAt` is the latest flush's time.
  const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { deploymentId: watchKey('orders', '7') } }))).Item!;
  expect(item[TELEMETRY_FIELDS.at]).toBeGreaterThanOrEqual(sent);
  // A batch that is not JSON is answered, logged, and changes nothing.
  expect(await l.telemetry('not json')).toBe(200);
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.bad-batch'), 5000, 'the bad-batch log line');
  expect(l.logs.filter((e) => e.event === 'telemetry.bad-batch')).toHaveLength(1);
  expect(await l.shutdown()).toBe(0);
}, 30_000);

it('writes nothing for an unwatched version, looks again after the re-check interval, and counts from then on', async () => {
  const l = await start();
  await l.invoke();
  await until(() => gets() === 1, 2000, 'the first lookup');
  await until(() => l.logs.some((e) => e.event === 'telemetry.unwatched'), 2000, 'the unwatched log line');
  await l.telemetry([runtimeDone('error'), runtimeDone('success')]);
  await l.invoke();
  await new Promise((r) => setTimeout(r, 100));
  expect(updates()).toBe(0);
  expect(gets()).toBe(1);
  // The release starts: the next INVOKE after the re-check interval finds the watch item.
  await watch();
  await new Promise((r) => setTimeout(r, RECHECK_MS));
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  expect(gets()).toBe(2);
  expect(l.logs.map((e) => e.event)).toEqual(['telemetry.subscribed', 'telemetry.unwatched', 'telemetry.watching']);
  // What was counted while unwatched belongs to no release: only what follows is written.
  await l.telemetry([runtimeDone('failure')]);
  await until(async () => (await counts()) !== undefined, 2000, 'the failure to be written');
  expect(await counts()).toMatchObject({ invocations: 1, errors: 1 });
}, 30_000);

it('never looks for a watch item for $LATEST', async () => {
  await watch();
  const l = await start({}, '$LATEST');
  await l.invoke();
  await l.invoke();
  expect(gets()).toBe(0);
  expect(l.subscriptions).toHaveLength(0);
  expect(l.logs).toEqual([expect.objectContaining({ event: 'telemetry.off', reason: 'version "$LATEST" is never watched' })]);
});

it('keeps counting through failed writes and writes the sum at the first event after the cool-down, logging once', async () => {
  await watch();
  const l = await start();
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  failWrites = true;
  await l.telemetry([runtimeDone('error')]);
  await until(() => l.logs.some((e) => e.event === 'telemetry.write-failed'), 10_000, 'the write to fail');
  await l.telemetry([runtimeDone('success'), runtimeDone('error')]);
  await l.invoke();
  expect(await counts()).toBeUndefined();
  expect(l.logs.filter((e) => e.event === 'telemetry.write-failed')).toHaveLength(1);
  failWrites = false;
  await l.telemetry([runtimeDone('success')]);
  // The breaker may be open after three failed calls: the first event after its cool-down writes.
  await until(async () => {
    await l.invoke();
    return (await counts()) !== undefined;
  }, 5000, 'the counts to arrive');
  expect(await counts()).toMatchObject({ invocations: 4, errors: 2 });
  await until(() => l.logs.some((e) => e.event === 'telemetry.write-recovered'), 5000, 'the write-recovered log line');
}, 60_000);

it('stops writing when its watch item moves to another deployment, and never counts for that one', async () => {
  await watch();
  const l = await start({ CANARY_WATCHDOG_TELEMETRY_WATCHING_RECHECK_MS: '600000' });
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  // A redeployment of the same version: the hook names the new deployment, counts from zero.
  await watch('7', 'd-OTHER0001');
  await l.telemetry([runtimeDone('error')]);
  await until(() => l.logs.some((e) => e.event === 'telemetry.deployment-gone'), 5000, 'the conditional write to fail');
  const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { deploymentId: watchKey('orders', '7') } }))).Item!;
  expect(item).toEqual(watchItem({ deploymentId: 'd-OTHER0001', functionName: 'orders', version: '7' }));
});

it('never writes any item but its own watch item', async () => {
  await watch();
  const l = await start();
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  await l.telemetry([runtimeDone('error'), runtimeDone('success')]);
  await until(async () => (await counts()) !== undefined, 5000, 'the counts to arrive');
  const all = ddb.service.operations.Scan({ TableName: TABLE }) as { Items: Record<string, { S?: string }>[] };
  expect(all.Items.map((i) => i.deploymentId.S)).toEqual([watchKey('orders', '7')]);
});

it('writes what is left at SHUTDOWN, with the telemetry Lambda delivers just after it, then exits 0', async () => {
  await watch();
  const l = await start({ CANARY_WATCHDOG_TELEMETRY_FLUSH_MS: '600000' });
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  await l.telemetry([runtimeDone('success'), runtimeDone('success'), runtimeDone('success')]);
  await l.invoke();
  expect(await counts()).toBeUndefined();
  const exit = l.shutdown();
  await new Promise((r) => setTimeout(r, 100));
  await l.telemetry([runtimeDone('success')]);
  expect(await exit).toBe(0);
  expect(await counts()).toMatchObject({ invocations: 4, errors: 0 });
  expect(updates()).toBe(1);
});

it('stops counting when the release ends (its watch item removed), at the next re-check', async () => {
  await watch();
  const l = await start();
  await l.invoke();
  await until(() => l.logs.some((e) => e.event === 'telemetry.watching'), 5000, 'the watching log line');
  await l.telemetry([runtimeDone('error')]);
  await until(async () => (await counts()) !== undefined, 2000, 'the failure to be written');
  await doc.send(new DeleteCommand({ TableName: TABLE, Key: { deploymentId: watchKey('orders', '7') } }));
  await new Promise((r) => setTimeout(r, RECHECK_MS));
  await l.invoke();
  await until(() => l.logs.at(-1)?.event === 'telemetry.unwatched', 5000, 'the unwatched log line');
  await l.telemetry([runtimeDone('error')]);
  await l.invoke();
  await new Promise((r) => setTimeout(r, 200));
  // Nothing written after the release, not even a write that fails its condition: the item is not made again.
  expect(await counts()).toBeUndefined();
  expect(updates()).toBe(1);
}, 30_000);

it('without the table variable, logs once and still answers every event, then exits at SHUTDOWN', async () => {
  lambda = new FakeLambda({ functionName: 'orders', functionVersion: '7' });
  await lambda.start({ AWS_ENDPOINT_URL_DYNAMODB: endpoint });
  await lambda.ready();
  for (let i = 0; i < 3; i++) await lambda.invoke();
  expect(lambda.nextCalls).toBe(4);
  expect(lambda.subscriptions).toHaveLength(0);
  expect(lambda.logs).toEqual([expect.objectContaining({ event: 'telemetry.off', reason: 'CANARY_WATCHDOG_TELEMETRY_TABLE is not set' })]);
  expect(await lambda.shutdown()).toBe(0);
  expect(gets() + updates()).toBe(0);
});

it('answers every INVOKE at once while DynamoDB hangs: the Invoke phase is never held for a call', async () => {
  // An endpoint that takes connections and never answers.
  const sockets: Socket[] = [];
  const hanging = createTcpServer((s) => sockets.push(s));
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  try {
    await watch();
    const l = await start({ AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(hanging.address() as import('node:net').AddressInfo).port}` });
    const held: number[] = [];
    for (let i = 0; i < 20; i++) {
      await l.telemetry([runtimeDone('error')]);
      const t = performance.now();
      await l.invoke();
      held.push(performance.now() - t);
    }
    // Each INVOKE is answered with /next long before one bounded call (500 ms) could end.
    expect(Math.max(...held)).toBeLessThan(100);
    await until(() => l.logs.some((e) => e.event === 'telemetry.lookup-failed'), 5000, 'the lookup to time out');
    // And SHUTDOWN still ends within the budget.
    const t = Date.now();
    expect(await l.shutdown()).toBe(0);
    expect(Date.now() - t).toBeLessThan(2000);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hanging.close(() => r()));
  }
}, 30_000);
