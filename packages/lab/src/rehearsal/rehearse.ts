import { MultiBar } from 'cli-progress';
import { InputError } from 'canary-watchdog/lib/core/validate';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LabError } from '../lab/kernel';
import { Lab } from '../lab/lab';
import { synthSampleApp } from '../lab/sample-app';
import { renderReport } from './report';
import { LIVE_BAR_SIZE, LIVE_FORMAT, LIVE_PREFIX_COLUMNS, liveName, liveStatusLine, summaryTable, type LiveStatus } from './summary';
import { runStrategy, STRATEGIES, type StrategyResult } from './runner';
import type { Scenario } from './scenario';
import type { StrategyRunner } from './processes';
import type { ScenarioResult } from './result';

export type { ScenarioResult } from './result';


export interface RehearsalOptions {
  readonly scenarios: readonly Scenario[];
  /** A synthesized cloud assembly; default: the sample app, synthesized now. */
  readonly app?: string;
  /** Overrides every scenario's seed. */
  readonly seed?: number;
  /** Scenarios run at once (each runs its two strategies at once too). @default 2 */
  readonly parallel?: number;
  readonly json?: string;
  readonly report?: string;
  /** Where progress and the summary go. */
  readonly out?: NodeJS.WriteStream;
  /**
   * Fires when the user stops the rehearsal (Ctrl-C): the running scenarios stop, the finished
   * ones are summarized (and written to `json`), and the rehearsal rejects with the signal's reason.
   */
  readonly interrupt?: AbortSignal;
  /** What runs each strategy: in this process (default), or in child processes (StrategyProcesses.run, the CLI's). */
  readonly runner?: StrategyRunner;
}

/** The scenario's expectations, checked against the watchdog strategy. */
export function check(s: Scenario, r: StrategyResult): string[] {
  const failures: string[] = [];
  if (r.outcome !== s.expect.outcome) failures.push(`outcome ${r.outcome}, expected ${s.expect.outcome}`);
  if (s.expect.maxTrafficPercent !== undefined && r.maxTrafficPercent > s.expect.maxTrafficPercent) {
    failures.push(`the new version reached ${r.maxTrafficPercent} % of traffic, expected at most ${s.expect.maxTrafficPercent} %`);
  }
  if (s.expect.maxFailedUserRequests !== undefined && r.failedUserRequests > s.expect.maxFailedUserRequests) {
    failures.push(`${r.failedUserRequests} failed user requests, expected at most ${s.expect.maxFailedUserRequests}`);
  }
  if (s.expect.stagesReached !== undefined && r.stagesReached !== s.expect.stagesReached) {
    failures.push(`the release reached ${r.stagesReached} of ${s.stages?.length ?? 1} stages, expected ${s.expect.stagesReached}`);
  }
  if (s.expect.wouldHaveRolledBack !== undefined && r.wouldHaveRolledBack !== s.expect.wouldHaveRolledBack) {
    failures.push(
      s.expect.wouldHaveRolledBack
        ? 'no decision record says enforce mode would have stopped it (actionResult "would stop-deployment" or "would fail-bake")'
        : 'a decision record says enforce mode would have stopped it',
    );
  }
  return failures;
}

/**
 * Bad input before any long work: a scenario whose `function` is none of the app's guarded
 * functions. Loads the app once into a lab that runs nothing.
 */
export async function checkScenarioFunctions(scenarios: readonly Scenario[], app: string): Promise<void> {
  const lab = new Lab({ warm: false, reuseThreads: true });
  await lab.start();
  try {
    await lab.loadAssembly(app);
    for (const s of scenarios) {
      try {
        lab.release(s.function);
      } catch (err) {
        if (!(err instanceof LabError)) throw err;
        const known = lab.releases.map((r) => `${r.functionName} (construct ${r.logicalId})`).join(', ') || 'none';
        throw new InputError(`${basename(s.source)}: function ${s.function ?? '(default)'} is not a guarded function of the app; its guarded functions: ${known}`, `${basename(s.source)}.function`);
      }
    }
  } finally {
    await lab.stop();
  }
}

/** Run every scenario with both strategies on identical traffic and faults. */
export async function rehearse(opts: RehearsalOptions): Promise<ScenarioResult[]> {
  const out = opts.out ?? process.stdout;
  const tty = Boolean(out.isTTY);
  const app = opts.app ?? synthSampleApp();
  await checkScenarioFunctions(opts.scenarios, app);
  const results: ScenarioResult[] = new Array(opts.scenarios.length);
  const abort = new AbortController();
  // The live view: one line per running scenario with its virtual time, the new version's share,
  // the deployment's status and the watchdog's layers; quiet when not a terminal.
  // Each line fits the terminal's width (a wrapped line would break the view's redraw).
  const columns = () => out.columns || 100;
  const bars = tty ? new MultiBar({ format: LIVE_FORMAT, hideCursor: true, clearOnComplete: true, stream: out, barsize: LIVE_BAR_SIZE, linewrap: false }) : undefined;
  const runOne = async (index: number) => {
    const base = opts.scenarios[index];
    const scenario = opts.seed === undefined ? base : { ...base, seed: opts.seed };
    const status: Record<string, LiveStatus> = {};
    const bar = bars?.create(scenario.traffic.minutes, 0, { scenario: liveName(scenario.name), status: 'starting' });
    // Both strategies run at once on separate labs: their functions run in worker threads and
    // the lab mostly waits on them, and each lab's virtual clock keeps its run deterministic.
    // A run that cannot be judged (RehearsalError) ends the whole rehearsal, the other run too.
    const [watchdog, native] = await Promise.all(
      STRATEGIES.map((strategy) =>
        (opts.runner ?? runStrategy)(
          scenario,
          strategy,
          app,
          (p) => {
            status[strategy] = { strategy, weight: p.weight, status: p.status, layers: p.layers };
            bar?.update(Math.min(p.of, Math.round(p.minute * 10) / 10), { status: liveStatusLine(STRATEGIES.flatMap((x) => status[x] ?? []), columns() - LIVE_PREFIX_COLUMNS - 1) });
          },
          abort.signal,
        ).catch((err: unknown) => {
          abort.abort(err);
          throw err;
        }),
      ),
    );
    if (bar) bars?.remove(bar);
    const failures = check(scenario, watchdog);
    results[index] = { name: scenario.name, description: scenario.description, passed: failures.length === 0, failures, expect: scenario.expect, ...(scenario.stages ? { stages: scenario.stages.map((x) => x.name) } : {}), strategies: { watchdog, native } };
    if (!tty) out.write(`${failures.length ? 'FAIL' : 'ok  '} ${scenario.name}\n`);
  };
  let next = 0;
  const lanes = Math.max(1, Math.min(opts.parallel ?? 2, opts.scenarios.length));
  const stop = () => abort.abort(opts.interrupt!.reason);
  opts.interrupt?.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < opts.scenarios.length && !abort.signal.aborted) await runOne(next++);
      }),
    );
  } catch (err) {
    // Interrupted: the scenarios that finished are still results.
    if (!opts.interrupt?.aborted) throw err;
  } finally {
    bars?.stop();
    opts.interrupt?.removeEventListener('abort', stop);
  }
  const finished = results.filter(Boolean);
  const interrupted = Boolean(opts.interrupt?.aborted);
  out.write(summaryTable(finished));
  if (interrupted) out.write(`interrupted: ${finished.length} of ${opts.scenarios.length} scenarios finished (shown above); the others were stopped or not started\n`);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ ...(interrupted ? { interrupted: true } : {}), scenarios: finished }, null, 2)}\n`);
    out.write(`wrote ${opts.json}\n`);
  }
  if (opts.report) {
    writeFileSync(opts.report, renderReport(finished));
    out.write(`wrote ${opts.report}\n`);
  }
  if (interrupted) throw opts.interrupt!.reason;
  return results;
}
