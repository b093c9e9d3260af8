/** BENCHMARKS.md from bench/results.json's figures: tables, the method, and each goal's verdict. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FloorMeasurement } from './floor';
import { ORACLE_ALPHA, ORACLE_BETA } from './oracle';
import type { FalseRollbackRow, Cell } from './safety';
import { CANARY, KINDS, LIMIT_RUNS, MIN_REJECTED, NOISE, NOISE_KINDS, OLD_ERROR_RATE, ORACLE_RUNS, ALPHA } from './safety';
import { PER_STACK } from './scale';

interface SynthFigure { ms: number; resources: number | null; stacks: number; error?: string }
type LimitKeys = 'detectionLimitSeconds' | 'detectionLimitRejected' | 'detectionRatio' | 'oracle' | 'oracleRatio' | 'oracleCatchShare';
/** A safety row as results.json holds it: results from before issue 16 lack the detection-time limit, from before issue 23 the oracle. */
export type SafetyRow = Omit<Cell, LimitKeys> & Partial<Pick<Cell, LimitKeys>>;
export interface Results {
  commit: string;
  dirty: boolean;
  quick: boolean;
  measuredAt: string;
  wallSeconds: number;
  /** `seeds`, `noisySeeds`, `trials`: the run's sizes (absent in results from before `--seeds`/`--trials`). */
  settings: { lanes: number; minutes: number; burstiness: number; seeds?: number; noisySeeds?: number; trials?: number };
  /** The signal path's delay per rate (absent in results from before issue 23). */
  floor?: FloorMeasurement[];
  safety: SafetyRow[];
  falseRollbacks: FalseRollbackRow[];
  /** The matrix under NOISE, shaped like `safety` (absent in results from before issue 16: `safetyNoisy` holds it). */
  noisy?: SafetyRow[];
  /** The matrix and the false-rollback runs again under NOISE (absent in results from before it). */
  safetyNoisy?: SafetyRow[];
  falseRollbacksNoisy?: FalseRollbackRow[];
  throughput: {
    trials: number;
    trialsWallMs: number;
    virtualMinutes: number;
    perLab: { watchdog: number; native: number };
    builtIn: { scenarios: number; wallMs: number; virtualMinutes: number } | null;
  };
  lab: { runs: number; deploymentMedianMs: number; deploymentMaxMs: number; totalMedianMs: number; outcome: string };
  comparison: { name: string; trials: number; perEvaluation: number; perDeployment: number }[];
  alpha?: { alpha: number; cases: { name: string; trials: number; share: number }[] }[];
  scale: { n: number; guarded: SynthFigure; plain: SynthFigure; guardedNoValidation: SynthFigure; plainNoValidation: SynthFigure; oneStack: SynthFigure }[];
  maxPerStack: { perFunction: number; fixed: number; max: number };
  cost: {
    n: number;
    calls: number;
    byOperation: Record<string, number>;
    wallMs: number;
    /** The run that lists every group to reconcile the registry (every 10 minutes); absent in results from before the registry. */
    reconcile?: { calls: number; byOperation: Record<string, number>; wallMs: number };
    monthly: { watchdog: number; synthetics: number };
  }[];
}

const ANALYSIS = join(__dirname, 'analysis.md');
/** The telemetry extension's section, written by bench/extension.ts --markdown (its own harness). */
const EXTENSION = join(__dirname, 'extension.md');

const pct = (x: number | null, d = 0) => (x === null ? '-' : `${(x * 100).toFixed(d)} %`);
const num = (x: number | null) => (x === null ? '-' : String(Math.round(x)));
const secs = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x === 0 || x >= 10 ? String(Math.round(x)) : x.toFixed(1));
const times = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x.toFixed(1)}x`);
const isBad = (c: SafetyRow) => Boolean(KINDS.find((k) => k.name === c.kind)?.bad);
/** The noisy matrix: `noisy`, or `safetyNoisy` in results from before issue 16. */
const noisyRows = (r: Results) => r.noisy ?? r.safetyNoisy;
/** The detection goal's bound: a multiple of the limit, wherever the limit is below a minute. */
export const DETECTION_GOAL = { maxRatio: 3, belowSeconds: 60 };

export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly measured: string;
}

/** The issue's goals, judged on the figures. */
export function judge(r: Results): Goal[] {
  const withOracle = r.safety.some((c) => c.oracle !== undefined);
  // Issue 23's goals against the oracle; results from before it are judged by issue 16's against the fixed-alpha limit.
  const goals: Goal[] = withOracle
    ? [oracleDetectionGoal(r.safety, 'quiet'), oracleDetectionGoal(noisyRows(r), 'noisy'), oracleCatchGoal(r.safety, 'quiet'), oracleCatchGoal(noisyRows(r), 'noisy')]
    : [catchGoal(r.safety, 'quiet'), catchGoal(noisyRows(r), 'noisy')];
  const zero = r.safety.filter((c) => c.kind === 'crash on init' || c.kind === 'config mistake');
  const leaked = zero.filter((c) => c.strategies.watchdog.harmedMean > 0 || c.strategies.watchdog.reached100 > 0);
  goals.push({
    goal: 'Crash-on-init and configuration mistakes: zero user requests to the new version',
    met: leaked.length === 0,
    measured: leaked.length ? `failed user requests in ${leaked.map((c) => `${c.kind} @ ${c.rps}`).join(', ')}` : `0 failed user requests in all ${zero.reduce((a, c) => a + c.trials, 0)} trials`,
  });
  const ratios = r.safety.filter((c) => c.strategies.native.caught > 0 && isBad(c) && c.harmRatio !== null).map((c) => c.harmRatio as number);
  const med = median(ratios);
  goals.push({
    goal: 'Watchdog\'s failed user requests at most 25 % of native\'s (median over the cells where native rolls back)',
    met: med !== null && med <= 0.25,
    measured: med === null ? 'native rolled back in no cell' : `median ratio ${pct(med, 1)} over ${ratios.length} cells`,
  });
  const worst = Math.max(...r.falseRollbacks.map((x) => x.rolledBack.watchdog));
  goals.push({
    goal: 'False rollbacks at most 1 % for the watchdog',
    met: worst <= 0.01,
    measured: r.falseRollbacks.map((x) => `${pct(x.rolledBack.watchdog, 1)} at ${x.rps} req/s (${x.trials} trials)`).join(', '),
  });
  if (r.falseRollbacksNoisy?.some((x) => x.kind !== undefined)) {
    goals.push(...noiseKindGoals(r.falseRollbacksNoisy));
  } else if (r.falseRollbacksNoisy) {
    const noisy = Math.max(...r.falseRollbacksNoisy.map((x) => x.rolledBack.watchdog));
    goals.push({
      goal: 'False rollbacks at most 1 % for the watchdog under noise (2 % transient errors in both versions, 1 s cold starts, 5 probes)',
      met: noisy <= 0.01,
      measured: r.falseRollbacksNoisy.map((x) => `${pct(x.rolledBack.watchdog, 1)} at ${x.rps} req/s (native ${pct(x.rolledBack.native, 1)}; ${x.trials} trials)`).join(', '),
    });
  }
  if (!withOracle) goals.push(detectionGoal(r));
  const big = r.cost.find((c) => c.n === 200) ?? r.cost[r.cost.length - 1];
  goals.push({ goal: 'One evaluation of 200 concurrent deployments in at most 10 AWS API calls', met: big.n === 200 && big.calls <= 10, measured: `${big.calls} calls with ${big.n} deployments${big.reconcile ? ` (${big.reconcile.calls} on the run that reconciles the registry, every 10 minutes)` : ''}` });
  const s50 = r.scale.find((s) => s.n === 50);
  goals.push({
    goal: '50 guarded functions in one app synthesize in at most 3x the time of 50 plain ones, both with CDK\'s template validation',
    met: Boolean(s50 && s50.guarded.ms <= 3 * s50.plain.ms),
    measured: s50 ? `${(s50.guarded.ms / s50.plain.ms).toFixed(1)}x (${num(s50.guarded.ms)} ms vs ${num(s50.plain.ms)} ms); without CDK's template validation ${(s50.guardedNoValidation.ms / s50.plainNoValidation.ms).toFixed(1)}x` : 'not measured (quick mode)',
  });
  const b = r.throughput.builtIn;
  goals.push({
    goal: '`npm run rehearse` under 60 s on 2 cores',
    met: Boolean(b && b.wallMs < 60_000),
    measured: b ? `${(b.wallMs / 1000).toFixed(1)} s: the bench's run of the ${b.scenarios} scenarios of the built-in tour, both strategies each, as \`npm run rehearse\` (rehearse --quick) runs them (throughput.builtIn), on this 2-core machine` : 'not measured (quick mode)',
  });
  return goals;
}

/** Issue 23's bounds: the median detection against the oracle plus the floor, the catch rate against the oracle's power. */
export const ORACLE_GOAL = { maxRatio: 2, minCatchShare: 0.9, maxFalseRollbacks: 0.01, rates: [1, 20, 200] };

/**
 * The watchdog's median detection at most 2x (oracle + floor) in every bad release's cell where
 * the oracle detects within the canary (in at least half its runs, so its median is a run's).
 */
function oracleDetectionGoal(rows: readonly SafetyRow[] | undefined, world: 'quiet' | 'noisy'): Goal {
  const goal = `Median detection at most ${ORACLE_GOAL.maxRatio}x (oracle + floor) wherever the oracle detects within the canary (${world})`;
  if (!rows) return { goal, met: false, measured: 'not measured' };
  const judged = rows.filter((c) => isBad(c) && c.oracle && c.oracle.detectionSeconds !== null && c.oracle.power >= 0.5);
  const bound = (c: SafetyRow) => (c.oracle!.detectionSeconds as number) + (c.oracle!.floorSeconds ?? 0);
  const misses = judged.filter((c) => c.strategies.watchdog.detectionMedian === null || c.strategies.watchdog.detectionMedian > ORACLE_GOAL.maxRatio * bound(c));
  const skipped = rows.filter((c) => isBad(c) && c.oracle && !judged.includes(c));
  const list = misses.map((c) => `${c.kind} @ ${c.rps} (${c.strategies.watchdog.detectionMedian === null ? 'no detection' : `${num(c.strategies.watchdog.detectionMedian)} s`} vs ${secs(c.oracle!.detectionSeconds)} + ${secs(c.oracle!.floorSeconds)} s${c.oracleRatio === null || c.oracleRatio === undefined ? '' : `, ${times(c.oracleRatio)}`})`);
  return {
    goal,
    met: judged.length > 0 && misses.length === 0,
    measured: [
      misses.length ? `missed in ${misses.length} of ${judged.length} cells: ${list.join('; ')}` : `met in all ${judged.length} cells`,
      skipped.length ? `not judged (the oracle detects in under half its runs within the canary): ${skipped.map((c) => `${c.kind} @ ${c.rps} (oracle power ${pct(c.oracle!.power)})`).join(', ')}` : '',
    ].filter(Boolean).join('. '),
  };
}

/** The watchdog's catch rate at least 90 % of the oracle's power in every bad release's cell. */
function oracleCatchGoal(rows: readonly SafetyRow[] | undefined, world: 'quiet' | 'noisy'): Goal {
  const goal = `Catch rate at least ${ORACLE_GOAL.minCatchShare * 100} % of the oracle's power in every cell (${world})`;
  if (!rows) return { goal, met: false, measured: 'not measured' };
  // Where the oracle itself rejects in under 1 % of canaries there is nothing a valid test can catch: listed, not judged.
  const out = rows.filter((c) => isBad(c) && c.oracle && c.oracle.power < MIN_REJECTED);
  const bad = rows.filter((c) => isBad(c) && c.oracle && !out.includes(c));
  const short = bad.filter((c) => c.strategies.watchdog.caught < ORACLE_GOAL.minCatchShare * c.oracle!.power);
  return {
    goal,
    met: bad.length > 0 && short.length === 0,
    measured: [
      short.length ? `short in ${short.length} of ${bad.length} cells: ${short.map((c) => `${c.kind} @ ${c.rps} req/s (${pct(c.strategies.watchdog.caught)} vs oracle ${pct(c.oracle!.power)})`).join('; ')}` : `met in all ${bad.length} cells`,
      out.length ? `not judged (the oracle rejects in under ${MIN_REJECTED * 100} % of canaries): ${out.map((c) => `${c.kind} @ ${c.rps} (${pct(c.oracle!.power, 1)})`).join(', ')}` : '',
    ].filter(Boolean).join('. '),
  };
}

/** False rollbacks at most 1 % in every kind of noise, at 1, 20 and 200 requests/s (and any other rate run). */
function noiseKindGoals(rows: readonly FalseRollbackRow[]): Goal[] {
  const kinds = [...new Set(rows.map((x) => x.kind ?? 'unnamed'))];
  return kinds.map((kind) => {
    const own = rows.filter((x) => (x.kind ?? 'unnamed') === kind);
    const missingRates = ORACLE_GOAL.rates.filter((rps) => !own.some((x) => x.rps === rps));
    const over = own.filter((x) => x.rolledBack.watchdog > ORACLE_GOAL.maxFalseRollbacks);
    return {
      goal: `False rollbacks at most ${ORACLE_GOAL.maxFalseRollbacks * 100} % under noise: ${kind}`,
      met: over.length === 0 && missingRates.length === 0,
      measured: [
        own.map((x) => `${pct(x.rolledBack.watchdog, 1)} at ${x.rps} req/s (native ${pct(x.rolledBack.native, 1)}; ${x.trials} trials${x.rolledBack.watchdog > 0 ? `; decided by ${hist(x.decidedBy.watchdog)}` : ''})`).join(', '),
        missingRates.length ? `not run at ${missingRates.join(', ')} req/s` : '',
      ].filter(Boolean).join('; '),
    };
  });
}

/** Catch rate at least 90 % of the limit's power in every bad release's cell, and never below native's. */
function catchGoal(rows: readonly SafetyRow[] | undefined, world: 'quiet' | 'noisy'): Goal {
  const goal = `Catch rate at least 90 % of the limit's power in every cell, and never below native's (${world})`;
  if (!rows) return { goal, met: false, measured: 'not measured (results from before the noisy matrix)' };
  const bad = rows.filter(isBad);
  const short = bad.filter((c) => c.strategies.watchdog.caught < 0.9 * c.limit.power || c.strategies.watchdog.caught < c.strategies.native.caught);
  return {
    goal,
    met: short.length === 0,
    measured: short.length ? `short in ${short.length} of ${bad.length} cells: ${short.map((c) => `${c.kind} @ ${c.rps} req/s (${pct(c.strategies.watchdog.caught)} vs limit ${pct(c.limit.power)}, native ${pct(c.strategies.native.caught)})`).join('; ')}` : `met in all ${bad.length} cells`,
  };
}

/**
 * The watchdog's median detection at most 3x the detection-time limit in every bad release's cell
 * of the quiet matrix whose limit is above 0 and below 60 s. A limit of 0 s (the release shows on
 * the first request) has no ratio: those cells are listed, and the zero-requests goal judges crashes
 * and configuration mistakes. The noisy matrix's misses are given as context.
 */
function detectionGoal(r: Results): Goal {
  const goal = `Median detection at most ${DETECTION_GOAL.maxRatio}x the detection-time limit wherever that limit is below ${DETECTION_GOAL.belowSeconds} s`;
  const judged = (rows: readonly SafetyRow[]) => rows.filter((c) => isBad(c) && typeof c.detectionLimitSeconds === 'number' && c.detectionLimitSeconds > 0 && c.detectionLimitSeconds < DETECTION_GOAL.belowSeconds);
  const misses = (rows: readonly SafetyRow[]) => judged(rows).filter((c) => c.strategies.watchdog.detectionMedian === null || c.strategies.watchdog.detectionMedian > DETECTION_GOAL.maxRatio * (c.detectionLimitSeconds as number));
  const list = (rows: readonly SafetyRow[]) => rows.map((c) => `${c.kind} @ ${c.rps} (${c.strategies.watchdog.detectionMedian === null ? `no detection, limit ${secs(c.detectionLimitSeconds)} s` : `${num(c.strategies.watchdog.detectionMedian)} s vs ${secs(c.detectionLimitSeconds)} s, ${times(c.detectionRatio)}`})`).join('; ');
  if (!r.safety.some((c) => c.detectionLimitSeconds !== undefined)) return { goal, met: false, measured: 'not measured (results from before the detection-time limit)' };
  const quiet = judged(r.safety);
  const miss = misses(r.safety);
  const zero = r.safety.filter((c) => isBad(c) && c.detectionLimitSeconds === 0);
  const zeroMedians = new Set(zero.map((c) => num(c.strategies.watchdog.detectionMedian)));
  const noisy = noisyRows(r);
  const noisyMiss = noisy ? misses(noisy) : [];
  return {
    goal,
    met: quiet.length > 0 && miss.length === 0,
    measured: [
      miss.length ? `missed in ${miss.length} of ${quiet.length} cells: ${list(miss)}` : `met in all ${quiet.length} cells`,
      zero.length
        ? `limit 0 s, no ratio (${[...new Set(zero.map((c) => c.kind))].join(', ')}: they show on the first request): watchdog median ${zeroMedians.size === 1 ? `${[...zeroMedians][0]} s in all ${zero.length} cells` : zero.map((c) => `${c.kind} @ ${c.rps} ${num(c.strategies.watchdog.detectionMedian)} s`).join(', ')}`
        : '',
      noisy && noisy.some((c) => c.detectionLimitSeconds !== undefined)
        ? `noisy: ${noisyMiss.length ? `missed in ${noisyMiss.length} of ${judged(noisy).length} cells: ${noisyMiss.map((c) => `${c.kind} @ ${c.rps} ${c.strategies.watchdog.detectionMedian === null ? 'no detection' : times(c.detectionRatio)}`).join(', ')}` : `met in all ${judged(noisy).length} cells`}`
        : '',
    ].filter(Boolean).join('. '),
  };
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What a sized run was given (`--seeds`, `--trials`), against the full run's sizes; empty for the full run. */
export function sizeNote(s: Results['settings']): string {
  if (s.seeds === undefined || s.trials === undefined || (s.seeds >= 20 && s.trials >= 200)) return '';
  return ` with \`--seeds ${s.seeds} --trials ${s.trials}\` (${s.seeds} seeds per safety cell, ${s.noisySeeds ?? s.seeds} under noise, ${s.trials} good releases per false-rollback row; the full run takes 20, 10 and 200)`;
}

export function renderMarkdown(r: Results): string {
  const goals = judge(r);
  const t = r.throughput;
  const noisy = noisyRows(r);
  return [
    '# Benchmarks',
    '',
    `Measured on commit \`${r.commit}\`${r.dirty ? ' (with uncommitted changes)' : ''}${r.quick ? ' in quick mode' : ''}, ${r.measuredAt}, on the 2-core development machine, by \`npm run bench\`${sizeNote(r.settings)} (${r.wallSeconds} s). Raw figures: \`bench/results.json\`. The shared machine makes wall times noisy: they are context; counts and ratios, measured side by side in one run, are the result.`,
    '',
    '## Goals',
    '',
    '| goal | met | measured |',
    '|---|---|---|',
    ...goals.map((g) => `| ${g.goal} | ${g.met ? 'yes' : '**no**'} | ${g.measured} |`),
    '',
    'What blocks the goals not met: see [Analysis](#analysis).',
    '',
    '## Safety matrix',
    '',
    `Method: each trial rehearses one release of the sample app's OrdersApi (canary ${CANARY.percent} % for ${CANARY.minutes} minutes, then a 10-minute bake; error-rate threshold 2 %, p99 threshold 4 s, five probes) on a fresh lab, for up to ${r.settings.minutes} virtual minutes, once guarded by the watchdog and once by CodeDeploy's native alarm rollback on one alias-level error-rate alarm (\`npm run rehearse\`'s two strategies), on the same seed. The old version fails ${OLD_ERROR_RATE * 100} % of requests. Steady user traffic at the given rate. ${r.safety[0]?.trials ?? 0} seeds per cell.`,
    '',
    '- *caught*: bad releases stopped before the new version took 100 % (for the good release: the share rolled back, a false rollback);',
    '- *detect*: seconds from the first failed (for the slower release: the first) request to the new version, user or probe, to the stop: median / p90 over the trials that stopped;',
    '- *harmed*: user requests the new version failed (for the slower release: served slowly), median per trial;',
    '- *harmed ratio*: the watchdog\'s harmed requests over native\'s, median over median;',
    `- *oracle power*, *oracle detect s*: the honest limit (issue 23): Wald's sequential probability ratio test told the true error rates (the old version's ${OLD_ERROR_RATE * 100} % against the release's; a crash, a configuration mistake and a slower version fail or slow every request, so one request decides), with boundaries log((1 - β)/α) and log(β/(1 - α)) for a per-release false-rollback budget α = ${ORACLE_ALPHA * 100} % and power 1 - β = ${(1 - ORACLE_BETA) * 100} %, run on the canary's per-second traffic as the lab draws it (req/s each second, each request to the new version with the canary's ${CANARY.percent} %), truncated at the final shift (${CANARY.minutes * 60} s); ${ORACLE_RUNS.toLocaleString('en-US')} seeded runs (\`bench/oracle.ts\`). Power: the share of runs that reject before the final shift; detect: seconds from the first failed request to the rejection, median over the runs that reject. By the Wald-Wolfowitz theorem no test with the same error rates needs fewer requests on average. The SPRT stops for good at its lower boundary, so even a large excess is missed when the first requests happen to succeed: its power is near 90 % by design, not 100 %;`,
    '- *floor s*: the signal path\'s delay measured on the lab at that rate: per failed request of a 5 % release, the seconds until the first watchdog invocation that can read it, median (see "Signal path" below);',
    '- *catch / oracle*: the watchdog\'s catch rate over the oracle\'s power; *ratio to oracle + floor*: the watchdog\'s median detect over the oracle\'s median detect plus the floor;',
    `- *fixed-alpha detect s (every request)*: the old detection-time limit: an exact one-sided test at alpha ${ALPHA * 100} % applied after every request as it arrives (Poisson arrivals, ${LIMIT_RUNS.toLocaleString('en-US')} seeded runs), median seconds from the first failed request to the first rejection over the runs that reject; "-" when fewer than ${MIN_REJECTED * 100} % reject. Not a valid sequential test: for the good release it falsely rejects in the share of runs shown, above alpha. Kept as what it is, an optimistic bound no valid test reaches; *ratio to fixed-alpha* is the watchdog's median over it;`,
    `- *fixed-alpha power (one look)*: the power of an exact one-sided binomial test at alpha ${ALPHA * 100} % of all the new version's requests before the final shift, looked at once (n = rate x ${CANARY.percent} % x ${CANARY.minutes * 60} s) against the old version's ${OLD_ERROR_RATE * 100} %.`,
    '',
    ...safetyTable(r.safety),
    '',
    ...floorSection(r.floor),
    '## False rollbacks',
    '',
    `Good releases (old and new version both at ${OLD_ERROR_RATE * 100} % errors) on bursty traffic: every 10 seconds the rate is the mean times a log-normal factor with σ = ${r.settings.burstiness} (mean 1; 10-second rates from a fifth to three times the mean most of the time). Seeds 1001 onwards, the same for both strategies.`,
    '',
    ...falseRollbackTable(r.falseRollbacks),
    '',
    ...(noisy && r.falseRollbacksNoisy
      ? [
          '## Under noise',
          '',
          `The same releases in a noisier world: both versions' real invocations (the probes, the hooks' calls) fail ${(NOISE.transientErrorRate ?? 0) * 100} % of the time for reasons that are not the release's (\`noise.transientErrorRate\`), and each new execution environment pays a ${NOISE.coldStartMs ?? 0} ms init phase (\`noise.coldStartMs\`). OrdersApi has 5 probes. Safety matrix with ${noisy[0]?.trials ?? 0} seeds per cell (the oracle, floor and fixed-alpha columns ignore the noise, which hits the real invocations, not the users' requests the oracle reads: the same figures as above):`,
          '',
          ...safetyTable(noisy),
          '',
          ...(r.falseRollbacksNoisy.some((x) => x.kind !== undefined)
            ? [
                'False rollbacks of good releases under each kind of noise (issue 23), on the same bursty traffic and seeds as above; a valid guard completes every one:',
                '',
                ...NOISE_KINDS.filter((k) => r.falseRollbacksNoisy!.some((x) => x.kind === k.kind)).map((k) => `- *${k.kind}*: ${k.description};`),
              ]
            : ['False rollbacks of good releases under the same noise, on the same bursty traffic and seeds as above:']),
          '',
          ...falseRollbackTable(r.falseRollbacksNoisy),
          '',
        ]
      : []),
    '## Rehearsal throughput',
    '',
    `${t.trials} trials above (one strategy on one fresh lab each, ${r.settings.lanes} at a time) took ${(t.trialsWallMs / 1000).toFixed(0)} s for ${Math.round(t.virtualMinutes)} virtual minutes: ${(t.trials / (t.trialsWallMs / 60_000)).toFixed(0)} trials per minute. Per lab, virtual minutes per wall second: ${t.perLab.watchdog.toFixed(1)} with the watchdog (its functions run for real in worker threads), ${t.perLab.native.toFixed(0)} native (user traffic is simulated in aggregate; no function runs).`,
    ...(t.builtIn
      ? ['', `\`npm run rehearse\`'s tour of ${t.builtIn.scenarios} built-in scenarios, both strategies each: ${(t.builtIn.wallMs / 1000).toFixed(1)} s for ${Math.round(t.builtIn.virtualMinutes)} virtual minutes, ${(t.builtIn.scenarios / (t.builtIn.wallMs / 60_000)).toFixed(0)} scenarios per minute, ${(t.builtIn.virtualMinutes / (t.builtIn.wallMs / 1000)).toFixed(0)} virtual minutes per wall second.`]
      : []),
    '',
    `The lab alone (issue 4's target): a 30-minute deployment of OrdersApi at 20 requests/s, watchdog, prober and hooks running for real, takes ${(r.lab.deploymentMedianMs / 1000).toFixed(2)} s of wall time (median of ${r.lab.runs} runs, at most ${(r.lab.deploymentMaxMs / 1000).toFixed(2)} s; deployment ${r.lab.outcome}); the whole run, with starting the lab, loading the app and 2 minutes of warm-up traffic, ${(r.lab.totalMedianMs / 1000).toFixed(2)} s.`,
    '',
    '## Error-rate test in isolation',
    '',
    'Both error-rate rules of the new-version layer (absolute, and versus the old version), evaluated once a minute on cumulative counts over a 10-minute canary at 10 %; the old version at 0.5 %. Seeded simulation of the core functions alone (no lab).',
    '',
    '| case | trials | evaluations failing | deployments rolled back |',
    '|---|---|---|---|',
    ...r.comparison.map((c) => `| ${c.name} | ${c.trials} | ${pct(c.perEvaluation, 3)} | ${pct(c.perDeployment, 2)} |`),
    '',
    ...(r.alpha
      ? [
          '### The alpha trade-off',
          '',
          'The same simulation on the sample app\'s shape (threshold 2 %, canary 10 % for 5 minutes, then 10 minutes at 100 %, metrics visible a minute late as on the lab), per alpha of each evaluation (the default is 0.001): good releases rolled back at any point, bad ones stopped before the final shift.',
          '',
          `| alpha | ${r.alpha[0].cases.map((c) => `${c.name} (${c.trials})`).join(' | ')} |`,
          `|---|${r.alpha[0].cases.map(() => '---').join('|')}|`,
          ...r.alpha.map((a) => `| ${a.alpha} | ${a.cases.map((c) => pct(c.share, 2)).join(' | ')} |`),
          '',
        ]
      : []),
    '## Scale of the constructs',
    '',
    `In-process \`app.synth()\` of N guarded functions (\`configDelivery: state-table\`, one probe each) against N plain functions with an alias and a plain \`LambdaDeploymentGroup\`, both spread over stacks of ${PER_STACK} functions (each guarded stack with its own ReleaseWatchdog); with CDK's built-in template validation (what \`cdk synth\` does) and without it; and all N guarded in one stack. One stack holds at most **${r.maxPerStack.max}** guarded functions (${r.maxPerStack.fixed} resources for the watchdog and ${r.maxPerStack.perFunction} per function, under CloudFormation's 500); beyond that the constructs fail the synth with an error that names the count and says how to split.`,
    '',
    '| N | guarded: resources | guarded ms | plain: resources | plain ms | ratio | ratio without validation | all N in one stack |',
    '|---|---|---|---|---|---|---|---|',
    ...r.scale.map((s) => `| ${s.n} | ${s.guarded.resources ?? '-'} (${s.guarded.stacks} stack${s.guarded.stacks > 1 ? 's' : ''}) | ${num(s.guarded.ms)} | ${s.plain.resources ?? '-'} | ${num(s.plain.ms)} | ${(s.guarded.ms / s.plain.ms).toFixed(1)}x | ${(s.guardedNoValidation.ms / s.plainNoValidation.ms).toFixed(1)}x | ${s.oneStack.resources !== null ? `${s.oneStack.resources} resources` : `refused: ${(s.oneStack.error ?? '').trim().replace(/\|/g, '/')}`} |`),
    '',
    '## Watchdog cost',
    '',
    'One evaluation by the real bundled watchdog against the lab, with N deployments in progress: the steady run, which finds them in the registry of active deployments (warm, a minute after a first run that filled the registry), and the run 10 minutes later that lists every guarded group to reconcile the registry. The monthly figure is a model from the prices in shared/AWS-FACTS.md (standard alarms reading 12 metrics, the heartbeat alarm per group among them, and 6 custom metrics per function; watchdog and prober every minute, deployments in progress 5 % of the time), next to one 1-minute CloudWatch Synthetics canary per function.',
    '',
    '| N | API calls | per operation | wall ms | reconciling run: calls | wall ms | monthly (model) | Synthetics canaries |',
    '|---|---|---|---|---|---|---|---|',
    ...r.cost.map(
      (c) =>
        `| ${c.n} | ${c.calls} | ${hist(c.byOperation)} | ${c.wallMs} | ${c.reconcile?.calls ?? '-'} | ${c.reconcile?.wallMs ?? '-'} | $${c.monthly.watchdog.toFixed(2)} | $${c.monthly.synthetics.toFixed(2)} |`,
    ),
    '',
    ...(existsSync(EXTENSION) ? [readFileSync(EXTENSION, 'utf8').trim(), ''] : []),
    // The written analysis of the goals (packages/lab/bench/analysis.md), kept by hand next to the figures.
    ...(existsSync(ANALYSIS) ? [readFileSync(ANALYSIS, 'utf8').trim(), ''] : []),
  ].join('\n');
}

function safetyTable(cells: readonly SafetyRow[]): string[] {
  return [
    '| release | req/s | oracle power | oracle detect s | floor s | watchdog caught | catch / oracle | native caught | watchdog detect s | ratio to oracle + floor | native detect s | fixed-alpha power (one look) | fixed-alpha detect s (every request) | ratio to fixed-alpha | watchdog harmed | native harmed | harmed ratio | watchdog decided by |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...cells.map((c) => {
      const w = c.strategies.watchdog;
      const n = c.strategies.native;
      const falseRejections = !isBad(c) && c.detectionLimitRejected !== undefined ? ` (false rejections in ${pct(c.detectionLimitRejected, 1)} of runs)` : '';
      const o = c.oracle;
      return `| ${c.kind} | ${c.rps} | ${o ? pct(o.power) : '-'} | ${o ? secs(o.detectionSeconds) : '-'} | ${o ? secs(o.floorSeconds) : '-'} | ${pct(w.caught)} | ${c.oracleCatchShare === null || c.oracleCatchShare === undefined ? '-' : pct(c.oracleCatchShare)} | ${pct(n.caught)} | ${num(w.detectionMedian)} / ${num(w.detectionP90)} | ${times(c.oracleRatio)} | ${num(n.detectionMedian)} / ${num(n.detectionP90)} | ${pct(c.limit.power)} | ${secs(c.detectionLimitSeconds)}${falseRejections} | ${times(c.detectionRatio)} | ${num(w.harmedMedian)} | ${num(n.harmedMedian)} | ${c.harmRatio === null ? '-' : c.harmRatio.toFixed(2)} | ${Object.entries(w.decidedBy).map(([k, v]) => `${k} ${v}`).join(', ') || '-'} |`;
    }),
  ];
}

/** The signal path's measured delays per rate (absent in results from before issue 23). */
function floorSection(floor: readonly FloorMeasurement[] | undefined): string[] {
  if (!floor?.length) return [];
  const path = (p: FloorMeasurement['telemetry']) => `${secs(p.medianSeconds)} / ${secs(p.p90Seconds)}`;
  return [
    '### Signal path',
    '',
    `The floor of each cell: how long a failed request of the new version takes to reach the watchdog, measured on the lab (\`bench/floor.ts\`). A 5 % release of OrdersApi in shadow mode (so the whole ${CANARY.minutes}-minute canary runs), the old version at ${OLD_ERROR_RATE * 100} %; each failed request is timed to the first watchdog invocation that can read it: by the telemetry path (the Telemetry API's buffer, delivery at the version's next invocation, the extension's write of the state item, the stream's poll and the mapping's batching window), and by CloudWatch (the failure's one-minute Errors datapoint, published after Lambda's delay, and the next scheduled watchdog run). The floor is the faster path's median. Seconds, median / p90:`,
    '',
    '| req/s | seeds | failed requests | telemetry path | CloudWatch path | floor |',
    '|---|---|---|---|---|---|',
    ...floor.map((f) => `| ${f.rps} | ${f.seeds} | ${f.telemetry.failures} (telemetry saw ${f.telemetry.seen}, CloudWatch ${f.cloudwatch.seen}) | ${path(f.telemetry)} | ${path(f.cloudwatch)} | ${secs(f.floorSeconds)} |`),
    '',
  ];
}

function falseRollbackTable(rows: readonly FalseRollbackRow[]): string[] {
  const kinds = rows.some((x) => x.kind !== undefined);
  return [
    `|${kinds ? ' noise |' : ''} req/s | trials | watchdog rolled back | native rolled back | watchdog decided by | native decided by |`,
    `|${kinds ? '---|' : ''}---|---|---|---|---|---|`,
    ...rows.map((x) => `|${kinds ? ` ${x.kind ?? '-'} |` : ''} ${x.rps} | ${x.trials} | ${pct(x.rolledBack.watchdog, 1)} | ${pct(x.rolledBack.native, 1)} | ${hist(x.decidedBy.watchdog)} | ${hist(x.decidedBy.native)} |`),
  ];
}

function hist(h: Record<string, number>): string {
  return Object.entries(h).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
}
