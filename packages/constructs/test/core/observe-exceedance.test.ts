import { planExceedanceReads, planReads, toObservations, type MetricReading } from '../../src/core/observe';
import type { LayerSpec, MetricRef, ValueSignal, Window } from '../../src/core/types';

/** The exceedance test's reads: PR(:max) with the first read, PR(:reference) in a second one. */

const T0 = Date.parse('2026-11-28T10:00:00Z');
const MIN = 60_000;
const WINDOW: Window = { start: T0, end: T0 + 5 * MIN };
const CONCURRENT: Window = { start: T0 + MIN, end: T0 + 5 * MIN };
const VERSIONS = { new: '7', old: '6' };
const metric = (stat: string): MetricRef => ({ namespace: 'AWS/Lambda', metricName: 'Duration', stat, dimensions: { FunctionName: 'orders', ExecutedVersion: '{version}' } });
const p99: ValueSignal = { kind: 'value', name: 'p99', value: metric('p99'), samples: metric('SampleCount'), unit: 'ms', minSamples: 50, baseline: { maxRatio: 1.5, minExcess: 100 } };
const layers = (s: ValueSignal): LayerSpec[] => [{ name: 'new-version', signals: [s] }];

const reading = (...values: number[]): MetricReading => ({ values });

describe('planReads: PR(:max)', () => {
  it.each([
    { name: 'a p99 with max reads PR(:max) of the new version over the whole window', spec: { ...p99, max: 800 }, want: [['new-version/p99#overmax#new', 'PR(:800)', '7']] },
    { name: 'a p99 without max reads no rank', spec: p99, want: [] },
    { name: 'an average with max reads no rank (no percentile to judge)', spec: { ...p99, value: metric('Average'), max: 800 }, want: [] },
  ])('$name', ({ spec, want }) => {
    const plan = planReads(layers(spec), VERSIONS, WINDOW, CONCURRENT);
    const ranks = plan.metrics.filter((q) => q.metric.stat.startsWith('PR')).map((q) => [q.key, q.metric.stat, q.metric.dimensions.ExecutedVersion]);
    expect(ranks).toEqual(want);
  });
});

describe('planExceedanceReads', () => {
  const first = (newSamples: number, oldSamples: number, oldP99: number | null) => ({
    'new-version/p99#value#new': reading(900),
    'new-version/p99#samples#new': reading(newSamples),
    'new-version/p99#value#old': oldP99 === null ? reading() : reading(oldP99),
    'new-version/p99#samples#old': reading(oldSamples),
    'new-version/p99#value#newb': reading(900),
    'new-version/p99#samples#newb': reading(newSamples),
  });
  it.each([
    { name: 'too few new-version samples: PR(:reference) over the concurrent window', readings: first(30, 270, 300), want: [['new-version/p99#overbase#newb', 'PR(:450)', CONCURRENT.start]] },
    { name: 'stable on both sides: the value comparison judges, no second read', readings: first(1200, 5400, 300), want: [] },
    { name: 'stable new version, too few old samples: the exceedance test judges', readings: first(1200, 400, 300), want: [['new-version/p99#overbase#newb', 'PR(:450)', CONCURRENT.start]] },
    { name: 'no old p99: nothing to take the reference from', readings: first(30, 0, null), want: [] },
    { name: 'no new-version samples: nothing to count', readings: first(0, 270, 300), want: [] },
  ])('$name', ({ readings, want }) => {
    const obs = toObservations(layers(p99), VERSIONS, WINDOW, readings, {}, CONCURRENT);
    const qs = planExceedanceReads(layers(p99), VERSIONS, obs, WINDOW, CONCURRENT);
    expect(qs.map((q) => [q.key, q.metric.stat, q.window.start])).toEqual(want);
    for (const q of qs) expect(q.metric.dimensions.ExecutedVersion).toBe('7');
  });

  it('reads nothing when the versions never served traffic together', () => {
    const obs = toObservations(layers(p99), VERSIONS, WINDOW, first(30, 270, 300), {}, null);
    expect(planExceedanceReads(layers(p99), VERSIONS, obs, WINDOW, null)).toEqual([]);
  });
});

describe('toObservations: counts above the reference', () => {
  const base = {
    'new-version/p99#value#new': reading(900),
    'new-version/p99#samples#new': reading(30),
    'new-version/p99#value#old': reading(300),
    'new-version/p99#samples#old': reading(270),
    'new-version/p99#value#newb': reading(900),
    'new-version/p99#samples#newb': reading(20, 10),
  };
  it.each([
    { name: 'pairs each period\'s rank with its sample count', over: reading(25, 50), want: { reference: 450, above: 15 + 5 } },
    { name: 'unpaired periods: the smallest share above for all', over: reading(25), want: { reference: 450, above: 30 * 0.75 } },
    { name: 'no datapoint: none above', over: reading(), want: { reference: 450, above: 0 } },
  ])('$name', ({ over, want }) => {
    const obs = toObservations(layers(p99), VERSIONS, WINDOW, { ...base, 'new-version/p99#overbase#newb': over }, {}, CONCURRENT)['new-version/p99'];
    expect(obs).toMatchObject({ kind: 'value', overBaseline: want });
  });

  it('reads PR(:max) into overMax', () => {
    const spec = { ...p99, max: 800 };
    const obs = toObservations(layers(spec), VERSIONS, WINDOW, { ...base, 'new-version/p99#overmax#new': reading(90) }, {}, CONCURRENT)['new-version/p99'];
    expect(obs).toMatchObject({ kind: 'value' });
    expect(obs.kind === 'value' && obs.overMax).toBeCloseTo(3, 9);
  });

  it.each<{ name: string; extra: Record<string, MetricReading>; error: string }>([
    { name: 'a failed PR(:max) read is unreadable', extra: { 'new-version/p99#overmax#new': { error: 'GetMetricData Forbidden' } }, error: 'GetMetricData Forbidden' },
    { name: 'a missing PR(:max) read is unreadable', extra: {}, error: 'metric PR(:800) (new version) was not read' },
  ])('$name', ({ extra, error }) => {
    const obs = toObservations(layers({ ...p99, max: 800 }), VERSIONS, WINDOW, { ...base, ...extra }, {}, CONCURRENT)['new-version/p99'];
    expect(obs).toEqual({ kind: 'unreadable', error });
  });

  it('a failed second read is unreadable', () => {
    const obs = toObservations(layers(p99), VERSIONS, WINDOW, { ...base, 'new-version/p99#overbase#newb': { error: 'Throttling' } }, {}, CONCURRENT)['new-version/p99'];
    expect(obs).toEqual({ kind: 'unreadable', error: 'Throttling' });
  });
});
