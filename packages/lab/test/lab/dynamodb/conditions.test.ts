/**
 * ConditionExpression on the lab's DynamoDB, spoken to by the real SDK clients over loopback:
 * the cases of the DynamoDB developer guide's condition-expression examples, the error
 * DynamoDB answers when a condition fails, and loud refusals of what the lab does not model.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 */
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateStore } from 'canary-watchdog/lib/aws/state';
import { loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ ProductCatalog: 'Id', state: 'deploymentId' });
  ({ raw, doc } = lab);
});

afterEach(() => lab.close());

/** The developer guide's example item. */
const PRODUCT = { Id: 456, ProductCategory: 'Sporting Goods', Price: 650, Title: 'Mountain bike', Color: new Set(['Red', 'Black']) };
const seed = () => doc.send(new PutCommand({ TableName: 'ProductCatalog', Item: PRODUCT }));
const read = async () => (await doc.send(new GetCommand({ TableName: 'ProductCatalog', Key: { Id: 456 } }))).Item;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: Error) => err,
  );

describe('conditions that hold and conditions that fail', () => {
  it.each([
    ['attribute_exists', 'attribute_exists(Price)', {}, {}, true],
    ['attribute_exists of a missing attribute', 'attribute_exists(#q)', { '#q': 'Quantity' }, {}, false],
    ['attribute_not_exists', 'attribute_not_exists(#q)', { '#q': 'Quantity' }, {}, true],
    ['attribute_not_exists of a present attribute', 'attribute_not_exists(Price)', {}, {}, false],
    ['= on a number', 'Price = :p', {}, { ':p': 650 }, true],
    ['= on a string', 'ProductCategory = :c', {}, { ':c': 'Sporting Goods' }, true],
    ['= on a set, whatever the order', 'Color = :c', {}, { ':c': new Set(['Black', 'Red']) }, true],
    ['<> of equal values', 'Price <> :p', {}, { ':p': 650 }, false],
    ['<> of a missing attribute', '#q <> :p', { '#q': 'Quantity' }, { ':p': 1 }, true],
    ['< compares numbers as numbers', 'Price < :p', {}, { ':p': 1000 }, true],
    ['>= at the boundary', 'Price >= :p', {}, { ':p': 650 }, true],
    ['> above', 'Price > :p', {}, { ':p': 650 }, false],
    ['<= on strings, by code point', 'Title <= :t', {}, { ':t': 'Mountain bikez' }, true],
    ['< of a number and a string is false', 'Price < :t', {}, { ':t': 'zzz' }, false],
    ['< of a missing attribute is false', '#q < :p', { '#q': 'Quantity' }, { ':p': 1 }, false],
    ['BETWEEN', 'Price BETWEEN :lo AND :hi', {}, { ':lo': 500, ':hi': 750 }, true],
    ['BETWEEN outside', 'Price between :lo and :hi', {}, { ':lo': 651, ':hi': 750 }, false],
    ['IN', 'ProductCategory IN (:c1, :c2)', {}, { ':c1': 'Sporting Goods', ':c2': 'Gardening Supplies' }, true],
    ['begins_with', 'begins_with(Title, :t)', {}, { ':t': 'Mountain' }, true],
    ['AND', 'attribute_exists(Price) AND Price < :p', {}, { ':p': 500 }, false],
    ['OR', 'attribute_not_exists(Price) OR Price > :p', {}, { ':p': 500 }, true],
    ['NOT', 'NOT attribute_exists(#q)', { '#q': 'Quantity' }, {}, true],
    ['NOT binds tighter than AND', 'NOT attribute_exists(Price) AND Price > :p', {}, { ':p': 1 }, false],
    ['AND binds tighter than OR', 'Price = :a OR Price = :b AND Price = :c', {}, { ':a': 650, ':b': 1, ':c': 2 }, true],
    ['parentheses', '(Price = :a OR Price = :b) AND Price = :c', {}, { ':a': 650, ':b': 1, ':c': 2 }, false],
  ])('%s: %s', async (_what, ConditionExpression, names, values, holds) => {
    await seed();
    const e = await outcome(
      doc.send(
        new UpdateCommand({
          TableName: 'ProductCatalog',
          Key: { Id: 456 },
          UpdateExpression: 'SET #touched = :touched',
          ConditionExpression,
          ExpressionAttributeNames: { ...names, '#touched': 'touched' },
          ExpressionAttributeValues: { ...values, ':touched': true },
        }),
      ),
    );
    if (holds) {
      expect(e).toBe('ok');
      expect(await read()).toMatchObject({ touched: true });
    } else {
      expect(e).toBeInstanceOf(ConditionalCheckFailedException);
      expect(await read()).toEqual(PRODUCT);
    }
  });

  it('answers ConditionalCheckFailedException exactly as DynamoDB does: HTTP 400, its __type and message', async () => {
    await seed();
    const e = (await outcome(raw.send(new PutItemCommand({ TableName: 'ProductCatalog', Item: { Id: { N: '456' } }, ConditionExpression: 'attribute_not_exists(Id)' })))) as ConditionalCheckFailedException;
    expect(e).toBeInstanceOf(ConditionalCheckFailedException);
    expect(e.name).toBe('ConditionalCheckFailedException');
    expect(e.message).toBe('The conditional request failed');
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.$fault).toBe('client');
    // The error-type header names it as every client shows it (the AWS CLI prints this name).
    expect((e as unknown as { $response: { headers: Record<string, string> } }).$response.headers['x-amzn-errortype']).toBe('ConditionalCheckFailedException');
    expect(await read()).toEqual(PRODUCT);
  });

  it('PutItem with attribute_not_exists on the key creates an item once and refuses to overwrite it', async () => {
    const put = (Title: string) => doc.send(new PutCommand({ TableName: 'ProductCatalog', Item: { Id: 1, Title }, ConditionExpression: 'attribute_not_exists(Id)' }));
    expect(await outcome(put('first'))).toBe('ok');
    expect(await outcome(put('second'))).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await doc.send(new GetCommand({ TableName: 'ProductCatalog', Key: { Id: 1 } }))).Item).toEqual({ Id: 1, Title: 'first' });
  });

  it('DeleteItem deletes only when the condition holds', async () => {
    await seed();
    const del = (limit: number) =>
      doc.send(new DeleteCommand({ TableName: 'ProductCatalog', Key: { Id: 456 }, ConditionExpression: 'Price > :limit', ExpressionAttributeValues: { ':limit': limit } }));
    expect(await outcome(del(1000))).toBeInstanceOf(ConditionalCheckFailedException);
    expect(await read()).toEqual(PRODUCT);
    expect(await outcome(del(500))).toBe('ok');
    expect(await read()).toBeUndefined();
  });

  it('a condition on an item that does not exist sees every attribute missing', async () => {
    const e = await outcome(
      doc.send(new UpdateCommand({ TableName: 'ProductCatalog', Key: { Id: 9 }, UpdateExpression: 'SET Price = :p', ConditionExpression: 'attribute_exists(Id)', ExpressionAttributeValues: { ':p': 1 } })),
    );
    expect(e).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await doc.send(new GetCommand({ TableName: 'ProductCatalog', Key: { Id: 9 } }))).Item).toBeUndefined();
  });
});

describe('what the lab does not model is refused loudly, never ignored', () => {
  it.each([
    ['a nested path', 'attribute_exists(Pictures.FrontView)', {}, /nested document path Pictures\.FrontView is not supported/],
    ['a list index', 'attribute_exists(Tags[0])', {}, /nested document path Tags\[0\] is not supported/],
    ['the size function', 'size(Title) > :n', { ':n': { N: '3' } }, /function size is not supported by the lab/],
    ['the contains function', 'contains(Color, :c)', { ':c': { S: 'Red' } }, /function contains is not supported by the lab/],
    ['the attribute_type function', 'attribute_type(Price, :t)', { ':t': { S: 'N' } }, /function attribute_type is not supported by the lab/],
    ['an undefined name', 'attribute_exists(#nope)', {}, /attribute name: #nope/],
    ['an undefined value', 'Price = :nope', {}, /attribute value: :nope/],
    ['a dangling operator', 'Price = ', {}, /Invalid ConditionExpression/],
    ['trailing text', 'attribute_exists(Price) Price', {}, /Invalid ConditionExpression/],
  ])('%s', async (_what, ConditionExpression, values: Record<string, AttributeValue>, message) => {
    await seed();
    const e = await outcome(
      raw.send(new DeleteItemCommand({ TableName: 'ProductCatalog', Key: { Id: { N: '456' } }, ConditionExpression, ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}) })),
    );
    expect(e).toMatchObject({ name: 'ValidationException' });
    expect((e as Error).message).toMatch(message);
    expect(await read()).toEqual(PRODUCT);
  });

  it.each([
    ['the legacy Expected parameter', { Expected: { Price: { Exists: true } } }, /the lab does not model the legacy Expected/],
    ['a ReturnValuesOnConditionCheckFailure outside ALL_OLD and NONE', { ConditionExpression: 'attribute_exists(Price)', ReturnValuesOnConditionCheckFailure: 'ALL_NEW' as 'ALL_OLD' }, /Value 'ALL_NEW' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: \[ALL_OLD, NONE\]/],
  ])('%s', async (_what, extra, message) => {
    await seed();
    const e = await outcome(raw.send(new DeleteItemCommand({ TableName: 'ProductCatalog', Key: { Id: { N: '456' } }, ...extra })));
    expect(e).toMatchObject({ name: 'ValidationException' });
    expect((e as Error).message).toMatch(message);
  });
});

describe('the runtime state store over the lab', () => {
  it('writes a field only if absent: a second write is refused, not an error, and keeps the first value', async () => {
    const store = new DynamoStateStore(raw, 'state', () => 1_000_000);
    expect(await store.updateIfAbsent('d-1', 'trafficShiftStartedAt', { trafficShiftStartedAt: 100 })).toBe(true);
    expect(await store.updateIfAbsent('d-1', 'trafficShiftStartedAt', { trafficShiftStartedAt: 200 })).toBe(false);
    expect((await store.get(['d-1'])).get('d-1')).toMatchObject({ trafficShiftStartedAt: 100 });
  });

  it("ends a deployment's telemetry watch only while the item watches that deployment", async () => {
    const store = new DynamoStateStore(raw, 'state', () => 1_000_000);
    await store.watch('orders', '2', 'd-2');
    expect(await store.unwatch({ deploymentId: 'd-1', functionName: 'orders', version: '2' })).toBe('not-watching');
    expect((await doc.send(new GetCommand({ TableName: 'state', Key: { deploymentId: '#watch#orders#2' } }))).Item).toMatchObject({ watching: 'd-2' });
    expect(await store.unwatch({ deploymentId: 'd-2', functionName: 'orders', version: '2' })).toBe('removed');
    expect((await doc.send(new GetCommand({ TableName: 'state', Key: { deploymentId: '#watch#orders#2' } }))).Item).toBeUndefined();
    expect(await store.unwatch({ deploymentId: 'd-2', functionName: 'orders', version: '2' })).toBe('not-watching');
  });

  it('keeps the removals to retry in the registry item, beside its ids, and forgets those done', async () => {
    const store = new DynamoStateStore(raw, 'state', () => 1_000_000);
    const a = { deploymentId: 'd-1', functionName: 'orders', version: '2' };
    const b = { deploymentId: 'd-3', functionName: 'pricing', version: '14' };
    await store.addActive(['d-9'], 500);
    await store.retryUnwatch([a, b], []);
    expect(await store.activeDeployments()).toEqual({ ids: ['d-9'], reconciledAt: 500, unwatch: expect.arrayContaining([a, b]) });
    await store.retryUnwatch([], [a]);
    expect((await store.activeDeployments()).unwatch).toEqual([b]);
    await store.retryUnwatch([], [b]);
    expect(await store.activeDeployments()).toEqual({ ids: ['d-9'], reconciledAt: 500 });
  });
});
