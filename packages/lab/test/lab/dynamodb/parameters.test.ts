/**
 * Parameters that change DynamoDB's answer, spoken to the lab by the real SDK v3 clients over
 * loopback: every ExpressionAttributeNames / Values entry must be used, ReturnConsumedCapacity
 * reports the capacity DynamoDB's rounding rules give, ConsistentRead sets what a read costs,
 * ReturnValuesOnConditionCheckFailure returns the stored item with the failure, and enum members
 * outside their set are refused. Cases follow the API reference pages cited in src/lab/dynamodb.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type ReturnConsumedCapacity,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ Thread: 'Id', Reply: ['Id', 'At'] });
  ({ raw, doc } = lab);
});

afterEach(() => lab.close());

/** An item of 5,004 bytes as DynamoDB sizes it: names (Id, v) plus values ("a", 5,000 x's). */
const BIG = { Id: { S: 'a' }, v: { S: 'x'.repeat(5000) } };
const putBig = () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: BIG }));

describe('ExpressionAttributeNames and ExpressionAttributeValues', () => {
  it('PutItem with a name no expression uses is refused, and nothing is written', async () => {
    const e = await failure(
      raw.send(
        new PutItemCommand({
          TableName: 'Thread',
          Item: { Id: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'Id', '#st': 'status' },
        }),
      ),
    );
    expect(e).toMatchObject({ name: 'ValidationException', message: '1 validation error detected: Value provided in ExpressionAttributeNames unused in expressions: keys: {#st}' });
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).Item).toBeUndefined();
  });

  it('Query with a value no expression uses is refused, naming every unused key', async () => {
    const e = await failure(
      raw.send(
        new QueryCommand({
          TableName: 'Reply',
          KeyConditionExpression: 'Id = :id',
          ExpressionAttributeValues: { ':id': { S: 'a' }, ':unused': { N: '1' }, ':other': { N: '2' } },
        }),
      ),
    );
    expect(e).toMatchObject({ name: 'ValidationException', message: 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused, :other}' });
  });

  it('a name used only by the projection counts as used, across all of a request\'s expressions', async () => {
    await putBig();
    const out = await raw.send(
      new QueryCommand({
        TableName: 'Thread',
        KeyConditionExpression: '#k = :k',
        FilterExpression: '#v <> :none',
        ProjectionExpression: '#k',
        ExpressionAttributeNames: { '#k': 'Id', '#v': 'v' },
        ExpressionAttributeValues: { ':k': { S: 'a' }, ':none': { S: '' } },
      }),
    );
    expect(out.Items).toEqual([{ Id: { S: 'a' } }]);
  });

  it('the document client\'s UpdateItem with an unused value leaves the item as it was', async () => {
    await doc.send(new PutCommand({ TableName: 'Thread', Item: { Id: 'a', n: 1 } }));
    const e = await failure(doc.send(new UpdateCommand({ TableName: 'Thread', Key: { Id: 'a' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2, ':spare': 3 } })));
    expect(e).toMatchObject({ name: 'ValidationException', message: 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:spare}' });
    expect((await doc.send(new GetCommand({ TableName: 'Thread', Key: { Id: 'a' } }))).Item).toEqual({ Id: 'a', n: 1 });
  });

  it.each([
    ['names without any expression', new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ExpressionAttributeNames: { '#a': 'a' } }), 'ExpressionAttributeNames can only be specified when using expressions'],
    ['values without any expression', new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ExpressionAttributeValues: { ':a': { S: 'a' } } }), 'ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null'],
    ['an empty names map', new ScanCommand({ TableName: 'Thread', FilterExpression: 'v = :v', ExpressionAttributeNames: {}, ExpressionAttributeValues: { ':v': { S: 'a' } } }), 'ExpressionAttributeNames must not be empty'],
    ['a name key without #', new ScanCommand({ TableName: 'Thread', ProjectionExpression: 'v', ExpressionAttributeNames: { v: 'v' } }), 'ExpressionAttributeNames contains invalid key: Syntax error; key: "v"'],
    ['a value key without :', new ScanCommand({ TableName: 'Thread', FilterExpression: 'v = :v', ExpressionAttributeValues: { v: { S: 'a' } } }), 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'],
    [
      'an undefined name in an update',
      new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'SET #zz = :v', ExpressionAttributeValues: { ':v': { S: 'a' } } }),
      'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #zz',
    ],
    [
      'an undefined value in an update',
      new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'SET v = :zz', ExpressionAttributeValues: { ':v': { S: 'a' } } }),
      'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :zz',
    ],
  ] as const)('refuses %s', async (_what, command, message) => {
    const e = await failure(raw.send(command as GetItemCommand));
    expect(e).toMatchObject({ name: 'ValidationException', message });
  });
});

describe('ReturnConsumedCapacity and ConsistentRead', () => {
  it.each([
    [true, 'TOTAL', { TableName: 'Thread', CapacityUnits: 2 }],
    [false, 'TOTAL', { TableName: 'Thread', CapacityUnits: 1 }],
    [undefined, 'INDEXES', { TableName: 'Thread', CapacityUnits: 1, Table: { CapacityUnits: 1 } }],
  ] as const)('GetItem of a 5,004-byte item, ConsistentRead %s, %s: two 4 KB steps, halved when eventually consistent', async (ConsistentRead, ReturnConsumedCapacity, expected) => {
    await putBig();
    const out = await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ConsistentRead, ReturnConsumedCapacity }));
    expect(out.Item).toEqual(BIG);
    expect(out.ConsumedCapacity).toEqual(expected);
  });

  it('GetItem of a missing item still consumes a read, and NONE or no parameter reports nothing', async () => {
    const missing = await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'zz' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(missing.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 0.5 });
    await putBig();
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnConsumedCapacity: 'NONE' }))).ConsumedCapacity).toBeUndefined();
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).ConsumedCapacity).toBeUndefined();
  });

  it('writes count 1 KB steps of the larger of the item before and after', async () => {
    const put = await raw.send(new PutItemCommand({ TableName: 'Thread', Item: BIG, ReturnConsumedCapacity: 'TOTAL' }));
    expect(put.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 5 });
    // Replacing the big item by a small one still costs the big one's size.
    const small = await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(small.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 5 });
    const grow = await raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: 'y'.repeat(2100) } }, ReturnConsumedCapacity: 'INDEXES' }));
    expect(grow.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 3, Table: { CapacityUnits: 3 } });
    const del = await raw.send(new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(del.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 3 });
    const none = await raw.send(new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(none.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 1 });
  });

  describe('over three 1,507-byte replies', () => {
    beforeEach(async () => {
      for (const at of ['1', '2', '3']) await raw.send(new PutItemCommand({ TableName: 'Reply', Item: { Id: { S: 'a' }, At: { S: at }, v: { S: 'x'.repeat(1500) } } }));
    });

    it('Query rounds the total read up once, counting the items its filter drops', async () => {
      const q = (ConsistentRead: boolean) =>
        raw.send(
          new QueryCommand({
            TableName: 'Reply',
            KeyConditionExpression: 'Id = :a',
            FilterExpression: 'v = :none',
            ExpressionAttributeValues: { ':a': { S: 'a' }, ':none': { S: 'none' } },
            ConsistentRead,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
      const eventual = await q(false);
      expect(eventual.Count).toBe(0);
      expect(eventual.ScannedCount).toBe(3);
      // 4,521 bytes: two 4 KB steps, halved.
      expect(eventual.ConsumedCapacity).toEqual({ TableName: 'Reply', CapacityUnits: 1 });
      expect((await q(true)).ConsumedCapacity).toEqual({ TableName: 'Reply', CapacityUnits: 2 });
    });

    it('Scan counts what it read, and an empty page still costs one step', async () => {
      const all = await raw.send(new ScanCommand({ TableName: 'Reply', ReturnConsumedCapacity: 'TOTAL', ConsistentRead: true }));
      expect(all.ConsumedCapacity).toEqual({ TableName: 'Reply', CapacityUnits: 2 });
      const empty = await raw.send(new ScanCommand({ TableName: 'Thread', ReturnConsumedCapacity: 'TOTAL' }));
      expect(empty.ConsumedCapacity).toEqual({ TableName: 'Thread', CapacityUnits: 0.5 });
    });

    it('BatchGetItem rounds each item on its own, a missing key included, one entry a table', async () => {
      await putBig();
      const out = await raw.send(
        new BatchGetItemCommand({
          RequestItems: {
            Reply: { Keys: ['1', '2', '3', '9'].map((At) => ({ Id: { S: 'a' }, At: { S: At } })) },
            Thread: { Keys: [{ Id: { S: 'a' } }], ConsistentRead: true },
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      expect(out.Responses?.Reply).toHaveLength(3);
      expect(out.ConsumedCapacity).toEqual([
        { TableName: 'Reply', CapacityUnits: 2 },
        { TableName: 'Thread', CapacityUnits: 2 },
      ]);
    });
  });

  it.each([
    ['ReturnConsumedCapacity', new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnConsumedCapacity: 'ALL' as ReturnConsumedCapacity }), "Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"],
    ['ReturnItemCollectionMetrics', new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ReturnItemCollectionMetrics: 'ALL' as 'SIZE' }), "Value 'ALL' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]"],
  ] as const)('refuses a %s outside its enum', async (_what, command, message) => {
    const e = await failure(raw.send(command as GetItemCommand));
    expect(e).toMatchObject({ name: 'ValidationException', message: `1 validation error detected: ${message}` });
  });

  it('refuses a ConsistentRead that is not a boolean', async () => {
    const res = await fetch(lab.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ConsistentRead: 'yes' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('SerializationException');
  });

  it('ReturnItemCollectionMetrics SIZE returns no metrics: the lab models no local secondary index', async () => {
    const out = await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ReturnItemCollectionMetrics: 'SIZE' }));
    expect(out.ItemCollectionMetrics).toBeUndefined();
  });
});

describe('ReturnValuesOnConditionCheckFailure', () => {
  const stored: Record<string, AttributeValue> = { Id: { S: 'a' }, state: { S: 'open' } };

  it.each(['PutItem', 'UpdateItem', 'DeleteItem'] as const)('%s ALL_OLD returns the stored item with the failed condition, and leaves it as it was', async (op) => {
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: stored }));
    const condition = { ConditionExpression: '#s = :closed', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':closed': { S: 'closed' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    const command =
      op === 'PutItem'
        ? new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ...condition })
        : op === 'UpdateItem'
          ? new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression: 'REMOVE #s', ...condition })
          : new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ...condition });
    const e = await failure(raw.send(command as PutItemCommand));
    expect(e).toBeInstanceOf(ConditionalCheckFailedException);
    expect((e as ConditionalCheckFailedException).Item).toEqual(stored);
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).Item).toEqual(stored);
  });

  it('NONE, or a missing item, returns no Item with the failure', async () => {
    const missing = await failure(raw.send(new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ConditionExpression: 'attribute_exists(Id)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
    expect(missing).toBeInstanceOf(ConditionalCheckFailedException);
    expect((missing as ConditionalCheckFailedException).Item).toBeUndefined();
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: stored }));
    const none = await failure(raw.send(new PutItemCommand({ TableName: 'Thread', Item: stored, ConditionExpression: 'attribute_not_exists(Id)', ReturnValuesOnConditionCheckFailure: 'NONE' })));
    expect((none as ConditionalCheckFailedException).Item).toBeUndefined();
  });
});

describe('Select', () => {
  it('refuses SPECIFIC_ATTRIBUTES without a ProjectionExpression rather than returning every attribute', async () => {
    const e = await failure(raw.send(new ScanCommand({ TableName: 'Thread', Select: 'SPECIFIC_ATTRIBUTES' })));
    expect(e).toMatchObject({ name: 'ValidationException', message: 'Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression or AttributesToGet' });
  });
});
