/**
 * The percentile-rank statistic PR(n:m): the percentage of data points above n and at or below m,
 * from the stored values (the watchdog's exceedance test reads PR(:x) of Lambda's Duration).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
 */
import { percentileRank } from '../../../src/lab/cloudwatch';
import { rig, sec, T0 } from './helpers';

const NS = 'Lab/Test';
const stat = (id: string, s: string) => ({ Id: id, MetricStat: { Metric: { Namespace: NS, MetricName: 'Latency' }, Period: 60, Stat: s } });

async function results(lab: ReturnType<typeof rig>, queries: Record<string, unknown>[]) {
  const out = await lab.call('GetMetricData', { MetricDataQueries: queries, StartTime: sec(T0), EndTime: sec(T0 + 600_000), ScanBy: 'TimestampAscending' });
  return Object.fromEntries((out.MetricDataResults as { Id: string; Values: number[] }[]).map((r) => [r.Id, r.Values]));
}

describe('percentileRank', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => ({ value: i + 1, count: 1 }));
  it.each([
    { name: 'PR(:x) counts the values at or below x', values: hundred, lo: undefined, hi: 30, want: 30 },
    { name: 'the lower bound is exclusive, the upper inclusive', values: hundred, lo: 10, hi: 20, want: 10 },
    { name: 'PR(x:) counts the values above x', values: hundred, lo: 95, hi: undefined, want: 5 },
    { name: 'counts weigh', values: [{ value: 10, count: 99 }, { value: 1000, count: 1 }], lo: undefined, hi: 500, want: 99 },
    { name: 'a bound below every value gives 0', values: hundred, lo: undefined, hi: 0.5, want: 0 },
    { name: 'no samples gives no value', values: [], lo: undefined, hi: 10, want: undefined },
  ])('$name', ({ values, lo, hi, want }) => {
    expect(percentileRank(values, lo, hi)).toBe(want);
  });
});

describe('GetMetricData PR(n:m)', () => {
  it('answers the share of each period\'s raw values in the range, in percent; a statistic set has none', async () => {
    const lab = rig();
    await lab.call('PutMetricData', {
      Namespace: NS,
      MetricData: [
        { MetricName: 'Latency', Timestamp: sec(T0 + 5_000), Values: [100, 300, 900], Counts: [6, 3, 1], Unit: 'Milliseconds' },
        { MetricName: 'Latency', Timestamp: sec(T0 + 61_000), StatisticValues: { SampleCount: 4, Sum: 20, Minimum: 2, Maximum: 8 } },
      ],
    });
    const r = await results(lab, [stat('a', 'PR(:300)'), stat('b', 'PR(100:900)'), stat('c', 'PR(300:)'), stat('n', 'SampleCount')]);
    expect(r.a).toEqual([90]);
    expect(r.b).toEqual([40]);
    expect(r.c).toEqual([10]);
    expect(r.n).toEqual([10, 4]);
  });

  it('takes decimal bounds and any case of PR', async () => {
    const lab = rig();
    await lab.call('PutMetricData', { Namespace: NS, MetricData: [{ MetricName: 'Latency', Timestamp: sec(T0 + 5_000), Values: [450, 450.5], Counts: [1, 1] }] });
    const r = await results(lab, [stat('a', 'PR(:450.25)'), stat('b', 'pr(:451)')]);
    expect(r.a).toEqual([50]);
    expect(r.b).toEqual([100]);
  });

  it.each(['PR()', 'PR(:)', 'PR(300)', 'PR(a:b)', 'PR(10%:20%)', 'PR(500:100)', 'PR(:1.12345678901)', 'PR :300'])(
    'rejects %s with InvalidParameterValue',
    async (s) => {
      const lab = rig();
      await expect(results(lab, [stat('a', s)])).rejects.toMatchObject({ code: 'InvalidParameterValue', message: expect.stringMatching(/MetricStat\.Stat is invalid/) });
    },
  );

  it('is not a percentile: GetMetricStatistics ExtendedStatistics refuses it', async () => {
    const lab = rig();
    await expect(
      lab.call('GetMetricStatistics', { Namespace: NS, MetricName: 'Latency', StartTime: sec(T0), EndTime: sec(T0 + 600_000), Period: 60, ExtendedStatistics: ['PR(:300)'] }),
    ).rejects.toMatchObject({ code: 'InvalidParameterValue' });
  });
});
