import { MultiBar } from 'cli-progress';
import { writeFileSync } from 'node:fs';
import { synthSampleApp } from '../lab/sample-app';
import { renderReport } from './report';
import { runStrategy, STRATEGIES, type StrategyResult } from './runner';
import type { Scenario } from './scenario';

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly passed: boolean;
  /** Why `passed` is false, one line per unmet expectation. */
  readonly failures: readonly string[];
  readonly expect: Scenario['expect'];
  readonly strategies: { readonly watchdog: StrategyResult; readonly native: StrategyResult };
}

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
  if (s.expect.wouldHaveRolledBack !== undefined && r.wouldHaveRolledBack !== s.expect.wouldHaveRolledBack) {
    failures.push(
      s.expect.wouldHaveRolledBack
        ? 'no decision record says enforce mode would have stopped it (actionResult "would stop-deployment" or "would fail-bake")'
        : 'a decision record says enforce mode would have stopped it',
    );
  }
  return failures;
}

/** Run every scenario with both strategies on identical traffic and faults. */
export async function rehearse(opts: RehearsalOptions): Promise<ScenarioResult[]> {
  const out = opts.out ?? process.stdout;
  const tty = Boolean(out.isTTY);
  const app = opts.app ?? synthSampleApp();
  const results: ScenarioResult[] = new Array(opts.scenarios.length);
  const abort = new AbortController();
  // The live view: one line per running scenario with its virtual time, the new version's share,
  // the deployment's status and the watchdog's layers; quiet when not a terminal.
  const bars = tty ? new MultiBar({ format: `{scenario} [{bar}] {value}/{total} min | {status}`, hideCursor: true, clearOnComplete: true, stream: out, barsize: 16 }) : undefined;
  const runOne = async (index: number) => {
    const base = opts.scenarios[index];
    const scenario = opts.seed === undefined ? base : { ...base, seed: opts.seed };
    const status: Record<string, string> = {};
    const bar = bars?.create(scenario.traffic.minutes, 0, { scenario: scenario.name.padEnd(22), status: 'starting' });
    // Both strategies run at once on separate labs: their functions run in worker threads and
    // the lab mostly waits on them, and each lab's virtual clock keeps its run deterministic.
    // A run that cannot be judged (RehearsalError) ends the whole rehearsal, the other run too.
    const [watchdog, native] = await Promise.all(
      STRATEGIES.map((strategy) =>
        runStrategy(
          scenario,
          strategy,
          app,
          (p) => {
            status[strategy] = `${strategy}: ${(p.weight * 100).toFixed(0)} % new, ${p.status}${p.layers ? `, ${p.layers}` : ''}`;
            bar?.update(Math.min(p.of, Math.round(p.minute * 10) / 10), { status: Object.values(status).join(' | ').slice(0, 140) });
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
    results[index] = { name: scenario.name, description: scenario.description, passed: failures.length === 0, failures, expect: scenario.expect, strategies: { watchdog, native } };
    if (!tty) out.write(`${failures.length ? 'FAIL' : 'ok  '} ${scenario.name}\n`);
  };
  let next = 0;
  const lanes = Math.max(1, Math.min(opts.parallel ?? 2, opts.scenarios.length));
  try {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < opts.scenarios.length && !abort.signal.aborted) await runOne(next++);
      }),
    );
  } finally {
    bars?.stop();
  }
  out.write(summaryTable(results));
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ scenarios: results }, null, 2)}\n`);
    out.write(`wrote ${opts.json}\n`);
  }
  if (opts.report) {
    writeFileSync(opts.report, renderReport(results));
    out.write(`wrote ${opts.report}\n`);
  }
  return results;
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** Both strategies side by side, one scenario a row. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const cell = (r: StrategyResult) =>
    `${pad(r.outcome, 11)} ${String(r.maxTrafficPercent).padStart(5)} % ${String(r.failedUserRequests).padStart(6)} ${(r.detectionSeconds === null ? '-' : `${r.detectionSeconds}s`).padStart(6)}`;
  const head = `${pad('scenario', 22)} ${pad('', 4)} | ${pad('watchdog: outcome', 11)}  max % failed detect | ${pad('native: outcome', 11)}  max % failed detect | decided by (watchdog)`;
  const lines = [
    '',
    head,
    '-'.repeat(head.length + 10),
    ...results.map(
      (r) =>
        `${pad(r.name, 22)} ${r.passed ? 'pass' : 'FAIL'} | ${cell(r.strategies.watchdog)} | ${cell(r.strategies.native)} | ${r.strategies.watchdog.decidedBy ? pad(`${r.strategies.watchdog.decidedBy.layer}: ${r.strategies.watchdog.decidedBy.signal}`, 60) : '-'}`,
    ),
    '',
    `${results.filter((r) => r.passed).length} of ${results.length} scenarios met their expectations (watchdog strategy).`,
    ...results.filter((r) => !r.passed).map((r) => `  ${r.name}: ${r.failures.join('; ')}`),
    '',
  ];
  return lines.join('\n');
}
