/**
 * Metric and composite alarms on the lab's virtual clock: when they are evaluated, what they read,
 * and what they publish.
 */
import { evaluateRule, parseRule } from '../../../src/lab/cloudwatch/evaluate';
import { rig, sec, T0 } from './helpers';

const NS = 'Lab/Test';
const MIN = 60_000;

function alarm(name: string, extra: Record<string, unknown> = {}) {
  return {
    AlarmName: name,
    Namespace: NS,
    MetricName: 'Errors',
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 3,
    ComparisonOperator: 'GreaterThanThreshold',
    ...extra,
  };
}

async function put(lab: ReturnType<typeof rig>, at: number, value: number, extra: Record<string, unknown> = {}) {
  await lab.call('PutMetricData', { Namespace: NS, MetricData: [{ MetricName: 'Errors', Timestamp: sec(at), Value: value, ...extra }] });
}

describe('metric alarm evaluation', () => {
  it('starts in INSUFFICIENT_DATA', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    expect(lab.state('a')).toBe('INSUFFICIENT_DATA');
  });

  it('follows the figure of "Evaluating an alarm": 3 of 3 above 3 units alarms at the 5th period and recovers at the 6th', async () => {
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a', { EvaluationPeriods: 3 }));
    const values = [1, 2, 4, 4, 4, 2, 1, 2, 4, 2];
    const states: (string | undefined)[] = [];
    for (const [i, v] of values.entries()) {
      await put(lab, T0 + i * MIN + 1000, v);
      await lab.until(T0 + (i + 1) * MIN);
      states.push(lab.state('a'));
    }
    expect(states).toEqual(['OK', 'OK', 'OK', 'OK', 'ALARM', 'OK', 'OK', 'OK', 'OK', 'OK']);
  });

  it.each([
    { name: '3 of 5 breaching, not consecutive', values: [4, 0, 4, 0, 4], want: 'ALARM' },
    { name: '2 of 5 breaching', values: [4, 0, 0, 4, 0], want: 'OK' },
    { name: '3 of 5 breaching, together', values: [0, 0, 4, 4, 4], want: 'ALARM' },
  ])('M out of N: $name -> $want', async ({ values, want }) => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a', { EvaluationPeriods: 5, DatapointsToAlarm: 3 }));
    for (const [i, v] of values.entries()) await put(lab, T0 + i * MIN + 1000, v);
    await lab.until(T0 + 5 * MIN);
    expect(lab.state('a')).toBe(want);
  });

  it('does not read the period that is still open', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a', { Period: 300 }));
    await put(lab, T0 + 10_000, 9);
    await lab.until(T0 + 4 * MIN);
    expect(lab.state('a')).toBe('INSUFFICIENT_DATA');
    await lab.until(T0 + 5 * MIN);
    expect(lab.state('a')).toBe('ALARM');
  });

  it('evaluates 10-second alarms every 10 s and standard alarms every minute', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('fast', { Period: 10 }));
    await lab.call('PutMetricAlarm', alarm('slow', { Period: 60 }));
    await put(lab, T0 + 12_000, 9, { StorageResolution: 1 });
    await lab.until(T0 + 20_000);
    expect([lab.state('fast'), lab.state('slow')]).toEqual(['ALARM', 'INSUFFICIENT_DATA']);
    await lab.until(T0 + 60_000);
    expect(lab.state('slow')).toBe('ALARM');
    const at = (name: string) => lab.events.log.find((e) => e.event.detail.alarmName === name)?.at;
    expect([at('fast'), at('slow')]).toEqual([T0 + 20_000, T0 + 60_000]);
  });

  it('alarms on a percentile computed from values with counts', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('p99', { Statistic: undefined, ExtendedStatistic: 'p99', Threshold: 500 }));
    await lab.call('PutMetricData', { Namespace: NS, MetricData: [{ MetricName: 'Errors', Timestamp: sec(T0 + 1000), Values: [10, 900], Counts: [98, 2] }] });
    await lab.until(T0 + MIN);
    expect(lab.state('p99')).toBe('ALARM');
    await lab.call('PutMetricData', { Namespace: NS, MetricData: [{ MetricName: 'Errors', Timestamp: sec(T0 + MIN + 1000), Values: [10, 900], Counts: [99, 1] }] });
    await lab.until(T0 + 2 * MIN);
    expect(lab.state('p99')).toBe('OK');
  });

  it('keeps its state while a percentile has too few samples, when told to ignore them', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('p99', { Statistic: undefined, ExtendedStatistic: 'p99', Threshold: 500, EvaluateLowSampleCountPercentile: 'ignore' }));
    await put(lab, T0 + 1000, 900);
    await lab.until(T0 + MIN);
    expect(lab.state('p99')).toBe('INSUFFICIENT_DATA');
  });

  it('returns to the evaluated state after SetAlarmState, at the next evaluation', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await put(lab, T0 + 1000, 1);
    await lab.until(T0 + MIN);
    await lab.call('SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM', StateReason: 'drill' });
    expect(lab.state('a')).toBe('ALARM');
    await put(lab, T0 + MIN + 1000, 1);
    await lab.until(T0 + 2 * MIN);
    expect(lab.state('a')).toBe('OK');
    const history = (await lab.call('DescribeAlarmHistory', { AlarmName: 'a', HistoryItemType: 'StateUpdate', ScanBy: 'TimestampAscending' })).AlarmHistoryItems as {
      HistorySummary: string;
    }[];
    expect(history.map((h) => h.HistorySummary)).toEqual(['Alarm updated from INSUFFICIENT_DATA to OK', 'Alarm updated from OK to ALARM', 'Alarm updated from ALARM to OK']);
  });

  it('keeps its state when updated, and uses the new configuration from then on', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await put(lab, T0 + 1000, 5);
    await lab.until(T0 + MIN);
    expect(lab.state('a')).toBe('ALARM');
    await lab.call('PutMetricAlarm', alarm('a', { Threshold: 10 }));
    expect(lab.state('a')).toBe('ALARM');
    await put(lab, T0 + MIN + 1000, 5);
    await lab.until(T0 + 2 * MIN);
    expect(lab.state('a')).toBe('OK');
  });

  it('publishes a state-change event shaped like EventBridge\'s', async () => {
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('errors', { Dimensions: [{ Name: 'FunctionName', Value: 'f' }], AlarmDescription: 'too many errors' }));
    await lab.call('PutMetricData', { Namespace: NS, MetricData: [{ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'f' }], Timestamp: sec(T0 + 1000), Value: 7 }] });
    await lab.until(T0 + MIN);
    const [event] = lab.alarmEvents();
    expect(event).toMatchObject({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors'],
      detail: {
        alarmName: 'errors',
        state: { value: 'ALARM', timestamp: '2026-01-01T00:01:00.000+0000' },
        previousState: { value: 'INSUFFICIENT_DATA' },
        configuration: {
          description: 'too many errors',
          metrics: [{ metricStat: { metric: { namespace: NS, name: 'Errors', dimensions: { FunctionName: 'f' } }, period: 60, stat: 'Maximum' }, returnData: true }],
        },
      },
    });
    const state = (event.detail as { state: { reason: string; reasonData: string } }).state;
    expect(state.reason).toBe(
      'Threshold Crossed: 1 out of the last 1 datapoints [7 (01/01/26 00:00:00)] was greater than the threshold (3) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition).',
    );
    expect(JSON.parse(state.reasonData)).toMatchObject({ version: '1.0', statistic: 'Maximum', period: 60, threshold: 3, recentDatapoints: [7] });
  });
});

describe('CloudWatchPort', () => {
  it('stores datapoints the lab puts directly and reports alarm states by name', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a', { Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: 'f' }], Statistic: 'Sum' }));
    lab.cw.put([{ namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'f' }, timestamp: T0 + 1000, values: [{ value: 2, count: 2 }], storageResolution: 60 }]);
    await lab.until(T0 + MIN);
    expect(lab.cw.alarmStates(['a', 'ghost'])).toEqual({ a: 'ALARM', ghost: undefined });
  });

  it('records configuration changes in the alarm history', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await lab.call('PutMetricAlarm', alarm('a', { Threshold: 4 }));
    await lab.call('DeleteAlarms', { AlarmNames: ['a'] });
    const items = (await lab.call('DescribeAlarmHistory', { HistoryItemType: 'ConfigurationUpdate', ScanBy: 'TimestampAscending' })).AlarmHistoryItems as { HistorySummary: string }[];
    expect(items.map((i) => i.HistorySummary)).toEqual(['Alarm "a" created', 'Alarm "a" updated', 'Alarm "a" deleted']);
  });
});

describe('alarms on metric math', () => {
  const guarded = (name: string, expression: string, treat = 'notBreaching') => ({
    AlarmName: name,
    EvaluationPeriods: 1,
    Threshold: 0.1,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: treat,
    Metrics: [
      { Id: 't', MetricStat: { Metric: { Namespace: NS, MetricName: 'Invocations' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'e', MetricStat: { Metric: { Namespace: NS, MetricName: 'Errors' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'rate', Expression: expression, Label: 'error rate', ReturnData: true },
    ],
  });
  async function traffic(lab: ReturnType<typeof rig>, minute: number, invocations?: number, errors?: number) {
    const data = [
      ...(invocations === undefined ? [] : [{ MetricName: 'Invocations', Timestamp: sec(T0 + minute * MIN + 1000), Value: invocations }]),
      ...(errors === undefined ? [] : [{ MetricName: 'Errors', Timestamp: sec(T0 + minute * MIN + 1000), Value: errors }]),
    ];
    if (data.length) await lab.call('PutMetricData', { Namespace: NS, MetricData: data });
  }

  it.each([
    { name: 'a high error rate with enough traffic', invocations: 100, errors: 20, want: 'ALARM' },
    { name: 'a high error rate with too little traffic', invocations: 10, errors: 10, want: 'OK' },
    { name: 'traffic without errors', invocations: 50, errors: undefined, want: 'OK' },
    { name: 'no traffic at all (missing, treated as not breaching)', invocations: undefined, errors: undefined, want: 'OK' },
  ])('IF(t >= 20, e / t, 0): $name -> $want', async ({ invocations, errors, want }) => {
    const lab = rig();
    await lab.call('PutMetricAlarm', guarded('rate', 'IF(t >= 20, e / t, 0)'));
    await lab.call('SetAlarmState', { AlarmName: 'rate', StateValue: want === 'OK' ? 'ALARM' : 'OK', StateReason: 'prior' });
    await traffic(lab, 0, invocations, errors);
    await lab.until(T0 + MIN);
    expect(lab.state('rate')).toBe(want);
  });

  // The constructs' significance-guarded rate: a minute counts only when its error rate is
  // significantly above the 2 % limit (one-sided score test at 1 %).
  const SIGNIFICANT = 'IF(t >= 20, IF(e / t > 0.02 + 2.326 * SQRT(0.0196 / t), e / t, 0), 0)';
  it.each([
    { name: '2 of 60 (3.3 %, above 2 % but within noise)', invocations: 60, errors: 2, want: 'OK' },
    { name: '3 of 60 (5 %)', invocations: 60, errors: 3, want: 'OK' },
    { name: '4 of 60 (6.7 %, above 0.02 + 2.326 * sqrt(0.0196 / 60) = 6.2 %)', invocations: 60, errors: 4, want: 'ALARM' },
    { name: '30 of 1000 (3 %, under 0.02 + 2.326 * sqrt(0.0196 / 1000) = 3.03 %)', invocations: 1000, errors: 30, want: 'OK' },
    { name: '32 of 1000 (3.2 %)', invocations: 1000, errors: 32, want: 'ALARM' },
  ])('SQRT in a significance-guarded rate: $name -> $want', async ({ invocations, errors, want }) => {
    const lab = rig();
    await lab.call('PutMetricAlarm', { ...guarded('rate', SIGNIFICANT), Threshold: 0.02 });
    await lab.call('SetAlarmState', { AlarmName: 'rate', StateValue: want === 'OK' ? 'ALARM' : 'OK', StateReason: 'prior' });
    await traffic(lab, 0, invocations, errors);
    await lab.until(T0 + MIN);
    expect(lab.state('rate')).toBe(want);
  });

  it('yields no datapoint, so missing data, where the expression has no data', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', guarded('rate', 'IF((t + e) >= 20, e / (t + e), 0)', 'missing'));
    await traffic(lab, 0, 5, 30);
    await lab.until(T0 + MIN);
    expect(lab.state('rate')).toBe('ALARM');
    // The evaluation range (N + 2 periods) still holds the last datapoint for two more minutes:
    // CloudWatch "may repeatedly re-evaluate the last set of data points" after a metric stops.
    await lab.until(T0 + 3 * MIN);
    expect(lab.state('rate')).toBe('ALARM');
    await lab.until(T0 + 4 * MIN);
    expect(lab.state('rate')).toBe('INSUFFICIENT_DATA');
  });

  it.each([
    { name: 'two metrics returning data', change: (m: Record<string, unknown>[]) => m.map((q) => ({ ...q, ReturnData: true })), message: /Exactly one element/ },
    { name: 'different periods', change: (m: Record<string, unknown>[]) => [{ ...m[0], MetricStat: { ...(m[0].MetricStat as object), Period: 120 } }, ...m.slice(1)], message: /same period/ },
    { name: 'an expression naming an unknown id', change: (m: Record<string, unknown>[]) => [...m.slice(0, 2), { ...m[2], Expression: 'x / t' }], message: /refers to x/ },
  ])('rejects Metrics with $name', async ({ change, message }) => {
    const lab = rig();
    const input = guarded('rate', 'IF(t >= 20, e / t, 0)');
    await expect(lab.call('PutMetricAlarm', { ...input, Metrics: change(input.Metrics) })).rejects.toMatchObject({ code: 'InvalidParameterValue', message: expect.stringMatching(message) });
    expect(lab.state('rate')).toBeUndefined();
  });
});

describe('composite alarms', () => {
  it.each([
    { rule: 'ALARM("a") OR ALARM("b")', a: 'ALARM', b: 'OK', want: true },
    { rule: 'ALARM("a") AND ALARM("b")', a: 'ALARM', b: 'OK', want: false },
    { rule: 'ALARM(a) AND NOT OK(b)', a: 'ALARM', b: 'INSUFFICIENT_DATA', want: true },
    { rule: 'INSUFFICIENT_DATA("b")', a: 'OK', b: 'INSUFFICIENT_DATA', want: true },
    { rule: '(ALARM("a") OR ALARM("b")) AND NOT ALARM("c")', a: 'OK', b: 'ALARM', want: true },
    { rule: 'ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a")', a: 'ALARM', b: 'OK', want: true },
    { rule: 'TRUE', a: 'OK', b: 'OK', want: true },
    { rule: 'FALSE OR NOT TRUE', a: 'ALARM', b: 'ALARM', want: false },
    { rule: 'NOT ALARM("a") AND ALARM("b") OR TRUE', a: 'ALARM', b: 'OK', want: true },
  ])('$rule with a=$a, b=$b -> $want', ({ rule, a, b, want }) => {
    const states: Record<string, string> = { a, b };
    expect(evaluateRule(parseRule(rule), (n) => states[n] as 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | undefined)).toBe(want);
  });

  it.each(['ALARM("a"', 'ALARM("a") AND', 'MAYBE("a")', 'ALARM("a") XOR OK("b")', ''])('rejects the rule %p', (rule) => {
    expect(() => parseRule(rule)).toThrow();
  });

  it('is re-evaluated when a child changes state, and publishes its own event', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await lab.call('PutMetricAlarm', alarm('b', { MetricName: 'Other' }));
    await lab.call('PutCompositeAlarm', { AlarmName: 'any', AlarmRule: 'ALARM("a") OR ALARM("b")' });
    await lab.call('PutCompositeAlarm', { AlarmName: 'top', AlarmRule: 'ALARM("any")' });
    expect([lab.state('any'), lab.state('top')]).toEqual(['OK', 'OK']);
    await put(lab, T0 + 1000, 9);
    await lab.until(T0 + MIN);
    expect([lab.state('a'), lab.state('any'), lab.state('top')]).toEqual(['ALARM', 'ALARM', 'ALARM']);
    const names = lab.alarmEvents().map((e) => `${String(e.detail.alarmName)}:${(e.detail.state as { value: string }).value}`);
    expect(names).toEqual(['any:OK', 'top:OK', 'a:ALARM', 'any:ALARM', 'top:ALARM']);
    const any = lab.alarmEvents().find((e) => e.detail.alarmName === 'any' && (e.detail.state as { value: string }).value === 'ALARM')!;
    expect(any.detail).toMatchObject({ configuration: { alarmRule: 'ALARM("a") OR ALARM("b")' }, state: { reason: expect.stringContaining(':alarm:a transitioned to ALARM') } });
  });

  it.each([
    { name: 'an alarm that does not exist', rule: 'ALARM("ghost")', message: /\[ghost\].*do not exist/ },
    { name: 'itself', rule: 'ALARM("loop")', message: /depend on itself/ },
    { name: 'a malformed rule', rule: 'ALARM("a") AND', message: /AlarmRule is invalid/ },
  ])('rejects a rule naming $name, and stores nothing', async ({ rule, message }) => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await expect(lab.call('PutCompositeAlarm', { AlarmName: 'loop', AlarmRule: rule })).rejects.toMatchObject({ code: 'InvalidParameterValue', message: expect.stringMatching(message) });
    expect(lab.state('loop')).toBeUndefined();
  });

  it('rejects a cycle through another composite alarm', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await lab.call('PutCompositeAlarm', { AlarmName: 'x', AlarmRule: 'ALARM("a")' });
    await lab.call('PutCompositeAlarm', { AlarmName: 'y', AlarmRule: 'ALARM("x")' });
    await expect(lab.call('PutCompositeAlarm', { AlarmName: 'x', AlarmRule: 'ALARM("y")' })).rejects.toMatchObject({ code: 'InvalidParameterValue' });
    const described = await lab.call('DescribeAlarms', { AlarmNames: ['x'], AlarmTypes: ['CompositeAlarm'] });
    expect(described.CompositeAlarms).toMatchObject([{ AlarmRule: 'ALARM("a")' }]);
  });
});

describe('state timestamps, as DescribeAlarms reports them', () => {
  // StateTransitionedTimestamp: "The date and time that the alarm's StateValue most recently
  // changed"; StateUpdatedTimestamp also moves when only the reason changes.
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html
  it('keeps StateTransitionedTimestamp while the state value stays, and moves StateUpdatedTimestamp with a new reason', async () => {
    const lab = rig();
    await lab.call('PutMetricAlarm', alarm('a'));
    await put(lab, T0 + 1000, 5);
    await lab.until(T0 + MIN);
    expect(lab.state('a')).toBe('ALARM');
    const describe = async () => ((await lab.call('DescribeAlarms', { AlarmNames: ['a'] })).MetricAlarms as Record<string, unknown>[])[0];
    const first = await describe();
    expect(first.StateTransitionedTimestamp).toBe(sec(T0 + MIN));
    await lab.until(T0 + MIN + 30_000);
    await lab.call('SetAlarmState', { AlarmName: 'a', StateValue: 'ALARM', StateReason: 'still failing, by hand' });
    const second = await describe();
    expect(second).toMatchObject({ StateValue: 'ALARM', StateReason: 'still failing, by hand', StateUpdatedTimestamp: sec(T0 + MIN + 30_000) });
    expect(second.StateTransitionedTimestamp).toBe(sec(T0 + MIN));
    await lab.call('SetAlarmState', { AlarmName: 'a', StateValue: 'OK', StateReason: 'fixed' });
    expect((await describe()).StateTransitionedTimestamp).toBe(sec(T0 + MIN + 30_000));
  });
});
