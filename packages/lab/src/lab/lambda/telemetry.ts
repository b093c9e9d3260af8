import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TELEMETRY_BUFFER_MS, TelemetryTally, telemetryUpdate, watchedDeployment, watchKey, WATCH_RECHECK_SECONDS, WATCHING_RECHECK_SECONDS } from 'canary-watchdog/lib/runtime/telemetry';
import type { DynamoDbLab } from '../dynamodb';
import { NO_FAULT, type FaultOutcome } from '../faults';
import { LabError } from '../kernel';

/**
 * The extension's SDK client and deadlines (packages/constructs/lambda/telemetry-extension.ts):
 * at most 3 attempts (standard retries), each cut at 2 s, the whole call at 3 s; a lookup that
 * failed is tried again 5 s later.
 */
const MAX_ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 2000;
const CALL_DEADLINE_MS = 3000;
const LOOKUP_RETRY_MS = 5000;

/** What the SDK retries: throttles, server errors and timeouts. https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html */
const retryable = (e: { code?: string; status?: number }) => (e.status ?? 0) >= 500 || e.code === 'ProvisionedThroughputExceededException' || e.code === 'ThrottlingException' || e.code === 'RequestTimeout';

/** Whether a function's role may make a DynamoDB call (the lab's IAM); the AccessDenied when not. */
export type AuthorizeAs = (functionName: string, operation: 'GetItem' | 'UpdateItem', input: Record<string, unknown>) => LabError | undefined;


interface VersionTelemetry {
  readonly tally: TelemetryTally;
  /** Finished invocations whose `platform.runtimeDone` events the Telemetry API still buffers. */
  readonly buffered: { at: number; invocations: number; errors: number }[];
  /** The deployment the watch item names; null when there was none at the last look. */
  watching?: string | null;
  /** When to look at the watch item again: WATCH_RECHECK_SECONDS while none is known, WATCHING_RECHECK_SECONDS while it watches. */
  lookAt: number;
}

/**
 * The `canary-watchdog-telemetry` extension, modelled: what the extension in a function's layer
 * does (packages/constructs/lambda/telemetry-extension.ts), with the delays of the path it takes
 * (runtime/telemetry.ts cites each):
 * - a finished invocation's `platform.runtimeDone` event is buffered for TELEMETRY_BUFFER_MS, and
 *   the environment freezes as soon as the runtime and the extension are done, so the extension
 *   gets the event at the environment's next invocation after that, and writes then. The lab has
 *   no execution environments for user traffic (it is simulated in aggregate), so each version is
 *   modelled as one environment that runs whenever the version is invoked: nothing happens between
 *   its invocations (optimistic by the spread over several environments at high traffic);
 * - the extension reads the watch item at its first invocation, again every
 *   WATCH_RECHECK_SECONDS while there is none, and every WATCHING_RECHECK_SECONDS while it watches
 *   a deployment: the watch ends when the watchdog removes the item (the deployment ended), and a
 *   redeploy of the same version points it at another deployment;
 * - it adds its counts to its version's watch item with the same UpdateItem as the extension
 *   (telemetryUpdate), at once after a
 *   failure and otherwise every FLUSH_SECONDS, through the lab's DynamoDB, so the table's stream
 *   and everything reading the item see the write as on AWS.
 * Failures are function errors and timeouts (the runtimeDone status); an HTTP 500 the function
 * answered without throwing is a success to the extension, as to Lambda.
 * The extension calls DynamoDB with its function's credentials: each call is authorized against
 * the function's execution role, and a denied one is recorded and changes nothing.
 */
export class TelemetryExtensionModel {
  /** Per function name: the table its environment variable names. */
  private readonly tables = new Map<string, string>();
  private readonly versions = new Map<string, VersionTelemetry>();
  /** Writes the model made, for tests and the report: when, which deployment, what it added. */
  readonly writes: { at: number; functionName: string; version: string; deploymentId: string; invocations: number; errors: number }[] = [];
  /**
   * How long the extension held an invocation of the version with its DynamoDB calls (the time
   * between INVOKE and its next `/next`, which keeps the environment from its next request and
   * counts against the function's timeout): the user function's added latency.
   */
  readonly holds: { at: number; functionName: string; version: string; ms: number }[] = [];
  /** Calls its function's role may not make: when, which call, AWS's message. */
  readonly denied: { at: number; functionName: string; version: string; operation: string; message: string }[] = [];

  constructor(
    private readonly dynamodb: DynamoDbLab,
    /** The lab's injected faults, met by the extension's calls as by any other caller's. */
    private readonly faults?: { fault(service: string, operation: string): FaultOutcome },
    /** The lab's IAM: the extension calls DynamoDB with its function's credentials. */
    private readonly authorize: AuthorizeAs = () => undefined,
  ) {}

  /** A function whose layers hold the extension, counting into `table`. */
  enable(functionName: string, table: string): void {
    this.tables.set(functionName, table);
  }

  enabled(functionName: string): boolean {
    return this.tables.has(functionName);
  }

  /** Invocations of one version that started at `at` (real ones, or a second of simulated users). */
  invoked(functionName: string, version: string, at: number, invocations: number, errors: number): void {
    const table = this.tables.get(functionName);
    if (!table || version === '$LATEST' || invocations <= 0) return;
    const key = `${functionName}:${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = { tally: new TelemetryTally(at), buffered: [], lookAt: -Infinity };
      this.versions.set(key, v);
    }
    // The environment runs now: the Telemetry API delivers what it buffered long enough.
    const ready = v.buffered.filter((b) => b.at + TELEMETRY_BUFFER_MS <= at);
    v.buffered.splice(0, ready.length);
    for (const b of ready) v.tally.addMany(b.invocations, b.errors);
    v.buffered.push({ at, invocations, errors });
    this.flush(functionName, version, table, v, at);
  }

  /** What the extension does while the environment runs at `now`: find its deployment, write what is due. */
  private flush(functionName: string, version: string, table: string, v: VersionTelemetry, now: number): void {
    let held = 0;
    if (now >= v.lookAt) {
      const got = this.call('GetItem', { TableName: table, Key: marshall({ deploymentId: watchKey(functionName, version) }), ConsistentRead: true }, { functionName, version, now });
      held += got.ms;
      if (got.error) v.lookAt = now + LOOKUP_RETRY_MS;
      else {
        const item = (got.out as { Item?: Record<string, never> }).Item;
        v.watching = watchedDeployment(item ? unmarshall(item) : undefined) ?? null;
        v.lookAt = now + (v.watching ? WATCHING_RECHECK_SECONDS : WATCH_RECHECK_SECONDS) * 1000;
      }
    }
    if (typeof v.watching === 'string' && v.tally.due(now)) {
      const counts = v.tally.take(now);
      const u = telemetryUpdate(table, functionName, version, v.watching, counts.invocations, counts.errors, now);
      const put = this.call('UpdateItem', { ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) }, { functionName, version, now });
      held += put.ms;
      if (!put.error) this.writes.push({ at: now, functionName, version, deploymentId: v.watching, ...counts });
      else if (put.error.code === 'ConditionalCheckFailedException') {
        // The watch item is gone or watches another deployment: the extension drops the counts
        // and looks for its watch item again later, as the extension does.
        v.watching = null;
        v.lookAt = now + WATCH_RECHECK_SECONDS * 1000;
      } else v.tally.restore(counts);
    }
    if (held > 0) this.holds.push({ at: now, functionName, version, ms: held });
  }

  /**
   * One call as the extension's SDK client makes it: each attempt meets the lab's faults (its
   * latency, cut at the attempt's timeout; its error), retryable failures are tried again up to
   * the attempts and the deadline. Returns the output or the last error, and the time it took.
   */
  private call(operation: 'GetItem' | 'UpdateItem', input: Record<string, unknown>, who: { functionName: string; version: string; now: number }): { out?: unknown; error?: LabError; ms: number } {
    // Authorized before anything else, as the lab's server does: a denial is not retried.
    const denied = this.authorize(who.functionName, operation, input);
    if (denied) {
      this.denied.push({ at: who.now, functionName: who.functionName, version: who.version, operation, message: denied.message });
      return { error: denied, ms: 0 };
    }
    let ms = 0;
    let error: LabError | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && ms < CALL_DEADLINE_MS; attempt++) {
      const f = this.faults?.fault('DynamoDB', operation) ?? NO_FAULT;
      const slow = f.latencyMs >= REQUEST_TIMEOUT_MS;
      ms = Math.min(CALL_DEADLINE_MS, ms + Math.min(f.latencyMs, REQUEST_TIMEOUT_MS));
      if (slow) {
        error = timeoutError(ms);
        continue;
      }
      if (f.error) error = f.error;
      else {
        try {
          return { out: this.dynamodb.service.operations[operation](input), ms };
        } catch (err) {
          error = err as LabError;
        }
      }
      if (!retryable(error)) break;
    }
    return { error, ms };
  }
}

/** An attempt cut at the client's request timeout. */
function timeoutError(ms: number): LabError {
  return new LabError('RequestTimeout', `no answer within ${REQUEST_TIMEOUT_MS} ms (${ms} ms in all)`, 408);
}
