import { capacityDetail, consistentRead, readUnits, withCapacity } from './capacity';
import { compare, holds, parseCondition, type Condition } from './condition';
import { checkPlaceholdersUsed, expressionInputs, itemSize, parseProjection, project, serialization, validation, type Item } from './values';

/** What Query and Scan need to know of a table. */
export interface KeySchema {
  readonly name: string;
  readonly hash: string;
  readonly range?: string;
}

/**
 * Query and Scan: a page of the items in key order, Limit counting the items read before the
 * filter (Count is after it, ScannedCount before), LastEvaluatedKey whenever the page stopped at
 * Limit or at 1 MB, and ExclusiveStartKey resuming after that key. ConsumedCapacity counts every
 * item read, those the filter drops included.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.Limit
 */
export function readPage(
  op: 'Query' | 'Scan',
  i: Record<string, unknown>,
  schema: KeySchema,
  all: readonly Item[],
  startKey: (k: unknown) => Item | undefined,
  /** Told the read units the page consumed. */
  onUnits?: (units: number) => void,
): Record<string, unknown> {
  for (const legacy of ['KeyConditions', 'QueryFilter', 'ScanFilter', 'AttributesToGet', 'ConditionalOperator'] as const) {
    if (i[legacy] !== undefined) throw validation(`the lab does not model the legacy ${legacy} parameter: use KeyConditionExpression, FilterExpression and ProjectionExpression`);
  }
  if (i.IndexName !== undefined) throw validation(`the lab does not model secondary indexes: IndexName ${JSON.stringify(i.IndexName)} cannot be read`);
  if (i.Segment !== undefined || i.TotalSegments !== undefined) throw validation('the lab does not model parallel scans: Segment and TotalSegments are not supported');
  const { names, values } = expressionInputs(i);
  const limit = limitOf(i.Limit);
  const consistent = consistentRead(i.ConsistentRead);
  const detail = capacityDetail(i);
  const select = i.Select ?? 'ALL_ATTRIBUTES';
  if (!['ALL_ATTRIBUTES', 'COUNT', 'SPECIFIC_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES'].includes(select as string)) {
    throw validation(`1 validation error detected: Value '${String(select)}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]`);
  }
  if (select === 'ALL_PROJECTED_ATTRIBUTES') throw validation('ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName');
  const projection = parseProjection(i.ProjectionExpression, names);
  if (select === 'SPECIFIC_ATTRIBUTES' && !projection) throw validation('Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression or AttributesToGet');
  if (projection && select !== 'SPECIFIC_ATTRIBUTES' && i.Select !== undefined) throw validation(`Cannot specify the ProjectionExpression when choosing to get ${String(select)}`);
  const filter = i.FilterExpression === undefined ? undefined : parseCondition(i.FilterExpression, names, values, 'FilterExpression');

  let items: Item[];
  let partition: Condition | undefined;
  if (op === 'Query') {
    const key = keyCondition(i.KeyConditionExpression, names, values, schema);
    partition = key.partition;
    if (filter) {
      const keyAttr = pathsOf(filter).find((p) => p === schema.hash || p === schema.range);
      if (keyAttr) throw validation(`Filter Expression can only contain non-primary key attributes: Primary key attribute: ${keyAttr}`);
    }
    items = all.filter((it) => holds(key.all, it)).sort((a, b) => order(a, b, schema));
    if (i.ScanIndexForward === false) items.reverse();
    else if (i.ScanIndexForward !== undefined && typeof i.ScanIndexForward !== 'boolean') throw serialization('Unexpected value type in payload: ScanIndexForward must be a boolean');
  } else {
    if (i.KeyConditionExpression !== undefined) throw validation('Scan does not take a KeyConditionExpression: use FilterExpression');
    items = [...all].sort((a, b) => order(a, b, schema));
  }
  checkPlaceholdersUsed(i, op === 'Query' ? ['KeyConditionExpression', 'FilterExpression', 'ProjectionExpression'] : ['FilterExpression', 'ProjectionExpression']);
  if (i.ExclusiveStartKey !== undefined) {
    const start = startKey(i.ExclusiveStartKey)!;
    // A Query resumes only inside the partition it reads (measured on DynamoDB: a start key from
    // another partition is refused, not answered with that partition's neighbours).
    if (partition && !holds(partition, start)) throw validation('The provided starting key does not match the range key predicate');
    const backward = op === 'Query' && i.ScanIndexForward === false;
    items = items.filter((it) => (backward ? order(it, start, schema) < 0 : order(it, start, schema) > 0));
  }

  const scanned: Item[] = [];
  let size = 0;
  for (const it of items) {
    if (scanned.length >= limit || size >= PAGE_BYTES) break;
    scanned.push(it);
    size += itemSize(it);
  }
  const matched = filter ? scanned.filter((it) => holds(filter, it)) : scanned;
  const last = scanned[scanned.length - 1];
  const stopped = scanned.length >= limit || size >= PAGE_BYTES;
  const units = readUnits(size, consistent);
  onUnits?.(units);
  return {
    ...(select === 'COUNT' ? {} : { Items: matched.map((it) => project(it, projection)) }),
    Count: matched.length,
    ScannedCount: scanned.length,
    ...(stopped && last ? { LastEvaluatedKey: keyOnly(last, schema) } : {}),
    ...withCapacity(detail, schema.name, units),
  };
}

/** A read stops at 1 MB of items read. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html */
const PAGE_BYTES = 1024 * 1024;

function limitOf(v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization('Unexpected value type in payload: Limit must be an integer');
  if (v < 1) throw validation(`1 validation error detected: Value '${v}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  return v;
}

/**
 * A KeyConditionExpression: the partition key with `=`, and optionally AND one condition on the
 * sort key (`= < <= > >=`, BETWEEN or begins_with).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html
 */
function keyCondition(expr: unknown, names: Record<string, string>, values: Item, schema: KeySchema): { all: Condition; partition: Condition } {
  if (expr === undefined) throw validation('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  const c = parseCondition(expr, names, values, 'KeyConditionExpression');
  const parts: Condition[] = [];
  const flatten = (x: Condition): void => {
    if (x.kind === 'and') {
      flatten(x.left);
      flatten(x.right);
    } else parts.push(x);
  };
  flatten(c);
  const seen = new Set<string>();
  for (const p of parts) {
    const op = p.kind === 'compare' ? p.op : p.kind === 'exists' ? (p.negated ? 'attribute_not_exists' : 'attribute_exists') : p.kind.toUpperCase();
    if (!['compare', 'between', 'begins_with'].includes(p.kind) || op === '<>') throw validation(`Invalid operator used in KeyConditionExpression: ${op}`);
    const attrs = pathsOf(p);
    if (attrs.length !== 1 || (p.kind === 'compare' && p.left.kind === 'path' && p.right.kind === 'path')) throw validation('Invalid KeyConditionExpression: each condition compares one key attribute with values');
    const [attr] = attrs;
    if (seen.has(attr)) throw validation('KeyConditionExpressions must only contain one condition per key');
    seen.add(attr);
    if (attr === schema.hash && op !== '=') throw validation('Query key condition not supported');
  }
  // Which key AWS names when a condition is on another attribute (the order of an AWS-verified test suite's checks).
  if (seen.size > 2) throw validation('Conditions can be of length 1 or 2 only');
  if (!schema.range && seen.size > 1) throw validation('Query key condition not supported');
  if (!seen.has(schema.hash)) throw validation(`Query condition missed key schema element: ${schema.hash}`);
  if (schema.range && seen.size > 1 && !seen.has(schema.range)) throw validation(`Query condition missed key schema element: ${schema.range}`);
  return { all: c, partition: parts.find((p) => pathsOf(p)[0] === schema.hash)! };
}

/** The attribute names a condition reads. */
function pathsOf(c: Condition): string[] {
  const names = (...os: { kind: string; name?: string }[]) => os.filter((o) => o.kind === 'path').map((o) => o.name!);
  switch (c.kind) {
    case 'compare':
      return names(c.left, c.right);
    case 'between':
      return names(c.operand, c.low, c.high);
    case 'in':
      return names(c.operand, ...c.list);
    case 'exists':
      return [c.name];
    case 'begins_with':
      return names(c.operand, c.prefix);
    case 'not':
      return pathsOf(c.inner);
    default:
      return [...pathsOf(c.left), ...pathsOf(c.right)];
  }
}

/** Key order: the partition key, then the sort key (numbers numerically, strings and binaries by bytes). */
function order(a: Item, b: Item, schema: KeySchema): number {
  for (const k of [schema.hash, schema.range]) {
    if (!k) continue;
    const c = compare(a[k], b[k]) ?? 0;
    if (c) return c;
  }
  return 0;
}

function keyOnly(item: Item, schema: KeySchema): Item {
  return { [schema.hash]: item[schema.hash], ...(schema.range ? { [schema.range]: item[schema.range] } : {}) };
}
