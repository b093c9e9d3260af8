import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { DEFAULT_POLICY, evaluate } from '../../src/core/evaluate';
import { signalKey } from '../../src/core/types';
import { alarm, MIN, obs, snapshot, state, T0 } from './fixtures';
import {
  decisionRecord,
  DECISION_EVENT_EVERY_MINUTES,
  DECISIONS_KEPT,
  DECISIONS_MAX_BYTES,
  decisionEventPhase,
  isNews,
  keepDecisions,
  sendsEvent,
  type DecisionRecord,
} from '../../src/core/decision-record';

const rec = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  type: 'canary-watchdog.decision',
  schemaVersion: 1,
  at: '2026-01-01T00:00:00.000Z',
  trigger: 'schedule',
  deploymentId: 'd-1',
  application: 'app',
  deploymentGroup: 'dg',
  functionName: 'fn',
  alias: 'live',
  currentVersion: '1',
  targetVersion: '2',
  trafficPercent: 10,
  stage: 'shifting',
  action: 'proceed',
  layer: null,
  reasons: [],
  layers: [{ name: 'new-version', outcome: 'healthy', consecutiveUnreadable: 0 }],
  evidence: [],
  actionTaken: 'none',
  actionResult: 'ok',
  ...over,
});

describe('isNews', () => {
  it.each<[string, DecisionRecord | undefined, DecisionRecord, boolean]>([
    ['the first record', undefined, rec(), true],
    ['the same verdict a minute later', rec(), rec({ at: '2026-01-01T00:01:00.000Z' }), false],
    ['a new traffic share', rec(), rec({ trafficPercent: 20 }), true],
    ['a new stage', rec(), rec({ stage: 'bake' }), true],
    ['a rollback', rec(), rec({ action: 'rollback', layer: 'new-version' }), true],
    ['a layer turning insufficient', rec(), rec({ layers: [{ name: 'new-version', outcome: 'insufficient', consecutiveUnreadable: 0 }] }), true],
  ])('%s: %s', (_name, prev, next, expected) => {
    expect(isNews(prev, next)).toBe(expected);
  });
});

describe('sendsEvent', () => {
  const MIN = 60_000;
  const phase = decisionEventPhase('d-1');
  // A minute in d-1's phase, and the minute after it.
  const due = (1000 * DECISION_EVENT_EVERY_MINUTES + phase) * MIN + 30_000;
  it.each<[string, DecisionRecord | undefined, DecisionRecord, number, boolean, boolean]>([
    ['news, off its phase', rec(), rec({ trafficPercent: 20 }), due + MIN, false, true],
    ['the first record of a deployment', undefined, rec(), due + MIN, false, true],
    ['a rollback, on a run triggered by an alarm', rec(), rec({ action: 'rollback', layer: 'new-version' }), due + MIN, false, true],
    ['nothing new, off its phase', rec(), rec(), due + MIN, true, false],
    ['nothing new, in its phase, on a scheduled run', rec(), rec(), due, true, true],
    ['nothing new, in its phase, on a run triggered by an event', rec(), rec(), due, false, false],
  ])('%s', (_name, prev, next, now, periodic, expected) => {
    expect(sendsEvent(prev, next, now, periodic)).toBe(expected);
  });

  it(`sends a steady deployment's record once every ${DECISION_EVENT_EVERY_MINUTES} scheduled minutes`, () => {
    const sent = Array.from({ length: 3 * DECISION_EVENT_EVERY_MINUTES }, (_, m) => sendsEvent(rec(), rec(), m * MIN + 5_000, true)).filter(Boolean);
    expect(sent).toHaveLength(3);
  });

  it('spreads the periodic records of many deployments over the minutes', () => {
    const perMinute = new Array<number>(DECISION_EVENT_EVERY_MINUTES).fill(0);
    for (let i = 0; i < 200; i++) perMinute[decisionEventPhase(`d-${'ABCDEFGHJK'[i % 10]}${i}XYZ${i * 7919}`)]++;
    // 200 deployments over 20 phases: 10 a minute on average; no minute holds a third of them.
    expect(Math.max(...perMinute)).toBeLessThan(200 / 3);
    expect(perMinute.filter((n) => n > 0).length).toBeGreaterThanOrEqual(DECISION_EVENT_EVERY_MINUTES - 2);
  });
});

describe('keepDecisions', () => {
  it(`keeps the newest ${DECISIONS_KEPT} records, oldest dropped first`, () => {
    const many = Array.from({ length: DECISIONS_KEPT }, (_, i) => rec({ trafficPercent: i }));
    const kept = keepDecisions(many, rec({ trafficPercent: 999 }));
    expect(kept).toHaveLength(DECISIONS_KEPT);
    expect(kept[0].trafficPercent).toBe(1);
    expect(kept.at(-1)!.trafficPercent).toBe(999);
  });

  it(`drops the oldest records while the kept ones exceed ${DECISIONS_MAX_BYTES} bytes, always keeping the newest`, () => {
    const big = (n: number) => rec({ trafficPercent: n, reasons: ['x'.repeat(100_000)] });
    const kept = keepDecisions([big(1), big(2), big(3)], big(4));
    expect(kept.map((r) => r.trafficPercent)).toEqual([3, 4]);
    expect(kept.reduce((n, r) => n + JSON.stringify(r).length, 0)).toBeLessThanOrEqual(DECISIONS_MAX_BYTES);
    expect(keepDecisions([], rec({ reasons: ['x'.repeat(400_000)] }))).toHaveLength(1);
  });
});

describe('decisionRecord names the real alarm', () => {
  // An alarm named for the version it watches (`-v{version}`) is replaced with each release: the
  // record names the one this release's target version has, never the template.
  const config = parseWatchdogConfig({ guards: [{ application: 'orders-app', deploymentGroup: 'orders-dg', functionName: 'orders', alias: 'live', alarms: { service: ['orders-errors-v{version}'] } }] });
  const layers = buildLayers(config.guards[0], config.namespace);
  const observations = obs(Object.fromEntries(layers.flatMap((l) => l.signals.filter((s) => s.kind === 'alarm').map((s) => [signalKey(l.name, s.name), alarm('ALARM')]))));
  const verdict = evaluate({ snapshot: snapshot(), layers, observations, state: state() }, DEFAULT_POLICY, T0 + 5 * MIN).verdict;

  it('in its reasons, evidence signals and notes: orders-errors-v2, no {version} left', () => {
    expect(verdict.action).toBe('rollback');
    const r = decisionRecord(snapshot(), verdict, T0 + 5 * MIN, 'schedule', 'stop-deployment', 'ok');
    expect(JSON.stringify(r)).not.toContain('{version}');
    expect(r.reasons.join(' ')).toContain('alarm orders-errors-v2 is in ALARM');
    expect(r.evidence.find((e) => e.layer === 'service')).toMatchObject({ signal: 'alarm:orders-errors-v2', note: expect.stringContaining('alarm orders-errors-v2 is in ALARM') });
  });
});
