import { LAB_ACCOUNT, LAB_REGION, LabError, type CallContext, type JsonService } from '../kernel';
import { CapacityLedger, capacityDetail, consistentRead, consumed, getUnits, keyKind, withCapacity, writeUnits } from './capacity';
import { check, conditionOf } from './condition';
import { readPage, type KeySchema } from './read';
import { addNumbers, canonicalNumber } from './numbers';
import { TimeToLive } from './ttl';
import { checkItem, checkMap, overlapMessage, checkPlaceholdersUsed, enumOf, expressionInputs, itemSize, parseProjection, project, returnValues, serialization, validation, type AttributeValue, type Item } from './values';
import { isReserved, reservedMessage } from './reserved-words';
import { throttleError } from '../faults';

interface Table extends KeySchema {
  readonly name: string;
  readonly items: Map<string, Item>;
  readonly ttl: TimeToLive;
  /** The table's stream (StreamSpecification), if it has one. */
  stream?: { readonly viewType: StreamViewType; readonly listeners: ((r: StreamChange) => void)[]; sequence: number };
}

/** What a stream record shows of an item. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html */
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

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

  /** A table with its partition key and, if it has one, its sort key. */
  createTable(name: string, hash: string, range?: string): void {
    if (!this.tables.has(name)) this.tables.set(name, { name, hash, range, items: new Map(), ttl: new TimeToLive(this.opts.now, this.ttlLagMs) });
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
    t.stream ??= { viewType, listeners: [], sequence: 0 };
  }

  onStream(name: string, listener: (r: StreamChange) => void): void {
    const t = this.tables.get(name);
    if (!t?.stream) throw validation(`onStream: table ${name} has no stream`);
    t.stream.listeners.push(listener);
  }

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
    for (const l of s.listeners) l(change);
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
  private charge(t: Table, item: Item, what: 'read' | 'write', units: number, caller: CallContext | undefined): void {
    const pk = this.partitionKey(t, item);
    const now = this.opts.now();
    this.capacity.admit(t.name, pk, what, units, now);
    this.capacity.record(t.name, keyKind(pk), caller?.accessKeyId, { [what]: units }, now);
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  private table(v: unknown, at = 'tableName'): Table {
    if (v === undefined) throw validation(`1 validation error detected: Value null at '${at}' failed to satisfy constraint: Member must not be null`);
    if (typeof v !== 'string') throw serialization(`Unexpected value type in payload: ${at} must be a string`);
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
    if (v.length < 3 || v.length > 255 || !/^[a-zA-Z0-9_.-]+$/.test(v)) {
      throw validation(`1 validation error detected: Value '${v}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255`);
    }
    const t = this.tables.get(v);
    if (!t) throw new LabError('ResourceNotFoundException', `Requested resource not found: Table: ${v} not found`);
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
    if (Object.keys(k).length !== names.length || !names.every((n) => k[n] !== undefined)) throw validation('The provided key element does not match the schema');
    return this.idOf(t, k);
  }

  private idOf(t: Table, item: Item): string {
    return this.keyNames(t)
      .map((n, i) => keyPart(DynamoDbLab.keyValue(item[n], n, i === 0)))
      .join('|');
  }

  /** The map key of an item to write, which must carry the key attributes. */
  private itemId(t: Table, item: Item): string {
    for (const n of this.keyNames(t)) if (item[n] === undefined) throw validation(`One or more parameter values were invalid: Missing the key ${n} in the item`);
    return this.idOf(t, item);
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

  readonly service: JsonService = {
    name: 'DynamoDB',
    targetPrefix: 'DynamoDB_20120810',
    operations: {
      DescribeTable: (i) => {
        const t = this.table(i.TableName);
        return {
          Table: {
            TableName: t.name,
            TableStatus: 'ACTIVE',
            TableArn: `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/${t.name}`,
            KeySchema: [{ AttributeName: t.hash, KeyType: 'HASH' }, ...(t.range ? [{ AttributeName: t.range, KeyType: 'RANGE' }] : [])],
            ItemCount: t.items.size,
          },
        };
      },
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
        if (total > 100) throw validation('Too many items requested for the BatchGetItem call: at most 100');
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
    if (cur && typeof cur.N !== 'string') throw validation(`An operand in the update expression has an incorrect data type: ${a.name} is not a number`);
    item[a.name] = { N: addNumbers((cur?.N as string | undefined) ?? '0', a.value!.N) };
  } else {
    const { type, members } = setOf(a.value!, a.name, a.kind);
    if (cur && !(type in cur)) throw validation(`An operand in the update expression has an incorrect data type: ${a.name} is not a ${type} set`);
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
function setOf(v: AttributeValue, name: string, kind: string): { type: 'SS' | 'NS' | 'BS'; members: string[] } {
  for (const type of ['SS', 'NS', 'BS'] as const) {
    const members = v[type];
    if (Array.isArray(members)) return { type, members: members as string[] };
  }
  throw validation(`An operand in the update expression has an incorrect data type: ${kind} on ${name} takes ${kind === 'ADD' ? 'a number or a set' : 'a set'}, got ${Object.keys(v)[0]}`);
}
