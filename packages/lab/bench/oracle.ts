/**
 * The oracle: Wald's sequential probability ratio test of the new version's requests, told the
 * true error rates before and after the release. By the Wald-Wolfowitz theorem no test with the
 * same error rates needs fewer samples on average, so its detection time is the honest limit the
 * watchdog is measured against (issue 23), unlike a fixed-alpha test applied after every request.
 *
 * Pure: no lab, no clock; a seeded simulation of the per-second traffic the lab draws
 * (lib/lab/traffic.ts: `rps` requests a second, carried over when fractional, each sent to the new
 * version with the canary's weight, each failing at the version's rate).
 */
import { binomialDraw, seededRandom } from 'canary-watchdog/lib/core/random';

/** Wald's boundaries on the log-likelihood ratio for error rates alpha (false rejection) and beta (missed detection). */
export interface WaldBoundaries {
  /** Reject "the new version is as good as the old" at or above this: log((1 - beta) / alpha). */
  readonly upper: number;
  /** Accept it (stop, no detection) at or below this: log(beta / (1 - alpha)). */
  readonly lower: number;
}

/** Wald (1945), "Sequential tests of statistical hypotheses", Ann. Math. Statist. 16(2): A = (1 - beta) / alpha, B = beta / (1 - alpha). */
export function waldBoundaries(alpha: number, beta: number): WaldBoundaries {
  open('alpha', alpha);
  open('beta', beta);
  if (alpha + beta >= 1) throw new RangeError(`alpha + beta: ${alpha + beta} is not allowed; expected below 1`);
  return { upper: Math.log((1 - beta) / alpha), lower: Math.log(beta / (1 - alpha)) };
}

/** The log-likelihood ratio a failed and a successful request add, rate p1 against p0 (Bernoulli). */
export function llrSteps(p0: number, p1: number): { failure: number; success: number } {
  return { failure: Math.log(p1 / p0), success: Math.log((1 - p1) / (1 - p0)) };
}

/** The oracle's error budget per release (issue 23): 1 % false rollbacks, 90 % power. */
export const ORACLE_ALPHA = 0.01;
export const ORACLE_BETA = 0.1;

export interface OracleOptions {
  /** The old version's error rate, the null hypothesis: above 0 and below 1. */
  readonly baselineRate: number;
  /** The new version's true error rate, 0 to 1: its requests fail at this rate. */
  readonly errorRate: number;
  /** The alternative the test is built for (default errorRate, the oracle's: it knows the truth); at most baselineRate: nothing to detect. */
  readonly alternativeRate?: number;
  /** User requests a second to the alias (the lab's `traffic.rps`). */
  readonly rps: number;
  /** The new version's share of them during the canary, above 0, at most 1. */
  readonly share: number;
  /** Seconds of canary: a decision later does not count. */
  readonly seconds: number;
  readonly alpha: number;
  readonly beta: number;
  /** Simulated runs (a positive integer). */
  readonly runs: number;
  readonly seed: number;
}

export interface OracleResult {
  /** Median seconds from the first failed request to the rejection over the runs that reject; null when fewer than 1 % of runs do (or never, with nothing to detect). */
  readonly detectionSeconds: number | null;
  /** Share of the runs that reject within the canary. */
  readonly power: number;
  /** Share of the runs that accept (stop at the lower boundary) within the canary. */
  readonly accepted: number;
  /** Mean requests to the new version the test read before it stopped or the canary ended. */
  readonly meanSamples: number;
  readonly runs: number;
}

/** Below this share of rejecting runs there are too few for a median. */
const MIN_REJECTED = 0.01;

/**
 * Wald's SPRT of "error rate = baselineRate" against "error rate = errorRate", one request at a
 * time in the order the lab's per-second traffic sends them, truncated at the canary's end.
 * Built for the alternative `alternativeRate` (the true rate by default: the oracle knows it); a
 * release no worse than the old version is never rejected, and its power is 0.
 */
export function oracleSprt(o: OracleOptions): OracleResult {
  open('baselineRate', o.baselineRate);
  if (!(o.errorRate >= 0 && o.errorRate <= 1)) throw new RangeError(`errorRate: ${o.errorRate} is not allowed; expected a number from 0 to 1`);
  if (!(o.share > 0 && o.share <= 1)) throw new RangeError(`share: ${o.share} is not allowed; expected a number above 0, at most 1`);
  for (const [name, v] of [['rps', o.rps], ['seconds', o.seconds]] as const) {
    if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`${name}: ${v} is not allowed; expected a positive number`);
  }
  if (!(Number.isInteger(o.runs) && o.runs > 0)) throw new RangeError(`runs: ${o.runs} is not allowed; expected a positive integer`);
  const { upper, lower } = waldBoundaries(o.alpha, o.beta);
  const runs = o.runs;
  const alternative = o.alternativeRate ?? o.errorRate;
  if (!(alternative >= 0 && alternative <= 1)) throw new RangeError(`alternativeRate: ${alternative} is not allowed; expected a number from 0 to 1`);
  // No worse than the old version: the log-likelihood ratio never rises, nothing is ever rejected.
  if (alternative <= o.baselineRate) return { detectionSeconds: null, power: 0, accepted: 0, meanSamples: 0, runs };
  const step = llrSteps(o.baselineRate, alternative);
  const rand = seededRandom(o.seed);
  const times: number[] = [];
  let accepted = 0;
  let samples = 0;
  for (let run = 0; run < runs; run++) {
    let llr = 0;
    let carry = 0;
    let firstFailure = -1;
    let decided = false;
    for (let second = 1; second <= o.seconds && !decided; second++) {
      carry += o.rps;
      const n = Math.floor(carry);
      carry -= n;
      const toNew = o.share >= 1 ? n : binomialDraw(rand, n, o.share);
      for (let i = 0; i < toNew; i++) {
        samples++;
        if (rand() < o.errorRate) {
          if (firstFailure < 0) firstFailure = second;
          llr += step.failure;
        } else {
          llr += step.success;
        }
        if (llr >= upper) {
          times.push(second - firstFailure);
          decided = true;
          break;
        }
        if (llr <= lower) {
          accepted++;
          decided = true;
          break;
        }
      }
    }
  }
  const power = times.length / runs;
  return { detectionSeconds: power >= MIN_REJECTED ? median(times) : null, power, accepted: accepted / runs, meanSamples: samples / runs, runs };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function open(name: string, v: number): void {
  if (!(v > 0 && v < 1)) throw new RangeError(`${name}: ${v} is not allowed; expected a number above 0 and below 1`);
}
