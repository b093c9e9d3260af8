/**
 * `faults.alarms.unpublished`: an alarm of the app made to watch a metric nothing publishes, as a
 * typo in its metric name leaves it. It keeps its threshold and its TreatMissingData, so it
 * behaves as the broken alarm would in an account: with missing data treated as not breaching (or
 * missing), it never goes to ALARM, whatever the release does.
 */
import { basename } from 'node:path';
import { InputError } from 'canary-watchdog/lib/core/validate';

type Operations = Readonly<Record<string, (input: Record<string, unknown>) => unknown>>;

/** PutMetricAlarm's fields that DescribeAlarms gives back for a metric alarm. */
const PUT_FIELDS = [
  'AlarmName', 'AlarmDescription', 'ActionsEnabled', 'OKActions', 'AlarmActions', 'InsufficientDataActions', 'MetricName', 'Namespace', 'Statistic',
  'ExtendedStatistic', 'Dimensions', 'Period', 'Unit', 'EvaluationPeriods', 'DatapointsToAlarm', 'Threshold', 'ComparisonOperator', 'TreatMissingData',
  'EvaluateLowSampleCountPercentile', 'Metrics',
];

/** The metric name a typo makes of `name`. */
const typo = (name: string) => `${name}Typo`;

/** Rewrite the metric alarm `name` (through CloudWatch's own API) so that every metric it reads has a name nothing publishes. */
export async function unpublishAlarmMetric(cloudwatch: Operations, name: string, source: string): Promise<void> {
  const path = `${basename(source)}.faults.alarms.unpublished`;
  const found = (await cloudwatch.DescribeAlarms({ AlarmNames: [name] })) as { MetricAlarms?: Record<string, unknown>[] };
  const alarm = found.MetricAlarms?.[0];
  if (!alarm) {
    const all = (await cloudwatch.DescribeAlarms({})) as { MetricAlarms?: { AlarmName: string }[] };
    throw new InputError(`${path}: no metric alarm ${name}; the app's metric alarms: ${(all.MetricAlarms ?? []).map((a) => a.AlarmName).join(', ') || 'none'}`, path);
  }
  const put: Record<string, unknown> = Object.fromEntries(PUT_FIELDS.filter((k) => alarm[k] !== undefined && alarm[k] !== null).map((k) => [k, alarm[k]]));
  if (typeof put.MetricName === 'string') put.MetricName = typo(put.MetricName);
  if (Array.isArray(put.Metrics)) {
    put.Metrics = (put.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).map((q) => (q.MetricStat ? { ...q, MetricStat: { ...q.MetricStat, Metric: { ...q.MetricStat.Metric, MetricName: typo(q.MetricStat.Metric.MetricName) } } } : q));
  }
  await cloudwatch.PutMetricAlarm(put);
}
