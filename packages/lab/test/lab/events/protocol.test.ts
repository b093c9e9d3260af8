import { EventBridgeClient, ListRulesCommand, type ListRulesCommandInput, PutEventsCommand, type Rule } from '@aws-sdk/client-eventbridge';
import { EventsLab, putEventsEntrySize } from '../../../src/lab/events';
import { LabEventBus, Scheduler } from '../../../src/lab/kernel';
import { LabServer } from '../../../src/lab/server';

const START = Date.UTC(2026, 0, 1);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: LabServer;
let client: EventBridgeClient;
let events: EventsLab;
let delivered: { fn: string; event: Record<string, unknown> }[];

beforeEach(async () => {
  const scheduler = new Scheduler('virtual', START);
  delivered = [];
  events = new EventsLab({ scheduler, events: new LabEventBus(scheduler) }, (fn, event) => delivered.push({ fn, event: event as Record<string, unknown> }));
  for (const name of ['watchdog-tick', 'watchdog-alarms', 'prober-tick', 'other']) {
    events.addRule({ name, ...(name.endsWith('tick') ? { scheduleExpression: 'rate(1 minute)' } : { eventPattern: { source: [name === 'other' ? 'app' : 'aws.cloudwatch'] } }), targets: [`${name}-fn`] });
  }
  server = new LabServer([events.service], []);
  const endpoint = await server.listen();
  client = new EventBridgeClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});

afterEach(async () => {
  client.destroy();
  await server.close();
});

const entry = (extra: Record<string, unknown> = {}) => ({ Source: 'app', DetailType: 'thing', Detail: '{"a":1}', ...extra });

describe('EventBridge PutEvents over the SDK', () => {
  it('gives each entry its own UUID-shaped event id, the one the matching rule delivers', async () => {
    const out = await client.send(new PutEventsCommand({ Entries: [entry(), entry(), entry()] }));
    const ids = out.Entries!.map((e) => e.EventId!);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(3);
    expect(delivered.map((d) => d.event.id)).toEqual(ids);
  });

  it('fails each entry for a bus that does not exist, and delivers the others', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [entry({ EventBusName: 'nope' }), entry(), entry({ EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/default' })] }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries![0]).toEqual({ ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus nope does not exist.' });
    expect(out.Entries![1].EventId).toMatch(UUID);
    expect(out.Entries![2].EventId).toMatch(UUID);
    expect(delivered).toHaveLength(2);
  });

  it('refuses a request whose entries exceed 256 KB as EventBridge counts them, and accepts one at the limit', async () => {
    // Source 3 + DetailType 5 + Detail: 262,144 bytes in all.
    const atLimit = entry({ Detail: JSON.stringify({ a: 'x'.repeat(262_144 - 8 - 8) }) });
    expect(putEventsEntrySize(atLimit)).toBe(262_144);
    expect((await client.send(new PutEventsCommand({ Entries: [atLimit] }))).FailedEntryCount).toBe(0);
    // Time counts 14 bytes, multi-byte characters their UTF-8 length.
    expect(putEventsEntrySize(entry({ Time: new Date(), Detail: '{"a":"é"}', Resources: ['r1'] }))).toBe(3 + 5 + 10 + 14 + 2);
    await expect(client.send(new PutEventsCommand({ Entries: [atLimit, entry()] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^Total size of the entries in the request is over the limit/),
    });
    expect(delivered).toHaveLength(1);
  });

  it('stamps the delivered event with the entry Time when one is given', async () => {
    await client.send(new PutEventsCommand({ Entries: [entry({ Time: new Date('2025-06-01T12:00:00Z') })] }));
    expect(delivered[0].event.time).toBe('2025-06-01T12:00:00Z');
  });
});

/** Every page of ListRules (the SDK has no paginator for it): NextToken until there is none. */
async function listRulePages(input: ListRulesCommandInput): Promise<Rule[][]> {
  const pages: Rule[][] = [];
  let NextToken: string | undefined;
  do {
    const out = await client.send(new ListRulesCommand({ ...input, NextToken }));
    pages.push(out.Rules ?? []);
    NextToken = out.NextToken;
  } while (NextToken);
  return pages;
}

describe('EventBridge ListRules over the SDK', () => {
  it('lists rules by NamePrefix, page by page', async () => {
    expect((await listRulePages({ NamePrefix: 'watchdog-', Limit: 1 })).map((p) => p.map((r) => r.Name))).toEqual([['watchdog-alarms'], ['watchdog-tick']]);
    const all = (await listRulePages({})).flat();
    expect(all.map((r) => r.Name)).toEqual(['other', 'prober-tick', 'watchdog-alarms', 'watchdog-tick']);
    expect(all[0]).toEqual({
      Name: 'other',
      Arn: 'arn:aws:events:us-east-1:123456789012:rule/other',
      State: 'ENABLED',
      EventBusName: 'default',
      EventPattern: '{"source":["app"]}',
    });
    expect(all[1]).toMatchObject({ ScheduleExpression: 'rate(1 minute)' });
  });

  it('answers a bus that does not exist and a bad Limit with errors', async () => {
    await expect(listRulePages({ EventBusName: 'nope' })).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Event bus nope does not exist.' });
    await expect(listRulePages({ Limit: 101 })).rejects.toMatchObject({ name: 'ValidationException', message: 'Limit: expected an integer from 1 to 100, got 101' });
  });
});
