import { throttleError } from '../faults';
import { LAB_ACCOUNT, LAB_REGION } from '../kernel';
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

/**
 * What one partition key value can serve in a second, in on-demand and provisioned mode alike:
 * 3,000 read units and 1,000 write units. Beyond that DynamoDB throttles the key.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-key-range-limit-exceeded-mitigation.html
 */
export const KEY_READ_UNITS_PER_SECOND = 3000;
export const KEY_WRITE_UNITS_PER_SECOND = 1000;

/**
 * The kind of an item by its partition key: the runtime's state table keeps its own items under
 * keys that start with `#` (`#active`, `#config`, `#watch#<function>#<version>`), told apart by
 * their first segment; every other key is a plain item (on the state table, a deployment's).
 */
export function keyKind(partitionKey: string): string {
  const m = /^#[^#]*/.exec(partitionKey);
  return m ? m[0] : 'item';
}

/** The capacity one table used in one minute, for one kind of item and one caller. */
export interface Consumption {
  readonly table: string;
  /** The minute's start, epoch ms. */
  readonly minute: number;
  /** keyKind of the items (`query` and `scan` for reads over many keys). */
  readonly kind: string;
  /** The access key id that signed the calls; `lab` for the lab's own callers. */
  readonly caller: string;
  readUnits: number;
  writeUnits: number;
  /** Write requests (PutItem, UpdateItem, DeleteItem; one whose condition failed too, as it is billed). */
  writes: number;
  /** When the minute's last write request was, epoch ms (absent without one). */
  lastWriteAt?: number;
}

/**
 * The capacity each table consumed, as DynamoDB bills it (the units ReturnConsumedCapacity
 * reports), per minute, kind of item and caller; and the per-second use of each partition key,
 * against which a read or write is admitted or throttled before it takes effect. A throttled
 * request consumes nothing.
 */
export class CapacityLedger {
  private readonly seconds = new Map<string, { second: number; read: number; write: number }>();
  private readonly minutes = new Map<string, Consumption>();

  /**
   * Throw ProvisionedThroughputExceededException when `units` more would take the key over its
   * limit in the current second; otherwise count them against it.
   */
  admit(table: string, partitionKey: string, what: 'read' | 'write', units: number, now: number): void {
    const key = `${table}\u0000${partitionKey}`;
    const second = Math.floor(now / 1000);
    let s = this.seconds.get(key);
    if (!s || s.second !== second) {
      s = { second, read: 0, write: 0 };
      this.seconds.set(key, s);
    }
    const limit = what === 'read' ? KEY_READ_UNITS_PER_SECOND : KEY_WRITE_UNITS_PER_SECOND;
    if (s[what] + units > limit) throw throttleError('DynamoDB', `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/${table}`, what === 'read' ? 'TableReadKeyRangeThroughputExceeded' : 'TableWriteKeyRangeThroughputExceeded');
    s[what] += units;
  }

  /** Whether `units` more reads of the key fit in the current second (BatchGetItem leaves the rest unprocessed). */
  fits(table: string, partitionKey: string, units: number, now: number): boolean {
    const s = this.seconds.get(`${table}\u0000${partitionKey}`);
    const used = s && s.second === Math.floor(now / 1000) ? s.read : 0;
    return used + units <= KEY_READ_UNITS_PER_SECOND;
  }

  record(table: string, kind: string, caller: string | undefined, units: { read?: number; write?: number }, now: number): void {
    const minute = Math.floor(now / 60_000) * 60_000;
    const who = caller ?? 'lab';
    const key = [table, minute, kind, who].join('\u0000');
    let c = this.minutes.get(key);
    if (!c) {
      c = { table, minute, kind, caller: who, readUnits: 0, writeUnits: 0, writes: 0 };
      this.minutes.set(key, c);
    }
    c.readUnits += units.read ?? 0;
    c.writeUnits += units.write ?? 0;
    if (units.write !== undefined) {
      c.writes++;
      c.lastWriteAt = now;
    }
  }

  /** Every minute's consumption so far, oldest first. */
  consumption(): Consumption[] {
    return [...this.minutes.values()].map((c) => ({ ...c })).sort((a, b) => a.minute - b.minute);
  }
}
