/**
 * The rehearsal's figures in the docs, generated: `npm run rehearse -- --json FILE` measures,
 * `npm run docs -- --from FILE` keeps what the docs show in docs/rehearsal-figures.json and
 * rewrites every block between `<!-- figures: KIND [ARGS] -->` and `<!-- /figures -->` from it.
 * A test renders the blocks again from the kept file, and CI's rehearse step compares a fresh run
 * with it, so no figure in the docs can drift from what the command prints.
 */
import type { ScenarioResult } from '../rehearsal/result';
import { decidedByLines, resultsTable, stagesLines, type ScenarioFigures, type StrategyFigures } from '../rehearsal/summary';
import { threatTable } from '../threat-model/output';
import type { ThreatRow } from '../threat-model/run';

/** docs/rehearsal-figures.json: every built-in scenario, as much of its result as the docs show. */
export interface RehearsalFigures {
  /** How the figures were measured. */
  readonly measuredBy: string;
  readonly scenarios: readonly (ScenarioFigures & { readonly description: string })[];
  /** The sample's threat model (`threat-model --json`'s rows), when kept. */
  readonly threatModel?: readonly ThreatRow[];
}

export const MEASURED_BY = 'npm run rehearse -- --json FILE, then npm run docs -- --from FILE';

const strategyFigures = (r: StrategyFigures): StrategyFigures => ({
  outcome: r.outcome,
  maxTrafficPercent: r.maxTrafficPercent,
  failedUserRequests: r.failedUserRequests,
  detectionSeconds: r.detectionSeconds,
  decidedBy: r.decidedBy,
  stagesReached: r.stagesReached,
  fleetExposure: r.fleetExposure,
  ...(r.stages ? { stages: r.stages.map((s) => ({ ...s })) } : {}),
});

/** What the docs keep of a rehearsal's results (`rehearse --json`'s `scenarios`). */
export function figuresOf(results: readonly ScenarioResult[]): RehearsalFigures {
  return {
    measuredBy: MEASURED_BY,
    scenarios: results.map((r) => ({
      name: r.name,
      description: r.description,
      passed: r.passed,
      ...(r.stages ? { stages: [...r.stages] } : {}),
      strategies: { watchdog: strategyFigures(r.strategies.watchdog), native: strategyFigures(r.strategies.native) },
    })),
  };
}

/** The kinds of generated block, and what each takes after its kind. */
export const BLOCK_KINDS = {
  /** The summary table (a fenced block); ARGS: scenario names, in order (default: all). */
  'rehearsal-table': 'scenario names (default: every scenario)',
  /** The table, then the stages and what decided each stop, as `rehearse` prints them; ARGS: names. */
  'rehearsal-summary': 'scenario names (default: every scenario)',
  /** A Markdown table: each scenario, what it stands for, and each strategy's result. */
  'rehearsal-scenarios': 'none',
  /** How many built-in scenarios there are (inline). */
  'scenario-count': 'none',
  /** The sample's threat model as `threat-model --fail-under 2` prints it. */
  'threat-model-table': 'none',
} as const;

export type BlockKind = keyof typeof BLOCK_KINDS;

const FENCE = '```';

function pick(figures: RehearsalFigures, names: readonly string[]): ScenarioFigures[] {
  if (!names.length) return [...figures.scenarios];
  return names.map((n) => {
    const s = figures.scenarios.find((x) => x.name === n);
    if (!s) throw new Error(`figures: no scenario named ${n} in docs/rehearsal-figures.json; scenarios: ${figures.scenarios.map((x) => x.name).join(', ')}`);
    return s;
  });
}

const outcomeText = (r: StrategyFigures): string =>
  r.outcome === 'completed' ? `completed, ${r.failedUserRequests} failed` : `${r.outcome} at ${r.maxTrafficPercent} %, ${r.failedUserRequests} failed${r.detectionSeconds === null ? '' : `, ${r.detectionSeconds} s`}`;

const cellText = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** A block's content (without its markers). */
export function renderBlock(kind: string, args: readonly string[], figures: RehearsalFigures): string {
  if (!(kind in BLOCK_KINDS)) throw new Error(`figures: unknown block kind ${kind}; allowed: ${Object.keys(BLOCK_KINDS).join(', ')}`);
  const k = kind as BlockKind;
  if ((k === 'rehearsal-scenarios' || k === 'scenario-count' || k === 'threat-model-table') && args.length) throw new Error(`figures: ${k} takes no arguments, got ${args.join(' ')}`);
  switch (k) {
    case 'scenario-count':
      return String(figures.scenarios.length);
    case 'threat-model-table':
      if (!figures.threatModel) throw new Error('figures: no threat model kept: npm run docs -- --threat-model FILE (threat-model --json on the sample)');
      return [FENCE, ...threatTable(figures.threatModel, 2).trimEnd().split('\n'), FENCE].join('\n');
    case 'rehearsal-table':
      return [FENCE, ...resultsTable(pick(figures, args)), FENCE].join('\n');
    case 'rehearsal-summary': {
      const chosen = pick(figures, args);
      const lines = [...resultsTable(chosen)];
      for (const section of [stagesLines(chosen), decidedByLines(chosen)]) if (section.length) lines.push('', ...section);
      return [FENCE, ...lines, FENCE].join('\n');
    }
    case 'rehearsal-scenarios':
      return [
        '| scenario | what it stands for | watchdog | native alarm rollback |',
        '|---|---|---|---|',
        ...figures.scenarios.map((s) => `| \`${s.name}\` | ${cellText(s.description)} | ${outcomeText(s.strategies.watchdog)} | ${outcomeText(s.strategies.native)} |`),
      ].join('\n');
  }
}

const BLOCK = /<!-- figures: ([a-z-]+)((?: [^\s>]+)*) -->([\s\S]*?)<!-- \/figures -->/g;

/** A Markdown text with every block rendered again; `blocks` names them in order. */
export function regenerate(text: string, figures: RehearsalFigures): { text: string; blocks: string[] } {
  const blocks: string[] = [];
  const out = text.replace(BLOCK, (_all, kind: string, rawArgs: string, body: string) => {
    blocks.push(kind);
    const args = rawArgs.trim() ? rawArgs.trim().split(/\s+/) : [];
    const inline = !body.includes('\n');
    const content = renderBlock(kind, args, figures);
    return `<!-- figures: ${kind}${rawArgs} -->${inline ? content : `\n${content}\n`}<!-- /figures -->`;
  });
  return { text: out, blocks };
}

/** Where two sets of figures differ, one line per difference (none: the same). */
export function figureDifferences(kept: RehearsalFigures, fresh: RehearsalFigures): string[] {
  const diffs: string[] = [];
  // A threat model run (often --quick: a subset) against the kept rows of the same pairs.
  for (const r of fresh.threatModel ?? []) {
    const k = kept.threatModel?.find((x) => x.function === r.function && x.mode === r.mode);
    if (!k) diffs.push(`threat model ${r.function} ${r.mode}: not in the kept figures`);
    else if (JSON.stringify(k) !== JSON.stringify(r)) diffs.push(`threat model ${r.function} ${r.mode}: ${JSON.stringify(k.detectedBy)} -> ${JSON.stringify(r.detectedBy)}, ${k.maxTrafficPercent} % -> ${r.maxTrafficPercent} %, ${k.failedUserRequests} -> ${r.failedUserRequests} failed`);
  }
  if (!fresh.scenarios.length) return diffs;
  const names = (f: RehearsalFigures) => f.scenarios.map((s) => s.name);
  for (const n of names(fresh)) if (!names(kept).includes(n)) diffs.push(`${n}: new scenario, not in the kept figures`);
  for (const n of names(kept)) if (!names(fresh).includes(n)) diffs.push(`${n}: in the kept figures, not rehearsed`);
  for (const f of fresh.scenarios) {
    const k = kept.scenarios.find((s) => s.name === f.name);
    if (!k) continue;
    if (k.description !== f.description) diffs.push(`${f.name}: description changed`);
    if (k.passed !== f.passed) diffs.push(`${f.name}: met its expectations ${k.passed} -> ${f.passed}`);
    for (const strategy of ['watchdog', 'native'] as const) {
      const [a, b] = [k.strategies[strategy], f.strategies[strategy]];
      for (const key of Object.keys({ ...a, ...b }) as (keyof StrategyFigures)[]) {
        if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) diffs.push(`${f.name}, ${strategy}: ${key} ${JSON.stringify(a[key])} -> ${JSON.stringify(b[key])}`);
      }
    }
  }
  return diffs;
}
