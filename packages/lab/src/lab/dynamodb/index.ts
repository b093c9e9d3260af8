import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService } from '../kernel';
import { check, conditionOf } from './condition';

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

interface Table {
  readonly name: string;
  readonly key: string;
  readonly items: Map<string, Item>;
}

const validation = (m: string) => new LabError('ValidationException', m);

/**
 * DynamoDB, as far as the runtime's state table and the sample service need it: items keyed by
 * one partition key, GetItem, PutItem, DeleteItem, BatchGetItem, and UpdateItem with SET, REMOVE,
 * and ADD / DELETE on string and number sets (the runtime's registry of active deployments).
 * PutItem, UpdateItem and DeleteItem honour ConditionExpression (./condition.ts): a condition
 * that does not hold leaves the item as it was and answers ConditionalCheckFailedException.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html
 */
export class DynamoDbLab {
  private readonly tables = new Map<string, Table>();

  createTable(name: string, key: string): void {
    if (!this.tables.has(name)) this.tables.set(name, { name, key, items: new Map() });
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  private table(v: unknown): Table {
    if (typeof v !== 'string' || !v) throw validation('TableName: expected a non-empty string');
    const t = this.tables.get(v);
    if (!t) throw new LabError('ResourceNotFoundException', `Requested resource not found: Table: ${v} not found`);
    return t;
  }

  private keyOf(t: Table, key: unknown): string {
    if (typeof key !== 'object' || key === null) throw validation('Key: expected a map of attribute values');
    const k = (key as Item)[t.key];
    if (!k || Object.keys(key).length !== 1) throw validation(`The provided key element does not match the schema: expected exactly the key attribute ${t.key}`);
    return JSON.stringify(k);
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
            KeySchema: [{ AttributeName: t.key, KeyType: 'HASH' }],
            ItemCount: t.items.size,
          },
        };
      },
      GetItem: (i) => {
        const t = this.table(i.TableName);
        const item = t.items.get(this.keyOf(t, i.Key));
        return item ? { Item: item } : {};
      },
      PutItem: (i) => {
        const t = this.table(i.TableName);
        const item = i.Item as Item;
        if (typeof item !== 'object' || item === null || !item[t.key]) throw validation(`One or more parameter values were invalid: Missing the key ${t.key} in the item`);
        const k = JSON.stringify(item[t.key]);
        check(conditionOf(i), t.items.get(k));
        t.items.set(k, item);
        return {};
      },
      DeleteItem: (i) => {
        const t = this.table(i.TableName);
        const k = this.keyOf(t, i.Key);
        check(conditionOf(i), t.items.get(k));
        t.items.delete(k);
        return {};
      },
      BatchGetItem: (i) => {
        const req = i.RequestItems as Record<string, { Keys?: unknown[] }> | undefined;
        if (typeof req !== 'object' || req === null) throw validation('RequestItems: expected a map of table names to keys');
        const total = Object.values(req).reduce((n, r) => n + (r?.Keys?.length ?? 0), 0);
        // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
        if (total > 100) throw validation('Too many items requested for the BatchGetItem call: at most 100');
        const Responses: Record<string, Item[]> = {};
        for (const [name, r] of Object.entries(req)) {
          const t = this.table(name);
          Responses[name] = (r.Keys ?? []).map((k) => t.items.get(this.keyOf(t, k))).filter((x): x is Item => Boolean(x));
        }
        return { Responses, UnprocessedKeys: {} };
      },
      UpdateItem: (i) => {
        const t = this.table(i.TableName);
        const k = this.keyOf(t, i.Key);
        const actions = parseUpdate(i.UpdateExpression, (i.ExpressionAttributeNames ?? {}) as Record<string, string>, (i.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>, t.key);
        // Both expressions are parsed, and the condition judged on the item as stored, before any
        // action is applied: a bad expression or a failed condition leaves the item as it was.
        const stored = t.items.get(k);
        check(conditionOf(i), stored);
        const item: Item = { ...(stored ?? { [t.key]: JSON.parse(k) as AttributeValue }) };
        for (const a of actions) {
          const cur = item[a.name];
          if (a.kind === 'SET') item[a.name] = a.value!;
          else if (a.kind === 'REMOVE') delete item[a.name];
          else {
            const { type, members } = setOf(a.value!, a.name);
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
        t.items.set(k, item);
        return {};
      },
    },
  };
}

interface UpdateAction {
  readonly kind: 'SET' | 'REMOVE' | 'ADD' | 'DELETE';
  readonly name: string;
  readonly value?: AttributeValue;
}

/**
 * Parse an update expression: clauses SET (`#a = :v`), REMOVE (`#a`), ADD and DELETE (`#a :v`),
 * top-level attributes only; each attribute may appear once in the whole expression.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */
function parseUpdate(expr: unknown, names: Record<string, string>, values: Record<string, AttributeValue>, key: string): UpdateAction[] {
  if (typeof expr !== 'string' || !expr.trim()) throw validation('UpdateExpression: expected a non-empty string');
  const clauses = expr.split(/\b(SET|REMOVE|ADD|DELETE)\b/i);
  if (clauses[0].trim()) throw validation(`Invalid UpdateExpression: expected SET, REMOVE, ADD or DELETE at ${JSON.stringify(clauses[0].trim())}`);
  const seen = new Set<string>();
  const out: UpdateAction[] = [];
  const nameOf = (token: string) => {
    const name = token.startsWith('#') ? names[token] : token;
    if (name === undefined) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${token}`);
    if (name === key) throw validation(`Cannot update attribute ${name}. This attribute is part of the key`);
    if (seen.has(name)) throw validation(`Invalid UpdateExpression: Two document paths overlap with each other; attribute ${name}`);
    seen.add(name);
    return name;
  };
  const valueOf = (token: string) => {
    const v = values[token];
    if (v === undefined) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${token}`);
    return v;
  };
  for (let c = 1; c < clauses.length; c += 2) {
    const kind = clauses[c].toUpperCase() as UpdateAction['kind'];
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

/** The members of a string or number set operand of ADD / DELETE. */
function setOf(v: AttributeValue, name: string): { type: 'SS' | 'NS'; members: string[] } {
  for (const type of ['SS', 'NS'] as const) {
    const members = v[type];
    if (Array.isArray(members) && members.length && members.every((m) => typeof m === 'string')) return { type, members: members as string[] };
  }
  throw validation(`An operand in the update expression has an incorrect data type: ADD and DELETE on ${name} take a non-empty string or number set (the lab does not add numbers)`);
}
