import { alarmNameOf, build, resourcesOfType } from '../../../constructs/test/constructs/helpers';
import { alarmPeriod, alarmValue, binomialPmf, breaches, probabilityOfAlarm, type AlarmProps } from './alarm-math';
import { ProbeStatus } from 'canary-watchdog';

const PROBES = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, event: {}, expect: { status: ProbeStatus.SUCCESS as const } }));
const template = build({ probes: PROBES }).template();
const alarm = (suffix: string): AlarmProps => {
  const found = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([, a]) => alarmNameOf(a.Properties).replace(/-v\{version\}$/, '').endsWith(suffix));
  if (!found) throw new Error(`no alarm *${suffix}`);
  return found[1].Properties as unknown as AlarmProps;
};

/** The prober runs 6 rounds a minute, each probe once per round on the new version. */
const ROUNDS_PER_MINUTE = 6;

/**
 * The probability that a probe-failure alarm stops a good release of `minutes`, with `probes`
 * probes each failing independently with probability `flake`: each period's value is the
 * alarm's own rule (Average, or metric math over Sum and SampleCount) applied to the failures
 * among that period's probe invocations.
 */
function falseRollbackProbability(a: AlarmProps, probes: number, flake: number, minutes: number, roundsPerMinute = ROUNDS_PER_MINUTE): number {
  const period = alarmPeriod(a);
  const samples = Math.round((probes * roundsPerMinute * period) / 60);
  let q = 0;
  for (let failures = 0; failures <= samples; failures++) {
    const v = alarmValue(a, ({ stat }) => (stat === 'Sum' ? failures : stat === 'SampleCount' ? samples : failures / samples));
    if (breaches(a, v)) q += binomialPmf(samples, failures, flake);
  }
  return probabilityOfAlarm(q, a.DatapointsToAlarm ?? a.EvaluationPeriods, a.EvaluationPeriods, Math.round((minutes * 60) / period));
}

/** Minutes of data an always-failing probe (one of `probes`) needs before the alarm fires. */
function minutesToCatchAlwaysFailing(a: AlarmProps, probes: number): number {
  const period = alarmPeriod(a);
  const samples = Math.round((probes * ROUNDS_PER_MINUTE * period) / 60);
  const failures = samples / probes;
  const v = alarmValue(a, ({ stat }) => (stat === 'Sum' ? failures : stat === 'SampleCount' ? samples : failures / samples));
  if (!breaches(a, v)) return Infinity;
  return ((a.DatapointsToAlarm ?? a.EvaluationPeriods) * period) / 60;
}

describe('probe-failure alarm', () => {
  it('stops at most 1 % of good 30-minute releases with 5 probes flaking 2 % each', () => {
    expect(falseRollbackProbability(alarm('-probe-failures'), 5, 0.02, 30)).toBeLessThanOrEqual(0.01);
  });

  it.each([4, 5, 7])('stays under 1 % when the prober fits %i rounds into a minute', (rounds) => {
    expect(falseRollbackProbability(alarm('-probe-failures'), 5, 0.02, 30, rounds)).toBeLessThanOrEqual(0.01);
  });

  it('would stop about 60 % of them under the old rule (10-second Average > 0.05, 3 of 6)', () => {
    const old: AlarmProps = { MetricName: 'ProbeFailure', Statistic: 'Average', Period: 10, Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 6, DatapointsToAlarm: 3 };
    expect(falseRollbackProbability(old, 5, 0.02, 30)).toBeCloseTo(0.625, 2);
  });

  it('still catches a probe that always fails within about a minute', () => {
    expect(minutesToCatchAlwaysFailing(alarm('-probe-failures'), 5)).toBeLessThanOrEqual(1);
    expect(minutesToCatchAlwaysFailing(alarm('-probe-failures'), 1)).toBeLessThanOrEqual(1);
  });
});

describe('new-version throttle alarm', () => {
  /** Throttles and invocations of the new version (ExecutedVersion) and of the whole alias. */
  const value = (newVersion: { throttles: number; invocations: number }, alias: { throttles: number; invocations: number }) =>
    alarmValue(alarm('-new-version-throttle-rate'), ({ metricName, dimensions }) => {
      const of = dimensions.includes('ExecutedVersion') ? newVersion : alias;
      return metricName === 'Throttles' ? of.throttles : of.invocations;
    });
  const breached = (v: number) => breaches(alarm('-new-version-throttle-rate'), v);

  it.each([
    { name: 'stays quiet when throttling hits both versions alike (30 %)', nv: { throttles: 30, invocations: 70 }, alias: { throttles: 300, invocations: 700 }, alarm: false },
    { name: 'stays quiet on 2 throttles of 20 requests, above the limit but not significantly', nv: { throttles: 2, invocations: 18 }, alias: { throttles: 2, invocations: 198 }, alarm: false },
    { name: 'breaches when only the new version is throttled (30 %)', nv: { throttles: 30, invocations: 70 }, alias: { throttles: 30, invocations: 970 }, alarm: true },
    { name: 'breaches when the new version is throttled far more than the alias (40 % against 13 %)', nv: { throttles: 40, invocations: 60 }, alias: { throttles: 130, invocations: 870 }, alarm: true },
    { name: 'stays quiet when nothing is throttled', nv: { throttles: 0, invocations: 100 }, alias: { throttles: 0, invocations: 1000 }, alarm: false },
  ])('$name', ({ nv, alias, alarm: expected }) => {
    expect(breached(value(nv, alias))).toBe(expected);
  });
});
