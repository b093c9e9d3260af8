/**
 * Metric storage and statistics: datapoints as PutMetricData sends them (values with counts, or
 * statistic sets), aggregated into period buckets aligned to the epoch.
 */
import type { Datum } from '../ports';

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A pre-aggregated statistic set (PutMetricData StatisticValues). */
export interface StatisticSet {
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
}

interface Sample {
  readonly ts: number;
  readonly values: readonly { readonly value: number; readonly count: number }[];
  readonly set?: StatisticSet;
  readonly unit?: string;
}

interface StoredMetric {
  readonly id: MetricIdentity;
  readonly samples: Sample[];
  lastPut: number;
}

/** One period's aggregate. Percentiles use the raw values only (statistic sets carry none). */
export interface Bucket {
  count: number;
  sum: number;
  min: number;
  max: number;
  readonly values: { value: number; count: number }[];
  /** The unit of the period's first sample (`None` when it gave none). */
  unit?: string;
}

/** A time series: bucket start (epoch ms) -> value. */
export type Series = Map<number, number>;

export type Stat =
  | { readonly kind: 'Sum' | 'Average' | 'SampleCount' | 'Minimum' | 'Maximum' }
  | { readonly kind: 'percentile'; readonly p: number }
  /** Percentile rank PR(lo:hi): the percentage of values above `lo` and at or below `hi`. */
  | { readonly kind: 'rank'; readonly lo?: number; readonly hi?: number };

export const SIMPLE_STATS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;

/** A bound of PR(n:m): a number with at most 10 decimal places. */
const RANK_BOUND = '(-?\\d+(?:\\.\\d{1,10})?)?';
const RANK = new RegExp(`^PR\\(${RANK_BOUND}:${RANK_BOUND}\\)$`, 'i');

/** Parse a statistic name: the five simple statistics, pNN / pNN.NN (0 to 100), or PR(n:m) (one
 * bound at least; the lower no higher than the upper).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html */
export function parseStat(name: string): Stat | undefined {
  if ((SIMPLE_STATS as readonly string[]).includes(name)) return { kind: name as (typeof SIMPLE_STATS)[number] };
  const r = RANK.exec(name);
  if (r) {
    const lo = r[1] === undefined ? undefined : Number(r[1]);
    const hi = r[2] === undefined ? undefined : Number(r[2]);
    if ((lo === undefined && hi === undefined) || (lo !== undefined && hi !== undefined && lo > hi)) return undefined;
    return { kind: 'rank', ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}) };
  }
  const m = /^[pP](\d{1,3}(?:\.\d{1,10})?)$/.exec(name);
  if (!m) return undefined;
  const p = Number(m[1]);
  return p >= 0 && p <= 100 ? { kind: 'percentile', p } : undefined;
}

export function metricKey(id: MetricIdentity): string {
  const dims = Object.keys(id.dimensions)
    .sort()
    .map((k) => [k, id.dimensions[k]]);
  return JSON.stringify([id.namespace, id.metricName, dims]);
}

/**
 * Nearest-rank percentile over values with counts: the smallest value such that at least p % of
 * the samples are at or below it ("p95 means 95 percent of the data within the period is lower").
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
 */
export function percentile(values: readonly { value: number; count: number }[], p: number): number | undefined {
  const sorted = values.filter((v) => v.count > 0).sort((a, b) => a.value - b.value);
  const total = sorted.reduce((n, v) => n + v.count, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total - 1e-9));
  let seen = 0;
  for (const v of sorted) {
    seen += v.count;
    if (seen >= rank) return v.value;
  }
  return sorted[sorted.length - 1].value;
}

/**
 * Percentile rank: the percentage of the values (with counts) above `lo` and at or below `hi`
 * ("the lower bound is exclusive and the upper bound is inclusive"), either bound open.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
 */
export function percentileRank(values: readonly { value: number; count: number }[], lo: number | undefined, hi: number | undefined): number | undefined {
  let total = 0;
  let within = 0;
  for (const v of values) {
    if (v.count <= 0) continue;
    total += v.count;
    if ((lo === undefined || v.value > lo) && (hi === undefined || v.value <= hi)) within += v.count;
  }
  return total === 0 ? undefined : (100 * within) / total;
}

export function statValue(b: Bucket, stat: Stat): number | undefined {
  if (b.count <= 0) return undefined;
  switch (stat.kind) {
    case 'Sum':
      return b.sum;
    case 'Average':
      return b.sum / b.count;
    case 'SampleCount':
      return b.count;
    case 'Minimum':
      return b.min;
    case 'Maximum':
      return b.max;
    case 'percentile':
      return percentile(b.values, stat.p);
    case 'rank':
      return percentileRank(b.values, stat.lo, stat.hi);
  }
}

export class MetricStore {
  private readonly metrics = new Map<string, StoredMetric>();

  /**
   * Store datapoints. Standard-resolution data is kept at one-minute granularity, high-resolution
   * data at one second. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html
   */
  put(data: readonly (Datum & { readonly set?: StatisticSet })[], now: number): void {
    for (const d of data) {
      const id: MetricIdentity = { namespace: d.namespace, metricName: d.metricName, dimensions: { ...d.dimensions } };
      const key = metricKey(id);
      let m = this.metrics.get(key);
      if (!m) {
        m = { id, samples: [], lastPut: now };
        this.metrics.set(key, m);
      }
      m.lastPut = now;
      const grain = d.storageResolution === 1 ? 1000 : 60_000;
      m.samples.push({ ts: Math.floor(d.timestamp / grain) * grain, values: d.values.map((v) => ({ ...v })), set: d.set, unit: d.unit });
    }
  }

  list(): readonly { readonly id: MetricIdentity; readonly lastPut: number }[] {
    return [...this.metrics.values()].map((m) => ({ id: m.id, lastPut: m.lastPut }));
  }

  /**
   * Aggregate one metric into buckets of `periodMs` whose start lies in [start, end), aligned to
   * `origin` (the epoch unless given).
   */
  buckets(id: MetricIdentity, periodMs: number, start: number, end: number, unit?: string, origin = 0): Map<number, Bucket> {
    const out = new Map<number, Bucket>();
    const m = this.metrics.get(metricKey(id));
    if (!m) return out;
    for (const s of m.samples) {
      if (unit !== undefined && (s.unit ?? 'None') !== unit) continue;
      const at = origin + Math.floor((s.ts - origin) / periodMs) * periodMs;
      if (at < start || at >= end) continue;
      let b = out.get(at);
      if (!b) {
        b = { count: 0, sum: 0, min: Infinity, max: -Infinity, values: [], unit: s.unit ?? 'None' };
        out.set(at, b);
      }
      if (s.set) {
        b.count += s.set.sampleCount;
        b.sum += s.set.sum;
        b.min = Math.min(b.min, s.set.minimum);
        b.max = Math.max(b.max, s.set.maximum);
      }
      for (const v of s.values) {
        b.count += v.count;
        b.sum += v.value * v.count;
        b.min = Math.min(b.min, v.value);
        b.max = Math.max(b.max, v.value);
        b.values.push({ value: v.value, count: v.count });
      }
    }
    return out;
  }

  series(id: MetricIdentity, stat: Stat, periodMs: number, start: number, end: number, unit?: string, origin = 0): Series {
    const out: Series = new Map();
    for (const [at, b] of [...this.buckets(id, periodMs, start, end, unit, origin)].sort((x, y) => x[0] - y[0])) {
      const v = statValue(b, stat);
      if (v !== undefined && Number.isFinite(v)) out.set(at, v);
    }
    return out;
  }
}
