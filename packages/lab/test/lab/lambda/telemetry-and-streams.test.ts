import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { FLUSH_SECONDS, TELEMETRY_STREAM_FILTER, WATCHING_RECHECK_SECONDS, watchItemRemoval, watchItemUpdate, watchKey } from 'canary-watchdog/lib/runtime/telemetry';
import { DynamoDbLab } from '../../../src/lab/dynamodb';
import type { FaultOutcome } from '../../../src/lab/faults';
import { LabError, Scheduler } from '../../../src/lab/kernel';
import { STREAM_POLL_MS, StreamEventSources } from '../../../src/lab/lambda/event-source';
import { TelemetryExtensionModel } from '../../../src/lab/lambda/telemetry';

const T0 = Date.UTC(2026, 0, 1);
const TABLE = 'state-table';

function world() {
  const scheduler = new Scheduler('virtual', T0);
  const dynamodb = new DynamoDbLab({ now: () => scheduler.now() });
  dynamodb.createTable(TABLE, 'deploymentId');
  const item = (id: string) => {
    const got = dynamodb.service.operations.GetItem({ TableName: TABLE, Key: marshall({ deploymentId: id }) }) as { Item?: Record<string, never> };
    return got.Item ? unmarshall(got.Item) : undefined;
  };
  /** As the pre-traffic hook does: the version's watch item names the deployment. */
  const watch = (fn: string, version: string, deploymentId: string) => {
    const u = watchItemUpdate(TABLE, fn, version, deploymentId, T0 / 1000 + 3600);
    dynamodb.service.operations.UpdateItem({ ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) });
  };
  return { scheduler, dynamodb, item, watch };
}

describe('lab: the telemetry extension model', () => {
  it('counts nothing into the table for a version no release watches, and finds the watch item at its next look', async () => {
    const { scheduler, dynamodb, item, watch } = world();
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 5, 1);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 5, 1);
    expect(model.writes).toHaveLength(0);
    watch('orders', '2', 'd-1');
    // Looked at the first invocation, found nothing: it looks again only after 30 s.
    await scheduler.advance(10_000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(0);
    await scheduler.advance(20_000);
    model.invoked('orders', '2', scheduler.now(), 1, 1);
    // Found now; what ended while nothing was watched is nobody's and is not counted.
    expect(model.writes).toHaveLength(0);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(1);
    expect(item('d-1')).toBeUndefined();
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-1', telemetryInvocations: 1, telemetryErrors: 1 });
  });

  it('writes a failure at the next invocation after the Telemetry API buffer, successes only every FLUSH_SECONDS', async () => {
    const { scheduler, dynamodb, item, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 3, 0);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 3, 0);
    // The first three are delivered now, but successes wait for the flush interval.
    expect(model.writes).toHaveLength(0);
    await scheduler.advance(FLUSH_SECONDS * 1000);
    model.invoked('orders', '2', scheduler.now(), 2, 1);
    expect(model.writes).toHaveLength(1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 6, telemetryErrors: 0, telemetryFailed: false });
    // The failure above is buffered until the environment runs again, at least 500 ms later.
    await scheduler.advance(200);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(1);
    await scheduler.advance(400);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(2);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 8, telemetryErrors: 1, telemetryFailed: true });
  });

  it('drops its counts when its watch item moves to another deployment, and never counts them there', async () => {
    const { scheduler, dynamodb, item, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 3, 0);
    // A redeployment of the same version: the hook starts the item again for d-2.
    watch('orders', '2', 'd-2');
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 3, 3);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(0);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-2', telemetryInvocations: 0, telemetryErrors: 0 });
  });

  /** Invoke the version once a second, successes only, until `until` (epoch ms). */
  async function everySecond(scheduler: Scheduler, model: TelemetryExtensionModel, until: number) {
    while (scheduler.now() < until) {
      await scheduler.advance(1000);
      model.invoked('orders', '2', scheduler.now(), 1, 0);
    }
  }

  it('looks at its watch item again every WATCHING_RECHECK_SECONDS while it watches: a redeploy of the same version is counted from that look, without a failed write', async () => {
    // Prepare: watching d-1, writing every FLUSH_SECONDS.
    const { scheduler, dynamodb, item, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    await everySecond(scheduler, model, T0 + 15_000);
    expect(model.writes.map((w) => w.deploymentId)).toEqual(['d-1']);
    // Act: the hook of a redeploy of version 2 points the item at d-2.
    watch('orders', '2', 'd-2');
    await everySecond(scheduler, model, T0 + WATCHING_RECHECK_SECONDS * 1000 + FLUSH_SECONDS * 1000 + 1000);
    // Assess: the look at 20 s found d-2 before the write was due; what was counted for d-1 since
    // its last write is given up, and the next write, a flush interval later, counts for d-2.
    expect(model.writes.map((w) => w.deploymentId)).toEqual(['d-1', 'd-2']);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-2', telemetryInvocations: 10 });
    const watchWriteUnits = dynamodb.capacity.consumption().filter((c) => c.kind === '#watch').reduce((a, c) => a + c.writeUnits, 0);
    // Two hook writes, two extension writes: no write failed its condition.
    expect(watchWriteUnits).toBe(4);
  });

  it('writes nothing more than 30 s after its watch item is removed, however often the version is invoked', async () => {
    const { scheduler, dynamodb, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    await everySecond(scheduler, model, T0 + 25_000);
    // The watchdog ends the watch when the deployment ends.
    const r = watchItemRemoval(TABLE, 'orders', '2', 'd-1');
    dynamodb.service.operations.DeleteItem({ ...r, Key: marshall(r.Key), ExpressionAttributeValues: marshall(r.ExpressionAttributeValues) });
    const removedAt = scheduler.now();
    await everySecond(scheduler, model, removedAt + 5 * 60_000);
    const writesAfter = dynamodb.capacity.consumption().filter((c) => c.kind === '#watch' && c.minute >= removedAt + 30_000 && c.writeUnits > 0);
    expect(writesAfter).toEqual([]);
    expect(model.writes.filter((w) => w.at > removedAt)).toEqual([]);
  });

  it("the hook's second write for the same deployment keeps the counts made since its first", async () => {
    const { scheduler, dynamodb, item, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 3, 3);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(1);
    expect(() => watch('orders', '2', 'd-1')).toThrow(/conditional request failed/i);
    expect(item(watchKey('orders', '2'))).toMatchObject({ watching: 'd-1', telemetryInvocations: 3, telemetryErrors: 3 });
  });

  it("never holds an invocation, whatever DynamoDB does: it answers /next at once and calls in the background", async () => {
    const { scheduler, dynamodb, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb, { fault: () => ({ latencyMs: 2000 }) });
    model.enable('orders', TABLE);
    for (let i = 0; i < 5; i++) {
      model.invoked('orders', '2', scheduler.now(), 3, 1);
      await scheduler.advance(1000);
    }
    expect(model.holds).toEqual([]);
  });

  it('a write answered with an error keeps its counts for the next; one cut at 500 ms may have been applied, so its counts are dropped', async () => {
    const { scheduler, dynamodb, item, watch } = world();
    watch('orders', '2', 'd-1');
    let fault: FaultOutcome = { latencyMs: 0 };
    const model = new TelemetryExtensionModel(dynamodb, { fault: () => fault });
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 3, 1);
    fault = { latencyMs: 10, error: new LabError('ServiceUnavailable', 'outage', 503) };
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(0);
    fault = { latencyMs: 0 };
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 1);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 4, telemetryErrors: 1 });
    // A call that takes 500 ms or more is cut there: not retried, its counts given up.
    fault = { latencyMs: 500 };
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.dropped).toEqual([{ at: T0 + 3000, functionName: 'orders', version: '2', invocations: 1, errors: 1 }]);
    fault = { latencyMs: 0 };
    await scheduler.advance(FLUSH_SECONDS * 1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 5, telemetryErrors: 1 });
  });

  it('after three failed calls in a row, makes none for 30 s (its breaker), then tries again', async () => {
    const { scheduler, dynamodb, watch } = world();
    watch('orders', '2', 'd-1');
    let calls = 0;
    let down = true;
    const model = new TelemetryExtensionModel(dynamodb, {
      fault: () => {
        calls++;
        return down ? { latencyMs: 0, error: new LabError('ServiceUnavailable', 'outage', 503) } : { latencyMs: 0 };
      },
    });
    model.enable('orders', TABLE);
    // Lookups fail, retried 5 s apart: three failures open the breaker.
    for (let i = 0; i < 30; i++) {
      model.invoked('orders', '2', scheduler.now(), 1, 1);
      await scheduler.advance(1000);
    }
    expect(calls).toBe(3);
    down = false;
    await scheduler.advance(10_000);
    model.invoked('orders', '2', scheduler.now(), 1, 1);
    expect(calls).toBe(4);
  });

  it('holds no invocation without faults (guard: the model adds no latency of its own)', async () => {
    const { scheduler, dynamodb, watch } = world();
    watch('orders', '2', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb, { fault: () => ({ latencyMs: 0 }) });
    model.enable('orders', TABLE);
    model.invoked('orders', '2', scheduler.now(), 3, 1);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(1);
    expect(model.holds).toEqual([]);
  });

  it('ignores $LATEST and functions without the extension', async () => {
    const { scheduler, dynamodb, watch } = world();
    watch('orders', '$LATEST', 'd-1');
    const model = new TelemetryExtensionModel(dynamodb);
    model.enable('orders', TABLE);
    model.invoked('orders', '$LATEST', scheduler.now(), 3, 3);
    model.invoked('other', '2', scheduler.now(), 3, 3);
    await scheduler.advance(1000);
    model.invoked('orders', '$LATEST', scheduler.now(), 3, 3);
    model.invoked('other', '2', scheduler.now(), 3, 3);
    expect(model.writes).toHaveLength(0);
  });
});

describe('lab: event source mappings on a DynamoDB stream', () => {
  function mapped(fail = 0) {
    const w = world();
    w.dynamodb.enableStream(TABLE, 'NEW_IMAGE');
    const calls: { at: number; ids: string[] }[] = [];
    let failures = fail;
    const sources = new StreamEventSources(w.scheduler, w.dynamodb, async (_fn, event) => {
      const records = (event as { Records: { dynamodb: { Keys: { deploymentId: { S: string } } } }[] }).Records;
      calls.push({ at: w.scheduler.now(), ids: records.map((r) => r.dynamodb.Keys.deploymentId.S) });
      return failures-- > 0 ? { functionError: 'Unhandled' } : {};
    });
    sources.add({ id: 'Mapping', table: TABLE, functionName: 'watchdog', patterns: [TELEMETRY_STREAM_FILTER], batchSize: 100, batchingWindowSeconds: 1 });
    const put = (id: string, failed: boolean) => w.dynamodb.service.operations.UpdateItem({ TableName: TABLE, Key: marshall({ deploymentId: id }), UpdateExpression: 'SET #f = :f', ExpressionAttributeNames: { '#f': 'telemetryFailed' }, ExpressionAttributeValues: marshall({ ':f': failed }) });
    return { ...w, calls, put };
  }

  it('hands the function only the writes the filter passes, after the next poll and the batching window, in one batch', async () => {
    const { scheduler, calls, put } = mapped();
    put('d-ok', false);
    put('d-1', true);
    await scheduler.advance(300);
    put('d-2', true);
    await scheduler.advance(1000);
    expect(calls).toEqual([{ at: T0 + STREAM_POLL_MS + 1000, ids: ['d-1', 'd-2'] }]);
  });

  it('retries a failed batch, in order, before later records', async () => {
    const { scheduler, calls, put } = mapped(1);
    put('d-1', true);
    await scheduler.advance(1300);
    put('d-2', true);
    await scheduler.advance(2000);
    expect(calls.map((c) => c.ids)).toEqual([['d-1'], ['d-1', 'd-2']]);
  });

  it('refuses a batch size or window DynamoDB streams do not allow, naming them', () => {
    const { scheduler, dynamodb } = world();
    dynamodb.enableStream(TABLE, 'NEW_IMAGE');
    const sources = new StreamEventSources(scheduler, dynamodb, async () => ({}));
    expect(() => sources.add({ id: 'M', table: TABLE, functionName: 'f', patterns: [], batchSize: 0, batchingWindowSeconds: 0 })).toThrow('M: BatchSize must be 1-10000 for a DynamoDB stream, got 0');
    expect(() => sources.add({ id: 'M', table: TABLE, functionName: 'f', patterns: [], batchSize: 10, batchingWindowSeconds: 301 })).toThrow('M: MaximumBatchingWindowInSeconds must be 0-300, got 301');
  });
});
