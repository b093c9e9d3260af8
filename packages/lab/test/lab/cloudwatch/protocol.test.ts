/**
 * The lab's CloudWatch over loopback, spoken to by the real @aws-sdk/client-cloudwatch (awsJson1_0).
 */
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  DescribeAlarmsForMetricCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  ListTagsForResourceCommand,
  paginateGetMetricData,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type PutMetricAlarmCommandInput,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { LabServer } from '../../../src/lab/server';
import { rig, T0, type Rig } from './helpers';

const NS = 'Lab/Test';
const MIN = 60_000;

let lab: Rig;
let server: LabServer;
let url: string;
let client: CloudWatchClient;

beforeEach(async () => {
  lab = rig();
  server = new LabServer([lab.cw.service], []);
  url = await server.listen(0, '127.0.0.1');
  client = new CloudWatchClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterEach(async () => {
  client.destroy();
  lab.cw.dispose();
  await server.close();
});

const alarmInput = (name: string, extra: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput => ({
  AlarmName: name,
  Namespace: NS,
  MetricName: 'Errors',
  Dimensions: [{ Name: 'FunctionName', Value: 'f' }],
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 3,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'notBreaching',
  ...extra,
});

async function allAlarmNames(): Promise<string[]> {
  const out = await client.send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
  return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => a.AlarmName!);
}

describe('metrics over the SDK', () => {
  it('stores PutMetricData and answers GetMetricData with Date timestamps', async () => {
    await client.send(
      new PutMetricDataCommand({
        Namespace: NS,
        MetricData: [
          { MetricName: 'Errors', Timestamp: new Date(T0 + 5_000), Value: 2, Unit: 'Count' },
          { MetricName: 'Errors', Timestamp: new Date(T0 + 65_000), Values: [1, 3], Counts: [2, 1], Unit: 'Count' },
          { MetricName: 'Latency', Timestamp: new Date(T0 + 5_000), Values: [10, 1000], Counts: [99, 1] },
        ],
      }),
    );
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 3 * MIN),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          { Id: 'errors', MetricStat: { Metric: { Namespace: NS, MetricName: 'Errors' }, Period: 60, Stat: 'Sum' } },
          { Id: 'p99', MetricStat: { Metric: { Namespace: NS, MetricName: 'Latency' }, Period: 60, Stat: 'p99.5' }, Label: 'latency p99.5' },
          { Id: 'double', Expression: 'errors * 2' },
        ],
      }),
    );
    const byId = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(byId.errors).toMatchObject({ Label: 'Errors', StatusCode: 'Complete', Values: [2, 5], Timestamps: [new Date(T0), new Date(T0 + MIN)] });
    expect(byId.p99).toMatchObject({ Label: 'latency p99.5', Values: [1000] });
    expect(byId.double.Values).toEqual([4, 10]);
    const listed = await client.send(new ListMetricsCommand({ Namespace: NS }));
    expect(listed.Metrics?.map((m) => m.MetricName).sort()).toEqual(['Errors', 'Latency']);
  });

  /** `n` one-minute datapoints of `name` ending at T0, valued 1..n oldest first. */
  async function putMinutes(name: string, n: number) {
    const MetricData = Array.from({ length: n }, (_, i) => ({ MetricName: name, Timestamp: new Date(T0 - (n - i) * MIN), Value: i + 1 }));
    await client.send(new PutMetricDataCommand({ Namespace: NS, MetricData }));
  }

  const twoQueries = {
    StartTime: new Date(T0 - 3 * 3_600_000),
    EndTime: new Date(T0),
    MetricDataQueries: [
      { Id: 'a', MetricStat: { Metric: { Namespace: NS, MetricName: 'A' }, Period: 60, Stat: 'Sum' } },
      { Id: 'b', MetricStat: { Metric: { Namespace: NS, MetricName: 'B' }, Period: 60, Stat: 'Sum' } },
    ],
  };

  it('cuts GetMetricData at MaxDatapoints with PartialData and a NextToken, and the paginator gets every point', async () => {
    await putMinutes('A', 30);
    await putMinutes('B', 20);
    const first = await client.send(new GetMetricDataCommand({ ...twoQueries, MaxDatapoints: 25, ScanBy: 'TimestampAscending' }));
    expect(first.NextToken).toEqual(expect.any(String));
    expect(first.MetricDataResults?.map((r) => [r.Id, r.StatusCode, r.Values?.length])).toEqual([
      ['a', 'PartialData', 25],
      ['b', 'PartialData', 0],
    ]);
    expect(first.MetricDataResults?.[0].Values?.slice(0, 3)).toEqual([1, 2, 3]);
    const points: Record<string, number[]> = { a: [], b: [] };
    let pages = 0;
    for await (const page of paginateGetMetricData({ client }, { ...twoQueries, MaxDatapoints: 25 })) {
      pages++;
      for (const r of page.MetricDataResults ?? []) points[r.Id!].push(...(r.Values ?? []));
    }
    expect(pages).toBe(2);
    // Newest first without ScanBy.
    expect(points.a).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect(points.b).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    const whole = await client.send(new GetMetricDataCommand(twoQueries));
    expect(whole.NextToken).toBeUndefined();
    expect(whole.MetricDataResults?.map((r) => r.StatusCode)).toEqual(['Complete', 'Complete']);
  });

  it('answers GetMetricStatistics with simple and extended statistics per period', async () => {
    await client.send(
      new PutMetricDataCommand({
        Namespace: NS,
        MetricData: [
          { MetricName: 'Latency', Timestamp: new Date(T0 - 2 * MIN + 1000), Values: [10, 20, 400], Counts: [50, 49, 1], Unit: 'Milliseconds' },
          { MetricName: 'Latency', Timestamp: new Date(T0 - MIN + 1000), Value: 7, Unit: 'Milliseconds' },
        ],
      }),
    );
    const out = await client.send(
      new GetMetricStatisticsCommand({
        Namespace: NS,
        MetricName: 'Latency',
        StartTime: new Date(T0 - 10 * MIN),
        EndTime: new Date(T0),
        Period: 60,
        Statistics: ['Maximum', 'SampleCount'],
        ExtendedStatistics: ['p99'],
      }),
    );
    expect(out.Label).toBe('Latency');
    const byTime = [...(out.Datapoints ?? [])].sort((x, y) => x.Timestamp!.getTime() - y.Timestamp!.getTime());
    expect(byTime).toEqual([
      { Timestamp: new Date(T0 - 2 * MIN), Maximum: 400, SampleCount: 100, ExtendedStatistics: { p99: 20 }, Unit: 'Milliseconds' },
      { Timestamp: new Date(T0 - MIN), Maximum: 7, SampleCount: 1, ExtendedStatistics: { p99: 7 }, Unit: 'Milliseconds' },
    ]);
  });

  it('refuses GetMetricStatistics over 1,440 datapoints and without a statistic', async () => {
    const base = { Namespace: NS, MetricName: 'Latency', StartTime: new Date(T0 - 2 * 86_400_000), EndTime: new Date(T0), Period: 60 };
    await expect(client.send(new GetMetricStatisticsCommand({ ...base, Statistics: ['Sum'] }))).rejects.toMatchObject({
      name: 'InvalidParameterCombinationException',
      message: expect.stringContaining('2880 datapoints, which exceeds the limit of 1,440'),
    });
    await expect(client.send(new GetMetricStatisticsCommand({ ...base, Period: 3600 }))).rejects.toMatchObject({ name: 'MissingRequiredParameterException' });
  });
});

describe('alarms over the SDK', () => {
  it('creates an alarm in INSUFFICIENT_DATA and describes its configuration', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('errors', { AlarmDescription: 'd', AlarmActions: ['arn:aws:sns:us-east-1:123456789012:t'] })));
    const out = await client.send(new DescribeAlarmsCommand({ AlarmNames: ['errors'] }));
    expect(out.MetricAlarms).toHaveLength(1);
    expect(out.MetricAlarms![0]).toMatchObject({
      AlarmName: 'errors',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors',
      AlarmDescription: 'd',
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:t'],
      ActionsEnabled: true,
      StateValue: 'INSUFFICIENT_DATA',
      StateUpdatedTimestamp: new Date(T0),
      Namespace: NS,
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'f' }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('reports the state the lab clock evaluates, and the history behind it', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('errors')));
    await client.send(new PutMetricDataCommand({ Namespace: NS, MetricData: [{ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'f' }], Timestamp: new Date(T0 + 1000), Value: 9 }] }));
    await lab.until(T0 + MIN);
    const [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['errors'], StateValue: 'ALARM' }))).MetricAlarms ?? [];
    expect(a).toMatchObject({ StateValue: 'ALARM', StateUpdatedTimestamp: new Date(T0 + MIN), StateReason: expect.stringContaining('was greater than the threshold (3)') });
    const history = await client.send(new DescribeAlarmHistoryCommand({ AlarmName: 'errors', HistoryItemType: 'StateUpdate' }));
    expect(history.AlarmHistoryItems).toMatchObject([{ AlarmName: 'errors', HistorySummary: 'Alarm updated from INSUFFICIENT_DATA to ALARM', Timestamp: new Date(T0 + MIN) }]);
  });

  it('takes the Metrics[] form with an expression', async () => {
    await client.send(
      new PutMetricAlarmCommand({
        AlarmName: 'rate',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 0.05,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Metrics: [
          { Id: 't', MetricStat: { Metric: { Namespace: NS, MetricName: 'Invocations' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'e', MetricStat: { Metric: { Namespace: NS, MetricName: 'Errors' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'r', Expression: 'IF(t >= 20, e / t, 0)', Label: 'error rate', ReturnData: true },
        ],
      }),
    );
    const [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['rate'] }))).MetricAlarms ?? [];
    expect(a.Metrics).toMatchObject([{ Id: 't', MetricStat: { Period: 60, Stat: 'Sum' }, ReturnData: false }, { Id: 'e' }, { Id: 'r', Expression: 'IF(t >= 20, e / t, 0)', ReturnData: true }]);
    expect([a.DatapointsToAlarm, a.TreatMissingData, a.MetricName]).toEqual([2, 'missing', undefined]);
  });

  it('pages 250 alarms 100 at a time, in name order', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
    for (const n of [...names].reverse()) await client.send(new PutMetricAlarmCommand(alarmInput(n)));
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const out = await client.send(new DescribeAlarmsCommand({ MaxRecords: 100, NextToken: token }));
      pages.push((out.MetricAlarms ?? []).map((a) => a.AlarmName!));
      token = out.NextToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(pages.flat()).toEqual(names);
    const some = await client.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(0, 100) }));
    expect(some.MetricAlarms).toHaveLength(50);
    expect(some.NextToken).toBeDefined();
    const prefixed = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'alarm-24', MaxRecords: 100 }));
    expect(prefixed.MetricAlarms?.map((a) => a.AlarmName)).toEqual(names.slice(240));
  }, 30_000);

  it('sets a state with SetAlarmState and deletes alarms with DeleteAlarms', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('a')));
    await client.send(new PutMetricAlarmCommand(alarmInput('b')));
    await client.send(new SetAlarmStateCommand({ AlarmName: 'a', StateValue: 'ALARM', StateReason: 'drill', StateReasonData: '{"by":"test"}' }));
    const [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['a'] }))).MetricAlarms ?? [];
    expect(a).toMatchObject({ StateValue: 'ALARM', StateReason: 'drill', StateReasonData: '{"by":"test"}' });
    expect(lab.alarmEvents()).toHaveLength(1);
    await client.send(new DeleteAlarmsCommand({ AlarmNames: ['a'] }));
    expect(await allAlarmNames()).toEqual(['b']);
  });

  it('describes composite alarms only when asked for them', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('child')));
    await client.send(new PutCompositeAlarmCommand({ AlarmName: 'parent', AlarmRule: 'ALARM("child")' }));
    const plain = await client.send(new DescribeAlarmsCommand({}));
    expect([plain.MetricAlarms?.length, plain.CompositeAlarms?.length]).toEqual([1, 0]);
    const composite = await client.send(new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }));
    expect(composite.CompositeAlarms).toMatchObject([{ AlarmName: 'parent', AlarmRule: 'ALARM("child")', StateValue: 'OK' }]);
    await client.send(new SetAlarmStateCommand({ AlarmName: 'child', StateValue: 'ALARM', StateReason: 'drill' }));
    const parents = await client.send(new DescribeAlarmsCommand({ ParentsOfAlarmName: 'child' }));
    expect(parents.CompositeAlarms).toMatchObject([{ AlarmName: 'parent', StateValue: 'ALARM' }]);
  });
});

describe('DescribeAlarmsForMetric over the SDK', () => {
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmsForMetric.html
  const alarm = (AlarmName: string, extra: Partial<PutMetricAlarmCommandInput> = {}) =>
    client.send(new PutMetricAlarmCommand({
      AlarmName, Namespace: NS, MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'f' }], Statistic: 'Sum', Period: 60,
      EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', ...extra,
    }));

  it('answers the metric alarms on one metric, narrowed by statistic, dimensions and period', async () => {
    await alarm('a-sum');
    await alarm('b-max', { Statistic: 'Maximum' });
    await alarm('c-other-fn', { Dimensions: [{ Name: 'FunctionName', Value: 'g' }] });
    await alarm('d-other-metric', { MetricName: 'Throttles' });
    const names = async (input: Record<string, unknown>) => ((await client.send(new DescribeAlarmsForMetricCommand({ Namespace: NS, MetricName: 'Errors', ...input }))).MetricAlarms ?? []).map((a) => a.AlarmName);
    expect(await names({})).toEqual(['a-sum', 'b-max', 'c-other-fn']);
    expect(await names({ Statistic: 'Sum' })).toEqual(['a-sum', 'c-other-fn']);
    expect(await names({ Dimensions: [{ Name: 'FunctionName', Value: 'f' }] })).toEqual(['a-sum', 'b-max']);
    expect(await names({ Dimensions: [{ Name: 'FunctionName', Value: 'f' }], Period: 300 })).toEqual([]);
    const [a] = (await client.send(new DescribeAlarmsForMetricCommand({ Namespace: NS, MetricName: 'Errors', Statistic: 'Sum', Dimensions: [{ Name: 'FunctionName', Value: 'f' }] }))).MetricAlarms!;
    expect(a).toMatchObject({ AlarmName: 'a-sum', StateValue: 'INSUFFICIENT_DATA', Threshold: 1, Period: 60 });
  });

  it('requires the metric: MetricName and Namespace', async () => {
    await expect(client.send(new DescribeAlarmsForMetricCommand({ Namespace: NS } as never))).rejects.toMatchObject({ name: 'MissingRequiredParameterException', message: expect.stringContaining('MetricName') });
  });
});

describe('a Metrics Insights query', () => {
  it('is refused by name as not supported, not as a parse error', async () => {
    const q = [{ Id: 'q', Expression: 'SELECT SUM(Errors) FROM SCHEMA("Lab/Test", FunctionName)', Period: 60 }];
    await expect(client.send(new GetMetricDataCommand({ MetricDataQueries: q, StartTime: new Date(T0 - 10 * MIN), EndTime: new Date(T0) }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Metrics Insights is not supported by the lab'),
    });
  });

  it('leaves metric math as it was (the guard: only SELECT is Metrics Insights)', async () => {
    const q = [{ Id: 'e', Expression: 'SELECTED + 1', Period: 60 }];
    await expect(client.send(new GetMetricDataCommand({ MetricDataQueries: q, StartTime: new Date(T0 - 10 * MIN), EndTime: new Date(T0) }))).rejects.toMatchObject({ message: expect.not.stringContaining('Metrics Insights') });
  });
});

describe('alarm actions and tags over the SDK', () => {
  const arn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors';
  const enabled = async () => (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['errors'] }))).MetricAlarms?.[0].ActionsEnabled;

  it('turns alarm actions off and on, and DescribeAlarms shows it', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('errors')));
    await client.send(new DisableAlarmActionsCommand({ AlarmNames: ['errors', 'no-such-alarm'] }));
    expect(await enabled()).toBe(false);
    await client.send(new EnableAlarmActionsCommand({ AlarmNames: ['errors'] }));
    expect(await enabled()).toBe(true);
  });

  it('keeps the tags given at creation, adds, overwrites and removes them', async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('errors', { Tags: [{ Key: 'team', Value: 'pay' }] })));
    // Tags on an update are ignored. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    await client.send(new PutMetricAlarmCommand(alarmInput('errors', { Tags: [{ Key: 'team', Value: 'ignored' }] })));
    await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'env', Value: 'lab' }] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([
      { Key: 'team', Value: 'pay' },
      { Key: 'env', Value: 'lab' },
    ]);
    await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'team', Value: 'core' }] }));
    await client.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['env'] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'team', Value: 'core' }]);
  });

  it('refuses tags on an alarm that does not exist, and reserved keys', async () => {
    await expect(client.send(new ListTagsForResourceCommand({ ResourceARN: `${arn}-gone` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    await client.send(new PutMetricAlarmCommand(alarmInput('errors')));
    await expect(client.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'aws:x', Value: 'v' }] }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Tags.member.1.Key'),
    });
  });
});

describe('malformed requests get AWS-shaped errors and change nothing', () => {
  beforeEach(async () => {
    await client.send(new PutMetricAlarmCommand(alarmInput('keep', { Threshold: 3 })));
  });

  async function assertIntact() {
    const [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['keep'] }))).MetricAlarms ?? [];
    expect(a).toMatchObject({ Threshold: 3, StateValue: 'INSUFFICIENT_DATA' });
    expect(await allAlarmNames()).toEqual(['keep']);
    expect((await client.send(new ListMetricsCommand({}))).Metrics).toEqual([]);
  }

  /** The exception class @aws-sdk/client-cloudwatch models for each CloudWatch error code. */
  const SDK_EXCEPTION: Record<string, string> = {
    InvalidParameterValue: 'InvalidParameterValueException',
    InvalidParameterCombination: 'InvalidParameterCombinationException',
    MissingParameter: 'MissingRequiredParameterException',
    InvalidFormat: 'InvalidFormatFault',
    ResourceNotFound: 'ResourceNotFound',
    InvalidNextToken: 'InvalidNextToken',
  };
  const data = (d: unknown): PutMetricDataCommandInput => ({ Namespace: NS, MetricData: d as PutMetricDataCommandInput['MetricData'] });
  const cases: { name: string; command: () => object; code: string; status?: number; message?: RegExp }[] = [
    { name: 'PutMetricData with Value and Values', command: () => new PutMetricDataCommand(data([{ MetricName: 'm', Value: 1, Values: [1] }])), code: 'InvalidParameterCombination' },
    { name: 'PutMetricData without Namespace', command: () => new PutMetricDataCommand({ MetricData: [{ MetricName: 'm', Value: 1 }] } as unknown as PutMetricDataCommandInput), code: 'MissingParameter', message: /Namespace/ },
    { name: 'PutMetricData into AWS/', command: () => new PutMetricDataCommand({ Namespace: 'AWS/Lambda', MetricData: [{ MetricName: 'm', Value: 1 }] }), code: 'InvalidParameterValue' },
    { name: 'PutMetricData with a NaN after a good datum', command: () => new PutMetricDataCommand(data([{ MetricName: 'm', Value: 1 }, { MetricName: 'm', Value: NaN }])), code: 'InvalidParameterValue', message: /MetricData\.member\.2\.Value/ },
    { name: 'PutMetricData with fewer Counts than Values', command: () => new PutMetricDataCommand(data([{ MetricName: 'm', Values: [1, 2], Counts: [1] }])), code: 'InvalidParameterValue' },
    { name: 'PutMetricData with StorageResolution 5', command: () => new PutMetricDataCommand(data([{ MetricName: 'm', Value: 1, StorageResolution: 5 }])), code: 'InvalidParameterValue', message: /1 and 60/ },
    { name: 'PutMetricData a month old', command: () => new PutMetricDataCommand(data([{ MetricName: 'm', Value: 1, Timestamp: new Date(T0 - 30 * 86_400_000) }])), code: 'InvalidParameterValue' },
    {
      name: 'PutMetricAlarm with an unknown ComparisonOperator',
      command: () => new PutMetricAlarmCommand(alarmInput('keep', { Threshold: 9, ComparisonOperator: 'Bigger' as PutMetricAlarmCommandInput['ComparisonOperator'] })),
      code: 'InvalidParameterValue',
      message: /GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold/,
    },
    { name: 'PutMetricAlarm with a 45-second period', command: () => new PutMetricAlarmCommand(alarmInput('keep', { Threshold: 9, Period: 45 })), code: 'InvalidParameterValue', message: /10, 20, 30 and any multiple of 60/ },
    { name: 'PutMetricAlarm with Statistic and ExtendedStatistic', command: () => new PutMetricAlarmCommand(alarmInput('new', { ExtendedStatistic: 'p99' })), code: 'InvalidParameterCombination' },
    { name: 'PutMetricAlarm with DatapointsToAlarm > EvaluationPeriods', command: () => new PutMetricAlarmCommand(alarmInput('new', { DatapointsToAlarm: 2 })), code: 'InvalidParameterValue' },
    { name: 'PutMetricAlarm with an unknown TreatMissingData', command: () => new PutMetricAlarmCommand(alarmInput('new', { TreatMissingData: 'zero' })), code: 'InvalidParameterValue', message: /missing, ignore, breaching, notBreaching/ },
    { name: 'PutMetricAlarm without Threshold', command: () => new PutMetricAlarmCommand(alarmInput('new', { Threshold: undefined })), code: 'MissingParameter', message: /Threshold/ },
    { name: 'PutMetricAlarm with Metrics and MetricName', command: () => new PutMetricAlarmCommand(alarmInput('new', { Metrics: [{ Id: 'm', Expression: 'TIME_SERIES(1)' }] })), code: 'InvalidParameterCombination' },
    { name: 'PutCompositeAlarm naming a missing alarm', command: () => new PutCompositeAlarmCommand({ AlarmName: 'c', AlarmRule: 'ALARM("ghost")' }), code: 'InvalidParameterValue' },
    { name: 'DescribeAlarms with 101 names', command: () => new DescribeAlarmsCommand({ AlarmNames: Array.from({ length: 101 }, (_, i) => `n${i}`) }), code: 'InvalidParameterValue' },
    { name: 'DescribeAlarms with AlarmNames and AlarmNamePrefix', command: () => new DescribeAlarmsCommand({ AlarmNames: ['keep'], AlarmNamePrefix: 'k' }), code: 'InvalidParameterCombination' },
    { name: 'DescribeAlarms with a forged NextToken', command: () => new DescribeAlarmsCommand({ NextToken: 'bogus' }), code: 'InvalidNextToken' },
    { name: 'SetAlarmState on a missing alarm', command: () => new SetAlarmStateCommand({ AlarmName: 'ghost', StateValue: 'ALARM', StateReason: 'x' }), code: 'ResourceNotFound', status: 404 },
    { name: 'SetAlarmState with reason data that is not JSON', command: () => new SetAlarmStateCommand({ AlarmName: 'keep', StateValue: 'ALARM', StateReason: 'x', StateReasonData: '{' }), code: 'InvalidFormat' },
    { name: 'DeleteAlarms naming a missing alarm', command: () => new DeleteAlarmsCommand({ AlarmNames: ['keep', 'ghost'] }), code: 'ResourceNotFound', status: 404, message: /ghost/ },
    { name: 'GetMetricData with StartTime after EndTime', command: () => new GetMetricDataCommand({ StartTime: new Date(T0 + MIN), EndTime: new Date(T0), MetricDataQueries: [{ Id: 'x', Expression: 'TIME_SERIES(1)' }] }), code: 'InvalidParameterValue' },
  ];

  it.each(cases)('$name -> $code', async ({ command, code, status, message }) => {
    const err = await client.send(command() as PutMetricDataCommand).then(
      () => undefined,
      (e: unknown) => e as { name: string; Code: string; message: string; $metadata: { httpStatusCode?: number } },
    );
    expect(err).toBeDefined();
    // The SDK reads the query-compatible code from x-amzn-query-error and raises the modeled exception.
    expect(err!.Code).toBe(code);
    expect(err!.name).toBe(SDK_EXCEPTION[code]);
    expect(err!.$metadata.httpStatusCode).toBe(status ?? 400);
    if (message) expect(err!.message).toMatch(message);
    await assertIntact();
  });

  async function raw(op: string, body: string) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `GraniteServiceVersion20100801.${op}` }, body });
    return { status: res.status, body: (await res.json()) as { __type: string; message: string } };
  }

  it.each([
    { op: 'PutMetricData', body: '{"Namespace":5,"MetricData":[{"MetricName":"m","Value":1}]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricData', body: '{"Namespace":"n","MetricData":"lots"}', code: 'InvalidParameterValue' },
    { op: 'PutMetricData', body: '{"Namespace":"n","MetricData":[null]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricData', body: '{"Namespace":"n","MetricData":[{"MetricName":"m","Value":"1"}]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricData', body: '{"Namespace":"n","MetricData":[{"MetricName":"m","Value":1,"Dimensions":[{"Name":"a"}]}]}', code: 'MissingParameter' },
    { op: 'PutMetricData', body: '{"Namespace":"n","MetricData":[{"MetricName":"m","Value":1,"Timestamp":"yesterday"}]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricAlarm', body: '{"AlarmName":"keep","EvaluationPeriods":"1","Threshold":9}', code: 'InvalidParameterValue' },
    { op: 'PutMetricAlarm', body: '{"AlarmName":["keep"]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricAlarm', body: '{}', code: 'MissingParameter' },
    { op: 'PutCompositeAlarm', body: '{"AlarmName":"c","AlarmRule":{"ALARM":"keep"}}', code: 'InvalidParameterValue' },
    { op: 'GetMetricData', body: '{"MetricDataQueries":[{"Id":"Bad","Expression":"1"}],"StartTime":0,"EndTime":60}', code: 'InvalidParameterValue' },
    { op: 'GetMetricData', body: '{"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":null,"Period":60,"Stat":"Sum"}}],"StartTime":0,"EndTime":60}', code: 'InvalidParameterValue' },
    { op: 'DescribeAlarms', body: '{"MaxRecords":1000}', code: 'InvalidParameterValue' },
    { op: 'DescribeAlarms', body: '{"AlarmTypes":"MetricAlarm"}', code: 'InvalidParameterValue' },
    { op: 'SetAlarmState', body: '{"AlarmName":"keep","StateValue":"BROKEN","StateReason":"x"}', code: 'InvalidParameterValue' },
    { op: 'DeleteAlarms', body: '{"AlarmNames":[null]}', code: 'MissingParameter' },
    { op: 'DeleteAlarms', body: '{"AlarmNames":[7]}', code: 'InvalidParameterValue' },
    { op: 'PutMetricData', body: 'not json', code: 'SerializationException' },
  ])('$op with $body -> $code', async ({ op, body, code }) => {
    const res = await raw(op, body);
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe(code);
    expect(res.body.message).toEqual(expect.any(String));
    await assertIntact();
  });
});
