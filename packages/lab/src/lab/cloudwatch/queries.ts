/**
 * Metric queries as GetMetricData and PutMetricAlarm's Metrics[] take them: parsing at the API
 * boundary, and running them (metric statistics, then expressions in dependency order).
 */
import { asSeries, checkExpression, evaluate, MathError, referencedIds, type Node } from './math';
import { dimensions, invalidValue, object, optBoolean, optNumber, optString, QUERY_ID, reqNumber, reqString, UNITS, type Input } from './input';
import { parseStat, type MetricIdentity, type MetricStore, type Series, type Stat } from './store';

export interface MetricStatSpec {
  readonly metric: MetricIdentity;
  /** Seconds. */
  readonly period: number;
  readonly stat: string;
  readonly parsed: Stat;
  readonly unit?: string;
}

export interface QuerySpec {
  readonly id: string;
  readonly label?: string;
  readonly returnData: boolean;
  readonly metricStat?: MetricStatSpec;
  readonly expression?: string;
  readonly node?: Node;
  /** Seconds (an expression's own Period). */
  readonly period?: number;
}

/**
 * Valid periods: 1, 5, 10, 20, 30 or a multiple of 60 seconds for queries; alarms take 10, 20, 30
 * or a multiple of 60. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 */
export function checkPeriod(period: number, field: string, forAlarm: boolean): void {
  const short = forAlarm ? [10, 20, 30] : [1, 5, 10, 20, 30];
  if (!short.includes(period) && !(period > 0 && period % 60 === 0)) {
    throw invalidValue(`The value ${period} for parameter ${field} is invalid. Valid values are ${short.join(', ')} and any multiple of 60.`);
  }
}

export function parseMetricIdentity(o: Input, field: string): MetricIdentity {
  return {
    namespace: reqString(o, 'Namespace', `${field}.Namespace`, { max: 255 }),
    metricName: reqString(o, 'MetricName', `${field}.MetricName`, { max: 255 }),
    dimensions: dimensions(o, 'Dimensions', `${field}.Dimensions`),
  };
}

export function parseStatName(name: string, field: string, percentilesOnly = false): Stat {
  const parsed = parseStat(name);
  if (!parsed || (percentilesOnly && parsed.kind !== 'percentile')) {
    throw invalidValue(
      `The value ${name} for parameter ${field} is invalid. ` +
        (percentilesOnly ? 'Valid values are percentiles p0.0 to p100.' : 'Valid values are SampleCount, Average, Sum, Minimum, Maximum, percentiles p0.0 to p100 and percentile ranks PR(n:m).'),
    );
  }
  return parsed;
}

/** One MetricDataQuery (GetMetricData) or MetricDataQuery of an alarm's Metrics[]. */
export function parseQuery(raw: unknown, field: string, forAlarm: boolean): QuerySpec {
  const o = object(raw, field);
  const id = reqString(o, 'Id', `${field}.Id`, { max: 255 });
  if (!QUERY_ID.test(id)) throw invalidValue(`The value ${id} for parameter ${field}.Id is invalid: it must start with a lower-case letter and hold only letters, digits and underscores.`);
  const label = optString(o, 'Label', `${field}.Label`);
  const returnData = optBoolean(o, 'ReturnData', `${field}.ReturnData`) ?? true;
  const period = optNumber(o, 'Period', `${field}.Period`, { integer: true, min: 1 });
  optString(o, 'AccountId', `${field}.AccountId`);
  const hasStat = o.MetricStat !== undefined && o.MetricStat !== null;
  const hasExpr = o.Expression !== undefined && o.Expression !== null;
  if (hasStat === hasExpr) {
    throw invalidValue(`Exactly one of ${field}.MetricStat and ${field}.Expression must be specified.`);
  }
  if (hasExpr) {
    const expression = reqString(o, 'Expression', `${field}.Expression`, { max: 2048 });
    if (period !== undefined) checkPeriod(period, `${field}.Period`, forAlarm);
    return { id, label, returnData, expression, node: checkExpression(expression, `${field}.Expression`), period };
  }
  const ms = object(o.MetricStat, `${field}.MetricStat`);
  const metric = parseMetricIdentity(object(ms.Metric, `${field}.MetricStat.Metric`), `${field}.MetricStat.Metric`);
  const statPeriod = reqNumber(ms, 'Period', `${field}.MetricStat.Period`, { integer: true, min: 1 });
  checkPeriod(statPeriod, `${field}.MetricStat.Period`, forAlarm);
  const stat = reqString(ms, 'Stat', `${field}.MetricStat.Stat`);
  const unit = optString(ms, 'Unit', `${field}.MetricStat.Unit`, { allowed: UNITS });
  return { id, label, returnData, metricStat: { metric, period: statPeriod, stat, parsed: parseStatName(stat, `${field}.MetricStat.Stat`), unit }, period };
}

/** Ids unique, every id an expression names defined, and no expression depending on itself. */
export function checkQueryGraph(queries: readonly QuerySpec[], field: string): void {
  const byId = new Map<string, QuerySpec>();
  for (const q of queries) {
    if (byId.has(q.id)) throw invalidValue(`The values for parameter Id in ${field} are not unique: ${q.id} appears more than once.`);
    byId.set(q.id, q);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (q: QuerySpec, path: string[]) => {
    if (state.get(q.id) === 'done') return;
    if (state.get(q.id) === 'visiting') throw invalidValue(`The expressions in ${field} form a cycle: ${[...path, q.id].join(' -> ')}.`);
    state.set(q.id, 'visiting');
    for (const ref of q.node ? referencedIds(q.node) : []) {
      const target = byId.get(ref);
      if (!target) throw invalidValue(`The expression of ${q.id} in ${field} refers to ${ref}, which is not the Id of any query in the request.`);
      visit(target, [...path, q.id]);
    }
    state.set(q.id, 'done');
  };
  queries.forEach((q) => visit(q, []));
}

/** The period an expression is computed at: its own, else the shortest metric period of the request, else 60 s. */
export function defaultPeriod(queries: readonly QuerySpec[]): number {
  const periods = queries.flatMap((q) => (q.metricStat ? [q.metricStat.period] : []));
  return periods.length ? Math.min(...periods) : 60;
}

/**
 * Where a GetMetricData request's periods begin: its StartTime rounded down to the whole minute
 * (periods of 60 s and more; start times under 15 days old), or to the period's division of a
 * minute (5, 10, 20, 30 s), and counted from there, so no datapoint before StartTime comes back.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
 */
export function requestOrigin(start: number, periodMs: number): number {
  const unit = periodMs >= 60_000 ? 60_000 : periodMs;
  return Math.floor(start / unit) * unit;
}

/**
 * Run every query over the buckets starting in [start, end) (epoch ms). Buckets are aligned to
 * the epoch (alarm evaluation), or with `fromStart` to the request's StartTime as GetMetricData
 * aligns them (see requestOrigin). Throws MathError when an expression cannot be computed.
 */
export function runQueries(store: MetricStore, queries: readonly QuerySpec[], start: number, end: number, fromStart = false): Map<string, Series> {
  const byId = new Map(queries.map((q) => [q.id, q]));
  const done = new Map<string, Series>();
  const fallback = defaultPeriod(queries);
  const get = (id: string, path: readonly string[]): Series => {
    const cached = done.get(id);
    if (cached) return cached;
    const q = byId.get(id);
    if (!q) throw new MathError(`unknown id ${id}`);
    if (path.includes(id)) throw new MathError(`the expressions form a cycle: ${[...path, id].join(' -> ')}`);
    let s: Series;
    if (q.metricStat) {
      const p = q.metricStat.period * 1000;
      const origin = fromStart ? requestOrigin(start, p) : 0;
      s = store.series(q.metricStat.metric, q.metricStat.parsed, p, origin + Math.floor((start - origin) / p) * p, end, q.metricStat.unit, origin);
    } else {
      const p = (q.period ?? fallback) * 1000;
      const origin = fromStart ? requestOrigin(start, p) : 0;
      const timeline: number[] = [];
      for (let t = origin + Math.floor((start - origin) / p) * p; t < end; t += p) timeline.push(t);
      s = asSeries(evaluate(q.node!, { series: (ref) => get(ref, [...path, id]), timeline }), id);
    }
    done.set(id, s);
    return s;
  };
  for (const q of queries) get(q.id, []);
  return done;
}
