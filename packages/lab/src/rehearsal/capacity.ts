/**
 * What a release cost in DynamoDB and in the guarded function's time: the state table's write
 * units per minute, by kind of item, and how long the telemetry extension's DynamoDB calls held
 * the user function's invocations (its added latency). Pure: the runner hands it the lab's ledger.
 */
import type { Consumption } from '../lab/dynamodb/capacity';

/** The state table's kinds of item, named as the report names them (capacity.ts keyKind). */
export const ITEM_KINDS = { item: 'deployment', '#active': 'active', '#config': 'config', '#watch': 'watch' } as const;
export type ItemKind = (typeof ITEM_KINDS)[keyof typeof ITEM_KINDS] | 'other';

export interface CostMinute {
  /** Seconds since the deployment began, at the minute's start. */
  readonly t: number;
  /** The state table's write units in the minute, every caller. */
  readonly writeUnits: number;
  readonly writeUnitsByKind: Readonly<Record<ItemKind, number>>;
  /** The state table's write requests in the minute, every caller, and by kind of item (each costs writeUnits / writes units on average). */
  readonly writes: number;
  readonly writesByKind: Readonly<Record<ItemKind, number>>;
  /** The last write of each kind written in the minute, seconds since the deployment began (how long the extension wrote after a release). */
  readonly lastWriteT: Readonly<Partial<Record<ItemKind, number>>>;
  readonly readUnits: number;
  /** The extension's holds of the guarded function's invocations in the minute: how many, the longest, their sum (ms). */
  readonly extensionHolds: number;
  readonly maxAddedLatencyMs: number;
  readonly addedLatencyMs: number;
}

export interface Hold {
  readonly at: number;
  readonly functionName: string;
  readonly ms: number;
}

const MINUTE = 60_000;
const emptyKinds = (): Record<ItemKind, number> => ({ deployment: 0, active: 0, config: 0, watch: 0, other: 0 });

/**
 * One row per minute from the minute before the deployment began (`t0`) to the last minute with
 * any use: the state table's consumption and the guarded functions' holds. Minutes are the lab's
 * clock minutes (as CloudWatch's), so `t` may be negative for the first.
 */
export function costPerMinute(consumption: readonly Consumption[], stateTable: string | undefined, holds: readonly Hold[], guarded: ReadonlySet<string>, t0: number): CostMinute[] {
  const from = Math.floor((t0 - MINUTE) / MINUTE) * MINUTE;
  const rows = new Map<number, { writeUnits: number; readUnits: number; byKind: Record<ItemKind, number>; writes: number; writesByKind: Record<ItemKind, number>; last: Partial<Record<ItemKind, number>>; holds: number; max: number; sum: number }>();
  const row = (minute: number) => {
    let r = rows.get(minute);
    if (!r) {
      r = { writeUnits: 0, readUnits: 0, byKind: emptyKinds(), writes: 0, writesByKind: emptyKinds(), last: {}, holds: 0, max: 0, sum: 0 };
      rows.set(minute, r);
    }
    return r;
  };
  for (const c of consumption) {
    if (c.table !== stateTable || c.minute < from) continue;
    const r = row(c.minute);
    r.writeUnits += c.writeUnits;
    r.readUnits += c.readUnits;
    const kind = (ITEM_KINDS as Record<string, ItemKind>)[c.kind] ?? 'other';
    r.byKind[kind] += c.writeUnits;
    r.writes += c.writes;
    r.writesByKind[kind] += c.writes;
    if (c.lastWriteAt !== undefined) r.last[kind] = Math.max(r.last[kind] ?? -Infinity, (c.lastWriteAt - t0) / 1000);
  }
  for (const h of holds) {
    if (!guarded.has(h.functionName) || h.at < from) continue;
    const r = row(Math.floor(h.at / MINUTE) * MINUTE);
    r.holds++;
    r.max = Math.max(r.max, h.ms);
    r.sum += h.ms;
  }
  return [...rows]
    .sort(([a], [b]) => a - b)
    .map(([minute, r]) => ({
      t: (minute - t0) / 1000,
      writeUnits: round(r.writeUnits),
      writeUnitsByKind: r.byKind,
      writes: r.writes,
      writesByKind: r.writesByKind,
      lastWriteT: r.last,
      readUnits: round(r.readUnits),
      extensionHolds: r.holds,
      maxAddedLatencyMs: r.max,
      addedLatencyMs: r.sum,
    }));
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A run's totals and peaks, for the terminal: "WCU 412 (peak 31/min: deployment 20, ...), extension held up to 120 ms". */
export function costText(minutes: readonly CostMinute[]): string {
  const total = round(minutes.reduce((a, m) => a + m.writeUnits, 0));
  const peak = minutes.reduce<CostMinute | undefined>((p, m) => (!p || m.writeUnits > p.writeUnits ? m : p), undefined);
  const kinds = peak ? Object.entries(peak.writeUnitsByKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') : '';
  // Measured in the lab on the wall clock, INVOKE to the next /next (the lab's own turn-around included).
  const held = round(Math.max(0, ...minutes.map((m) => m.maxAddedLatencyMs)));
  return `${total} write units on the state table (peak ${peak?.writeUnits ?? 0}/min${kinds ? `: ${kinds}` : ''}); extension back at /next at most ${held} ms after INVOKE (lab wall clock, machine load included)`;
}
