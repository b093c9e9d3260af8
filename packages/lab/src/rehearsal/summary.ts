/**
 * The terminal's view of a rehearsal: the summary table after it and the live status line during
 * it. The table fits 100 columns; what does not fit in a cell (the deciding layer's reason, unmet
 * expectations) goes under the table, wrapped at word boundaries, never cut.
 */
import type { UserTraffic } from './real-traffic';
import type { ScenarioResult } from './result';
import { costText } from './capacity';
import type { StrategyResult } from './runner';

/** Width of the summary table and of the notes under it. */
export const TABLE_COLUMNS = 100;

const NAME = 22;

/** `s` in `n` columns: padded, or abbreviated with an ellipsis (names, never reasons). */
const fit = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/**
 * `text` in lines of at most `width` columns, broken between words (a longer word keeps a line
 * of its own); the first line starts with `first`, the others with `rest`.
 */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = '';
  const indent = () => (lines.length ? rest : first);
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent().length + line.length + 1 + word.length > width) {
      lines.push(indent() + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent() + line);
  return lines;
}

/** What the summary shows of a strategy's result: also all that docs/rehearsal-figures.json keeps. */
export type StrategyFigures = Pick<StrategyResult, 'outcome' | 'maxTrafficPercent' | 'failedUserRequests' | 'detectionSeconds' | 'decidedBy' | 'stagesReached' | 'fleetExposure' | 'stages'>;

/** What the summary shows of a scenario's result. */
export interface ScenarioFigures {
  readonly name: string;
  readonly passed: boolean;
  readonly stages?: readonly string[];
  readonly strategies: { readonly watchdog: StrategyFigures; readonly native: StrategyFigures };
}

const cell = (r: StrategyFigures) =>
  `${fit(r.outcome, 11)} ${`${r.maxTrafficPercent} %`.padStart(7)} ${String(r.failedUserRequests).padStart(6)} ${(r.detectionSeconds === null ? '-' : `${r.detectionSeconds}s`).padStart(6)}`;

/** What stopped a strategy's release, in words: the deciding layer and its signal or reason. */
export const decidedByText = (r: Pick<StrategyFigures, 'decidedBy'>): string | undefined => (r.decidedBy ? `${r.decidedBy.layer}: ${r.decidedBy.signal}` : undefined);

/** A share (0-1) in percent, two significant digits: 0.000058 is "0.0058 %". */
export const percent = (share: number): string => `${+(share * 100).toPrecision(2)} %`;

/** How far a staged release got: "1 of 3 stages (beta rolled-back), 0.0058 % of the fleet". */
export const stagesText = (r: StrategyFigures, of: number): string =>
  `${r.stagesReached} of ${of} stages (${(r.stages ?? []).map((s) => `${s.name} ${s.outcome}`).join(', ')}), ${percent(r.fleetExposure)} of the fleet`;

/** Both strategies side by side, one scenario a row, within TABLE_COLUMNS: the table alone. */
export function resultsTable(results: readonly ScenarioFigures[]): string[] {
  const heading = `${'outcome'.padEnd(11)} ${'max'.padStart(7)} ${'failed'.padStart(6)} ${'detect'.padStart(6)}`;
  return [
    `${''.padEnd(NAME + 5)} | ${'watchdog'.padEnd(heading.length)} | native CodeDeploy alarm rollback`,
    `${'scenario'.padEnd(NAME)} ${'met'.padEnd(4)} | ${heading} | ${heading}`,
    '-'.repeat(NAME + 5 + 2 * (heading.length + 3)),
    ...results.map((r) => `${fit(r.name, NAME)} ${r.passed ? 'pass' : 'FAIL'} | ${cell(r.strategies.watchdog)} | ${cell(r.strategies.native)}`),
  ];
}

/** The staged scenarios' stages and fleet exposure, one wrapped line per strategy (none without stages). */
export function stagesLines(results: readonly ScenarioFigures[]): string[] {
  const staged = results.filter((r) => r.stages);
  if (!staged.length) return [];
  const lines = ['stages reached and fleet exposure (the share of all user requests the new version served):'];
  for (const r of staged) {
    for (const [name, x] of [['watchdog', r.strategies.watchdog], ['native', r.strategies.native]] as const) lines.push(...wrap(`${r.name}, ${name}: ${stagesText(x, r.stages!.length)}`, TABLE_COLUMNS, '  ', '    '));
  }
  return lines;
}

/** What decided each watchdog stop, never cut (none when nothing was stopped by a layer). */
export function decidedByLines(results: readonly ScenarioFigures[]): string[] {
  const decided = results.filter((r) => r.strategies.watchdog.decidedBy);
  if (!decided.length) return [];
  return ['decided by (watchdog):', ...decided.flatMap((r) => wrap(`${r.name}: ${decidedByText(r.strategies.watchdog)}`, TABLE_COLUMNS, '  ', '    '))];
}

/** Both strategies side by side, one scenario a row, within TABLE_COLUMNS; reasons under the table. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const lines = ['', ...resultsTable(results), ''];
  for (const section of [stagesLines(results), decidedByLines(results)]) if (section.length) lines.push(...section, '');
  // Scenarios with events, or whose failures are not all the injected behaviour they state.
  const sourced = results.filter((r) => {
    const u = r.strategies.watchdog.userTraffic;
    return u && (u.events || u.failures.code || u.failures.noise);
  });
  if (sourced.length) {
    lines.push("where the new version's failed requests came from (watchdog):");
    for (const r of sourced) lines.push(...wrap(`${r.name}: ${failureSourcesText(r.strategies.watchdog.userTraffic!)}`, TABLE_COLUMNS, '  ', '    '));
    lines.push('');
  }
  const costed = results.filter((r) => r.strategies.watchdog.cost.length);
  if (costed.length) {
    lines.push('DynamoDB and added latency (watchdog; per minute in the JSON and the report):');
    for (const r of costed) lines.push(...wrap(`${r.name}: ${costText(r.strategies.watchdog.cost)}`, TABLE_COLUMNS, '  ', '    '));
    lines.push('');
  }
  lines.push(`${results.filter((r) => r.passed).length} of ${results.length} scenarios met their expectations (watchdog strategy).`);
  for (const r of results.filter((x) => !x.passed)) lines.push(...wrap(`${r.name}: ${r.failures.join('; ')}`, TABLE_COLUMNS, '  ', '    '));
  lines.push('');
  return lines.join('\n');
}

/** One strategy's state in the live view. */
export interface LiveStatus {
  readonly strategy: string;
  /** The new version's traffic share, 0-1. */
  readonly weight: number;
  /** CodeDeploy's status of the deployment. */
  readonly status: string;
  /** The watchdog's layers, "config=healthy probes=insufficient ...". */
  readonly layers: string;
}

/**
 * The live view's status of a scenario in `width` columns: with the layers when they fit, without
 * them when not, then with the strategies' initials, and cut with an ellipsis only when even that
 * does not fit (a status, not a reason).
 */
export function liveStatusLine(statuses: readonly LiveStatus[], width: number): string {
  const pct = (s: LiveStatus) => (s.weight * 100).toFixed(0);
  const forms = [
    statuses.map((s) => `${s.strategy}: ${pct(s)} % new, ${s.status}${s.layers ? `, ${s.layers}` : ''}`).join(' | '),
    statuses.map((s) => `${s.strategy}: ${pct(s)} % ${s.status}`).join(' | '),
    // W and N: the strategies' initials, for a narrow terminal.
    statuses.map((s) => `${s.strategy[0].toUpperCase()} ${pct(s)}% ${s.status}`).join(' | '),
  ];
  const fitting = forms.find((f) => f.length <= width);
  return fitting ?? (width <= 0 ? '' : fit(forms[forms.length - 1], width).trimEnd());
}

/** The live view's line before the status: the scenario's name, its bar, the minutes (up to "3000.0/3000 min"). */
export const LIVE_FORMAT = `{scenario} [{bar}] {value}/{total} min | {status}`;
export const LIVE_BAR_SIZE = 16;
export const LIVE_PREFIX_COLUMNS = NAME + ' ['.length + LIVE_BAR_SIZE + '] '.length + '3000.0/3000 min'.length + ' | '.length;
export const liveName = (name: string): string => fit(name, NAME);

/**
 * Where a version's failed user requests came from (real code, injected behaviour, noise,
 * throttles) and, with events, the share invoked for real and the margin sampling leaves.
 */
export function failureSourcesText(u: UserTraffic): string {
  const f = u.failures;
  const parts = ([['code', 'real code'], ['injected', 'injected behaviour'], ['noise', 'noise'], ['throttled', 'throttled']] as const).filter(([k]) => f[k]).map(([k, what]) => `${f[k]} ${what}`);
  const failed = parts.length ? parts.join(', ') : 'none failed';
  if (!u.events) return `${failed} (simulated traffic: ${u.requests} requests)`;
  const margin = u.failureRateMargin95 ? `, failure rate known within ±${percent(u.failureRateMargin95)} (95 %)` : '';
  return `${failed}; ${percent(u.realShare)} of ${u.requests} requests invoked the real code${margin}`;
}
