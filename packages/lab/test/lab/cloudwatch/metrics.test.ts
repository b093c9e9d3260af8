/**
 * Metric statistics, percentiles and metric math through GetMetricData, called on the lab directly.
 */
import { percentile } from '../../../src/lab/cloudwatch';
import { rig, sec, T0 } from './helpers';

const NS = 'Lab/Test';
const stat = (id: string, metricName: string, s: string, period = 60) => ({ Id: id, MetricStat: { Metric: { Namespace: NS, MetricName: metricName }, Period: period, Stat: s } });

async function results(lab: ReturnType<typeof rig>, queries: Record<string, unknown>[], start = T0, end = T0 + 600_000, scanBy = 'TimestampAscending') {
  const out = await lab.call('GetMetricData', { MetricDataQueries: queries, StartTime: sec(start), EndTime: sec(end), ScanBy: scanBy });
  return Object.fromEntries(
    (out.MetricDataResults as { Id: string; Timestamps: number[]; Values: number[]; StatusCode: string }[]).map((r) => [r.Id, r]),
  );
}

describe('percentile', () => {
  it.each([
    { name: 'p50 of 1..100', values: Array.from({ length: 100 }, (_, i) => ({ value: i + 1, count: 1 })), p: 50, want: 50 },
    { name: 'p99 of 1..100', values: Array.from({ length: 100 }, (_, i) => ({ value: i + 1, count: 1 })), p: 99, want: 99 },
    { name: 'p100 is the maximum', values: [{ value: 3, count: 2 }, { value: 7, count: 1 }], p: 100, want: 7 },
    { name: 'p0 is the minimum', values: [{ value: 3, count: 2 }, { value: 7, count: 1 }], p: 0, want: 3 },
    { name: 'p99 weighs counts', values: [{ value: 10, count: 99 }, { value: 1000, count: 1 }], p: 99, want: 10 },
    { name: 'p99.5 weighs counts', values: [{ value: 10, count: 99 }, { value: 1000, count: 1 }], p: 99.5, want: 1000 },
    { name: 'order of input does not matter', values: [{ value: 9, count: 1 }, { value: 1, count: 1 }, { value: 5, count: 1 }], p: 50, want: 5 },
    { name: 'no samples gives no value', values: [], p: 90, want: undefined },
  ])('$name', ({ values, p, want }) => {
    expect(percentile(values, p)).toBe(want);
  });
});

describe('GetMetricData statistics', () => {
  it('aggregates values with counts into epoch-aligned periods, for every statistic', async () => {
    const lab = rig();
    await lab.call('PutMetricData', {
      Namespace: NS,
      MetricData: [
        { MetricName: 'Latency', Timestamp: sec(T0 + 5_000), Values: [10, 1000], Counts: [99, 1], Unit: 'Milliseconds' },
        { MetricName: 'Latency', Timestamp: sec(T0 + 59_000), Value: 40, Unit: 'Milliseconds' },
        { MetricName: 'Latency', Timestamp: sec(T0 + 61_000), StatisticValues: { SampleCount: 4, Sum: 20, Minimum: 2, Maximum: 8 } },
      ],
    });
    const r = await results(lab, ['Sum', 'Average', 'SampleCount', 'Minimum', 'Maximum', 'p50', 'p99', 'p99.5'].map((s, i) => stat(`q${i}`, 'Latency', s)));
    const first = (id: string) => r[id].Values[0];
    expect(r.q0.Timestamps).toEqual([sec(T0), sec(T0 + 60_000)]);
    expect([first('q0'), first('q1'), first('q2'), first('q3'), first('q4')]).toEqual([2030, 2030 / 101, 101, 10, 1000]);
    // 99 samples of 10, one of 40, one of 1000: the 100th of 101 is 40.
    expect([first('q5'), first('q6'), first('q7')]).toEqual([10, 40, 1000]);
    // The second minute holds only a statistic set: simple statistics yes, percentiles no.
    expect(r.q0.Values[1]).toBe(20);
    expect(r.q6.Values).toHaveLength(1);
    expect(r.q0.StatusCode).toBe('Complete');
  });

  it('counts a period from the request\'s StartTime rounded to the minute, never returning data from before it', async () => {
    const lab = rig();
    // One sample a minute; a 2-minute period asked from the 3rd minute on (not a multiple of 2 minutes from the epoch).
    await lab.call('PutMetricData', { Namespace: NS, MetricData: [0, 1, 2, 3, 4].map((m) => ({ MetricName: 'Hits', Timestamp: sec(T0 + m * 60_000 + 10_000), Value: 1 })) });
    const r = await results(lab, [stat('q', 'Hits', 'SampleCount', 120)], T0 + 3 * 60_000 + 25_000, T0 + 5 * 60_000);
    expect(r.q.Timestamps).toEqual([sec(T0 + 3 * 60_000)]);
    expect(r.q.Values).toEqual([2]);
  });

  it('returns newest first by default and keeps standard-resolution data at one-minute granularity', async () => {
    const lab = rig();
    await lab.call('PutMetricData', {
      Namespace: NS,
      MetricData: [
        { MetricName: 'Hits', Timestamp: sec(T0 + 12_000), Value: 1 },
        { MetricName: 'Hits', Timestamp: sec(T0 + 42_000), Value: 1 },
        { MetricName: 'Fine', Timestamp: sec(T0 + 12_000), Value: 1, StorageResolution: 1 },
        { MetricName: 'Fine', Timestamp: sec(T0 + 42_000), Value: 1, StorageResolution: 1 },
      ],
    });
    const r = await results(lab, [stat('hits', 'Hits', 'Sum', 10), stat('fine', 'Fine', 'Sum', 10)], T0, T0 + 60_000, 'TimestampDescending');
    expect(r.hits.Timestamps).toEqual([sec(T0)]);
    expect(r.hits.Values).toEqual([2]);
    expect(r.fine.Timestamps).toEqual([sec(T0 + 40_000), sec(T0 + 10_000)]);
  });
});

describe('metric math, with the examples of "Using metric math"', () => {
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
  async function series(lab: ReturnType<typeof rig>, name: string, values: (number | undefined)[]) {
    const data = values.flatMap((v, i) => (v === undefined ? [] : [{ MetricName: name, Timestamp: sec(T0 + i * 60_000), Value: v }]));
    if (data.length) await lab.call('PutMetricData', { Namespace: NS, MetricData: data });
  }
  const expr = (id: string, expression: string) => ({ Id: id, Expression: expression });
  const hidden = (q: Record<string, unknown>) => ({ ...q, ReturnData: false });
  const valuesAt = (r: { Timestamps: number[]; Values: number[] }, n: number) =>
    Array.from({ length: n }, (_, i) => {
      const k = r.Timestamps.indexOf(sec(T0 + i * 60_000));
      return k < 0 ? undefined : r.Values[k];
    });

  it.each([
    { expression: 'metric1 < metric2', want: [0, 0, 1, 0] },
    { expression: 'metric1 >= 30', want: [1, 0, 0, 0] },
    { expression: 'metric1 > 15 AND metric2 > 15', want: [1, 0, 0, 0] },
    { expression: 'metric1 > 15 && metric2 > 15', want: [1, 0, 0, 0] },
    { expression: 'metric1 - metric2', want: [10, 20, -20, 0] },
    { expression: '(metric1 + 10) * 2 / 4', want: [20, 15, 5, 5] },
    { expression: 'metric1 / metric2', want: [1.5, undefined, 0, undefined] },
  ])('comparison and arithmetic: $expression', async ({ expression, want }) => {
    const lab = rig();
    await series(lab, 'metric1', [30, 20, 0, 0]);
    await series(lab, 'metric2', [20, undefined, 20, undefined]);
    const r = await results(lab, [hidden(stat('metric1', 'metric1', 'Maximum')), hidden(stat('metric2', 'metric2', 'Maximum')), expr('e', expression)]);
    expect(valuesAt(r.e, 4)).toEqual(want);
  });

  it.each([
    { expression: 'IF(metric1, metric2, metric3)', want: [30, 0, 20, undefined, undefined] },
    { expression: 'IF(metric1, 5, metric3)', want: [5, 5, 20, undefined, undefined] },
    { expression: 'IF(metric1, metric2, 5)', want: [30, 0, 5, 5, undefined] },
    { expression: 'IF(metric1, metric2)', want: [30, 0, undefined, undefined, undefined] },
    { expression: 'FILL(metric2, 7)', want: [30, 7, 0, 0, 30] },
    { expression: 'FILL(metric2, REPEAT)', want: [30, 30, 0, 0, 30] },
  ])('IF and FILL: $expression', async ({ expression, want }) => {
    const lab = rig();
    await series(lab, 'metric1', [1, 1, 0, 0, undefined]);
    await series(lab, 'metric2', [30, undefined, 0, 0, 30]);
    await series(lab, 'metric3', [0, 0, 20, undefined, 20]);
    const r = await results(
      lab,
      [hidden(stat('metric1', 'metric1', 'Maximum')), hidden(stat('metric2', 'metric2', 'Maximum')), hidden(stat('metric3', 'metric3', 'Maximum')), expr('e', expression)],
      T0,
      T0 + 5 * 60_000,
    );
    expect(valuesAt(r.e, 5)).toEqual(want);
  });

  it('computes the guarded error rates the constructs use, with no datapoint where there is no traffic', async () => {
    const lab = rig();
    await series(lab, 'Invocations', [100, 10, undefined, 50, undefined]);
    await series(lab, 'Errors', [20, 10, undefined, undefined, 30]);
    await series(lab, 'Successes', [80, 0, undefined, 50, 5]);
    const r = await results(
      lab,
      [
        hidden(stat('t', 'Invocations', 'Sum')),
        hidden(stat('e', 'Errors', 'Sum')),
        hidden(stat('s', 'Successes', 'Sum')),
        expr('rate', 'IF(t >= 20, e / t, 0)'),
        expr('rate2', 'IF((s + e) >= 20, e / (s + e), 0)'),
      ],
      T0,
      T0 + 5 * 60_000,
    );
    expect(valuesAt(r.rate, 5)).toEqual([0.2, 0, undefined, 0, undefined]);
    expect(valuesAt(r.rate2, 5)).toEqual([0.2, 0, undefined, 0, 30 / 35]);
  });

  it('answers SEARCH with an empty result', async () => {
    const lab = rig();
    const r = await results(lab, [expr('s', "SEARCH('{AWS/Lambda,FunctionName} Errors', 'Sum', 60)")]);
    expect(r.s).toMatchObject({ Timestamps: [], Values: [], StatusCode: 'Complete' });
  });

  it.each([
    { name: 'an unknown id', queries: [expr('e', 'm9 * 2')], message: /refers to m9/ },
    { name: 'a syntax error', queries: [expr('e', '(1 + ')], message: /Expression is invalid/ },
    { name: 'a cycle', queries: [expr('a', 'b + 1'), expr('b', 'a + 1')], message: /cycle/ },
    { name: 'a scalar result', queries: [expr('e', '1 + 2')], message: /time series/ },
    { name: 'an unsupported function', queries: [hidden(stat('m1', 'X', 'Sum')), expr('e', 'ANOMALY_DETECTION_BAND(m1)')], message: /unsupported function/ },
    { name: 'duplicate ids', queries: [stat('m1', 'X', 'Sum'), stat('m1', 'Y', 'Sum')], message: /not unique/ },
    { name: 'an unknown statistic', queries: [stat('m1', 'X', 'Median')], message: /Stat is invalid/ },
  ])('rejects $name with InvalidParameterValue', async ({ queries, message }) => {
    const lab = rig();
    await expect(results(lab, queries)).rejects.toMatchObject({ code: 'InvalidParameterValue', message: expect.stringMatching(message) });
  });
});

describe('ListMetrics', () => {
  it('filters by namespace, name and dimensions', async () => {
    const lab = rig();
    await lab.call('PutMetricData', {
      Namespace: NS,
      MetricData: [
        { MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'f' }, { Name: 'ExecutedVersion', Value: '2' }], Value: 1 },
        { MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'g' }], Value: 1 },
        { MetricName: 'Invocations', Value: 1 },
      ],
    });
    const list = async (input: Record<string, unknown>) => ((await lab.call('ListMetrics', input)).Metrics as unknown[]).length;
    expect(await list({ Namespace: NS })).toBe(3);
    expect(await list({ MetricName: 'Errors' })).toBe(2);
    expect(await list({ Dimensions: [{ Name: 'FunctionName' }] })).toBe(2);
    expect(await list({ Dimensions: [{ Name: 'FunctionName', Value: 'f' }] })).toBe(1);
    expect(await list({ Namespace: 'Other' })).toBe(0);
  });
});
