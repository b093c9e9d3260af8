import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { LogAndEventBridgeDecisions, PUT_EVENTS_MAX } from '../../src/aws/decisions';
import type { DecisionRecord } from '../../src/core/decision-record';

const eb = mockClient(EventBridgeClient);
const record = (deploymentId: string) => ({ type: 'canary-watchdog.decision', deploymentId }) as unknown as DecisionRecord;

beforeEach(() => {
  eb.reset();
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
});

describe('LogAndEventBridgeDecisions', () => {
  it('logs every record and sends to EventBridge only those selected, in full batches of 10', async () => {
    // Prepare
    const logged: unknown[] = [];
    const port = new LogAndEventBridgeDecisions({ info: (_m, extra) => logged.push(extra.decision), error: () => undefined }, new EventBridgeClient({}), 'bus');
    const records = Array.from({ length: 40 }, (_, i) => record(`d-${i}`));
    // Act
    await port.publish(records, (r) => Number(r.deploymentId.slice(2)) % 3 === 0);
    // Assess: 14 of 40 selected: two calls, the first full.
    expect(logged).toHaveLength(40);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    const sent = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).deploymentId));
    expect(sent[0]).toHaveLength(PUT_EVENTS_MAX);
    expect(sent.flat()).toEqual(records.filter((_, i) => i % 3 === 0).map((r) => r.deploymentId));
  });

  it('makes no EventBridge call when no record is selected, and sends all without a selection', async () => {
    const port = new LogAndEventBridgeDecisions({ info: () => undefined, error: () => undefined }, new EventBridgeClient({}), 'bus');
    await port.publish([record('d-1')], () => false);
    expect(eb).not.toHaveReceivedCommand(PutEventsCommand);
    await port.publish([record('d-1'), record('d-2')]);
    expect(eb).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });
});
