import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { probedUpdate, watchItemRemoval, watchItemUpdate, type ProbeTally, type WatchRole } from './telemetry';
import { StateReadError, type DeploymentState, type ProbeCountPort, type RegistryPort, type StatePort, type WatchEndPort, type WatchPort, type WatchRef } from './ports';
import { backoffDelay, chunk, errorName } from './util';

/** BatchGetItem reads up to 100 items per call.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html */
export const BATCH_GET_ITEM_MAX = 100;
/**
 * How long one read may spend retrying unprocessed keys: the watchdog runs for at most 50 s and
 * still has to judge, act and publish heartbeats; a key still unread is retried by the next run,
 * a minute later.
 */
export const STATE_READ_BUDGET_MS = 5_000;
/** At most this many BatchGetItem calls per batch of keys, whatever the budget. */
const MAX_READ_ATTEMPTS = 10;

/** How the store pauses between retries and how much time it may spend on them. */
export interface RetryOptions {
  /** The time the caller has left (ms), when shorter than STATE_READ_BUDGET_MS. */
  readonly remainingMs?: () => number;
  /** A monotonic clock (ms) for the budget; performance.now by default. */
  readonly monotonic?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Items expire (DynamoDB TTL) a week after their last write: longer than any deployment (50 hours). */
export const STATE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The state-table item that registers active deployments (no deployment id starts with `#`).
 * An item holds 400 KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html);
 * CodeDeploy allows 1,000 deployments in progress per account, about 12 KB of ids
 * (https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html).
 */
export const REGISTRY_ITEM_ID = '#active';

/**
 * Deployment state in a DynamoDB table keyed by `deploymentId`. Writers touch only their own
 * fields (UpdateItem SET), so the hooks and the watchdog never overwrite each other. The registry
 * of active deployments is one item whose `ids` string set is changed with ADD and DELETE, so
 * concurrent writers merge instead of overwriting.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */
export class DynamoStateStore implements StatePort, RegistryPort, WatchPort, WatchEndPort, ProbeCountPort {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
    private readonly retry: RetryOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Unprocessed keys are retried with exponential backoff and jitter, as the BatchGetItem page
   * asks, within STATE_READ_BUDGET_MS (or the caller's remaining time); keys still unread then
   * are an error (StateReadError), never taken as "no state".
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
   */
  async get(ids: readonly string[]): Promise<Map<string, DeploymentState>> {
    const monotonic = this.retry.monotonic ?? (() => performance.now());
    const sleep = this.retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const budget = Math.min(STATE_READ_BUDGET_MS, this.retry.remainingMs?.() ?? Infinity);
    const started = monotonic();
    const out = new Map<string, DeploymentState>();
    const unread: string[] = [];
    let attempts = 0;
    for (const batch of chunk([...new Set(ids)], BATCH_GET_ITEM_MAX)) {
      let keys: Record<string, unknown>[] = batch.map((deploymentId) => ({ deploymentId }));
      for (let attempt = 0; keys.length; attempt++) {
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        attempts++;
        for (const item of res.Responses?.[this.tableName] ?? []) out.set(item.deploymentId as string, item as DeploymentState);
        keys = (res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        if (!keys.length) break;
        const pause = backoffDelay(attempt, this.retry.random);
        if (attempt + 1 >= MAX_READ_ATTEMPTS || monotonic() - started + pause > budget) break;
        await sleep(pause);
      }
      unread.push(...keys.map((k) => String(k.deploymentId)));
    }
    if (unread.length) {
      const took = Math.round(monotonic() - started);
      throw new StateReadError(`BatchGetItem left ${unread.length} key${unread.length === 1 ? '' : 's'} unprocessed after ${attempts} attempts within ${took} ms (UnprocessedKeys): ${unread.join(', ')}`, unread, out);
    }
    return out;
  }

  async update(deploymentId: string, fields: Partial<Omit<DeploymentState, 'deploymentId'>>): Promise<void> {
    await this.doc.send(this.setFields(deploymentId, fields));
  }

  /**
   * A conditional write (`attribute_not_exists`): DynamoDB answers ConditionalCheckFailedException
   * when the field is already there, which here means another run wrote it first.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html#Expressions.ConditionExpressions.PreventingOverwrites
   */
  async updateIfAbsent(deploymentId: string, absent: keyof Omit<DeploymentState, 'deploymentId'>, fields: Partial<Omit<DeploymentState, 'deploymentId'>>): Promise<boolean> {
    const cmd = this.setFields(deploymentId, fields);
    cmd.input.ConditionExpression = 'attribute_not_exists(#absent)';
    cmd.input.ExpressionAttributeNames = { ...cmd.input.ExpressionAttributeNames, '#absent': absent };
    try {
      await this.doc.send(cmd);
      return true;
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  private setFields(deploymentId: string, fields: Partial<Omit<DeploymentState, 'deploymentId'>>): UpdateCommand {
    const entries = Object.entries({ ...fields, expiresAt: Math.floor(this.clock() / 1000) + STATE_TTL_SECONDS }).filter(
      ([, v]) => v !== undefined,
    );
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = storable(v);
      return `#f${i} = :v${i}`;
    });
    return new UpdateCommand({
      TableName: this.tableName,
      Key: { deploymentId },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * The watch item for the telemetry extension (aws/telemetry.ts), expiring with the state. A
   * second call for the same deployment (a duplicate hook invocation) keeps the counts made since.
   */
  async watch(functionName: string, version: string, deploymentId: string, role: WatchRole = 'release'): Promise<void> {
    const now = this.clock();
    try {
      await this.doc.send(new UpdateCommand(watchItemUpdate(this.tableName, functionName, version, deploymentId, Math.floor(now / 1000) + STATE_TTL_SECONDS, role, now)));
    } catch (err) {
      if (errorName(err) !== 'ConditionalCheckFailedException') throw err;
    }
  }

  /** Probe invocations of a deployment's versions, added to its probe record (probedUpdate), expiring with the state. */
  async recordProbes(deploymentId: string, tallies: readonly ProbeTally[]): Promise<void> {
    const counted = tallies.filter((t) => t.invocations > 0);
    if (!counted.length) return;
    await this.doc.send(new UpdateCommand(probedUpdate(this.tableName, deploymentId, counted, Math.floor(this.clock() / 1000) + STATE_TTL_SECONDS)));
  }

  /** The end of a deployment's watch: a conditional DeleteItem (watchItemRemoval). */
  async unwatch(w: WatchRef): Promise<'removed' | 'not-watching'> {
    try {
      await this.doc.send(new DeleteCommand(watchItemRemoval(this.tableName, w.functionName, w.version, w.deploymentId)));
      return 'removed';
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return 'not-watching';
      throw err;
    }
  }

  /**
   * Removals to retry live in the registry's item, as a string set `unwatch` changed with ADD and
   * DELETE (concurrent runs merge); one UpdateItem each, and none when there is nothing to change.
   */
  async retryUnwatch(add: readonly WatchRef[], done: readonly WatchRef[]): Promise<void> {
    for (const [op, refs] of [['ADD', add], ['DELETE', done]] as const) {
      if (!refs.length) continue;
      await this.doc.send(
        new UpdateCommand({ TableName: this.tableName, Key: { deploymentId: REGISTRY_ITEM_ID }, UpdateExpression: `${op} #u :u`, ExpressionAttributeNames: { '#u': UNWATCH_FIELD }, ExpressionAttributeValues: { ':u': new Set(refs.map(unwatchEntry)) } }),
      );
    }
  }

  async activeDeployments(): Promise<{ ids: string[]; reconciledAt?: number; unwatch?: WatchRef[] }> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { deploymentId: REGISTRY_ITEM_ID }, ConsistentRead: true }));
    const ids = res.Item?.ids;
    const at = res.Item?.reconciledAt;
    const unwatch = res.Item?.[UNWATCH_FIELD];
    const pending = unwatch instanceof Set ? [...unwatch].flatMap((e) => parseUnwatchEntry(String(e)) ?? []) : [];
    return { ids: ids instanceof Set ? [...ids].map(String) : [], ...(typeof at === 'number' ? { reconciledAt: at } : {}), ...(pending.length ? { unwatch: pending } : {}) };
  }

  async addActive(ids: readonly string[], reconciledAt?: number): Promise<void> {
    const parts: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (ids.length) {
      parts.push('ADD #ids :ids');
      names['#ids'] = 'ids';
      values[':ids'] = new Set(ids);
    }
    if (reconciledAt !== undefined) {
      parts.push('SET #at = :at');
      names['#at'] = 'reconciledAt';
      values[':at'] = reconciledAt;
    }
    if (!parts.length) return;
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { deploymentId: REGISTRY_ITEM_ID }, UpdateExpression: parts.join(' '), ExpressionAttributeNames: names, ExpressionAttributeValues: values }));
  }

  async removeActive(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: { deploymentId: REGISTRY_ITEM_ID }, UpdateExpression: 'DELETE #ids :ids', ExpressionAttributeNames: { '#ids': 'ids' }, ExpressionAttributeValues: { ':ids': new Set(ids) } }),
    );
  }
}

/** The registry item's set of watch removals to retry. */
const UNWATCH_FIELD = 'unwatch';

/** `<deploymentId>|<function>|<version>`: none of the three holds a `|` (CodeDeploy ids, Lambda names and versions). */
function unwatchEntry(w: WatchRef): string {
  return `${w.deploymentId}|${w.functionName}|${w.version}`;
}

function parseUnwatchEntry(e: string): WatchRef | undefined {
  const [deploymentId, functionName, version, ...rest] = e.split('|');
  return deploymentId && functionName && version && !rest.length ? { deploymentId, functionName, version } : undefined;
}

/** The largest double within the largest magnitude a DynamoDB number has (9.9999999999999999999999999999999999999E+125; the nearest doubles print as 1E+126, above it). */
const DYNAMODB_MAX = 9.99999999999999e125;
/** The smallest non-zero magnitude: 1E-130. */
const DYNAMODB_MIN = 1e-130;

/**
 * A value with every number within what DynamoDB stores, which fails the whole write otherwise
 * (a p-value of 1E-300 from a long run of failures, a likelihood ratio of 1E+300): a smaller
 * magnitude is stored as 0, a larger one as the largest. Decisions never depend on the difference.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
export function storable<T>(v: T): T {
  if (typeof v === 'number') {
    const a = Math.abs(v);
    if (a !== 0 && a < DYNAMODB_MIN) return 0 as T;
    if (a > DYNAMODB_MAX) return (Math.sign(v) * DYNAMODB_MAX) as T;
    return v;
  }
  if (Array.isArray(v)) return v.map(storable) as T;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, storable(x)])) as T;
  }
  return v;
}
