/**
 * Exact tests used by the decision core. Pure numerics, no dependencies.
 *
 * Two questions are asked of error counts:
 * 1. Absolute: "is the new version's error rate above `maxRate`?" An exact one-sided binomial
 *    test: p = P(X >= x | n, maxRate).
 * 2. Relative: "is the new version's error rate above the old version's, running at the same
 *    time under the same alias, by more than a tolerance?" The exact conditional test for two
 *    Poisson rates (Przyborowski & Wilenski, 1940): given the total number of errors E of both
 *    versions, the new version's share is Binomial(E, pi) under H0, with
 *    pi = nNew * r / (nNew * r + nOld) and r = 1 + tolerance. For binomial counts the
 *    conditional distribution is hypergeometric, narrower than this binomial, so the test is
 *    conservative: its false-positive rate per evaluation is at most alpha.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** Natural log of the gamma function (Lanczos approximation, g = 7). */
export function logGamma(z: number): number {
  if (z < 0.5) {
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - logGamma(1 - z);
  }
  const x = z - 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** log P(X = k) for X ~ Binomial(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * P(X >= k) for X ~ Binomial(n, p), summed exactly from the short side of the distribution.
 *
 * The sum is kept relative to its first term, C(n,k0) p^k0 (1-p)^(n-k0) taken in logs, and each
 * next term follows from the last by the ratio of neighbouring binomial terms, so terms that
 * would underflow never stop the sum early nor keep it running: far in a tail the ratio is small
 * and the sum ends after a few terms; near the mean the ratio approaches 1 and the terms fall
 * below 1e-17 of the sum within about 9 standard deviations. The work is therefore bounded by
 * 9 * sqrt(n * p * (1 - p)) + 2 steps of arithmetic (about 450,000 at n = 1e10, p = 0.5:
 * a millisecond), whatever k is. (The regularized incomplete beta I_p(k, n - k + 1) would be
 * O(1), but @stdlib/math-base-special-betainc returns 0.35 instead of 0.5 at the mean for
 * n = 1e10, p = 0.05, and is not monotone there: not good enough for an exact test.)
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  assertCount('n', n);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  k = Math.ceil(k);
  // The upper tail from k when k is above the mean; otherwise 1 - the lower tail below k.
  return k > n * p ? Math.min(1, tailFrom(k, n, p, +1)) : Math.max(0, 1 - tailFrom(k - 1, n, p, -1));
}

/** sum of P(X = i) for i = start, start + dir, ... while terms still count; start is on the short side. */
function tailFrom(start: number, n: number, p: number, dir: 1 | -1): number {
  const odds = p / (1 - p);
  let rel = 1; // term i / term start
  let sum = 1;
  for (let i = start; dir > 0 ? i < n : i > 0; i += dir) {
    // P(X = i + 1) / P(X = i) = (n - i) / (i + 1) * p / (1 - p), and its inverse going down.
    rel *= dir > 0 ? ((n - i) / (i + 1)) * odds : (i / (n - i + 1)) / odds;
    sum += rel;
    if (rel < sum * 1e-17) break;
  }
  const log = binomialLogPmf(start, n, p) + Math.log(sum);
  return log < -745 ? 0 : Math.exp(log);
}

/** One-sided exact binomial test that the true rate exceeds `maxRate`. */
export function rateAboveThresholdPValue(events: number, total: number, maxRate: number): number {
  assertCount('events', events);
  assertCount('total', total);
  return binomialUpperTail(events, total, maxRate);
}

/**
 * One-sided exact conditional test that the new version's event rate exceeds the old
 * version's by more than `tolerance` (relative: 0.25 means 25 % worse is still acceptable).
 * Returns 1 when there is nothing to compare.
 */
export function rateWorseThanBaselinePValue(
  newEvents: number,
  newTotal: number,
  oldEvents: number,
  oldTotal: number,
  tolerance: number,
): number {
  for (const [name, v] of [['newEvents', newEvents], ['newTotal', newTotal], ['oldEvents', oldEvents], ['oldTotal', oldTotal]] as const) {
    assertCount(name, v);
  }
  const pi = baselineNullShare(newEvents, newTotal, oldEvents, oldTotal, tolerance);
  return pi === undefined ? 1 : binomialUpperTail(newEvents, newEvents + oldEvents, pi);
}

/**
 * Under the comparison's null (the new version at most `tolerance` worse), the share of all events
 * that are the new version's: pi = nNew r / (nNew r + nOld), r = 1 + tolerance. undefined when there
 * is nothing to compare (no samples on a side, or no events at all).
 */
export function baselineNullShare(newEvents: number, newTotal: number, oldEvents: number, oldTotal: number, tolerance: number): number | undefined {
  if (newTotal === 0 || oldTotal === 0 || newEvents + oldEvents === 0) return undefined;
  const r = 1 + tolerance;
  return (newTotal * r) / (newTotal * r + oldTotal);
}

function assertCount(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
}
