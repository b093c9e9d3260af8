/** The watch item's stored form and the tally's flush interval (src/aws/telemetry.ts). */
import { buildLayers, parseWatchdogConfig } from '../../src/core/config';
import { BASELINE_WAIT_SECONDS, FLUSH_SECONDS, probedOf, TELEMETRY_STREAM_FILTER, TelemetryTally, telemetryObservations, WATCH_DEPLOYMENT_FIELD, watchedDeployment, watchItem, watchItemUpdate, watchKey } from '../../src/aws/telemetry';

describe('watch item', () => {
  it('is keyed by watchKey and names the deployment in its own attribute', () => {
    const item = watchItem({ deploymentId: 'd-ABC', functionName: 'orders', version: '7' });
    expect(item).toEqual({ deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: 'd-ABC', functionName: 'orders', version: '7' });
    expect(watchedDeployment(item)).toBe('d-ABC');
  });

  it.each([
    ['no item', undefined],
    ['an item without the field', { deploymentId: watchKey('orders', '7') }],
    ['an empty deployment id', { deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: '' }],
    ['a number', { deploymentId: watchKey('orders', '7'), [WATCH_DEPLOYMENT_FIELD]: 42 }],
  ])('names no deployment for %s', (_, item) => {
    expect(watchedDeployment(item)).toBeUndefined();
  });
});

describe('TelemetryTally flush interval', () => {
  it.each([
    // flushMs, elapsed ms, due
    [undefined, FLUSH_SECONDS * 1000 - 1, false],
    [undefined, FLUSH_SECONDS * 1000, true],
    [500, 499, false],
    [500, 500, true],
  ])('with flushMs %p, successes %p ms after the last flush are due: %p', (flushMs, elapsed, due) => {
    const tally = new TelemetryTally(0, flushMs);
    tally.add(false);
    expect(tally.due(elapsed)).toBe(due);
  });
});

/** A telemetry-guarded function's layers, and a minute's window. */
const CONFIG = parseWatchdogConfig({ guards: [{ application: 'a', deploymentGroup: 'g', functionName: 'orders', alias: 'live', telemetry: true }] });
const layers = buildLayers(CONFIG.guards[0], CONFIG.namespace);
const T = Date.UTC(2026, 0, 1);
const window = { start: T, end: T + 60_000 };

describe("the old version's watch, the fast signal's baseline", () => {
  const release = { watching: 'd-1', telemetryInvocations: 120, telemetryErrors: 12, telemetryAt: T + 50_000 };
  const baseline = (over: Record<string, unknown> = {}) => ({ watching: 'd-1', watchStartedAt: T, telemetryInvocations: 1080, telemetryErrors: 108, telemetryAt: T + 55_000, ...over });

  it("gives the old version's counts as the baseline, over the same watch", () => {
    const o = telemetryObservations(layers, release, window, undefined, { item: baseline(), now: T + 60_000 })['new-version/telemetry-errors'];
    expect(o).toMatchObject({ kind: 'counts', new: { events: 12, total: 120 }, old: { events: 108, total: 1080 } });
    expect(o).not.toHaveProperty('baselinePending');
  });

  it.each([
    // now after the watch began, pending
    [0, true],
    [BASELINE_WAIT_SECONDS * 1000 - 1, true],
    [BASELINE_WAIT_SECONDS * 1000, false],
  ])("awaits the old version's counts %p ms after the watch began: %p", (after, pending) => {
    const o = telemetryObservations(layers, release, window, undefined, { item: baseline({ telemetryInvocations: undefined, telemetryErrors: undefined }), now: T + after })['new-version/telemetry-errors'];
    expect(o).toMatchObject({ old: { events: 0, total: 0 } });
    expect('baselinePending' in o).toBe(pending);
  });

  it('has no baseline without the old version watched (today\'s judgement: the absolute test alone)', () => {
    const o = telemetryObservations(layers, release, window, undefined, { now: T })['new-version/telemetry-errors'];
    expect(o).not.toHaveProperty('old');
    expect(o).not.toHaveProperty('baselinePending');
  });

  it("marks the item with its role, which the stream filter reads: only the release's failing writes wake the watchdog", () => {
    expect(watchItemUpdate('t', 'orders', '1', 'd-1', 0, 'baseline', T).ExpressionAttributeValues).toMatchObject({ ':r': 'baseline', ':s': T });
    expect(watchItemUpdate('t', 'orders', '2', 'd-1', 0).ExpressionAttributeValues).toMatchObject({ ':r': 'release' });
    expect(TELEMETRY_STREAM_FILTER.dynamodb.NewImage).toEqual({ telemetryFailed: { BOOL: [true] }, watchRole: { S: ['release'] } });
  });
});

describe('probe invocations are not user traffic', () => {
  const release = { watching: 'd-1', telemetryInvocations: 33, telemetryErrors: 3, telemetryAt: T + 50_000 };
  const old = { watching: 'd-1', watchStartedAt: T - 60_000, telemetryInvocations: 300, telemetryErrors: 2, telemetryAt: T + 55_000 };
  const record = { probeInvocations_2: 30, probeErrors_2: 3, probeInvocations_1: 30, probeErrors_1: 1 };
  const judged = (probed: Record<string, unknown> | undefined) =>
    telemetryObservations(layers, release, window, undefined, { item: old, now: T + 60_000, ...(probed ? { probes: { release: probedOf(probed, '2'), baseline: probedOf(probed, '1') } } : {}) })['new-version/telemetry-errors'];

  it("takes each version's probes off its counts: 3 user requests and no user failure are left of 33 and 3", () => {
    expect(judged(record)).toMatchObject({ new: { events: 0, total: 3 }, old: { events: 1, total: 270 } });
  });

  it('counts everything without a probe record (guard: nothing is taken off that was not recorded)', () => {
    expect(judged(undefined)).toMatchObject({ new: { events: 3, total: 33 }, old: { events: 2, total: 300 } });
  });

  it('never goes below zero when the record is ahead of the extension (successes are written every FLUSH_SECONDS)', () => {
    expect(judged({ probeInvocations_2: 40, probeErrors_2: 5 })).toMatchObject({ new: { events: 0, total: 0 } });
  });

  it.each([
    [{}, { invocations: 0, errors: 0 }],
    [{ probeInvocations_2: -4, probeErrors_2: 'x' }, { invocations: 0, errors: 0 }],
    [record, { invocations: 30, errors: 3 }],
  ])('reads a version from a probe record %p', (item, expected) => {
    expect(probedOf(item, '2')).toEqual(expected);
  });
});
