/**
 * Read a synthesized CloudWatch alarm as the rule it is: one period's value from the values of
 * its metrics (metric math evaluated by the lab's evaluator), and the exact probability that an
 * M-of-N alarm fires over a run of periods when each period breaches independently.
 */
import { evaluate, parseExpression } from '../../src/lab/cloudwatch/math';

export interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Period: number; Stat: string };
}

export interface AlarmProps {
  readonly MetricName?: string;
  readonly Statistic?: string;
  readonly Period?: number;
  readonly Metrics?: readonly MetricQuery[];
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
}

/** What one metric of the alarm reads in a period, given its name, statistic and dimension names. */
export type MetricValue = (m: { metricName: string; stat: string; dimensions: string[] }) => number;

/** The alarm's value for one period. */
export function alarmValue(a: AlarmProps, value: MetricValue): number {
  if (!a.Metrics) return value({ metricName: a.MetricName!, stat: a.Statistic!, dimensions: [] });
  const byId = new Map(a.Metrics.map((q) => [q.Id, q]));
  const series = (id: string): Map<number, number> => {
    const q = byId.get(id);
    if (!q) throw new Error(`no metric ${id}`);
    if (q.MetricStat) {
      const m = q.MetricStat;
      return new Map([[0, value({ metricName: m.Metric.MetricName, stat: m.Stat, dimensions: m.Metric.Dimensions.map((d) => d.Name) })]]);
    }
    return asMap(evaluate(parseExpression(q.Expression!), { series, timeline: [0] }));
  };
  const returned = a.Metrics.find((q) => q.ReturnData !== false && q.Expression) ?? a.Metrics.find((q) => q.ReturnData !== false)!;
  const v = series(returned.Id).get(0);
  if (v === undefined) throw new Error('the alarm has no value for this period');
  return v;
}

function asMap(v: number | Map<number, number>): Map<number, number> {
  return typeof v === 'number' ? new Map([[0, v]]) : v;
}

export function breaches(a: AlarmProps, v: number): boolean {
  switch (a.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return v > a.Threshold;
    case 'GreaterThanOrEqualToThreshold':
      return v >= a.Threshold;
    case 'LessThanThreshold':
      return v < a.Threshold;
    case 'LessThanOrEqualToThreshold':
      return v <= a.Threshold;
  }
  throw new Error(`unknown comparison ${a.ComparisonOperator}`);
}

/** The alarm's period in seconds. */
export function alarmPeriod(a: AlarmProps): number {
  return a.Period ?? a.Metrics!.find((q) => q.MetricStat)!.MetricStat!.Period;
}

export function binomialPmf(n: number, k: number, p: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
  return c * p ** k * (1 - p) ** (n - k);
}

/**
 * Exact probability that an alarm with DatapointsToAlarm M of EvaluationPeriods N reaches ALARM
 * at least once in `periods` evaluations, each period breaching with probability `q`
 * independently (periods before the first count as not breaching). A Markov chain over the last
 * N - 1 periods' breach pattern.
 */
export function probabilityOfAlarm(q: number, m: number, n: number, periods: number): number {
  const keep = (1 << (n - 1)) - 1;
  let states = new Map<number, number>([[0, 1]]);
  let fired = 0;
  for (let i = 0; i < periods; i++) {
    const next = new Map<number, number>();
    for (const [s, p] of states) {
      for (const b of [0, 1]) {
        const pb = b ? q : 1 - q;
        const window = (s << 1) | b;
        let count = 0;
        for (let j = 0; j < n; j++) count += (window >> j) & 1;
        if (count >= m) fired += p * pb;
        else next.set(window & keep, (next.get(window & keep) ?? 0) + p * pb);
      }
    }
    states = next;
  }
  return fired;
}
