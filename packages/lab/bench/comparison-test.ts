/**
 * False-positive rate and power of the new-version error-rate signal (absolute threshold and
 * old-version comparison, default thresholds, the always-valid sequential tests the watchdog
 * uses: core/sequential.ts), evaluated once a minute on cumulative counts, over a 10-minute
 * canary at 10 % traffic. Seeded: the figures repeat.
 * Run: npx tsx bench/comparison-test.ts
 */
import { DEFAULT_THRESHOLDS as T } from 'canary-watchdog/lib/core/config';
import { binomialDraw, seededRandom } from 'canary-watchdog/lib/core/random';
import { sequentialRateAbovePValue as rateAboveThresholdPValue, sequentialWorseThanBaselinePValue as rateWorseThanBaselinePValue } from 'canary-watchdog/lib/core/sequential';

const rand = seededRandom(42);
const draw = (n: number, p: number) => binomialDraw(rand, n, p);

export function simulate(rps: number, oldRate: number, newRate: number, trials: number) {
  let evals = 0;
  let failedEvals = 0;
  let failedDeployments = 0;
  const a = Math.round(rps * 0.1 * 60);
  const b = Math.round(rps * 0.9 * 60);
  for (let t = 0; t < trials; t++) {
    let nE = 0, nT = 0, oE = 0, oT = 0, hit = false;
    for (let m = 0; m < 10; m++) {
      nE += draw(a, newRate); nT += a; oE += draw(b, oldRate); oT += b;
      if (nT < T.minInvocations) continue;
      evals++;
      const fail =
        (nE / nT > T.maxErrorRate && rateAboveThresholdPValue(nE, nT, T.maxErrorRate) < T.alpha) ||
        (oT >= T.minInvocations && rateWorseThanBaselinePValue(nE, nT, oE, oT, T.baselineTolerance) < T.alpha);
      if (fail) { failedEvals++; hit = true; }
    }
    if (hit) failedDeployments++;
  }
  return { perEvaluation: evals ? failedEvals / evals : 0, perDeployment: failedDeployments / trials };
}

export const ROWS: [string, number, number, number, number][] = [
  ['good release, 1 req/s', 1, 0.005, 0.005, 4000],
  ['good release, 20 req/s', 20, 0.005, 0.005, 2000],
  ['good release, 200 req/s', 200, 0.005, 0.005, 300],
  ['2 % release, 20 req/s', 20, 0.005, 0.02, 1000],
  ['5 % release, 20 req/s', 20, 0.005, 0.05, 1000],
  ['5 % release, 1 req/s', 1, 0.005, 0.05, 2000],
];
export function runComparison(scale = 1) {
  return ROWS.map(([name, rps, o, n, trials]) => ({ name, trials: Math.max(50, Math.round(trials * scale)), ...simulate(rps, o, n, Math.max(50, Math.round(trials * scale))) }));
}

if (require.main === module) {
  console.log('| case | trials | share of evaluations failing | share of deployments rolled back |');
  console.log('|---|---|---|---|');
  for (const r of runComparison()) console.log(`| ${r.name} | ${r.trials} | ${(r.perEvaluation * 100).toFixed(3)} % | ${(r.perDeployment * 100).toFixed(2)} % |`);
}

/**
 * The alpha trade-off on the sample app's shape (threshold 2 %, canary 10 % for 5 minutes, then
 * 10 minutes at 100 %), with metrics visible a minute late as on the lab: per alpha, the share of
 * good releases rolled back at any point, and of 2 % and 5 % releases stopped before the final
 * shift. Both error-rate rules, cumulative counts, one evaluation a minute.
 */
export function alphaSweep(alphas: readonly number[], scale = 1) {
  const cases: [string, number, number, number][] = [
    ['good, 1 req/s', 1, 0.005, 3000],
    ['good, 20 req/s', 20, 0.005, 3000],
    ['2 %, 1 req/s', 1, 0.02, 1000],
    ['2 %, 20 req/s', 20, 0.02, 1000],
    ['5 %, 1 req/s', 1, 0.05, 1000],
  ];
  return alphas.map((alpha) => ({
    alpha,
    cases: cases.map(([name, rps, rate, trials]) => {
      const n = Math.max(100, Math.round(trials * scale));
      const r = sampleAppCanary(rps, rate, alpha, n);
      return { name, trials: n, share: rate === 0.005 ? r.rolledBack : r.beforeFinalShift };
    }),
  }));
}

function sampleAppCanary(rps: number, newRate: number, alpha: number, trials: number) {
  const rand2 = seededRandom(7);
  let rolledBack = 0;
  let beforeFinalShift = 0;
  for (let t = 0; t < trials; t++) {
    const minutes = Array.from({ length: 16 }, (_, m) => {
      const share = m < 5 ? 0.1 : 1;
      const a = Math.round(rps * 60 * share);
      const b = Math.round(rps * 60 * (1 - share));
      return { nE: binomialDraw(rand2, a, newRate), nT: a, oE: binomialDraw(rand2, b, 0.005), oT: b };
    });
    let hit = -1;
    for (let m = 2; m <= 16 && hit < 0; m++) {
      // At minute m, the minutes before m - 1 are published.
      const s = minutes.slice(0, m - 1).reduce((x, y) => ({ nE: x.nE + y.nE, nT: x.nT + y.nT, oE: x.oE + y.oE, oT: x.oT + y.oT }));
      if (s.nT < T.minInvocations) continue;
      const fail =
        (s.nE / s.nT > 0.02 && rateAboveThresholdPValue(s.nE, s.nT, 0.02) < alpha) ||
        (s.oT >= T.minInvocations && rateWorseThanBaselinePValue(s.nE, s.nT, s.oE, s.oT, T.baselineTolerance) < alpha);
      if (fail) hit = m;
    }
    if (hit >= 0) rolledBack++;
    if (hit >= 0 && hit <= 5) beforeFinalShift++;
  }
  return { rolledBack: rolledBack / trials, beforeFinalShift: beforeFinalShift / trials };
}
