import { DEFAULT_INIT_TOLERANCE, INIT_HISTOGRAM, initBucketLowerMs, initBucketOf, initBucketUpperMs, initHistogramOf, initRegressionTest, type InitHistogram } from '../../src/core/init-durations';
import { seededRandom } from '../../src/core/random';

const ALPHA = 0.001;
const same = (ms: number, n: number) => Array<number>(n).fill(ms);

/** A log-normal init of median `medianMs` and log-spread `sigma`. */
function lognormal(rand: () => number, medianMs: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return medianMs * Math.exp(sigma * z);
}

/**
 * One release: `looks` evaluations, the inits of both versions arriving in between (Poisson-like:
 * each look adds a binomial share); answers the look index at which it failed, or -1.
 */
function release(rand: () => number, o: { oldMs: number; newMs: number; sigma: number; nOld: number; nNew: number; looks: number; alpha?: number }): number {
  const olds: number[] = [];
  const news: number[] = [];
  for (let look = 0; look < o.looks; look++) {
    const target = (look + 1) / o.looks;
    while (olds.length < Math.round(o.nOld * target)) olds.push(lognormal(rand, o.oldMs, o.sigma));
    while (news.length < Math.round(o.nNew * target)) news.push(lognormal(rand, o.newMs, o.sigma));
    const r = initRegressionTest(initHistogramOf(news), initHistogramOf(olds), DEFAULT_INIT_TOLERANCE, o.alpha ?? ALPHA);
    if (r.outcome === 'failed') return look;
  }
  return -1;
}

describe('the histogram the extension writes', () => {
  it.each([
    [0, 0], [64, 0], [64.01, 1], [69.7, 1], [69.8, 2], [128, 8], [128.1, 9], [400, 22], [1600, 38], [16_384, 64], [16_385, 65], [1e9, 65],
  ])('an init of %p ms falls in bucket %p (as in extension/inits_test.go)', (ms, bucket) => {
    expect(initBucketOf(ms)).toBe(bucket);
    if (ms > 0) expect(initBucketLowerMs(bucket) < ms && ms <= initBucketUpperMs(bucket)).toBe(true);
  });

  it('rejects a histogram of the wrong shape, naming it', () => {
    expect(() => initRegressionTest({ count: 1, buckets: [1] }, undefined, DEFAULT_INIT_TOLERANCE, ALPHA)).toThrow(`new.buckets must hold ${INIT_HISTOGRAM.count} numbers, got 1`);
  });
});

describe('initRegressionTest', () => {
  const h = initHistogramOf;
  it.each<[string, InitHistogram, InitHistogram | undefined, string, RegExp]>([
    ['no new-version cold start', h([]), h(same(400, 40)), 'not-applicable', /no cold start of the new version/],
    ['no old-version cold start to compare with', h(same(1600, 30)), undefined, 'insufficient', /none of the old version's/],
    ['too few old-version inits to bound its median', h(same(1600, 30)), h(same(400, 10)), 'insufficient', /bound its median at no finite value/],
    ['too few new-version inits, all slower', h(same(1600, 8)), h(same(400, 40)), 'insufficient', /about 15 new-version inits are needed/],
    ['4x slower, 20 of each', h(same(1600, 20)), h(same(400, 20)), 'failed', /20 of 20 new-version inits above [0-9,]+ ms/],
    ['the same inits, 40 of each', h(same(400, 40)), h(same(400, 40)), 'healthy', /0 of 40/],
    ['1.4x slower: within the tolerance', h(same(560, 40)), h(same(400, 40)), 'healthy', /0 of 40/],
    ['+150 ms on a 200 ms init: under the 200 ms excess', h(same(350, 40)), h(same(200, 40)), 'healthy', /0 of 40/],
  ])('%s: %#', (_name, n, o, outcome, note) => {
    const r = initRegressionTest(n, o, DEFAULT_INIT_TOLERANCE, ALPHA);
    expect([r.outcome, r.note]).toEqual([outcome, expect.stringMatching(note)]);
  });

  it('counts a bucket only when it lies wholly above the reference (never an init it cannot place)', () => {
    const r = initRegressionTest(h(same(1600, 20)), h(same(400, 20)), DEFAULT_INIT_TOLERANCE, ALPHA);
    expect(r.oldMedianBoundMs).toBeCloseTo(initBucketUpperMs(initBucketOf(400)), 6);
    expect(r.referenceMs).toBeCloseTo(1.5 * initBucketUpperMs(initBucketOf(400)), 6);
    expect(initBucketLowerMs(initBucketOf(1600))).toBeGreaterThanOrEqual(r.referenceMs!);
  });
});

// Seeded simulations: a release of 10 looks, both versions' inits log-normal.
describe('false rollbacks and power (simulated, seeded)', () => {
  it('rolls back at most 1 % of good releases: same init, log-normal σ 0.5, 5 to 200 inits of each', () => {
    const rand = seededRandom(23);
    let failed = 0;
    let runs = 0;
    for (const [nNew, nOld] of [[5, 50], [20, 20], [30, 200], [200, 200]]) {
      for (let i = 0; i < 250; i++, runs++) if (release(rand, { oldMs: 400, newMs: 400, sigma: 0.5, nOld, nNew, looks: 10 }) >= 0) failed++;
    }
    expect(failed / runs).toBeLessThanOrEqual(0.01);
  });

  it('keeps alpha at the null boundary (new median exactly h(old median)), even at alpha 0.05 where a flaw would show', () => {
    const rand = seededRandom(7);
    let failed = 0;
    const runs = 400;
    // Old median 600 ms: h = max(900, 800) = 900 ms.
    for (let i = 0; i < runs; i++) if (release(rand, { oldMs: 600, newMs: 900, sigma: 0.3, nOld: 60, nNew: 60, looks: 12, alpha: 0.05 }) >= 0) failed++;
    expect(failed / runs).toBeLessThanOrEqual(0.05);
  });

  it('stops a 4x init (400 ms -> 1,600 ms, σ 0.3) from 40 old-version and 20 new-version inits in at least 85 % of releases', () => {
    const rand = seededRandom(11);
    let caught = 0;
    const runs = 200;
    for (let i = 0; i < runs; i++) if (release(rand, { oldMs: 400, newMs: 1600, sigma: 0.3, nOld: 40, nNew: 20, looks: 5 }) >= 0) caught++;
    expect(caught / runs).toBeGreaterThanOrEqual(0.85);
  });

  it('stops a 2.5x init (400 ms -> 1,000 ms, σ 0.3) from 200 old-version and 100 new-version inits in at least 90 % of releases', () => {
    const rand = seededRandom(12);
    let caught = 0;
    const runs = 200;
    for (let i = 0; i < runs; i++) if (release(rand, { oldMs: 400, newMs: 1000, sigma: 0.3, nOld: 200, nNew: 100, looks: 5 }) >= 0) caught++;
    expect(caught / runs).toBeGreaterThanOrEqual(0.9);
  });
});
