import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchSignals } from '../../src/aws/cloudwatch';
import type { MetricQuery } from '../../src/core/observe';

const cw = mockClient(CloudWatchClient);
const T0 = Date.parse('2026-11-28T10:00:00Z');
const MIN = 60_000;
const query = (key: string, version: string): MetricQuery => ({
  key,
  metric: { namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum', dimensions: { FunctionName: 'orders', ExecutedVersion: version } },
  window: { start: T0, end: T0 + 3 * MIN },
  periodSeconds: 60,
});

beforeEach(() => cw.reset());

describe('CloudWatchSignals.readMetrics', () => {
  it('returns each period\'s start with its value, across pages, for the minute-by-minute comparison', async () => {
    // Prepare: newest first, as GetMetricData answers by default; the second page carries the oldest minute.
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', StatusCode: 'PartialData', Values: [4, 2], Timestamps: [new Date(T0 + 2 * MIN), new Date(T0 + MIN)] }, { Id: 'q1', StatusCode: 'PartialData', Values: [], Timestamps: [] }], NextToken: 't' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', StatusCode: 'Complete', Values: [1], Timestamps: [new Date(T0)] }, { Id: 'q1', StatusCode: 'Complete', Values: [3], Timestamps: [new Date(T0 + MIN)] }] });
    // Act
    const got = await new CloudWatchSignals(new CloudWatchClient({})).readMetrics([query('new', '7'), query('old', '6')]);
    // Assess
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, { MetricDataQueries: [expect.objectContaining({ MetricStat: expect.objectContaining({ Period: 60 }) }), expect.anything()] });
    expect(got).toEqual({
      new: { values: [4, 2, 1], timestamps: [T0 + 2 * MIN, T0 + MIN, T0] },
      old: { values: [3], timestamps: [T0 + MIN] },
    });
  });

  it('returns the values alone when the answer has no timestamp for each (the comparison is then pooled)', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'q0', StatusCode: 'Complete', Values: [4, 2] }] });
    const got = await new CloudWatchSignals(new CloudWatchClient({})).readMetrics([query('new', '7')]);
    expect(got).toEqual({ new: { values: [4, 2] } });
  });
});
