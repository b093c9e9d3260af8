import { DEFAULT_POLICY, deriveStage, evaluate, STATE_LAYER } from '../../src/core/evaluate';
import { PreexistingAlarms, type Observation, type Policy, type Stage } from '../../src/core/types';
import { alarm, counts, LAYERS, MIN, obs, snapshot, state, T0, unreadable } from './fixtures';

const NOW = T0 + 5 * MIN;
const lowTraffic = counts(0, 5, 2, 45);

interface Row {
  name: string;
  over?: Record<string, Observation>;
  snap?: Parameters<typeof snapshot>[0];
  policy?: Partial<Policy>;
  now?: number;
  action: 'proceed' | 'rollback';
  layer: string | null;
  stage?: Stage;
  reason?: RegExp;
  /** At bake-end: why the bake is not ended yet (undefined: it may end now). */
  deferred?: RegExp;
  layerOutcome?: [string, string];
}

const BAKE = { newVersionWeight: 1, bake: { until: T0 + 20 * MIN, startedAt: T0 + 11 * MIN } };
/** The probes layer of a prober that stopped: plenty of samples since the deployment began, none lately. */
const staleProbes: Observation = { ...(counts(0, 60, 0, 60) as Extract<Observation, { kind: 'counts' }>), fresh: { events: 0, total: 0 } };
/** Errors read after a bake: `newEvents` of 4,000 overall; in the canary's minutes, 3 of 600 against the old version's 27 of 5,400. */
const afterBake = (newEvents: number): Observation => ({
  kind: 'counts',
  new: { events: newEvents, total: 4000 },
  old: { events: 27, total: 5400 },
  baselineNew: { events: 3, total: 600 },
  window: { start: T0, end: T0 + 40 * MIN },
  baselineWindow: { start: T0 + MIN, end: T0 + 11 * MIN },
});
const throttles = (newE: number, newT: number, oldE: number, oldT: number) => ({ 'new-version/throttles': counts(newE, newT, oldE, oldT) });

const rows: Row[] = [
  { name: 'proceeds when every layer is healthy', action: 'proceed', layer: null, stage: 'shifting', reason: /healthy: config, probes, new-version, service, downstream/ },
  {
    name: "rolls back when the new version's error rate is significantly above the absolute threshold",
    over: { 'new-version/errors': counts(60, 600, 30, 5400) },
    action: 'rollback',
    layer: 'new-version',
    reason: /new-version\/errors failed: 60 of 600 \(10.00 %\); above 5.00 %/,
  },
  {
    // Both versions fail alike while both serve traffic (a dependency down): not the release's.
    name: 'does not blame the release for an outage both versions meet, above the absolute threshold',
    over: { 'new-version/errors': counts(60, 600, 600, 5400) },
    action: 'proceed',
    layer: null,
  },
  {
    name: "rolls back when the new version's error rate exceeds the old one's though below the absolute threshold",
    over: { 'new-version/errors': counts(18, 600, 27, 5400) },
    action: 'rollback',
    layer: 'new-version',
    reason: /worse than the old version by more than 25 %/,
  },
  {
    name: "does not blame the release for the old version's errors",
    over: { 'new-version/errors': counts(2, 600, 540, 5400) },
    action: 'proceed',
    layer: null,
  },
  {
    name: 'proceeds on insufficient new-version traffic while shifting, marking the layer insufficient',
    over: { 'new-version/errors': lowTraffic, 'new-version/throttles': lowTraffic },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'insufficient'],
    reason: /insufficient evidence, accepted at this stage: new-version/,
  },
  {
    name: 'proceeds on insufficient probe evidence early in the canary',
    over: { 'probes/probe-failures': counts(0, 1, 0, 1) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['probes', 'insufficient'],
  },
  {
    name: 'rolls back before the final shift on insufficient probe evidence',
    over: { 'probes/probe-failures': counts(0, 1, 0, 1) },
    now: T0 + 10 * MIN,
    action: 'rollback',
    layer: 'probes',
    stage: 'final-shift',
    reason: /insufficient evidence from probes at stage final-shift/,
  },
  {
    name: 'rolls back before the final shift when the probes layer cannot be read, even once',
    over: { 'probes/probe-failures': unreadable },
    now: T0 + 10 * MIN,
    action: 'rollback',
    layer: 'probes',
    stage: 'final-shift',
    reason: /no evidence from probes at stage final-shift, which requires it: unreadable/,
  },
  {
    name: 'lets the final shift happen on insufficient new-version evidence when probes are healthy',
    over: { 'new-version/errors': lowTraffic },
    now: T0 + 10 * MIN,
    action: 'proceed',
    layer: null,
    stage: 'final-shift',
  },
  {
    name: 'rolls back when probes of the new version fail',
    over: { 'probes/probe-failures': counts(6, 6, 0, 6) },
    action: 'rollback',
    layer: 'probes',
  },
  {
    name: 'names the first failed layer in order when several fail',
    over: { 'config/config-checks': counts(1, 1), 'service/alarm:orders-5xx': alarm('ALARM'), 'probes/probe-failures': counts(6, 6, 0, 6) },
    action: 'rollback',
    layer: 'config',
  },
  {
    name: 'rolls back when a service alarm enters ALARM during the deployment',
    over: { 'service/alarm:orders-5xx': alarm('ALARM') },
    action: 'rollback',
    layer: 'service',
    reason: /alarm orders-5xx is in ALARM/,
  },
  {
    name: 'does not attribute an alarm that was in ALARM before the deployment began',
    over: { 'service/alarm:orders-5xx': alarm('ALARM', T0 - 30 * MIN) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['service', 'insufficient'],
  },
  {
    name: 'rolls back on a pre-existing ALARM when the policy says so',
    over: { 'service/alarm:orders-5xx': alarm('ALARM', T0 - 30 * MIN) },
    policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK },
    action: 'rollback',
    layer: 'service',
  },
  // Attribution: a fix shipped during an incident (the old version fails 30 %, the new one 0.33 %).
  {
    name: 'does not roll back on a service alarm when the new version is significantly better than the old one, and says why',
    over: { 'service/alarm:orders-5xx': alarm('ALARM'), 'new-version/errors': counts(2, 600, 1620, 5400) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['service', 'insufficient'],
    reason: /not attributed to the release: service\/alarm:orders-5xx in ALARM while the new version's errors 0.33 % of 600 is significantly below the old version's 30.00 % of 5400/,
  },
  {
    name: "does not roll back on a custom layer's alarm either when the new version is significantly better",
    over: { 'downstream/alarm:payments-latency': alarm('ALARM'), 'new-version/errors': counts(2, 600, 1620, 5400) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['downstream', 'insufficient'],
  },
  {
    name: 'also on a pre-existing ALARM under the rollback policy, once the new version is significantly better',
    over: { 'service/alarm:orders-5xx': alarm('ALARM', T0 - 30 * MIN), 'new-version/errors': counts(2, 600, 1620, 5400) },
    policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK },
    action: 'proceed',
    layer: null,
  },
  {
    name: 'still rolls back on a service alarm when the new version is no better than the old one (both fail alike)',
    over: { 'service/alarm:orders-5xx': alarm('ALARM'), 'new-version/errors': counts(180, 600, 1620, 5400) },
    action: 'rollback',
    layer: 'service',
    reason: /alarm orders-5xx is in ALARM/,
  },
  {
    name: 'still rolls back on a service alarm when only fewer throttles set the new version apart (not its failed requests)',
    over: { 'service/alarm:orders-5xx': alarm('ALARM'), ...throttles(2, 600, 1620, 5400) },
    action: 'rollback',
    layer: 'service',
  },
  {
    name: 'still rolls back on a service alarm when the version-scoped evidence is missing (too few samples to compare)',
    over: { 'service/alarm:orders-5xx': alarm('ALARM'), 'new-version/errors': counts(0, 10, 1620, 5400) },
    action: 'rollback',
    layer: 'service',
  },
  {
    name: 'still rolls back when a version-scoped layer fails, however much better its error rate',
    over: { 'service/alarm:orders-5xx': alarm('ALARM'), 'new-version/errors': counts(2, 600, 1620, 5400), 'probes/probe-failures': counts(6, 6, 0, 6) },
    action: 'rollback',
    layer: 'probes',
  },
  {
    name: 'counts INSUFFICIENT_DATA as insufficient evidence, never as healthy',
    over: { 'downstream/alarm:payments-latency': alarm('INSUFFICIENT_DATA') },
    action: 'proceed',
    layer: null,
    layerOutcome: ['downstream', 'insufficient'],
  },
  {
    name: 'evaluates custom layers after the built-in ones',
    over: { 'downstream/alarm:payments-latency': alarm('ALARM') },
    action: 'rollback',
    layer: 'downstream',
  },
  {
    name: 'rolls back on a p99 latency regression against the old version',
    over: { 'new-version/p99-duration': { kind: 'value', new: { value: 900, samples: 1200 }, old: { value: 150, samples: 5400 }, window: { start: T0, end: NOW } } },
    action: 'rollback',
    layer: 'new-version',
    reason: /p99-duration failed: .*regression/,
  },
  {
    name: 'treats a p99 from too few samples as insufficient',
    over: { 'new-version/p99-duration': { kind: 'value', new: { value: 900, samples: 10 }, old: { value: 150, samples: 5400 }, window: { start: T0, end: NOW } } },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'insufficient'],
  },
  {
    name: 'proceeds while the bake runs and every layer is healthy',
    snap: { newVersionWeight: 1, bake: { until: T0 + 20 * MIN } },
    now: T0 + 15 * MIN,
    action: 'proceed',
    layer: null,
    stage: 'bake',
  },
  {
    name: 'treats a p99 from fewer samples than CloudWatch needs for a stable p99 (1,000) as insufficient',
    over: { 'new-version/p99-duration': { kind: 'value', new: { value: 900, samples: 600 }, old: { value: 150, samples: 5400 }, window: { start: T0, end: NOW } } },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'insufficient'],
    reason: /p99-duration|new-version/,
  },
  {
    name: 'compares with the old version only over the window in which both versions served traffic',
    // 1.5 % over the whole window (the bake's later hours included) against the old version's
    // 0.5 % from the canary: but in the same minutes the new version had 0.5 % too.
    over: { 'new-version/errors': afterBake(60) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'healthy'],
  },
  {
    name: 'still fails the absolute test after the final shift when the concurrent comparison passes',
    over: { 'new-version/errors': afterBake(400) },
    action: 'rollback',
    layer: 'new-version',
    reason: /since the final shift.*above 5.00 %/,
  },
  {
    // A dependency down during the canary: both versions failed half their requests alike, which
    // the comparison excused; since the final shift the new version fails 10 of 3,400. Counting
    // the canary's excused failures again in the absolute test would roll a good release back.
    name: 'after the final shift, judges the new version alone on its requests since the shift, not on an outage both versions met before it',
    over: { 'new-version/errors': { ...(afterBake(310) as Extract<Observation, { kind: 'counts' }>), old: { events: 2700, total: 5400 }, baselineNew: { events: 300, total: 600 } } },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'healthy'],
  },
  {
    name: 'guard: after the final shift, fails when the new version alone fails above the threshold since the shift, whatever the canary excused',
    over: { 'new-version/errors': { ...(afterBake(700) as Extract<Observation, { kind: 'counts' }>), old: { events: 2700, total: 5400 }, baselineNew: { events: 300, total: 600 } } },
    action: 'rollback',
    layer: 'new-version',
    reason: /400 of 3400 since the final shift/,
  },
  {
    name: 'does not fail the release on throttling that hits both versions alike (function-wide)',
    over: throttles(120, 600, 1080, 5400),
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'healthy'],
  },
  {
    name: "fails on throttles above the limit and the old version's",
    over: throttles(120, 600, 54, 5400),
    action: 'rollback',
    layer: 'new-version',
    reason: /throttles failed/,
  },
  {
    name: 'judges throttles by the absolute limit alone when the old version has too few samples to compare',
    over: throttles(120, 600, 0, 10),
    action: 'rollback',
    layer: 'new-version',
    reason: /throttles failed/,
  },
  {
    name: 'proceeds while shifting on probe samples that are not fresh',
    over: { 'probes/probe-failures': staleProbes },
    action: 'proceed',
    layer: null,
    stage: 'shifting',
  },
  {
    name: 'rolls back before the final shift when the probes have no fresh samples (a prober that stopped)',
    over: { 'probes/probe-failures': staleProbes },
    now: T0 + 10 * MIN,
    action: 'rollback',
    layer: 'probes',
    stage: 'final-shift',
    reason: /insufficient evidence from probes at stage final-shift.*only 0 samples in the last 2 minutes/,
  },
  {
    name: 'defers the bake end until its last minute of metrics can be published and evaluated',
    snap: BAKE,
    now: T0 + 21 * MIN,
    action: 'proceed',
    layer: null,
    stage: 'bake-end',
    deferred: /^bake-end deferred until 2026-11-28T10:23:00.000Z .*: waiting for the bake's last minute of metrics to be published and evaluated$/,
  },
  {
    name: 'ends the bake once its last minutes are in and every layer is healthy',
    snap: BAKE,
    now: T0 + 23 * MIN,
    action: 'proceed',
    layer: null,
    stage: 'bake-end',
  },
  {
    name: 'defers the bake end while a layer is unreadable, though not yet blind',
    over: { 'service/alarm:orders-5xx': unreadable },
    snap: BAKE,
    now: T0 + 24 * MIN,
    action: 'proceed',
    layer: null,
    deferred: /bake-end deferred .*service unreadable \(1 of 3 before blind\)/,
  },
  {
    name: 'defers the bake end on insufficient probe evidence',
    over: { 'probes/probe-failures': counts(0, 0, 0, 0) },
    snap: BAKE,
    now: T0 + 24 * MIN,
    action: 'proceed',
    layer: null,
    stage: 'bake-end',
    deferred: /insufficient evidence from probes at stage bake-end/,
  },
  {
    name: 'defers the bake end when the probes are stale',
    over: { 'probes/probe-failures': staleProbes },
    snap: BAKE,
    now: T0 + 24 * MIN,
    action: 'proceed',
    layer: null,
    deferred: /no fresh evidence/,
  },
  {
    name: "fails the bake when it is still short of evidence at the hook's one-hour limit less the margin",
    over: { 'probes/probe-failures': staleProbes },
    snap: BAKE,
    now: T0 + (11 + 57) * MIN,
    action: 'rollback',
    layer: 'probes',
    stage: 'bake-end',
    reason: /^bake-end could not be confirmed before 2026-11-28T11:08:00.000Z .*no fresh evidence/,
  },
  {
    name: 'fails the bake at the limit while a layer is unreadable, though not yet blind',
    over: { 'service/alarm:orders-5xx': unreadable },
    snap: BAKE,
    now: T0 + (11 + 57) * MIN,
    action: 'rollback',
    layer: 'service',
  },
  {
    name: 'takes the final shift as the hook start when the bake state has no start time',
    over: { 'service/alarm:orders-5xx': unreadable },
    snap: { newVersionWeight: 1, bake: { until: T0 + 21 * MIN } },
    // Shifting began at T0 + 1 min, the final shift 10 minutes later, so the limit is T0 + 68 min.
    now: T0 + 68 * MIN,
    action: 'rollback',
    layer: 'service',
    reason: /before 2026-11-28T11:08:00.000Z/,
  },
  {
    name: 'treats one unreadable evaluation as not yet blind',
    over: { 'service/alarm:orders-5xx': unreadable },
    action: 'proceed',
    layer: null,
    reason: /unreadable, not yet blind: service \(1\)/,
  },
  {
    name: 'treats a missing observation as unreadable',
    over: { 'service/alarm:orders-5xx': undefined as unknown as Observation },
    action: 'proceed',
    layer: null,
    layerOutcome: ['service', 'unreadable'],
  },
  {
    name: 'treats inconsistent counts (more errors than invocations) as unreadable',
    over: { 'new-version/errors': counts(10, 5) },
    action: 'proceed',
    layer: null,
    layerOutcome: ['new-version', 'unreadable'],
  },
];

describe('evaluate', () => {
  it.each(rows)('$name', (row) => {
    const policy = { ...DEFAULT_POLICY, ...row.policy };
    const { verdict } = evaluate(
      { snapshot: snapshot(row.snap), layers: LAYERS, observations: obs(row.over), state: state() },
      policy,
      row.now ?? NOW,
    );
    expect(verdict.action).toBe(row.action);
    expect(verdict.layer).toBe(row.layer);
    if (row.stage) expect(verdict.stage).toBe(row.stage);
    if (row.reason) expect(verdict.reasons.join('\n')).toMatch(row.reason);
    expect(verdict.deferred).toEqual(row.deferred ? expect.stringMatching(row.deferred) : undefined);
    if (row.deferred) expect(verdict.reasons[0]).toBe(verdict.deferred);
    if (row.layerOutcome) {
      expect(verdict.layers.find((l) => l.name === row.layerOutcome![0])?.outcome).toBe(row.layerOutcome[1]);
    }
    // Every signal of every layer is accounted for in the evidence.
    expect(verdict.evidence).toHaveLength(LAYERS.reduce((n, l) => n + l.signals.length, 0));
  });

  it('explains a rollback with the signal, value, threshold, sample size and window', () => {
    const { verdict } = evaluate(
      { snapshot: snapshot(), layers: LAYERS, observations: obs({ 'new-version/errors': counts(60, 600) }), state: state() },
      DEFAULT_POLICY,
      NOW,
    );
    const e = verdict.evidence.find((x) => x.layer === 'new-version' && x.signal === 'errors');
    expect(e).toMatchObject({
      outcome: 'failed',
      observed: 0.1,
      threshold: '> 0.05 (always-valid sequential p < 0.001)',
      sampleSize: 600,
      window: { start: '2026-11-28T10:00:00.000Z', end: '2026-11-28T10:05:00.000Z' },
      baseline: { observed: 30 / 5400, sampleSize: 5400 },
    });
    expect(e?.pValue).toBeLessThan(0.001);
  });

  describe('fails closed when blind', () => {
    const blindObs = obs({ 'service/alarm:orders-5xx': unreadable });
    const step = (s: ReturnType<typeof state>, now: number) =>
      evaluate({ snapshot: snapshot(), layers: LAYERS, observations: blindObs, state: s }, DEFAULT_POLICY, now);

    it('rolls back after blindAfter consecutive unreadable evaluations', () => {
      const r1 = step(state(), NOW);
      const r2 = step(r1.state, NOW + MIN);
      const r3 = step(r2.state, NOW + 2 * MIN);
      expect([r1, r2, r3].map((r) => r.verdict.action)).toEqual(['proceed', 'proceed', 'rollback']);
      expect(r3.verdict.layer).toBe('service');
      expect(r3.verdict.reasons[0]).toMatch(/^blind: service unreadable for 3 consecutive evaluations \(limit 3\): alarm:orders-5xx \(could not read: ThrottlingException: Rate exceeded\)/);
    });

    it('counts evaluations closer together than the policy allows once', () => {
      const r1 = step(state(), NOW);
      const r2 = step(r1.state, NOW + 5_000);
      const r3 = step(r2.state, NOW + 10_000);
      expect(r3.verdict.action).toBe('proceed');
      expect(r3.state.consecutiveUnreadable.service).toBe(1);
    });

    it('resets the count once the layer is read again', () => {
      const r1 = step(state(), NOW);
      const r2 = step(r1.state, NOW + MIN);
      const ok = evaluate({ snapshot: snapshot(), layers: LAYERS, observations: obs(), state: r2.state }, DEFAULT_POLICY, NOW + 2 * MIN);
      expect(ok.state.consecutiveUnreadable.service).toBe(0);
      const r4 = step(ok.state, NOW + 3 * MIN);
      expect(r4.verdict.action).toBe('proceed');
    });
  });
});

describe("the watchdog's own state, unreadable", () => {
  const STATE_FAILURE = 'state read: ProvisionedThroughputExceededException: throughput exceeded';
  const step = (s: ReturnType<typeof state>, now: number, over: { stateUnreadable?: string; observations?: ReturnType<typeof obs>; snap?: Parameters<typeof snapshot>[0] } = {}) =>
    evaluate({ snapshot: snapshot(over.snap), layers: LAYERS, observations: over.observations ?? obs(), state: s, ...('stateUnreadable' in over ? { stateUnreadable: over.stateUnreadable } : { stateUnreadable: STATE_FAILURE }) }, DEFAULT_POLICY, now);

  it('counts towards blindness like an unreadable signal, and rolls back after blindAfter consecutive evaluations', () => {
    const r1 = step(state(), NOW);
    const r2 = step(r1.state, NOW + MIN);
    const r3 = step(r2.state, NOW + 2 * MIN);
    expect([r1, r2, r3].map((r) => r.verdict.action)).toEqual(['proceed', 'proceed', 'rollback']);
    expect(r1.verdict.layers.at(-1)).toEqual({ name: STATE_LAYER, outcome: 'unreadable', consecutiveUnreadable: 1 });
    expect(r1.verdict.reasons[0]).toMatch(/unreadable, not yet blind: watchdog-state \(1\)/);
    expect(r3.verdict.layer).toBe(STATE_LAYER);
    expect(r3.verdict.reasons[0]).toBe(`blind: watchdog-state unreadable for 3 consecutive evaluations (limit 3): ${STATE_FAILURE}`);
  });

  it('lets a failing signal layer decide first', () => {
    const r = step(state(), NOW, { observations: obs({ 'new-version/errors': counts(60, 600, 30, 5400) }) });
    expect(r.verdict).toMatchObject({ action: 'rollback', layer: 'new-version' });
  });

  it('counts evaluations closer together than the policy allows once', () => {
    const r1 = step(state(), NOW);
    const r2 = step(r1.state, NOW + 5_000);
    expect(r2.state.consecutiveUnreadable[STATE_LAYER]).toBe(1);
  });

  it('defers the bake end while the state is unreadable, though not yet blind', () => {
    const r = step(state(), T0 + 24 * MIN, { snap: BAKE });
    expect(r.verdict.action).toBe('proceed');
    expect(r.verdict.deferred).toMatch(/watchdog-state unreadable \(1 of 3 before blind\): state read/);
  });

  it('guard: a readable state adds no layer and resets the count', () => {
    const r1 = step(state(), NOW);
    const ok = step(r1.state, NOW + MIN, { stateUnreadable: undefined });
    expect(ok.verdict.layers.map((l) => l.name)).not.toContain(STATE_LAYER);
    expect(ok.state.consecutiveUnreadable[STATE_LAYER] ?? 0).toBe(0);
    expect(ok.verdict.action).toBe('proceed');
  });
});

describe('deriveStage', () => {
  it.each([
    { name: 'no traffic yet', snap: { newVersionWeight: 0, trafficShiftStartedAt: undefined }, now: T0 + MIN, stage: 'pre-traffic' },
    { name: 'canary early', snap: {}, now: T0 + 3 * MIN, stage: 'shifting' },
    { name: 'canary 2 minutes before the final shift', snap: {}, now: T0 + 9 * MIN, stage: 'final-shift' },
    { name: 'unknown shift start assumes the earliest (creation)', snap: { trafficShiftStartedAt: undefined }, now: T0 + 8 * MIN + 1, stage: 'final-shift' },
    { name: 'linear 10 % every 1 minute at 20 %', snap: { rollout: { type: 'linear', percent: 10, intervalMinutes: 1 } as const, newVersionWeight: 0.2 }, now: T0 + 3 * MIN, stage: 'shifting' },
    { name: 'linear near its last step', snap: { rollout: { type: 'linear', percent: 10, intervalMinutes: 1 } as const, newVersionWeight: 0.8 }, now: T0 + 9 * MIN, stage: 'final-shift' },
    { name: 'bake running', snap: { newVersionWeight: 1, bake: { until: T0 + 30 * MIN } }, now: T0 + 20 * MIN, stage: 'bake' },
    { name: 'bake over', snap: { newVersionWeight: 1, bake: { until: T0 + 30 * MIN } }, now: T0 + 30 * MIN, stage: 'bake-end' },
    { name: 'all traffic, no bake', snap: { newVersionWeight: 1 }, now: T0 + 30 * MIN, stage: 'complete' },
  ])('$name: $stage', ({ snap, now, stage }) => {
    expect(deriveStage(snapshot(snap), DEFAULT_POLICY, now)).toBe(stage);
  });
});
