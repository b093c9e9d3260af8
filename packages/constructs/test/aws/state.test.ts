import 'aws-sdk-client-mock-jest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { StateReadError } from '../../src/aws/ports';
import { DynamoStateStore, STATE_READ_BUDGET_MS } from '../../src/aws/state';
import { backoffDelay } from '../../src/aws/util';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'watchdog-state';

/** A store whose retries sleep on a fake monotonic clock, recording each pause. */
function store(remainingMs?: () => number) {
  let t = 0;
  const pauses: number[] = [];
  const s = new DynamoStateStore(new DynamoDBClient({ region: 'us-east-1' }), TABLE, () => 0, {
    monotonic: () => t,
    sleep: async (ms) => {
      pauses.push(ms);
      t += ms;
    },
    random: () => 1,
    ...(remainingMs ? { remainingMs } : {}),
  });
  return { s, pauses, elapsed: () => t };
}

/** BatchGetItem that leaves `unprocessed(call)` of the asked keys unprocessed, as DynamoDB does under load. */
function answer(unprocessed: (call: number, keys: string[]) => string[]) {
  let call = 0;
  ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { deploymentId: string }[] }> }) => {
    const keys = input.RequestItems[TABLE].Keys.map((k) => k.deploymentId);
    const left = unprocessed(call++, keys);
    return {
      Responses: { [TABLE]: keys.filter((k) => !left.includes(k)).map((deploymentId) => ({ deploymentId, trafficShiftStartedAt: 1 })) },
      ...(left.length ? { UnprocessedKeys: { [TABLE]: { Keys: left.map((deploymentId) => ({ deploymentId })), ConsistentRead: true } } } : {}),
    };
  });
}

beforeEach(() => ddb.reset());

describe('DynamoStateStore.get', () => {
  it('retries unprocessed keys with exponential backoff until every key is read', async () => {
    // Prepare: the first two calls leave d-2 unprocessed.
    answer((call, keys) => (call < 2 ? keys.filter((k) => k === 'd-2') : []));
    const { s, pauses } = store();
    // Act
    const states = await s.get(['d-1', 'd-2']);
    // Assess
    expect([...states.keys()].sort()).toEqual(['d-1', 'd-2']);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 3);
    expect(ddb.commandCalls(BatchGetCommand)[1].args[0].input.RequestItems![TABLE].Keys).toEqual([{ deploymentId: 'd-2' }]);
    expect(pauses).toEqual([backoffDelay(0, () => 1), backoffDelay(1, () => 1)]);
    expect(pauses[1]).toBeGreaterThan(pauses[0]);
  });

  it('throws StateReadError naming the keys still unread once its time budget is spent, with what it did read: never "no state"', async () => {
    answer((_, keys) => keys.filter((k) => k === 'd-2'));
    const { s, elapsed } = store();
    const err = await s.get(['d-1', 'd-2']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateReadError);
    const e = err as StateReadError;
    expect(e.name).toBe('StateReadError');
    expect(e.unread).toEqual(['d-2']);
    expect([...e.read.keys()]).toEqual(['d-1']);
    expect(e.message).toMatch(/^BatchGetItem left 1 key unprocessed after \d+ attempts within \d+ ms \(UnprocessedKeys\): d-2$/);
    expect(elapsed()).toBeLessThanOrEqual(STATE_READ_BUDGET_MS);
  });

  it("keeps within the run's remaining time when that is shorter than its own budget", async () => {
    answer((_, keys) => keys);
    const { s, elapsed } = store(() => 120);
    await expect(s.get(['d-1'])).rejects.toThrow(StateReadError);
    expect(elapsed()).toBeLessThanOrEqual(120);
  });

  it('guard: makes one call and never pauses when everything is read at once; an absent item is simply no state', async () => {
    answer(() => []);
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [{ deploymentId: 'd-1' }] } });
    const { s, pauses } = store();
    const states = await s.get(['d-1', 'd-NEW']);
    expect([...states.keys()]).toEqual(['d-1']);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(pauses).toEqual([]);
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 1, 50],
    [1, 1, 100],
    [3, 1, 400],
    [10, 1, 1000],
    [3, 0.5, 200],
    [3, 0, 0],
  ])('attempt %d with random %d waits %d ms (full jitter, capped at 1 s)', (attempt, r, ms) => {
    expect(backoffDelay(attempt, () => r)).toBe(ms);
  });
});

describe('DynamoStateStore writes: numbers within what DynamoDB stores', () => {
  // DynamoDB numbers run from 1E-130 to 9.9999999999999999999999999999999999999E+125 in magnitude (and
  // 0); a smaller or larger one fails the whole write with a ValidationException (underflow or
  // overflow). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
  const inRange = (v: unknown): boolean =>
    typeof v === 'number' ? v === 0 || (Math.abs(v) >= 1e-130 && Math.abs(v) <= 9.99999999999999e125) : Array.isArray(v) ? v.every(inRange) : v !== null && typeof v === 'object' ? Object.values(v).every(inRange) : true;

  it('stores a p-value below 1E-130 as 0 and a likelihood ratio above the maximum as the maximum, leaving others as they are', async () => {
    ddb.reset();
    ddb.on(UpdateCommand).resolves({});
    const { s } = store();
    const evidence = [{ signal: 'errors', pValue: 1e-300 }, { signal: 'latency', pValue: 0.0123, ratio: 1e300 }, { signal: 'neg', delta: -1e-200 }];
    await s.update('d-1', { decisions: [{ evidence }] as never });
    const values = ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues!;
    expect(inRange(values)).toBe(true);
    const written = Object.values(values).find((v) => Array.isArray(v)) as { evidence: Record<string, number>[] }[];
    expect(written[0].evidence).toEqual([{ signal: 'errors', pValue: 0 }, { signal: 'latency', pValue: 0.0123, ratio: 9.99999999999999e125 }, { signal: 'neg', delta: 0 }]);
  });
});
