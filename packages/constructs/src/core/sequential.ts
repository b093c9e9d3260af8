/**
 * Sequential tests that stay valid however often they look (always-valid p-values).
 *
 * The watchdog looks at cumulative counts every minute, on every alarm event and on every fast
 * look at the new version's telemetry: dozens of looks per release. A fixed-sample test run at
 * alpha on every look rejects a good release far more often than alpha over the whole release.
 * A mixture sequential probability ratio test does not: under the null hypothesis its likelihood
 * ratio is a nonnegative supermartingale with mean at most 1, so by Ville's inequality the chance
 * that it EVER reaches 1/alpha, at any of any number of looks chosen in any way, is at most alpha
 * (Robbins 1970; Johari, Pekelis & Walsh, "Always valid inference", 2017). Its p-value,
 * min(1, 1 / ratio), can be read at every look and compared with alpha as is.
 *
 * Both tests here are exact at any sample size (no normal approximation): the ratio is a mixture
 * of exact binomial likelihood ratios, computed in logs.
 *
 * The mixture is over alternatives spaced in log-odds above the null's boundary, half an octave
 * apart: steps 8, 8/sqrt(2), 4, ... down to 8 / 2^39.5 (about 1e-11). The eight from 8 to 0.71
 * (near-certain failure down to twice the odds) weigh 0.075 each; the smaller ones share the other
 * 0.4 as 1 / (j (j + 1)), j = 1, 2, ... (scaled to sum to 0.4). Each component's ratio is a
 * nonnegative supermartingale under the null, so a mixture with weights summing to 1 is one too,
 * and Ville's inequality holds for it. Alternatives reach down to the boundary, so the test is
 * consistent: a true rate any amount above the boundary (a log-odds excess d <= 8) has a step in
 * (d/2, d], whose ratio grows exponentially with the samples, so detection becomes certain as
 * samples grow (a discrete mixture as in Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform,
 * nonparametric, nonasymptotic confidence sequences", Annals of Statistics 2021). The eight equal
 * steps from 0.4 up used until 2026-12 could never flag an excess below about 0.2 in log-odds
 * (1.22x the boundary's odds), however much traffic came. The price of an alternative is
 * log(1 / weight) in the log ratio: 2.6 for each of the eight large steps (2.1 before), 1.6 at
 * step 0.5, 3.4 at 0.25 (1.28x the odds), 4.3 at 1/8; half-octave spacing loses at most 3 % of the
 * best single alternative's evidence per sample.
 */
import { baselineNullShare } from './stats';
import type { CountSlice } from './types';

/** Half-octave steps of the grid: the smallest is 8 / 2^((K - 1) / 2). */
const MIXTURE_STEPS_COUNT = 80;
/** The large steps, and their share of the weight. */
const LARGE_STEPS = 8;
const LARGE_STEPS_WEIGHT = 0.6;

/**
 * Log-odds steps of the alternatives above the null boundary, largest first: 8 is near-certain
 * failure, 2 is 7.4x the odds (2 % -> 13 %), 0.25 is 1.28x, and the steps shrink on towards 0.
 */
export const MIXTURE_LOG_ODDS_STEPS: readonly number[] = Array.from({ length: MIXTURE_STEPS_COUNT }, (_, i) => 8 / 2 ** (i / 2));

/** Weights of the steps, summing to 1: 0.6 / 8 for each large step, the rest 1 / (j (j + 1)) scaled to 0.4. */
export const MIXTURE_WEIGHTS: readonly number[] = (() => {
  const tail = MIXTURE_LOG_ODDS_STEPS.slice(LARGE_STEPS).map((_, j) => 1 / ((j + 1) * (j + 2)));
  const tailSum = tail.reduce((a, b) => a + b, 0);
  return [...Array<number>(LARGE_STEPS).fill(LARGE_STEPS_WEIGHT / LARGE_STEPS), ...tail.map((w) => (w * (1 - LARGE_STEPS_WEIGHT)) / tailSum)];
})();

/** e^step - 1 for each step, computed once: every look evaluates every step. */
const STEP_EXPM1 = MIXTURE_LOG_ODDS_STEPS.map((st) => Math.expm1(st));

/**
 * log of one Bernoulli likelihood ratio for `events` of `total` trials, alternative
 * logit(p1) = logit(p0) + step against p0: events * step - total * log(1 - p0 + p0 e^step),
 * since p1 / p0 = e^step (1 - p1) / (1 - p0) and (1 - p1) / (1 - p0) = 1 / (1 - p0 + p0 e^step).
 */
function bernoulliLogRatio(events: number, total: number, p0: number, step: number, expm1Step = Math.expm1(step)): number {
  return events * step - total * Math.log1p(p0 * expm1Step);
}

/** log of sum_k w_k exp(terms_k), without overflow. */
function logMix(terms: readonly number[], weights: readonly number[]): number {
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(terms.reduce((a, t, i) => a + weights[i] * Math.exp(t - max), 0));
}

/**
 * log of the mixture likelihood ratio for `events` of `total` Bernoulli trials: alternatives p1
 * with logit(p1) = logit(p0) + step, against the boundary p0. For any true rate p <= p0 each
 * component's ratio is a supermartingale: one trial multiplies it by p p1/p0 + (1-p)(1-p1)/(1-p0)
 * in expectation, which is 1 at p = p0 and smaller below it. `steps` alone (equal weights) is for
 * tests that look at one component.
 */
export function mixtureLogRatio(events: number, total: number, p0: number, steps?: readonly number[]): number {
  assertCounts(events, total);
  if (p0 >= 1) return -Infinity; // no rate exceeds 1: no evidence can exist.
  // p0 = 0 (no failure allowed): any event is proof; without one there is no evidence.
  if (p0 <= 0) return events > 0 ? Infinity : 0;
  if (steps) return logMix(steps.map((s) => bernoulliLogRatio(events, total, p0, s)), steps.map(() => 1 / steps.length));
  return logMix(MIXTURE_LOG_ODDS_STEPS.map((s, i) => bernoulliLogRatio(events, total, p0, s, STEP_EXPM1[i])), MIXTURE_WEIGHTS);
}

/** Always-valid p-value from a log likelihood ratio: min(1, 1 / ratio). */
function pFromLogRatio(logRatio: number): number {
  if (logRatio === Infinity) return 0;
  return logRatio <= 0 ? 1 : Math.exp(-logRatio);
}

/**
 * Always-valid one-sided test that the true event rate exceeds `maxRate`, from cumulative counts.
 * Rejecting when it is below alpha keeps the chance of ever rejecting a rate <= maxRate, over all
 * looks of a release, at most alpha.
 */
export function sequentialRateAbovePValue(events: number, total: number, maxRate: number): number {
  return pFromLogRatio(mixtureLogRatio(events, total, maxRate));
}

/**
 * Always-valid one-sided test that the new version's event rate exceeds the old version's by more
 * than `tolerance` (0.25: 25 % worse is still acceptable), from cumulative counts of both over the
 * same minutes, pooled: one traffic split for the whole window. Exact while the split is constant
 * (a canary's one share); during a linear shift it is the average split, and errors both versions
 * meet late, when the new version holds most traffic, look like the new version's (Simpson's
 * paradox): use stratifiedWorseThanBaselinePValue when per-minute counts are at hand.
 * Returns 1 when there is nothing to compare.
 */
export function sequentialWorseThanBaselinePValue(newEvents: number, newTotal: number, oldEvents: number, oldTotal: number, tolerance: number): number {
  assertCounts(newEvents, newTotal);
  assertCounts(oldEvents, oldTotal);
  const pi = baselineNullShare(newEvents, newTotal, oldEvents, oldTotal, tolerance);
  return pi === undefined ? 1 : pFromLogRatio(mixtureLogRatio(newEvents, newEvents + oldEvents, pi));
}

export type { CountSlice } from './types';

/**
 * Always-valid one-sided test that the new version's event rate exceeds the old version's by more
 * than `tolerance`, compared within each time slice and combined across slices as the
 * Cochran-Mantel-Haenszel test does (Mantel & Haenszel, 1959), in a sequential form.
 *
 * Conditional on a slice's events, each is the new version's with probability
 * pi_t = nNew_t r / (nNew_t r + nOld_t), r = 1 + tolerance, under the null's boundary (two Poisson
 * streams; Przyborowski & Wilenski, 1940), independently across events and slices. A worse new
 * version shifts every slice's log-odds by the same log(rate ratio / r): the likelihood ratio of
 * one shared shift is the product of the slices' Bernoulli ratios, a nonnegative supermartingale
 * under the null, and so is its mixture over the shifts (the grid above), so Ville's inequality
 * keeps it valid at any number of looks. Rates that change with time (an outage both versions
 * meet, while the split shifts) cancel within each slice instead of being charged to whichever
 * version held more traffic then. A slice with one version absent carries no evidence. A slice
 * whose events outnumber its samples (a datapoint landing in the next minute) counts its events
 * as samples. Returns 1 when there is nothing to compare.
 */
export function stratifiedWorseThanBaselinePValue(slices: readonly CountSlice[], tolerance: number): number {
  return stratifiedPValues(slices, tolerance).at(-1) ?? 1;
}

/**
 * The stratified test's p-value after each slice, in order (stratifiedWorseThanBaselinePValue of
 * each prefix), in one pass: the least of them is the test read at the end of each slice, still
 * always valid (Ville's inequality bounds the running maximum of the ratio).
 */
export function stratifiedPValues(slices: readonly CountSlice[], tolerance: number): number[] {
  const r = 1 + tolerance;
  const terms = MIXTURE_LOG_ODDS_STEPS.map(() => 0);
  let any = false;
  return slices.map((sl) => {
    for (const [name, v] of Object.entries(sl)) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
    }
    const nNew = Math.max(sl.newTotal, sl.newEvents);
    const nOld = Math.max(sl.oldTotal, sl.oldEvents);
    const e = sl.newEvents + sl.oldEvents;
    if (nNew > 0 && nOld > 0 && e > 0) {
      const pi = (nNew * r) / (nNew * r + nOld);
      MIXTURE_LOG_ODDS_STEPS.forEach((st, i) => (terms[i] += bernoulliLogRatio(sl.newEvents, e, pi, st, STEP_EXPM1[i])));
      any = true;
    }
    return any ? pFromLogRatio(logMix(terms, MIXTURE_WEIGHTS)) : 1;
  });
}

function assertCounts(events: number, total: number): void {
  for (const [name, v] of [['events', events], ['total', total]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
  if (events > total) throw new RangeError(`events (${events}) must not exceed total (${total})`);
}
