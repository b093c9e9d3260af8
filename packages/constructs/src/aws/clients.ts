/**
 * How every AWS SDK client the project creates is configured: bounded retries, and connection and
 * request timeouts well inside the budget of the run that makes the call (the watchdog runs for
 * at most 50 s), so one hung call cannot use up a run: it fails as data (an unreadable signal, a
 * withheld heartbeat) and the run still ends on its own terms.
 */

/** Connecting to a regional AWS endpoint takes milliseconds; two seconds is a failed connection. */
export const CONNECTION_TIMEOUT_MS = 2_000;

/**
 * Per attempt. DynamoDB answers single-item and batch reads in milliseconds; CloudWatch's
 * GetMetricData of up to 500 queries, CodeDeploy and Lambda control-plane calls take longer. A
 * synchronous Invoke (a probe, a reachability check) lasts as long as the function it runs: it
 * outlasts the reachability checker's 70 s timeout; a probe that has not answered by then failed.
 */
export const REQUEST_TIMEOUT_MS = { dynamodb: 2_000, default: 5_000, invoke: 75_000 } as const;

/** Attempts per call, in the SDK's standard retry mode (backoff with jitter on throttling, 5xx and timeouts). */
export const MAX_ATTEMPTS = 3;

/**
 * The constructor options of an SDK v3 client with these bounds. `throwOnRequestTimeout` is what
 * makes the request timeout end the call: without it @smithy/node-http-handler (4.x) only logs a
 * warning when it is exceeded and keeps waiting.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html (the requestHandler shorthand)
 * https://github.com/aws/aws-sdk-js-v3/blob/main/UPGRADING.md (throwOnRequestTimeout)
 */
export function sdkClientConfig(requestTimeoutMs: number = REQUEST_TIMEOUT_MS.default, connectionTimeoutMs: number = CONNECTION_TIMEOUT_MS) {
  return {
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard' as const,
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
}
