/**
 * The fast signal compared with the old version within the slices between the watchdog's reads
 * (src/aws/telemetry.ts telemetryObservations with the points the state keeps), so that
 * failures both versions meet while a linear rollout shifts cancel (Simpson's paradox).
 */
import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { mergeTelemetryPoints, type TelemetryPoint } from '../../src/core/observe';
import { EvaluationMemory } from '../../src/runtime/evaluation-memory';
import { judgeSignal } from '../../src/core/signals';
import type { SignalSpec } from '../../src/core/types';
import { telemetryObservations, telemetryPoint } from '../../src/aws/telemetry';

const CONFIG = parseWatchdogConfig({ guards: [{ application: 'a', deploymentGroup: 'g', functionName: 'pricing', alias: 'live', telemetry: true }] });
const layers = buildLayers(CONFIG.guards[0], CONFIG.namespace);
const spec = layers.flatMap((l) => l.signals).find((s) => s.name === 'telemetry-errors') as SignalSpec;
const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const ctx = { layer: 'new-version', deploymentCreatedAt: T, preexistingAlarms: 'ignore' as const, stage: 'shifting' as const };

/**
 * A linear rollout, 20 % more every 2 minutes at 50 requests/s (6,000 a step), at the counts'
 * expectation: each version fails `rate(step)` of its requests. The watchdog's reads are kept at
 * the end of each step but the last; `now` is the end of the last step.
 */
function rollout(newRate: (step: number) => number, oldRate: (step: number) => number, weights = [0.2, 0.4, 0.6, 0.8]) {
  let cum = [0, 0, 0, 0];
  const points: TelemetryPoint[] = [];
  weights.forEach((w, k) => {
    const n = 6000 * w;
    const o = 6000 - n;
    cum = [cum[0] + n, cum[1] + Math.round(n * newRate(k)), cum[2] + o, cum[3] + Math.round(o * oldRate(k))];
    points.push([T + (k + 1) * 2 * MIN, cum[0], cum[1], cum[2], cum[3]]);
  });
  return points;
}

/** The watchdog's look at the end of step `k`, with the reads of the steps before it kept (`pooled`: none kept). */
function look(all: readonly TelemetryPoint[], k: number, opts: { pooled?: boolean; bothServedUntil?: number } = {}) {
  const [now, ni, ne, oi, oe] = all[k];
  const release = { watching: 'd-1', telemetryInvocations: ni, telemetryErrors: ne, telemetryAt: now };
  const old = { watching: 'd-1', watchStartedAt: T, telemetryInvocations: oi, telemetryErrors: oe, telemetryAt: now };
  const watch = { item: old, now, ...(opts.pooled ? {} : { points: all.slice(0, k) }), ...(opts.bothServedUntil !== undefined ? { bothServedUntil: opts.bothServedUntil } : {}) };
  const o = telemetryObservations(layers, release, { start: T, end: now }, undefined, watch)['new-version/telemetry-errors'];
  return judgeSignal(spec, o, ctx);
}

/** The outcome at each of the watchdog's looks, one per step. */
const looks = (all: readonly TelemetryPoint[], opts: { pooled?: boolean } = {}) => all.map((_, k) => look(all, k, opts).outcome);

/** Both versions fail 0.5 % of requests, and 20 % more from the 80 % step on (a dependency both call). */
const sharedLate = rollout((k) => (k === 3 ? 0.205 : 0.005), (k) => (k === 3 ? 0.205 : 0.005));

describe('the fast signal compared with the old version within the slices between reads', () => {
  it('does not charge a failure both versions meet late in a linear rollout to the new version, at any look', () => {
    expect(looks(sharedLate)).toEqual(['healthy', 'healthy', 'healthy', 'healthy']);
    const e = look(sharedLate, 3);
    // Above maxErrorRate over the watch (8.5 %), but not worse than the old version in any slice.
    expect(e.pValue!).toBeLessThan(0.001);
    expect(e.baseline!.pValue!).toBeGreaterThan(0.5);
    expect(e.note).toMatch(/compared within 4 time slices between reads/);
  });

  it("pooled over the watch (no read kept), the same counts look like the new version's fault (Simpson's paradox)", () => {
    expect(looks(sharedLate, { pooled: true })).toEqual(['healthy', 'healthy', 'healthy', 'failed']);
    expect(look(sharedLate, 3, { pooled: true }).note).toMatch(/pooled over the window/);
  });

  it('guard: still stops a new version 3x as bad as the old one, as soon as the pooled comparison does', () => {
    const r = rollout((k) => (k === 3 ? 0.215 : 0.015), (k) => (k === 3 ? 0.205 : 0.005));
    // Not significantly above maxErrorRate at 1.5 % until the shared failure; then both comparisons show it.
    expect(looks(r)).toEqual(looks(r, { pooled: true }));
    expect(looks(r)).toContain('failed');
  });

  it('guard: a new version that fails much more than the old one during the shared failure (60 % against 20.5 %) is stopped', () => {
    const r = rollout((k) => (k === 3 ? 0.6 : 0.005), (k) => (k === 3 ? 0.205 : 0.005));
    expect(looks(r)).toEqual(['healthy', 'healthy', 'healthy', 'failed']);
  });

  it("after the final shift the comparison no longer excuses the new version's failures: the absolute test decides", () => {
    // The old version serves nothing after the shift: the new version's last step fails alone.
    const bake = rollout((k) => (k === 3 ? 0.2 : 0.005), () => 0.005, [0.1, 0.1, 0.1, 1]);
    expect(look(bake, 3).outcome).toBe('healthy');
    const after = look(bake, 3, { bothServedUntil: bake[2][0] });
    expect(after.outcome).toBe('failed');
    expect(after.note).toMatch(/1200 of 6000 since the final shift \(2026-01-01T00:06:00.000Z\), above 5.00 % \(p = [^)]+ < 0.001\), so the comparison no longer excuses it$/);
    expect(after.note).not.toMatch(/not attributed/);
  });

  it('after the final shift, judges the new version alone on its requests since the shift, not on a failure both versions met before it', () => {
    // Half of both versions' requests fail in the canary (a dependency down), which the
    // comparison excused; after the final shift the new version fails 0.5 % alone. Over the
    // whole watch it is 930 of 7,800 (11.9 %), above maxErrorRate: counted again, a good release
    // would be rolled back.
    const outage = rollout((k) => (k < 3 ? 0.5 : 0.005), (k) => (k < 3 ? 0.5 : 0.005), [0.1, 0.1, 0.1, 1]);
    const after = look(outage, 3, { bothServedUntil: outage[2][0] });
    expect(after.outcome).toBe('healthy');
    expect(after.note).toMatch(/30 of 6000 since the final shift/);
  });

  it('guard: after the final shift, a rate within maxErrorRate still passes, even significantly worse than the old one (failOnlyIfWorse)', () => {
    const bake = rollout(() => 0.03, () => 0.005, [0.2, 0.4, 0.6, 1]);
    expect(look(bake, 2).baseline!.pValue!).toBeLessThan(0.001);
    expect(look(bake, 3, { bothServedUntil: bake[2][0] }).outcome).toBe('healthy');
  });

  it("keeps as this read's point both versions' counts, probes taken off, at now", () => {
    const [now, ni, ne, oi, oe] = sharedLate[3];
    const release = { watching: 'd-1', telemetryInvocations: ni, telemetryErrors: ne, telemetryAt: now };
    const old = { watching: 'd-1', telemetryInvocations: oi, telemetryErrors: oe, telemetryAt: now };
    const probes = { release: { invocations: 20, errors: 1 }, baseline: { invocations: 20, errors: 0 } };
    expect(telemetryPoint(release, { item: old, probes, now })).toEqual([now, 11980, 1019, 11980, 300]);
    // Without the old version's item there is nothing to compare: no point.
    expect(telemetryPoint(release, { now })).toBeUndefined();
  });
});

describe("a read next to a traffic step (the event-driven looks' own, kept in memory)", () => {
  /** Both versions' cumulative counts at second `t` of a linear rollout (20 % more every 2 minutes, 50 requests/s), a 50 % shared burst from the 80 % step. */
  const at = (t: number): TelemetryPoint => {
    const c = [0, 0, 0, 0];
    for (let s = 0; s < t; s++) {
      const w = 0.2 * (Math.floor(s / 120) + 1);
      const rate = 0.005 + (s >= 360 ? 0.5 : 0);
      c[0] += 50 * w;
      c[1] += 50 * w * rate;
      c[2] += 50 * (1 - w);
      c[3] += 50 * (1 - w) * rate;
    }
    return [T + t * 1000, ...c.map(Math.round)] as unknown as TelemetryPoint;
  };
  const lookAt = (t: number, kept: TelemetryPoint[]) => {
    const [now, ni, ne, oi, oe] = at(t);
    const release = { watching: 'd-1', telemetryInvocations: ni, telemetryErrors: ne, telemetryAt: now };
    const old = { watching: 'd-1', watchStartedAt: T, telemetryInvocations: oi, telemetryErrors: oe, telemetryAt: now };
    return judgeSignal(spec, telemetryObservations(layers, release, { start: T, end: now }, undefined, { item: old, now, points: kept })['new-version/telemetry-errors'], ctx);
  };
  // The state's reads: one a minute after each step (the first write after it).
  const stored = [at(60), at(180), at(300)];

  it('with only the reads a minute after each step, a burst from the step on is charged at the slice\'s average split', () => {
    expect(lookAt(390, stored).outcome).toBe('failed');
  });

  it('a read a second before the step ends the slice there, and the burst cancels', () => {
    expect(lookAt(390, mergeTelemetryPoints(stored, [at(359)])).outcome).toBe('healthy');
  });

  it('keeps an environment\'s reads at least 10 s apart, at most 30 of them, oldest first', () => {
    const memory = new EvaluationMemory();
    for (let t = 0; t < 600; t += 4) memory.rememberPoint('d-1', at(t));
    const kept = memory.recentPoints('d-1');
    expect(kept).toHaveLength(30);
    expect(kept.every((p, i) => i === 0 || p[0] - kept[i - 1][0] >= 10_000)).toBe(true);
    expect(memory.recentPoints('d-2')).toEqual([]);
  });
});
