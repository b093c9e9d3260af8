/** Cold starts judged from the init reports: the watch items' histograms, read into the `telemetry-inits` signal (aws/telemetry.ts, core/init-durations.ts). */
import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { INIT_HISTOGRAM, initBucketOf, initHistogramOf, type InitHistogram } from '../../src/core/init-durations';
import { judgeSignal } from '../../src/core/signals';
import { signalKey } from '../../src/core/types';
import { initsOf, telemetryObservations, TELEMETRY_INIT_FIELDS, watchItemUpdate } from '../../src/aws/telemetry';

const T0 = Date.UTC(2026, 0, 1);
const CONFIG = parseWatchdogConfig({ guards: [{ application: 'orders-app', deploymentGroup: 'orders-dg', functionName: 'orders', alias: 'live', telemetry: true }] });
const LAYERS = buildLayers(CONFIG.guards[0], CONFIG.namespace);
const KEY = signalKey('new-version', 'telemetry-inits');
const SPEC = LAYERS.flatMap((l) => l.signals).find((s) => s.name === 'telemetry-inits')!;
const ctx = { layer: 'new-version', deploymentCreatedAt: T0, preexistingAlarms: 'ignore' as const, stage: 'shifting' as const };
const window = { start: T0, end: T0 + 5 * 60_000 };

/** A watch item as the extension's writes leave it: the counts, and the inits' histogram. */
function item(initsMs: readonly number[], invocations = 100): Record<string, unknown> {
  const h = initHistogramOf(initsMs);
  const out: Record<string, unknown> = { watching: 'd-1', telemetryInvocations: invocations, telemetryErrors: 0, telemetryAt: T0 + 60_000 };
  if (h.count) out[TELEMETRY_INIT_FIELDS.count] = h.count;
  h.buckets.forEach((n, k) => n && (out[`${TELEMETRY_INIT_FIELDS.bucketPrefix}${k}`] = n));
  return out;
}
const same = (ms: number, n: number) => Array<number>(n).fill(ms);

function judge(newItem: Record<string, unknown>, oldItem?: Record<string, unknown>) {
  const obs = telemetryObservations(LAYERS, newItem, window, undefined, oldItem ? { item: oldItem, now: T0 + 10 * 60_000 } : undefined);
  return judgeSignal(SPEC, obs[KEY], ctx);
}

describe('telemetry-inits', () => {
  it('is a signal of the new-version layer wherever the telemetry extension is, at the guard\'s alpha', () => {
    expect(SPEC).toEqual({ kind: 'inits', name: 'telemetry-inits', maxRatio: 1.5, minExcessMs: 200, alpha: 0.001 });
    const off = parseWatchdogConfig({ guards: [{ application: 'a', deploymentGroup: 'g', functionName: 'f', alias: 'live', telemetry: false }] });
    expect(buildLayers(off.guards[0], off.namespace).flatMap((l) => l.signals).some((s) => s.kind === 'inits')).toBe(false);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined, string]>([
    ['4x slower inits (400 -> 1,600 ms), 20 of each', item(same(1600, 20)), item(same(400, 20)), 'failed'],
    ['the same inits', item(same(400, 30)), item(same(400, 30)), 'healthy'],
    ['no cold start of the new version', item([]), item(same(400, 30)), 'not-applicable'],
    ['no baseline watch', item(same(1600, 20)), undefined, 'insufficient'],
    ['an old version whose extension counted no init', item(same(1600, 20)), item([]), 'insufficient'],
    ['a handful of slow cold starts', item(same(1600, 5)), item(same(400, 30)), 'insufficient'],
  ])('%s', (_name, n, o, outcome) => {
    expect(judge(n, o).outcome).toBe(outcome);
  });

  it('puts the evidence in the record: medians, sample sizes, the reference and the p-value', () => {
    const e = judge(item(same(1600, 20)), item(same(400, 20)));
    expect(e).toMatchObject({ signal: 'telemetry-inits', outcome: 'failed', unit: 'ms', sampleSize: 20, baseline: { sampleSize: 20 } });
    expect(e.observed).toBeGreaterThanOrEqual(1600);
    expect(e.baseline!.observed).toBeGreaterThanOrEqual(400);
    expect(e.pValue).toBeLessThan(0.001);
    expect(e.note).toMatch(/^cold starts regressed: 20 of 20 new-version inits above [\d,]+ ms .* from 20 old-version inits\), more than half, p = /);
  });

  it('reads the histogram a watch item carries, ignoring what is not a count', () => {
    const raw = item([400, 1600]);
    raw[`${TELEMETRY_INIT_FIELDS.bucketPrefix}3`] = 'x';
    raw[`${TELEMETRY_INIT_FIELDS.bucketPrefix}4`] = -2;
    const h = initsOf(raw) as InitHistogram;
    expect(h.count).toBe(2);
    expect(h.buckets.length).toBe(INIT_HISTOGRAM.count);
    expect([h.buckets[initBucketOf(400)], h.buckets[initBucketOf(1600)], h.buckets[3], h.buckets[4]]).toEqual([1, 1, 0, 0]);
    expect(initsOf(item([]))).toBeUndefined();
  });

  it('is unreadable, never 0 of 0, when the watch items could not be read', () => {
    const obs = telemetryObservations(LAYERS, undefined, window, 'throttled');
    expect(judgeSignal(SPEC, obs[KEY], ctx).outcome).toBe('unreadable');
  });

  it("starts a watch with the inits of an earlier deployment of the same version gone", () => {
    const u = watchItemUpdate('state', 'orders', '7', 'd-2', 0);
    expect(u.UpdateExpression).toMatch(/#i = :zero/);
    expect(u.UpdateExpression).toContain(`REMOVE #at, #f, #s, #b0, #b1`);
    expect(u.UpdateExpression).toContain(`#b${INIT_HISTOGRAM.count - 1}`);
    expect(u.ExpressionAttributeNames).toMatchObject({ '#i': 'telemetryInits', '#b0': 'telemetryInitB0', [`#b${INIT_HISTOGRAM.count - 1}`]: `telemetryInitB${INIT_HISTOGRAM.count - 1}` });
  });
});
