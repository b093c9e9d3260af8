import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, METRIC } from '../core/config';

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

  /** Share of failed probes of one version: 0/1 datapoints every 10 s, averaged. High resolution. */
  probeFailureRate(version: string, period = Duration.seconds(10)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: METRIC.probeFailure,
      statistic: 'Average',
      period,
      dimensionsMap: { FunctionName: this.functionName, Version: version },
    });
  }

  /**
   * `IF(total >= minSamples, events / total, 0)`: no verdict on too few requests. With
   * `significantAbove` p0, a minute's rate counts only when it is significantly above p0 (a
   * one-sided score test at 1 %: rate > p0 + 2.326 * SQRT(p0 * (1 - p0) / total)), so that a
   * single unlucky minute of a small canary share (2 errors of 60 requests against a 2 % limit,
   * 4 % of the time at a 0.5 % true rate) is not read as a breach; otherwise 0.
   * SQRT and comparisons are CloudWatch metric math:
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax
   */
  guardedRate(events: cloudwatch.IMetric, total: cloudwatch.IMetric, minSamples: number, label: string, addEventsToTotal = false, significantAbove?: number): cloudwatch.MathExpression {
    const denominator = addEventsToTotal ? '(t + e)' : 't';
    const rate = `e / ${denominator}`;
    const value =
      significantAbove === undefined ? rate : `IF(${rate} > ${significantAbove} + ${Z_ONE_PERCENT} * SQRT(${round(significantAbove * (1 - significantAbove))} / ${denominator}), ${rate}, 0)`;
    return new cloudwatch.MathExpression({
      expression: `IF(${denominator} >= ${minSamples}, ${value}, 0)`,
      usingMetrics: { e: events, t: total },
      period: Duration.minutes(1),
      label,
    });
  }
}

export interface LayerAlarmSpec {
  /** Built-in layer the alarm belongs to. */
  readonly layer: 'probes' | 'new-version' | 'service';
  readonly alarm: cloudwatch.Alarm;
  /** The alarm's name as a plain string (not a Ref), so configuration that names it adds no dependency. */
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
  const alarm = (id: string, layer: LayerAlarmSpec['layer'], props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>) => {
    const name = `${p.namePrefix}-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
    return {
      layer,
      name,
      alarm: new cloudwatch.Alarm(scope, id, { ...props, alarmName: name, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING }),
    };
  };
  const out: LayerAlarmSpec[] = [];
  if (p.probes) {
    // High-resolution: the prober publishes every 10 s; 3 failing 10-second periods of 6.
    out.push(
      alarm('ProbeFailures', 'probes', {
        metric: m.probeFailureRate(p.version),
        threshold: round(1 - p.minProbeSuccess),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 6,
        datapointsToAlarm: 3,
        alarmDescription: 'Probes of the new version fail (canary-watchdog probes layer).',
      }),
    );
  }
  // 2 of 3 one-minute periods, each significantly above the limit: one noisy minute on a small
  // canary share does not roll back.
  out.push(
    alarm('NewVersionErrorRate', 'new-version', {
      metric: m.guardedRate(m.versionErrors(p.version), m.versionInvocations(p.version), p.minInvocations, 'new version error rate', false, p.maxErrorRate),
      threshold: p.maxErrorRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'Error rate of the new version (ExecutedVersion) above the limit, with a minimum-invocations guard.',
    }),
    alarm('NewVersionThrottleRate', 'new-version', {
      metric: m.guardedRate(m.versionThrottles(p.version), m.versionInvocations(p.version), p.minInvocations, 'new version throttle rate', true),
      threshold: p.maxThrottleRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'Throttle rate of the new version above the limit.',
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
      metric: m.guardedRate(m.aliasErrors(), m.aliasInvocations(), p.minInvocations, 'alias error rate', false, p.maxErrorRate),
      threshold: p.maxErrorRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      alarmDescription: 'Error rate of the whole alias (both versions) above the limit.',
    }),
  );
  return out;
}

/** The one-sided 99 % quantile of the standard normal distribution. */
const Z_ONE_PERCENT = 2.326;

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
