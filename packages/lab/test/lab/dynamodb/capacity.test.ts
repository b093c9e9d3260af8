/**
 * Capacity as DynamoDB bills it, kept per table, minute, kind of item and caller, and each
 * partition key held to its share of a second (3,000 read units, 1,000 write units), spoken to by
 * the real SDK over loopback. Cases from the pages cited in src/lab/dynamodb/capacity.ts.
 */
import { BatchGetItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';
import type { DynamoDbLab } from '../../../src/lab/dynamodb';
import { keyKind } from '../../../src/lab/dynamodb/capacity';

const T0 = Date.UTC(2026, 0, 1);
let lab: LoopbackDynamo;
let raw: DynamoDBClient;
let ddb: DynamoDbLab;
let now = T0;

beforeEach(async () => {
  now = T0;
  lab = await loopbackDynamo({ state: 'deploymentId' }, { now: () => now });
  raw = lab.raw;
  ddb = lab.dynamodb;
});

afterEach(() => lab.close());

/** A string attribute of about `kb` KB (the item's size is its names and values in UTF-8). */
const blob = (kb: number) => ({ S: 'x'.repeat(Math.round(kb * 1024) - 'blob'.length - 'deploymentId'.length - 8) });
const put = (id: string, kb: number) => raw.send(new PutItemCommand({ TableName: 'state', Item: { deploymentId: { S: id }, blob: blob(kb) }, ReturnConsumedCapacity: 'TOTAL' }));
const units = (out: { ConsumedCapacity?: { CapacityUnits?: number } }) => out.ConsumedCapacity?.CapacityUnits;

describe('capacity per item size', () => {
  it('bills a write a unit per KB, and an UpdateItem the larger of the item before and after', async () => {
    expect(units(await put('d-1', 3.5))).toBe(4);
    const shrink = await raw.send(new UpdateItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'd-1' } }, UpdateExpression: 'SET #b = :b', ExpressionAttributeNames: { '#b': 'blob' }, ExpressionAttributeValues: { ':b': { S: 'small' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(units(shrink)).toBe(4);
    const small = await raw.send(new UpdateItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'd-1' } }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '1' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(units(small)).toBe(1);
  });

  it('bills a read a unit per 4 KB strongly consistent, half that eventually consistent', async () => {
    await put('d-1', 5);
    const get = (ConsistentRead: boolean) => raw.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'd-1' } }, ConsistentRead, ReturnConsumedCapacity: 'TOTAL' }));
    expect(units(await get(true))).toBe(2);
    expect(units(await get(false))).toBe(1);
  });

  it('records per minute, kind of item and caller the same units ReturnConsumedCapacity reports', async () => {
    const reported = [await put('#config', 1.5), await put('#active', 0.2), await put('#watch#orders#7', 0.2), await put('d-1', 2.5)].map(units);
    now = T0 + 61_000;
    reported.push(units(await put('d-1', 2.5)));
    expect(reported).toEqual([2, 1, 1, 3, 3]);
    const rows = ddb.capacity.consumption().map(({ minute, kind, caller, writeUnits, readUnits }) => ({ minute: (minute - T0) / 60_000, kind, caller, writeUnits, readUnits }));
    expect(rows).toEqual([
      { minute: 0, kind: '#config', caller: 'test', writeUnits: 2, readUnits: 0 },
      { minute: 0, kind: '#active', caller: 'test', writeUnits: 1, readUnits: 0 },
      { minute: 0, kind: '#watch', caller: 'test', writeUnits: 1, readUnits: 0 },
      { minute: 0, kind: 'item', caller: 'test', writeUnits: 3, readUnits: 0 },
      { minute: 1, kind: 'item', caller: 'test', writeUnits: 3, readUnits: 0 },
    ]);
  });

  it('counts write requests beside their units, a failed condition too, and when the minute\'s last write was', async () => {
    await put('d-1', 2.5);
    now = T0 + 20_000;
    await put('d-1', 2.5);
    now = T0 + 30_000;
    await failure(raw.send(new PutItemCommand({ TableName: 'state', Item: { deploymentId: { S: 'd-1' } }, ConditionExpression: 'attribute_not_exists(deploymentId)' })));
    now = T0 + 40_000;
    await raw.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'd-1' } } }));
    const [row] = ddb.capacity.consumption();
    expect(row).toMatchObject({ kind: 'item', writes: 3, writeUnits: 9, lastWriteAt: T0 + 30_000 });
  });

  it('bills a write whose condition failed for the item as stored', async () => {
    await put('d-1', 2.5);
    const before = ddb.capacity.consumption().reduce((n, c) => n + c.writeUnits, 0);
    await failure(raw.send(new PutItemCommand({ TableName: 'state', Item: { deploymentId: { S: 'd-1' } }, ConditionExpression: 'attribute_not_exists(deploymentId)' })));
    expect(ddb.capacity.consumption().reduce((n, c) => n + c.writeUnits, 0) - before).toBe(3);
  });

  it.each([
    ['#config', '#config'],
    ['#watch#orders#7', '#watch'],
    ['#active', '#active'],
    ['d-7b3kq', 'item'],
    ['', 'item'],
  ])('tells the kind of key %s: %s', (key, kind) => {
    expect(keyKind(key)).toBe(kind);
  });
});

describe('a hot key', () => {
  it('is throttled past 1,000 write units in a second, with DynamoDB\'s exception and reason, while other keys and the next second are not', async () => {
    for (let n = 0; n < 10; n++) await put('hot', 100);
    const err = (await failure(put('hot', 100))) as Error & { ThrottlingReasons?: { reason: string }[]; $metadata: { httpStatusCode?: number } };
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.ThrottlingReasons?.[0].reason).toBe('TableWriteKeyRangeThroughputExceeded');
    await expect(put('cold', 100)).resolves.toBeDefined();
    now += 1000;
    await expect(put('hot', 100)).resolves.toBeDefined();
  });

  it('is throttled past 3,000 read units in a second; a throttled request consumes nothing', async () => {
    await put('hot', 300);
    now += 1000;
    const get = () => raw.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'hot' } }, ConsistentRead: true }));
    for (let n = 0; n < 40; n++) await get();
    expect((await failure(get())).name).toBe('ProvisionedThroughputExceededException');
    expect(ddb.capacity.consumption().reduce((n, c) => n + c.readUnits, 0)).toBe(40 * 75);
  });

  it('is left in BatchGetItem\'s UnprocessedKeys while the other keys are read', async () => {
    await put('hot', 300);
    await put('cold', 1);
    now += 1000;
    for (let n = 0; n < 40; n++) await raw.send(new GetItemCommand({ TableName: 'state', Key: { deploymentId: { S: 'hot' } }, ConsistentRead: true }));
    const out = await raw.send(new BatchGetItemCommand({ RequestItems: { state: { Keys: [{ deploymentId: { S: 'hot' } }, { deploymentId: { S: 'cold' } }], ConsistentRead: true } } }));
    expect(out.Responses?.state.map((i) => i.deploymentId.S)).toEqual(['cold']);
    expect(out.UnprocessedKeys).toEqual({ state: { Keys: [{ deploymentId: { S: 'hot' } }], ConsistentRead: true } });
    const all = await failure(raw.send(new BatchGetItemCommand({ RequestItems: { state: { Keys: [{ deploymentId: { S: 'hot' } }] } } })));
    expect(all.name).toBe('ProvisionedThroughputExceededException');
  });
});
