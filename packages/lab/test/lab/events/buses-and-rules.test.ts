/**
 * EventBridge's read operations the AWS CLI reaches for first (`aws events list-event-buses`,
 * `describe-rule`), over the SDK v3 client, errors as AWS words them.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html
 */
import { DescribeRuleCommand, DisableRuleCommand, EnableRuleCommand, EventBridgeClient, ListEventBusesCommand, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { EventsLab } from '../../../src/lab/events';
import { LabEventBus, Scheduler } from '../../../src/lab/kernel';
import { LabServer } from '../../../src/lab/server';

let server: LabServer;
let client: EventBridgeClient;
let scheduler: Scheduler;
let bus: LabEventBus;
/** Each delivery to a target: the rule's event's source. */
let delivered: string[];

beforeEach(async () => {
  scheduler = new Scheduler('virtual', Date.UTC(2026, 0, 1));
  bus = new LabEventBus(scheduler);
  delivered = [];
  const events = new EventsLab({ scheduler, events: bus }, (_fn, e) => void delivered.push(String((e as { source: string }).source)));
  events.addRule({ name: 'tick', scheduleExpression: 'rate(1 minute)', targets: ['fn'] });
  events.addRule({ name: 'alarms', eventPattern: { source: ['aws.cloudwatch'] }, targets: ['fn'] });
  server = new LabServer([events.service], []);
  client = new EventBridgeClient({ endpoint: await server.listen(), region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});

afterEach(async () => {
  client.destroy();
  await server.close();
});

describe('EventBridge buses and rules', () => {
  it('ListEventBuses lists the default bus, and filters by NamePrefix', async () => {
    expect((await client.send(new ListEventBusesCommand({}))).EventBuses).toEqual([{ Name: 'default', Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' }]);
    expect((await client.send(new ListEventBusesCommand({ NamePrefix: 'orders' }))).EventBuses).toEqual([]);
    await expect(client.send(new ListEventBusesCommand({ Limit: 0 }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Limit') });
  });

  it('DescribeRule answers a rule with its pattern or schedule', async () => {
    const tick = await client.send(new DescribeRuleCommand({ Name: 'tick' }));
    expect(tick).toMatchObject({ Name: 'tick', Arn: 'arn:aws:events:us-east-1:123456789012:rule/tick', ScheduleExpression: 'rate(1 minute)', State: 'ENABLED', EventBusName: 'default', CreatedBy: '123456789012' });
    expect(JSON.parse((await client.send(new DescribeRuleCommand({ Name: 'alarms', EventBusName: 'default' }))).EventPattern!)).toEqual({ source: ['aws.cloudwatch'] });
  });

  it('DescribeRule of an unknown rule or bus is ResourceNotFoundException, as AWS words it', async () => {
    await expect(client.send(new DescribeRuleCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Rule nope does not exist on EventBus default.' });
    await expect(client.send(new DescribeRuleCommand({ Name: 'tick', EventBusName: 'orders' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Event bus orders does not exist.' });
    await expect(client.send(new DescribeRuleCommand({ Name: '' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'name' failed to satisfy constraint") });
  });

  it('DisableRule stops a rule: its schedule and its pattern deliver nothing, DescribeRule and ListRules say DISABLED; EnableRule resumes it', async () => {
    await client.send(new DisableRuleCommand({ Name: 'tick' }));
    await client.send(new DisableRuleCommand({ Name: 'alarms' }));
    expect((await client.send(new DescribeRuleCommand({ Name: 'tick' }))).State).toBe('DISABLED');
    expect((await client.send(new ListRulesCommand({}))).Rules!.map((r) => [r.Name, r.State])).toEqual([['alarms', 'DISABLED'], ['tick', 'DISABLED']]);
    await scheduler.advance(3 * 60_000);
    await bus.publish({ source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change', detail: {} });
    expect(delivered).toEqual([]);
    await client.send(new EnableRuleCommand({ Name: 'tick' }));
    await client.send(new EnableRuleCommand({ Name: 'alarms' }));
    expect((await client.send(new DescribeRuleCommand({ Name: 'tick' }))).State).toBe('ENABLED');
    await scheduler.advance(2 * 60_000);
    await bus.publish({ source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change', detail: {} });
    expect(delivered.filter((s) => s === 'aws.events')).toHaveLength(2);
    expect(delivered.filter((s) => s === 'aws.cloudwatch')).toHaveLength(1);
  });

  it('a rule that was never disabled keeps delivering (the guard: DisableRule stops only its own rule)', async () => {
    await client.send(new DisableRuleCommand({ Name: 'alarms' }));
    await scheduler.advance(2 * 60_000);
    expect(delivered.filter((s) => s === 'aws.events')).toHaveLength(2);
  });

  it('DisableRule and EnableRule of an unknown rule are ResourceNotFoundException', async () => {
    await expect(client.send(new DisableRuleCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Rule nope does not exist on EventBus default.' });
    await expect(client.send(new EnableRuleCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
