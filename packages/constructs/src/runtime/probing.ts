import { judgeProbe, type ProbeJudgement, type ProbeSpec } from '../core/probes';
import type { FunctionPort } from '../aws/ports';
import { errorText } from '../aws/util';
import type { ProbeTally } from '../aws/telemetry';

/**
 * Invoke one version with one probe's event and judge the answer. An invocation the Lambda API
 * refuses (throttled, not found) is a failed probe: a user's request would have failed too.
 */
export async function probeOnce(functions: FunctionPort, functionName: string, version: string, spec: ProbeSpec, now: () => number): Promise<ProbeOutcome> {
  const started = now();
  try {
    const result = await functions.invoke(functionName, version, spec.event);
    return { ...judgeProbe(spec, result), invoked: true, functionError: result.functionError !== undefined };
  } catch (err) {
    return { probe: spec.name, passed: false, latencyMs: now() - started, failures: [`invoke failed: ${errorText(err)}`], invoked: false, functionError: false };
  }
}

/**
 * A probe's judgement, and what the invocation was to Lambda: `invoked` when the function ran (a
 * refused Invoke did not), `functionError` when it ended in a function error, which the telemetry
 * extension counts as a failed invocation (aws/telemetry.ts probe record).
 */
export interface ProbeOutcome extends ProbeJudgement {
  readonly invoked: boolean;
  readonly functionError: boolean;
}

/** Probe invocations of one version, as the probe record counts them. */
export function tallyProbes(version: string, outcomes: readonly ProbeOutcome[]): ProbeTally {
  const ran = outcomes.filter((o) => o.invoked);
  return { version, invocations: ran.length, errors: ran.filter((o) => o.functionError).length };
}

/**
 * Attempts per probe in the pre-traffic hook. With 5 probes each failing 2 % of invocations at
 * random, failing the hook on any single failed invocation fails 1 - 0.98^5 = 9.6 % of good
 * releases; with 3 attempts a probe fails at random with 0.02^3 = 8e-6, and 5 probes 4e-5. A
 * deterministic failure (a crash, a wrong answer) fails every attempt and still fails the hook;
 * a release failing 50 % of requests passes a probe's 3 attempts 87.5 % of the time, which is
 * why every attempt is published: the probes layer's rate test and the error-rate layers judge
 * it during the canary. The retry also covers a cold start's init latency when the log tail has
 * no REPORT line to judge the function's own duration by.
 */
export const PRE_TRAFFIC_PROBE_ATTEMPTS = 3;

/** One probe's verdict over its attempts: the last attempt's judgement, and how it got there. */
export interface RetriedProbe extends ProbeJudgement {
  readonly attempts: number;
  /** Failures of the attempts before the last one (empty when the first attempt decided). */
  readonly earlierFailures: readonly string[];
}

export interface ProbeAttempt {
  readonly at: number;
  readonly judgement: ProbeOutcome;
}

/** Probe until an attempt passes or `maxAttempts` have failed; a probe passes if an attempt passes. */
export async function probeWithRetries(
  functions: FunctionPort,
  functionName: string,
  version: string,
  spec: ProbeSpec,
  now: () => number,
  maxAttempts: number,
): Promise<{ verdict: RetriedProbe; attempts: ProbeAttempt[] }> {
  const attempts: ProbeAttempt[] = [];
  do {
    const at = now();
    attempts.push({ at, judgement: await probeOnce(functions, functionName, version, spec, now) });
  } while (!attempts[attempts.length - 1].judgement.passed && attempts.length < maxAttempts);
  const last = attempts[attempts.length - 1].judgement;
  return {
    verdict: { ...last, attempts: attempts.length, earlierFailures: attempts.slice(0, -1).flatMap((a) => a.judgement.failures) },
    attempts,
  };
}
