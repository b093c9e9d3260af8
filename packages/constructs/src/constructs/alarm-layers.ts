import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, DEFAULT_THRESHOLDS, METRIC, METRIC_URL, VERSION } from '../core/config';
import { VERSION_SCOPED_LAYERS } from '../core/native-alarms';

/**
 * Metric factories for one guarded function. Metrics of the new version carry FunctionName,
 * Resource (`fn:alias`) and ExecutedVersion, built explicitly: CDK's `Version.metric()` picks the
 * wrong dimensions behind an alias (aws-cdk issue 14248).
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 */
export class GuardMetrics {
  constructor(
    private readonly functionName: string,
    private readonly aliasName: string,
    private readonly namespace: string = DEFAULT_NAMESPACE,
  ) {}

  private lambda(metricName: string, statistic: string, dims: Record<string, string>, period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, statistic, period, dimensionsMap: dims });
  }

  private versionDims(version: string): Record<string, string> {
    return { FunctionName: this.functionName, Resource: `${this.functionName}:${this.aliasName}`, ExecutedVersion: version };
  }

  private aliasDims(): Record<string, string> {
    return { FunctionName: this.functionName, Resource: `${this.functionName}:${this.aliasName}` };
  }

  versionInvocations(version: string): cloudwatch.Metric {
    return this.lambda('Invocations', 'Sum', this.versionDims(version));
  }
  versionErrors(version: string): cloudwatch.Metric {
    return this.lambda('Errors', 'Sum', this.versionDims(version));
  }
  versionThrottles(version: string): cloudwatch.Metric {
    return this.lambda('Throttles', 'Sum', this.versionDims(version));
  }
  versionP99Duration(version: string): cloudwatch.Metric {
    return this.lambda('Duration', 'p99', this.versionDims(version));
  }
  aliasInvocations(): cloudwatch.Metric {
    return this.lambda('Invocations', 'Sum', this.aliasDims());
  }
  aliasErrors(): cloudwatch.Metric {
    return this.lambda('Errors', 'Sum', this.aliasDims());
  }
  aliasThrottles(): cloudwatch.Metric {
    return this.lambda('Throttles', 'Sum', this.aliasDims());
  }
  /** Function URL requests of one version, and those answered with HTTP 5xx.
   * https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html */
  versionUrlRequests(version: string): cloudwatch.Metric {
    return this.lambda(METRIC_URL.requests, 'Sum', this.versionDims(version));
  }
  versionUrl5xx(version: string): cloudwatch.Metric {
    return this.lambda(METRIC_URL.http5xx, 'Sum', this.versionDims(version));
  }

  /**
   * Probe invocations of one version (0/1 datapoints, 1 = failed) over a minute: statistic `Sum`
   * counts the failures, `SampleCount` the invocations.
   */
  probeFailures(version: string, statistic: ProbeStatistic): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: METRIC.probeFailure,
      statistic,
      period: Duration.minutes(1),
      dimensionsMap: { FunctionName: this.functionName, Version: version },
    });
  }

  /**
   * `IF(total >= minSamples, events / total, 0)`: no verdict on too few requests. With
   * `significantAbove` p0, a minute's rate counts only when it is significantly above p0 (a
   * one-sided score test, at 1 % unless `z` says otherwise: rate > p0 + 2.326 * SQRT(p0 * (1 - p0) / total)),
   * so that a single unlucky minute of a small canary share (2 errors of 60 requests against a
   * 2 % limit, 4 % of the time at a 0.5 % true rate) is not read as a breach; otherwise 0.
   * SQRT and comparisons are CloudWatch metric math:
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax
   */
  guardedRate(events: cloudwatch.IMetric, total: cloudwatch.IMetric, minSamples: number, label: string, opts: GuardedRateOptions = {}): cloudwatch.MathExpression {
    const denominator = opts.addEventsToTotal ? '(t + e)' : 't';
    const rate = `e / ${denominator}`;
    const p0 = opts.significantAbove;
    const value = p0 === undefined ? rate : `IF(${rate} > ${p0} + ${opts.z ?? Z_ONE_PERCENT} * SQRT(${round(p0 * (1 - p0))} / ${denominator}), ${rate}, 0)`;
    return new cloudwatch.MathExpression({
      expression: `IF(${denominator} >= ${minSamples}, ${value}, 0)`,
      usingMetrics: { e: events, t: total },
      period: Duration.minutes(1),
      label,
    });
  }

  /**
   * The new version's throttle rate, counted only when it is significantly above both the limit
   * and the alias-wide throttle rate (both versions): throttling that is function- or
   * account-wide hits both versions alike and says nothing about the release. The score test
   * runs against p0 = the larger of the two (one-sided, 1 %); otherwise 0.
   * Throttled requests are not in Invocations, so each total adds its throttles back.
   * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  throttleRateAboveAlias(version: string, maxRate: number, minSamples: number): cloudwatch.MathExpression {
    const p0 = new cloudwatch.MathExpression({
      expression: `IF(ae / (at + ae) > ${maxRate}, ae / (at + ae), ${maxRate})`,
      usingMetrics: { ae: this.aliasThrottles(), at: this.aliasInvocations() },
      period: Duration.minutes(1),
      label: 'throttle rate to beat',
    });
    return new cloudwatch.MathExpression({
      expression: `IF((t + e) >= ${minSamples}, IF(e / (t + e) > p0 + ${Z_ONE_PERCENT} * SQRT(p0 * (1 - p0) / (t + e)), e / (t + e), 0), 0)`,
      usingMetrics: { e: this.versionThrottles(version), t: this.versionInvocations(version), p0 },
      period: Duration.minutes(1),
      label: 'new version throttle rate above the alias',
    });
  }
}

/** What `GuardMetrics.probeFailures` counts. */
export enum ProbeStatistic {
  /** The failed probe invocations. */
  SUM = 'Sum',
  /** All probe invocations. */
  SAMPLE_COUNT = 'SampleCount',
}

export interface GuardedRateOptions {
  /** The total does not count the events (Invocations does not count throttles): add them. */
  readonly addEventsToTotal?: boolean;
  /** Count a rate only when significantly above this one. */
  readonly significantAbove?: number;
  /** The score test's quantile. @default 2.326 (one-sided 1 %) */
  readonly z?: number;
}

/** The built-in layers that have alarms of their own. */
type BuiltInLayer = 'probes' | 'new-version' | 'service';

export interface LayerAlarmSpec {
  /** Built-in layer the alarm belongs to: `probes`, `new-version` or `service`. */
  readonly layer: string;
  readonly alarm: cloudwatch.Alarm;
  /**
   * The alarm's name as a plain string (not a Ref), so configuration that names it adds no
   * dependency. For a version-scoped alarm (layers probes and new-version) a template ending in
   * `-v{version}`: the alarm itself is named for the version it watches, so every release
   * replaces it with a new alarm, born in INSUFFICIENT_DATA, and the configuration stays the same
   * from release to release.
   */
  readonly name: string;
}

export interface LayerAlarmProps {
  readonly metrics: GuardMetrics;
  /** The new version, as a token: the alarms follow each release. */
  readonly version: string;
  /** Stable prefix of the alarms' names. */
  readonly namePrefix: string;
  readonly maxErrorRate: number;
  readonly minInvocations: number;
  readonly maxThrottleRate: number;
  readonly maxP99LatencyMs: number;
  readonly minProbeSuccess: number;
  readonly probes: boolean;
}

/**
 * The alarm layers of one guarded function. Every alarm sets TreatMissingData explicitly:
 * missing data means no traffic, which is no evidence either way (notBreaching); the watchdog
 * counts it as insufficient evidence, never as health.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
 */
export function buildLayerAlarms(scope: Construct, p: LayerAlarmProps): LayerAlarmSpec[] {
  const m = p.metrics;
  const alarm = (id: string, layer: BuiltInLayer, props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>) =>
    layerAlarm(scope, p, id, layer, props);
  const out: LayerAlarmSpec[] = p.probes ? [buildProbeAlarm(scope, p)] : [];
  // 2 of 3 one-minute periods, each significantly above the limit: one noisy minute on a small
  // canary share does not roll back.
  out.push(
    alarm('NewVersionErrorRate', 'new-version', {
      metric: m.guardedRate(m.versionErrors(p.version), m.versionInvocations(p.version), p.minInvocations, 'new version error rate', { significantAbove: p.maxErrorRate }),
      threshold: p.maxErrorRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'Error rate of the new version (ExecutedVersion) above the limit, with a minimum-invocations guard.',
    }),
    alarm('NewVersionThrottleRate', 'new-version', {
      metric: m.throttleRateAboveAlias(p.version, p.maxThrottleRate, p.minInvocations),
      threshold: p.maxThrottleRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'Throttle rate of the new version significantly above the limit and above the alias-wide (both versions) throttle rate.',
    }),
    alarm('NewVersionP99Duration', 'new-version', {
      metric: m.versionP99Duration(p.version),
      threshold: p.maxP99LatencyMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'p99 duration of the new version above the limit.',
    }),
    alarm('AliasErrorRate', 'service', {
      metric: m.guardedRate(m.aliasErrors(), m.aliasInvocations(), p.minInvocations, 'alias error rate', { significantAbove: p.maxErrorRate }),
      threshold: p.maxErrorRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      alarmDescription: 'Error rate of the whole alias (both versions) above the limit.',
    }),
  );
  return out;
}

/**
 * The probes layer's alarm: the new version's probe failure rate. The prober runs every probe 6
 * times a minute (30 samples with 5 probes). A minute counts only when its failure share is
 * significantly above the limit at the watchdog's own level (0.001), so one flaky probe does not
 * stop a release: with 5 probes failing 2 % each, a 30-minute release is stopped with
 * probability < 0.1 % (test/constructs/alarm-layers.test.ts), where the former 10-second
 * Average > 5 % (3 of 6) stopped 62 %. A probe that always fails breaches its first full
 * minute, and 1 of 1 raises the alarm then.
 */
export function buildProbeAlarm(scope: Construct, p: Pick<LayerAlarmProps, 'metrics' | 'version' | 'namePrefix' | 'minProbeSuccess'>): LayerAlarmSpec {
  const m = p.metrics;
  return layerAlarm(scope, p, 'ProbeFailures', 'probes', {
    metric: m.guardedRate(m.probeFailures(p.version, ProbeStatistic.SUM), m.probeFailures(p.version, ProbeStatistic.SAMPLE_COUNT), DEFAULT_THRESHOLDS.minProbeSamples, 'new version probe failure rate', {
      significantAbove: round(1 - p.minProbeSuccess),
      z: Z_ONE_PER_MILLE,
    }),
    threshold: round(1 - p.minProbeSuccess),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    alarmDescription: 'Probes of the new version fail significantly more often than allowed (canary-watchdog probes layer).',
  });
}

/**
 * The new version's HTTP 5xx rate through its function URL, guarded like the error rate: a
 * `statusCode: 500` answered without throwing is no Lambda `Errors` datapoint.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html
 */
export function buildHttpAlarm(scope: Construct, p: Pick<LayerAlarmProps, 'metrics' | 'version' | 'namePrefix' | 'maxErrorRate' | 'minInvocations'>): LayerAlarmSpec {
  const m = p.metrics;
  return layerAlarm(
    scope,
    p,
    'NewVersionHttp5xxRate',
    'new-version',
    {
      metric: m.guardedRate(m.versionUrl5xx(p.version), m.versionUrlRequests(p.version), p.minInvocations, 'new version HTTP 5xx rate', { significantAbove: p.maxErrorRate }),
      threshold: p.maxErrorRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'HTTP 5xx rate of the new version through its function URL above the limit, with a minimum-requests guard.',
    },
    'new-version-http-5xx-rate',
  );
}

/**
 * One layer alarm, named `<prefix>-<kebab id>` unless named, missing data not breaching. A
 * version-scoped layer's alarm is named `<prefix>-<kebab id>-v<version>`: AlarmName is a
 * replacement property, so each release creates a new alarm, and a new alarm starts in
 * INSUFFICIENT_DATA, where PutMetricAlarm on an existing alarm would keep the old version's state.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 */
function layerAlarm(
  scope: Construct,
  p: Pick<LayerAlarmProps, 'namePrefix' | 'version'>,
  id: string,
  layer: BuiltInLayer,
  props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>,
  suffix = id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase(),
): LayerAlarmSpec {
  const versioned = VERSION_SCOPED_LAYERS.includes(layer);
  const base = `${p.namePrefix}-${suffix}`;
  const name = versioned ? `${base}-v${VERSION}` : base;
  const alarmName = versioned ? `${base}-v${p.version}` : base;
  return { layer, name, alarm: new cloudwatch.Alarm(scope, id, { ...props, alarmName, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING }) };
}

/** The one-sided 99 % quantile of the standard normal distribution. */
const Z_ONE_PERCENT = 2.326;
/** The one-sided 99.9 % quantile: the watchdog's default significance level (Thresholds.alpha, 0.001). */
const Z_ONE_PER_MILLE = 3.09;

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
