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
 * Both tests here are exact at any sample size (no normal approximation): the ratio is a finite
 * mixture of exact binomial likelihood ratios, computed in logs.
 *
 * The mixture is over alternatives spaced in log-odds above the null's boundary, with equal
 * weights: close alternatives catch a small excess on many samples, far ones a crash on three.
 * The price of covering them all is log(K) = log(8) ~ 2.1 in the log ratio, about the evidence of
 * one more failure at a 10x excess.
 */
import { baselineNullShare } from './stats';

/**
 * Log-odds steps of the alternatives above the null boundary: 0.4 is 1.5x the odds (2 % -> 3 %),
 * 2.3 is 10x (2 % -> 17 %), 7 is near-certain failure.
 */
export const MIXTURE_LOG_ODDS_STEPS: readonly number[] = [0.4, 0.8, 1.2, 1.8, 2.5, 3.5, 5, 7];

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * log of the mixture likelihood ratio for `events` of `total` Bernoulli trials: alternatives p1
 * with logit(p1) = logit(p0) + step, against the boundary p0. For any true rate p <= p0 each
 * component's ratio is a supermartingale: one trial multiplies it by p p1/p0 + (1-p)(1-p1)/(1-p0)
 * in expectation, which is 1 at p = p0 and smaller below it.
 */
export function mixtureLogRatio(events: number, total: number, p0: number, steps: readonly number[] = MIXTURE_LOG_ODDS_STEPS): number {
  assertCounts(events, total);
  if (p0 >= 1) return -Infinity; // no rate exceeds 1: no evidence can exist.
  // p0 = 0 (no failure allowed): any event is proof; without one there is no evidence.
  if (p0 <= 0) return events > 0 ? Infinity : 0;
  const base = logit(p0);
  const terms = steps.map((s) => {
    const p1 = sigmoid(base + s);
    return events * Math.log(p1 / p0) + (total - events) * (Math.log1p(-p1) - Math.log1p(-p0));
  });
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((a, t) => a + Math.exp(t - max), 0) / steps.length);
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
 * same minutes.
 *
 * Conditional on which events happened, each one is the new version's with probability
 * pi = nNew r / (nNew r + nOld), r = 1 + tolerance, under the null's boundary (two Poisson streams;
 * Przyborowski & Wilenski, 1940), independently: a Bernoulli sequence over events, tested with the
 * same mixture. A worse new version shifts the log-odds of pi by log(rate ratio / r). The traffic
 * split is taken from the cumulative counts, exact while it is constant (a canary's one share);
 * during a linear shift it is the average split. Returns 1 when there is nothing to compare.
 */
export function sequentialWorseThanBaselinePValue(newEvents: number, newTotal: number, oldEvents: number, oldTotal: number, tolerance: number): number {
  assertCounts(newEvents, newTotal);
  assertCounts(oldEvents, oldTotal);
  const pi = baselineNullShare(newEvents, newTotal, oldEvents, oldTotal, tolerance);
  return pi === undefined ? 1 : pFromLogRatio(mixtureLogRatio(newEvents, newEvents + oldEvents, pi));
}

function assertCounts(events: number, total: number): void {
  for (const [name, v] of [['events', events], ['total', total]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
  if (events > total) throw new RangeError(`events (${events}) must not exceed total (${total})`);
}
