/**
 * Tables made outside CloudFormation, and the multi-item writes user code reaches for: CreateTable,
 * DescribeTable, UpdateTable, DeleteTable, TransactWriteItems, TransactGetItems and BatchWriteItem,
 * spoken to by the real SDK v3 client. Cases follow the API reference pages cited in src/lab/dynamodb.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;
const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);

beforeEach(async () => {
  lab = await loopbackDynamo({}, { now: () => NOW });
  ({ raw } = lab);
});
afterEach(() => lab.close());

const orders: CreateTableCommandInput = {
  TableName: 'Orders',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};
const create = (input: Partial<CreateTableCommandInput> = {}) => raw.send(new CreateTableCommand({ ...orders, ...input }));
const describeTable = async (TableName = 'Orders') => (await raw.send(new DescribeTableCommand({ TableName }))).Table!;

async function refused(p: Promise<unknown>, name: string, message: string | RegExp): Promise<void> {
  const err = await failure(p);
  expect(err.name).toBe(name);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}

describe('CreateTable and DescribeTable', () => {
  it('creates a table described with every field AWS returns', async () => {
    const out = await create();
    expect(out.TableDescription).toMatchObject({ TableName: 'Orders', TableStatus: 'CREATING', KeySchema: orders.KeySchema, AttributeDefinitions: orders.AttributeDefinitions });
    const t = await describeTable();
    expect(t).toMatchObject({
      TableName: 'Orders',
      TableStatus: 'ACTIVE',
      TableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders',
      AttributeDefinitions: orders.AttributeDefinitions,
      KeySchema: orders.KeySchema,
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
      ItemCount: 0,
      TableSizeBytes: 0,
      DeletionProtectionEnabled: false,
    });
    expect(t.CreationDateTime).toEqual(new Date(NOW));
    expect(t.TableId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(t.StreamSpecification).toBeUndefined();
    expect((await raw.send(new ListTablesCommand({}))).TableNames).toEqual(['Orders']);
  });

  it('a provisioned table reports its throughput; a stream its specification and ARN; items count and size', async () => {
    await create({ TableName: 'Prov', BillingMode: undefined, ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 }, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } });
    await raw.send(new PutItemCommand({ TableName: 'Prov', Item: { pk: { S: 'a' }, sk: { N: '1' } } }));
    const t = await describeTable('Prov');
    expect(t.ProvisionedThroughput).toEqual({ NumberOfDecreasesToday: 0, ReadCapacityUnits: 5, WriteCapacityUnits: 7 });
    expect(t.BillingModeSummary).toBeUndefined();
    expect(t.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(t.LatestStreamArn).toMatch(/^arn:aws:dynamodb:us-east-1:123456789012:table\/Prov\/stream\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    expect(t.ItemCount).toBe(1);
    expect(t.TableSizeBytes).toBeGreaterThan(0);
  });

  it('a key of the wrong type is refused with AWS\'s message', async () => {
    await create();
    await refused(raw.send(new PutItemCommand({ TableName: 'Orders', Item: { pk: { S: 'a' }, sk: { S: '1' } } })), 'ValidationException', 'One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S');
    await refused(raw.send(new GetItemCommand({ TableName: 'Orders', Key: { pk: { N: '1' }, sk: { N: '1' } } })), 'ValidationException', 'The provided key element does not match the schema');
  });

  it.each([
    ['an existing table', {}, 'ResourceInUseException', 'Table already exists: Orders'],
    ['PAY_PER_REQUEST with throughput', { ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }, 'ValidationException', 'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST'],
    ['PROVISIONED without throughput', { BillingMode: 'PROVISIONED' as const }, 'ValidationException', 'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED'],
    ['a key attribute without a definition', { AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }] }, 'ValidationException', 'Invalid KeySchema: Some index key attribute have no definition'],
    ['a definition no key uses', { AttributeDefinitions: [...orders.AttributeDefinitions!, { AttributeName: 'x', AttributeType: 'S' as const }] }, 'ValidationException', 'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions'],
    ['RANGE first', { KeySchema: [{ AttributeName: 'sk', KeyType: 'RANGE' as const }, { AttributeName: 'pk', KeyType: 'HASH' as const }] }, 'ValidationException', 'Invalid KeySchema: The first KeySchemaElement is not a HASH key type'],
    ['a secondary index', { GlobalSecondaryIndexes: [{ IndexName: 'g', KeySchema: [{ AttributeName: 'sk', KeyType: 'HASH' as const }], Projection: { ProjectionType: 'ALL' as const } }] }, 'ValidationException', /the lab does not model secondary indexes: GlobalSecondaryIndexes/],
  ])('refuses %s', async (name, input, code, message) => {
    if (name === 'an existing table') await create();
    await refused(create(input), code, message);
  });
});

describe('UpdateTable and DeleteTable', () => {
  it('switches billing mode and turns a stream on and off', async () => {
    await create();
    const prov = await raw.send(new UpdateTableCommand({ TableName: 'Orders', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 } }));
    expect(prov.TableDescription!.BillingModeSummary?.BillingMode).toBe('PROVISIONED');
    expect((await describeTable()).ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
    await raw.send(new UpdateTableCommand({ TableName: 'Orders', StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }));
    expect((await describeTable()).StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });
    await refused(raw.send(new UpdateTableCommand({ TableName: 'Orders', StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } })), 'ValidationException', 'Table already has an enabled stream: TableName: Orders');
    await raw.send(new UpdateTableCommand({ TableName: 'Orders', StreamSpecification: { StreamEnabled: false } }));
    expect((await describeTable()).StreamSpecification).toBeUndefined();
  });

  it('refuses an update that changes nothing', async () => {
    await create();
    await refused(raw.send(new UpdateTableCommand({ TableName: 'Orders' })), 'ValidationException', 'At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required');
  });

  it('deletes a table and its items; a missing table is ResourceNotFoundException', async () => {
    await create();
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: { pk: { S: 'a' }, sk: { N: '1' } } }));
    const out = await raw.send(new DeleteTableCommand({ TableName: 'Orders' }));
    expect(out.TableDescription).toMatchObject({ TableName: 'Orders', TableStatus: 'DELETING' });
    await refused(describeTable(), 'ResourceNotFoundException', 'Requested resource not found: Table: Orders not found');
    await refused(raw.send(new DeleteTableCommand({ TableName: 'Orders' })), 'ResourceNotFoundException', 'Requested resource not found: Table: Orders not found');
    await create();
    expect((await describeTable()).ItemCount).toBe(0);
  });
});

describe('TransactWriteItems and TransactGetItems', () => {
  const key = (pk: string, sk = '1') => ({ pk: { S: pk }, sk: { N: sk } });
  const write = (TransactItems: TransactWriteItem[]) => raw.send(new TransactWriteItemsCommand({ TransactItems }));
  const read = async (...pks: string[]) => (await raw.send(new TransactGetItemsCommand({ TransactItems: pks.map((pk) => ({ Get: { TableName: 'Orders', Key: key(pk) } })) }))).Responses!.map((r) => r.Item);

  beforeEach(async () => {
    await create();
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: { ...key('balance'), amount: { N: '100' } } }));
  });

  it('applies every action together: Put, Update (decimal), Delete, ConditionCheck', async () => {
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: key('old') }));
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: { ...key('limit'), amount: { N: '100' } } }));
    await write([
      { Put: { TableName: 'Orders', Item: { ...key('new'), note: { S: 'hi' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: 'Orders', Key: key('balance'), UpdateExpression: 'ADD amount :d', ExpressionAttributeValues: { ':d': { N: '-88.3' } } } },
      { Delete: { TableName: 'Orders', Key: key('old') } },
      { ConditionCheck: { TableName: 'Orders', Key: key('limit'), ConditionExpression: 'amount = :a', ExpressionAttributeValues: { ':a': { N: '100' } } } },
    ]);
    const [created, balance, old] = await read('new', 'balance', 'old');
    expect(created).toEqual({ ...key('new'), note: { S: 'hi' } });
    expect(balance!.amount).toEqual({ N: '11.7' });
    expect(old).toBeUndefined();
  });

  it('applies nothing when one condition fails, and says which in CancellationReasons', async () => {
    const err = (await failure(
      raw.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'Orders', Item: key('new') } },
            { Update: { TableName: 'Orders', Key: key('balance'), UpdateExpression: 'SET amount = :z', ConditionExpression: 'amount > :big', ExpressionAttributeValues: { ':z': { N: '0' }, ':big': { N: '1000' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
          ],
        }),
      ),
    )) as Error & { CancellationReasons?: unknown[] };
    expect(err.name).toBe('TransactionCanceledException');
    expect(err.message).toBe('Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]');
    expect(err.CancellationReasons).toEqual([{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { ...key('balance'), amount: { N: '100' } } }]);
    const [created, balance] = await read('new', 'balance');
    expect(created).toBeUndefined();
    expect(balance!.amount).toEqual({ N: '100' });
  });

  it('refuses two actions on one item, two actions in one entry, and more than 100 entries', async () => {
    await refused(write([{ Put: { TableName: 'Orders', Item: key('a') } }, { Delete: { TableName: 'Orders', Key: key('a') } }]), 'ValidationException', 'Transaction request cannot include multiple operations on one item');
    await refused(write([{ Put: { TableName: 'Orders', Item: key('a') }, Delete: { TableName: 'Orders', Key: key('b') } }]), 'ValidationException', 'TransactItems can only contain one of Check, Put, Update or Delete');
    const many = Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: 'Orders', Item: key(`k${i}`) } }));
    await refused(write(many), 'ValidationException', /^1 validation error detected: Value '\[.*\]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$/);
    expect(await read('a', 'b', 'k0')).toEqual([undefined, undefined, undefined]);
  });

  it('100 entries are accepted (guard)', async () => {
    await write(Array.from({ length: 100 }, (_, i) => ({ Put: { TableName: 'Orders', Item: key(`k${i}`) } })));
    expect((await read('k0', 'k99')).map((i) => i?.pk.S)).toEqual(['k0', 'k99']);
  });

  it('a malformed entry cancels nothing but fails the call with a ValidationException, writing nothing', async () => {
    await refused(write([{ Put: { TableName: 'Orders', Item: key('a') } }, { Put: { TableName: 'Orders', Item: { pk: { S: 'b' } } } }]), 'ValidationException', 'One or more parameter values were invalid: Missing the key sk in the item');
    expect(await read('a')).toEqual([undefined]);
  });
});

describe('BatchWriteItem', () => {
  const put = (pk: string): WriteRequest => ({ PutRequest: { Item: { pk: { S: pk }, sk: { N: '1' } } } });
  beforeEach(() => create());

  it('puts and deletes, with no UnprocessedItems', async () => {
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: { pk: { S: 'gone' }, sk: { N: '1' } } }));
    const out = await raw.send(new BatchWriteItemCommand({ RequestItems: { Orders: [put('a'), put('b'), { DeleteRequest: { Key: { pk: { S: 'gone' }, sk: { N: '1' } } } }] } }));
    expect(out.UnprocessedItems).toEqual({});
    expect((await describeTable()).ItemCount).toBe(2);
  });

  it('refuses more than 25 requests and duplicate keys, writing nothing', async () => {
    await raw.send(new CreateTableCommand({ ...orders, TableName: 'Other' }));
    const many = (n: number) => Array.from({ length: n }, (_, i) => put(`k${i}`));
    await refused(raw.send(new BatchWriteItemCommand({ RequestItems: { Orders: many(13), Other: many(13) } })), 'ValidationException', 'Too many items requested for the BatchWriteItem call');
    await refused(raw.send(new BatchWriteItemCommand({ RequestItems: { Orders: [put('a'), put('a')] } })), 'ValidationException', 'Provided list of item keys contains duplicates');
    expect((await describeTable()).ItemCount).toBe(0);
    await raw.send(new BatchWriteItemCommand({ RequestItems: { Orders: many(12), Other: many(13) } }));
    expect((await describeTable('Other')).ItemCount).toBe(13);
  });
});

it('a table made by CreateTable is known to IAM evaluation (its partition key, for dynamodb:LeadingKeys)', async () => {
  expect(lab.dynamodb.partitionKeyOf('Orders')).toBeUndefined();
  await create();
  expect(lab.dynamodb.partitionKeyOf('Orders')).toBe('pk');
});

describe('TransactWriteItems ClientRequestToken', () => {
  let clock = NOW;
  const add = (token: string, by = '1') =>
    raw.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [{ Update: { TableName: 'Orders', Key: { pk: { S: 'c' }, sk: { N: '1' } }, UpdateExpression: 'ADD n :d', ExpressionAttributeValues: { ':d': { N: by } } } }] }));
  const n = async () => (await raw.send(new GetItemCommand({ TableName: 'Orders', Key: { pk: { S: 'c' }, sk: { N: '1' } } }))).Item?.n.N;

  beforeEach(async () => {
    await lab.close();
    clock = NOW;
    lab = await loopbackDynamo({}, { now: () => clock });
    ({ raw } = lab);
    await create();
  });

  it('a retry with the same token within ten minutes is applied once; after them, again', async () => {
    await add('tok-1');
    await add('tok-1');
    expect(await n()).toBe('1');
    clock += 10 * 60 * 1000 + 1;
    await add('tok-1');
    expect(await n()).toBe('2');
  });

  it('the same token with other parameters is IdempotentParameterMismatchException; another token applies (guard)', async () => {
    await add('tok-1');
    await refused(add('tok-1', '5'), 'IdempotentParameterMismatchException', /tok-1/);
    await add('tok-2');
    expect(await n()).toBe('2');
  });
});

describe('capacity of multi-item writes and transactions', () => {
  // Transactions cost two units per KB written or per 4 KB read; a batch costs what its writes cost.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
  const key = (pk: string) => ({ pk: { S: pk }, sk: { N: '1' } });
  beforeEach(() => create());

  it('TransactWriteItems reports two write units per KB of each item, and bills them', async () => {
    const out = await raw.send(new TransactWriteItemsCommand({ ReturnConsumedCapacity: 'TOTAL', TransactItems: [{ Put: { TableName: 'Orders', Item: key('a') } }, { Put: { TableName: 'Orders', Item: { ...key('b'), body: { S: 'x'.repeat(1500) } } } }] }));
    expect(out.ConsumedCapacity).toEqual([{ TableName: 'Orders', CapacityUnits: 6 }]);
    expect(lab.dynamodb.capacity.consumption().reduce((n, c) => n + c.writeUnits, 0)).toBe(6);
  });

  it('TransactGetItems reports two read units per 4 KB item', async () => {
    await raw.send(new PutItemCommand({ TableName: 'Orders', Item: key('a') }));
    const out = await raw.send(new TransactGetItemsCommand({ ReturnConsumedCapacity: 'TOTAL', TransactItems: [{ Get: { TableName: 'Orders', Key: key('a') } }, { Get: { TableName: 'Orders', Key: key('missing') } }] }));
    expect(out.ConsumedCapacity).toEqual([{ TableName: 'Orders', CapacityUnits: 4 }]);
  });

  it('BatchWriteItem reports one unit per KB of each write (guard: not doubled)', async () => {
    const out = await raw.send(new BatchWriteItemCommand({ ReturnConsumedCapacity: 'TOTAL', RequestItems: { Orders: [{ PutRequest: { Item: key('a') } }, { PutRequest: { Item: key('b') } }] } }));
    expect(out.ConsumedCapacity).toEqual([{ TableName: 'Orders', CapacityUnits: 2 }]);
  });
});

it('a stream sees a committed transaction\u2019s writes, and nothing of a cancelled one', async () => {
  await create({ StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } });
  const seen: string[] = [];
  lab.dynamodb.onStream('Orders', (r) => seen.push(`${r.eventName} ${String(r.keys.pk.S)}`));
  const put = (pk: string): TransactWriteItem => ({ Put: { TableName: 'Orders', Item: { pk: { S: pk }, sk: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' } });
  await raw.send(new TransactWriteItemsCommand({ TransactItems: [put('a'), put('b')] }));
  expect(seen).toEqual(['INSERT a', 'INSERT b']);
  await failure(raw.send(new TransactWriteItemsCommand({ TransactItems: [put('c'), put('a')] })));
  expect(seen).toEqual(['INSERT a', 'INSERT b']);
});
