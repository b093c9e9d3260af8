/** The fast signal judged against the old version's telemetry counts (core/signals.ts judgeTelemetry, config buildLayers). */
import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { judgeSignal } from '../../src/core/signals';
import type { Observation, SignalSpec } from '../../src/core/types';
import { T0, MIN } from './fixtures';

const CONFIG = parseWatchdogConfig({
  guards: [{ application: 'orders-app', deploymentGroup: 'orders-dg', functionName: 'orders', alias: 'live', telemetry: true, thresholds: { maxErrorRate: 0.02 } }],
});
const LAYERS = buildLayers(CONFIG.guards[0], CONFIG.namespace);
const signal = (name: string): SignalSpec => LAYERS.flatMap((l) => l.signals).find((s) => s.name === name)!;
const ctx = { layer: 'new-version', deploymentCreatedAt: T0, preexistingAlarms: 'ignore' as const, stage: 'shifting' as const };
const window = { start: T0, end: T0 + 2 * MIN };

const counts = (newE: number, newT: number, old?: [number, number], baselinePending?: string): Observation => ({
  kind: 'counts',
  new: { events: newE, total: newT },
  ...(old ? { old: { events: old[0], total: old[1] } } : {}),
  window,
  ...(baselinePending ? { baselinePending } : {}),
});

describe('telemetry-errors against the old version', () => {
  it.each<[string, Observation, string]>([
    // A shared outage: 10 % on both versions, far above maxErrorRate; not the release's.
    ['a shared outage, both versions at 10 %', counts(12, 120, [108, 1080]), 'healthy'],
    // Guard: the new version worse than the old one and above maxErrorRate still fails.
    ['a regression during the outage (30 % against 10 %)', counts(150, 500, [108, 1080]), 'failed'],
    ['a regression on a quiet old version (15 % against 0.5 %)', counts(9, 60, [2, 450]), 'failed'],
    // Guard: without the old version's counts (no baseline watch), maxErrorRate alone decides, as before.
    ['no old version counts', counts(12, 120), 'failed'],
    ['too few old samples to compare', counts(12, 120, [1, 10]), 'failed'],
    // Worse than the old version but within maxErrorRate: the rule of failOnlyIfWorse (both must hold).
    ['worse than the old version, within maxErrorRate', counts(1, 1000, [0, 5000]), 'healthy'],
  ])('%s: %s', (_, o, outcome) => {
    expect(judgeSignal(signal('telemetry-errors'), o, ctx).outcome).toBe(outcome);
  });

  it("holds a failure on the new version alone while the old version's counts are awaited, and says so", () => {
    const e = judgeSignal(signal('telemetry-errors'), counts(12, 120, [0, 0], 'the old version counts are awaited'), ctx);
    expect(e.outcome).toBe('insufficient');
    expect(e.note).toMatch(/^the old version counts are awaited: not judged on the new version alone yet; 12 of 120/);
  });

  it('does not hold a regression the comparison already shows, while the old counts still grow (guard)', () => {
    expect(judgeSignal(signal('telemetry-errors'), counts(9, 60, [2, 450], 'awaited'), ctx).outcome).toBe('failed');
  });

  it('the CloudWatch error rate follows the same rule: a shared outage fails only when the new version is also worse', () => {
    expect(judgeSignal(signal('errors'), counts(12, 120, [108, 1080]), ctx).outcome).toBe('healthy');
    expect(judgeSignal(signal('errors'), counts(150, 500, [108, 1080]), ctx).outcome).toBe('failed');
    expect(judgeSignal(signal('errors'), counts(12, 120), ctx).outcome).toBe('failed');
  });
});
