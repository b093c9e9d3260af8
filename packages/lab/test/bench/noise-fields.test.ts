import { seededRandom } from 'canary-watchdog/lib/core/random';
import { Scheduler } from '../../src/lab/kernel';
import type { Behaviour, LambdaLab } from '../../src/lab/lambda';
import { Traffic } from '../../src/lab/traffic';
import { parseScenario } from '../../src/rehearsal/scenario';

// The lab's user traffic on a fake Lambda: an alias splitting 50/50 between versions 1 and 2,
// each version's behaviour as given; what the traffic reports to Lambda is recorded.
function world(behaviours: Record<string, Behaviour>, seed = 1) {
  const scheduler = new Scheduler('virtual');
  const per: Record<string, { at: number; n: number; errors: number }[]> = { '1': [], '2': [] };
  const durations: Record<string, number[]> = { '1': [], '2': [] };
  const lambda = {
    getAlias: () => ({ functionVersion: '1', additional: { version: '2', weight: 0.5 } }),
    markTraffic: () => undefined,
    behaviourOf: (_f: string, v: string) => behaviours[v] ?? {},
    reservedConcurrency: () => undefined,
    firstTrafficAt: () => 0,
    noteInvocations: (_f: string, v: string, at: number, n: number, errors: number) => per[v].push({ at, n, errors }),
    recordMetrics: (_f: string, _a: string, v: string, _at: number, calls: readonly { durationMs: number }[]) => durations[v].push(...calls.map((c) => c.durationMs)),
    hasUrl: () => false,
    noiseOf: () => ({}),
  } as unknown as LambdaLab;
  const traffic = new Traffic(scheduler, lambda, seededRandom(seed));
  return { scheduler, traffic, per, durations };
}
const sum = (xs: { n: number; errors: number }[]) => xs.reduce((a, x) => ({ n: a.n + x.n, errors: a.errors + x.errors }), { n: 0, errors: 0 });

describe('bursty errors (`traffic.errorBurstiness`)', () => {
  // Per 10-second window, the share of failed requests across both versions.
  const windows = (per: Record<string, { at: number; n: number; errors: number }[]>) => {
    const m = new Map<number, { n: number; errors: number }>();
    for (const x of [...per['1'], ...per['2']]) {
      const k = Math.floor((x.at - 1) / 10_000);
      const c = m.get(k) ?? { n: 0, errors: 0 };
      m.set(k, { n: c.n + x.n, errors: c.errors + x.errors });
    }
    return [...m.values()];
  };
  const variance = (xs: number[]) => {
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    return xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  };

  it('keeps the mean error rate and clusters failures in time, in both versions at once', async () => {
    const steady = world({ '1': { errorRate: 0.02 }, '2': { errorRate: 0.02 } });
    const bursty = world({ '1': { errorRate: 0.02 }, '2': { errorRate: 0.02 } });
    steady.traffic.set('f', 'live', 100);
    bursty.traffic.set('f', 'live', 100, 0, 1.5);
    await steady.scheduler.advance(3_600_000);
    await bursty.scheduler.advance(3_600_000);
    const all = sum([...bursty.per['1'], ...bursty.per['2']]);
    expect(Math.abs(all.errors / all.n - 0.02)).toBeLessThan(0.004);
    const rates = (w: typeof steady) => windows(w.per).map((x) => x.errors / x.n);
    // Binomial noise alone: 0.02 x 0.98 / 1000 = 2e-5 per window; bursts multiply it many times.
    expect(variance(rates(steady))).toBeLessThan(4e-5);
    expect(variance(rates(bursty))).toBeGreaterThan(10 * variance(rates(steady)));
    // Both versions burst together: their per-window rates move together.
    const byVersion = (v: string) => {
      const m = new Map<number, { n: number; errors: number }>();
      for (const x of bursty.per[v]) {
        const k = Math.floor((x.at - 1) / 10_000);
        const c = m.get(k) ?? { n: 0, errors: 0 };
        m.set(k, { n: c.n + x.n, errors: c.errors + x.errors });
      }
      return [...m.values()].map((x) => x.errors / Math.max(1, x.n));
    };
    const a = byVersion('1');
    const b = byVersion('2');
    const ma = a.reduce((s, x) => s + x, 0) / a.length;
    const mb = b.reduce((s, x) => s + x, 0) / b.length;
    const cov = a.reduce((s, x, i) => s + (x - ma) * (b[i] - mb), 0) / a.length;
    expect(cov / Math.sqrt(variance(a) * variance(b))).toBeGreaterThan(0.5);
  });
});

describe('without bursty errors', () => {
  it('draws exactly as before the field existed (the guard)', async () => {
    const a = world({ '1': { errorRate: 0.05 }, '2': { errorRate: 0.05 } }, 7);
    const b = world({ '1': { errorRate: 0.05 }, '2': { errorRate: 0.05 } }, 7);
    a.traffic.set('f', 'live', 20);
    b.traffic.set('f', 'live', 20, 0, 0);
    await a.scheduler.advance(120_000);
    await b.scheduler.advance(120_000);
    expect(b.per).toEqual(a.per);
    expect(sum(a.per['1']).errors).toBeGreaterThan(0);
  });
});

describe('the scenario fields', () => {
  const base = { name: 'x', expect: { outcome: 'completed' } };

  it('reads bursty errors, and leaves them out when not given', () => {
    expect(parseScenario({ ...base, traffic: { errorBurstiness: 1.5 } }, 'x.yaml')).toMatchObject({ traffic: { errorBurstiness: 1.5 } });
    expect(parseScenario(base, 'x.yaml').traffic).not.toHaveProperty('errorBurstiness');
  });

  it.each([
    ['a negative error burstiness', { traffic: { errorBurstiness: -1 } }, 'x.yaml.traffic.errorBurstiness'],
    ['an error burstiness above 3', { traffic: { errorBurstiness: 4 } }, 'x.yaml.traffic.errorBurstiness'],
  ])('refuses %s, naming the field', (_n, extra, field) => {
    expect(() => parseScenario({ ...base, ...extra }, 'x.yaml')).toThrow(field);
  });
});
