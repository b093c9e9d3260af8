import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TELEMETRY_STREAM_FILTER, WATCH_ROLE_FIELD, watchItemUpdate, type WatchRole } from 'canary-watchdog/lib/aws/telemetry';
import { DynamoDbLab } from '../../../src/lab/dynamodb';
import { Scheduler } from '../../../src/lab/kernel';
import { STREAM_POLL_MS, StreamEventSources } from '../../../src/lab/lambda/event-source';

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
    // A flush into a watch item the hook wrote for the release (its role) or for its baseline.
    const put = (id: string, failed: boolean, role: WatchRole = 'release') =>
      w.dynamodb.service.operations.UpdateItem({ TableName: TABLE, Key: marshall({ deploymentId: id }), UpdateExpression: 'SET #f = :f, #r = :r', ExpressionAttributeNames: { '#f': 'telemetryFailed', '#r': WATCH_ROLE_FIELD }, ExpressionAttributeValues: marshall({ ':f': failed, ':r': role }) });
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

  it("never hands the function the old version's writes (the baseline), failing or not", async () => {
    const { scheduler, calls, put } = mapped();
    put('#watch#orders#1', true, 'baseline');
    put('#watch#orders#2', true);
    await scheduler.advance(1300);
    expect(calls.map((c) => c.ids)).toEqual([['#watch#orders#2']]);
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
