import { binomialDraw, seededRandom } from '../../src/core/random';
import { binomialLogPmf, binomialUpperTail, logGamma, rateAboveThresholdPValue, rateWorseThanBaselinePValue } from '../../src/core/stats';

describe('logGamma', () => {
  it.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [10.5, Math.log(1133278.38894878)],
  ])('logGamma(%p) = %p', (z, expected) => {
    expect(logGamma(z)).toBeCloseTo(expected, 9);
  });
});

describe('binomialUpperTail', () => {
  // Reference values from the exact binomial distribution.
  it.each([
    { k: 0, n: 10, p: 0.3, expected: 1 },
    { k: 11, n: 10, p: 0.3, expected: 0 },
    { k: 1, n: 10, p: 0.1, expected: 1 - 0.9 ** 10 },
    { k: 10, n: 10, p: 0.5, expected: 0.5 ** 10 },
    { k: 3, n: 20, p: 0.05, expected: 0.07548367 },
    { k: 5, n: 100, p: 0.01, expected: 0.0034323216 },
    { k: 1, n: 5, p: 0, expected: 0 },
    { k: 5, n: 5, p: 1, expected: 1 },
  ])('P(X >= $k | n=$n, p=$p) = $expected', ({ k, n, p, expected }) => {
    expect(binomialUpperTail(k, n, p)).toBeCloseTo(expected, 7);
  });

  it('is accurate for large samples on both sides of the mean', () => {
    // n = 100000, p = 0.005: mean 500, sd ~22.3; P(X >= 500) is a little above one half.
    const atMean = binomialUpperTail(500, 100_000, 0.005);
    expect(atMean).toBeGreaterThan(0.5);
    expect(atMean).toBeLessThan(0.52);
    expect(binomialUpperTail(600, 100_000, 0.005)).toBeLessThan(1e-5);
  });

  // The exact sum P(X >= k) = sum_{i>=k} C(n,i) p^i (1-p)^(n-i), term by term, for small n.
  const exactTail = (k: number, n: number, p: number) => {
    let s = 0;
    for (let i = Math.max(0, k); i <= n; i++) s += Math.exp(binomialLogPmf(i, n, p));
    return Math.min(1, s);
  };
  it.each([
    [0, 30, 0.2], [6, 30, 0.2], [7, 30, 0.2], [15, 30, 0.2], [30, 30, 0.2],
    [1, 200, 0.001], [4, 200, 0.001], [60, 200, 0.25], [50, 200, 0.25], [40, 200, 0.25], [199, 200, 0.5],
  ])('P(X >= %p | n=%p, p=%p) equals the term-by-term sum', (k, n, p) => {
    const exact = exactTail(k, n, p);
    const got = binomialUpperTail(k, n, p);
    expect(Math.abs(got - exact)).toBeLessThanOrEqual(1e-12 + 1e-9 * exact);
  });

  it('answers at n = 1e10, in the far tails and at the mean, as the normal approximation does', () => {
    // Terms underflow to zero far from the mean; a sum that waits for them to shrink would run
    // to n. 1,000 calls at n = 1e10 must finish well inside jest's default timeout.
    const n = 1e10;
    const p = 0.05;
    const sd = Math.sqrt(n * p * (1 - p));
    const normalUpper = (z: number) => 0.5 * erfc(z / Math.SQRT2);
    for (let i = 0; i < 1000; i++) {
      const z = -40 + (i % 80);
      const k = Math.ceil(n * p + z * sd);
      const got = binomialUpperTail(k, n, p);
      expect(Number.isFinite(got)).toBe(true);
      expect(got).toBeGreaterThanOrEqual(0);
      expect(got).toBeLessThanOrEqual(1);
      if (Math.abs(z) <= 5) expect(Math.abs(got - normalUpper((k - 0.5 - n * p) / sd))).toBeLessThan(1e-3);
      else if (z > 5) expect(got).toBeLessThan(1e-6);
      else expect(got).toBeGreaterThan(1 - 1e-6);
    }
    expect(rateAboveThresholdPValue(5.01e8, n, p)).toBeLessThan(1e-30);
    expect(rateWorseThanBaselinePValue(3e8, 2e9, 1e9, 8e9, 0.25)).toBe(binomialUpperTail(3e8, 1.3e9, (2e9 * 1.25) / (2e9 * 1.25 + 8e9)));
  });

  it('rejects negative or non-finite sample sizes', () => {
    expect(() => binomialUpperTail(1, -1, 0.5)).toThrow('n must be a finite number >= 0, got -1');
    expect(() => rateAboveThresholdPValue(Number.NaN, 10, 0.1)).toThrow('events must be a finite number >= 0, got NaN');
  });
});

describe('rateWorseThanBaselinePValue', () => {
  it.each([
    { name: 'no baseline traffic', nE: 5, nT: 100, oE: 0, oT: 0, tol: 0.25, check: (p: number) => p === 1 },
    { name: 'no errors at all', nE: 0, nT: 100, oE: 0, oT: 900, tol: 0.25, check: (p: number) => p === 1 },
    { name: 'same rate', nE: 1, nT: 200, oE: 9, oT: 1800, tol: 0.25, check: (p: number) => p > 0.3 },
    { name: 'four times worse on a canary share', nE: 20, nT: 1000, oE: 45, oT: 9000, tol: 0.25, check: (p: number) => p < 1e-4 && p > 1e-5 },
    { name: 'crash: every request fails', nE: 30, nT: 30, oE: 2, oT: 270, tol: 0.25, check: (p: number) => p < 1e-20 },
    { name: 'better than baseline', nE: 0, nT: 500, oE: 40, oT: 4500, tol: 0.25, check: (p: number) => p === 1 },
  ])('$name', ({ nE, nT, oE, oT, tol, check }) => {
    expect(check(rateWorseThanBaselinePValue(nE, nT, oE, oT, tol))).toBe(true);
  });

  it('keeps its false-positive rate at or below alpha when both versions share one error rate', () => {
    // Monte Carlo with a seeded generator: deterministic, no Math.random.
    const rand = seededRandom(12345);
    const draw = (n: number, p: number) => binomialDraw(rand, n, p);
    const trials = 2000;
    const alpha = 0.01;
    let falsePositives = 0;
    for (let t = 0; t < trials; t++) {
      const nNew = 300;
      const nOld = 2700;
      if (rateWorseThanBaselinePValue(draw(nNew, 0.02), nNew, draw(nOld, 0.02), nOld, 0) < alpha) falsePositives++;
    }
    expect(falsePositives / trials).toBeLessThanOrEqual(alpha);
  });
});

/** Complementary error function (Numerical Recipes erfcc, |error| < 1.2e-7): a reference for the tests only. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
