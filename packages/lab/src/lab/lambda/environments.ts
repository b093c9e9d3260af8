/**
 * Execution environments and reserved concurrency, accounted on the lab's clock.
 *
 * Lambda runs one invocation at a time in an execution environment; a request that finds none
 * of the version's environments free gets a new one, which pays its own init phase (a cold
 * start). So a version runs in as many environments as it has invocations in flight (arrival
 * rate x duration), and a function's concurrency is the number of its environments busy at once,
 * across all its versions. https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 *
 * An invocation occupies its environment on the lab's clock from its start to its start + init +
 * duration (the REPORT line's figures), not while its worker thread happens to run: on a virtual
 * clock everything at one instant runs one after the other in wall time, yet is concurrent.
 * Until it has answered, its end is unknown and it counts as busy from its start on.
 */
export interface Environment {
  readonly id: number;
  /** Lab time the invocation it runs (or ran last) started. */
  startedAt: number;
  /** Lab time it is free again; Infinity while its invocation has not answered. */
  busyUntil: number;
  /** Its init failed or its invocation timed out: Lambda resets it, so it takes no other invocation. */
  dead: boolean;
}

/**
 * How long an idle environment stays warm. AWS does not document it ("Lambda maintains the
 * execution environment for some time in anticipation of another function invocation",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); public
 * measurements range from 5 to 60 minutes. The lab keeps one for 10 minutes: a function invoked
 * every minute (the watchdog's schedule) stays warm, one idle for a quarter of an hour is cold.
 */
export const ENVIRONMENT_IDLE_MS = 10 * 60_000;

/** Whether an environment runs an invocation at lab time `t`. */
export const busyAt = (e: Environment, t: number): boolean => e.startedAt <= t && t < e.busyUntil;

/** The environments still alive at `t`: a free one idle for `idleMs` or more is reaped, a dead one once its invocation ended. */
export function reap(envs: readonly Environment[], t: number, idleMs = ENVIRONMENT_IDLE_MS): Environment[] {
  return envs.filter((e) => !(e.busyUntil <= t && (e.dead || t - e.busyUntil >= idleMs)));
}

/** The environment an invocation starting at `t` reuses: of those free, the one freed last (the warmest); none means a cold start. */
export function freeEnvironment(envs: readonly Environment[], t: number): Environment | undefined {
  let best: Environment | undefined;
  for (const e of envs) if (!e.dead && e.busyUntil <= t && (!best || e.busyUntil > best.busyUntil)) best = e;
  return best;
}

/** Invocations in flight at `t` across a function's versions: its concurrency. */
export function concurrencyAt(versions: Iterable<readonly Environment[]>, t: number): number {
  let n = 0;
  for (const envs of versions) for (const e of envs) if (busyAt(e, t)) n++;
  return n;
}

/**
 * The throttle of an invocation over a function's reserved concurrency: HTTP 429
 * TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded, Type User,
 * message "Rate Exceeded.".
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
 * https://docs.aws.amazon.com/lambda/latest/api/API_TooManyRequestsException.html
 */
export const RESERVED_THROTTLE = { code: 'TooManyRequestsException', message: 'Rate Exceeded.', status: 429, fields: { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User' } } as const;

/**
 * Lambda's queue retries an asynchronous invocation that was throttled: "The retry interval
 * increases exponentially from 1 second after the first attempt to a maximum of 5 minutes", for
 * up to 6 hours (the default maximum event age), then drops the event.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
export const ASYNC_MAX_EVENT_AGE_MS = 6 * 3_600_000;
export const asyncRetryDelayMs = (attempt: number): number => Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));

/**
 * Reserved concurrency a template or PutFunctionConcurrency sets: an integer from 0 up. AWS keeps
 * at least 100 of the account's 1,000 concurrent executions unreserved, so at most 900 across
 * the account's functions. https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
 */
export const ACCOUNT_CONCURRENCY = 1000;
export const MIN_UNRESERVED = 100;

export function checkReserved(value: unknown, field: string, reservedByOthers: number): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `${field}: expected an integer >= 0 (0 throttles every invocation), got ${JSON.stringify(value)}`;
  if (reservedByOthers + value > ACCOUNT_CONCURRENCY - MIN_UNRESERVED) {
    return `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`;
  }
  return undefined;
}
