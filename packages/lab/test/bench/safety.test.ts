import { ALPHA, criticalCount, criticalCounts, detectionLimit, KINDS, kindDetectionLimit, kindOracle, NOISE_KINDS, OLD_ERROR_RATE, scenarioFor, summarizeCell, type Trial } from '../../bench/safety';

// Few runs where the figure is not a median to pin down: simulations run ~50x slower under jest than under tsx.
const base = { requestsPerSecond: 2, seconds: 300, baselineRate: OLD_ERROR_RATE, alpha: ALPHA, runs: 500, seed: 1 };
const kind = (name: string) => KINDS.find((k) => k.name === name)!;

describe('the detection-time limit', () => {
  it('rejects a 20 % error release at 2 req/s after about 0.6 s (hand-checked)', () => {
    // At 0.5 % and alpha 1 %, one failure rejects within the first 2 requests and two failures
    // within the first 30 (criticalCounts below). So 1 - 0.8^2 = 36 % of runs reject at the first
    // failure (0 s); the others at the second failure, which comes after an exponential gap at the
    // failure rate 2 x 0.2 = 0.4/s. Median t: 0.36 + 0.64 (1 - e^(-0.4 t)) = 0.5, t = -ln(0.78125) / 0.4 = 0.617 s.
    const limit = detectionLimit({ ...base, errorRate: 0.2, runs: 20_000 });
    expect(limit.rejected).toBeGreaterThan(0.999);
    expect(Math.abs((limit.seconds as number) - 0.617)).toBeLessThan(0.06);
  });

  it('rejects on the first request of a release that always fails', () => {
    expect(detectionLimit({ ...base, errorRate: 1 })).toEqual({ seconds: 0, rejected: 1, runs: 500 });
  });

  it('never rejects a release that never fails, and gives no time', () => {
    expect(detectionLimit({ ...base, errorRate: 0 })).toEqual({ seconds: null, rejected: 0, runs: 500 });
  });

  it('falsely rejects a good release more often than alpha: looking after every request is not a valid sequential test', () => {
    // The first two requests alone reject with 1 - 0.995^2 = 0.998 %; the later looks add more.
    const good = detectionLimit({ ...base, errorRate: OLD_ERROR_RATE });
    expect(good.rejected).toBeGreaterThan(ALPHA);
    expect(good.seconds).not.toBeNull();
  });

  it('gives the same figures for the same seed and others for another', () => {
    const o = { ...base, errorRate: 0.05 };
    expect(detectionLimit(o)).toEqual(detectionLimit(o));
    expect(detectionLimit({ ...o, seed: 2 }).seconds).not.toEqual(detectionLimit(o).seconds);
  });

  it('counts only rejections before the final shift', () => {
    // 2 % errors at 0.1 req/s: 30 requests before the final shift, as in the matrix at 1 req/s.
    const short = detectionLimit({ ...base, errorRate: 0.02, requestsPerSecond: 0.1 });
    const long = detectionLimit({ ...base, errorRate: 0.02, requestsPerSecond: 0.1, seconds: 3000 });
    expect(short.rejected).toBeLessThan(long.rejected);
    expect(short.rejected).toBeGreaterThan(0.05);
  });

  it.each<[string, Partial<typeof base> & { errorRate?: number }, string]>([
    ['errorRate above 1', { errorRate: 1.5 }, 'errorRate: 1.5 is not allowed; expected a number from 0 to 1'],
    ['alpha 0', { alpha: 0 }, 'alpha: 0 is not allowed; expected a number above 0 and below 1'],
    ['baselineRate 1', { baselineRate: 1 }, 'baselineRate: 1 is not allowed; expected a number above 0 and below 1'],
    ['no traffic', { requestsPerSecond: 0 }, 'requestsPerSecond: 0 is not allowed; expected a positive number'],
    ['no time', { seconds: -1 }, 'seconds: -1 is not allowed; expected a positive number'],
    ['a fraction of a run', { runs: 1.5 }, 'runs: 1.5 is not allowed; expected a positive integer'],
  ])('refuses %s, naming the field', (_name, o, message) => {
    expect(() => detectionLimit({ ...base, errorRate: 0.2, ...o })).toThrow(message);
  });
});

describe('critical counts as the requests arrive', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [30, 2],
    [31, 3],
  ])('at n = %i rejects from %i failures (0.5 %, alpha 1 %)', (n, k) => {
    expect(criticalCounts(OLD_ERROR_RATE, ALPHA)(n)).toBe(k);
  });

  it('agrees with the one-look critical count at every n', () => {
    const at = criticalCounts(OLD_ERROR_RATE, ALPHA);
    for (const n of [5, 50, 99, 500, 3000, 6000]) expect(at(n)).toBe(criticalCount(n, OLD_ERROR_RATE, ALPHA));
  });

  it('is Infinity where no count can reject', () => {
    // 0.5^1 = 0.5 and 0.5^2 = 0.25 are above alpha 0.2; 0.5^3 = 0.125 is not.
    const at = criticalCounts(0.5, 0.2);
    expect([at(1), at(2), at(3)]).toEqual([Infinity, Infinity, 3]);
  });
});

describe('the matrix rows', () => {
  it.each(['crash on init', 'config mistake', 'p99 latency +1.5 s'])('%s shows on the first request: limit 0 s', (name) => {
    expect(kindDetectionLimit(kind(name), 20).seconds).toBe(0);
  });

  const trials = (detections: (number | null)[]): Trial[] =>
    detections.map((d, i) => ({ seed: i + 1, outcome: d === null ? 'completed' : 'rolled-back', reached100: d === null, maxTrafficPercent: d === null ? 100 : 10, detectionSeconds: d, harmed: 1, userRequestsToNewVersion: 10, decidedBy: null, virtualMinutes: 20, wallMs: 1 }));

  it('gives the watchdog\'s median detection as a ratio to the limit', () => {
    const k = kind('20 % errors');
    const cell = summarizeCell(k, 20, { watchdog: trials([60, 120, 180]), native: trials([null, null, null]) });
    const limit = kindDetectionLimit(k, 20).seconds as number;
    expect(cell.detectionLimitSeconds).toBe(limit);
    expect(cell.detectionRatio).toBeCloseTo(120 / limit);
  });

  it.each<[string, string, (number | null)[]]>([
    ['the limit is 0 s', 'crash on init', [0, 0]],
    ['no trial stopped', '20 % errors', [null, null]],
  ])('has no ratio when %s', (_why, name, detections) => {
    expect(summarizeCell(kind(name), 20, { watchdog: trials(detections), native: trials(detections) }).detectionRatio).toBeNull();
  });

  it('gives each cell the oracle (issue 23): its detection and power, the floor, and the watchdog against them', () => {
    const k = kind('20 % errors');
    const cell = summarizeCell(k, 20, { watchdog: trials([6, 8, 10, null]), native: trials([null, null, null, null]) }, 2.25);
    const oracle = kindOracle(k, 20, 2.25);
    expect(cell.oracle).toEqual(oracle);
    expect(oracle.floorSeconds).toBe(2.25);
    // The SPRT's power is near the 90 % it is built for; it decides in a second or two at 2 req/s to the new version.
    expect(oracle.power).toBeGreaterThan(0.85);
    expect(oracle.power).toBeLessThan(0.95);
    expect(cell.oracleRatio).toBeCloseTo(8 / ((oracle.detectionSeconds as number) + 2.25));
    expect(cell.oracleCatchShare).toBeCloseTo(0.75 / oracle.power);
  });

  it.each<[string, number, number | null, number]>([
    // A release no worse than the old one: nothing to detect, so no power and no catch share.
    ['good (0.5 %)', 1, null, 0],
    // A release that fails every request: its first request decides.
    ['crash on init', 20, 0, 1],
    ['config mistake', 200, 0, 1],
    ['p99 latency +1.5 s', 20, 0, 1],
  ])('%s at %i req/s: oracle detect %p s, power %p', (name, rps, detect, power) => {
    const o = kindOracle(kind(name), rps, null);
    expect(o.detectionSeconds).toBe(detect);
    expect(o.power).toBeCloseTo(power, 2);
    const cell = summarizeCell(kind(name), rps, { watchdog: trials([0]), native: trials([0]) });
    if (name.startsWith('good')) expect(cell.oracleCatchShare).toBeNull();
  });
});

describe('the kinds of noise in the false-rollback runs', () => {
  const good = KINDS[0];
  it('runs every kind issue 23 names, each at 1, 20 and 200 req/s', () => {
    expect(NOISE_KINDS.map((k) => k.kind)).toEqual(['transient-errors-cold-starts', 'shared-outage', 'shared-late-errors-linear', 'bursty-errors', 'flaky-probes-low-traffic', 'lognormal-latency-cold-starts']);
    for (const k of NOISE_KINDS) expect(k.rps).toEqual(expect.arrayContaining([1, 20, 200]));
  });

  it.each(NOISE_KINDS.map((k) => [k.kind, k] as const))('%s: a good release, the noise added to both versions alike', (_n, k) => {
    const s = scenarioFor(good, k.rps[0], 1, 20, 1, k.noise, k.extra);
    // Whatever the noise adds, it adds to both versions alike: the release is no worse than the old one.
    const { errorRate: oldRate, ...oldRest } = s.current;
    const { errorRate: newRate, ...newRest } = s.release;
    expect(newRate).toBe(oldRate);
    expect(newRest).toEqual(oldRest);
    expect(s.expect.outcome).toBe('completed');
  });

  it('puts the late shared errors on the linear rollout from its 80 % step', () => {
    const k = NOISE_KINDS.find((x) => x.kind === 'shared-late-errors-linear')!;
    expect(scenarioFor(good, 20, 1, 20, 1, k.noise, k.extra)).toMatchObject({ function: 'PricingApi', shared: { errorRate: 0.04, fromMinute: 6 } });
  });
});
