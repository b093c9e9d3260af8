/**
 * The worked examples of "Configuring how CloudWatch alarms treat missing data", one row a case:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 * Period 5 minutes, EvaluationPeriods 3, the 5 most recent periods read (oldest first below);
 * 0 is a non-breaching datapoint, X a breaching one, - a missing one.
 */
import { evaluateRange, type StateValue, type TreatMissingData } from '../../../src/lab/cloudwatch/evaluate';
import { rig, sec, T0 } from './helpers';

type Cell = StateValue | 'retain';
interface Row {
  readonly points: string;
  readonly missing: number;
  readonly expect: Record<TreatMissingData, Cell>;
}

const row = (points: string, missing: number, m: Cell, i: Cell, b: Cell, nb: Cell): Row => ({
  points,
  missing,
  expect: { missing: m, ignore: i, breaching: b, notBreaching: nb },
});

const TABLES: readonly { readonly title: string; readonly datapointsToAlarm: number; readonly rows: readonly Row[] }[] = [
  {
    title: '3 out of 3',
    datapointsToAlarm: 3,
    rows: [
      row('0 - X - X', 2, 'OK', 'OK', 'OK', 'OK'),
      row('0 - - - -', 4, 'OK', 'OK', 'OK', 'OK'),
      row('- - - - -', 5, 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'),
      row('0 X X - X', 1, 'ALARM', 'ALARM', 'ALARM', 'ALARM'),
      row('- - - - X', 4, 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'),
      row('X - - - -', 4, 'ALARM', 'retain', 'ALARM', 'OK'),
    ],
  },
  {
    title: '2 out of 3',
    datapointsToAlarm: 2,
    rows: [
      row('0 - X - X', 2, 'ALARM', 'ALARM', 'ALARM', 'ALARM'),
      row('0 0 X 0 X', 0, 'ALARM', 'ALARM', 'ALARM', 'ALARM'),
      row('0 - X - -', 3, 'OK', 'OK', 'ALARM', 'OK'),
      row('- - - - 0', 4, 'OK', 'OK', 'ALARM', 'OK'),
      row('- - - - X', 4, 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'),
    ],
  },
];

const TREATMENTS: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
const THRESHOLD = 5;
const valueOf = (c: string) => (c === 'X' ? 10 : c === '0' ? 1 : undefined);
const PERIOD = 300_000;

const cases = TABLES.flatMap((t) =>
  t.rows.flatMap((r) => TREATMENTS.map((treat) => ({ table: t.title, m: t.datapointsToAlarm, points: r.points, missing: r.missing, treat, expected: r.expect[treat] }))),
);

describe('evaluateRange reproduces the documented missing-data tables', () => {
  it.each(cases)('$table: [$points] treated as $treat -> $expected', ({ m, points, missing, treat, expected }) => {
    const range = points.split(' ').map((c, i) => ({ at: T0 + i * PERIOD, value: valueOf(c) }));
    const verdict = evaluateRange(range, { threshold: THRESHOLD, comparison: 'GreaterThanThreshold', evaluationPeriods: 3, datapointsToAlarm: m, treatMissingData: treat });
    expect(verdict.state ?? 'retain').toBe(expected);
    expect(verdict.missing).toBe(missing);
  });
});

describe('the lab evaluates alarms as the documented missing-data tables say', () => {
  // The five periods end at T; the alarm is created 30 s before T, so exactly one evaluation (at T) decides.
  const T = T0 + 3_600_000;

  async function evaluateOnce(points: string, m: number, treat: TreatMissingData, prior: StateValue | undefined) {
    const lab = rig(T - 30_000);
    const data = points
      .split(' ')
      .map((c, i) => ({ c, at: T - (5 - i) * PERIOD + 30_000 }))
      .filter(({ c }) => c !== '-')
      .map(({ c, at }) => ({ MetricName: 'Errors', Timestamp: sec(at), Value: valueOf(c) }));
    if (data.length) await lab.call('PutMetricData', { Namespace: 'Lab/Test', MetricData: data });
    await lab.call('PutMetricAlarm', {
      AlarmName: 'a',
      Namespace: 'Lab/Test',
      MetricName: 'Errors',
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: m,
      Threshold: THRESHOLD,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: treat,
    });
    if (prior) await lab.call('SetAlarmState', { AlarmName: 'a', StateValue: prior, StateReason: 'test: prior state' });
    await lab.until(T);
    return lab.state('a');
  }

  it.each(cases.filter((c) => c.expected !== 'retain'))('$table: [$points] treated as $treat -> $expected', async ({ m, points, treat, expected }) => {
    // Start from a different state so that reaching the expected one is a real transition.
    const prior: StateValue = expected === 'OK' ? 'ALARM' : 'OK';
    expect(await evaluateOnce(points, m, treat, prior)).toBe(expected);
  });

  const retained = cases.filter((c) => c.expected === 'retain').flatMap((c) => (['OK', 'ALARM'] as const).map((prior) => ({ ...c, prior })));
  it.each(retained)('$table: [$points] treated as $treat keeps the current state $prior', async ({ m, points, treat, prior }) => {
    expect(await evaluateOnce(points, m, treat, prior)).toBe(prior);
  });
});
