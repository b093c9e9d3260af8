/**
 * Time to Live on the lab's DynamoDB, spoken to by the real SDK v3 clients over loopback, on a
 * clock the test moves: UpdateTimeToLive / DescribeTimeToLive as the API reference describes
 * them, expired items still read until the deletion lag has passed, then gone.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
import { DescribeTimeToLiveCommand, ScanCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { failure, loopbackDynamo, type LoopbackDynamo } from './loopback';

const START = Date.UTC(2026, 0, 1);
const HOUR = 3600_000;
let now: number;
let lab: LoopbackDynamo;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

const open = async (ttlDeletionLagSeconds?: number) => {
  now = START;
  lab = await loopbackDynamo({ state: 'id' }, { now: () => now, ...(ttlDeletionLagSeconds === undefined ? {} : { ttlDeletionLagSeconds }) });
  ({ raw, doc } = lab);
};

afterEach(() => lab.close());

const enable = (Enabled = true, AttributeName = 'expiresAt') => raw.send(new UpdateTimeToLiveCommand({ TableName: 'state', TimeToLiveSpecification: { Enabled, AttributeName } }));
const describeTtl = async () => (await raw.send(new DescribeTimeToLiveCommand({ TableName: 'state' }))).TimeToLiveDescription;
const ids = async () => ((await raw.send(new ScanCommand({ TableName: 'state' }))).Items ?? []).map((it) => it.id.S).sort();

describe('UpdateTimeToLive and DescribeTimeToLive', () => {
  beforeEach(() => open());

  it('is disabled until enabled, echoes the specification, and describes it as ENABLED', async () => {
    expect(await describeTtl()).toEqual({ TimeToLiveStatus: 'DISABLED' });
    expect((await enable()).TimeToLiveSpecification).toEqual({ Enabled: true, AttributeName: 'expiresAt' });
    expect(await describeTtl()).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('refuses a second change within the hour, and takes it after', async () => {
    await enable();
    now += HOUR - 1;
    expect(await failure(enable(false))).toMatchObject({ name: 'ValidationException', message: 'Time to live has been modified multiple times within a fixed interval' });
    now += 1;
    expect((await enable(false)).TimeToLiveSpecification).toEqual({ Enabled: false, AttributeName: 'expiresAt' });
    expect(await describeTtl()).toEqual({ TimeToLiveStatus: 'DISABLED' });
  });

  it.each([
    ['enabling twice', [true, 'expiresAt'], [true, 'expiresAt'], 'TimeToLive is already enabled'],
    ['enabling on another attribute', [true, 'expiresAt'], [true, 'ttl'], 'TimeToLive is active on a different AttributeName'],
    ['disabling when disabled', undefined, [false, 'expiresAt'], 'TimeToLive is already disabled'],
  ] as const)('refuses %s', async (_what, first, second, message) => {
    if (first) await enable(first[0], first[1]);
    now += 2 * HOUR;
    expect(await failure(enable(second[0], second[1]))).toMatchObject({ name: 'ValidationException', message });
  });
});

describe('expiry on the lab clock', () => {
  const put = (id: string, expiresAt: unknown) => doc.send(new PutCommand({ TableName: 'state', Item: { id, expiresAt } }));
  const expiry = (msFromStart: number) => Math.floor((START + msFromStart) / 1000);

  it('keeps an expired item readable until the two-day default lag has passed, then deletes it', async () => {
    await open();
    await enable();
    await put('soon', expiry(HOUR));
    await put('later', expiry(10 * HOUR));
    await put('never', 'not a number');
    await put('ancient', expiry(-6 * 365 * 24 * HOUR));
    now = START + 2 * HOUR;
    // Expired an hour ago, and still returned, as DynamoDB returns items awaiting deletion.
    expect((await doc.send(new GetCommand({ TableName: 'state', Key: { id: 'soon' } }))).Item).toBeDefined();
    now = START + HOUR + 48 * HOUR;
    expect(await ids()).toEqual(['ancient', 'later', 'never']);
    now = START + 10 * HOUR + 48 * HOUR;
    // An expiry more than five years past, or not a number, is never acted on.
    expect(await ids()).toEqual(['ancient', 'never']);
  });

  it('deletes on a configured lag, and not at all while TTL is disabled', async () => {
    await open(60);
    await put('a', expiry(2 * HOUR));
    await put('b', expiry(0));
    now = START + HOUR;
    expect(await ids()).toEqual(['a', 'b']);
    await enable();
    // b expired an hour ago, longer than the lag: it goes as soon as TTL is on.
    expect(await ids()).toEqual(['a']);
    now = START + 2 * HOUR + 59_000;
    expect(await ids()).toEqual(['a']);
    now += 1_000;
    expect(await ids()).toEqual([]);
  });
});
