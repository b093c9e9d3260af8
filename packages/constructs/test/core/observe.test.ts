import { concurrentWindow, deploymentWindow, planReads, resolveMetric, toObservations, type AlarmReading, type MetricReading } from '../../src/core/observe';
import type { LayerSpec, MetricRef, Observation, SignalSpec, Window } from '../../src/core/types';

const T0 = Date.parse('2026-11-28T10:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;

const metric = (metricName: string, stat = 'Sum'): MetricRef => ({
  namespace: 'AWS/Lambda',
  metricName,
  stat,
  dimensions: { FunctionName: 'orders', Resource: 'orders:live', ExecutedVersion: '{version}' },
});

const errors: SignalSpec = {
  kind: 'rate',
  name: 'errors',
  events: metric('Errors'),
  total: metric('Invocations'),
  maxRate: 0.05,
  minSamples: 20,
  alpha: 0.001,
  baseline: { tolerance: 0.25, alpha: 0.001 },
};
const throttles: SignalSpec = {
  kind: 'rate',
  name: 'throttles',
  events: metric('Throttles'),
  total: metric('Invocations'),
  addEventsToTotal: true,
  maxRate: 0.05,
  minSamples: 20,
  alpha: 0.001,
};
const p99: SignalSpec = {
  kind: 'value',
  name: 'p99-duration',
  value: metric('Duration', 'p99'),
  samples: metric('Duration', 'SampleCount'),
  unit: 'ms',
  minSamples: 50,
  baseline: { maxRatio: 1.5, minExcess: 100 },
};
const p99NoBaseline: SignalSpec = { kind: 'value', name: 'p99-duration', value: metric('Duration', 'p99'), samples: metric('Duration', 'SampleCount'), unit: 'ms', minSamples: 50 };
const alarm = (alarmName: string): SignalSpec => ({ kind: 'alarm', name: `alarm:${alarmName}`, alarmName });

const WINDOW: Window = { start: T0, end: T0 + 5 * MIN };
const VERSIONS = { new: '7', old: '6' };

describe('deploymentWindow', () => {
  it.each<{ name: string; createdAt: number; now: number; expected: Window }>([
    { name: 'starts at the minute the deployment was created', createdAt: T0 + 3 * MIN + 27 * SEC, now: T0 + 10 * MIN, expected: { start: T0 + 3 * MIN, end: T0 + 10 * MIN } },
    { name: 'keeps a start already on the minute', createdAt: T0, now: T0 + 90 * SEC, expected: { start: T0, end: T0 + 90 * SEC } },
    { name: 'lasts at least one minute right after creation', createdAt: T0 + 59 * SEC, now: T0 + 59 * SEC, expected: { start: T0, end: T0 + MIN } },
    { name: 'lasts at least one minute when the clock lags the creation time', createdAt: T0 + 30 * SEC, now: T0 + 10 * SEC, expected: { start: T0, end: T0 + MIN } },
  ])('$name', ({ createdAt, now, expected }) => {
    expect(deploymentWindow(createdAt, now)).toEqual(expected);
  });
});

describe('resolveMetric', () => {
  it.each<{ name: string; dimensions: Record<string, string>; expected: Record<string, string> }>([
    { name: 'replaces a {version} dimension with the version', dimensions: { ExecutedVersion: '{version}' }, expected: { ExecutedVersion: '12' } },
    { name: 'replaces {version} inside a longer value', dimensions: { Resource: 'orders:{version}' }, expected: { Resource: 'orders:12' } },
    { name: 'leaves other dimensions alone', dimensions: { FunctionName: 'orders', Resource: 'orders:live' }, expected: { FunctionName: 'orders', Resource: 'orders:live' } },
  ])('$name', ({ dimensions, expected }) => {
    const m: MetricRef = { namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum', dimensions };
    expect(resolveMetric(m, '12')).toEqual({ ...m, dimensions: expected });
    expect(m.dimensions).toEqual(dimensions);
  });
});

describe('planReads', () => {
  it.each<{ name: string; layers: LayerSpec[]; keys: string[]; alarmNames: string[] }>([
    {
      name: 'reads events and total of both versions for a rate with a baseline',
      layers: [{ name: 'new-version', signals: [errors] }],
      keys: ['new-version/errors#events#new', 'new-version/errors#total#new', 'new-version/errors#events#old', 'new-version/errors#total#old'],
      alarmNames: [],
    },
    {
      name: 'reads only the new version for a rate without a baseline',
      layers: [{ name: 'new-version', signals: [throttles] }],
      keys: ['new-version/throttles#events#new', 'new-version/throttles#total#new'],
      alarmNames: [],
    },
    {
      name: 'reads value and samples of both versions for a value with a baseline',
      layers: [{ name: 'new-version', signals: [p99] }],
      keys: ['new-version/p99-duration#value#new', 'new-version/p99-duration#samples#new', 'new-version/p99-duration#value#old', 'new-version/p99-duration#samples#old'],
      alarmNames: [],
    },
    {
      name: 'reads only the new version for a value without a baseline',
      layers: [{ name: 'new-version', signals: [p99NoBaseline] }],
      keys: ['new-version/p99-duration#value#new', 'new-version/p99-duration#samples#new'],
      alarmNames: [],
    },
    {
      name: 'reads alarms by name, once each, without metric queries',
      layers: [
        { name: 'service', signals: [alarm('orders-5xx'), alarm('orders-latency')] },
        { name: 'downstream', signals: [alarm('orders-5xx')] },
      ],
      keys: [],
      alarmNames: ['orders-5xx', 'orders-latency'],
    },
    {
      name: 'reads a version-scoped alarm by the new version’s name, never the old version’s',
      layers: [{ name: 'new-version', signals: [alarm('orders-error-rate-v{version}'), alarm('orders-p99-v{version}-ms')] }],
      keys: [],
      alarmNames: ['orders-error-rate-v7', 'orders-p99-v7-ms'],
    },
    {
      name: 'keys the same signal name apart by layer',
      layers: [
        { name: 'new-version', signals: [throttles] },
        { name: 'downstream', signals: [throttles] },
      ],
      keys: ['new-version/throttles#events#new', 'new-version/throttles#total#new', 'downstream/throttles#events#new', 'downstream/throttles#total#new'],
      alarmNames: [],
    },
    { name: 'reads nothing for empty layers', layers: [{ name: 'config', signals: [] }], keys: [], alarmNames: [] },
  ])('$name', ({ layers, keys, alarmNames }) => {
    const plan = planReads(layers, VERSIONS, WINDOW);
    expect(plan.metrics.map((q) => q.key)).toEqual(keys);
    expect(plan.alarmNames).toEqual(alarmNames);
  });

  it.each<{ name: string; key: string; metricName: string; stat: string; version: string }>([
    { name: 'reads the new version’s events from its ExecutedVersion', key: 'new-version/errors#events#new', metricName: 'Errors', stat: 'Sum', version: '7' },
    { name: 'reads the old version’s total from its ExecutedVersion', key: 'new-version/errors#total#old', metricName: 'Invocations', stat: 'Sum', version: '6' },
    { name: 'reads the new version’s percentile with its statistic', key: 'new-version/p99-duration#value#new', metricName: 'Duration', stat: 'p99', version: '7' },
    { name: 'reads the old version’s sample count', key: 'new-version/p99-duration#samples#old', metricName: 'Duration', stat: 'SampleCount', version: '6' },
  ])('$name', ({ key, metricName, stat, version }) => {
    const plan = planReads([{ name: 'new-version', signals: [errors, p99] }], VERSIONS, WINDOW);
    expect(plan.metrics.find((q) => q.key === key)?.metric).toEqual({
      namespace: 'AWS/Lambda',
      metricName,
      stat,
      dimensions: { FunctionName: 'orders', Resource: 'orders:live', ExecutedVersion: version },
    });
  });

  it.each<{ name: string; window: Window; periodSeconds: number }>([
    { name: 'uses 60 s for a window shorter than a minute', window: { start: T0, end: T0 + 30 * SEC }, periodSeconds: 60 },
    { name: 'uses 60 s for a window of exactly a minute', window: { start: T0, end: T0 + MIN }, periodSeconds: 60 },
    { name: 'rounds a window a second over a minute up to 120 s', window: { start: T0, end: T0 + MIN + SEC }, periodSeconds: 120 },
    { name: 'uses 600 s for a ten-minute window', window: { start: T0, end: T0 + 10 * MIN }, periodSeconds: 600 },
    { name: 'rounds a window of 12 min 30 s up to 780 s', window: { start: T0, end: T0 + 12 * MIN + 30 * SEC }, periodSeconds: 780 },
    { name: 'uses 60 s for an empty window', window: { start: T0, end: T0 }, periodSeconds: 60 },
  ])('$name', ({ window, periodSeconds }) => {
    const plan = planReads([{ name: 'new-version', signals: [errors, p99, throttles] }], VERSIONS, window);
    // A percentile, and a rate not compared with the old version: one period spanning the window.
    const spanning = plan.metrics.filter((q) => !q.key.startsWith('new-version/errors#'));
    expect(new Set(spanning.map((q) => q.periodSeconds))).toEqual(new Set([periodSeconds]));
    // A rate compared with the old version: per minute, both versions, for the minute-by-minute comparison.
    const compared = plan.metrics.filter((q) => q.key.startsWith('new-version/errors#'));
    expect(compared.map((q) => q.periodSeconds)).toEqual([60, 60, 60, 60]);
    expect(plan.metrics.every((q) => q.window === window)).toBe(true);
  });
});

describe('toObservations', () => {
  const values = (...vs: number[]): MetricReading => ({ values: vs });
  const since = T0 - 30 * MIN;

  it.each<{
    name: string;
    signal: SignalSpec;
    metrics?: Record<string, MetricReading>;
    alarms?: Record<string, AlarmReading>;
    expected: Observation;
  }>([
    {
      name: 'sums the datapoints of each version into counts',
      signal: errors,
      metrics: {
        'l/errors#events#new': values(1, 2),
        'l/errors#total#new': values(100, 150, 50),
        'l/errors#events#old': values(9),
        'l/errors#total#old': values(1800),
      },
      expected: { kind: 'counts', new: { events: 3, total: 300 }, old: { events: 9, total: 1800 }, window: WINDOW },
    },
    {
      name: 'counts zero when a metric has no datapoints',
      signal: errors,
      metrics: { 'l/errors#events#new': values(), 'l/errors#total#new': values(), 'l/errors#events#old': values(), 'l/errors#total#old': values(40) },
      expected: { kind: 'counts', new: { events: 0, total: 0 }, old: { events: 0, total: 40 }, window: WINDOW },
    },
    {
      name: 'adds the events to the total when the total excludes them',
      signal: throttles,
      metrics: { 'l/throttles#events#new': values(5, 5), 'l/throttles#total#new': values(90) },
      expected: { kind: 'counts', new: { events: 10, total: 100 }, window: WINDOW },
    },
    {
      name: 'takes the largest of several percentile datapoints and sums the samples',
      signal: p99,
      metrics: {
        'l/p99-duration#value#new': values(180, 320, 240),
        'l/p99-duration#samples#new': values(100, 200, 300),
        'l/p99-duration#value#old': values(150),
        'l/p99-duration#samples#old': values(5000),
      },
      expected: { kind: 'value', new: { value: 320, samples: 600 }, old: { value: 150, samples: 5000 }, window: WINDOW },
    },
    {
      name: 'reports no value when a percentile has no datapoints',
      signal: p99NoBaseline,
      metrics: { 'l/p99-duration#value#new': values(), 'l/p99-duration#samples#new': values() },
      expected: { kind: 'value', new: { value: null, samples: 0 }, window: WINDOW },
    },
    {
      name: 'makes a signal unreadable when one of its metrics failed to read',
      signal: errors,
      metrics: {
        'l/errors#events#new': values(1),
        'l/errors#total#new': values(100),
        'l/errors#events#old': { error: 'Throttling: Rate exceeded' },
        'l/errors#total#old': values(900),
      },
      expected: { kind: 'unreadable', error: 'Throttling: Rate exceeded' },
    },
    {
      name: 'reports the first error when several metrics failed',
      signal: errors,
      metrics: {
        'l/errors#events#new': values(1),
        'l/errors#total#new': { error: 'first' },
        'l/errors#events#old': { error: 'second' },
        'l/errors#total#old': values(900),
      },
      expected: { kind: 'unreadable', error: 'first' },
    },
    {
      name: 'makes a signal unreadable when a metric was not read at all',
      signal: errors,
      metrics: { 'l/errors#events#new': values(1), 'l/errors#total#new': values(100), 'l/errors#events#old': values(0) },
      expected: { kind: 'unreadable', error: 'metric total (old version) was not read' },
    },
    {
      name: 'makes a value signal unreadable when its samples were not read',
      signal: p99NoBaseline,
      metrics: { 'l/p99-duration#value#new': values(200) },
      expected: { kind: 'unreadable', error: 'metric samples (new version) was not read' },
    },
    {
      name: 'does not need the old version of a signal without a baseline',
      signal: throttles,
      metrics: { 'l/throttles#events#new': values(0), 'l/throttles#total#new': values(50), 'l/throttles#events#old': { error: 'ignored' } },
      expected: { kind: 'counts', new: { events: 0, total: 50 }, window: WINDOW },
    },
    {
      name: 'passes an alarm’s state, reason and time on',
      signal: alarm('orders-5xx'),
      alarms: { 'orders-5xx': { state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [7.0] > 5.0', since } },
      expected: { kind: 'alarm', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [7.0] > 5.0', since },
    },
    {
      name: 'passes an alarm with insufficient data on as it is',
      signal: alarm('orders-5xx'),
      alarms: { 'orders-5xx': { state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', since } },
      expected: { kind: 'alarm', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', since },
    },
    {
      name: 'makes an alarm unreadable when reading it failed',
      signal: alarm('orders-5xx'),
      alarms: { 'orders-5xx': { error: 'AccessDenied: cloudwatch:DescribeAlarms' } },
      expected: { kind: 'unreadable', error: 'AccessDenied: cloudwatch:DescribeAlarms' },
    },
    {
      name: 'reads a version-scoped alarm by the name of the new version’s alarm',
      signal: alarm('orders-error-rate-v{version}'),
      alarms: { 'orders-error-rate-v6': { state: 'ALARM', reason: 'the old version', since }, 'orders-error-rate-v7': { state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', since } },
      expected: { kind: 'alarm', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', since },
    },
    {
      name: 'makes a version-scoped alarm unreadable, naming the new version’s alarm, when only the old version’s was read',
      signal: alarm('orders-error-rate-v{version}'),
      alarms: { 'orders-error-rate-v6': { state: 'ALARM', reason: 'the old version', since } },
      expected: { kind: 'unreadable', error: 'alarm orders-error-rate-v7 was not read' },
    },
    {
      name: 'makes an alarm unreadable when it was not read',
      signal: alarm('orders-5xx'),
      alarms: { 'orders-latency': { state: 'OK', reason: 'fine', since } },
      expected: { kind: 'unreadable', error: 'alarm orders-5xx was not read' },
    },
  ])('$name', ({ signal, metrics, alarms, expected }) => {
    const layers: LayerSpec[] = [{ name: 'l', signals: [signal] }];
    expect(toObservations(layers, VERSIONS, WINDOW, metrics ?? {}, alarms ?? {})).toEqual({ [`l/${signal.name}`]: expected });
  });

  it('reads back what planReads asked for, for every signal of every layer', () => {
    const layers: LayerSpec[] = [
      { name: 'new-version', signals: [errors, throttles, p99] },
      { name: 'service', signals: [alarm('orders-5xx')] },
      { name: 'downstream', signals: [alarm('orders-5xx')] },
    ];
    const plan = planReads(layers, VERSIONS, WINDOW);
    const metrics = Object.fromEntries(plan.metrics.map((q) => [q.key, values(q.metric.dimensions.ExecutedVersion === '7' ? 1 : 2)]));
    const alarms = Object.fromEntries(plan.alarmNames.map((n) => [n, { state: 'OK' as const, reason: 'fine', since }]));
    const ok: Observation = { kind: 'alarm', state: 'OK', reason: 'fine', since };
    expect(toObservations(layers, VERSIONS, WINDOW, metrics, alarms)).toEqual({
      'new-version/errors': { kind: 'counts', new: { events: 1, total: 1 }, old: { events: 2, total: 2 }, window: WINDOW },
      'new-version/throttles': { kind: 'counts', new: { events: 1, total: 2 }, window: WINDOW },
      'new-version/p99-duration': { kind: 'value', new: { value: 1, samples: 1 }, old: { value: 2, samples: 2 }, window: WINDOW },
      'service/alarm:orders-5xx': ok,
      'downstream/alarm:orders-5xx': ok,
    });
  });
});

describe('concurrentWindow', () => {
  const canary = { type: 'canary', percent: 10, intervalMinutes: 10 } as const;
  const snap = (over: Partial<Parameters<typeof concurrentWindow>[0]> = {}) => ({
    createdAt: T0,
    trafficShiftStartedAt: T0 + MIN + 20 * SEC,
    rollout: canary,
    newVersionWeight: 0.1,
    ...over,
  });
  it.each<{ name: string; over?: Partial<Parameters<typeof concurrentWindow>[0]>; now: number; expected: Window | null }>([
    { name: 'runs from the minute shifting began to now during the canary', now: T0 + 6 * MIN, expected: { start: T0 + MIN, end: T0 + 6 * MIN } },
    { name: 'ends at the final shift once it has happened', over: { newVersionWeight: 1 }, now: T0 + 40 * MIN, expected: { start: T0 + MIN, end: T0 + 11 * MIN + 20 * SEC } },
    { name: 'is none before shifting began', over: { trafficShiftStartedAt: undefined, newVersionWeight: 0 }, now: T0 + MIN, expected: null },
    { name: 'assumes shifting began at creation when only the weight says so', over: { trafficShiftStartedAt: undefined }, now: T0 + 3 * MIN, expected: { start: T0, end: T0 + 3 * MIN } },
    { name: 'is none for an all-at-once rollout', over: { rollout: { type: 'all-at-once' } }, now: T0 + 5 * MIN, expected: null },
    { name: 'lasts at least a minute', now: T0 + MIN + 30 * SEC, expected: { start: T0 + MIN, end: T0 + 2 * MIN } },
  ])('$name', ({ over, now, expected }) => {
    expect(concurrentWindow(snap(over), now)).toEqual(expected);
  });
});

describe('reads for the concurrent comparison and fresh evidence', () => {
  const CONCURRENT: Window = { start: T0 + MIN, end: T0 + 3 * MIN };
  const freshProbes: SignalSpec = { ...(errors as Extract<SignalSpec, { kind: 'rate' }>), name: 'probe-failures', freshMinutes: 3 };
  const layers: LayerSpec[] = [{ name: 'l', signals: [errors, p99, freshProbes] }];

  it('reads both versions over the concurrent window, the new one also over the whole window, and the fresh minutes', () => {
    const plan = planReads(layers, VERSIONS, WINDOW, CONCURRENT);
    const windows = Object.fromEntries(plan.metrics.map((q) => [q.key, [q.window, q.metric.dimensions.ExecutedVersion, q.periodSeconds]]));
    expect(windows['l/errors#events#new']).toEqual([WINDOW, '7', 300]);
    // The comparison's two sides per minute; the new version's whole window still in one period.
    expect(windows['l/errors#events#old']).toEqual([CONCURRENT, '6', 60]);
    expect(windows['l/errors#events#newb']).toEqual([CONCURRENT, '7', 60]);
    expect(windows['l/p99-duration#value#newb']).toEqual([CONCURRENT, '7', 120]);
    expect(windows['l/probe-failures#total#fresh']).toEqual([{ start: T0 + 2 * MIN, end: T0 + 5 * MIN }, '7', 180]);
    expect(plan.metrics).toHaveLength(20);
  });

  it('reads no old version when the versions never served traffic together', () => {
    const plan = planReads(layers, VERSIONS, WINDOW, null);
    expect(plan.metrics.some((q) => q.key.endsWith('#old') || q.key.endsWith('#newb'))).toBe(false);
    const metrics = Object.fromEntries(plan.metrics.map((q) => [q.key, { values: [1] }]));
    const got = toObservations(layers, VERSIONS, WINDOW, metrics, {}, null);
    expect(got['l/errors']).toEqual({ kind: 'counts', new: { events: 1, total: 1 }, window: WINDOW });
  });

  it('turns the extra reads into the comparison counts and the fresh counts', () => {
    const plan = planReads(layers, VERSIONS, WINDOW, CONCURRENT);
    const metrics = Object.fromEntries(plan.metrics.map((q) => [q.key, { values: [q.key.endsWith('#fresh') ? 4 : q.key.endsWith('#newb') ? 3 : q.metric.dimensions.ExecutedVersion === '7' ? 1 : 2] }]));
    const got = toObservations(layers, VERSIONS, WINDOW, metrics, {}, CONCURRENT);
    expect(got['l/errors']).toEqual({
      kind: 'counts', new: { events: 1, total: 1 }, old: { events: 2, total: 2 }, baselineNew: { events: 3, total: 3 }, baselineWindow: CONCURRENT, window: WINDOW,
    });
    expect(got['l/p99-duration']).toEqual({
      kind: 'value', new: { value: 1, samples: 1 }, old: { value: 2, samples: 2 }, baselineNew: { value: 3, samples: 3 }, baselineWindow: CONCURRENT, window: WINDOW,
    });
    expect(got['l/probe-failures']).toMatchObject({ fresh: { events: 4, total: 4 }, freshWindow: { start: T0 + 2 * MIN, end: T0 + 5 * MIN } });
  });
  it('pairs both versions minute by minute from the periods\' timestamps; a minute one side lacks counted nothing there', () => {
    const plan = planReads([{ name: 'l', signals: [errors] }], VERSIONS, WINDOW, CONCURRENT);
    const M1 = CONCURRENT.start;
    const M2 = M1 + MIN;
    const readings: Record<string, MetricReading> = {
      'l/errors#events#new': { values: [9], timestamps: [T0] },
      'l/errors#total#new': { values: [900], timestamps: [T0] },
      // Newest first, as GetMetricData answers by default.
      'l/errors#events#newb': { values: [4, 1], timestamps: [M2, M1] },
      'l/errors#total#newb': { values: [80, 20], timestamps: [M2, M1] },
      'l/errors#events#old': { values: [3], timestamps: [M2] },
      'l/errors#total#old': { values: [20, 80], timestamps: [M2, M1] },
    };
    expect(plan.metrics.map((q) => q.key).sort()).toEqual(Object.keys(readings).sort());
    const got = toObservations([{ name: 'l', signals: [errors] }], VERSIONS, WINDOW, readings, {}, CONCURRENT);
    expect(got['l/errors']).toMatchObject({
      old: { events: 3, total: 100 },
      baselineNew: { events: 5, total: 100 },
      slices: [
        { start: M1, newEvents: 1, newTotal: 20, oldEvents: 0, oldTotal: 80 },
        { start: M2, newEvents: 4, newTotal: 80, oldEvents: 3, oldTotal: 20 },
      ],
    });
  });

  it('adds events to totals per minute where the signal says so, and pools when a reading has no timestamps', () => {
    const compared: SignalSpec = { ...(throttles as Extract<SignalSpec, { kind: 'rate' }>), baseline: { tolerance: 0.25, alpha: 0.001 } };
    const plan = planReads([{ name: 'l', signals: [compared] }], VERSIONS, WINDOW);
    const stamped = Object.fromEntries(plan.metrics.map((q) => [q.key, { values: [q.key.includes('#events#') ? 1 : 10], timestamps: [T0] }]));
    const got = toObservations([{ name: 'l', signals: [compared] }], VERSIONS, WINDOW, stamped, {});
    expect(got['l/throttles']).toMatchObject({ slices: [{ start: T0, newEvents: 1, newTotal: 11, oldEvents: 1, oldTotal: 11 }] });
    const bare = Object.fromEntries(plan.metrics.map((q) => [q.key, { values: [q.key.includes('#events#') ? 1 : 10] }]));
    const pooled = toObservations([{ name: 'l', signals: [compared] }], VERSIONS, WINDOW, bare, {});
    expect(pooled['l/throttles']).toEqual({ kind: 'counts', new: { events: 1, total: 11 }, old: { events: 1, total: 11 }, window: WINDOW });
  });
});
