import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { watchItemUpdate } from '../runtime/telemetry';
import type { DeploymentState, RegistryPort, StatePort, WatchPort } from './ports';
import { chunk, errorName } from './util';

/** BatchGetItem reads up to 100 items per call.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html */
export const BATCH_GET_ITEM_MAX = 100;
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
export class DynamoStateStore implements StatePort, RegistryPort, WatchPort {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(ids: readonly string[]): Promise<Map<string, DeploymentState>> {
    const out = new Map<string, DeploymentState>();
    for (const batch of chunk([...new Set(ids)], BATCH_GET_ITEM_MAX)) {
      let keys: Record<string, unknown>[] | undefined = batch.map((deploymentId) => ({ deploymentId }));
      // Unprocessed keys are retried a few times; what is still unread is treated as no state.
      for (let attempt = 0; keys && keys.length && attempt < 4; attempt++) {
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of res.Responses?.[this.tableName] ?? []) out.set(item.deploymentId as string, item as DeploymentState);
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
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
      values[`:v${i}`] = v;
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
   * The watch item for the telemetry extension (runtime/telemetry.ts), expiring with the state. A
   * second call for the same deployment (a duplicate hook invocation) keeps the counts made since.
   */
  async watch(functionName: string, version: string, deploymentId: string): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand(watchItemUpdate(this.tableName, functionName, version, deploymentId, Math.floor(this.clock() / 1000) + STATE_TTL_SECONDS)));
    } catch (err) {
      if (errorName(err) !== 'ConditionalCheckFailedException') throw err;
    }
  }

  async activeDeployments(): Promise<{ ids: string[]; reconciledAt?: number }> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { deploymentId: REGISTRY_ITEM_ID }, ConsistentRead: true }));
    const ids = res.Item?.ids;
    const at = res.Item?.reconciledAt;
    return { ids: ids instanceof Set ? [...ids].map(String) : [], ...(typeof at === 'number' ? { reconciledAt: at } : {}) };
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
