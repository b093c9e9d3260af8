import { judgeSignal } from '../../src/core/signals';
import { binomialDraw, seededRandom } from '../../src/core/random';
import { mixtureLogRatio, sequentialRateAbovePValue, sequentialWorseThanBaselinePValue } from '../../src/core/sequential';
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

describe('always-valid sequential tests', () => {
  const spec: RateSignal = {
    kind: 'rate',
    name: 'errors',
    events: { namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum', dimensions: {} },
    total: { namespace: 'AWS/Lambda', metricName: 'Invocations', stat: 'Sum', dimensions: {} },
    maxRate: 0.02,
    minSamples: 10,
    alpha: 0.05,
  };

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
