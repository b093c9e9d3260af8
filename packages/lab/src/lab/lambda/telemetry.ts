import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TELEMETRY_BUFFER_MS, TelemetryTally, telemetryUpdate, watchedDeployment, watchKey, WATCH_RECHECK_SECONDS, WATCHING_RECHECK_SECONDS } from 'canary-watchdog/lib/runtime/telemetry';
import type { DynamoDbLab } from '../dynamodb';
import { NO_FAULT, type FaultOutcome } from '../faults';
import { LabError } from '../kernel';

/**
 * The native extension's call policy (packages/constructs/extension/counter.go): one attempt a
 * call, cut at CALL_TIMEOUT_MS, no SDK retries; after BREAKER_THRESHOLD failed calls in a row, no
 * call for BREAKER_COOL_DOWN_MS; a failed lookup is tried again LOOKUP_RETRY_MS later.
 */
const CALL_TIMEOUT_MS = 500;
const BREAKER_THRESHOLD = 3;
const BREAKER_COOL_DOWN_MS = 30_000;
const LOOKUP_RETRY_MS = 5000;

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
  /** Failed calls in a row, and until when the breaker skips calls. */
  failures: number;
  openUntil: number;
}

/**
 * The `canary-watchdog-telemetry` extension, modelled: what the native extension in a function's
 * layer does (packages/constructs/extension, a Go binary), with the delays of the path it takes
 * (runtime/telemetry.ts cites each):
 * - a finished invocation's `platform.runtimeDone` event is buffered for TELEMETRY_BUFFER_MS, and
 *   the environment freezes as soon as the runtime and the extension are done, so the extension
 *   gets the event at the environment's next invocation after that. It counts the event only if it
 *   watches a deployment then (counts of no release are nobody's). The lab models each version as
 *   one environment that runs whenever the version is invoked: nothing happens between its
 *   invocations (optimistic by the spread over several environments at high traffic);
 * - on each INVOKE it answers `/next` at once and does its DynamoDB calls in the background, so it
 *   never holds an invocation: `holds` stays empty (the real binary's Invoke-phase time is measured
 *   by `npm run bench:extension`);
 * - it reads the watch item at its first invocation, again every WATCH_RECHECK_SECONDS while there
 *   is none, and every WATCHING_RECHECK_SECONDS while it watches a deployment: the watch ends when
 *   the watchdog removes the item (the deployment ended), and a redeploy of the same version points
 *   it at another deployment;
 * - it adds its counts to its version's watch item with the same UpdateItem as the extension
 *   (telemetryUpdate), at once after a failure and otherwise every FLUSH_SECONDS, through the lab's
 *   DynamoDB, so the table's stream and everything reading the item see the write as on AWS;
 * - each call is one attempt cut at 500 ms: a write cut there may have been applied, so its counts
 *   are dropped (`dropped`), never written twice; a write answered with an error (throttled, 5xx)
 *   keeps its counts for the next; three failed calls in a row open a breaker for 30 s.
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
   * How long the extension held an invocation of the version (the time between INVOKE and its next
   * `/next`, which keeps the environment from its next request and counts against the function's
   * timeout): the user function's added latency. The native extension answers `/next` at once, so
   * the model records none; the field stays for the rehearsal's per-minute report.
   */
  readonly holds: { at: number; functionName: string; version: string; ms: number }[] = [];
  /** Counts given up: a write cut at its timeout (it may have been applied). */
  readonly dropped: { at: number; functionName: string; version: string; invocations: number; errors: number }[] = [];
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
      v = { tally: new TelemetryTally(at), buffered: [], lookAt: -Infinity, failures: 0, openUntil: -Infinity };
      this.versions.set(key, v);
    }
    // The environment runs now: the Telemetry API delivers what it buffered long enough.
    const ready = v.buffered.filter((b) => b.at + TELEMETRY_BUFFER_MS <= at);
    v.buffered.splice(0, ready.length);
    // Counted only while it watches a deployment: what ends while none is watched is nobody's.
    if (typeof v.watching === 'string') for (const b of ready) v.tally.addMany(b.invocations, b.errors);
    v.buffered.push({ at, invocations, errors });
    this.flush(functionName, version, table, v, at);
  }

  /** What the extension's background writer does when the environment runs at `now`: find its deployment, write what is due. */
  private flush(functionName: string, version: string, table: string, v: VersionTelemetry, now: number): void {
    const who = { functionName, version, now };
    if (now >= v.lookAt && now >= v.openUntil) {
      const got = this.call('GetItem', { TableName: table, Key: marshall({ deploymentId: watchKey(functionName, version) }), ConsistentRead: true }, who);
      if (got.error) {
        v.lookAt = now + LOOKUP_RETRY_MS;
        this.failed(v, now);
      } else {
        v.failures = 0;
        const item = (got.out as { Item?: Record<string, never> }).Item;
        const found = watchedDeployment(item ? unmarshall(item) : undefined) ?? null;
        // Counts of an earlier deployment (or of none) are not this one's.
        if (found !== v.watching) v.tally.take(now);
        v.watching = found;
        v.lookAt = now + (v.watching ? WATCHING_RECHECK_SECONDS : WATCH_RECHECK_SECONDS) * 1000;
      }
    }
    if (typeof v.watching !== 'string' || !v.tally.due(now) || now < v.openUntil) return;
    const counts = v.tally.take(now);
    const u = telemetryUpdate(table, functionName, version, v.watching, counts.invocations, counts.errors, now);
    const put = this.call('UpdateItem', { ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) }, who);
    if (!put.error) {
      v.failures = 0;
      this.writes.push({ at: now, functionName, version, deploymentId: v.watching, ...counts });
    } else if (put.error.code === 'ConditionalCheckFailedException') {
      // The watch item is gone or watches another deployment: the extension stops writing until a
      // lookup finds a watch item again.
      v.failures = 0;
      v.watching = null;
      v.lookAt = now + WATCH_RECHECK_SECONDS * 1000;
    } else {
      // Cut at its timeout, it may have been applied: dropped, never written twice. Answered with
      // an error, it was not: the counts go back for the next write.
      if (put.error.code === 'RequestTimeout') this.dropped.push({ at: now, functionName, version, ...counts });
      else v.tally.restore(counts);
      this.failed(v, now);
    }
  }

  /** A failed call: the breaker opens after BREAKER_THRESHOLD in a row, half-open after its cool-down. */
  private failed(v: VersionTelemetry, now: number): void {
    if (++v.failures < BREAKER_THRESHOLD) return;
    v.openUntil = now + BREAKER_COOL_DOWN_MS;
    v.failures = BREAKER_THRESHOLD - 1;
  }

  /**
   * One call as the native extension makes it: one attempt, which meets the lab's faults (its
   * latency, cut at CALL_TIMEOUT_MS; its error). Returns the output or the error.
   */
  private call(operation: 'GetItem' | 'UpdateItem', input: Record<string, unknown>, who: { functionName: string; version: string; now: number }): { out?: unknown; error?: LabError } {
    // Authorized before anything else, as the lab's server does.
    const denied = this.authorize(who.functionName, operation, input);
    if (denied) {
      this.denied.push({ at: who.now, functionName: who.functionName, version: who.version, operation, message: denied.message });
      return { error: denied };
    }
    const f = this.faults?.fault('DynamoDB', operation) ?? NO_FAULT;
    if (f.latencyMs >= CALL_TIMEOUT_MS) return { error: timeoutError() };
    if (f.error) return { error: f.error };
    try {
      return { out: this.dynamodb.service.operations[operation](input) };
    } catch (err) {
      return { error: err as LabError };
    }
  }
}

/** A call cut at the extension's timeout. */
function timeoutError(): LabError {
  return new LabError('RequestTimeout', `no answer within ${CALL_TIMEOUT_MS} ms`, 408);
}
