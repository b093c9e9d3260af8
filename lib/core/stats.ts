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
 * P(X >= k) for X ~ Binomial(n, p), summed from the short side of the distribution and
 * stopped once the remaining terms can no longer change the result.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  assertCount('n', n);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const mean = n * p;
  if (k > mean) {
    let sum = 0;
    for (let i = k; i <= n; i++) {
      const term = Math.exp(binomialLogPmf(i, n, p));
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return Math.min(1, sum);
  }
  let lower = 0;
  for (let i = k - 1; i >= 0; i--) {
    const term = Math.exp(binomialLogPmf(i, n, p));
    lower += term;
    if (term < lower * 1e-17) break;
  }
  return Math.max(0, 1 - lower);
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
  if (newTotal === 0 || oldTotal === 0) return 1;
  const totalEvents = newEvents + oldEvents;
  if (totalEvents === 0) return 1;
  const r = 1 + tolerance;
  const pi = (newTotal * r) / (newTotal * r + oldTotal);
  return binomialUpperTail(newEvents, totalEvents, pi);
}

function assertCount(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
}
