/**
 * Validations DynamoDB documents, answered with AWS's own messages (word for word, as AWS-verified
 * test suites record them): update expression sections, overlapping document paths, key and item
 * sizes, attribute values, key schema.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
import { BatchGetItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ Thread: 'Id', Music: ['Artist', 'SongTitle'] });
  ({ raw } = lab);
});
afterEach(() => lab.close());

const update = (UpdateExpression: string, values: Record<string, AttributeValue> = { ':v': { N: '1' } }, names?: Record<string, string>) =>
  raw.send(new UpdateItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, UpdateExpression, ExpressionAttributeValues: values, ...(names ? { ExpressionAttributeNames: names } : {}) }));

async function refused(p: Promise<unknown>, message: string): Promise<void> {
  const err = await failure(p);
  expect({ name: err.name, message: err.message }).toEqual({ name: 'ValidationException', message });
}

const overlap = (kind: string, a: string) => `Invalid ${kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${a}], path two: [${a}]`;

describe('update expressions', () => {
  it.each([
    ['SET a = :v SET b = :v', 'SET'],
    ['ADD a :v ADD b :v', 'ADD'],
    ['REMOVE a REMOVE b', 'REMOVE'],
    ['set a = :v, b = :v Set c = :v', 'SET'],
  ])('%s is refused: a section may be used once', async (expr, section) => {
    await refused(update(expr), `Invalid UpdateExpression: The "${section}" section can only be used once in an update expression;`);
  });

  it.each([
    ['SET a = :v REMOVE a', 'a'],
    ['SET a = :v, #a = :v', 'a'],
    ['ADD n :v SET n = :v', 'n'],
  ])('%s is refused: two paths overlap', async (expr, path) => {
    await refused(update(expr, { ':v': { N: '1' } }, expr.includes('#a') ? { '#a': 'a' } : undefined), overlap('UpdateExpression', path));
  });

  it('one section each of SET, REMOVE, ADD and DELETE on distinct attributes is accepted (guard)', async () => {
    await update('SET a = :v REMOVE b ADD n :v DELETE s :s', { ':v': { N: '1' }, ':s': { SS: ['x'] } });
    expect((await raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } } }))).Item).toEqual({ Id: { S: 'a' }, a: { N: '1' }, n: { N: '1' } });
  });

  it('updating a key attribute gives AWS\'s message', async () => {
    await refused(update('SET Id = :v'), 'One or more parameter values were invalid: Cannot update attribute Id. This attribute is part of the key');
  });
});

describe('projection expressions', () => {
  const get = (ProjectionExpression: string, names?: Record<string, string>) => raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'a' } }, ProjectionExpression, ...(names ? { ExpressionAttributeNames: names } : {}) }));
  it('a path named twice is refused, directly or through a placeholder', async () => {
    await refused(get('a, b, a'), overlap('ProjectionExpression', 'a'));
    await refused(get('a, #a', { '#a': 'a' }), overlap('ProjectionExpression', 'a'));
  });
  it('distinct paths are accepted (guard)', async () => {
    await get('a, b, #c', { '#c': 'c' });
  });
});

describe('key and item sizes', () => {
  const HASH = 'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes';
  const RANGE = 'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes';
  const song = (artist: string, title: string) => raw.send(new PutItemCommand({ TableName: 'Music', Item: { Artist: { S: artist }, SongTitle: { S: title } } }));

  it('a partition key over 2048 bytes is refused on write and on read; 2048 is accepted', async () => {
    await refused(song('x'.repeat(2049), 't'), HASH);
    await refused(raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Id: { S: 'é'.repeat(1025) } } })), HASH);
    await song('x'.repeat(2048), 't');
  });

  it('a sort key over 1024 bytes is refused; 1024 is accepted', async () => {
    await refused(song('a', 'y'.repeat(1025)), RANGE);
    await refused(raw.send(new PutItemCommand({ TableName: 'Music', Item: { Artist: { S: 'a' }, SongTitle: { B: Buffer.alloc(1025) } } })), RANGE);
    await song('a', 'y'.repeat(1024));
  });

  it('an item over 400 KB is refused; one of exactly 400 KB is accepted', async () => {
    const item = (bytes: number) => ({ Id: { S: 'a' }, body: { S: 'z'.repeat(bytes - 'Id'.length - 1 - 'body'.length) } });
    await refused(raw.send(new PutItemCommand({ TableName: 'Thread', Item: item(400 * 1024 + 1) })), 'Item size has exceeded the maximum allowed size');
    await raw.send(new PutItemCommand({ TableName: 'Thread', Item: item(400 * 1024) }));
    await refused(update('SET more = :s', { ':s': { S: 'm' } }), 'Item size to update has exceeded the maximum allowed size');
  });
});

describe('attribute values and keys, AWS\'s messages', () => {
  const putX = (x: unknown) => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, x: x as AttributeValue } }));
  it.each([
    ['an empty value', {}, 'One or more parameter values were invalid: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    ['two types', { S: 'a', N: '1' }, 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes'],
    ['NULL false', { NULL: false }, 'One or more parameter values were invalid: Null attribute value types must have the value of true'],
    ['an empty string set', { SS: [] }, 'One or more parameter values were invalid: An string set  may not be empty'],
    ['an empty number set', { NS: [] }, 'One or more parameter values were invalid: An number set  may not be empty'],
    ['an empty binary set', { BS: [] }, 'One or more parameter values were invalid: Binary sets should not be empty'],
    ['a string set with duplicates', { SS: ['a', 'a'] }, 'One or more parameter values were invalid: Input collection [a, a] contains duplicates.'],
    ['a number set with duplicates', { NS: ['1', '1.0'] }, 'Input collection contains duplicates'],
  ])('%s', async (_, x, message) => {
    await refused(putX(x), message);
  });

  it('a key that does not match the schema', async () => {
    await refused(raw.send(new GetItemCommand({ TableName: 'Music', Key: { Artist: { S: 'a' } } })), 'The provided key element does not match the schema');
    await refused(raw.send(new GetItemCommand({ TableName: 'Thread', Key: { Nope: { S: 'a' } } })), 'The provided key element does not match the schema');
  });
});

describe('messages the lab used to word its own way, now as AWS words them', () => {
  it.each([
    ['BatchGetItem over 100 keys', () => raw.send(new BatchGetItemCommand({ RequestItems: { Thread: { Keys: Array.from({ length: 101 }, (_, i) => ({ Id: { S: `k${i}` } })) } } })), 'Too many items requested for the BatchGetItem call'],
    ['a key condition on a non-key attribute', () => raw.send(new QueryCommand({ TableName: 'Thread', KeyConditionExpression: 'x = :v', ExpressionAttributeValues: { ':v': { N: '1' } } })), 'Query condition missed key schema element: Id'],
    ['a partition key compared with <', () => raw.send(new QueryCommand({ TableName: 'Thread', KeyConditionExpression: 'Id < :v', ExpressionAttributeValues: { ':v': { S: 'a' } } })), 'Query key condition not supported'],
    ['ADD of a number to a string', async () => {
      await raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' }, s: { S: 'text' } } }));
      return update('ADD s :v');
    }, 'An operand in the update expression has an incorrect data type'],
    ['DELETE of a number', () => update('DELETE s :v'), 'An operand in the update expression has an incorrect data type'],
    ['BETWEEN with its bounds reversed', () => raw.send(new PutItemCommand({ TableName: 'Thread', Item: { Id: { S: 'a' } }, ConditionExpression: 'n BETWEEN :hi AND :lo', ExpressionAttributeValues: { ':hi': { N: '2' }, ':lo': { N: '1' } } })), 'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}'],
  ] as [string, () => Promise<unknown>, string][])('%s', async (_, call, message) => {
    await refused(call(), message);
  });
});

it('a key condition on three attributes is refused, not read as a filter', async () => {
  await refused(
    raw.send(new QueryCommand({ TableName: 'Music', KeyConditionExpression: 'Artist = :a AND SongTitle = :s AND #y = :y', ExpressionAttributeNames: { '#y': 'Year' }, ExpressionAttributeValues: { ':a': { S: 'a' }, ':s': { S: 's' }, ':y': { N: '1' } } })),
    'Conditions can be of length 1 or 2 only',
  );
});
