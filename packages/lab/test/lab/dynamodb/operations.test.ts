/**
 * The lab's DynamoDB answers as DynamoDB does, spoken to by the real SDK v3 clients over loopback:
 * ReturnValues, ProjectionExpression, input validation, malformed bodies (400, never 500),
 * ListTables, Query and Scan with their pagination, and loud refusals of what is not modelled.
 * Cases follow the API reference pages cited in src/lab/dynamodb.
 */
import { BatchGetItemCommand, type AttributeValue, type QueryCommandInput, DeleteItemCommand, GetItemCommand, ListTablesCommand, PutItemCommand, QueryCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateListTables, paginateQuery, paginateScan } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ Music: ['Artist', 'SongTitle'], state: 'deploymentId', Thread: 'Id' });
  ({ raw, doc } = lab);
});

afterEach(() => lab.close());

const song = (Artist: string, SongTitle: string, extra: Record<string, unknown> = {}) => doc.send(new PutCommand({ TableName: 'Music', Item: { Artist, SongTitle, ...extra } }));

describe('ReturnValues', () => {
  it('PutItem ALL_OLD returns the item it replaced, and nothing when there was none', async () => {
    const put = (v: string) => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, v: { S: v } }, ReturnValues: 'ALL_OLD' }));
    expect((await put('1')).Attributes).toBeUndefined();
    expect((await put('2')).Attributes).toEqual({ Id: { S: 'a' }, v: { S: '1' } });
  });

  it('DeleteItem ALL_OLD returns the deleted item', async () => {
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, v: { N: '1' } } }));
    const out = await raw.send(new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnValues: 'ALL_OLD' }));
    expect(out.Attributes).toEqual({ Id: { S: 'a' }, v: { N: '1' } });
  });

  it.each([
    ['ALL_OLD', { Id: { S: 'a' }, keep: { S: 'k' }, n: { N: '1' }, gone: { S: 'g' } }],
    ['UPDATED_OLD', { n: { N: '1' }, gone: { S: 'g' } }],
    ['ALL_NEW', { Id: { S: 'a' }, keep: { S: 'k' }, n: { N: '3' }, fresh: { S: 'f' } }],
    ['UPDATED_NEW', { n: { N: '3' }, fresh: { S: 'f' } }],
  ] as const)('UpdateItem %s returns what the API reference says', async (ReturnValues, expected) => {
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, keep: { S: 'k' }, n: { N: '1' }, gone: { S: 'g' } } }));
    const out = await raw.send(
      new UpdateItemCommand({
        TableName: 'Thread',
        Key: { Id: { S: 'a' } },
        UpdateExpression: 'ADD n :two SET fresh = :f REMOVE gone',
        ExpressionAttributeValues: { ':two': { N: '2' }, ':f': { S: 'f' } },
        ReturnValues,
      }),
    );
    expect(out.Attributes).toEqual(expected);
  });

  it.each([
    ['PutItem ALL_NEW', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ReturnValues: 'ALL_NEW' })), 'ReturnValues can only be ALL_OLD or NONE'],
    ['DeleteItem UPDATED_OLD', () => raw.send(new DeleteItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnValues: 'UPDATED_OLD' })), 'ReturnValues can only be ALL_OLD or NONE'],
    ['UpdateItem BOGUS', () => raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ReturnValues: 'BOGUS' as 'NONE' })), "Value 'BOGUS' at 'returnValues' failed to satisfy constraint"],
  ])('refuses %s with a ValidationException and writes nothing', async (_what, call, message) => {
    const e = await failure(call());
    expect(e.name).toBe('ValidationException');
    expect(e.message).toContain(message);
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).Item).toBeUndefined();
  });
});

describe('ProjectionExpression', () => {
  beforeEach(() => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, Subject: { S: 's' }, Views: { N: '5' }, Tags: { SS: ['x'] } } })));

  it('GetItem returns only the projected attributes, named directly or through ExpressionAttributeNames', async () => {
    const out = await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ProjectionExpression: 'Subject, #v, Absent', ExpressionAttributeNames: { '#v': 'Views' } }));
    expect(out.Item).toEqual({ Subject: { S: 's' }, Views: { N: '5' } });
  });

  it('BatchGetItem projects per table', async () => {
    const out = await raw.send(new BatchGetItemCommand({ RequestItems: { Thread: { Keys: [{ Id: { S: 'a' } }], ProjectionExpression: 'Tags' } } }));
    expect(out.Responses?.Thread).toEqual([{ Tags: { SS: ['x'] } }]);
  });

  it.each([
    ['a nested path', 'Tags[0]', /nested document path Tags\[0\] is not supported/],
    ['an undefined name', '#nope', /attribute name: #nope/],
  ])('refuses %s', async (_what, ProjectionExpression, message) => {
    const e = await failure(raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ProjectionExpression })));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toMatch(message);
  });
});

describe('validation, as DynamoDB answers it', () => {
  it.each([
    ['duplicate keys in BatchGetItem', () => raw.send(new BatchGetItemCommand({ RequestItems: { Thread: { Keys: [{ Id: { S: 'a' } }, { Id: { S: 'a' } }] } } })), 'ValidationException', /Provided list of item keys contains duplicates/],
    ['an empty-string key attribute', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: '' } } })), 'ValidationException', /cannot contain an empty string value. Key: Id/],
    ['an empty-string key in GetItem', () => raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: '' } } })), 'ValidationException', /cannot contain an empty string value/],
    ['a key without the sort key', () => raw.send(new GetItemCommand({ TableName: 'Music', Key: { Artist: { S: 'a' } } })), 'ValidationException', /^The provided key element does not match the schema$/],
    ['an attribute value with two types', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: { S: 'a', N: '1' } as never } })), 'ValidationException', /^Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes$/],
    ['an empty attribute value', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: {} as never } })), 'ValidationException', /Supplied AttributeValue is empty/],
    ['a number that is not one', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: { N: 'ten' } } })), 'ValidationException', /cannot be converted to a numeric value: ten/],
    ['an empty set', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: { SS: [] } } })), 'ValidationException', /string set {2}may not be empty/],
    ['a set with duplicates', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: { NS: ['1', '1.0'] } } })), 'ValidationException', /contains duplicates/],
    ['an unknown table', () => raw.send(new GetItemCommand({ TableName: 'Nope', Key: { Id: { S: 'a' } } })), 'ResourceNotFoundException', /Requested resource not found/],
    ['an unknown table in BatchGetItem', () => raw.send(new BatchGetItemCommand({ RequestItems: { Nope: { Keys: [{ Id: { S: 'a' } }] } } })), 'ResourceNotFoundException', /Nope/],
    ['a table name shorter than 3', () => raw.send(new GetItemCommand({ TableName: 'ab', Key: { Id: { S: 'a' } } })), 'ValidationException', /at 'tableName' failed to satisfy constraint/],
  ])('refuses %s', async (_what, call, name, message) => {
    const e = await failure(call());
    expect(e.name).toBe(name);
    expect(e.message).toMatch(message);
    expect(e.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('malformed bodies get 400s, never a 500', () => {
  const post = async (op: string, body: string) => {
    const res = await fetch(lab.url, { method: 'POST', headers: { 'x-amz-target': `DynamoDB_20120810.${op}`, 'content-type': 'application/x-amz-json-1.0' }, body });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: (await res.json()) as { message: string } };
  };

  it.each([
    ['BatchGetItem', '{"RequestItems":{"Thread":null}}', 'ValidationException', /requestItems.Thread' failed to satisfy constraint: Member must not be null|RequestItems.Thread/],
    ['BatchGetItem', '{"RequestItems":{"Thread":{"Keys":"abc"}}}', 'SerializationException', /RequestItems.Thread.Keys must be a list/],
    ['BatchGetItem', '{"RequestItems":"abc"}', 'SerializationException', /RequestItems must be a map/],
    ['BatchGetItem', '{"RequestItems":{"Thread":{"Keys":[null]}}}', 'SerializationException', /Keys\[0\] must be a map/],
    ['UpdateItem', '{"TableName":"Thread","Key":{"Id":{"S":"a"}},"UpdateExpression":"ADD v :n","ExpressionAttributeValues":{":n":null}}', 'ValidationException', /ExpressionAttributeValues contains invalid value: .*empty.* for key :n/],
    ['PutItem', '{"TableName":"Thread","Item":{"Id":{"S":"a"},"x":"not an attribute value"}}', 'SerializationException', /Item.x must be an attribute value/],
    ['PutItem', '{"TableName":"Thread","Item":[1,2]}', 'SerializationException', /Item must be a map/],
    ['PutItem', '{"TableName":"Thread","Item":{"Id":{"S":"a"},"m":{"M":{"k":{"L":[null]}}}}}', 'ValidationException', /^One or more parameter values were invalid: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes$/],
    ['PutItem', '{"TableName":"Thread"}', 'ValidationException', /at 'item' failed to satisfy constraint: Member must not be null/],
    ['GetItem', '{"TableName":7,"Key":{}}', 'SerializationException', /tableName must be a string/],
    ['Query', '{"TableName":"Thread","Limit":"ten","KeyConditionExpression":"Id = :a","ExpressionAttributeValues":{":a":{"S":"a"}}}', 'SerializationException', /Limit must be an integer/],
    ['Scan', '{"TableName":"Thread","ExclusiveStartKey":{"Id":null}}', 'ValidationException', /^The provided starting key is invalid: One or more parameter values were invalid: Supplied AttributeValue is empty/],
  ])('%s %s answers %s', async (op, body, type, message) => {
    const out = await post(op, body);
    expect(out.status).toBe(400);
    expect(out.type).toBe(type);
    expect(out.body.message).toMatch(message);
    // The lab still serves afterwards.
    expect((await raw.send(new ListTablesCommand({}))).TableNames).toContain('Thread');
  });
});

describe('ListTables', () => {
  it('pages through the names in order with Limit and ExclusiveStartTableName', async () => {
    const first = await raw.send(new ListTablesCommand({ Limit: 2 }));
    expect(first).toMatchObject({ TableNames: ['Music', 'Thread'], LastEvaluatedTableName: 'Thread' });
    const second = await raw.send(new ListTablesCommand({ Limit: 2, ExclusiveStartTableName: first.LastEvaluatedTableName }));
    expect(second.TableNames).toEqual(['state']);
    expect(second.LastEvaluatedTableName).toBeUndefined();
    const names: string[] = [];
    for await (const page of paginateListTables({ client: raw, pageSize: 1 }, {})) names.push(...(page.TableNames ?? []));
    expect(names).toEqual(['Music', 'Thread', 'state']);
  });

  it('refuses a Limit over 100', async () => {
    const e = await failure(raw.send(new ListTablesCommand({ Limit: 101 })));
    expect(e.message).toMatch(/at 'limit' failed to satisfy constraint: Member must have value between 1 and 100/);
  });
});

describe('Query', () => {
  beforeEach(async () => {
    for (const [a, t, year] of [['Acme', 'Call Me Today', 2001], ['Acme', 'Happy Day', 2010], ['Acme', 'PartiQL Rocks', 2020], ['No One You Know', 'My Dog Spot', 1999], ['Acme', 'Another', 1990]] as const) await song(a, t, { Year: year });
  });
  const query = ({ values, ...extra }: Record<string, unknown> & { values?: Record<string, AttributeValue> } = {}) =>
    raw.send(new QueryCommand({ TableName: 'Music', KeyConditionExpression: 'Artist = :a', ...extra, ExpressionAttributeValues: { ':a': { S: 'Acme' }, ...values } } as QueryCommandInput));
  const titles = (items: Record<string, { S?: string }>[] | undefined) => (items ?? []).map((i) => String(i.SongTitle.S));

  it('returns one partition in sort-key order, and backwards with ScanIndexForward false', async () => {
    expect(titles((await query()).Items as never)).toEqual(['Another', 'Call Me Today', 'Happy Day', 'PartiQL Rocks']);
    expect(titles((await query({ ScanIndexForward: false })).Items as never)).toEqual(['PartiQL Rocks', 'Happy Day', 'Call Me Today', 'Another']);
  });

  it.each([
    ['begins_with', 'Artist = :a AND begins_with(SongTitle, :p)', { ':p': { S: 'Ha' } }, ['Happy Day']],
    ['BETWEEN', 'Artist = :a AND SongTitle BETWEEN :lo AND :hi', { ':lo': { S: 'B' }, ':hi': { S: 'I' } }, ['Call Me Today', 'Happy Day']],
    ['>', 'SongTitle > :t AND Artist = :a', { ':t': { S: 'Happy Day' } }, ['PartiQL Rocks']],
  ])('sort-key condition %s', async (_what, KeyConditionExpression, values, expected) => {
    expect(titles((await query({ KeyConditionExpression, values })).Items as never)).toEqual(expected);
  });

  it('counts Limit before the filter, and resumes after LastEvaluatedKey', async () => {
    const first = await query({ Limit: 2, FilterExpression: '#y > :y', ExpressionAttributeNames: { '#y': 'Year' }, values: { ':y': { N: '2000' } } });
    expect(first).toMatchObject({ Count: 1, ScannedCount: 2, LastEvaluatedKey: { Artist: { S: 'Acme' }, SongTitle: { S: 'Call Me Today' } } });
    const rest = await query({ ExclusiveStartKey: first.LastEvaluatedKey, FilterExpression: '#y > :y', ExpressionAttributeNames: { '#y': 'Year' }, values: { ':y': { N: '2000' } } });
    expect(titles(rest.Items as never)).toEqual(['Happy Day', 'PartiQL Rocks']);
    expect(rest.LastEvaluatedKey).toBeUndefined();
    const all: string[] = [];
    for await (const page of paginateQuery({ client: raw, pageSize: 1 }, { TableName: 'Music', KeyConditionExpression: 'Artist = :a', ExpressionAttributeValues: { ':a': { S: 'Acme' } }, ProjectionExpression: 'SongTitle' })) all.push(...titles(page.Items as never));
    expect(all).toEqual(['Another', 'Call Me Today', 'Happy Day', 'PartiQL Rocks']);
  });

  it('Select COUNT returns the count without items', async () => {
    const out = await query({ Select: 'COUNT' });
    expect(out.Items).toBeUndefined();
    expect(out.Count).toBe(4);
  });

  it.each([
    ['no key condition', { KeyConditionExpression: undefined }, /KeyConditionExpression parameter must be specified/],
    ['OR', { KeyConditionExpression: 'Artist = :a OR Artist = :a' }, /Invalid operator used in KeyConditionExpression: OR/],
    ['a non-key attribute', { KeyConditionExpression: 'Artist = :a AND #y = :y', ExpressionAttributeNames: { '#y': 'Year' }, values: { ':y': { N: '1' } } }, /^Query condition missed key schema element: SongTitle$/],
    ['no partition key', { KeyConditionExpression: 'SongTitle = :a' }, /missed key schema element: Artist/],
    ['< on the partition key', { KeyConditionExpression: 'Artist < :a' }, /^Query key condition not supported$/],
    ['a key attribute in the filter', { FilterExpression: 'SongTitle = :a' }, /Primary key attribute: SongTitle/],
    ['an index', { IndexName: 'ByYear' }, /does not model secondary indexes: IndexName "ByYear"/],
    ['a function it does not model', { FilterExpression: 'contains(#y, :a)', ExpressionAttributeNames: { '#y': 'Year' } }, /Invalid FilterExpression: function contains is not supported by the lab/],
    ['the legacy KeyConditions', { KeyConditionExpression: undefined, KeyConditions: {} }, /legacy KeyConditions/],
    ['Limit 0', { Limit: 0 }, /at 'limit' failed to satisfy constraint/],
    ['a start key from another partition', { ExclusiveStartKey: { Artist: { S: 'No One You Know' }, SongTitle: { S: 'My Dog Spot' } } }, /^The provided starting key does not match the range key predicate$/],
  ])('refuses %s with a ValidationException', async (_what, extra, message) => {
    const e = await failure(query(extra));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toMatch(message);
  });
});

describe('Scan', () => {
  beforeEach(async () => {
    for (let n = 0; n < 5; n++) await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: `t${n}` }, Views: { N: String(n * 10) } } }));
  });

  it('pages with Limit and ExclusiveStartKey through every item once, filtering after the limit', async () => {
    const seen: string[] = [];
    let scanned = 0;
    for await (const page of paginateScan({ client: raw, pageSize: 2 }, { TableName: 'Thread', FilterExpression: '#v >= :v', ExpressionAttributeNames: { '#v': 'Views' }, ExpressionAttributeValues: { ':v': { N: '20' } } })) {
      seen.push(...(page.Items ?? []).map((i) => i.Id.S!));
      scanned += page.ScannedCount ?? 0;
    }
    expect(seen).toEqual(['t2', 't3', 't4']);
    expect(scanned).toBe(5);
  });

  it('refuses a parallel scan rather than ignoring Segment', async () => {
    const e = await failure(raw.send(new ScanCommand({ TableName: 'Thread', Segment: 0, TotalSegments: 2 })));
    expect(e.message).toMatch(/does not model parallel scans/);
  });
});
