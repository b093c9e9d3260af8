/**
 * The rehearsal's cost report: the state table's write units per minute by kind of item, and the
 * telemetry extension's added latency, in the terminal (within 100 columns), the HTML and the JSON.
 */
import type { Consumption } from '../../src/lab/dynamodb/capacity';
import { costPerMinute, costText, type CostMinute } from '../../src/rehearsal/capacity';
import type { ScenarioResult } from '../../src/rehearsal/rehearse';
import { renderReport } from '../../src/rehearsal/report';
import { summaryTable, TABLE_COLUMNS } from '../../src/rehearsal/summary';
import { strategyResult } from './fixtures';

const T0 = Date.UTC(2026, 0, 1, 0, 3);
const c = (minute: number, kind: string, writeUnits: number, table = 'state', readUnits = 0, writes = writeUnits ? 1 : 0): Consumption => ({ table, minute: T0 + minute * 60_000, kind, caller: 'lab', writeUnits, readUnits, writes, ...(writes ? { lastWriteAt: T0 + minute * 60_000 + 1000 } : {}) });

describe('costPerMinute', () => {
  it('adds up the state table\'s write units per minute and kind, leaving other tables out', () => {
    const rows = costPerMinute([c(0, 'item', 12), c(0, '#active', 2), c(0, '#config', 1), c(0, '#watch', 1), c(0, 'item', 99, 'orders'), c(1, 'item', 7, 'state', 4), c(1, 'query', 0, 'state', 3)], 'state', [], new Set(), T0);
    expect(rows).toEqual([
      { t: 0, writeUnits: 16, writeUnitsByKind: { deployment: 12, active: 2, config: 1, watch: 1, other: 0 }, writes: 4, writesByKind: { deployment: 1, active: 1, config: 1, watch: 1, other: 0 }, lastWriteT: { deployment: 1, active: 1, config: 1, watch: 1 }, readUnits: 0, extensionHolds: 0, maxAddedLatencyMs: 0, addedLatencyMs: 0 },
      { t: 60, writeUnits: 7, writeUnitsByKind: { deployment: 7, active: 0, config: 0, watch: 0, other: 0 }, writes: 1, writesByKind: { deployment: 1, active: 0, config: 0, watch: 0, other: 0 }, lastWriteT: { deployment: 61 }, readUnits: 7, extensionHolds: 0, maxAddedLatencyMs: 0, addedLatencyMs: 0 },
    ]);
  });

  it('counts the write requests per minute and kind beside their units: a large deployment item is one write and many units', () => {
    const rows = costPerMinute([c(0, 'item', 42, 'state', 0, 1), c(0, '#watch', 6, 'state', 0, 6), c(0, '#active', 1)], 'state', [], new Set(), T0);
    expect(rows[0]).toMatchObject({ writes: 8, writesByKind: { deployment: 1, active: 1, config: 0, watch: 6, other: 0 }, writeUnits: 49 });
  });

  it('says when the last write of each kind was in the minute, in seconds since the deployment began: how long writes went on after a release', () => {
    const late: Consumption = { ...c(1, '#watch', 2, 'state', 0, 2), lastWriteAt: T0 + 60_000 + 12_500 };
    const rows = costPerMinute([c(0, 'item', 3), late, c(1, '#active', 1)], 'state', [], new Set(), T0);
    expect(rows.map((r) => r.lastWriteT)).toEqual([{ deployment: 1 }, { watch: 72.5, active: 61 }]);
  });

  it('counts the guarded function\'s extension holds per minute, not other functions\'', () => {
    const holds = [
      { at: T0 + 5_000, functionName: 'orders', ms: 40 },
      { at: T0 + 6_000, functionName: 'orders', ms: 120 },
      { at: T0 + 7_000, functionName: 'other', ms: 900 },
    ];
    expect(costPerMinute([], 'state', holds, new Set(['orders']), T0)).toEqual([
      { t: 0, writeUnits: 0, writeUnitsByKind: { deployment: 0, active: 0, config: 0, watch: 0, other: 0 }, writes: 0, writesByKind: { deployment: 0, active: 0, config: 0, watch: 0, other: 0 }, lastWriteT: {}, readUnits: 0, extensionHolds: 2, maxAddedLatencyMs: 120, addedLatencyMs: 160 },
    ]);
  });

  it('starts a minute before the deployment: the warm-up is left out', () => {
    expect(costPerMinute([c(-3, 'item', 5), c(-1, 'item', 1)], 'state', [], new Set(), T0).map((m) => m.t)).toEqual([-60]);
  });

  it('says the totals and the peak minute in words', () => {
    const rows = costPerMinute([c(0, 'item', 12), c(0, '#active', 2), c(1, 'item', 3)], 'state', [{ at: T0, functionName: 'orders', ms: 3000 }], new Set(['orders']), T0);
    expect(costText(rows)).toBe('17 write units on the state table (peak 14/min: deployment 12, active 2); extension back at /next at most 3000 ms after INVOKE (lab wall clock, machine load included)');
  });
});

describe('the cost in the summary, the report and the JSON', () => {
  const cost: CostMinute[] = costPerMinute([c(0, 'item', 12), c(0, '#active', 2), c(0, '#watch', 1)], 'state', [{ at: T0, functionName: 'orders', ms: 250 }], new Set(['orders']), T0);
  const result: ScenarioResult = {
    name: 'dynamodb-outage-with-a-rather-long-scenario-name',
    description: '',
    passed: true,
    failures: [],
    expect: { outcome: 'rolled-back' },
    strategies: { watchdog: strategyResult({ cost }), native: strategyResult({}) },
  };

  it(`prints each scenario's write units and added latency within ${TABLE_COLUMNS} columns`, () => {
    const table = summaryTable([result]);
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(TABLE_COLUMNS);
    expect(table.replace(/\s+/g, ' ')).toContain('dynamodb-outage-with-a-rather-long-scenario-name: 15 write units on the state table (peak 15/min: deployment 12, active 2, watch 1); extension back at /next at most 250 ms after INVOKE');
  });

  it('prints nothing about it when no run has a cost (guard: no empty heading)', () => {
    expect(summaryTable([{ ...result, strategies: { watchdog: strategyResult({}), native: strategyResult({}) } }])).not.toContain('DynamoDB and added latency');
  });

  it('draws the write units by kind and the added latency per minute in the report', () => {
    const html = renderReport([result]);
    expect(html).toContain('<figcaption>state table write units per minute</figcaption>');
    expect(html).toContain('■ deployment');
    expect(html).toContain('<figcaption>added latency per invocation (telemetry extension, ms)</figcaption>');
  });

  it('keeps every minute in the JSON', () => {
    expect(JSON.parse(JSON.stringify({ scenarios: [result] })).scenarios[0].strategies.watchdog.cost).toEqual(cost);
  });
});
