/**
 * The aggregate size of the items in a transaction cannot exceed 4 MB (TransactWriteItems and
 * TransactGetItems): past it the whole request is a ValidationException and nothing is written.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactGetItems.html
 */
import { GetItemCommand, PutItemCommand, TransactGetItemsCommand, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

const MESSAGE = 'The aggregate size of the items in the transaction cannot exceed 4 MB';
/** An item of about 390 KB: ten fit in 4 MB (4,194,304 bytes), eleven do not. */
const big = (id: string) => ({ Id: { S: id }, Blob: { S: 'x'.repeat(390 * 1024) } });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `item-${i}`);

let lab: LoopbackDynamo;
/** The lab's clock, moved a second on between writes of the same keys so that no key's per-second throughput is exceeded. */
let clock: number;
const nextSecond = () => (clock += 1000);
beforeEach(async () => {
  clock = Date.UTC(2026, 0, 1);
  lab = await loopbackDynamo({ Things: 'Id' }, { now: () => clock });
});
afterEach(() => lab.close());

const putAll = (keys: string[]) => lab.raw.send(new TransactWriteItemsCommand({ TransactItems: keys.map((id): TransactWriteItem => ({ Put: { TableName: 'Things', Item: big(id) } })) }));
const stored = async (id: string) => (await lab.raw.send(new GetItemCommand({ TableName: 'Things', Key: { Id: { S: id } } }))).Item;

describe('TransactWriteItems', () => {
  it('refuses Puts whose items add up to more than 4 MB, and writes none of them', async () => {
    const err = await failure(putAll(ids(11)));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(MESSAGE);
    expect(await stored('item-0')).toBeUndefined();
    // A refused request consumed nothing: the same keys take a full write in the same second.
    await putAll(ids(10));
  });

  it('writes Puts that add up to just under 4 MB', async () => {
    await putAll(ids(10));
    expect((await stored('item-9'))?.Blob.S).toHaveLength(390 * 1024);
  });

  it('counts the stored items an Update touches, not only what the request carries', async () => {
    for (const id of ids(11)) await lab.raw.send(new PutItemCommand({ TableName: 'Things', Item: big(id) }));
    const touch = (keys: string[]) =>
      lab.raw.send(new TransactWriteItemsCommand({ TransactItems: keys.map((id): TransactWriteItem => ({ Update: { TableName: 'Things', Key: { Id: { S: id } }, UpdateExpression: 'SET Seen = :t', ExpressionAttributeValues: { ':t': { BOOL: true } } } })) }));
    nextSecond();
    const err = await failure(touch(ids(11)));
    expect(err.message).toBe(MESSAGE);
    expect((await stored('item-0'))?.Seen).toBeUndefined();
    nextSecond();
    await touch(ids(10));
    expect((await stored('item-0'))?.Seen).toEqual({ BOOL: true });
  });
});

describe('TransactGetItems', () => {
  beforeEach(async () => {
    for (const id of ids(11)) await lab.raw.send(new PutItemCommand({ TableName: 'Things', Item: big(id) }));
    nextSecond();
  });
  const getAll = (keys: string[]) => lab.raw.send(new TransactGetItemsCommand({ TransactItems: keys.map((id) => ({ Get: { TableName: 'Things', Key: { Id: { S: id } } } })) }));

  it('refuses reads whose items add up to more than 4 MB', async () => {
    const err = await failure(getAll(ids(11)));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(MESSAGE);
  });

  it('reads items that add up to just under 4 MB', async () => {
    expect((await getAll(ids(10))).Responses).toHaveLength(10);
  });
});
