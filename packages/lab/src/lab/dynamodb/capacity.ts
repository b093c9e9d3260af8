import { booleanOf, enumOf, itemSize, type Item } from './values';

/** ReturnConsumedCapacity: how much of the capacity an operation used is reported. */
export type CapacityDetail = 'NONE' | 'TOTAL' | 'INDEXES';

export const capacityDetail = (i: Record<string, unknown>): CapacityDetail => enumOf(i.ReturnConsumedCapacity, 'returnConsumedCapacity', ['INDEXES', 'TOTAL', 'NONE'], 'NONE');

/**
 * ConsistentRead, checked. The lab keeps one copy of each item, so a read is always of the latest
 * write whichever it asks for (what AWS promises only of a strongly consistent read, and
 * eventually delivers to the others); what it changes is the capacity the read consumes.
 */
export const consistentRead = (v: unknown, at = 'ConsistentRead'): boolean => booleanOf(v, at) ?? false;

/**
 * Read capacity units: the bytes read rounded up to 4 KB, one unit per 4 KB for a strongly
 * consistent read and half that for an eventually consistent one. GetItem rounds its one item (a
 * missing item still costs one 4 KB step); BatchGetItem rounds each item on its own; Query and
 * Scan round the total of every item they read, before the filter, however little they return.
 * Write units: 1 KB steps of the larger of the item before and after (PutItem, UpdateItem), or of
 * the deleted item (DeleteItem), at least one.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 */
export const readUnits = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
export const writeUnits = (...items: (Item | undefined)[]): number => Math.max(1, Math.ceil(Math.max(0, ...items.map((it) => (it ? itemSize(it) : 0))) / 1024));
export const getUnits = (item: Item | undefined, consistent: boolean): number => readUnits(item ? itemSize(item) : 0, consistent);

/**
 * The ConsumedCapacity member of a response, shaped as DynamoDB's: TableName and CapacityUnits for
 * TOTAL, and the table's own share under Table for INDEXES (the lab has no secondary indexes, so
 * there is no index share to report). Nothing for NONE.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ConsumedCapacity.html
 */
export function consumed(detail: CapacityDetail, table: string, units: number): { TableName: string; CapacityUnits: number; Table?: { CapacityUnits: number } } | undefined {
  if (detail === 'NONE') return undefined;
  return { TableName: table, CapacityUnits: units, ...(detail === 'INDEXES' ? { Table: { CapacityUnits: units } } : {}) };
}

/** The response member `ConsumedCapacity` when one was asked for. */
export const withCapacity = (detail: CapacityDetail, table: string, units: number): { ConsumedCapacity?: ReturnType<typeof consumed> } => (detail === 'NONE' ? {} : { ConsumedCapacity: consumed(detail, table, units) });
