/**
 * DescribeAlarms checked against its output shape in botocore's service model: no member the shape
 * lacks, every value of the shape's type, and every MetricAlarm / CompositeAlarm field the lab
 * knows present, for the single-metric form, the Metrics (math) form and a composite alarm.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html
 */
import { Lab } from '../../../src/lab/lab';
import { loadModel, missing, shapeProblems } from '../shapes/check';

const model = loadModel('cloudwatch');
let lab: Lab;
beforeAll(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  await call('PutMetricAlarm', {
    AlarmName: 'errors', AlarmDescription: 'v2 errors', ActionsEnabled: true, AlarmActions: ['arn:aws:sns:us-east-1:123456789012:pager'],
    MetricName: 'Errors', Namespace: 'AWS/Lambda', Statistic: 'Sum', Dimensions: [{ Name: 'FunctionName', Value: 'fn' }],
    Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', Unit: 'Count',
  });
  await call('PutMetricAlarm', {
    AlarmName: 'p99', ExtendedStatistic: 'p99', MetricName: 'Duration', Namespace: 'AWS/Lambda', Period: 60, EvaluationPeriods: 1, Threshold: 500,
    ComparisonOperator: 'GreaterThanThreshold', EvaluateLowSampleCountPercentile: 'ignore',
  });
  await call('PutMetricAlarm', {
    AlarmName: 'rate', EvaluationPeriods: 1, Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold',
    Metrics: [
      { Id: 'e', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'fn' }] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'i', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: 'fn' }] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'r', Expression: 'e / i', Label: 'error rate', ReturnData: true },
    ],
  });
  await call('PutCompositeAlarm', { AlarmName: 'any', AlarmRule: 'ALARM("errors") OR ALARM("rate")', AlarmDescription: 'either' });
  await call('SetAlarmState', { AlarmName: 'errors', StateValue: 'ALARM', StateReason: 'by hand', StateReasonData: '{"by":"test"}' });
});
afterAll(() => lab.stop());

async function call(op: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(lab.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `GraniteServiceVersion20100801.${op}` }, body: JSON.stringify(body) });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${op}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** What every metric alarm describes, whatever form it takes. */
const EVERY = ['AlarmName', 'AlarmArn', 'AlarmConfigurationUpdatedTimestamp', 'ActionsEnabled', 'OKActions', 'AlarmActions', 'InsufficientDataActions', 'StateValue', 'StateReason', 'StateUpdatedTimestamp', 'StateTransitionedTimestamp', 'EvaluationPeriods', 'Threshold', 'ComparisonOperator', 'TreatMissingData'];
const SINGLE = ['MetricName', 'Namespace', 'Dimensions', 'Period'];

it('every member of DescribeAlarms is in its output shape', async () => {
  const out = await call('DescribeAlarms', { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
  expect(shapeProblems(model, 'DescribeAlarms', out)).toEqual([]);
  expect((out.MetricAlarms as unknown[]).length).toBe(3);
  expect((out.CompositeAlarms as unknown[]).length).toBe(1);
});

it.each([
  ['errors', [...EVERY, ...SINGLE, 'AlarmDescription', 'Statistic', 'Unit', 'DatapointsToAlarm', 'StateReasonData']],
  ['p99', [...EVERY, ...SINGLE, 'ExtendedStatistic', 'EvaluateLowSampleCountPercentile']],
  ['rate', [...EVERY, 'Metrics[].Id', 'Metrics[].ReturnData']],
])('metric alarm %s describes every field it has', async (name, knowable) => {
  const [a] = (await call('DescribeAlarms', { AlarmNames: [name] })).MetricAlarms as Record<string, unknown>[];
  expect(missing(a, knowable)).toEqual([]);
});

it('leaves out what an alarm does not set, as AWS does: no Statistic beside ExtendedStatistic, no single-metric fields beside Metrics', async () => {
  const alarms = (await call('DescribeAlarms', { AlarmNames: ['p99', 'rate'] })).MetricAlarms as Record<string, unknown>[];
  const p99 = alarms.find((a) => a.AlarmName === 'p99')!;
  const rate = alarms.find((a) => a.AlarmName === 'rate')!;
  expect(['Statistic', 'Unit', 'DatapointsToAlarm', 'AlarmDescription', 'StateReasonData'].filter((k) => k in p99)).toEqual([]);
  expect(['MetricName', 'Namespace', 'Period', 'Statistic', 'ExtendedStatistic'].filter((k) => k in rate)).toEqual([]);
});

it('describes a composite alarm with every field of its shape the lab knows', async () => {
  const [c] = (await call('DescribeAlarms', { AlarmTypes: ['CompositeAlarm'] })).CompositeAlarms as Record<string, unknown>[];
  expect(missing(c, ['AlarmName', 'AlarmArn', 'AlarmDescription', 'AlarmRule', 'ActionsEnabled', 'AlarmActions', 'OKActions', 'InsufficientDataActions', 'AlarmConfigurationUpdatedTimestamp', 'StateValue', 'StateReason', 'StateUpdatedTimestamp', 'StateTransitionedTimestamp'])).toEqual([]);
});
