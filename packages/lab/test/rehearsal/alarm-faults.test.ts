import { unpublishAlarmMetric } from '../../src/rehearsal/alarm-faults';
import { rig, sec, T0 } from '../lab/cloudwatch/helpers';

const alarm = (name: string, form: 'single' | 'metrics') => ({
  AlarmName: name,
  EvaluationPeriods: 1,
  Threshold: 0,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'notBreaching',
  ...(form === 'single'
    ? { Namespace: 'Shop', MetricName: 'Failures', Dimensions: [{ Name: 'Table', Value: 'orders' }], Statistic: 'Sum', Period: 60 }
    : { Metrics: [{ Id: 'f', ReturnData: true, MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Failures', Dimensions: [{ Name: 'Table', Value: 'orders' }] }, Period: 60, Stat: 'Sum' } }] }),
});

describe('an alarm whose metric nothing publishes (faults.alarms.unpublished)', () => {
  it.each(['single', 'metrics'] as const)('never fires on the failures it was meant to see (%s-metric form); unbroken, the same data fires it', async (form) => {
    const r = rig();
    await r.call('PutMetricAlarm', alarm('broken', form));
    await r.call('PutMetricAlarm', alarm('intact', form));
    await unpublishAlarmMetric(r.cw.service.operations, 'broken', 'x.yaml');
    const described = (await r.call('DescribeAlarms', { AlarmNames: ['broken'] })) as { MetricAlarms: Record<string, unknown>[] };
    // Still an alarm with the user's threshold, watching a metric name that nothing publishes.
    expect(JSON.stringify(described.MetricAlarms[0])).toContain('FailuresTypo');
    expect(described.MetricAlarms[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    for (let m = 0; m < 5; m++) await r.call('PutMetricData', { Namespace: 'Shop', MetricData: [{ MetricName: 'Failures', Dimensions: [{ Name: 'Table', Value: 'orders' }], Value: 7, Timestamp: sec(T0 + m * 60_000 + 1000) }] });
    await r.until(T0 + 6 * 60_000);
    expect(r.state('intact')).toBe('ALARM');
    expect(r.state('broken')).not.toBe('ALARM');
  });

  it('names the app\'s alarms when the named one does not exist', async () => {
    const r = rig();
    await r.call('PutMetricAlarm', alarm('intact', 'single'));
    await expect(unpublishAlarmMetric(r.cw.service.operations, 'typo', 'x.yaml')).rejects.toThrow('x.yaml.faults.alarms.unpublished: no metric alarm typo; the app\'s metric alarms: intact');
  });
});
