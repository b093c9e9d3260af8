import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TELEMETRY_BUFFER_MS, TelemetryTally, telemetryUpdate, watchedDeployment, watchKey, WATCH_RECHECK_SECONDS } from 'canary-watchdog/lib/runtime/telemetry';
import type { DynamoDbLab } from '../dynamodb';
import type { LabError } from '../kernel';

/** Whether a function's role may make a DynamoDB call (the lab's IAM); the AccessDenied when not. */
export type AuthorizeAs = (functionName: string, operation: 'GetItem' | 'UpdateItem', input: Record<string, unknown>) => LabError | undefined;


interface VersionTelemetry {
  readonly tally: TelemetryTally;
  /** Finished invocations whose `platform.runtimeDone` events the Telemetry API still buffers. */
  readonly buffered: { at: number; invocations: number; errors: number }[];
  /** The deployment the watch item names; null when there was none at the last look. */
  watching?: string | null;
  checkedAt: number;
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
 * - the extension reads the watch item at its first invocation and again every
 *   WATCH_RECHECK_SECONDS while there is none;
 * - it adds its counts with the same UpdateItem as the extension (telemetryUpdate), at once after a
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
  /** Calls its function's role may not make: when, which call, AWS's message. */
  readonly denied: { at: number; functionName: string; version: string; operation: string; message: string }[] = [];

  constructor(
    private readonly dynamodb: DynamoDbLab,
    private readonly authorize: AuthorizeAs = () => undefined,
  ) {}

  /** Whether the function's role may make the call; a denial is recorded. */
  private allowed(functionName: string, version: string, operation: 'GetItem' | 'UpdateItem', input: Record<string, unknown>, now: number): boolean {
    const denied = this.authorize(functionName, operation, input);
    if (denied) this.denied.push({ at: now, functionName, version, operation, message: denied.message });
    return !denied;
  }

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
      v = { tally: new TelemetryTally(at), buffered: [], checkedAt: -Infinity };
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
    if (v.watching === undefined || (v.watching === null && now - v.checkedAt >= WATCH_RECHECK_SECONDS * 1000)) {
      const get = { TableName: table, Key: marshall({ deploymentId: watchKey(functionName, version) }) };
      // A denied read finds no watch item: the extension looks again later.
      const got = (this.allowed(functionName, version, 'GetItem', get, now) ? this.dynamodb.service.operations.GetItem(get) : {}) as { Item?: Record<string, never> };
      v.watching = watchedDeployment(got.Item ? unmarshall(got.Item) : undefined) ?? null;
      v.checkedAt = now;
    }
    if (!v.watching || !v.tally.due(now)) return;
    const counts = v.tally.take(now);
    const u = telemetryUpdate(table, v.watching, counts.invocations, counts.errors, now);
    const update = { ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) };
    // A denied write loses its counts, as the extension's failed write does.
    if (!this.allowed(functionName, version, 'UpdateItem', update, now)) return;
    try {
      this.dynamodb.service.operations.UpdateItem(update);
      this.writes.push({ at: now, functionName, version, deploymentId: v.watching, ...counts });
    } catch (err) {
      // The deployment's item is gone (or not made yet): the extension drops the counts and looks
      // for its watch item again later, as the extension does.
      if ((err as { code?: string }).code !== 'ConditionalCheckFailedException') throw err;
      v.watching = null;
      v.checkedAt = now;
    }
  }
}
