import { judgeSignal } from '../../src/core/signals';
import { binomialDraw, seededRandom } from '../../src/core/random';
import { MIXTURE_LOG_ODDS_STEPS, MIXTURE_WEIGHTS, mixtureLogRatio, sequentialRateAbovePValue, sequentialWorseThanBaselinePValue, stratifiedWorseThanBaselinePValue, type CountSlice } from '../../src/core/sequential';
import type { Observation, RateSignal } from '../../src/core/types';

const window = { start: 0, end: 60_000 };
const ctx = { layer: 'new-version', deploymentCreatedAt: 0, preexistingAlarms: 'ignore' as const, stage: 'shifting' as const };

/** How often a release running at `rate` is ever failed by the signal over `looks` looks of `perLook` samples each. */
function everFailed(spec: RateSignal, rate: number, oldRate: number | null, looks: number, perLook: number, runs: number, seed: number): number {
  const rand = seededRandom(seed);
  let failed = 0;
  for (let r = 0; r < runs; r++) {
    let events = 0;
    let total = 0;
    let oEvents = 0;
    let oTotal = 0;
    for (let l = 0; l < looks; l++) {
      events += binomialDraw(rand, perLook, rate);
      total += perLook;
      if (oldRate !== null) {
        oEvents += binomialDraw(rand, perLook * 9, oldRate);
        oTotal += perLook * 9;
      }
      const obs: Observation = {
        kind: 'counts',
        new: { events, total },
        ...(oldRate !== null ? { old: { events: oEvents, total: oTotal } } : {}),
        window,
      };
      if (judgeSignal(spec, obs, ctx).outcome === 'failed') {
        failed++;
        break;
      }
    }
  }
  return failed / runs;
}

/** The error-rate signal: 2 % at most, judged at alpha 0.05 so that a few hundred runs measure it. */
const errorsSpec: RateSignal = {
  kind: 'rate',
  name: 'errors',
  events: { namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum', dimensions: {} },
  total: { namespace: 'AWS/Lambda', metricName: 'Invocations', stat: 'Sum', dimensions: {} },
  maxRate: 0.02,
  minSamples: 10,
  alpha: 0.05,
};

describe('always-valid sequential tests', () => {
  const spec = errorsSpec;

  it('holds the stated false-rollback rate over a whole release however often it looks (a fixed-alpha test on every look did not)', () => {
    // A release exactly at the threshold, looked at 60 times (every minute of an hour, or every
    // 5 s of five minutes). The exact fixed-sample test at alpha 0.05 on every look failed about
    // a third of these releases; the sequential test fails at most alpha of them.
    const share = everFailed(spec, 0.02, null, 60, 50, 400, 11);
    expect(share).toBeLessThanOrEqual(0.05);
  });

  it('holds it for the comparison with the old version too', () => {
    const withBaseline: RateSignal = { ...spec, maxRate: 0.5, baseline: { tolerance: 0.25, alpha: 0.05 } };
    // The new version 25 % worse than the old one: the comparison's null boundary.
    const share = everFailed(withBaseline, 0.025, 0.02, 60, 20, 300, 12);
    expect(share).toBeLessThanOrEqual(0.05);
  });

  it('still catches clear regressions quickly', () => {
    // 20 % errors against a 2 % threshold: rejected at alpha 0.001 within 100 samples nearly always.
    const strict = { ...spec, alpha: 0.001 };
    expect(everFailed(strict, 0.2, null, 10, 10, 300, 13)).toBeGreaterThan(0.95);
  });

  it('keeps the exact small-sample behaviour: three failures of three against a 5 % threshold reject at 0.001, two do not', () => {
    expect(sequentialRateAbovePValue(3, 3, 0.05)).toBeLessThan(0.001);
    expect(sequentialRateAbovePValue(2, 2, 0.05)).toBeGreaterThan(0.001);
    // The p-value is 1 / the mixture ratio, computed exactly: at p0 = 0.05 the step-7 alternative
    // is p1 = 1 / (1 + exp(-(logit(0.05) + 7))), and the others add their own terms.
    const lr = mixtureLogRatio(3, 3, 0.05, [7]);
    const p1 = 1 / (1 + Math.exp(-(Math.log(0.05 / 0.95) + 7)));
    expect(lr).toBeCloseTo(3 * Math.log(p1 / 0.05), 10);
  });

  it('treats a zero threshold as "any event fails" and an impossible one as "never"', () => {
    expect(sequentialRateAbovePValue(1, 100, 0)).toBe(0);
    expect(sequentialRateAbovePValue(0, 100, 0)).toBe(1);
    expect(sequentialRateAbovePValue(5, 5, 1)).toBe(1);
  });

  it('answers 1 when there is nothing to compare, and refuses impossible counts', () => {
    expect(sequentialWorseThanBaselinePValue(0, 0, 3, 100, 0.25)).toBe(1);
    expect(sequentialWorseThanBaselinePValue(0, 100, 0, 100, 0.25)).toBe(1);
    expect(() => sequentialRateAbovePValue(5, 3, 0.1)).toThrow(/events \(5\) must not exceed total \(3\)/);
    expect(() => sequentialRateAbovePValue(-1, 3, 0.1)).toThrow(/events must be a finite number/);
  });

  it('a release far better than the threshold gives no evidence at all', () => {
    expect(sequentialRateAbovePValue(1, 1000, 0.02)).toBe(1);
  });
});

/** The mixture used until 2026-12: eight log-odds steps from 0.4, equal weights. */
const OLD_STEPS = [0.4, 0.8, 1.2, 1.8, 2.5, 3.5, 5, 7];
const pOf = (logRatio: number) => (logRatio <= 0 ? 1 : Math.exp(-logRatio));

/** Samples until the always-valid test first rejects at `alpha`, looking after every `perLook`, or Infinity. */
function samplesToReject(rate: number, p0: number, alpha: number, perLook: number, maxLooks: number, rand: () => number, steps?: number[]): number {
  let events = 0;
  for (let l = 1; l <= maxLooks; l++) {
    events += binomialDraw(rand, perLook, rate);
    if (pOf(mixtureLogRatio(events, l * perLook, p0, steps)) < alpha) return l * perLook;
  }
  return Infinity;
}

/**
 * A Binomial(n, p) draw: exact for small means, the normal approximation where n p (1 - p) >= 50
 * (a test's simulated canaries at 1,000 req/s would otherwise draw millions of Bernoullis).
 */
function drawCount(rand: () => number, n: number, p: number): number {
  const v = n * p * (1 - p);
  if (v < 50) return binomialDraw(rand, n, p);
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(v) * z)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('a consistent mixture: alternatives down to the boundary', () => {
  it('spaces its steps half an octave apart from 8 to below 1e-10, with weights summing to 1', () => {
    expect(MIXTURE_LOG_ODDS_STEPS[0]).toBe(8);
    expect(MIXTURE_LOG_ODDS_STEPS.every((s, i) => i === 0 || Math.abs(s * Math.SQRT2 - MIXTURE_LOG_ODDS_STEPS[i - 1]) < 1e-12)).toBe(true);
    expect(Math.min(...MIXTURE_LOG_ODDS_STEPS)).toBeLessThan(1e-10);
    expect(MIXTURE_WEIGHTS.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // The eight large steps (8 down to 0.71) weigh 0.075 each; below them 1/(j(j+1)).
    expect(MIXTURE_WEIGHTS.slice(0, 8).every((w) => w === 0.075)).toBe(true);
    expect(MIXTURE_WEIGHTS[9] / MIXTURE_WEIGHTS[8]).toBeCloseTo(2 / 6, 12);
  });

  it.each([
    // The boundary itself, at many looks on large samples, where the small steps weigh in.
    { name: 'at the boundary, 100 looks of 300', rate: 0.02, looks: 100, perLook: 300, runs: 200, seed: 31 },
    { name: 'at the boundary, 60 looks of 20', rate: 0.05, looks: 60, perLook: 20, runs: 400, seed: 32 },
  ])('stays valid under the null: $name rejects at most alpha of releases', ({ rate, looks, perLook, runs, seed }) => {
    const rand = seededRandom(seed);
    let rejected = 0;
    for (let r = 0; r < runs; r++) if (samplesToReject(rate, rate, 0.05, perLook, looks, rand) < Infinity) rejected++;
    expect(rejected / runs).toBeLessThanOrEqual(0.05);
  });

  it('detects an excess inside the old blind band as samples grow (1.1x a 5 % threshold on 200,000 samples)', () => {
    // 5.5 % against 5 %: 0.1 in log-odds, below the old smallest step's reach (about 0.2).
    const events = 0.055 * 200_000;
    expect(sequentialRateAbovePValue(events, 200_000, 0.05)).toBeLessThan(1e-6);
    // The old mixture found no evidence however many samples: its ratio falls as they grow.
    expect(pOf(mixtureLogRatio(events, 200_000, 0.05, OLD_STEPS))).toBe(1);
    expect(pOf(mixtureLogRatio(10 * events, 2_000_000, 0.05, OLD_STEPS))).toBe(1);
  });

  it('detects 1.0 % -> 1.5 % against the old version (tolerance 0.25) at 1,000 req/s once the canary holds enough', () => {
    // A 10 % canary at 1,000 req/s: per minute 6,000 requests to the new version, 54,000 to the old.
    // At the counts' expectation, after 10 minutes; the old mixture never rejects (1.5 / 1.25 is
    // 0.18 in log-odds, inside its blind band), even on ten times the samples.
    const at = (minutes: number, steps?: number[]) => {
      const n = 6000 * minutes;
      const o = 54_000 * minutes;
      const pi = (n * 1.25) / (n * 1.25 + o);
      return pOf(mixtureLogRatio(0.015 * n, 0.015 * n + 0.01 * o, pi, steps));
    };
    expect(sequentialWorseThanBaselinePValue(0.015 * 60_000, 60_000, 0.01 * 540_000, 540_000, 0.25)).toBeLessThan(0.001);
    expect(at(10)).toBeLessThan(0.001);
    expect(at(10, OLD_STEPS)).toBe(1);
    expect(at(100, OLD_STEPS)).toBe(1);
    // Simulated with a look every minute: most such canaries are caught within 12 minutes.
    const rand = seededRandom(33);
    let caught = 0;
    for (let r = 0; r < 200; r++) {
      let x = 0;
      let y = 0;
      for (let m = 1; m <= 12; m++) {
        x += drawCount(rand, 6000, 0.015);
        y += drawCount(rand, 54_000, 0.01);
        if (sequentialWorseThanBaselinePValue(x, 6000 * m, y, 54_000 * m, 0.25) < 0.001) {
          caught++;
          break;
        }
      }
    }
    expect(caught / 200).toBeGreaterThan(0.75);
  });

  it.each([
    // Guard: a large excess is caught about as fast as by the old mixture (at most 10 % more samples, median).
    { name: 'a crash-like 50 % against 2 %', rate: 0.5, p0: 0.02, perLook: 1 },
    { name: '10x: 20 % against 2 %', rate: 0.2, p0: 0.02, perLook: 1 },
    { name: '3x: 6 % against 2 %', rate: 0.06, p0: 0.02, perLook: 4 },
  ])('still catches $name about as fast as before', ({ rate, p0, perLook }) => {
    const now: number[] = [];
    const before: number[] = [];
    for (let r = 0; r < 200; r++) {
      now.push(samplesToReject(rate, p0, 0.001, perLook, 500, seededRandom(1000 + r)));
      before.push(samplesToReject(rate, p0, 0.001, perLook, 500, seededRandom(1000 + r), OLD_STEPS));
    }
    expect(median(now)).toBeLessThanOrEqual(median(before) * 1.1);
    expect(median(now)).toBeLessThan(Infinity);
  });
});

/** Per-minute counts of a linear rollout: the new version's share by minute, each version's own rate, a rate both meet. */
function linearSlices(rps: number, shares: number[], newRate: number, oldRate: number, shared: (minute: number) => number, rand?: () => number): CountSlice[] {
  return shares.map((share, m) => {
    const newTotal = Math.round(rps * 60 * share);
    const oldTotal = rps * 60 - newTotal;
    const both = shared(m);
    const pNew = 1 - (1 - newRate) * (1 - both);
    const pOld = 1 - (1 - oldRate) * (1 - both);
    return {
      newTotal,
      oldTotal,
      newEvents: rand ? drawCount(rand, newTotal, pNew) : Math.round(newTotal * pNew),
      oldEvents: rand ? drawCount(rand, oldTotal, pOld) : Math.round(oldTotal * pOld),
    };
  });
}
const pooled = (slices: CountSlice[]) => {
  const s = (f: keyof CountSlice) => slices.reduce((a, x) => a + x[f], 0);
  return sequentialWorseThanBaselinePValue(s('newEvents'), s('newTotal'), s('oldEvents'), s('oldTotal'), 0.25);
};
/** PricingApi's linear rollout: 20 % more every 2 minutes, compared until the final shift. */
const LINEAR = [0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8];

describe('stratifiedWorseThanBaselinePValue: the comparison minute by minute', () => {
  it('lets errors both versions meet late in a linear rollout cancel (pooled, they looked like the new version\'s)', () => {
    // Both versions 0.5 %; from the 80 % step a dependency fails 4 % of everyone's requests.
    const slices = linearSlices(50, LINEAR, 0.005, 0.005, (m) => (m >= 6 ? 0.04 : 0));
    expect(pooled(slices)).toBeLessThan(1e-4);
    expect(stratifiedWorseThanBaselinePValue(slices, 0.25)).toBe(1);
  });

  it('shows a regression that errors both versions met early masked when pooled', () => {
    // A shared 10 % failure during the 20 % minutes; the new version fails 6x as often as the old one.
    const slices = linearSlices(50, LINEAR, 0.03, 0.005, (m) => (m < 2 ? 0.1 : 0));
    expect(pooled(slices)).toBe(1);
    expect(stratifiedWorseThanBaselinePValue(slices, 0.25)).toBeLessThan(0.001);
  });

  it('still catches a real regression on a linear rollout during shared errors (guard)', () => {
    // The new version 3x the old one; the watchdog looks every minute and stops at the first rejection.
    const slices = linearSlices(50, LINEAR, 0.015, 0.005, (m) => (m >= 6 ? 0.04 : 0));
    const looks = slices.map((_, i) => stratifiedWorseThanBaselinePValue(slices.slice(0, i + 1), 0.25));
    expect(Math.min(...looks)).toBeLessThan(0.001);
  });

  it('equals the pooled test when the split is constant (a canary), minute counts or not', () => {
    const slices = linearSlices(100, [0.1, 0.1, 0.1, 0.1, 0.1], 0.02, 0.01, () => 0);
    expect(stratifiedWorseThanBaselinePValue(slices, 0.25)).toBeCloseTo(pooled(slices), 12);
  });

  it('stays valid under the null with a shifting split, shared errors that come and go, and a look every minute', () => {
    const rand = seededRandom(41);
    const shares = [0.1, 0.1, 0.3, 0.3, 0.5, 0.5, 0.7, 0.7, 0.9, 0.9, 0.9, 0.9];
    let rejected = 0;
    const runs = 400;
    for (let r = 0; r < runs; r++) {
      // At the null's boundary: the new version exactly 1.25x the old one, every minute.
      const burst = Math.floor(rand() * 12);
      const slices = linearSlices(5, shares, 0.025, 0.02, (m) => (Math.abs(m - burst) <= 1 ? 0.08 : 0), rand);
      for (let look = 1; look <= slices.length; look++) {
        if (stratifiedWorseThanBaselinePValue(slices.slice(0, look), 0.25) < 0.05) {
          rejected++;
          break;
        }
      }
    }
    expect(rejected / runs).toBeLessThanOrEqual(0.05);
  });

  it('catches 1.0 % -> 1.5 % at 1,000 req/s on a linear rollout most of the time', () => {
    const rand = seededRandom(42);
    let caught = 0;
    for (let r = 0; r < 200; r++) if (stratifiedWorseThanBaselinePValue(linearSlices(1000, LINEAR, 0.015, 0.01, () => 0, rand), 0.25) < 0.001) caught++;
    expect(caught / 200).toBeGreaterThan(0.85);
  });

  it.each<{ name: string; slices: CountSlice[] }>([
    { name: 'no slices', slices: [] },
    { name: 'no events', slices: [{ newEvents: 0, newTotal: 100, oldEvents: 0, oldTotal: 100 }] },
    { name: 'only the new version served', slices: [{ newEvents: 30, newTotal: 100, oldEvents: 0, oldTotal: 0 }] },
    { name: 'only the old version served', slices: [{ newEvents: 0, newTotal: 0, oldEvents: 30, oldTotal: 100 }] },
  ])('finds no evidence in $name', ({ slices }) => {
    expect(stratifiedWorseThanBaselinePValue(slices, 0.25)).toBe(1);
  });

  it('counts a minute\'s events as samples when they outnumber them, and refuses impossible counts', () => {
    // 5 failures where 2 invocations landed (the rest in the next minute): at most all 5 failed.
    const odd = stratifiedWorseThanBaselinePValue([{ newEvents: 5, newTotal: 2, oldEvents: 1, oldTotal: 100 }], 0.25);
    expect(odd).toBe(stratifiedWorseThanBaselinePValue([{ newEvents: 5, newTotal: 5, oldEvents: 1, oldTotal: 100 }], 0.25));
    expect(() => stratifiedWorseThanBaselinePValue([{ newEvents: -1, newTotal: 2, oldEvents: 1, oldTotal: 100 }], 0.25)).toThrow(/newEvents must be a finite number >= 0, got -1/);
  });

  it('is what the rate signal uses when the observation has the minutes, and its note says so', () => {
    const spec: RateSignal = { ...errorsSpec, maxRate: 0.05, minSamples: 20, alpha: 0.001, baseline: { tolerance: 0.25, alpha: 0.001 } };
    const slices = linearSlices(50, LINEAR, 0.005, 0.005, (m) => (m >= 6 ? 0.04 : 0));
    const sum = (f: keyof CountSlice) => slices.reduce((a, x) => a + x[f], 0);
    const base: Observation = { kind: 'counts', new: { events: sum('newEvents'), total: sum('newTotal') }, old: { events: sum('oldEvents'), total: sum('oldTotal') }, window };
    const withMinutes: Observation = { ...base, slices: slices.map((s, i) => ({ ...s, start: i * 60_000 })) };
    const judged = judgeSignal(spec, withMinutes, ctx);
    expect(judged.outcome).toBe('healthy');
    expect(judged.note).toMatch(/compared minute by minute over 8 minutes, p = 1\.00/);
    const pooledJudged = judgeSignal(spec, base, ctx);
    expect(pooledJudged.outcome).toBe('failed');
    expect(pooledJudged.note).toMatch(/pooled over the window, p = /);
  });
});
