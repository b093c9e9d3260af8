/**
 * The fast signal: the new version's own invocations, counted as they end by a Lambda extension
 * (the `canary-watchdog-telemetry` layer) and added to the version's watch item in the state table
 * within seconds, instead of waiting for AWS/Lambda's one-minute metrics.
 *
 * Path and delays, each from AWS's documentation:
 * 1. Lambda's Telemetry API sends the extension a `platform.runtimeDone` event when the runtime
 *    finishes an invocation, its `status` success, error, failure or timeout. Events are buffered
 *    until `timeoutMs` (25-30,000 ms; we ask for TELEMETRY_BUFFER_MS) or `maxItems` pass.
 *    https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
 *    https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
 * 2. An execution environment runs only while it is invoked: a frozen environment delivers its
 *    buffered events at its next invocation (or at shutdown). The delay is therefore up to the gap
 *    between the version's invocations, which probes keep to seconds during a release.
 *    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 * 3. The extension adds its counts to its version's watch item with one UpdateItem ADD: at once when
 *    a batch holds a failure, otherwise at most every FLUSH_SECONDS. Concurrent environments add,
 *    never overwrite. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD
 * 4. A write that carries failures is new evidence: the state table's stream (NEW_IMAGE) feeds the
 *    watchdog through a Lambda event source mapping whose filter passes only such writes
 *    (TELEMETRY_STREAM_FILTER), so the watchdog judges the deployment within about a second of
 *    the write, not at its next one-minute run. Stream records appear in near-real time, and Lambda
 *    polls each shard four times a second; the mapping batches for up to STREAM_BATCH_WINDOW_SECONDS.
 *    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
 *    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 *    https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 *    Writes of successes only are not evidence against a release; the watchdog's one-minute run
 *    reads them with the BatchGetItem it already makes.
 *
 * Which deployment to count for: the pre-traffic hook writes a watch item keyed by the function and
 * the new version before any user traffic; an extension that finds none counts nothing to the
 * table (an old version, or a function not in a release) and looks again every WATCH_RECHECK_SECONDS.
 *
 * Isolation: the counts live in the watch item, `#watch#<function>#<version>`, because that is the
 * only part of the table a guarded function's role may touch (a `dynamodb:LeadingKeys` condition,
 * ReleaseWatchdog). Its code can therefore neither read nor write the watchdog's configuration,
 * registry, deployment state or decisions, nor another function's counts; what it writes into its
 * own item is judged only for its own deployment (watchedCounts).
 */
import { INIT_HISTOGRAM, type InitHistogram } from '../core/init-durations';
import type { LayerSpec, Observation, Observations, Window } from '../core/types';
import { telemetrySlices, type TelemetryPoint } from '../core/observe';
import { signalKey } from '../core/types';

/** The Telemetry API buffering the extension asks for (the API's minimum is 25 ms, default 1,000). */
export const TELEMETRY_BUFFER_MS = 500;
/** Counts without a failure are added at most this often per execution environment. */
export const FLUSH_SECONDS = 10;
/** An extension without a watch item looks again after this long. */
export const WATCH_RECHECK_SECONDS = 30;
/**
 * An extension that watches a deployment looks at its watch item again after this long: the
 * watchdog removes the item when the deployment ends (watchItemRemoval), and the extension then
 * stops writing at its first look after that, within this interval (under 30 s) of the removal.
 * Every implementation of the extension (the native one, the lab's model) uses this interval.
 */
export const WATCHING_RECHECK_SECONDS = 20;
/** The event source mapping's batching window: one watchdog run for a second of failing writes. */
export const STREAM_BATCH_WINDOW_SECONDS = 1;

/** The environment variable that tells the extension where to count (the state table's name). */
export const TELEMETRY_TABLE_ENV = 'CANARY_WATCHDOG_TELEMETRY_TABLE';
/** The extension's name (its file in the layer's `extensions/` folder). */
export const TELEMETRY_EXTENSION_NAME = 'canary-watchdog-telemetry';

/** What every watch item's key starts with (no deployment id starts with `#`). */
export const WATCH_KEY_PREFIX = '#watch#';

/**
 * The watch item's key. Lambda function names hold no `#`, so `#watch#<function>#` is a prefix no
 * other function's keys share: the guarded role's LeadingKeys condition is `#watch#<function>#*`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName
 */
export function watchKey(functionName: string, version: string): string {
  return `${WATCH_KEY_PREFIX}${functionName}#${version}`;
}

/** The LeadingKeys pattern (IAM StringLike) of every watch item of one function. */
export function watchKeyPattern(functionName: string): string {
  return `${WATCH_KEY_PREFIX}${functionName}#*`;
}

/**
 * The UpdateItem input (DocumentClient form) of the watch item the pre-traffic hook writes: it
 * names the deployment and starts its counts at zero. Only when the item does not watch this
 * deployment yet (the condition), so a duplicate hook invocation keeps the counts made since the
 * first; the caller takes ConditionalCheckFailedException as "already watching".
 */
export function watchItemUpdate(tableName: string, functionName: string, version: string, deploymentId: string, expiresAt: number, role: WatchRole = 'release', watchedAt?: number) {
  return {
    TableName: tableName,
    Key: { deploymentId: watchKey(functionName, version) },
    // The inits of an earlier deployment of the same version go with its counts: the count to 0, the histogram removed.
    UpdateExpression: `SET #w = :w, #x = :x, #n = :zero, #e = :zero, #i = :zero, #r = :r${watchedAt !== undefined ? ', #s = :s' : ''} REMOVE #at, #f${watchedAt !== undefined ? '' : ', #s'}${INIT_BUCKET_NAMES.map((_, k) => `, #b${k}`).join('')}`,
    ConditionExpression: 'attribute_not_exists(#w) OR #w <> :w',
    ExpressionAttributeNames: {
      '#w': WATCH_DEPLOYMENT_FIELD, '#x': 'expiresAt', '#n': TELEMETRY_FIELDS.invocations, '#e': TELEMETRY_FIELDS.errors, '#at': TELEMETRY_FIELDS.at, '#f': TELEMETRY_FIELDS.failed, '#r': WATCH_ROLE_FIELD, '#s': WATCH_STARTED_FIELD,
      '#i': TELEMETRY_INIT_FIELDS.count, ...Object.fromEntries(INIT_BUCKET_NAMES.map((name, k) => [`#b${k}`, name])),
    },
    ExpressionAttributeValues: { ':w': deploymentId, ':x': expiresAt, ':zero': 0, ':r': role, ...(watchedAt !== undefined ? { ':s': watchedAt } : {}) },
  };
}

/**
 * Which version of the deployment a watch item counts: `release`, the version under release, whose
 * failing writes wake the watchdog (TELEMETRY_STREAM_FILTER); `baseline`, the version it replaces,
 * counted the same way (the extension cannot tell them apart, nor needs to) so that the release's
 * counts are judged against it, but whose writes never wake the watchdog by themselves.
 */
export type WatchRole = 'release' | 'baseline';
/** The watch item's attribute holding its WatchRole (written by the pre-traffic hook only). */
export const WATCH_ROLE_FIELD = 'watchRole';
/** When the hook started the watch, epoch ms: the baseline's counts are awaited for a while after it (baselinePending). */
export const WATCH_STARTED_FIELD = 'watchStartedAt';

/**
 * The DeleteItem input (DocumentClient form) that ends a deployment's watch when the deployment
 * ends: only while the item still watches that deployment (a conditional delete), so that a
 * redeploy of the same version, which the pre-traffic hook has pointed the item at since, stays
 * watched. The caller takes ConditionalCheckFailedException as "not watching it any more".
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html
 */
export function watchItemRemoval(tableName: string, functionName: string, version: string, deploymentId: string) {
  return {
    TableName: tableName,
    Key: { deploymentId: watchKey(functionName, version) },
    ConditionExpression: '#w = :w',
    ExpressionAttributeNames: { '#w': WATCH_DEPLOYMENT_FIELD },
    ExpressionAttributeValues: { ':w': deploymentId },
  };
}

/**
 * The watch item's attribute naming the deployment to count into: its key attribute,
 * `deploymentId`, already holds watchKey(...), so WatchItem.deploymentId is stored under this name.
 */
export const WATCH_DEPLOYMENT_FIELD = 'watching';

/** What the pre-traffic hook records for the extension to find: this version counts into this deployment. */
export interface WatchItem {
  readonly deploymentId: string;
  readonly functionName: string;
  readonly version: string;
}

/** The watch item as the state table stores it (DocumentClient form). */
export function watchItem(w: WatchItem): Record<string, string> {
  return { deploymentId: watchKey(w.functionName, w.version), [WATCH_DEPLOYMENT_FIELD]: w.deploymentId, functionName: w.functionName, version: w.version };
}

/** The deployment a stored watch item names; undefined when there is no item or it names none. */
export function watchedDeployment(item: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const id = item?.[WATCH_DEPLOYMENT_FIELD];
  // No deployment id starts with `#` (the state table's own items do).
  return typeof id === 'string' && id.length > 0 && !id.startsWith('#') ? id : undefined;
}

/** The fields the extension adds to its watch item. */
export const TELEMETRY_FIELDS = { invocations: 'telemetryInvocations', errors: 'telemetryErrors', at: 'telemetryAt', failed: 'telemetryFailed' } as const;

/**
 * The fields of the execution environments' inits the extension adds (extension/contract.go): how
 * many it counted, and the histogram of their durations, bucket k under `${bucketPrefix}${k}`
 * (core INIT_HISTOGRAM, initBucketOf). Each init is one `platform.initReport` of phase `init`,
 * on-demand: the cold start Lambda's Duration and the REPORT line's Duration leave out.
 * https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-initReport
 */
export const TELEMETRY_INIT_FIELDS = { count: 'telemetryInits', bucketPrefix: 'telemetryInitB' } as const;

/** Every bucket's attribute name. */
const INIT_BUCKET_NAMES: readonly string[] = Array.from({ length: INIT_HISTOGRAM.count }, (_, k) => `${TELEMETRY_INIT_FIELDS.bucketPrefix}${k}`);

/** The inits a watch item carries (each bucket a finite count >= 0); undefined when none were written. */
export function initsOf(item: Readonly<Record<string, unknown>> | undefined): InitHistogram | undefined {
  const count = item?.[TELEMETRY_INIT_FIELDS.count];
  if (typeof count !== 'number' || !Number.isFinite(count) || count <= 0) return undefined;
  const buckets = Array.from({ length: INIT_HISTOGRAM.count }, (_, k) => {
    const v = item?.[`${TELEMETRY_INIT_FIELDS.bucketPrefix}${k}`];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
  });
  return { count, buckets };
}

/** The histogram's buckets to ADD, by bucket index: only those with inits (the extension's updateExpression). */
function initAdds(inits: InitHistogram | undefined): [number, number][] {
  if (!inits?.count) return [];
  return inits.buckets.flatMap((n, k) => (n > 0 ? [[k, n] as [number, number]] : []));
}

/**
 * The event source mapping's filter: only writes whose latest flush carried failures (the
 * extension sets `telemetryFailed` to whether that flush had any) invoke the watchdog. (A BOOL, the
 * attribute type whose filtering the page shows; stream records carry numbers as strings.)
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
 */
export const TELEMETRY_STREAM_FILTER = {
  eventName: ['MODIFY', 'INSERT'],
  // Only the release's item: the baseline's failures are everyday evidence about the old version.
  dynamodb: { NewImage: { [TELEMETRY_FIELDS.failed]: { BOOL: [true] }, [WATCH_ROLE_FIELD]: { S: ['release' satisfies WatchRole] } } },
};

/** The counts carried by a version's watch item, if any extension has written. */
export interface TelemetryCounts {
  readonly invocations: number;
  readonly errors: number;
  /** The latest flush, epoch ms. */
  readonly at: number;
}

/** Read the telemetry fields of a watch item; undefined when no extension has written. */
export function telemetryOf(item: Readonly<Record<string, unknown>> | undefined): TelemetryCounts | undefined {
  if (!item) return undefined;
  const n = item[TELEMETRY_FIELDS.invocations];
  const e = item[TELEMETRY_FIELDS.errors];
  const at = item[TELEMETRY_FIELDS.at];
  if (typeof n !== 'number' || typeof e !== 'number' || !Number.isFinite(n) || !Number.isFinite(e) || n < 0 || e < 0) return undefined;
  return { invocations: n, errors: Math.min(e, n), at: typeof at === 'number' ? at : 0 };
}

/**
 * How long after the watch began the old version's counts are awaited: its environments, unwatched
 * until then, look for their item every WATCH_RECHECK_SECONDS and write successes every
 * FLUSH_SECONDS. Until then a failure on the new version alone is held (core judgeTelemetry).
 */
export const BASELINE_WAIT_SECONDS = WATCH_RECHECK_SECONDS + FLUSH_SECONDS;

/** The deployment's other watch items, for the comparison (each already checked with watchedCounts). */
export interface BaselineWatch {
  /** The old version's watch item, when it watches this deployment. */
  readonly item?: Readonly<Record<string, unknown>>;
  /** The probe invocations to take off each version's counts (the deployment's probe record). */
  readonly probes?: { readonly release: { invocations: number; errors: number }; readonly baseline: { invocations: number; errors: number } };
  /** Now, epoch ms: whether the old version's counts are still awaited (BASELINE_WAIT_SECONDS). */
  readonly now: number;
  /**
   * Both versions' counts at earlier reads, kept in the deployment's state (DeploymentState
   * telemetryPoints): with them the comparison is made within the slices between reads.
   */
  readonly points?: readonly TelemetryPoint[];
  /**
   * When both versions stopped serving traffic together (the final shift), once it has passed:
   * the comparison says nothing about the new version's counts after it, so it no longer
   * excuses them (core judgeTelemetry).
   */
  readonly bothServedUntil?: number;
}

/**
 * Both versions' counts as this read sees them, probes taken off, at `now`: the point the state
 * keeps for the next reads' slices. undefined without the old version's watch item (nothing to
 * compare with) or before the new version's extension wrote.
 */
export function telemetryPoint(item: object | undefined, baseline: BaselineWatch | undefined): TelemetryPoint | undefined {
  const own = telemetryOf(item as Readonly<Record<string, unknown>> | undefined);
  if (!own || !baseline?.item) return undefined;
  const counts = withoutProbes(own, baseline.probes?.release);
  const old = withoutProbes(telemetryOf(baseline.item) ?? { invocations: 0, errors: 0, at: 0 }, baseline.probes?.baseline);
  return [baseline.now, counts.invocations, counts.errors, old.invocations, old.errors];
}

/**
 * Observations for the layers' telemetry signals, from the deployment's watch item (watchedCounts):
 * the counts since the release began, up to the latest flush. No item or no flush yet is 0 of 0
 * (insufficient evidence, never healthy). With the old version's watch item of the same deployment,
 * its counts are the baseline (`old`), taken over the same watch, and with the points of earlier
 * reads the comparison is made within each slice between reads (`slices`): one BatchGetItem reads
 * both items at once, so a slice is the same stretch of time for both versions, and errors both
 * meet while the traffic split shifts cancel within it (core stratifiedWorseThanBaselinePValue).
 */
export function telemetryObservations(layers: readonly LayerSpec[], item: object | undefined, window: Window, unreadable?: string, baseline?: BaselineWatch): Observations {
  const out: Record<string, Observation> = {};
  const own = telemetryOf(item as Readonly<Record<string, unknown>> | undefined);
  const counts = own ? { ...own, ...withoutProbes(own, baseline?.probes?.release) } : undefined;
  const old = baseline?.item ? withoutProbes(telemetryOf(baseline.item) ?? { invocations: 0, errors: 0, at: 0 }, baseline.probes?.baseline) : undefined;
  const started = baseline?.item?.[WATCH_STARTED_FIELD];
  const awaitedUntil = typeof started === 'number' ? started + BASELINE_WAIT_SECONDS * 1000 : undefined;
  const pending =
    baseline && awaitedUntil !== undefined && baseline.now < awaitedUntil
      ? `the old version's counts are awaited until ${new Date(awaitedUntil).toISOString()} (its extension looks for its watch item every ${WATCH_RECHECK_SECONDS} s)`
      : undefined;
  const inits = initsOf(item as Readonly<Record<string, unknown>> | undefined);
  const oldInits = baseline?.item ? initsOf(baseline.item) : undefined;
  const empty = { count: 0, buckets: new Array<number>(INIT_HISTOGRAM.count).fill(0) };
  const point = telemetryPoint(item, baseline);
  // Slices only once a read has been kept: with none, the one slice is the pooled counts.
  const slices = point && baseline?.points?.length ? telemetrySlices(baseline.points, point, window.start) : undefined;
  const end = counts?.at ? Math.min(window.end, counts.at) : window.end;
  const servedUntil = baseline?.bothServedUntil;
  for (const layer of layers) {
    for (const s of layer.signals) {
      if (s.kind === 'inits') {
        // Both versions' cold starts over the same release; the old version's only from its own watch of this deployment.
        out[signalKey(layer.name, s.name)] = unreadable !== undefined ? { kind: 'unreadable', error: unreadable } : {
          kind: 'inits',
          new: inits ?? empty,
          ...(baseline?.item ? { old: oldInits ?? empty } : {}),
          window,
        };
        continue;
      }
      if (s.kind !== 'telemetry') continue;
      // A watch item that could not be read is a blind signal, never 0 of 0.
      out[signalKey(layer.name, s.name)] = unreadable !== undefined ? { kind: 'unreadable', error: unreadable } : {
        kind: 'counts',
        new: { events: counts?.errors ?? 0, total: counts?.invocations ?? 0 },
        window: { start: window.start, end },
        ...(old ? { old: { events: old.errors, total: old.invocations } } : {}),
        ...(slices ? { slices } : {}),
        ...(old && servedUntil !== undefined && servedUntil < end ? { bothServedUntil: servedUntil } : {}),
        ...(pending ? { baselinePending: pending } : {}),
      };
    }
  }
  return out;
}

/**
 * The UpdateItem input (DocumentClient form) that adds one flush to the version's own watch item,
 * the only item a guarded function's role may write (ReleaseWatchdog's LeadingKeys condition).
 * ADD creates the number at 0 when absent; `telemetryAt` keeps the latest flush of any environment,
 * `telemetryFailed` whether this flush had failures (what the stream filter looks at). Only while
 * the item still watches `deploymentId`: a late write never counts for another release, nor
 * re-creates an expired item.
 */
export function telemetryUpdate(tableName: string, functionName: string, version: string, deploymentId: string, invocations: number, errors: number, at: number, inits?: InitHistogram) {
  const buckets = initAdds(inits);
  const initNames: Record<string, string> = buckets.length ? { '#i': TELEMETRY_INIT_FIELDS.count } : {};
  const initValues: Record<string, number> = buckets.length ? { ':i': inits!.count } : {};
  for (const [k, n] of buckets) {
    initNames[`#b${k}`] = `${TELEMETRY_INIT_FIELDS.bucketPrefix}${k}`;
    initValues[`:b${k}`] = n;
  }
  const initAdd = buckets.length ? `, #i :i${buckets.map(([k]) => `, #b${k} :b${k}`).join('')}` : '';
  return {
    TableName: tableName,
    Key: { deploymentId: watchKey(functionName, version) },
    UpdateExpression: `ADD #n :n, #e :e${initAdd} SET #at = :at, #f = :f`,
    ConditionExpression: '#w = :w',
    ExpressionAttributeNames: { '#n': TELEMETRY_FIELDS.invocations, '#e': TELEMETRY_FIELDS.errors, '#at': TELEMETRY_FIELDS.at, '#f': TELEMETRY_FIELDS.failed, '#w': WATCH_DEPLOYMENT_FIELD, ...initNames },
    ExpressionAttributeValues: { ':n': invocations, ':e': errors, ':at': at, ':f': errors > 0, ':w': deploymentId, ...initValues },
  };
}

/**
 * The counts of `deploymentId` from its version's watch item: only when the item watches that
 * deployment. The item is written by the guarded function itself, so nothing in it is trusted to
 * say which deployment it is: the watchdog reads the item of the deployment's own function and
 * target version (from CodeDeploy's AppSpec), and a `watching` that names another deployment (an
 * earlier release of the same version, or a tampered item) is no evidence.
 */
export function watchedCounts(item: Readonly<Record<string, unknown>> | undefined, deploymentId: string): Readonly<Record<string, unknown>> | undefined {
  return item && watchedDeployment(item) === deploymentId ? item : undefined;
}

/**
 * Probe invocations are not user traffic: the pre-traffic hook and the prober add each version's
 * probe invocations, and those that ended in a function error (what the extension counts as
 * failed), to the deployment's probe record, `#probed#<deploymentId>`, and the watchdog takes them
 * off the version's telemetry counts. The record's key is outside `#watch#<function>#*`, so a
 * guarded function's role can neither read nor change it (ReleaseWatchdog isolate); the prober may
 * update only such keys.
 */
export const PROBED_KEY_PREFIX = '#probed#';

export function probedKey(deploymentId: string): string {
  return `${PROBED_KEY_PREFIX}${deploymentId}`;
}

/** One version's probe invocations in a probe record (its attributes are named for the version). */
export interface ProbeTally {
  readonly version: string;
  readonly invocations: number;
  /** Those that ended in a function error (Lambda's X-Amz-Function-Error): failed to the Telemetry API too. */
  readonly errors: number;
}

const probedFields = (version: string) => ({ invocations: `probeInvocations_${version}`, errors: `probeErrors_${version}` });

/** The UpdateItem input (DocumentClient form) adding probe invocations to the deployment's probe record (ADD: concurrent writers add). */
export function probedUpdate(tableName: string, deploymentId: string, tallies: readonly ProbeTally[], expiresAt: number) {
  const names: Record<string, string> = { '#x': 'expiresAt' };
  const values: Record<string, number> = { ':x': expiresAt };
  const adds: string[] = [];
  tallies.forEach((t, i) => {
    const f = probedFields(t.version);
    names[`#n${i}`] = f.invocations;
    names[`#e${i}`] = f.errors;
    values[`:n${i}`] = t.invocations;
    values[`:e${i}`] = t.errors;
    adds.push(`#n${i} :n${i}`, `#e${i} :e${i}`);
  });
  return { TableName: tableName, Key: { deploymentId: probedKey(deploymentId) }, UpdateExpression: `ADD ${adds.join(', ')} SET #x = :x`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** A version's probe invocations from a probe record (0 of 0 without one). */
export function probedOf(item: Readonly<Record<string, unknown>> | undefined, version: string): { invocations: number; errors: number } {
  const f = probedFields(version);
  const n = item?.[f.invocations];
  const e = item?.[f.errors];
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);
  return { invocations: num(n), errors: num(e) };
}

/** The probes taken off a version's telemetry counts: never below 0 (the extension may not have counted a probe yet). */
function withoutProbes(c: { invocations: number; errors: number }, p: { invocations: number; errors: number } | undefined): { invocations: number; errors: number } {
  if (!p) return c;
  const invocations = Math.max(0, c.invocations - p.invocations);
  return { invocations, errors: Math.min(invocations, Math.max(0, c.errors - p.errors)) };
}

/** A `platform.runtimeDone` status that is a failed invocation. */
export function isFailedStatus(status: unknown): boolean {
  return status === 'error' || status === 'failure' || status === 'timeout';
}

/**
 * One execution environment's counts between flushes, and when to flush them: at once after a
 * failure (the evidence the watchdog waits for), otherwise every FLUSH_SECONDS. Pure: the caller
 * gives the time.
 */
export class TelemetryTally {
  private invocations = 0;
  private errors = 0;
  private lastFlushAt: number;

  /** `flushMs`: how often counts without a failure are written (FLUSH_SECONDS; shorter in tests). */
  constructor(
    now: number,
    private readonly flushMs = FLUSH_SECONDS * 1000,
  ) {
    this.lastFlushAt = now;
  }

  /** Count one finished invocation. */
  add(failed: boolean, n = 1): void {
    this.invocations += n;
    if (failed) this.errors += n;
  }

  /** Count a batch of invocations at once (the lab's aggregate traffic). */
  addMany(invocations: number, errors: number): void {
    this.invocations += invocations;
    this.errors += Math.min(errors, invocations);
  }

  get pending(): { invocations: number; errors: number } {
    return { invocations: this.invocations, errors: this.errors };
  }

  /** Whether the counts should be written now. */
  due(now: number): boolean {
    if (!this.invocations) return false;
    return this.errors > 0 || now - this.lastFlushAt >= this.flushMs;
  }

  /** Take the counts for a write; on a failed write, `restore` them. */
  take(now: number): { invocations: number; errors: number } {
    const out = { invocations: this.invocations, errors: this.errors };
    this.invocations = 0;
    this.errors = 0;
    this.lastFlushAt = now;
    return out;
  }

  restore(counts: { invocations: number; errors: number }): void {
    this.invocations += counts.invocations;
    this.errors += counts.errors;
  }
}
