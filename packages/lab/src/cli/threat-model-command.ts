/**
 * `canary-watchdog threat-model` and `threat-model merge`: read the flags, run the audit and the
 * rehearsals (lib: src/threat-model), print the table, write the JSON and the report, and exit 1
 * when a mode has fewer chances than `--fail-under` asks.
 */
import type { StrategyRunner } from '../rehearsal/processes';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { synthSampleApp } from '../lab/sample-app';
import { loadScenarios, parseStages, type Stage } from '../rehearsal/scenario';
import { InputError } from 'canary-watchdog/lib/core/validate';
import { audit, type AuditFinding } from '../threat-model/audit';
import { CATALOGUE, type FailureMode, type FunctionFacts } from '../threat-model/catalogue';
import { auditText, falseRollbacks, threatReport, threatTable, underRedundancy } from '../threat-model/output';
import { functionFacts, selectModes, threatModel, trials, type ThreatRow } from '../threat-model/run';
import { badInput, CliError, EXIT } from './exit-codes';

export interface ThreatModelFlags {
  readonly app?: string;
  readonly function?: readonly string[];
  readonly mode?: readonly string[];
  readonly scenario?: readonly string[];
  /** The app's stages (pipeline waves), `NAME:SHARE:BAKE_MINUTES` each. */
  readonly stages?: readonly string[];
  readonly quick?: boolean;
  readonly rps: number;
  readonly baselineErrorRate: number;
  readonly parallel: number;
  /** What runs each rehearsal (default: in this process); the CLI runs them in child processes. */
  readonly runner?: StrategyRunner;
  readonly seed: number;
  readonly shard?: readonly [number, number];
  readonly json?: string;
  readonly report?: string;
  readonly failUnder?: number;
  readonly auditOnly?: boolean;
  readonly interrupt?: AbortSignal;
  readonly out?: NodeJS.WritableStream;
}

/** The JSON `--json` writes and `merge` reads. */
export interface ThreatModelJson {
  readonly threatModel: 1;
  readonly shard?: string;
  readonly rps: number;
  readonly findings: readonly AuditFinding[];
  readonly rows: readonly ThreatRow[];
}

/** `--quick` leaves these out: said in the help and the output. */
export const QUICK_LEAVES_OUT = CATALOGUE.filter((m) => !m.quick).map((m) => m.id);

/** Whether `name` (a function name or construct id, as --function takes) names the function. */
const names = (f: FunctionFacts, name: string) => f.functionName === name || f.logicalId.startsWith(name) || f.functionName.includes(name);

/**
 * A user's scenario file as a failure mode: its behaviour, faults, noise and real traffic (events
 * and a code change, their paths resolved from the scenario's file); its expect.outcome says bad
 * or good. A scenario that names a function is rehearsed for that one only.
 */
function modeFromScenario(ref: string): FailureMode[] {
  const scenarios = loadScenarios([ref]);
  // Said, not dropped: the threat model runs each trial on one stage (all-stages-at-once takes --stages).
  const staged = scenarios.find((s) => s.stages);
  if (staged) throw badInput(`--scenario ${basename(staged.source)}: stages are not taken by threat-model; declare the app's waves with --stages, or rehearse it with canary-watchdog rehearse --scenario`);
  return scenarios.map((s) => ({
    id: s.name,
    group: 'code' as const,
    kind: s.expect.outcome === 'completed' ? ('good' as const) : ('bad' as const),
    quick: true,
    explain: s.description || `${basename(s.source)} (your scenario)`,
    build: (f: FunctionFacts) => {
      if (s.function && !names(f, s.function)) return { skip: `the scenario is for ${s.function} (${basename(s.source)})` };
      const { code, ...release } = s.release;
      const events = s.traffic.events;
      return {
        current: s.current,
        release: { ...release, ...(code ? { code: resolve(code) } : {}) },
        noise: s.noise,
        faults: s.faults,
        network: s.network,
        ...(s.shared ? { shared: s.shared } : {}),
        ...(events ? { traffic: { events: resolve(events.path), ...(s.traffic.realRps !== undefined ? { realRps: s.traffic.realRps } : {}) } } : {}),
      };
    },
  }));
}

export async function threatModelCommand(flags: ThreatModelFlags): Promise<ThreatModelJson> {
  const out = flags.out ?? process.stdout;
  let modes: FailureMode[];
  try {
    modes = selectModes(flags.mode, Boolean(flags.quick), (flags.scenario ?? []).flatMap(modeFromScenario));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw badInput((err as Error).message);
  }
  // Bad input is said before the app is synthesized and loaded.
  const stages = flags.stages?.length ? parseStagesFlag(flags.stages) : undefined;
  const app = flags.app ?? synthSampleApp();
  let facts = await functionFacts(app);
  if (flags.function?.length) {
    const chosen = facts.filter((f) => flags.function!.some((n) => names(f, n)));
    const unknown = flags.function.filter((n) => !facts.some((f) => names(f, n)));
    if (unknown.length) throw badInput(`--function ${unknown.join(', ')}: not a guarded function of the app; its guarded functions: ${facts.map((f) => `${f.functionName} (construct ${f.logicalId})`).join(', ')}`);
    facts = chosen;
  }
  if (stages) facts = facts.map((f) => ({ ...f, stages }));
  const findings = audit(app, facts, { rps: flags.rps, baselineErrorRate: flags.baselineErrorRate });
  out.write(auditText(findings));
  let rows: ThreatRow[] = [];
  if (!flags.auditOnly) {
    const planned = trials(facts, modes, flags.shard);
    out.write(`\nrehearsing ${planned.length} pairs of function and failure mode${flags.shard ? ` (shard ${flags.shard[0]}/${flags.shard[1]})` : ''} at ${flags.rps} requests/s${flags.quick ? `; --quick leaves out ${QUICK_LEAVES_OUT.join(', ')}` : ''}\n`);
    rows = await threatModel({
      assembly: app,
      facts,
      modes,
      rps: flags.rps,
      seed: flags.seed,
      parallel: flags.parallel,
      ...(flags.shard ? { shard: flags.shard } : {}),
      ...(flags.interrupt ? { signal: flags.interrupt } : {}),
      ...(flags.runner ? { runner: flags.runner } : {}),
      onRow: (r) => out.write(`  ${r.skipped ? 'skip' : 'done'} ${r.function} ${r.mode}\n`),
    });
  }
  const result: ThreatModelJson = { threatModel: 1, ...(flags.shard ? { shard: `${flags.shard[0]}/${flags.shard[1]}` } : {}), rps: flags.rps, findings, rows };
  finish(result, flags, out);
  return result;
}

/** Print, write and judge a threat model's result (a run's or merged shards'). */
function finish(result: ThreatModelJson, flags: Pick<ThreatModelFlags, 'json' | 'report' | 'failUnder' | 'interrupt'>, out: NodeJS.WritableStream): void {
  const need = flags.failUnder ?? 2;
  if (result.rows.length) out.write(`\n${threatTable(result.rows, need)}`);
  if (flags.json) {
    writeFileSync(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    out.write(`wrote ${flags.json}\n`);
  }
  if (flags.report) {
    writeFileSync(flags.report, threatReport(result.rows, result.findings, need));
    out.write(`wrote ${flags.report}\n`);
  }
  if (flags.interrupt?.aborted) throw flags.interrupt.reason;
  const weak = underRedundancy(result.rows, need);
  const falses = falseRollbacks(result.rows);
  out.write(`${result.rows.filter((r) => !r.skipped).length} rehearsed, ${weak.length} with fewer than ${need} chances before 100 %, ${falses.length} false rollbacks, ${result.findings.length} audit findings\n`);
  // What --fail-under asks is redundancy: false rollbacks are shown (FALSE ROLLBACK, in red), not counted.
  if (flags.failUnder !== undefined && weak.length) {
    throw new CliError(EXIT.failed, `--fail-under ${flags.failUnder}: fewer than ${flags.failUnder} layers stop ${weak.map((r) => `${r.function} ${r.mode} (${r.redundancy})`).join(', ')} before 100 %`);
  }
}

/** `threat-model merge FILE...`: the shards' JSON as one result. */
export function mergeCommand(files: readonly string[], flags: Pick<ThreatModelFlags, 'json' | 'report' | 'failUnder' | 'out'>): ThreatModelJson {
  const out = flags.out ?? process.stdout;
  if (!files.length) throw badInput('threat-model merge: name the shards\' JSON files (threat-model --shard I/N --json FILE)');
  const parts = files.map((f) => {
    let j: ThreatModelJson;
    try {
      j = JSON.parse(readFileSync(f, 'utf8')) as ThreatModelJson;
    } catch (err) {
      throw badInput(`${f}: ${(err as Error).message}`);
    }
    if (j.threatModel !== 1 || !Array.isArray(j.rows)) throw badInput(`${f}: not the JSON of threat-model --json (no "threatModel": 1 and "rows")`);
    return j;
  });
  const seen = new Set<string>();
  const rows: ThreatRow[] = [];
  for (const p of parts) {
    for (const r of p.rows) {
      const key = `${r.function} ${r.mode}`;
      if (seen.has(key)) throw badInput(`${key} is in two of the files: shards of one run never overlap`);
      seen.add(key);
      rows.push(r);
    }
  }
  const findings = [...new Map(parts.flatMap((p) => p.findings).map((f) => [`${f.id} ${f.path}`, f])).values()];
  const result: ThreatModelJson = { threatModel: 1, rps: parts[0].rps, findings, rows };
  out.write(auditText(findings));
  finish(result, flags, out);
  return result;
}

/** `--stages NAME:SHARE:BAKE_MINUTES...`, checked as a scenario's `stages`. */
export function parseStagesFlag(values: readonly string[]): Stage[] {
  const raw = values.map((v) => {
    const m = /^([^:]+):([^:]+):([^:]+)$/.exec(v);
    if (!m) throw badInput(`--stages ${v}: expected NAME:SHARE:BAKE_MINUTES (e.g. beta:0.01:30)`);
    const number = (x: string) => (/^\d+(\.\d+)?$/.test(x) ? Number(x) : x);
    return { name: m[1], trafficShare: number(m[2]), bakeMinutes: number(m[3]) };
  });
  try {
    return parseStages(raw, '--stages')!;
  } catch (err) {
    if (err instanceof InputError) throw badInput(err.message);
    throw err;
  }
}

/** `I/N`, 1 <= I <= N <= 256. */
export function parseShard(v: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || i < 1 || n < 1 || i > n || n > 256) throw badInput(`--shard: expected I/N with 1 <= I <= N <= 256 (e.g. 2/4), got ${v}`);
  return [i, n];
}
