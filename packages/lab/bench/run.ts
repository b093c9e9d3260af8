/**
 * `npm run bench`: runs the benchmarks, writes bench/results.json and BENCHMARKS.md.
 * `--quick` uses fewer seeds, trials and sizes, and writes to a scratch folder unless `--write`
 * (the committed files) or `--out DIR` is given (see ./output.ts). Figures are measured on this machine in one run;
 * wall times are context, counts and ratios are the result.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthSampleApp } from '../src/lab/sample-app';
import { rehearse } from '../src/rehearsal/rehearse';
import { loadScenarios, QUICK_SCENARIOS } from '../src/rehearsal/scenario';
import { StrategyProcesses } from '../src/rehearsal/processes';
import { alphaSweep, runComparison } from './comparison-test';
import { labSpeed } from './lab-speed';
import { EXIT, exitCodeOf } from '../src/cli/exit-codes';
import { benchOutput, type BenchOutput } from './output';
import { renderMarkdown } from './report';
import { measureFloor } from './floor';
import { CANARY, NOISE, NOISE_KINDS, OLD_ERROR_RATE, runFalseRollbacks, runMatrix, type FalseRollbackRow, type Trial } from './safety';
import { maxPerStack, runScale } from './scale';
import { evaluationCost, monthlyCost } from './watchdog-cost';

/** Labs run at once: their functions run in worker threads; two keep both cores busy. */
const LANES = 2;
/** Trial horizon: 1 minute of hook, 5 of canary, 10 of bake, and room for the rollback. */
const MINUTES = 20;
/** σ of the bursty traffic's log-normal rate factor (see lib/lab/traffic.ts). */
const BURSTINESS = 1;

const progress = (what: string) => (done: number, of: number) => {
  if (done === of || done % 20 === 0) process.stderr.write(`${what}: ${done}/${of}\n`);
};

void (async () => {
  let output: BenchOutput;
  try {
    output = benchOutput(process.argv.slice(2), { resultsJson: join(__dirname, 'results.json'), benchmarksMd: join(__dirname, '..', '..', '..', 'BENCHMARKS.md') });
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(exitCodeOf(err));
  }
  if (output.render) {
    // BENCHMARKS.md again from results.json (after editing bench/analysis.md), no measuring.
    const md = renderMarkdown(JSON.parse(readFileSync(output.resultsJson, 'utf8')) as Parameters<typeof renderMarkdown>[0]);
    writeFileSync(output.benchmarksMd, md);
    process.stderr.write(`wrote ${output.benchmarksMd}\n`);
    return;
  }
  const quick = output.quick;
  // The run's sizes: the full run's, the quick try-out's, or those asked for (--seeds, --trials).
  const seeds = output.seeds ?? (quick ? 2 : 20);
  const noisySeeds = output.seeds !== undefined ? Math.ceil(output.seeds / 2) : quick ? 2 : 10;
  const trials = output.trials ?? (quick ? 10 : 200);
  process.stderr.write(`writing ${output.resultsJson} and ${output.benchmarksMd}${output.committed ? ' (the committed figures)' : ''} at the end\n`);
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const dirty = execSync('git status --porcelain', { encoding: 'utf8' }).trim() !== '';
  const started = Date.now();
  const app = synthSampleApp();

  // The signal path's floor per rate: each failed request of a 5 % release timed to the watchdog's
  // first invocation that reads it, over the canary (shadow mode, so the whole canary runs).
  const floor = [];
  for (const rps of [1, 20, 200]) {
    floor.push(await measureFloor(app, { rps, seeds: quick ? 1 : 3, oldErrorRate: OLD_ERROR_RATE, newErrorRate: 0.05, minutes: CANARY.minutes }));
    process.stderr.write(`floor at ${rps} req/s: ${floor[floor.length - 1].floorSeconds} s\n`);
  }
  const floors = new Map(floor.map((f) => [f.rps, f.floorSeconds]));

  const t = Date.now();
  const safety = await runMatrix(app, { seeds, rps: [1, 20, 200], minutes: MINUTES, lanes: LANES, floors, onProgress: progress('safety matrix') });
  const safetyWallMs = Date.now() - t;
  const f = Date.now();
  const falseRollbacks = await runFalseRollbacks(app, { trials, rps: [1, 20], burstiness: BURSTINESS, minutes: MINUTES, lanes: LANES, onProgress: progress('false rollbacks') });
  // The same under noise: transient failures and cold starts in both versions (NOISE).
  const safetyNoisy = await runMatrix(app, { seeds: noisySeeds, rps: [1, 20, 200], minutes: MINUTES, lanes: LANES, noise: NOISE, floors, onProgress: progress('safety matrix, noisy') });
  // Each kind of noise (issue 23) its own rows: good releases that a valid guard completes.
  const falseRollbacksNoisy = { rows: [] as FalseRollbackRow[], trials: [] as Trial[] };
  for (const k of NOISE_KINDS) {
    const r = await runFalseRollbacks(app, { trials, rps: k.rps, burstiness: BURSTINESS, minutes: MINUTES, lanes: LANES, kind: k.kind, ...(k.noise ? { noise: k.noise } : {}), ...(k.extra ? { extra: k.extra } : {}), onProgress: progress(`false rollbacks, ${k.kind}`) });
    falseRollbacksNoisy.rows.push(...r.rows);
    falseRollbacksNoisy.trials.push(...r.trials);
  }
  const falseWallMs = Date.now() - f;

  // Rehearsal throughput: the built-in tour as `npm run rehearse` runs it (rehearse --quick: each
  // strategy in a child process of the CLI), and the trials above (one strategy on one fresh lab each).
  const r = Date.now();
  const scenarios = loadScenarios(QUICK_SCENARIOS);
  const processes = new StrategyProcesses(4, { script: join(__dirname, '..', 'bin', 'canary-watchdog.js'), execArgv: [] });
  const rehearsal = quick ? [] : await rehearse({ scenarios, app, out: Object.assign(process.stderr, { isTTY: false }) as NodeJS.WriteStream, runner: processes.run }).finally(() => processes.close());
  const rehearseWallMs = Date.now() - r;
  const allTrials = [...Object.values(safety.trials).flat(), ...falseRollbacks.trials, ...Object.values(safetyNoisy.trials).flat(), ...falseRollbacksNoisy.trials];
  const throughput = {
    trials: allTrials.length,
    trialsWallMs: safetyWallMs + falseWallMs,
    virtualMinutes: allTrials.reduce((a, x) => a + x.virtualMinutes, 0),
    perLab: {
      watchdog: virtualPerWall(Object.entries(safety.trials).filter(([k]) => k.endsWith('watchdog')).flatMap(([, v]) => v)),
      native: virtualPerWall(Object.entries(safety.trials).filter(([k]) => k.endsWith('native')).flatMap(([, v]) => v)),
    },
    builtIn: quick
      ? null
      : {
          scenarios: rehearsal.length,
          wallMs: rehearseWallMs,
          virtualMinutes: rehearsal.reduce((a, s) => a + s.strategies.watchdog.virtualMinutes + s.strategies.native.virtualMinutes, 0),
        },
  };

  const lab = await labSpeed(app, quick ? 3 : 10);
  const comparison = runComparison(quick ? 0.2 : 1);
  const alpha = alphaSweep([0.001, 0.003, 0.005, 0.01], quick ? 0.2 : 1);
  const scale = runScale(quick ? [1, 10] : [1, 10, 50, 200]);
  const perStack = maxPerStack();
  const cost = [];
  for (const n of quick ? [1, 10] : [1, 10, 50, 200]) {
    const c = await evaluationCost(n);
    cost.push({ ...c, monthly: monthlyCost(n, c.calls) });
  }
  const results = {
    commit,
    dirty,
    quick,
    measuredAt: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    settings: { lanes: LANES, minutes: MINUTES, burstiness: BURSTINESS, seeds, noisySeeds, trials },
    floor,
    safety: safety.cells,
    falseRollbacks: falseRollbacks.rows,
    // The noisy matrix, shaped like `safety` (issue 16); `safetyNoisy` keeps the same rows for older readers.
    noisy: safetyNoisy.cells,
    safetyNoisy: safetyNoisy.cells,
    falseRollbacksNoisy: falseRollbacksNoisy.rows,
    throughput,
    lab,
    comparison,
    alpha,
    scale,
    maxPerStack: perStack,
    cost,
  };
  writeFileSync(output.resultsJson, `${JSON.stringify(results, null, 2)}\n`);
  const md = renderMarkdown(results);
  writeFileSync(output.benchmarksMd, md);
  console.log(md);
  process.stderr.write(`wrote ${output.resultsJson} and ${output.benchmarksMd}${output.committed ? '' : ' (not the committed figures: --write writes those)'}\n`);
  process.exit(EXIT.ok);
})();

function virtualPerWall(ts: readonly { virtualMinutes: number; wallMs: number }[]): number {
  const wall = ts.reduce((a, x) => a + x.wallMs, 0);
  return wall ? ts.reduce((a, x) => a + x.virtualMinutes, 0) / (wall / 1000) : 0;
}
