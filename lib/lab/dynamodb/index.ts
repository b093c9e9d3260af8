import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService } from '../kernel';

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
 * one partition key, GetItem, PutItem, DeleteItem, BatchGetItem, and UpdateItem with SET.
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
        t.items.set(JSON.stringify(item[t.key]), item);
        return {};
      },
      DeleteItem: (i) => {
        const t = this.table(i.TableName);
        t.items.delete(this.keyOf(t, i.Key));
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
        const expr = i.UpdateExpression;
        if (typeof expr !== 'string' || !/^\s*SET\s+/i.test(expr)) throw validation('UpdateExpression: the lab supports SET expressions only');
        const names = (i.ExpressionAttributeNames ?? {}) as Record<string, string>;
        const values = (i.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
        const updates: [string, AttributeValue][] = [];
        for (const part of expr.replace(/^\s*SET\s+/i, '').split(',')) {
          const m = /^\s*(#?[\w]+)\s*=\s*(:[\w]+)\s*$/.exec(part);
          if (!m) throw validation(`Invalid UpdateExpression: cannot parse ${JSON.stringify(part.trim())}; the lab supports "#name = :value" assignments`);
          const name = m[1].startsWith('#') ? names[m[1]] : m[1];
          const value = values[m[2]];
          if (name === undefined) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${m[1]}`);
          if (value === undefined) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${m[2]}`);
          if (name === t.key) throw validation(`Cannot update attribute ${name}. This attribute is part of the key`);
          updates.push([name, value]);
        }
        const item: Item = { ...(t.items.get(k) ?? { [t.key]: JSON.parse(k) as AttributeValue }) };
        for (const [n, v] of updates) item[n] = v;
        t.items.set(k, item);
        return {};
      },
    },
  };
}
