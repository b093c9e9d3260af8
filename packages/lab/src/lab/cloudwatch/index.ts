/**
 * The lab's CloudWatch: metrics (PutMetricData, GetMetricData, ListMetrics), metric and composite
 * alarms evaluated on the lab's clock, alarm history, and "CloudWatch Alarm State Change" events
 * on the lab's bus. Spoken over awsJson1_0 as @aws-sdk/client-cloudwatch speaks it, and over
 * awsQuery (./query) as older SDKs and CLIs do.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/Welcome.html
 */
import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService, type Operation } from '../kernel';
import type { CloudWatchPort, Datum, LabContext } from '../ports';
import {
  COMPARISON_TEXT,
  COMPARISONS,
  evaluateRange,
  evaluateRule,
  parseRule,
  ruleAlarms,
  STATE_VALUES,
  TREAT_MISSING,
  type AlarmRule,
  type Comparison,
  type RuleNode,
  type StateValue,
  type TreatMissingData,
  type Verdict,
} from './evaluate';
import {
  dimensionList,
  dimensions,
  invalidCombination,
  invalidValue,
  missingParameter,
  notFound,
  object,
  optArray,
  optBoolean,
  optNumber,
  optString,
  optStringList,
  optTime,
  pageToken,
  readPageToken,
  reqArray,
  reqNumber,
  reqString,
  reqTime,
  seconds,
  UNITS,
  type Input,
} from './input';
import { MathError } from './math';
import { CLOUDWATCH_QUERY } from './query';
import { checkPeriod, checkQueryGraph, parseQuery, parseStatName, runQueries, type QuerySpec } from './queries';
import { MetricStore, SIMPLE_STATS, statValue, type Series, type StatisticSet } from './store';

export { evaluateRange, parseRule, evaluateRule } from './evaluate';
export { MetricStore, percentile, percentileRank } from './store';

const ALARM_ARN_PREFIX = `arn:aws:cloudwatch:${LAB_REGION}:${LAB_ACCOUNT}:alarm:`;

/**
 * How many periods beyond EvaluationPeriods an evaluation reads. AWS says only that the range is
 * wider than N and depends on the period; its worked example reads 5 periods for N = 3.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 */
export const DEFAULT_EXTRA_PERIODS = 2;

export interface CloudWatchLabOptions {
  /** Periods read beyond EvaluationPeriods when an alarm is evaluated. @default 2 */
  readonly extraEvaluationPeriods?: number;
}

interface AlarmStateRecord {
  readonly value: StateValue;
  readonly reason: string;
  readonly reasonData?: string;
  readonly updated: number;
  readonly transitioned: number;
}

interface Common {
  readonly name: string;
  readonly arn: string;
  state: AlarmStateRecord;
  configUpdated: number;
  /** DescribeAlarms fields other than the state ones. */
  config: Record<string, unknown>;
  /** The `configuration` of the EventBridge event. */
  eventConfig: Record<string, unknown>;
  /** Tags by key: set when the alarm is created (an update ignores Tags) and by TagResource. */
  tags: Map<string, string>;
}

interface MetricAlarm extends Common {
  readonly kind: 'MetricAlarm';
  rule: AlarmRule;
  /** Seconds. */
  period: number;
  queries: readonly QuerySpec[];
  returnId: string;
  statLabel: string;
  lowSample?: { readonly p: number };
}

interface CompositeAlarm extends Common {
  readonly kind: 'CompositeAlarm';
  rule: RuleNode;
  refs: ReadonlySet<string>;
}

type Alarm = MetricAlarm | CompositeAlarm;

interface HistoryItem {
  readonly AlarmName: string;
  readonly AlarmType: Alarm['kind'];
  readonly Timestamp: number;
  readonly HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate';
  readonly HistorySummary: string;
  readonly HistoryData: string;
}

const ALARM_TYPES = ['MetricAlarm', 'CompositeAlarm'] as const;
const HISTORY_TYPES = ['ConfigurationUpdate', 'StateUpdate', 'Action', 'AlarmContributorStateUpdate', 'AlarmContributorAction'] as const;
const SCAN_BY = ['TimestampDescending', 'TimestampAscending'] as const;
/** GetMetricData's MaxDatapoints when the request gives none. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html */
const MAX_DATAPOINTS = 100_800;
/** At most 50 tags a resource. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html */
const MAX_TAGS = 50;
const DAY = 86_400;

/** Timestamps as CloudWatch writes them in reasons and events: 2019-10-02T17:04:40.985+0000. */
const isoTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/** dd/MM/yy HH:mm:ss, as in "Threshold Crossed: ... [5.0 (28/11/26 04:00:00)]". */
function reasonTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * Tags: keys of 1-128 characters not starting with `aws:`, values of 0-256 characters, keys unique.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Tag.html
 */
function parseTags(input: Input, key: string): Map<string, string> {
  const out = new Map<string, string>();
  (optArray(input, key, key, MAX_TAGS) ?? []).forEach((raw, i) => {
    const field = `${key}.member.${i + 1}`;
    const t = object(raw, field);
    const k = reqString(t, 'Key', `${field}.Key`, { max: 128 });
    if (k.toLowerCase().startsWith('aws:')) throw invalidValue(`The value ${k} for parameter ${field}.Key is invalid: the prefix aws: is reserved for AWS.`);
    const v = optString(t, 'Value', `${field}.Value`, { max: 256 });
    if (v === undefined) throw missingParameter(`${field}.Value`);
    if (out.has(k)) throw invalidValue(`The tag key ${k} appears more than once in ${key}.`);
    out.set(k, v);
  });
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export class CloudWatchLab implements CloudWatchPort {
  readonly service: JsonService;
  private readonly store = new MetricStore();
  private readonly alarms = new Map<string, Alarm>();
  private readonly history: HistoryItem[] = [];
  private readonly ticks: { cancel(): void }[];
  private readonly extra: number;

  constructor(
    private readonly ctx: LabContext,
    options: CloudWatchLabOptions = {},
  ) {
    this.extra = options.extraEvaluationPeriods ?? DEFAULT_EXTRA_PERIODS;
    // Alarms with a period of 60 s or more are evaluated every minute, 10/20/30 s alarms every 10 s.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#high-resolution-alarms
    this.ticks = [
      ctx.scheduler.every(60_000, 'cloudwatch: evaluate alarms', (at) => this.evaluateAlarms(at, (a) => a.period >= 60)),
      ctx.scheduler.every(10_000, 'cloudwatch: evaluate high-resolution alarms', (at) => this.evaluateAlarms(at, (a) => a.period < 60)),
    ];
    const op = (f: (input: Input) => unknown): Operation => (input) => f.call(this, input);
    this.service = {
      name: 'CloudWatch',
      targetPrefix: 'GraniteServiceVersion20100801',
      query: CLOUDWATCH_QUERY,
      operations: {
        PutMetricData: op(this.putMetricData),
        GetMetricData: op(this.getMetricData),
        GetMetricStatistics: op(this.getMetricStatistics),
        ListMetrics: op(this.listMetrics),
        PutMetricAlarm: op(this.putMetricAlarm),
        PutCompositeAlarm: op(this.putCompositeAlarm),
        DescribeAlarms: op(this.describeAlarms),
        DescribeAlarmsForMetric: op(this.describeAlarmsForMetric),
        DescribeAlarmHistory: op(this.describeAlarmHistory),
        SetAlarmState: op(this.setAlarmState),
        DeleteAlarms: op(this.deleteAlarms),
        EnableAlarmActions: op((i) => this.setActionsEnabled(i, true)),
        DisableAlarmActions: op((i) => this.setActionsEnabled(i, false)),
        TagResource: op(this.tagResource),
        UntagResource: op(this.untagResource),
        ListTagsForResource: op(this.listTagsForResource),
      },
    };
  }

  /** Stop evaluating alarms (the scheduler keeps running for the other services). */
  dispose(): void {
    this.ticks.forEach((t) => t.cancel());
  }

  // --- CloudWatchPort ------------------------------------------------------------------------

  put(data: readonly Datum[]): void {
    this.store.put(data, this.now());
  }

  alarmStates(names: readonly string[]): Record<string, StateValue | undefined> {
    return Object.fromEntries(names.map((n) => [n, this.alarms.get(n)?.state.value]));
  }

  private now(): number {
    return this.ctx.scheduler.now();
  }

  // --- Metrics -------------------------------------------------------------------------------

  /**
   * PutMetricData. Every datum is checked before any is stored, so a rejected request stores nothing.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
   */
  private putMetricData(input: Input): Record<string, never> {
    const namespace = reqString(input, 'Namespace', 'Namespace', { max: 255 });
    if (namespace.startsWith('AWS/')) throw invalidValue(`The value ${namespace} for parameter Namespace is invalid: namespaces starting with "AWS/" are reserved for AWS.`);
    const list = reqArray(input, 'MetricData', 'MetricData', 1000);
    const now = this.now();
    const data = list.map((raw, i) => this.parseDatum(namespace, raw, `MetricData.member.${i + 1}`, now));
    this.store.put(data, now);
    return {};
  }

  private parseDatum(namespace: string, raw: unknown, field: string, now: number): Datum & { set?: StatisticSet } {
    const o = object(raw, field);
    const metricName = reqString(o, 'MetricName', `${field}.MetricName`, { max: 255 });
    const dims = dimensions(o, 'Dimensions', `${field}.Dimensions`);
    const timestamp = optTime(o, 'Timestamp', `${field}.Timestamp`) ?? now;
    // Timestamps may be up to two weeks in the past and up to two hours in the future.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
    if (timestamp < now - 14 * DAY * 1000 || timestamp > now + 2 * 3_600_000) {
      throw invalidValue(`The value ${isoTime(timestamp)} for parameter ${field}.Timestamp is invalid: it must be within the past two weeks and at most two hours in the future.`);
    }
    const present = (['Value', 'Values', 'StatisticValues'] as const).filter((k) => o[k] !== undefined && o[k] !== null);
    if (present.length > 1) {
      throw invalidCombination(`The parameters ${field}.${present[0]} and ${field}.${present[1]} are mutually exclusive and you have specified both.`);
    }
    if (present.length === 0) throw new LabError('MissingParameter', `One of the parameters ${field}.Value, ${field}.Values or ${field}.StatisticValues is required.`);
    const checkValue = (v: number, f: string) => {
      // Values must lie within -2^360..2^360; NaN and infinities are rejected.
      if (Math.abs(v) > 2 ** 360) throw invalidValue(`The value ${v} for parameter ${f} is invalid: values must lie between -2^360 and 2^360.`);
      return v;
    };
    let values: { value: number; count: number }[] = [];
    let set: StatisticSet | undefined;
    if (present[0] === 'Value') values = [{ value: checkValue(reqNumber(o, 'Value', `${field}.Value`), `${field}.Value`), count: 1 }];
    else if (present[0] === 'Values') {
      const vs = optArray(o, 'Values', `${field}.Values`, 150) ?? [];
      const cs = optArray(o, 'Counts', `${field}.Counts`, 150);
      if (cs && cs.length !== vs.length) {
        throw invalidValue(`The parameters ${field}.Values and ${field}.Counts must have the same length, got ${vs.length} values and ${cs.length} counts.`);
      }
      values = vs.map((_, j) => ({
        value: checkValue(reqNumber(vs as unknown as Input, String(j), `${field}.Values.member.${j + 1}`), `${field}.Values.member.${j + 1}`),
        count: cs ? reqNumber(cs as unknown as Input, String(j), `${field}.Counts.member.${j + 1}`, { min: 0 }) : 1,
      }));
    } else {
      const sv = object(o.StatisticValues, `${field}.StatisticValues`);
      const f = `${field}.StatisticValues`;
      set = {
        sampleCount: reqNumber(sv, 'SampleCount', `${f}.SampleCount`, { min: 0 }),
        sum: checkValue(reqNumber(sv, 'Sum', `${f}.Sum`), `${f}.Sum`),
        minimum: checkValue(reqNumber(sv, 'Minimum', `${f}.Minimum`), `${f}.Minimum`),
        maximum: checkValue(reqNumber(sv, 'Maximum', `${f}.Maximum`), `${f}.Maximum`),
      };
      if (set.minimum > set.maximum) throw invalidValue(`The value of ${f}.Minimum (${set.minimum}) must not exceed ${f}.Maximum (${set.maximum}).`);
    }
    const unit = optString(o, 'Unit', `${field}.Unit`, { allowed: UNITS });
    const resolution = optNumber(o, 'StorageResolution', `${field}.StorageResolution`, { integer: true }) ?? 60;
    if (resolution !== 1 && resolution !== 60) throw invalidValue(`The value ${resolution} for parameter ${field}.StorageResolution is invalid. Valid values are 1 and 60.`);
    return { namespace, metricName, dimensions: dims, timestamp, values, set, unit, storageResolution: resolution };
  }

  /**
   * GetMetricData: MetricStat and Expression queries, buckets aligned to the epoch, newest first
   * unless ScanBy says otherwise. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
   */
  private getMetricData(input: Input): unknown {
    const raw = reqArray(input, 'MetricDataQueries', 'MetricDataQueries', 500);
    const queries = raw.map((q, i) => parseQuery(q, `MetricDataQueries.member.${i + 1}`, false));
    checkQueryGraph(queries, 'MetricDataQueries');
    const start = reqTime(input, 'StartTime');
    const end = reqTime(input, 'EndTime');
    if (start >= end) throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = optString(input, 'ScanBy', 'ScanBy', { allowed: SCAN_BY }) ?? 'TimestampDescending';
    const maxDatapoints = optNumber(input, 'MaxDatapoints', 'MaxDatapoints', { integer: true, min: 1 }) ?? MAX_DATAPOINTS;
    const from = readPageToken(optString(input, 'NextToken'));
    let results: Map<string, Series>;
    try {
      results = runQueries(this.store, queries, start, end, true);
    } catch (err) {
      if (err instanceof MathError) throw invalidValue(`Error in expression: ${err.message}.`);
      throw err;
    }
    // The returned points, query after query, are one list cut into pages of MaxDatapoints: a
    // query whose points go on past the page says PartialData, and the answer carries a NextToken.
    const pageEnd = from + maxDatapoints;
    let offset = 0;
    const MetricDataResults = queries
      .filter((q) => q.returnData)
      .map((q) => {
        const all = [...results.get(q.id)!].sort((a, b) => (scanBy === 'TimestampAscending' ? a[0] - b[0] : b[0] - a[0]));
        const first = offset;
        offset += all.length;
        const points = all.slice(Math.max(0, from - first), Math.max(0, pageEnd - first));
        return {
          Id: q.id,
          Label: q.label ?? q.metricStat?.metric.metricName ?? q.id,
          Timestamps: points.map(([t]) => seconds(t)),
          Values: points.map(([, v]) => v),
          StatusCode: first + all.length > pageEnd ? 'PartialData' : 'Complete',
          Messages: [],
        };
      });
    return { MetricDataResults, Messages: [], ...(offset > pageEnd ? { NextToken: pageToken(pageEnd) } : {}) };
  }

  /**
   * GetMetricStatistics: one metric, the simple statistics and percentiles per period, buckets
   * aligned to the epoch, at most 1,440 datapoints a call.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
   */
  private getMetricStatistics(input: Input): unknown {
    const metric = { namespace: reqString(input, 'Namespace', 'Namespace', { max: 255 }), metricName: reqString(input, 'MetricName', 'MetricName', { max: 255 }), dimensions: dimensions(input, 'Dimensions') };
    const start = reqTime(input, 'StartTime');
    const end = reqTime(input, 'EndTime');
    if (start >= end) throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
    const period = reqNumber(input, 'Period', 'Period', { integer: true, min: 1 });
    checkPeriod(period, 'Period', false);
    const statistics = optStringList(input, 'Statistics', 'Statistics', 5, { allowed: SIMPLE_STATS }) ?? [];
    const extended = optStringList(input, 'ExtendedStatistics', 'ExtendedStatistics', 10) ?? [];
    if (statistics.length === 0 && extended.length === 0) throw new LabError('MissingParameter', 'One of the parameters Statistics or ExtendedStatistics is required.');
    const percentiles = extended.map((e, i) => ({ name: e, stat: parseStatName(e, `ExtendedStatistics.member.${i + 1}`, true) }));
    const unit = optString(input, 'Unit', 'Unit', { allowed: UNITS });
    const p = period * 1000;
    const from = Math.floor(start / p) * p;
    const count = Math.ceil((end - from) / p);
    if (count > 1440) {
      throw invalidCombination(`You have requested up to ${count} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`);
    }
    const Datapoints = [...this.store.buckets(metric, p, from, end, unit)].map(([at, b]) => {
      const point: Record<string, unknown> = { Timestamp: seconds(at), Unit: b.unit };
      for (const name of statistics) point[name] = statValue(b, { kind: name as (typeof SIMPLE_STATS)[number] });
      if (percentiles.length) {
        point.ExtendedStatistics = Object.fromEntries(percentiles.flatMap(({ name, stat }) => {
          const v = statValue(b, stat);
          return v === undefined ? [] : [[name, v]];
        }));
      }
      return point;
    });
    return { Label: metric.metricName, Datapoints };
  }

  /** ListMetrics, 500 a page. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html */
  private listMetrics(input: Input): unknown {
    const namespace = optString(input, 'Namespace', 'Namespace', { min: 1, max: 255 });
    const metricName = optString(input, 'MetricName', 'MetricName', { min: 1, max: 255 });
    const filters = (optArray(input, 'Dimensions', 'Dimensions', 10) ?? []).map((d, i) => {
      const o = object(d, `Dimensions.member.${i + 1}`);
      return { name: reqString(o, 'Name', `Dimensions.member.${i + 1}.Name`, { max: 255 }), value: optString(o, 'Value', `Dimensions.member.${i + 1}.Value`, { max: 1024 }) };
    });
    const recent = optString(input, 'RecentlyActive', 'RecentlyActive', { allowed: ['PT3H'] });
    const from = readPageToken(optString(input, 'NextToken'));
    const now = this.now();
    const all = this.store
      .list()
      .filter(({ id, lastPut }) => {
        if (namespace !== undefined && id.namespace !== namespace) return false;
        if (metricName !== undefined && id.metricName !== metricName) return false;
        if (recent && lastPut < now - 3 * 3_600_000) return false;
        return filters.every((f) => f.name in id.dimensions && (f.value === undefined || id.dimensions[f.name] === f.value));
      })
      .map(({ id }) => ({ Namespace: id.namespace, MetricName: id.metricName, Dimensions: dimensionList(id.dimensions) }));
    const page = all.slice(from, from + 500);
    return { Metrics: page, ...(from + 500 < all.length ? { NextToken: pageToken(from + 500) } : {}) };
  }

  // --- Alarms: configuration ---------------------------------------------------------------

  /**
   * PutMetricAlarm: the single-metric form or the Metrics[] form. A new alarm starts in
   * INSUFFICIENT_DATA; an update keeps the state and replaces the whole configuration.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
   */
  private putMetricAlarm(input: Input): Record<string, never> {
    const name = reqString(input, 'AlarmName', 'AlarmName', { max: 255 });
    if (this.alarms.get(name)?.kind === 'CompositeAlarm') throw invalidValue(`The alarm ${name} is a composite alarm: PutMetricAlarm cannot replace it.`);
    const evaluationPeriods = reqNumber(input, 'EvaluationPeriods', 'EvaluationPeriods', { integer: true, min: 1 });
    const datapointsToAlarm = optNumber(input, 'DatapointsToAlarm', 'DatapointsToAlarm', { integer: true, min: 1 });
    if (datapointsToAlarm !== undefined && datapointsToAlarm > evaluationPeriods) {
      throw invalidValue(`The value ${datapointsToAlarm} for parameter DatapointsToAlarm is invalid: it must be between 1 and EvaluationPeriods (${evaluationPeriods}).`);
    }
    if (input.ThresholdMetricId !== undefined && input.ThresholdMetricId !== null) {
      throw invalidValue('The parameter ThresholdMetricId (anomaly detection bands) is not supported by the lab; use Threshold.');
    }
    const comparison = reqString(input, 'ComparisonOperator', 'ComparisonOperator', { allowed: COMPARISONS }) as Comparison;
    const threshold = reqNumber(input, 'Threshold');
    const treat = (optString(input, 'TreatMissingData', 'TreatMissingData', { allowed: TREAT_MISSING }) ?? 'missing') as TreatMissingData;
    const lowSample = optString(input, 'EvaluateLowSampleCountPercentile', 'EvaluateLowSampleCountPercentile', { allowed: ['evaluate', 'ignore'] });
    const actions = this.parseActions(input);
    const description = optString(input, 'AlarmDescription', 'AlarmDescription', { max: 1024 });
    const tags = parseTags(input, 'Tags');

    const singleKeys = ['MetricName', 'Namespace', 'Statistic', 'ExtendedStatistic', 'Dimensions', 'Period', 'Unit'].filter((k) => input[k] !== undefined && input[k] !== null);
    const metricsRaw = optArray(input, 'Metrics', 'Metrics', 20);
    let queries: QuerySpec[];
    let period: number;
    let returnId: string;
    let statLabel: string;
    let percentileP: number | undefined;
    const single: Record<string, unknown> = {};
    if (metricsRaw) {
      if (singleKeys.length) throw invalidCombination(`The parameters Metrics and ${singleKeys[0]} are mutually exclusive and you have specified both.`);
      if (metricsRaw.length === 0) throw missingParameter('Metrics');
      queries = metricsRaw.map((q, i) => parseQuery(q, `Metrics.member.${i + 1}`, true));
      checkQueryGraph(queries, 'Metrics');
      const returning = queries.filter((q) => q.returnData);
      if (returning.length !== 1) throw invalidValue(`Exactly one element of the Metrics list must have ReturnData set to true, got ${returning.length}.`);
      returnId = returning[0].id;
      const stats = queries.flatMap((q) => (q.metricStat ? [q.metricStat] : []));
      if (stats.length > 10) throw invalidValue(`An alarm can use at most 10 metrics, got ${stats.length}.`);
      const periods = new Set(stats.map((s) => s.period));
      if (periods.size > 1) throw invalidValue(`All metrics of an alarm must have the same period, got ${[...periods].join(', ')}.`);
      const p = stats[0]?.period ?? returning[0].period;
      if (p === undefined) throw missingParameter(`Metrics.member.${queries.indexOf(returning[0]) + 1}.Period`);
      period = p;
      statLabel = returning[0].metricStat?.stat ?? 'expression';
      if (returning[0].metricStat?.parsed.kind === 'percentile') percentileP = returning[0].metricStat.parsed.p;
    } else {
      const metricName = reqString(input, 'MetricName', 'MetricName', { max: 255 });
      const namespace = reqString(input, 'Namespace', 'Namespace', { max: 255 });
      const statistic = optString(input, 'Statistic', 'Statistic', { allowed: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] });
      const extended = optString(input, 'ExtendedStatistic');
      if (statistic !== undefined && extended !== undefined) throw invalidCombination('The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.');
      if (statistic === undefined && extended === undefined) throw new LabError('MissingParameter', 'One of the parameters Statistic or ExtendedStatistic is required.');
      const stat = statistic ?? extended!;
      const parsed = parseStatName(stat, statistic ? 'Statistic' : 'ExtendedStatistic', statistic === undefined);
      if (parsed.kind === 'percentile') percentileP = parsed.p;
      period = reqNumber(input, 'Period', 'Period', { integer: true, min: 1 });
      checkPeriod(period, 'Period', true);
      const unit = optString(input, 'Unit', 'Unit', { allowed: UNITS });
      const dims = dimensions(input, 'Dimensions');
      queries = [{ id: 'm1', returnData: true, metricStat: { metric: { namespace, metricName, dimensions: dims }, period, stat, parsed, unit } }];
      returnId = 'm1';
      statLabel = stat;
      Object.assign(single, {
        MetricName: metricName,
        Namespace: namespace,
        ...(statistic ? { Statistic: statistic } : { ExtendedStatistic: extended }),
        Dimensions: dimensionList(dims),
        Period: period,
        ...(unit ? { Unit: unit } : {}),
      });
    }
    checkPeriod(period, metricsRaw ? 'Metrics.Period' : 'Period', true);
    // Period x EvaluationPeriods may not exceed one day for periods under an hour, seven days otherwise.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    const cap = period < 3600 ? DAY : 7 * DAY;
    if (period * evaluationPeriods > cap) {
      throw invalidValue(`The product of EvaluationPeriods (${evaluationPeriods}) and Period (${period}) must not exceed ${cap} seconds.`);
    }
    // Dry run: an expression whose result is a number rather than a time series is rejected now.
    try {
      runQueries(this.store, queries, this.now(), this.now());
    } catch (err) {
      if (err instanceof MathError) throw invalidValue(`The Metrics of alarm ${name} cannot be evaluated: ${err.message}.`);
      throw err;
    }

    const now = this.now();
    const metricsOut = metricsRaw ? queries.map((q) => this.describeQuery(q)) : undefined;
    const config: Record<string, unknown> = {
      AlarmName: name,
      AlarmArn: ALARM_ARN_PREFIX + name,
      ...(description !== undefined ? { AlarmDescription: description } : {}),
      ...actions,
      ...single,
      ...(metricsOut ? { Metrics: metricsOut } : {}),
      EvaluationPeriods: evaluationPeriods,
      ...(datapointsToAlarm !== undefined ? { DatapointsToAlarm: datapointsToAlarm } : {}),
      Threshold: threshold,
      ComparisonOperator: comparison,
      TreatMissingData: treat,
      ...(lowSample ? { EvaluateLowSampleCountPercentile: lowSample } : {}),
    };
    const eventConfig: Record<string, unknown> = {
      ...(description !== undefined ? { description } : {}),
      metrics: queries.map((q) => ({
        id: q.id,
        ...(q.metricStat
          ? {
              metricStat: {
                metric: { namespace: q.metricStat.metric.namespace, name: q.metricStat.metric.metricName, dimensions: { ...q.metricStat.metric.dimensions } },
                period: q.metricStat.period,
                stat: q.metricStat.stat,
                ...(q.metricStat.unit ? { unit: q.metricStat.unit } : {}),
              },
            }
          : { expression: q.expression, ...(q.label ? { label: q.label } : {}) }),
        returnData: q.returnData,
      })),
    };
    const spec = {
      rule: { threshold, comparison, evaluationPeriods, datapointsToAlarm: datapointsToAlarm ?? evaluationPeriods, treatMissingData: treat },
      period,
      queries,
      returnId,
      statLabel,
      lowSample: lowSample === 'ignore' && percentileP !== undefined ? { p: percentileP } : undefined,
      config,
      eventConfig,
      configUpdated: now,
    };
    const existing = this.alarms.get(name);
    if (existing?.kind === 'MetricAlarm') Object.assign(existing, spec);
    else {
      this.alarms.set(name, {
        kind: 'MetricAlarm',
        name,
        arn: ALARM_ARN_PREFIX + name,
        state: { value: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updated: now, transitioned: now },
        tags,
        ...spec,
      });
    }
    this.recordConfig(name, 'MetricAlarm', existing ? 'updated' : 'created', config);
    return {};
  }

  private parseActions(input: Input): Record<string, unknown> {
    const list = (k: string) => optStringList(input, k, k, 5, { max: 1024 }) ?? [];
    return {
      ActionsEnabled: optBoolean(input, 'ActionsEnabled') ?? true,
      OKActions: list('OKActions'),
      AlarmActions: list('AlarmActions'),
      InsufficientDataActions: list('InsufficientDataActions'),
    };
  }

  private describeQuery(q: QuerySpec): Record<string, unknown> {
    return {
      Id: q.id,
      ...(q.metricStat
        ? {
            MetricStat: {
              Metric: { Namespace: q.metricStat.metric.namespace, MetricName: q.metricStat.metric.metricName, Dimensions: dimensionList(q.metricStat.metric.dimensions) },
              Period: q.metricStat.period,
              Stat: q.metricStat.stat,
              ...(q.metricStat.unit ? { Unit: q.metricStat.unit } : {}),
            },
          }
        : { Expression: q.expression }),
      ...(q.label !== undefined ? { Label: q.label } : {}),
      ...(q.period !== undefined ? { Period: q.period } : {}),
      ReturnData: q.returnData,
    };
  }

  /**
   * PutCompositeAlarm: the rule may name metric and composite alarms (by name or ARN) that exist;
   * a rule that makes the alarm depend on itself is rejected. The alarm is evaluated at once.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
   */
  private async putCompositeAlarm(input: Input): Promise<Record<string, never>> {
    const name = reqString(input, 'AlarmName', 'AlarmName', { max: 255 });
    if (this.alarms.get(name)?.kind === 'MetricAlarm') throw invalidValue(`The alarm ${name} is a metric alarm: PutCompositeAlarm cannot replace it.`);
    const ruleText = reqString(input, 'AlarmRule', 'AlarmRule', { max: 10240 });
    let rule: RuleNode;
    try {
      rule = parseRule(ruleText);
    } catch (err) {
      throw invalidValue(`The value ${ruleText} for parameter AlarmRule is invalid: ${(err as Error).message}. The rule takes ALARM("name"), OK("name"), INSUFFICIENT_DATA("name"), TRUE, FALSE, AND, OR, NOT and parentheses.`);
    }
    const refs = ruleAlarms(rule);
    const unknown = [...refs].filter((r) => r !== name && !this.alarms.has(r));
    if (unknown.length) throw invalidValue(`Could not save the composite alarm as alarms [${unknown.join(', ')}] in the alarm rule do not exist.`);
    if (this.reaches(refs, name)) throw invalidValue(`The alarm rule of ${name} makes it depend on itself.`);
    const actions = this.parseActions(input);
    const description = optString(input, 'AlarmDescription', 'AlarmDescription', { max: 1024 });
    const suppressor = optString(input, 'ActionsSuppressor', 'ActionsSuppressor', { max: 1600 });
    const wait = optNumber(input, 'ActionsSuppressorWaitPeriod', 'ActionsSuppressorWaitPeriod', { integer: true, min: 0 });
    const extension = optNumber(input, 'ActionsSuppressorExtensionPeriod', 'ActionsSuppressorExtensionPeriod', { integer: true, min: 0 });
    const tags = parseTags(input, 'Tags');
    const now = this.now();
    const config: Record<string, unknown> = {
      AlarmName: name,
      AlarmArn: ALARM_ARN_PREFIX + name,
      ...(description !== undefined ? { AlarmDescription: description } : {}),
      AlarmRule: ruleText,
      ...actions,
      ...(suppressor !== undefined ? { ActionsSuppressor: suppressor, ActionsSuppressorWaitPeriod: wait, ActionsSuppressorExtensionPeriod: extension } : {}),
    };
    const eventConfig = { alarmRule: ruleText, ...(description !== undefined ? { description } : {}), ...(suppressor ? { actionsSuppressor: suppressor } : {}) };
    const existing = this.alarms.get(name);
    let alarm: CompositeAlarm;
    if (existing?.kind === 'CompositeAlarm') {
      alarm = Object.assign(existing, { rule, refs, config, eventConfig, configUpdated: now });
    } else {
      alarm = {
        kind: 'CompositeAlarm',
        name,
        arn: ALARM_ARN_PREFIX + name,
        rule,
        refs,
        config,
        eventConfig,
        configUpdated: now,
        state: { value: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updated: now, transitioned: now },
        tags,
      };
      this.alarms.set(name, alarm);
    }
    this.recordConfig(name, 'CompositeAlarm', existing ? 'updated' : 'created', config);
    await this.evaluateComposite(alarm, undefined, new Set());
    return {};
  }

  /** Whether `target` is reachable from `refs` through composite alarm rules. */
  private reaches(refs: ReadonlySet<string>, target: string, seen = new Set<string>()): boolean {
    for (const r of refs) {
      if (r === target) return true;
      if (seen.has(r)) continue;
      seen.add(r);
      const a = this.alarms.get(r);
      if (a?.kind === 'CompositeAlarm' && this.reaches(a.refs, target, seen)) return true;
    }
    return false;
  }

  /** DeleteAlarms: every named alarm must exist, else nothing is deleted. */
  private deleteAlarms(input: Input): Record<string, never> {
    const names = optStringList(input, 'AlarmNames', 'AlarmNames', 100, { min: 1, max: 255 }) ?? [];
    if (names.length === 0) throw missingParameter('AlarmNames');
    const missing = names.filter((n) => !this.alarms.has(n));
    if (missing.length) throw notFound(`The alarms [${missing.join(', ')}] do not exist; none was deleted.`);
    for (const n of new Set(names)) {
      const a = this.alarms.get(n)!;
      this.alarms.delete(n);
      this.recordConfig(n, a.kind, 'deleted', a.config);
    }
    return {};
  }

  private recordConfig(name: string, type: Alarm['kind'], what: 'created' | 'updated' | 'deleted', config: Record<string, unknown>): void {
    this.history.push({
      AlarmName: name,
      AlarmType: type,
      Timestamp: this.now(),
      HistoryItemType: 'ConfigurationUpdate',
      HistorySummary: `Alarm "${name}" ${what}`,
      HistoryData: JSON.stringify({ version: '1.0', type: what === 'created' ? 'Create' : what === 'updated' ? 'Update' : 'Delete', [what === 'deleted' ? 'deletedAlarm' : 'updatedAlarm']: config }),
    });
  }

  /**
   * EnableAlarmActions / DisableAlarmActions: set ActionsEnabled of the named alarms. AWS lists no
   * not-found error for these operations; names of alarms that do not exist change nothing.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html
   */
  private setActionsEnabled(input: Input, enabled: boolean): Record<string, never> {
    const names = optStringList(input, 'AlarmNames', 'AlarmNames', 100, { min: 1, max: 255 }) ?? [];
    if (names.length === 0) throw missingParameter('AlarmNames');
    for (const n of names) {
      const a = this.alarms.get(n);
      if (a) a.config = { ...a.config, ActionsEnabled: enabled };
    }
    return {};
  }

  // --- Tags ----------------------------------------------------------------------------------

  /** The alarm an ARN names. The lab tags alarms only (AWS also tags Contributor Insights rules). */
  private tagged(input: Input): Alarm {
    const arn = reqString(input, 'ResourceARN', 'ResourceARN', { max: 1024 });
    if (!arn.startsWith(ALARM_ARN_PREFIX)) {
      throw new LabError('InvalidParameterValue', `The value ${arn} for parameter ResourceARN is invalid: the lab tags alarms only, with ARNs ${ALARM_ARN_PREFIX}<name>.`);
    }
    const alarm = this.alarms.get(arn.slice(ALARM_ARN_PREFIX.length));
    if (!alarm) throw new LabError('ResourceNotFoundException', `The resource ${arn} does not exist.`, 404);
    return alarm;
  }

  /** TagResource: add or overwrite tags, at most 50 a resource. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html */
  private tagResource(input: Input): Record<string, never> {
    const alarm = this.tagged(input);
    const tags = parseTags(input, 'Tags');
    if (tags.size === 0) throw missingParameter('Tags');
    const merged = new Map([...alarm.tags, ...tags]);
    if (merged.size > MAX_TAGS) throw invalidValue(`The resource would have ${merged.size} tags; at most ${MAX_TAGS} are allowed.`);
    alarm.tags = merged;
    return {};
  }

  /** UntagResource. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_UntagResource.html */
  private untagResource(input: Input): Record<string, never> {
    const alarm = this.tagged(input);
    const keys = optStringList(input, 'TagKeys', 'TagKeys', MAX_TAGS, { min: 1, max: 128 }) ?? [];
    if (keys.length === 0) throw missingParameter('TagKeys');
    for (const k of keys) alarm.tags.delete(k);
    return {};
  }

  /** ListTagsForResource. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListTagsForResource.html */
  private listTagsForResource(input: Input): unknown {
    const alarm = this.tagged(input);
    return { Tags: [...alarm.tags].map(([Key, Value]) => ({ Key, Value })) };
  }

  // --- Alarms: reading ---------------------------------------------------------------------

  /** DescribeAlarms. Without AlarmTypes only metric alarms are returned.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html */
  private describeAlarms(input: Input): unknown {
    const names = optStringList(input, 'AlarmNames', 'AlarmNames', 100, { min: 1, max: 255 });
    const prefix = optString(input, 'AlarmNamePrefix', 'AlarmNamePrefix', { min: 1, max: 255 });
    if (names && prefix !== undefined) throw invalidCombination('The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.');
    const children = optString(input, 'ChildrenOfAlarmName', 'ChildrenOfAlarmName', { min: 1, max: 255 });
    const parents = optString(input, 'ParentsOfAlarmName', 'ParentsOfAlarmName', { min: 1, max: 255 });
    if ((children !== undefined || parents !== undefined) && (names || prefix !== undefined || (children !== undefined && parents !== undefined))) {
      throw invalidCombination('ChildrenOfAlarmName and ParentsOfAlarmName cannot be combined with each other or with AlarmNames or AlarmNamePrefix.');
    }
    const types = optStringList(input, 'AlarmTypes', 'AlarmTypes', 2, { allowed: ALARM_TYPES });
    const stateValue = optString(input, 'StateValue', 'StateValue', { allowed: STATE_VALUES });
    const actionPrefix = optString(input, 'ActionPrefix', 'ActionPrefix', { min: 1, max: 1024 });
    const max = optNumber(input, 'MaxRecords', 'MaxRecords', { integer: true, min: 1, max: 100 }) ?? 50;
    const from = readPageToken(optString(input, 'NextToken'));
    const wanted = new Set(types && types.length ? types : children !== undefined || parents !== undefined ? ALARM_TYPES : ['MetricAlarm']);
    const nameSet = names ? new Set(names) : undefined;
    const childSet = children !== undefined ? (this.alarms.get(children) as CompositeAlarm | undefined)?.refs : undefined;
    const all = [...this.alarms.values()]
      .filter((a) => {
        if (!wanted.has(a.kind)) return false;
        if (nameSet && !nameSet.has(a.name)) return false;
        if (prefix !== undefined && !a.name.startsWith(prefix)) return false;
        if (children !== undefined && !childSet?.has(a.name)) return false;
        if (parents !== undefined && !(a.kind === 'CompositeAlarm' && a.refs.has(parents))) return false;
        if (stateValue !== undefined && a.state.value !== stateValue) return false;
        if (actionPrefix !== undefined) {
          const acts = [a.config.OKActions, a.config.AlarmActions, a.config.InsufficientDataActions].flat() as string[];
          if (!acts.some((x) => x.startsWith(actionPrefix))) return false;
        }
        return true;
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const page = all.slice(from, from + max);
    return {
      MetricAlarms: page.filter((a) => a.kind === 'MetricAlarm').map((a) => this.describeAlarm(a)),
      CompositeAlarms: page.filter((a) => a.kind === 'CompositeAlarm').map((a) => this.describeAlarm(a)),
      ...(from + max < all.length ? { NextToken: pageToken(from + max) } : {}),
    };
  }

  /**
   * DescribeAlarmsForMetric: the metric alarms on one metric, narrowed by whichever of Statistic,
   * ExtendedStatistic, Dimensions (all of them, exactly), Period and Unit are given. Alarms on
   * metric math and composite alarms are not returned.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmsForMetric.html
   */
  private describeAlarmsForMetric(input: Input): unknown {
    const metricName = reqString(input, 'MetricName', 'MetricName', { min: 1, max: 255 });
    const namespace = reqString(input, 'Namespace', 'Namespace', { min: 1, max: 255 });
    const statistic = optString(input, 'Statistic', 'Statistic', { allowed: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] });
    const extended = optString(input, 'ExtendedStatistic');
    const period = optNumber(input, 'Period', 'Period', { integer: true, min: 1 });
    const unit = optString(input, 'Unit', 'Unit', { allowed: UNITS });
    const dims = input.Dimensions === undefined ? undefined : dimensionList(dimensions(input, 'Dimensions'));
    const sameDims = (have: unknown) => {
      const list = (have ?? []) as { Name: string; Value: string }[];
      return list.length === dims!.length && dims!.every((d) => list.some((x) => x.Name === d.Name && x.Value === d.Value));
    };
    const alarms = [...this.alarms.values()]
      .filter((a) => {
        const c = a.config;
        if (a.kind !== 'MetricAlarm' || c.MetricName !== metricName || c.Namespace !== namespace) return false;
        if (statistic !== undefined && c.Statistic !== statistic) return false;
        if (extended !== undefined && c.ExtendedStatistic !== extended) return false;
        if (period !== undefined && c.Period !== period) return false;
        if (unit !== undefined && c.Unit !== unit) return false;
        return dims === undefined || sameDims(c.Dimensions);
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { MetricAlarms: alarms.map((a) => this.describeAlarm(a)) };
  }

  private describeAlarm(a: Alarm): Record<string, unknown> {
    return {
      ...a.config,
      AlarmConfigurationUpdatedTimestamp: seconds(a.configUpdated),
      StateValue: a.state.value,
      StateReason: a.state.reason,
      ...(a.state.reasonData !== undefined ? { StateReasonData: a.state.reasonData } : {}),
      StateUpdatedTimestamp: seconds(a.state.updated),
      StateTransitionedTimestamp: seconds(a.state.transitioned),
    };
  }

  /** DescribeAlarmHistory. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html */
  private describeAlarmHistory(input: Input): unknown {
    const name = optString(input, 'AlarmName', 'AlarmName', { min: 1, max: 255 });
    const types = optStringList(input, 'AlarmTypes', 'AlarmTypes', 2, { allowed: ALARM_TYPES });
    const itemType = optString(input, 'HistoryItemType', 'HistoryItemType', { allowed: HISTORY_TYPES });
    const start = optTime(input, 'StartDate');
    const end = optTime(input, 'EndDate');
    const max = optNumber(input, 'MaxRecords', 'MaxRecords', { integer: true, min: 1, max: 100 }) ?? 50;
    const scanBy = optString(input, 'ScanBy', 'ScanBy', { allowed: SCAN_BY }) ?? 'TimestampDescending';
    const from = readPageToken(optString(input, 'NextToken'));
    const wanted = new Set(types && types.length ? types : ['MetricAlarm']);
    const items = this.history
      .map((h, i) => ({ h, i }))
      .filter(({ h }) => {
        if (name !== undefined && h.AlarmName !== name) return false;
        if (name === undefined && !wanted.has(h.AlarmType)) return false;
        if (itemType !== undefined && h.HistoryItemType !== itemType) return false;
        if (start !== undefined && h.Timestamp < start) return false;
        if (end !== undefined && h.Timestamp > end) return false;
        return true;
      })
      .sort((a, b) => (scanBy === 'TimestampAscending' ? a.h.Timestamp - b.h.Timestamp || a.i - b.i : b.h.Timestamp - a.h.Timestamp || b.i - a.i))
      .map(({ h }) => ({ ...h, Timestamp: seconds(h.Timestamp) }));
    return { AlarmHistoryItems: items.slice(from, from + max), ...(from + max < items.length ? { NextToken: pageToken(from + max) } : {}) };
  }

  /**
   * SetAlarmState: a temporary state that lasts until the next evaluation.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
   */
  private async setAlarmState(input: Input): Promise<Record<string, never>> {
    const name = reqString(input, 'AlarmName', 'AlarmName', { max: 255 });
    const value = reqString(input, 'StateValue', 'StateValue', { allowed: STATE_VALUES }) as StateValue;
    const reason = reqString(input, 'StateReason', 'StateReason', { max: 1023 });
    const reasonData = optString(input, 'StateReasonData', 'StateReasonData', { max: 4000 });
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw new LabError('InvalidFormat', 'The value of StateReasonData is not valid JSON.');
      }
    }
    const alarm = this.alarms.get(name);
    if (!alarm) throw notFound(`Alarm ${name} not found.`);
    await this.transition(alarm, value, reason, reasonData);
    return {};
  }

  // --- Alarms: evaluation ------------------------------------------------------------------

  private async evaluateAlarms(at: number, which: (a: MetricAlarm) => boolean): Promise<void> {
    const due = [...this.alarms.values()].filter((a): a is MetricAlarm => a.kind === 'MetricAlarm' && which(a)).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const a of due) {
      // An alarm deleted by an earlier transition's listener is not evaluated.
      if (this.alarms.get(a.name) === a) await this.evaluateMetricAlarm(a, at);
    }
  }

  /**
   * Evaluate one metric alarm at `now`: completed periods only (the period still open is not
   * read), over an evaluation range of N + extra periods ending at the last period boundary.
   */
  private async evaluateMetricAlarm(a: MetricAlarm, now: number): Promise<void> {
    const p = a.period * 1000;
    const end = Math.floor(now / p) * p;
    const length = a.rule.evaluationPeriods + this.extra;
    const start = end - length * p;
    let series: Series;
    try {
      series = runQueries(this.store, a.queries, start, end).get(a.returnId) ?? new Map();
    } catch {
      series = new Map();
    }
    if (a.lowSample && this.lowSamples(a, start, end)) return;
    const range = Array.from({ length }, (_, i) => ({ at: start + i * p, value: series.get(start + i * p) }));
    const verdict = evaluateRange(range, a.rule);
    if (verdict.state === undefined || verdict.state === a.state.value) return;
    await this.transition(a, verdict.state, this.reason(a, verdict, a.state.value), this.reasonData(a, verdict, now, start));
  }

  /**
   * EvaluateLowSampleCountPercentile `ignore`: the state does not change while a period has fewer
   * than 10/(1-p) samples (p >= 0.5) or 10/p samples (p < 0.5).
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
   */
  private lowSamples(a: MetricAlarm, start: number, end: number): boolean {
    const q = a.queries.find((x) => x.id === a.returnId)?.metricStat;
    if (!q || !a.lowSample) return false;
    const p = a.lowSample.p / 100;
    const needed = p >= 0.5 ? 10 / (1 - p) : 10 / p;
    const buckets = this.store.buckets(q.metric, q.period * 1000, start, end, q.unit);
    return [...buckets.values()].some((b) => b.count < needed);
  }

  private reason(a: MetricAlarm, v: Verdict, from: StateValue): string {
    const { rule } = a;
    const treated = `[${rule.treatMissingData === 'notBreaching' ? 'NonBreaching' : rule.treatMissingData[0].toUpperCase() + rule.treatMissingData.slice(1)}]`;
    if (v.why === 'all-missing') {
      if (v.state === 'INSUFFICIENT_DATA') return `Insufficient Data: ${plural(v.missing, 'datapoint was', 'datapoints were')} unknown.`;
      return `Threshold Crossed: no datapoints were received for ${plural(v.missing, 'period')} and ${plural(v.filled, 'missing datapoint was', 'missing datapoints were')} treated as ${treated}.`;
    }
    if (v.why === 'too-few') return `Insufficient Data: ${plural(v.evaluated.length, 'datapoint')} breaching, fewer than the ${rule.datapointsToAlarm} needed, and the other periods missing.`;
    const to = v.state!;
    const counted = v.evaluated.filter((p) => (to === 'ALARM' ? p.breaching : !p.breaching));
    const list = v.evaluated.map((p) => (p.value === undefined ? `missing (${reasonTime(p.at)})` : `${p.value} (${reasonTime(p.at)})`)).join(', ');
    const verb = `${counted.length === 1 ? 'was' : 'were'} ${to === 'ALARM' ? '' : 'not '}${COMPARISON_TEXT[rule.comparison]}`;
    const fills = v.filled ? ` and ${plural(v.filled, 'missing datapoint was', 'missing datapoints were')} treated as ${treated}` : '';
    const premature = v.why === 'premature' ? ' (the oldest breaching datapoint is old enough and no newer datapoint is below it)' : '';
    return (
      `Threshold Crossed: ${counted.length} out of the last ${v.evaluated.length} datapoints [${list}] ${verb} the threshold (${rule.threshold})${fills}${premature} ` +
      `(minimum ${plural(rule.datapointsToAlarm, 'datapoint')} for ${from} -> ${to} transition).`
    );
  }

  private reasonData(a: MetricAlarm, v: Verdict, now: number, start: number): string {
    return JSON.stringify({
      version: '1.0',
      queryDate: isoTime(now),
      startDate: isoTime(start),
      statistic: a.statLabel,
      period: a.period,
      recentDatapoints: [...v.evaluated].reverse().flatMap((p) => (p.value === undefined ? [] : [p.value])),
      threshold: a.rule.threshold,
      evaluatedDatapoints: v.evaluated.map((p) => ({ timestamp: isoTime(p.at), ...(p.value !== undefined ? { value: p.value } : {}) })),
    });
  }

  private async evaluateComposite(c: CompositeAlarm, cause: Alarm | undefined, seen: Set<string>): Promise<void> {
    const alarm = evaluateRule(c.rule, (n) => this.alarms.get(n)?.state.value);
    const value: StateValue = alarm ? 'ALARM' : 'OK';
    if (value === c.state.value) return;
    const reason = cause
      ? `${cause.arn} transitioned to ${cause.state.value} at ${isoTime(cause.state.updated)}`
      : `The alarm rule evaluated to ${alarm ? 'TRUE' : 'FALSE'}`;
    const reasonData = JSON.stringify({ triggeringAlarms: cause ? [{ arn: cause.arn, state: { value: cause.state.value, timestamp: isoTime(cause.state.updated) } }] : [] });
    await this.transition(c, value, reason, reasonData, seen);
  }

  /**
   * Change an alarm's state: record history, publish the EventBridge event, then re-evaluate
   * the composite alarms whose rules name it.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
   */
  private async transition(a: Alarm, value: StateValue, reason: string, reasonData: string | undefined, seen = new Set<string>()): Promise<void> {
    const now = this.now();
    const prev = a.state;
    if (prev.value === value) {
      a.state = { ...prev, reason, reasonData, updated: now };
      return;
    }
    a.state = { value, reason, reasonData, updated: now, transitioned: now };
    const stateOf = (s: AlarmStateRecord) => ({ stateValue: s.value, stateReason: s.reason, ...(s.reasonData ? { stateReasonData: JSON.parse(s.reasonData) as unknown } : {}) });
    this.history.push({
      AlarmName: a.name,
      AlarmType: a.kind,
      Timestamp: now,
      HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${prev.value} to ${value}`,
      HistoryData: JSON.stringify({ version: '1.0', oldState: stateOf(prev), newState: stateOf(a.state) }),
    });
    const eventState = (s: AlarmStateRecord) => ({ value: s.value, reason: s.reason, ...(s.reasonData !== undefined ? { reasonData: s.reasonData } : {}), timestamp: isoTime(s.updated) });
    await this.ctx.events.publish({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: [a.arn],
      detail: { alarmName: a.name, state: eventState(a.state), previousState: eventState(prev), configuration: a.eventConfig },
    });
    seen.add(a.name);
    const parents = [...this.alarms.values()].filter((x): x is CompositeAlarm => x.kind === 'CompositeAlarm' && x.refs.has(a.name) && !seen.has(x.name));
    for (const parent of parents) await this.evaluateComposite(parent, a, seen);
  }
}
