import { LAB_ACCOUNT, LAB_REGION, LabError, type CallContext, type JsonService } from '../kernel';
import { CapacityLedger, capacityDetail, type CapacityDetail, consistentRead, consumed, getUnits, keyKind, withCapacity, writeUnits } from './capacity';
import { check, conditionOf } from './condition';
import { readPage, type KeySchema } from './read';
import { addNumbers, canonicalNumber } from './numbers';
import { TimeToLive } from './ttl';
import { billingOf, describeTable, keySchemaOf, newSettings, streamLabel, streamSpecOf, templateSettings, type StreamViewType, type TableSettings } from './tables';
import { checkItem, checkMap, overlapMessage, checkPlaceholdersUsed, enumOf, expressionInputs, itemSize, parseProjection, project, returnValues, serialization, validation, type AttributeValue, type Item } from './values';
import { isReserved, reservedMessage } from './reserved-words';
import { throttleError } from '../faults';

interface Table extends KeySchema {
  readonly name: string;
  readonly items: Map<string, Item>;
  readonly ttl: TimeToLive;
  readonly settings: TableSettings;
  /** The table's stream (StreamSpecification), if it has one. */
  stream?: { readonly viewType: StreamViewType; readonly label: string; readonly listeners: ((r: StreamChange) => void)[]; sequence: number };
}

/** What a stream record shows of an item. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html */
export type { StreamViewType };

/** One item-level change, as a DynamoDB stream record carries it (the `dynamodb` part and the event name). */
export interface StreamChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly table: string;
  readonly keys: Item;
  readonly newImage?: Item;
  readonly oldImage?: Item;
  readonly sequenceNumber: string;
  readonly streamViewType: StreamViewType;
}

export interface DynamoDbLabOptions {
  /** The lab's clock (epoch ms): TTL judges expiry by it, never by the wall clock. */
  readonly now: () => number;
  /** How long after an item expires TTL deletes it, in seconds. @default 172800 (two days) */
  readonly ttlDeletionLagSeconds?: number;
}

/** A key attribute's value as a map key: numbers by value (checked values are canonical), so 1 and 1.0 are one item. */
const keyPart = (v: AttributeValue) => JSON.stringify(typeof v.N === 'string' ? { N: canonicalNumber(v.N) } : v);

/**
 * DynamoDB, as far as the runtime's state table and the sample service need it: items keyed by
 * a partition key and an optional sort key; GetItem, PutItem, DeleteItem, BatchGetItem, UpdateItem
 * (SET, REMOVE, ADD / DELETE on sets, ADD on numbers), Query, Scan, ListTables, DescribeTable,
 * UpdateTimeToLive and DescribeTimeToLive (./ttl.ts: expired items are deleted on the lab's clock).
 * Writes honour ConditionExpression (./condition.ts), ReturnValues and
 * ReturnValuesOnConditionCheckFailure; reads honour ProjectionExpression and ConsistentRead; every
 * operation reports ReturnConsumedCapacity as DynamoDB computes it (./capacity.ts).
 * ExpressionAttributeNames and ExpressionAttributeValues must each be used, as DynamoDB demands.
 * Every input is checked as DynamoDB checks it (./values.ts): a malformed request is a 400
 * ValidationException or SerializationException, never a 500. What the lab does not model
 * (secondary indexes, nested paths, legacy parameters, parallel scans) is refused with a
 * ValidationException naming it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB.html
 */
export class DynamoDbLab {
  private readonly tables = new Map<string, Table>();
  private readonly ttlLagMs: number;
  /** The capacity every table consumed, and each partition key's use this second (./capacity.ts). */
  readonly capacity = new CapacityLedger();

  constructor(private readonly opts: DynamoDbLabOptions) {
    const lag = opts.ttlDeletionLagSeconds ?? 2 * 24 * 3600;
    if (!(Number.isFinite(lag) && lag >= 0)) throw validation(`ttlDeletionLagSeconds: expected a number of seconds >= 0, got ${lag}`);
    this.ttlLagMs = lag * 1000;
  }

  /**
   * A table with its partition key and, if it has one, its sort key; `properties` are its template's
   * (AttributeDefinitions, BillingMode, ProvisionedThroughput), for DescribeTable.
   */
  createTable(name: string, hash: string, range?: string, properties?: Record<string, unknown>): void {
    if (!this.tables.has(name)) this.addTable(name, hash, range, templateSettings(this.opts.now(), properties));
  }

  private addTable(name: string, hash: string, range: string | undefined, settings: TableSettings): Table {
    const t: Table = { name, hash, range, items: new Map(), ttl: new TimeToLive(this.opts.now, this.ttlLagMs), settings };
    this.tables.set(name, t);
    return t;
  }

  /** A table's partition key attribute (IAM's dynamodb:LeadingKeys are its values), if the table exists. */
  partitionKeyOf(name: string): string | undefined {
    return this.tables.get(name)?.hash;
  }

  /** A table's TTL as its template declares it (CloudFormation's TimeToLiveSpecification), applied at once. */
  declareTimeToLive(name: string, spec: { AttributeName?: unknown; Enabled?: unknown } | undefined): void {
    this.tables.get(name)?.ttl.declare(spec);
  }

  /**
   * Give a table a stream (its template's StreamSpecification). Item-level changes made through
   * PutItem, UpdateItem and DeleteItem are then passed to `onStream` listeners, with the images
   * the view type keeps; a write that changes nothing is not a record.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
   */
  enableStream(name: string, viewType: StreamViewType): void {
    const t = this.tables.get(name);
    if (!t) throw validation(`enableStream: no table ${name}`);
    t.stream ??= { viewType, label: streamLabel(this.opts.now()), listeners: [], sequence: 0 };
  }

  onStream(name: string, listener: (r: StreamChange) => void): void {
    const t = this.tables.get(name);
    if (!t?.stream) throw validation(`onStream: table ${name} has no stream`);
    t.stream.listeners.push(listener);
  }

  /** What a unit counts for while a transaction runs (TRANSACTION_UNIT_SCALE), 1 otherwise. */
  private unitScale = 1;

  /** Stream records of a transaction not yet committed: sent when it commits, dropped when it is cancelled. */
  private held?: (() => void)[];

  private changed(t: Table, old: Item | undefined, next: Item | undefined): void {
    const s = t.stream;
    if (!s || (!old && !next) || JSON.stringify(old) === JSON.stringify(next)) return;
    const keys = Object.fromEntries(this.keyNames(t).map((n) => [n, (next ?? old)![n]]));
    const showNew = s.viewType === 'NEW_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES';
    const showOld = s.viewType === 'OLD_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES';
    const change: StreamChange = {
      eventName: !old ? 'INSERT' : !next ? 'REMOVE' : 'MODIFY',
      table: t.name,
      keys,
      ...(showNew && next ? { newImage: next } : {}),
      ...(showOld && old ? { oldImage: old } : {}),
      sequenceNumber: String(++s.sequence).padStart(21, '0'),
      streamViewType: s.viewType,
    };
    const send = () => {
      for (const l of s.listeners) l(change);
    };
    if (this.held) this.held.push(send);
    else send();
  }

  /** An item's partition key value as text (a number by value, a binary in base64). */
  private partitionKey(t: Table, item: Item): string {
    const v = item[t.hash];
    return String(v?.S ?? v?.N ?? v?.B ?? '');
  }

  /**
   * Take `units` from a key's share of this second (or throttle the request, consuming nothing)
   * and bill them to the table's minute, by kind of item and caller.
   */
  private charge(t: Table, item: Item, what: 'read' | 'write', given: number, caller: CallContext | undefined): void {
    const units = given * this.unitScale;
    const pk = this.partitionKey(t, item);
    const now = this.opts.now();
    this.capacity.admit(t.name, pk, what, units, now);
    this.capacity.record(t.name, keyKind(pk), caller?.accessKeyId, { [what]: units }, now);
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  private table(v: unknown, at = 'tableName'): Table {
    const name = DynamoDbLab.tableName(v, at);
    const t = this.tables.get(name);
    if (!t) throw new LabError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    t.ttl.sweep(t.items);
    return t;
  }

  private keyNames(t: Table): string[] {
    return t.range ? [t.hash, t.range] : [t.hash];
  }

  /**
   * A key attribute's value: a non-empty string, a number or a non-empty binary, a partition key of
   * at most 2048 bytes and a sort key of at most 1024 (AWS's messages, the missing space included).
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys
   */
  private static keyValue(v: AttributeValue, name: string, isHash: boolean): AttributeValue {
    const [type] = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
    if (type !== 'S' && type !== 'N' && type !== 'B') throw validation(`One or more parameter values were invalid: Type mismatch for key ${name}: a key attribute is a string, number or binary, got ${type}`);
    if (type !== 'N' && v[type] === '') throw validation(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${name}`);
    const bytes = type === 'S' ? Buffer.byteLength(v.S as string) : type === 'B' ? Buffer.from(v.B as string, 'base64').length : 0;
    if (isHash && bytes > 2048) throw validation('One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes');
    if (!isHash && bytes > 1024) throw validation('One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes');
    return v;
  }

  /** The map key of a Key parameter, which must name exactly the table's key attributes. */
  private keyOf(t: Table, key: unknown, at = 'Key'): string {
    const k = checkItem(key, at);
    const names = this.keyNames(t);
    const mismatch = () => validation('The provided key element does not match the schema');
    if (Object.keys(k).length !== names.length || !names.every((n) => k[n] !== undefined)) throw mismatch();
    return this.idOf(t, k, mismatch);
  }

  private idOf(t: Table, item: Item, mismatch: (name: string, expected: string, actual: string) => LabError): string {
    return this.keyNames(t)
      .map((n, i) => {
        const v = DynamoDbLab.keyValue(item[n], n, i === 0);
        const expected = t.settings.types[n];
        const [actual] = Object.keys(v);
        if (expected && actual !== expected) throw mismatch(n, expected, actual);
        return keyPart(v);
      })
      .join('|');
  }

  /** The map key of an item to write, which must carry the key attributes, of their defined types. */
  private itemId(t: Table, item: Item): string {
    for (const n of this.keyNames(t)) if (item[n] === undefined) throw validation(`One or more parameter values were invalid: Missing the key ${n} in the item`);
    return this.idOf(t, item, (n, expected, actual) => validation(`One or more parameter values were invalid: Type mismatch for key ${n} expected: ${expected} actual: ${actual}`));
  }

  /** The item a Key parameter names (a decoded ExclusiveStartKey) or a validation error. */
  private startKey(t: Table, key: unknown): Item {
    try {
      this.keyOf(t, key, 'ExclusiveStartKey');
    } catch (e) {
      // AWS prefixes the reason, except for a number it cannot store (an AWS-verified test's rule).
      const m = (e as LabError).message;
      if ((e as LabError).code !== 'ValidationException' || /numeric value|significant digits|number with magnitude/.test(m)) throw e;
      throw validation(`The provided starting key is invalid: ${m}`);
    }
    return key as Item;
  }

  private static refuseLegacy(i: Record<string, unknown>, ...params: string[]): void {
    for (const p of params) if (i[p] !== undefined) throw validation(`the lab does not model the legacy ${p} parameter: use the expression parameters (ProjectionExpression, UpdateExpression)`);
  }

  /**
   * ReturnItemCollectionMetrics, checked: item collection metrics exist only for tables with a
   * local secondary index, which the lab does not model, so SIZE returns none, as DynamoDB answers
   * for such a table. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-response-ItemCollectionMetrics
   */
  private static itemCollectionMetrics(i: Record<string, unknown>): void {
    enumOf(i.ReturnItemCollectionMetrics, 'returnItemCollectionMetrics', ['SIZE', 'NONE'], 'NONE');
  }

  /** Check a table name as DynamoDB does, without requiring the table to exist. */
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
  private static tableName(v: unknown, at = 'tableName'): string {
    if (v === undefined) throw validation(`1 validation error detected: Value null at '${at}' failed to satisfy constraint: Member must not be null`);
    if (typeof v !== 'string') throw serialization(`Unexpected value type in payload: ${at} must be a string`);
    if (v.length < 3 || v.length > 255 || !/^[a-zA-Z0-9_.-]+$/.test(v)) {
      throw validation(`1 validation error detected: Value '${v}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255`);
    }
    return v;
  }

  /**
   * CreateTable, UpdateTable (billing mode, throughput, stream) and DeleteTable. A table is usable
   * as soon as CreateTable answers (CREATING there, ACTIVE in DescribeTable), and gone as soon as
   * DeleteTable answers (DELETING).
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html
   */
  private tableOperations(): JsonService['operations'] {
    return {
      CreateTable: (i) => {
        const name = DynamoDbLab.tableName(i.TableName);
        const { hash, range, types } = keySchemaOf(i);
        const billing = billingOf(i);
        const stream = streamSpecOf(i.StreamSpecification);
        if (this.tables.has(name)) throw new LabError('ResourceInUseException', `Table already exists: ${name}`);
        const t = this.addTable(name, hash, range, newSettings(this.opts.now(), types, billing));
        if (stream?.enabled) this.enableStream(name, stream.viewType);
        return { TableDescription: describeTable(t, 'CREATING') };
      },
      UpdateTable: (i) => {
        const t = this.table(i.TableName);
        if (i.GlobalSecondaryIndexUpdates !== undefined || i.ReplicaUpdates !== undefined) throw validation('the lab does not model secondary indexes or global tables: GlobalSecondaryIndexUpdates and ReplicaUpdates cannot be applied');
        if (i.ProvisionedThroughput === undefined && i.BillingMode === undefined && i.StreamSpecification === undefined && i.SSESpecification === undefined) {
          throw validation('At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required');
        }
        const billing = i.ProvisionedThroughput !== undefined || i.BillingMode !== undefined ? billingOf(i, t.settings) : undefined;
        const stream = streamSpecOf(i.StreamSpecification);
        if (stream?.enabled && t.stream) throw validation(`Table already has an enabled stream: TableName: ${t.name}`);
        if (stream && !stream.enabled && !t.stream) throw validation(`One or more parameter values were invalid: the table ${t.name} has no stream to disable`);
        if (billing) Object.assign(t.settings, { billingMode: billing.billingMode, read: billing.read, write: billing.write, billingModeSet: billing.set });
        if (stream?.enabled) this.enableStream(t.name, stream.viewType);
        else if (stream) t.stream = undefined;
        return { TableDescription: describeTable(t, 'UPDATING') };
      },
      DeleteTable: (i) => {
        const t = this.table(i.TableName);
        const out = describeTable(t, 'DELETING');
        this.tables.delete(t.name);
        return { TableDescription: out };
      },
    };
  }

  /** The operation that serves one write of a batch or a transaction, and the item it names (for duplicates). */
  private writeTarget(kind: 'Put' | 'Delete' | 'Update' | 'ConditionCheck', spec: Record<string, unknown>): { t: Table; id: string } {
    const t = this.table(spec.TableName, 'tableName');
    return { t, id: kind === 'Put' ? this.itemId(t, checkItem(spec.Item, 'Item')) : this.keyOf(t, spec.Key) };
  }

  /**
   * Run `body` so that its writes to `tables` all happen or none do: on a throw the tables' items
   * are put back and their stream records dropped. Items are replaced, never changed in place, so
   * a shallow copy of each table's map is its snapshot.
   */
  private atomically<T>(tables: readonly Table[], body: () => T): T {
    const snapshots = tables.map((t) => [t, new Map(t.items)] as const);
    this.held = [];
    try {
      const out = body();
      const sends = this.held;
      this.held = undefined;
      for (const send of sends) send();
      return out;
    } catch (e) {
      this.held = undefined;
      for (const [t, items] of snapshots) {
        t.items.clear();
        for (const [k, v] of items) t.items.set(k, v);
      }
      throw e;
    }
  }

  /** TransactWriteItems' client tokens: the request each was first used with, and when. */
  private readonly tokens = new Map<string, { readonly request: string; readonly at: number }>();

  /**
   * A TransactWriteItems' ClientRequestToken: a retry with the same token and parameters within ten
   * minutes succeeds without writing again; the same token with other parameters is refused.
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#DDB-TransactWriteItems-request-ClientRequestToken
   */
  private idempotency(i: Record<string, unknown>): { seen: boolean; record: () => void } | undefined {
    const token = i.ClientRequestToken;
    if (token === undefined) return undefined;
    if (typeof token !== 'string') throw serialization('Unexpected value type in payload: ClientRequestToken must be a string');
    if (token.length < 1 || token.length > 36) throw validation(`1 validation error detected: Value '${token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36`);
    const request = JSON.stringify(i.TransactItems);
    const now = this.opts.now();
    const before = this.tokens.get(token);
    const live = before && now - before.at < 10 * 60 * 1000;
    if (live && before.request !== request) throw new LabError('IdempotentParameterMismatchException', `The ClientRequestToken ${token} was used in the last ten minutes with other TransactItems`);
    return { seen: !!live, record: () => this.tokens.set(token, { request, at: now }) };
  }

  /**
   * TransactWriteItems, TransactGetItems and BatchWriteItem.
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactGetItems.html
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
   */
  private multiItemOperations(): JsonService['operations'] {
    const ops = () => this.service.operations as Record<string, (i: Record<string, unknown>, caller?: CallContext) => Record<string, unknown>>;
    return {
      TransactWriteItems: (i, caller) => {
        const token = this.idempotency(i);
        if (token?.seen) return {};
        const entries = transactEntries(i.TransactItems, 'TransactWriteItem', ['ConditionCheck', 'Put', 'Delete', 'Update'], 'TransactItems can only contain one of Check, Put, Update or Delete');
        // Every entry is checked, and no item named twice, before anything is written.
        const targets = entries.map(({ kind, spec }) => this.writeTarget(kind as 'Put', spec));
        const ids = targets.map(({ t, id }) => `${t.name}\u0000${id}`);
        if (new Set(ids).size !== ids.length) throw validation('Transaction request cannot include multiple operations on one item');
        for (const { kind, spec } of entries) if (kind === 'ConditionCheck' && spec.ConditionExpression === undefined) throw validation("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null");
        // What the request itself shows of the size (a Put's item, the stored items) is checked before
        // anything runs, so that a refused request consumes nothing; what updates add, after.
        checkTransactionSize(targets.map(({ t, id }, n) => Math.max(sizeOf(t.items.get(id)), entries[n].kind === 'Put' ? sizeOf(entries[n].spec.Item as Item) : 0)));
        const detail = capacityDetail(i);
        const units = new Map<string, number>();
        const reasons: Record<string, unknown>[] = [];
        this.unitScale = TRANSACTION_UNIT_SCALE;
        try {
        this.atomically([...new Set(targets.map((x) => x.t))], () => {
          const before = targets.map(({ t, id }) => t.items.get(id));
          for (const [n, { kind, spec }] of entries.entries()) {
            try {
              if (kind === 'ConditionCheck') {
                const condition = conditionOf(spec);
                checkPlaceholdersUsed(spec, ['ConditionExpression']);
                check(condition, targets[n].t.items.get(targets[n].id));
              } else tally(units, targets[n].t.name, ops()[`${kind}Item`]({ ...spec, ReturnValues: undefined, ReturnConsumedCapacity: 'TOTAL' }, caller), TRANSACTION_UNIT_SCALE);
              reasons.push({ Code: 'None' });
            } catch (e) {
              if ((e as LabError).code !== 'ConditionalCheckFailedException') throw e;
              reasons.push({ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...((e as LabError).fields ?? {}) });
            }
          }
          // Each item counts at the larger of its sizes before and after the transaction.
          checkTransactionSize(targets.map(({ t, id }, n) => Math.max(sizeOf(before[n]), sizeOf(t.items.get(id)))));
          // A failed condition cancels the whole transaction, each entry's reason in order.
          if (reasons.some((r) => r.Code !== 'None')) {
            throw new LabError('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code as string).join(', ')}]`, 400, { CancellationReasons: reasons });
          }
        });
        } finally {
          this.unitScale = 1;
        }
        token?.record();
        return capacityOf(detail, units);
      },
      TransactGetItems: (i, caller) => {
        const entries = transactEntries(i.TransactItems, 'TransactGetItem', ['Get'], 'TransactItems can only contain one of Get');
        const stored = entries.map(({ spec }) => {
          const t = this.table(spec.TableName, 'tableName');
          const key = this.keyOf(t, spec.Key);
          return { id: `${t.name}\u0000${key}`, item: t.items.get(key) };
        });
        const ids = stored.map((x) => x.id);
        if (new Set(ids).size !== ids.length) throw validation('Transaction request cannot include multiple operations on one item');
        checkTransactionSize(stored.map((x) => sizeOf(x.item)));
        const detail = capacityDetail(i);
        const units = new Map<string, number>();
        this.unitScale = TRANSACTION_UNIT_SCALE;
        try {
          // A transactional read is strongly consistent, at twice its units.
          const Responses = entries.map(({ spec }) => {
            const out = ops().GetItem({ ...spec, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }, caller);
            tally(units, spec.TableName as string, out, TRANSACTION_UNIT_SCALE);
            return out.Item ? { Item: out.Item } : {};
          });
          return { Responses, ...capacityOf(detail, units) };
        } finally {
          this.unitScale = 1;
        }
      },
      BatchWriteItem: (i, caller) => {
        if (i.RequestItems === undefined) throw validation(`1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null`);
        const req = checkMap(i.RequestItems, 'RequestItems', (r, at) => {
          if (!Array.isArray(r)) throw serialization(`Unexpected field type: ${at} must be a list of write requests`);
          if (r.length < 1 || r.length > 25) throw validation(`1 validation error detected: Value at '${at}' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]`);
          return r as Record<string, unknown>[];
        });
        const tables = Object.entries(req);
        if (!tables.length) throw validation(`1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1`);
        if (tables.reduce((n, [, r]) => n + r.length, 0) > 25) throw validation('Too many items requested for the BatchWriteItem call');
        const writes = tables.flatMap(([name, rs]) => {
          const t = this.table(name, `requestItems.${name}`);
          const ws = rs.map((w) => {
            const kinds = ['PutRequest', 'DeleteRequest'].filter((k) => w[k] !== undefined && w[k] !== null);
            if (kinds.length !== 1) throw validation('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
            const spec = w[kinds[0]] as Record<string, unknown>;
            const put = kinds[0] === 'PutRequest';
            const id = put ? this.itemId(t, checkItem(spec.Item, 'Item')) : this.keyOf(t, spec.Key);
            if (put && itemSize(spec.Item as Item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
            return { t, id, request: w, op: put ? 'PutItem' : 'DeleteItem', input: { TableName: name, ...(put ? { Item: spec.Item } : { Key: spec.Key }) } };
          });
          if (new Set(ws.map((w) => w.id)).size !== ws.length) throw validation('Provided list of item keys contains duplicates');
          return ws;
        });
        // A write over its key's share of this second is left in UnprocessedItems; only when none
        // could be written is the call throttled.
        const detail = capacityDetail(i);
        const units = new Map<string, number>();
        const unprocessed: Record<string, unknown[]> = {};
        let throttled: LabError | undefined;
        for (const w of writes) {
          try {
            tally(units, w.t.name, ops()[w.op]({ ...w.input, ReturnConsumedCapacity: 'TOTAL' }, caller), 1);
          } catch (e) {
            if ((e as LabError).code !== 'ProvisionedThroughputExceededException') throw e;
            throttled = e as LabError;
            (unprocessed[w.t.name] ??= []).push(w.request);
          }
        }
        if (throttled && Object.values(unprocessed).flat().length === writes.length) throw throttled;
        return { UnprocessedItems: unprocessed, ...capacityOf(detail, units) };
      },
    };
  }

  readonly service: JsonService = {
    name: 'DynamoDB',
    targetPrefix: 'DynamoDB_20120810',
    operations: {
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html
      DescribeTable: (i) => ({ Table: describeTable(this.table(i.TableName), 'ACTIVE') }),
      ...this.tableOperations(),
      ...this.multiItemOperations(),
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListTables.html
      ListTables: (i) => {
        let limit = 100;
        if (i.Limit !== undefined) {
          if (typeof i.Limit !== 'number' || !Number.isInteger(i.Limit)) throw serialization('Unexpected value type in payload: Limit must be an integer');
          if (i.Limit < 1 || i.Limit > 100) throw validation(`1 validation error detected: Value '${i.Limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`);
          limit = i.Limit;
        }
        if (i.ExclusiveStartTableName !== undefined && typeof i.ExclusiveStartTableName !== 'string') throw serialization('Unexpected value type in payload: ExclusiveStartTableName must be a string');
        const after = i.ExclusiveStartTableName as string | undefined;
        const names = this.tableNames()
          .sort()
          .filter((n) => after === undefined || n > after);
        const page = names.slice(0, limit);
        return { TableNames: page, ...(names.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html
      GetItem: (i, caller) => {
        DynamoDbLab.refuseLegacy(i, 'AttributesToGet');
        const projection = parseProjection(i.ProjectionExpression, expressionInputs(i).names);
        checkPlaceholdersUsed(i, ['ProjectionExpression']);
        const detail = capacityDetail(i);
        const consistent = consistentRead(i.ConsistentRead);
        const t = this.table(i.TableName);
        const id = this.keyOf(t, i.Key);
        const item = t.items.get(id);
        const units = getUnits(item, consistent);
        this.charge(t, i.Key as Item, 'read', units, caller);
        return { ...(item ? { Item: project(item, projection) } : {}), ...withCapacity(detail, t.name, units) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
      PutItem: (i, caller) => {
        const condition = conditionOf(i);
        checkPlaceholdersUsed(i, ['ConditionExpression'], true);
        const t = this.table(i.TableName);
        if (i.Item === undefined) throw validation(`1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null`);
        const item = checkItem(i.Item, 'Item');
        const id = this.itemId(t, item);
        if (itemSize(item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
        const rv = returnValues(i.ReturnValues, 'put-delete');
        const detail = capacityDetail(i);
        DynamoDbLab.itemCollectionMetrics(i);
        const old = t.items.get(id);
        // A write whose condition fails still consumes write units (of the item as stored).
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
        chargeFailedCondition(condition, old, () => this.charge(t, item, 'write', writeUnits(old), caller));
        const units = writeUnits(old, item);
        this.charge(t, item, 'write', units, caller);
        t.items.set(id, item);
        this.changed(t, old, item);
        return { ...(rv === 'ALL_OLD' && old ? { Attributes: old } : {}), ...withCapacity(detail, t.name, units) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html
      DeleteItem: (i, caller) => {
        const condition = conditionOf(i);
        checkPlaceholdersUsed(i, ['ConditionExpression'], true);
        const t = this.table(i.TableName);
        const id = this.keyOf(t, i.Key);
        const rv = returnValues(i.ReturnValues, 'put-delete');
        const detail = capacityDetail(i);
        DynamoDbLab.itemCollectionMetrics(i);
        const old = t.items.get(id);
        const units = writeUnits(old);
        chargeFailedCondition(condition, old, () => this.charge(t, i.Key as Item, 'write', units, caller));
        this.charge(t, i.Key as Item, 'write', units, caller);
        t.items.delete(id);
        this.changed(t, old, undefined);
        return { ...(rv === 'ALL_OLD' && old ? { Attributes: old } : {}), ...withCapacity(detail, t.name, units) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
      BatchGetItem: (i, caller) => {
        if (i.RequestItems === undefined) throw validation(`1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null`);
        const req = checkMap(i.RequestItems, 'RequestItems', (r, at) => {
          if (r === null) throw validation(`1 validation error detected: Value null at '${at}' failed to satisfy constraint: Member must not be null`);
          const spec = checkMap(r, at, (x) => x) as Record<string, unknown>;
          DynamoDbLab.refuseLegacy(spec, 'AttributesToGet');
          parseProjection(spec.ProjectionExpression, expressionInputs(spec).names);
          checkPlaceholdersUsed(spec, ['ProjectionExpression']);
          consistentRead(spec.ConsistentRead, `${at}.ConsistentRead`);
          if (!Array.isArray(spec.Keys)) throw spec.Keys === undefined ? validation(`1 validation error detected: Value null at '${at}.Keys' failed to satisfy constraint: Member must not be null`) : serialization(`Unexpected field type: ${at}.Keys must be a list of keys`);
          if (!spec.Keys.length) throw validation(`1 validation error detected: Value '[]' at '${at}.keys' failed to satisfy constraint: Member must have length greater than or equal to 1`);
          return spec as { Keys: unknown[] } & Record<string, unknown>;
        });
        const entries = Object.entries(req);
        if (!entries.length) throw validation(`1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1`);
        const total = entries.reduce((n, [, r]) => n + r.Keys.length, 0);
        if (total > 100) throw validation('Too many items requested for the BatchGetItem call');
        const detail = capacityDetail(i);
        // Every table and key is checked before anything is read.
        const reads = entries.map(([name, r]) => {
          const t = this.table(name, `requestItems.${name}`);
          const ids = r.Keys.map((k, n) => this.keyOf(t, k, `RequestItems.${name}.Keys[${n}]`));
          if (new Set(ids).size !== ids.length) throw validation('Provided list of item keys contains duplicates');
          return { t, spec: r, ids, projection: parseProjection(r.ProjectionExpression, expressionInputs(r).names), consistent: consistentRead(r.ConsistentRead) };
        });
        const Responses: Record<string, Item[]> = {};
        const UnprocessedKeys: Record<string, Record<string, unknown>> = {};
        const capacity = [];
        const now = this.opts.now();
        let processed = 0;
        for (const { t, spec, ids, projection, consistent } of reads) {
          let units = 0;
          const unprocessed: unknown[] = [];
          Responses[t.name] = [];
          for (const [n, id] of ids.entries()) {
            const key = spec.Keys[n] as Item;
            const x = t.items.get(id);
            // Each key is read as one GetItem, rounded up on its own. A key over its share of this
            // second is left in UnprocessedKeys; only when none could be read is the call throttled.
            // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
            const u = getUnits(x, consistent);
            if (!this.capacity.fits(t.name, this.partitionKey(t, key), u, now)) {
              unprocessed.push(key);
              continue;
            }
            this.charge(t, key, 'read', u, caller);
            units += u;
            processed++;
            if (x) Responses[t.name].push(project(x, projection));
          }
          if (unprocessed.length) UnprocessedKeys[t.name] = { ...spec, Keys: unprocessed };
          capacity.push(consumed(detail, t.name, units));
        }
        if (!processed) throw throttleError('DynamoDB', `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/${reads[0].t.name}`, 'TableReadKeyRangeThroughputExceeded');
        return { Responses, UnprocessedKeys, ...(detail === 'NONE' ? {} : { ConsumedCapacity: capacity }) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html
      UpdateItem: (i, caller) => {
        DynamoDbLab.refuseLegacy(i, 'AttributeUpdates');
        const t = this.table(i.TableName);
        const id = this.keyOf(t, i.Key);
        const rv = returnValues(i.ReturnValues, 'update');
        const detail = capacityDetail(i);
        DynamoDbLab.itemCollectionMetrics(i);
        const { names, values } = expressionInputs(i);
        const actions = i.UpdateExpression === undefined ? [] : parseUpdate(i.UpdateExpression, names, values, this.keyNames(t));
        const condition = conditionOf(i);
        checkPlaceholdersUsed(i, ['UpdateExpression', 'ConditionExpression']);
        // Both expressions are parsed, and the condition judged on the item as stored, before any
        // action is applied: a bad expression or a failed condition leaves the item as it was.
        const stored = t.items.get(id);
        chargeFailedCondition(condition, stored, () => this.charge(t, i.Key as Item, 'write', writeUnits(stored), caller));
        const item: Item = { ...(stored ?? Object.fromEntries(this.keyNames(t).map((n) => [n, (i.Key as Item)[n]]))) };
        for (const a of actions) apply(item, a);
        if (itemSize(item) > MAX_ITEM_BYTES) throw validation('Item size to update has exceeded the maximum allowed size');
        // The larger of the item before and after, in 1 KB steps.
        const units = writeUnits(stored, item);
        this.charge(t, item, 'write', units, caller);
        t.items.set(id, item);
        this.changed(t, stored, item);
        return { ...updateReturn(rv, stored, item, actions), ...withCapacity(detail, t.name, units) };
      },
      // Reads over many keys are billed to the table, under `query` and `scan`, and not held to a key's share.
      Query: (i, caller) => {
        const t = this.table(i.TableName);
        return readPage('Query', i, t, [...t.items.values()], (k) => this.startKey(t, k), (units) => this.capacity.record(t.name, 'query', caller?.accessKeyId, { read: units }, this.opts.now()));
      },
      Scan: (i, caller) => {
        const t = this.table(i.TableName);
        return readPage('Scan', i, t, [...t.items.values()], (k) => this.startKey(t, k), (units) => this.capacity.record(t.name, 'scan', caller?.accessKeyId, { read: units }, this.opts.now()));
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html
      UpdateTimeToLive: (i) => {
        const t = this.table(i.TableName);
        return { TimeToLiveSpecification: t.ttl.update(i.TimeToLiveSpecification) };
      },
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTimeToLive.html
      DescribeTimeToLive: (i) => {
        const t = this.table(i.TableName);
        return { TimeToLiveDescription: t.ttl.describe() };
      },
    },
  };
}

/**
 * Transactional reads and writes consume twice the units of plain ones.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
 */
const TRANSACTION_UNIT_SCALE = 2;

/** Add the units an inner call reported (its ConsumedCapacity, asked for as TOTAL) to its table's count. */
function tally(units: Map<string, number>, table: string, out: Record<string, unknown>, scale: number): void {
  const used = (out.ConsumedCapacity as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0;
  units.set(table, (units.get(table) ?? 0) + used * scale);
}

/** The ConsumedCapacity list of a multi-table call, one entry per table, as ReturnConsumedCapacity asks. */
const capacityOf = (detail: CapacityDetail, units: ReadonlyMap<string, number>) => (detail === 'NONE' ? {} : { ConsumedCapacity: [...units].map(([t, u]) => consumed(detail, t, u)) });

/** AWS's message for ADD or DELETE on a value of the wrong type (which operand, it does not say). */
const INCORRECT_TYPE = 'An operand in the update expression has an incorrect data type';

/** The aggregate size of the items in a transaction is at most 4 MB. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html */
const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

function checkTransactionSize(sizes: readonly number[]): void {
  // No verified service text was found: the message is the API reference's sentence.
  if (sizes.reduce((a, b) => a + b, 0) > MAX_TRANSACTION_BYTES) throw validation('The aggregate size of the items in the transaction cannot exceed 4 MB');
}

const sizeOf = (item: Item | undefined): number => (item ? itemSize(item) : 0);

/** An item is at most 400 KB, its attribute names included. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items */
const MAX_ITEM_BYTES = 400 * 1024;

/** Judge a write's condition; when it fails, `charge` the write's units before the failure is answered. */
function chargeFailedCondition(condition: Parameters<typeof check>[0], stored: Item | undefined, charge: () => void): void {
  try {
    check(condition, stored);
  } catch (err) {
    if ((err as LabError).code === 'ConditionalCheckFailedException') charge();
    throw err;
  }
}

/**
 * UpdateItem's ReturnValues: the whole item before or after, or only the updated attributes.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValues
 */
function updateReturn(rv: string, before: Item | undefined, after: Item, actions: readonly UpdateAction[]): { Attributes?: Item } {
  const pick = (item: Item | undefined) => {
    const out: Item = {};
    for (const a of actions) if (item?.[a.name] !== undefined) out[a.name] = item[a.name];
    return out;
  };
  const chosen = rv === 'ALL_OLD' ? before : rv === 'ALL_NEW' ? after : rv === 'UPDATED_OLD' ? pick(before) : rv === 'UPDATED_NEW' ? pick(after) : undefined;
  return chosen && Object.keys(chosen).length ? { Attributes: chosen } : {};
}

function apply(item: Item, a: UpdateAction): void {
  const cur = item[a.name];
  if (a.kind === 'SET') item[a.name] = a.value!;
  else if (a.kind === 'REMOVE') delete item[a.name];
  else if (a.kind === 'ADD' && typeof a.value!.N === 'string') {
    // ADD of a number to a missing attribute starts from 0.
    if (cur && typeof cur.N !== 'string') throw validation(INCORRECT_TYPE);
    item[a.name] = { N: addNumbers((cur?.N as string | undefined) ?? '0', a.value!.N) };
  } else {
    const { type, members } = setOf(a.value!);
    if (cur && !(type in cur)) throw validation(INCORRECT_TYPE);
    const have = new Set(((cur?.[type] as string[] | undefined) ?? []).map(String));
    for (const m of members) {
      if (a.kind === 'ADD') have.add(m);
      else have.delete(m);
    }
    // DynamoDB stores no empty sets: deleting the last member removes the attribute.
    if (have.size) item[a.name] = { [type]: [...have] };
    else delete item[a.name];
  }
}

interface UpdateAction {
  readonly kind: 'SET' | 'REMOVE' | 'ADD' | 'DELETE';
  readonly name: string;
  readonly value?: AttributeValue;
}

/**
 * Parse an update expression: clauses SET (`#a = :v`), REMOVE (`#a`), ADD and DELETE (`#a :v`),
 * top-level attributes only; each section at most once, and each attribute once in the whole expression.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */
function parseUpdate(expr: unknown, names: Record<string, string>, values: Record<string, AttributeValue>, keys: readonly string[]): UpdateAction[] {
  if (typeof expr !== 'string') throw serialization('Unexpected value type in payload: UpdateExpression must be a string');
  if (!expr.trim()) throw validation('Invalid UpdateExpression: The expression can not be empty;');
  const clauses = expr.split(/\b(SET|REMOVE|ADD|DELETE)\b/i);
  if (clauses[0].trim()) throw validation(`Invalid UpdateExpression: expected SET, REMOVE, ADD or DELETE at ${JSON.stringify(clauses[0].trim())}`);
  const seen = new Set<string>();
  const sections = new Set<string>();
  const out: UpdateAction[] = [];
  const nameOf = (token: string) => {
    const name = token.startsWith('#') ? names[token] : token;
    if (!token.startsWith('#') && isReserved(token)) throw validation(reservedMessage('UpdateExpression', token));
    if (name === undefined) throw validation(`Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: ${token}`);
    if (keys.includes(name)) throw validation(`One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`);
    if (seen.has(name)) throw validation(overlapMessage('UpdateExpression', name));
    seen.add(name);
    return name;
  };
  const valueOf = (token: string) => {
    const v = values[token];
    if (v === undefined) throw validation(`Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: ${token}`);
    return v;
  };
  for (let c = 1; c < clauses.length; c += 2) {
    const kind = clauses[c].toUpperCase() as UpdateAction['kind'];
    if (sections.has(kind)) throw validation(`Invalid UpdateExpression: The "${kind}" section can only be used once in an update expression;`);
    sections.add(kind);
    for (const part of clauses[c + 1].split(',')) {
      const text = part.trim();
      const m = kind === 'SET' ? /^(#?\w+)\s*=\s*(:\w+)$/.exec(text) : kind === 'REMOVE' ? /^(#?\w+)$/.exec(text) : /^(#?\w+)\s+(:\w+)$/.exec(text);
      if (!m) {
        const form = kind === 'SET' ? '"#name = :value"' : kind === 'REMOVE' ? '"#name"' : '"#name :value"';
        throw validation(`Invalid UpdateExpression: cannot parse ${JSON.stringify(text)} in ${kind}; the lab supports ${form} on top-level attributes`);
      }
      out.push({ kind, name: nameOf(m[1]), ...(m[2] ? { value: valueOf(m[2]) } : {}) });
    }
  }
  return out;
}

/** The members of a set operand of ADD / DELETE (ADD also takes a number, applied before this). */
function setOf(v: AttributeValue): { type: 'SS' | 'NS' | 'BS'; members: string[] } {
  for (const type of ['SS', 'NS', 'BS'] as const) {
    const members = v[type];
    if (Array.isArray(members)) return { type, members: members as string[] };
  }
  throw validation(INCORRECT_TYPE);
}

/**
 * The entries of TransactWriteItems or TransactGetItems: 1 to 100, each with exactly one action.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#DDB-TransactWriteItems-request-TransactItems
 */
function transactEntries(v: unknown, shape: string, kinds: readonly string[], oneOf: string): { kind: string; spec: Record<string, unknown> }[] {
  if (v === undefined || v === null) throw validation(`1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null`);
  if (!Array.isArray(v)) throw serialization('Unexpected field type: TransactItems must be a list');
  if (v.length < 1) throw validation(`1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1`);
  if (v.length > 100) {
    // AWS echoes the list as its Java objects print.
    const dump = v.map((_, n) => `com.amazonaws.dynamodb.v20120810.${shape}@${(n + 1).toString(16)}`).join(', ');
    throw validation(`1 validation error detected: Value '[${dump}]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100`);
  }
  return v.map((e: unknown) => {
    if (typeof e !== 'object' || e === null) throw serialization('Unexpected field type: each of TransactItems must be a structure');
    const present = kinds.filter((k) => (e as Record<string, unknown>)[k] !== undefined && (e as Record<string, unknown>)[k] !== null);
    if (present.length !== 1) throw validation(oneOf);
    const spec = (e as Record<string, unknown>)[present[0]];
    if (typeof spec !== 'object' || spec === null) throw serialization(`Unexpected field type: ${present[0]} must be a structure`);
    return { kind: present[0], spec: spec as Record<string, unknown> };
  });
}
