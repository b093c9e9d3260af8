/** The fast signal's time slices from the reads the watchdog keeps (core/observe.ts). */
import { parseTelemetryPoints, TELEMETRY_POINTS_MAX, telemetrySlices, withTelemetryPoint, type TelemetryPoint } from '../../src/core/observe';
import { telemetryStratifiedPValue } from '../../src/core/signals';
import { stratifiedWorseThanBaselinePValue } from '../../src/core/sequential';

const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;

describe('telemetrySlices', () => {
  it.each<[string, TelemetryPoint[], TelemetryPoint, { newTotal: number; newEvents: number; oldTotal: number; oldEvents: number }[]]>([
    ['no read kept: one slice, the counts so far', [], [T + MIN, 100, 2, 900, 9], [{ newTotal: 100, newEvents: 2, oldTotal: 900, oldEvents: 9 }]],
    [
      'the differences between consecutive reads',
      [[T + MIN, 100, 2, 900, 9]],
      [T + 3 * MIN, 500, 30, 1300, 13],
      [
        { newTotal: 100, newEvents: 2, oldTotal: 900, oldEvents: 9 },
        { newTotal: 400, newEvents: 28, oldTotal: 400, oldEvents: 4 },
      ],
    ],
    [
      'a count that falls (the probe record ahead of the extension) adds nothing until it passes its high: never taken twice',
      [[T + MIN, 100, 2, 900, 9], [T + 2 * MIN, 95, 2, 950, 9]],
      [T + 3 * MIN, 130, 3, 1000, 10],
      [
        { newTotal: 100, newEvents: 2, oldTotal: 900, oldEvents: 9 },
        { newTotal: 0, newEvents: 0, oldTotal: 50, oldEvents: 0 },
        { newTotal: 30, newEvents: 1, oldTotal: 50, oldEvents: 1 },
      ],
    ],
    ['a kept read later than this one (a concurrent run) is left out', [[T + 5 * MIN, 100, 2, 900, 9]], [T + 3 * MIN, 80, 1, 700, 7], [{ newTotal: 80, newEvents: 1, oldTotal: 700, oldEvents: 7 }]],
  ])('%s', (_, points, current, expected) => {
    const slices = telemetrySlices(points, current, T);
    expect(slices.map(({ start: _s, ...c }) => c)).toEqual(expected);
    // Together the slices hold the counts of the read, once each.
    expect(slices.reduce((n, s) => n + s.newTotal, 0)).toBeLessThanOrEqual(current[1]);
    expect(slices[0].start).toBe(T);
  });
});

describe('withTelemetryPoint', () => {
  it('keeps the first read of each minute (the nearest to a traffic step) and adds a later minute\'s', () => {
    const first: TelemetryPoint = [T + 10_000, 10, 0, 90, 1];
    expect(withTelemetryPoint([first], [T + 50_000, 20, 0, 180, 1])).toEqual([first]);
    expect(withTelemetryPoint([first], [T + MIN, 20, 0, 180, 1])).toEqual([first, [T + MIN, 20, 0, 180, 1]]);
  });

  it(`keeps at most ${TELEMETRY_POINTS_MAX} reads, merging the slices with the most alike traffic split and keeping each step's edge`, () => {
    // Three steps of a linear rollout (20, 40, 60 % to the new version), many reads in each.
    let points: TelemetryPoint[] = [];
    let cum = [0, 0, 0, 0];
    for (let m = 1; m <= 90; m++) {
      const w = m <= 30 ? 0.2 : m <= 60 ? 0.4 : 0.6;
      cum = [cum[0] + 3000 * w, cum[1], cum[2] + 3000 * (1 - w), cum[3]];
      points = withTelemetryPoint(points, [T + m * MIN, cum[0], cum[1], cum[2], cum[3]]);
    }
    expect(points).toHaveLength(TELEMETRY_POINTS_MAX);
    // The reads at the ends of the 20 % and 40 % steps are still there, and the latest read.
    expect(points.map((p) => p[0])).toEqual(expect.arrayContaining([T + 30 * MIN, T + 60 * MIN, T + 90 * MIN]));
  });
});

describe('parseTelemetryPoints', () => {
  it.each<[string, unknown, number]>([
    ['nothing stored', undefined, 0],
    ['not a list', { a: 1 }, 0],
    ['good points', [[T, 1, 0, 2, 0], [T + MIN, 2, 0, 4, 0]], 2],
    ['a point with a missing, negative or non-numeric count is dropped', [[T, 1, 0, 2], [T + MIN, -1, 0, 4, 0], [T + 2 * MIN, 'x', 0, 4, 0], [T + 3 * MIN, 2, 0, 4, 0]], 1],
    ['a point out of time order is dropped', [[T + MIN, 1, 0, 2, 0], [T, 2, 0, 4, 0]], 1],
  ])('%s', (_, stored, n) => {
    expect(parseTelemetryPoints(stored)).toHaveLength(n);
  });
});

describe('telemetryStratifiedPValue', () => {
  const regression = { newTotal: 1200, newEvents: 18, oldTotal: 4800, oldEvents: 24 };
  // Both versions fail alike, many failures: evidence against a worse new version.
  const shared = { newTotal: 4800, newEvents: 1032, oldTotal: 1200, oldEvents: 246 };

  it('remembers a regression the earlier reads showed when a slice of shared failures weighs against it (Ville: the running maximum)', () => {
    const slices = [regression, regression, regression, shared];
    expect(stratifiedWorseThanBaselinePValue(slices, 0.25)).toBe(1);
    expect(telemetryStratifiedPValue(slices, 0.25)).toBe(stratifiedWorseThanBaselinePValue(slices.slice(0, 3), 0.25));
    expect(telemetryStratifiedPValue(slices, 0.25)).toBeLessThan(0.001);
  });

  it('guard: gives no more than the stratified test at any read: equal rates stay far from rejection', () => {
    const alike = { newTotal: 1200, newEvents: 6, oldTotal: 4800, oldEvents: 24 };
    expect(telemetryStratifiedPValue([alike, alike, shared], 0.25)).toBe(1);
  });
});
