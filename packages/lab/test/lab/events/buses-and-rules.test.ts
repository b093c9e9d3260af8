/**
 * EventBridge's read operations the AWS CLI reaches for first (`aws events list-event-buses`,
 * `describe-rule`), over the SDK v3 client, errors as AWS words them.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html
 */
import { DescribeRuleCommand, EventBridgeClient, ListEventBusesCommand } from '@aws-sdk/client-eventbridge';
import { EventsLab } from '../../../src/lab/events';
import { LabEventBus, Scheduler } from '../../../src/lab/kernel';
import { LabServer } from '../../../src/lab/server';

let server: LabServer;
let client: EventBridgeClient;

beforeEach(async () => {
  const scheduler = new Scheduler('virtual', Date.UTC(2026, 0, 1));
  const events = new EventsLab({ scheduler, events: new LabEventBus(scheduler) }, () => undefined);
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
});
