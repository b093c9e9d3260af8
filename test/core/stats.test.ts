import { binomialDraw, seededRandom } from '../../lib/core/random';
import { binomialUpperTail, logGamma, rateAboveThresholdPValue, rateWorseThanBaselinePValue } from '../../lib/core/stats';

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
