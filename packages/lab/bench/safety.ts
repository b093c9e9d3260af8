/**
 * The safety matrix and the false-rollback runs: rehearsals on the lab of the sample app's
 * canary-released function (OrdersApi: canary 10 % for 5 minutes, then a 10-minute bake, error
 * rate threshold 2 %), with the watchdog and with CodeDeploy's native alarm rollback on
 * identical seeds. Each trial is one `runStrategy` on a fresh lab, as `npm run rehearse` runs.
 */
import type { StrategyResult, Strategy } from '../src/rehearsal/runner';
import { runStrategy, STRATEGIES } from '../src/rehearsal/runner';
import type { Scenario } from '../src/rehearsal/scenario';
import { binomialUpperTail } from 'canary-watchdog/lib/core/stats';

/** The sample app's canary: the share and minutes before the final shift. */
export const CANARY = { percent: 10, minutes: 5 };
/** The old version's error rate in every trial. */
export const OLD_ERROR_RATE = 0.005;
/** The limit test's false-positive rate. */
export const ALPHA = 0.01;
/**
 * The noisy world: both versions' real invocations (the probes, the hooks' calls) fail 2 % of the
 * time for reasons that are not the release's, and every new execution environment pays a
 * 1-second init phase. The sample's OrdersApi has 5 probes.
 */
export const NOISE: NonNullable<Scenario['noise']> = { transientErrorRate: 0.02, coldStartMs: 1000 };

export interface Kind {
  readonly name: string;
  readonly release: Scenario['release'];
  /** Whether the release is bad (a trial that reaches 100 % is then a miss). */
  readonly bad: boolean;
  /**
   * What a user loses to it: failed requests, or for a slower release every request it serves
   * (none fails, each one is slow).
   */
  readonly harm: 'failed' | 'slow';
}

export const KINDS: readonly Kind[] = [
  { name: 'good (0.5 %)', release: { errorRate: 0.005 }, bad: false, harm: 'failed' },
  { name: '2 % errors', release: { errorRate: 0.02 }, bad: true, harm: 'failed' },
  { name: '5 % errors', release: { errorRate: 0.05 }, bad: true, harm: 'failed' },
  { name: '20 % errors', release: { errorRate: 0.2 }, bad: true, harm: 'failed' },
  { name: 'crash on init', release: { crashOnInit: true }, bad: true, harm: 'failed' },
  // PAYMENT_MODE outside live|sandbox: orders.ts reads it on every request and throws, so every
  // user request fails (errorRate 1, as the lab's simulated users do not run the code); the
  // hook's config checks and probes see the real environment.
  { name: 'config mistake', release: { env: { PAYMENT_MODE: 'test' }, errorRate: 1 }, bad: true, harm: 'failed' },
  // 1.5 s slower: above the validate-order probe's 1000 ms limit, below the 5 s timeout.
  { name: 'p99 latency +1.5 s', release: { errorRate: OLD_ERROR_RATE, latencyMs: 1500 }, bad: true, harm: 'slow' },
];

export interface Trial {
  readonly seed: number;
  readonly outcome: StrategyResult['outcome'];
  readonly reached100: boolean;
  readonly maxTrafficPercent: number;
  readonly detectionSeconds: number | null;
  readonly harmed: number;
  readonly userRequestsToNewVersion: number;
  readonly decidedBy: string | null;
  readonly virtualMinutes: number;
  readonly wallMs: number;
}

export function scenarioFor(kind: Kind, rps: number, seed: number, minutes: number, burstiness = 0, noise?: Scenario['noise']): Scenario {
  return {
    name: 'bench',
    description: kind.name,
    function: 'OrdersApi',
    traffic: { rps, minutes, ...(burstiness ? { burstiness } : {}) },
    seed,
    current: { errorRate: OLD_ERROR_RATE },
    release: kind.release,
    faults: {},
    noise: noise ?? {},
    network: {},
    expect: { outcome: kind.bad ? 'rolled-back' : 'completed' },
    source: 'bench',
  };
}

export async function trial(assembly: string, kind: Kind, strategy: Strategy, rps: number, seed: number, minutes: number, burstiness = 0, noise?: Scenario['noise']): Promise<Trial> {
  const r = await runStrategy(scenarioFor(kind, rps, seed, minutes, burstiness, noise), strategy, assembly);
  return {
    seed,
    outcome: r.outcome,
    reached100: r.outcome === 'completed' || r.maxTrafficPercent >= 100,
    maxTrafficPercent: r.maxTrafficPercent,
    detectionSeconds: r.detectionSeconds,
    harmed: kind.harm === 'slow' ? r.userRequestsToNewVersion : r.failedUserRequests,
    userRequestsToNewVersion: r.userRequestsToNewVersion,
    decidedBy: r.decidedBy ? `${r.decidedBy.layer}` : null,
    virtualMinutes: r.virtualMinutes,
    wallMs: r.wallMs,
  };
}

/** Runs `tasks` with at most `lanes` at once (labs run their functions in worker threads). */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], lanes: number, onDone?: (done: number) => void): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
        onDone?.(++done);
      }
    }),
  );
  return out;
}

export function quantile(xs: readonly number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * The limit: the power of an exact one-sided binomial test of the new version's requests before
 * the final shift (rps x canary share x canary minutes) against the old version's error rate at
 * ALPHA. A crash, a configuration mistake or a slower version shows on the first request: 1.
 */
export function limitPower(kind: Kind, rps: number): { n: number; critical: number | null; power: number } {
  const n = Math.round(rps * (CANARY.percent / 100) * CANARY.minutes * 60);
  const rate = kind.release.crashOnInit || kind.harm === 'slow' ? 1 : (kind.release.errorRate ?? 0);
  if (rate >= 1) return { n, critical: 1, power: n > 0 ? 1 : 0 };
  const k = criticalCount(n, OLD_ERROR_RATE, ALPHA);
  return { n, critical: k, power: k === null ? 0 : binomialUpperTail(k, n, rate) };
}

/** The fewest failures out of n that reject "rate <= p0" at `alpha` (null: none can). */
export function criticalCount(n: number, p0: number, alpha: number): number | null {
  for (let k = 0; k <= n; k++) if (binomialUpperTail(k, n, p0) <= alpha) return k;
  return null;
}

export interface Cell {
  readonly kind: string;
  readonly rps: number;
  readonly trials: number;
  readonly limit: { n: number; critical: number | null; power: number };
  readonly strategies: Record<Strategy, {
    /** Bad releases stopped before 100 % (for a good release: the share rolled back). */
    caught: number;
    reached100: number;
    detectionMedian: number | null;
    detectionP90: number | null;
    harmedMedian: number | null;
    harmedMean: number;
    decidedBy: Record<string, number>;
    wallMsMedian: number | null;
  }>;
  /** Watchdog's median harmed requests over native's (null when native's is 0). */
  readonly harmRatio: number | null;
}

export function summarizeCell(kind: Kind, rps: number, byStrategy: Record<Strategy, Trial[]>): Cell {
  const strategies = {} as Cell['strategies'];
  for (const s of STRATEGIES) {
    const ts = byStrategy[s];
    const reached = ts.filter((t) => t.reached100).length / ts.length;
    const detections = ts.map((t) => t.detectionSeconds).filter((d): d is number => d !== null);
    const decidedBy: Record<string, number> = {};
    for (const t of ts) if (t.decidedBy) decidedBy[t.decidedBy] = (decidedBy[t.decidedBy] ?? 0) + 1;
    strategies[s] = {
      caught: kind.bad ? 1 - reached : ts.filter((t) => t.outcome === 'rolled-back').length / ts.length,
      reached100: reached,
      detectionMedian: quantile(detections, 0.5),
      detectionP90: quantile(detections, 0.9),
      harmedMedian: quantile(ts.map((t) => t.harmed), 0.5),
      harmedMean: ts.reduce((a, t) => a + t.harmed, 0) / ts.length,
      decidedBy,
      wallMsMedian: quantile(ts.map((t) => t.wallMs), 0.5),
    };
  }
  const w = strategies.watchdog.harmedMedian ?? 0;
  const n = strategies.native.harmedMedian ?? 0;
  return { kind: kind.name, rps, trials: byStrategy.watchdog.length, limit: limitPower(kind, rps), strategies, harmRatio: n > 0 ? w / n : null };
}

export interface MatrixOptions {
  readonly seeds: number;
  readonly rps: readonly number[];
  /** Virtual minutes a trial may run: the hook, the canary and the bake fit with room to spare. */
  readonly minutes: number;
  readonly lanes: number;
  /** Transient failures and cold starts in both versions (see NOISE). */
  readonly noise?: Scenario['noise'];
  readonly onProgress?: (done: number, of: number) => void;
}

/** Every kind at every rate, both strategies, seeds 1..N (the same seeds for both). */
export async function runMatrix(assembly: string, o: MatrixOptions): Promise<{ cells: Cell[]; trials: Record<string, Trial[]> }> {
  const tasks: (() => Promise<{ key: string; strategy: Strategy; t: Trial }>)[] = [];
  for (const kind of KINDS) {
    for (const rps of o.rps) {
      for (let seed = 1; seed <= o.seeds; seed++) {
        for (const strategy of STRATEGIES) tasks.push(async () => ({ key: `${kind.name} @ ${rps}`, strategy, t: await trial(assembly, kind, strategy, rps, seed, o.minutes, 0, o.noise) }));
      }
    }
  }
  const done = await pool(tasks, o.lanes, (n) => o.onProgress?.(n, tasks.length));
  const trials: Record<string, Trial[]> = {};
  const cells: Cell[] = [];
  for (const kind of KINDS) {
    for (const rps of o.rps) {
      const key = `${kind.name} @ ${rps}`;
      const by = { watchdog: [] as Trial[], native: [] as Trial[] };
      for (const d of done) if (d.key === key) by[d.strategy].push(d.t);
      trials[`${key} watchdog`] = by.watchdog;
      trials[`${key} native`] = by.native;
      cells.push(summarizeCell(kind, rps, by));
    }
  }
  return { cells, trials };
}

export interface FalseRollbackRow {
  readonly rps: number;
  readonly burstiness: number;
  readonly trials: number;
  /** The noise both versions had, when any. */
  readonly noise?: Scenario['noise'];
  readonly rolledBack: Record<Strategy, number>;
  readonly decidedBy: Record<Strategy, Record<string, number>>;
}

/** Good releases (old and new at the same error rate) on bursty traffic: how many roll back. */
export async function runFalseRollbacks(
  assembly: string,
  o: { trials: number; rps: readonly number[]; burstiness: number; minutes: number; lanes: number; noise?: Scenario['noise']; onProgress?: (done: number, of: number) => void },
): Promise<{ rows: FalseRollbackRow[]; trials: Trial[] }> {
  const good = KINDS[0];
  const tasks: (() => Promise<{ rps: number; strategy: Strategy; t: Trial }>)[] = [];
  for (const rps of o.rps) {
    for (let i = 1; i <= o.trials; i++) {
      for (const strategy of STRATEGIES) tasks.push(async () => ({ rps, strategy, t: await trial(assembly, good, strategy, rps, 1000 + i, o.minutes, o.burstiness, o.noise) }));
    }
  }
  const done = await pool(tasks, o.lanes, (n) => o.onProgress?.(n, tasks.length));
  const rows = o.rps.map((rps) => {
    const rolledBack = { watchdog: 0, native: 0 };
    const decidedBy: FalseRollbackRow['decidedBy'] = { watchdog: {}, native: {} };
    for (const d of done.filter((x) => x.rps === rps)) {
      if (d.t.outcome !== 'rolled-back') continue;
      rolledBack[d.strategy]++;
      const by = d.t.decidedBy ?? 'unknown';
      decidedBy[d.strategy][by] = (decidedBy[d.strategy][by] ?? 0) + 1;
    }
    return { rps, burstiness: o.burstiness, trials: o.trials, ...(o.noise ? { noise: o.noise } : {}), rolledBack: { watchdog: rolledBack.watchdog / o.trials, native: rolledBack.native / o.trials }, decidedBy };
  });
  return { rows, trials: done.map((d) => d.t) };
}
