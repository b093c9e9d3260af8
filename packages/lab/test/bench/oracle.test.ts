import { llrSteps, oracleSprt, ORACLE_ALPHA, ORACLE_BETA, waldBoundaries } from '../../bench/oracle';

// One request a second, all to the new version, for long enough that the test always ends: the
// untruncated SPRT whose error rates Wald's bounds speak of.
const long = { baselineRate: 0.005, rps: 1, share: 1, seconds: 100_000, alpha: ORACLE_ALPHA, beta: ORACLE_BETA, seed: 1 };
/** Three standard errors of a share p estimated from n runs. */
const se3 = (p: number, n: number) => 3 * Math.sqrt((p * (1 - p)) / n);

describe("Wald's boundaries", () => {
  it.each([
    // alpha, beta, log((1 - beta) / alpha), log(beta / (1 - alpha))
    [0.01, 0.1, Math.log(90), Math.log(0.1 / 0.99)],
    [0.05, 0.2, Math.log(16), Math.log(0.2 / 0.95)],
    [0.001, 0.01, Math.log(990), Math.log(0.01 / 0.999)],
  ])('alpha %p, beta %p: upper %p, lower %p', (alpha, beta, upper, lower) => {
    const b = waldBoundaries(alpha, beta);
    expect(b.upper).toBeCloseTo(upper, 12);
    expect(b.lower).toBeCloseTo(lower, 12);
  });

  it('gives the per-release budget issue 23 sets: 1 % false rollbacks, 90 % power', () => {
    expect(waldBoundaries(ORACLE_ALPHA, ORACLE_BETA)).toEqual({ upper: Math.log(0.9 / 0.01), lower: Math.log(0.1 / 0.99) });
  });

  it('steps by the log of the likelihood ratio of one request', () => {
    expect(llrSteps(0.005, 0.05)).toEqual({ failure: Math.log(10), success: Math.log(0.95 / 0.995) });
  });

  it.each([
    ['alpha 0', 0, 0.1, 'alpha: 0 is not allowed; expected a number above 0 and below 1'],
    ['beta 1', 0.01, 1, 'beta: 1 is not allowed; expected a number above 0 and below 1'],
    ['alpha + beta 1', 0.5, 0.5, 'alpha + beta: 1 is not allowed; expected below 1'],
  ])('refuses %s', (_n, alpha, beta, message) => {
    expect(() => waldBoundaries(alpha, beta)).toThrow(message);
  });
});

describe('the oracle SPRT, its error rates by simulation', () => {
  // Wald's bounds: alpha' <= alpha / (1 - beta) and beta' <= beta / (1 - alpha); the overshoot of
  // a discrete test makes both smaller in practice, so the nominal 1 % and 10 % hold here too.
  it.each([
    ['0.5 % -> 5 %', 0.05],
    ['0.5 % -> 2 %', 0.02],
  ])('%s: a good release is falsely rejected at most alpha, a bad one caught with at least 1 - beta', (_n, p1) => {
    const runs = 4000;
    const good = oracleSprt({ ...long, errorRate: 0.005, alternativeRate: p1, runs });
    const bad = oracleSprt({ ...long, errorRate: p1, runs });
    expect(good.power + good.accepted).toBe(1);
    expect(bad.power + bad.accepted).toBe(1);
    expect(good.power).toBeLessThanOrEqual(ORACLE_ALPHA + se3(ORACLE_ALPHA, runs));
    expect(bad.power).toBeGreaterThanOrEqual(1 - ORACLE_BETA - se3(ORACLE_BETA, runs));
    // Not a test that rejects everything, nor one that never stops.
    expect(good.accepted).toBeGreaterThan(0.95);
    expect(bad.power).toBeLessThan(1);
  });

  it('needs about the samples Wald\'s approximation gives: E[n] = ((1 - beta) A + beta B) / KL under the alternative', () => {
    const p0 = 0.005;
    const p1 = 0.05;
    const { upper, lower } = waldBoundaries(ORACLE_ALPHA, ORACLE_BETA);
    const s = llrSteps(p0, p1);
    const kl = p1 * s.failure + (1 - p1) * s.success;
    const approx = ((1 - ORACLE_BETA) * upper + ORACLE_BETA * lower) / kl;
    const r = oracleSprt({ ...long, errorRate: p1, runs: 4000 });
    // The overshoot adds a little: within 25 % above, never below by more than 5 %.
    expect(r.meanSamples).toBeGreaterThan(0.95 * approx);
    expect(r.meanSamples).toBeLessThan(1.25 * approx);
  });

  it('a release that always fails is rejected at its first request: the first failure is the decision', () => {
    const r = oracleSprt({ ...long, errorRate: 1, runs: 200 });
    expect(r).toMatchObject({ detectionSeconds: 0, power: 1, accepted: 0, meanSamples: 1 });
  });

  it('a release no worse than the old version is never rejected', () => {
    expect(oracleSprt({ ...long, errorRate: 0.005, runs: 100 })).toMatchObject({ detectionSeconds: null, power: 0 });
    expect(oracleSprt({ ...long, errorRate: 0.001, runs: 100 })).toMatchObject({ detectionSeconds: null, power: 0 });
  });
});

describe('the oracle on a canary', () => {
  const canary = { baselineRate: 0.005, share: 0.1, seconds: 300, alpha: ORACLE_ALPHA, beta: ORACLE_BETA, runs: 1000, seed: 1 };

  it('truncates at the canary: a small excess at 1 req/s (30 requests) is rarely decided', () => {
    const short = oracleSprt({ ...canary, errorRate: 0.02, rps: 1 });
    const longer = oracleSprt({ ...canary, errorRate: 0.02, rps: 1, share: 1, seconds: 2000 });
    expect(short.power).toBeLessThan(0.3);
    expect(longer.power).toBeGreaterThan(0.85);
  });

  it('detects faster with more traffic', () => {
    const at20 = oracleSprt({ ...canary, errorRate: 0.05, rps: 20 });
    const at200 = oracleSprt({ ...canary, errorRate: 0.05, rps: 200 });
    expect(at20.power).toBeGreaterThan(0.85);
    expect(at200.detectionSeconds!).toBeLessThan(at20.detectionSeconds!);
  });

  it('20 % errors at 20 req/s: hand-checked power and median', () => {
    // Each failure adds log(0.2/0.005) = 3.69, each success log(0.8/0.995) = -0.218, against
    // boundaries log 90 = 4.50 and log(0.1/0.99) = -2.29. Eleven successes before the first
    // failure accept (0.8^11 = 8.6 %); after one failure, a second before 27 more successes
    // rejects (0.8^27 = 0.24 % miss). Power 0.914 x 0.998 = 0.912: the 90 % the oracle is built for.
    // The second failure follows the first after a gap at 0.4 failures a second (2 requests a
    // second, 20 % failing), often in the same second: median on whole seconds 1 s.
    const r = oracleSprt({ ...canary, errorRate: 0.2, rps: 20 });
    expect(Math.abs(r.power - 0.912)).toBeLessThan(se3(0.912, canary.runs));
    expect(r.detectionSeconds).toBeGreaterThanOrEqual(1);
    expect(r.detectionSeconds).toBeLessThanOrEqual(2);
  });

  it('gives the same figures for the same seed', () => {
    const o = { ...canary, errorRate: 0.05, rps: 20 };
    expect(oracleSprt(o)).toEqual(oracleSprt(o));
  });

  it.each<[string, Record<string, number>, string]>([
    ['errorRate above 1', { errorRate: 1.5 }, 'errorRate: 1.5 is not allowed; expected a number from 0 to 1'],
    ['baselineRate 0', { baselineRate: 0 }, 'baselineRate: 0 is not allowed; expected a number above 0 and below 1'],
    ['share 0', { share: 0 }, 'share: 0 is not allowed; expected a number above 0, at most 1'],
    ['no traffic', { rps: 0 }, 'rps: 0 is not allowed; expected a positive number'],
    ['a fraction of a run', { runs: 1.5 }, 'runs: 1.5 is not allowed; expected a positive integer'],
  ])('refuses %s, naming the field', (_n, o, message) => {
    expect(() => oracleSprt({ ...canary, errorRate: 0.2, rps: 20, ...o })).toThrow(message);
  });
});
