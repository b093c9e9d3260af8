/**
 * Cold starts judged from the init reports: is the new version's init phase materially slower
 * than the old version's?
 *
 * Lambda's `Duration` metric and the REPORT line's Duration leave the init phase out, so a heavy
 * new dependency or a slow configuration load shows in no other signal. The telemetry extension
 * counts each execution environment's `platform.initReport` (phase `init`, on-demand) into its
 * version's watch item as a histogram (INIT_HISTOGRAM), for the new version and for the old one
 * (the baseline watch), over the same release.
 * https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-initReport
 *
 * The rule: the new version regresses when its median init is above
 * h(old median) = max(maxRatio x old median, old median + minExcessMs) (1.5x and 200 ms by default).
 * The test, valid at every look and for any shape of the init durations (log-normal, bimodal):
 *
 * 1. An upper bound on the old median. Let q be the old version's true median and B the number of
 *    its inits below q: each init is below q with probability at most 1/2. The bound is the upper
 *    edge of the bucket holding the k-th smallest old init, k the fewest of m that the always-valid
 *    binomial test (sequential.ts) finds significantly more than half at alpha/2. The bound falls
 *    below q only if B >= k, that is only if that test rejects a true null: by Ville's inequality,
 *    at any look of the release with probability at most alpha/2.
 * 2. The reference R = h(bound) >= h(q) whenever the bound holds. The new version's inits surely
 *    above R (whole buckets above it) are at most its inits above h(q); under the null (new median
 *    <= h(q)) each of those is above h(q) with probability at most 1/2. The always-valid test of
 *    that share against 1/2 at alpha/2 rejects a true null, at any look, with probability at most
 *    alpha/2; counting fewer events only lowers its likelihood ratio.
 *
 * So a good release is rolled back by this signal with probability at most alpha over all looks
 * (Bonferroni over the two steps), whatever the looks: the sign test (Dixon & Mood 1946) against a
 * distribution-free confidence bound for a median (Thompson 1936), each step in the always-valid
 * form of Robbins (1970). It can only fail a release, never pass one that other signals fail; it
 * needs about 15 inits of each version at alpha 0.001 (too few: insufficient, never failed).
 */
import { mixtureLogRatio } from './sequential';
import type { Evidence, InitSignal, Observation } from './types';

/**
 * The init-duration histogram the extension writes (extension/contract.go): bucket k <
 * count - 1 holds inits in (edge(k-1), edge(k)] ms, edge(k) = baseMs x 2^(k / perOctave); the last
 * bucket holds everything above (16,384 ms: Lambda's init phase is limited to 10 s). An eighth of
 * an octave (9 %) is fine beside the tolerance: the test loses at most a bucket on each side.
 */
export const INIT_HISTOGRAM = { baseMs: 64, perOctave: 8, count: 66 } as const;

/** The bucket of an init of `ms` milliseconds (the extension's initBucketOf). */
export function initBucketOf(ms: number): number {
  if (!(ms > INIT_HISTOGRAM.baseMs)) return 0;
  // The epsilon keeps a value on an edge in the bucket that edge closes, as in Go.
  const k = Math.ceil(INIT_HISTOGRAM.perOctave * Math.log2(ms / INIT_HISTOGRAM.baseMs) - 1e-9);
  return Math.min(k, INIT_HISTOGRAM.count - 1);
}

/** The upper edge of bucket k, ms (Infinity for the last). */
export function initBucketUpperMs(k: number): number {
  return k >= INIT_HISTOGRAM.count - 1 ? Infinity : INIT_HISTOGRAM.baseMs * 2 ** (k / INIT_HISTOGRAM.perOctave);
}

/** The lower edge of bucket k, ms (0 for the first). */
export function initBucketLowerMs(k: number): number {
  return k <= 0 ? 0 : initBucketUpperMs(k - 1);
}

/** A version's counted inits: how many, and how many in each bucket. */
export interface InitHistogram {
  readonly count: number;
  /** INIT_HISTOGRAM.count numbers; bucket k at index k. */
  readonly buckets: readonly number[];
}

/** The histogram of raw init durations (tests, the lab). */
export function initHistogramOf(durationsMs: readonly number[]): InitHistogram {
  const buckets = new Array<number>(INIT_HISTOGRAM.count).fill(0);
  for (const ms of durationsMs) buckets[initBucketOf(ms)]++;
  return { count: durationsMs.length, buckets };
}

/** When a slower init is a regression: above maxRatio x the old median and at least minExcessMs above it. */
export interface InitTolerance {
  readonly maxRatio: number;
  readonly minExcessMs: number;
}

/**
 * Defaults: the latency comparison's ratio (1.5x), with 200 ms as the least excess a user waiting
 * on a cold start notices; init durations of a few hundred ms vary by more than 100 ms run to run.
 */
export const DEFAULT_INIT_TOLERANCE: InitTolerance = { maxRatio: 1.5, minExcessMs: 200 };

export interface InitTestResult {
  readonly outcome: 'failed' | 'healthy' | 'insufficient' | 'not-applicable';
  /** Compared with alpha: twice the new-version step's always-valid p-value (the Bonferroni split). */
  readonly pValue?: number;
  /** The upper confidence bound on the old median, ms. */
  readonly oldMedianBoundMs?: number;
  /** h(bound): the reference the new version's inits are counted above, ms. */
  readonly referenceMs?: number;
  /** The new version's inits surely above the reference (whole buckets). */
  readonly above?: number;
  readonly newCount: number;
  readonly oldCount: number;
  readonly note: string;
}

const fmtMs = (ms: number) => `${Math.round(ms).toLocaleString('en-US')} ms`;

const majorities = new Map<string, number | undefined>();

/** The fewest of m inits (k <= m) that the always-valid test at `alpha` finds significantly more than half; undefined when none. */
function significantMajority(m: number, alpha: number): number | undefined {
  const key = `${m}|${alpha}`;
  if (majorities.has(key)) return majorities.get(key);
  const need = Math.log(1 / alpha);
  let out: number | undefined;
  for (let k = Math.ceil(m / 2); k <= m; k++) {
    if (mixtureLogRatio(k, m, 0.5) >= need) {
      out = k;
      break;
    }
  }
  if (majorities.size > 10_000) majorities.clear();
  majorities.set(key, out);
  return out;
}

/** The bucket holding the k-th smallest (1-based) of a histogram. */
function bucketOfRank(h: InitHistogram, k: number): number {
  let seen = 0;
  for (let b = 0; b < h.buckets.length; b++) {
    seen += h.buckets[b];
    if (seen >= k) return b;
  }
  return h.buckets.length - 1;
}

function checkHistogram(h: InitHistogram, name: string): void {
  if (h.buckets.length !== INIT_HISTOGRAM.count) throw new RangeError(`${name}.buckets must hold ${INIT_HISTOGRAM.count} numbers, got ${h.buckets.length}`);
  for (const v of [h.count, ...h.buckets]) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must hold finite numbers >= 0, got ${v}`);
  }
}

/**
 * Whether the new version's init is materially slower than the old version's (module comment),
 * from both versions' histograms over the same release. The outcome is `failed` only when the
 * test rejects at `alpha`; `healthy` when it could have (enough inits of both) and did not;
 * `insufficient` with too few; `not-applicable` when the new version has no init counted.
 */
export function initRegressionTest(newH: InitHistogram, oldH: InitHistogram | undefined, tolerance: InitTolerance, alpha: number): InitTestResult {
  checkHistogram(newH, 'new');
  if (oldH) checkHistogram(oldH, 'old');
  // The histogram's own total: a count written without its buckets (a torn write) is not evidence.
  const n = newH.buckets.reduce((a, b) => a + b, 0);
  const m = oldH ? oldH.buckets.reduce((a, b) => a + b, 0) : 0;
  const base = { newCount: n, oldCount: m };
  if (n === 0) return { ...base, outcome: 'not-applicable', note: 'no cold start of the new version counted yet' };
  if (!oldH || m === 0) return { ...base, outcome: 'insufficient', note: `${n} cold starts of the new version, none of the old version's counted to compare with` };
  const k = significantMajority(m, alpha / 2);
  const kthBucket = k === undefined ? undefined : bucketOfRank(oldH, k);
  const bound = kthBucket === undefined ? Infinity : initBucketUpperMs(kthBucket);
  if (!Number.isFinite(bound)) {
    return { ...base, outcome: 'insufficient', note: `${m} cold starts of the old version bound its median at no finite value (about 15 are needed at alpha ${alpha}); ${n} of the new version` };
  }
  const reference = Math.max(tolerance.maxRatio * bound, bound + tolerance.minExcessMs);
  let above = 0;
  for (let b = 0; b < newH.buckets.length; b++) if (initBucketLowerMs(b) >= reference) above += newH.buckets[b];
  const logRatio = mixtureLogRatio(above, n, 0.5);
  const pValue = Math.min(1, 2 * (logRatio === Infinity ? 0 : logRatio <= 0 ? 1 : Math.exp(-logRatio)));
  const common = { ...base, pValue, oldMedianBoundMs: bound, referenceMs: reference, above };
  const what = `${above} of ${n} new-version inits above ${fmtMs(reference)} (max(${tolerance.maxRatio}x, +${tolerance.minExcessMs} ms) of the old median's upper bound ${fmtMs(bound)}, from ${m} old-version inits)`;
  if (pValue <= alpha) return { ...common, outcome: 'failed', note: `cold starts regressed: ${what}, more than half, p = ${pValue.toPrecision(2)} < ${alpha}` };
  // Could n inits, all above, have rejected? If not, the sample is too small to call it healthy.
  const couldReject = 2 * Math.exp(-mixtureLogRatio(n, n, 0.5)) <= alpha;
  return { ...common, outcome: couldReject ? 'healthy' : 'insufficient', note: `${what}, p = ${pValue.toPrecision(2)}${couldReject ? '' : ` (about 15 new-version inits are needed at alpha ${alpha})`}` };
}

/** The `inits` signal's evidence: initRegressionTest on the observation, its figures in the record. */
export function judgeInits(spec: InitSignal, obs: Extract<Observation, { kind: 'inits' }>, layer: string): Evidence {
  const r = initRegressionTest(obs.new, obs.old, { maxRatio: spec.maxRatio, minExcessMs: spec.minExcessMs }, spec.alpha);
  const median = (h: InitHistogram | undefined) => {
    if (!h) return null;
    const n = h.buckets.reduce((a, b) => a + b, 0);
    return n ? Math.round(initBucketUpperMs(bucketOfRank(h, Math.ceil(n / 2)))) : null;
  };
  return {
    layer,
    signal: spec.name,
    outcome: r.outcome,
    // The new version's median init, as its histogram bucket's upper edge.
    observed: median(obs.new),
    threshold: r.referenceMs !== undefined ? `more than half of the inits > ${Math.round(r.referenceMs)} ms (p < ${spec.alpha})` : `median > ${spec.maxRatio}x old and +${spec.minExcessMs} ms`,
    unit: 'ms',
    sampleSize: r.newCount,
    window: { start: new Date(obs.window.start).toISOString(), end: new Date(obs.window.end).toISOString() },
    ...(r.pValue !== undefined ? { pValue: r.pValue } : {}),
    ...(obs.old ? { baseline: { observed: median(obs.old), sampleSize: r.oldCount } } : {}),
    note: r.note,
  };
}
