import { DecisionLog, decisionIn } from '../../../src/lab/events/decisions';

const record = { type: 'canary-watchdog.decision', deploymentId: 'd-1', at: '2026-01-01T00:01:00.000Z', stage: 'canary', action: 'proceed', layer: null, trigger: 'schedule' };

describe('decisionIn', () => {
  it.each([
    ['a bare record', JSON.stringify(record), true],
    ['a structured log line', JSON.stringify({ level: 'INFO', message: 'decision', decision: record }), true],
    ['a log line with a runtime prefix', `2026-01-01T00:01:00.000Z\tabc\tINFO\t${JSON.stringify({ decision: record })}`, true],
    ['an EventBridge event', JSON.stringify({ 'detail-type': 'Canary Watchdog Decision', detail: record }), true],
    ['another record type', JSON.stringify({ ...record, type: 'other' }), false],
    ['a plain log line', 'START RequestId: 1 Version: 2', false],
    ['broken JSON', '{"decision": ', false],
    ['JSON null', 'null', false],
  ])('%s', (_name, line, found) => {
    expect(decisionIn(line) !== undefined).toBe(found);
  });
});

describe('DecisionLog', () => {
  it('keeps a decision seen as a log line and again as an event once, and lists by deployment', () => {
    const log = new DecisionLog();
    const told: unknown[] = [];
    log.subscribe((r) => told.push(r));
    log.addLogLine(JSON.stringify({ decision: record }));
    expect(log.add(record as never)).toBe(false);
    log.add({ ...record, at: '2026-01-01T00:02:00.000Z', action: 'rollback' } as never);
    log.add({ ...record, deploymentId: 'd-2' } as never);
    expect(told).toHaveLength(3);
    expect(log.list('d-1').map((r) => r.action)).toEqual(['proceed', 'rollback']);
    expect(log.list()).toHaveLength(3);
  });
});
