/**
 * The real telemetry extension (the Go binary npm run bundle builds into the layer) on the lab's
 * Extensions and Telemetry API: its DynamoDB calls reach the lab's endpoint with its function's
 * credentials, and meet the lab's IAM, faults and capacity accounting. These were the model's
 * tests; they now hold of the artifact users ship.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBucketOf } from 'canary-watchdog/lib/core/init-durations';
import { FLUSH_SECONDS, initsOf, WATCHING_RECHECK_SECONDS, watchItemRemoval, watchKey } from 'canary-watchdog/lib/aws/telemetry';
import type { Lab } from '../../../src/lab/lab';
import { extensionWorld, T0, TABLE } from './extension-world';

describe('lab: the real telemetry extension on the lab\u2019s Extensions and Telemetry API', () => {
  let w: Awaited<ReturnType<typeof extensionWorld>>;
  afterEach(async () => w?.lab.stop());

  it('counts nothing into the table for a version no release watches, and finds the watch item at its next look', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    await invoke(5, 1);
    await advance(1000);
    await invoke(5, 1);
    expect(lab.telemetry.writes).toHaveLength(0);
    watch('2', 'd-1');
    // Looked at the first invocation, found nothing: it looks again only after 30 s.
    await advance(10_000);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(0);
    await advance(20_000);
    await invoke(1, 1);
    // Found now; what ended while nothing was watched is nobody's and is not counted.
    expect(lab.telemetry.writes).toHaveLength(0);
    await advance(1000);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-1', telemetryInvocations: 1, telemetryErrors: 1 });
    // Its lines are in the function's log group, as an extension's are on AWS.
    expect(lab.lambda.logs.filter((l) => l.functionName === 'orders').map((l) => JSON.parse(l.line).event)).toEqual(['telemetry.subscribed', 'telemetry.unwatched', 'telemetry.watching']);
  });

  it("delivers each new environment's init events, and the extension counts the on-demand inits into its watch item's histogram", async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(1);
    // Three environments start for five invocations: platform.initStart, initRuntimeDone and
    // initReport each, then the first invocation of each reports its Init Duration too.
    lab.lambda.noteInvocations('orders', '2', lab.now(), 5, 0, 20, [400, 420, 1600]);
    await lab.telemetry.settled();
    await advance(FLUSH_SECONDS * 1000);
    await invoke(1);
    const got = item(watchKey('orders', '2'))!;
    // The last invocation's events wait in the Telemetry API's buffer.
    expect(got).toMatchObject({ telemetryInvocations: 6, telemetryInits: 3 });
    expect(initsOf(got)!.buckets[initBucketOf(400)]).toBe(2);
    expect(initsOf(got)!.buckets[initBucketOf(1600)]).toBe(1);
  });

  it('writes a failure at the next invocation after the Telemetry API buffer, successes only every FLUSH_SECONDS', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(3);
    await advance(1000);
    await invoke(3);
    // The first three are delivered now, but successes wait for the flush interval.
    expect(lab.telemetry.writes).toHaveLength(0);
    await advance(FLUSH_SECONDS * 1000);
    await invoke(2, 1);
    expect(lab.telemetry.writes).toHaveLength(1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 6, telemetryErrors: 0, telemetryFailed: false });
    // The failure above is buffered until the environment runs again, at least 500 ms later.
    await advance(200);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(1);
    await advance(400);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(2);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 8, telemetryErrors: 1, telemetryFailed: true });
  });

  it('drops its counts when its watch item moves to another deployment, and never counts them there', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(3);
    // A redeployment of the same version: the hook starts the item again for d-2.
    watch('2', 'd-2');
    await advance(1000);
    await invoke(3, 3);
    await advance(1000);
    await invoke(1);
    // The write for d-1 failed its condition: nothing was added, and it stopped writing.
    expect(lab.telemetry.writes).toHaveLength(0);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-2', telemetryInvocations: 0, telemetryErrors: 0 });
  });

  it('writes nothing more than 30 s after its watch item is removed, however often the version is invoked', async () => {
    w = await extensionWorld();
    const { lab, watch, invoke, advance } = w;
    watch('2', 'd-1');
    const everySecond = async (until: number) => {
      while (lab.now() < until) {
        await advance(1000);
        await invoke(1);
      }
    };
    await invoke(1);
    await everySecond(T0 + 25_000);
    // The watchdog ends the watch when the deployment ends.
    const r = watchItemRemoval(TABLE, 'orders', '2', 'd-1');
    lab.dynamodb.service.operations.DeleteItem({ ...r, Key: marshall(r.Key), ExpressionAttributeValues: marshall(r.ExpressionAttributeValues) });
    const removedAt = lab.now();
    await everySecond(removedAt + 3 * 60_000);
    expect(lab.telemetry.calls.filter((c) => c.operation === 'UpdateItem' && c.at >= removedAt + 30_000)).toEqual([]);
    expect(lab.telemetry.writes.filter((x) => x.at > removedAt)).toEqual([]);
    // Outside the release it only looks, every WATCH_RECHECK_SECONDS (30 s).
    const looks = lab.telemetry.calls.filter((c) => c.operation === 'GetItem' && c.at >= removedAt + 30_000);
    expect(looks.length).toBeGreaterThanOrEqual(4);
    expect(looks.length).toBeLessThanOrEqual(6);
  });

  it('looks again every WATCHING_RECHECK_SECONDS while it watches: a redeploy of the same version is counted from that look', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(1);
    while (lab.now() < T0 + 15_000) {
      await advance(1000);
      await invoke(1);
    }
    expect(lab.telemetry.writes.map((x) => x.deploymentId)).toEqual(['d-1']);
    watch('2', 'd-2');
    while (lab.now() < T0 + WATCHING_RECHECK_SECONDS * 1000 + FLUSH_SECONDS * 1000 + 1000) {
      await advance(1000);
      await invoke(1);
    }
    expect(lab.telemetry.writes.map((x) => x.deploymentId)).toEqual(['d-1', 'd-2']);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-2', telemetryInvocations: 10 });
    // Two hook writes, two extension writes, one write unit each: no write failed its condition.
    const watchWriteUnits = lab.dynamodb.capacity.consumption().filter((c) => c.kind === '#watch').reduce((a, c) => a + c.writeUnits, 0);
    expect(watchWriteUnits).toBe(4);
  });

  it("the hook's second write for the same deployment keeps the counts made since its first", async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(3, 3);
    await advance(1000);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(1);
    expect(() => watch('2', 'd-1')).toThrow(/conditional request failed/i);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-1', telemetryInvocations: 3, telemetryErrors: 3 });
  });

  it('never holds an invocation when DynamoDB hangs: its call is cut at 500 ms, in the background, and its counts are dropped', async () => {
    w = await extensionWorld();
    const { lab, watch, invoke, advance, faults } = w;
    watch('2', 'd-1');
    await invoke(1);
    faults([{ service: 'DynamoDB', latencyMs: 2000 }]);
    for (let i = 0; i < 5; i++) {
      await advance(1000);
      await invoke(3, 1);
    }
    expect(lab.telemetry.writes).toEqual([]);
    expect(lab.telemetry.dropped.length).toBeGreaterThan(0);
    expect(lab.telemetry.dropped[0]).toMatchObject({ operation: 'UpdateItem', deploymentId: 'd-1' });
    // The Invoke phase: the time from INVOKE to its next /next, measured on the wall clock.
    const holds = lab.telemetry.holds.map((h) => h.ms);
    expect(holds.length).toBe(6);
    expect(Math.max(...holds)).toBeLessThan(50);
  });

  it('keeps the counts of a write answered with an error (an outage) and writes their sum once DynamoDB is back', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance, faults } = w;
    watch('2', 'd-1');
    await invoke(3, 1);
    faults([{ service: 'DynamoDB', unavailable: true }]);
    await advance(1000);
    await invoke(1);
    expect(lab.telemetry.writes).toHaveLength(0);
    faults([]);
    await advance(1000);
    await invoke(1, 1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 4, telemetryErrors: 1 });
    await advance(1000);
    await invoke(1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 5, telemetryErrors: 2 });
  });

  it('after three failed calls in a row makes none for 30 s (its breaker), then tries again', async () => {
    w = await extensionWorld();
    const { lab, watch, invoke, advance, faults } = w;
    watch('2', 'd-1');
    faults([{ service: 'DynamoDB', unavailable: true }]);
    for (let i = 0; i < 30; i++) {
      await invoke(1, 1);
      await advance(1000);
    }
    expect(lab.telemetry.calls).toHaveLength(3);
    faults([]);
    await advance(10_000);
    await invoke(1, 1);
    expect(lab.telemetry.calls.length).toBe(4);
    expect(lab.telemetry.calls[3]).toMatchObject({ operation: 'GetItem', status: 200 });
  });

  it('never calls DynamoDB for $LATEST, which no release watches', async () => {
    w = await extensionWorld();
    const { lab, watch, invoke, advance } = w;
    watch('$LATEST', 'd-1');
    await invoke(3, 3, '$LATEST');
    await advance(1000);
    await invoke(3, 3, '$LATEST');
    expect(lab.telemetry.calls).toEqual([]);
  });

  it('on a real clock, joins invocations that arrive while a run waits into that run: fewer INVOKEs, the same counts', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    lab.telemetry.coalesce = true;
    watch('2', 'd-1');
    await invoke(1);
    await advance(1000);
    // Five batches arrive before the environment's next run has begun: they make that one run.
    for (let i = 0; i < 5; i++) lab.lambda.noteInvocations('orders', '2', lab.now(), 2, 1, 20);
    await lab.telemetry.settled();
    expect(lab.telemetry.holds.length).toBe(2);
    await advance(1000);
    await invoke(1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 11, telemetryErrors: 5 });
  });

  it('without the table variable says so once, never calls DynamoDB, and still answers every INVOKE', async () => {
    w = await extensionWorld({ env: { CANARY_WATCHDOG_TELEMETRY_TABLE: '' } });
    const { lab, invoke, advance } = w;
    for (let i = 0; i < 5; i++) {
      await invoke(2, 1);
      await advance(1000);
    }
    expect(lab.telemetry.calls).toEqual([]);
    expect(lab.telemetry.holds).toHaveLength(5);
    const events = lab.lambda.logs.filter((l) => l.functionName === 'orders').map((l) => JSON.parse(l.line) as { event: string; reason?: string });
    expect(events).toEqual([expect.objectContaining({ event: 'telemetry.off', reason: 'CANARY_WATCHDOG_TELEMETRY_TABLE is not set' })]);
  });

  it('writes what is left at SHUTDOWN, within Lambda\u2019s 2,000 ms, then exits', async () => {
    w = await extensionWorld();
    const { lab, item, watch, invoke, advance } = w;
    watch('2', 'd-1');
    await invoke(2);
    await advance(1000);
    await invoke(3);
    expect(lab.telemetry.writes).toHaveLength(0);
    await advance(1000);
    const began = performance.now();
    await lab.telemetry.shutdown('orders', '2');
    expect(performance.now() - began).toBeLessThan(2000);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 5, telemetryErrors: 0 });
  });
});

describe('lab: the Extensions and Telemetry API as documented, to any extension', () => {
  let w: Awaited<ReturnType<typeof extensionWorld>>;
  afterEach(async () => w?.lab.stop());

  /** An extension written in plain Node.js that makes `calls` in order and prints each answer's status and errorType. */
  function probeExtension(calls: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'probe-ext-'));
    const file = join(dir, 'probe');
    writeFileSync(
      file,
      `#!${process.execPath}
const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API;
const call = async (method, path, headers, body) => {
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let errorType;
  try { errorType = JSON.parse(text).errorType; } catch {}
  console.log(JSON.stringify({ path, status: r.status, errorType, id: r.headers.get('lambda-extension-identifier') ?? undefined, body: r.status === 200 ? text : undefined }));
  return r.headers.get('lambda-extension-identifier');
};
(async () => { ${calls} })();
`,
    );
    chmodSync(file, 0o755);
    return file;
  }

  const lines = (lab: Lab) => lab.lambda.logs.filter((l) => l.functionName === 'orders').map((l) => l.line);

  it('refuses a registration without a name or with an event an external extension cannot take, and an unknown identifier', async () => {
    const binary = probeExtension(`
      await call('POST', '/2020-01-01/extension/register', {}, { events: ['INVOKE'] });
      await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'probe' }, { events: ['INVOKE', 'RESTART'] });
      await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': 'nobody' });
      const id = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'probe' }, { events: ['INVOKE', 'SHUTDOWN'] });
      await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'probe' }, { events: ['INVOKE'] });
      process.exit(0);
    `);
    w = await extensionWorld({ binary });
    await w.invoke(1);
    const out = lines(w.lab).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { status: number; errorType?: string; body?: string });
    expect(out.map((o) => `${o.status} ${o.errorType ?? ''}`.trim())).toEqual(['400 Extension.InvalidRequest', '400 Extension.InvalidEventType', '403 Extension.UnknownExtensionIdentifier', '200', '403 Extension.AlreadyRegistered']);
    expect(JSON.parse(out[3].body!)).toEqual({ functionName: 'orders', functionVersion: '2', handler: 'index.handler' });
    // It exited before its first /next: Lambda fails the environment's init, and says so in the log group.
    expect(w.lab.telemetry.initFailures).toEqual([{ functionName: 'orders', version: '2', reason: 'the extension exited with 0 before its first /next' }]);
    expect(lines(w.lab).some((l) => /^EXTENSION\tName: probe\tState: InitError/.test(l))).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['maxItems under 1,000', { buffering: { maxItems: 10, maxBytes: 262144, timeoutMs: 500 } }, 'buffering.maxItems'],
    ['timeoutMs under 25 ms', { buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 5 } }, 'buffering.timeoutMs'],
    ['a schema version that does not exist', { schemaVersion: '2021-01-01' }, 'schemaVersion'],
    ['a destination other than sandbox.localdomain', { destination: { protocol: 'HTTP', URI: 'http://example.com:9999' } }, 'destination.URI'],
  ])('refuses a telemetry subscription with %s (400, naming the field)', async (_name, change, field) => {
    const body = { schemaVersion: '2022-12-13', types: ['platform'], buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 500 }, destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:9999' }, ...change };
    const binary = probeExtension(`
      const id = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'probe' }, { events: ['INVOKE'] });
      const r = await fetch(base + '/2022-07-01/telemetry', { method: 'PUT', headers: { 'Lambda-Extension-Identifier': id }, body: ${JSON.stringify(JSON.stringify(body))} });
      console.log('subscribe ' + r.status + ' ' + (await r.text()));
      await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    `);
    w = await extensionWorld({ binary });
    await w.invoke(1);
    const answer = lines(w.lab).find((l) => l.startsWith('subscribe '))!;
    expect(answer).toMatch(/^subscribe 400 /);
    expect(JSON.parse(answer.slice('subscribe 400 '.length))).toMatchObject({ errorType: 'ValidationError', errorMessage: expect.stringContaining(field) });
  });

  it('delivers platform.start, platform.runtimeDone and platform.report, batched after the buffering time (guard: a valid subscription is taken)', async () => {
    const binary = probeExtension(`
      const http = require('node:http');
      const srv = http.createServer((req, res) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => { res.end(); console.log('batch ' + JSON.stringify(JSON.parse(b).map((e) => e.type + ':' + (e.record.status ?? '')))); }); });
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const id = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'probe' }, { events: ['INVOKE'] });
      const r = await fetch(base + '/2022-07-01/telemetry', { method: 'PUT', headers: { 'Lambda-Extension-Identifier': id }, body: JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 100 }, destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:' + srv.address().port } }) });
      console.log('subscribe ' + r.status);
      for (;;) await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    `);
    w = await extensionWorld({ binary });
    await w.invoke(2, 1);
    await w.advance(50);
    await w.invoke(1);
    expect(lines(w.lab).filter((l) => l.startsWith('batch '))).toEqual([]);
    await w.advance(100);
    await w.invoke(1);
    expect(lines(w.lab).filter((l) => l.startsWith('subscribe ') || l.startsWith('batch '))).toEqual([
      'subscribe 200',
      // The two at 0 ms and the one at 50 ms: each released 100 ms after it ended, in one batch.
      'batch ["platform.start:","platform.runtimeDone:error","platform.report:error","platform.start:","platform.runtimeDone:success","platform.report:success","platform.start:","platform.runtimeDone:success","platform.report:success"]',
    ]);
  });
});
