/**
 * The lab's DynamoDB over loopback, spoken to by the real @aws-sdk/lib-dynamodb document client
 * (awsJson1_0): the update expressions the runtime uses, and AWS-shaped errors that leave the
 * item as it was.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loopbackDynamo, type LoopbackDynamo } from './loopback';

let lab: LoopbackDynamo;
let doc: DynamoDBDocumentClient;

beforeEach(async () => {
  lab = await loopbackDynamo({ state: 'deploymentId' });
  doc = lab.doc;
});

afterEach(() => lab.close());

const get = async () => (await doc.send(new GetCommand({ TableName: 'state', Key: { deploymentId: '#active' }, ConsistentRead: true }))).Item;
const update = (expr: string, names: Record<string, string>, values?: Record<string, unknown>) =>
  doc.send(new UpdateCommand({ TableName: 'state', Key: { deploymentId: '#active' }, UpdateExpression: expr, ExpressionAttributeNames: names, ...(values ? { ExpressionAttributeValues: values } : {}) }));

describe('UpdateItem on sets', () => {
  it('ADD creates a string set and merges members into it, SET in the same call', async () => {
    await update('ADD #ids :ids SET #at = :at', { '#ids': 'ids', '#at': 'reconciledAt' }, { ':ids': new Set(['d-1', 'd-2']), ':at': 5 });
    await update('ADD #ids :ids', { '#ids': 'ids' }, { ':ids': new Set(['d-2', 'd-3']) });
    const item = await get();
    expect(item?.ids).toEqual(new Set(['d-1', 'd-2', 'd-3']));
    expect(item?.reconciledAt).toBe(5);
  });

  it('DELETE removes members, and the attribute with the last one (DynamoDB keeps no empty sets)', async () => {
    await update('ADD #ids :ids', { '#ids': 'ids' }, { ':ids': new Set(['d-1', 'd-2']) });
    await update('DELETE #ids :ids', { '#ids': 'ids' }, { ':ids': new Set(['d-1', 'd-9']) });
    expect((await get())?.ids).toEqual(new Set(['d-2']));
    await update('DELETE #ids :ids', { '#ids': 'ids' }, { ':ids': new Set(['d-2']) });
    expect(await get()).toEqual({ deploymentId: '#active' });
  });

  it('ADD of a number adds to the stored number, starting from 0 when the attribute is missing', async () => {
    await update('ADD #n :n', { '#n': 'n' }, { ':n': 5 });
    await update('ADD #n :n', { '#n': 'n' }, { ':n': -2 });
    expect((await get())?.n).toBe(3);
  });

  it('REMOVE drops an attribute', async () => {
    await update('SET #a = :a, #b = :b', { '#a': 'a', '#b': 'b' }, { ':a': 1, ':b': 2 });
    await update('REMOVE #a', { '#a': 'a' });
    expect(await get()).toEqual({ deploymentId: '#active', b: 2 });
  });

  it.each([
    ['an attribute twice', 'ADD #ids :ids DELETE #ids :ids', { '#ids': 'ids' }, { ':ids': new Set(['x']) }, /Two document paths overlap/],
    ['ADD of a string', 'ADD #n :n', { '#n': 'n' }, { ':n': 'x' }, /^An operand in the update expression has an incorrect data type$/],
    ['ADD of a number onto a number set', 'ADD #a :n', { '#a': 'a' }, { ':n': new Set([1]) }, /^An operand in the update expression has an incorrect data type$/],
    ['ADD of a string set onto a number', 'ADD #a :s', { '#a': 'a' }, { ':s': new Set(['x']) }, /^An operand in the update expression has an incorrect data type$/],
    ['an unknown clause', 'UPSERT #a :a', { '#a': 'a' }, { ':a': 1 }, /expected SET, REMOVE, ADD or DELETE/],
    ['an undefined value', 'SET #a = :zz', { '#a': 'a' }, { ':a': 1 }, /attribute value: :zz/],
    ['the key', 'SET #k = :a', { '#k': 'deploymentId' }, { ':a': 'x' }, /part of the key/],
  ])('rejects %s with a ValidationException and leaves the item intact', async (_what, expr, names, values, message) => {
    await update('SET #a = :a', { '#a': 'a' }, { ':a': 7 });
    const e = await update(expr, names, values).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(e).toMatchObject({ name: 'ValidationException' });
    expect(e?.message).toMatch(message);
    expect(await get()).toEqual({ deploymentId: '#active', a: 7 });
  });
});
