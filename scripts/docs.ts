/**
 * `npm run docs`: the docs' generated figures.
 *
 *   npm run docs -- --from FILE     keep FILE's figures (rehearse --json) in docs/rehearsal-figures.json
 *                                   and rewrite every generated block in the README and docs/
 *   npm run docs -- --check         fail when a block differs from what the kept figures render
 *   npm run docs -- --check --from FILE
 *                                   also fail when FILE's figures (a fresh rehearsal) differ from the kept ones
 *   npm run docs -- [--check] --threat-model FILE
 *                                   the same for the sample's threat model (threat-model --json; with
 *                                   --check, a --quick run's rows against the kept rows of the same pairs)
 *
 * Exit status: 0 up to date (or rewritten), 1 drift found by --check, 2 bad input.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { figureDifferences, figuresOf, regenerate, type RehearsalFigures } from '../packages/lab/src/docs-figures/figures';
import type { ScenarioResult } from '../packages/lab/src/rehearsal/result';
import type { ThreatRow } from '../packages/lab/src/threat-model/run';

const ROOT = resolve(__dirname, '..');
export const FIGURES_FILE = join(ROOT, 'docs', 'rehearsal-figures.json');

/** The Markdown files that may hold generated blocks: the README and docs/. */
export const docFiles = (): string[] => [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];

function usage(problem: string): never {
  process.stderr.write(`docs: ${problem}\nusage: npm run docs -- [--check] [--from FILE] [--threat-model FILE]   (rehearse --json's, threat-model --json's output)\n`);
  process.exit(2);
}

function readResults(file: string): RehearsalFigures {
  let parsed: { scenarios?: ScenarioResult[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    usage(`--from ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed.scenarios) || !parsed.scenarios.length) usage(`--from ${file}: expected rehearse --json's output ({ "scenarios": [...] }), found no scenarios`);
  return figuresOf(parsed.scenarios);
}

function readThreatModel(file: string): ThreatRow[] {
  let parsed: { threatModel?: number; rows?: ThreatRow[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    usage(`--threat-model ${file}: ${(e as Error).message}`);
  }
  if (parsed.threatModel !== 1 || !Array.isArray(parsed.rows)) usage(`--threat-model ${file}: expected threat-model --json's output ({ "threatModel": 1, "rows": [...] })`);
  return parsed.rows;
}

function main(argv: readonly string[]): number {
  let check = false;
  let from: string | undefined;
  let threat: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--from') from = argv[++i] ?? usage('--from needs a file');
    else if (argv[i] === '--threat-model') threat = argv[++i] ?? usage('--threat-model needs a file');
    else usage(`unknown option ${argv[i]}; allowed: --check, --from FILE, --threat-model FILE`);
  }
  const kept: RehearsalFigures | undefined = existsSync(FIGURES_FILE) ? JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) : undefined;
  const rehearsed = from ? readResults(resolve(from)) : undefined;
  const rows = threat ? readThreatModel(resolve(threat)) : undefined;
  if (!kept && !rehearsed) usage(`${relative(ROOT, FIGURES_FILE)} is missing: run npm run rehearse:all -- --json FILE, then npm run docs -- --from FILE`);
  // What this run measured: a rehearsal's figures, a threat model's rows, or both.
  const fresh: RehearsalFigures | undefined =
    rehearsed || rows ? { ...(rehearsed ?? { ...kept!, scenarios: check ? [] : kept!.scenarios }), ...(rows ? { threatModel: rows } : check || !kept?.threatModel ? {} : { threatModel: kept.threatModel }) } : undefined;
  const problems: string[] = [];
  if (check && fresh && kept) {
    for (const d of figureDifferences(kept, fresh)) problems.push(`rehearsal: ${d}`);
  }
  const figures = check ? kept ?? fresh! : fresh ?? kept!;
  if (!check && fresh) writeFileSync(FIGURES_FILE, `${JSON.stringify(fresh, null, 2)}\n`);
  let blocks = 0;
  for (const file of docFiles()) {
    const text = readFileSync(file, 'utf8');
    const next = regenerate(text, figures);
    blocks += next.blocks.length;
    if (next.text === text) continue;
    if (check) problems.push(`${relative(ROOT, file)}: a generated block differs from ${relative(ROOT, FIGURES_FILE)}`);
    else writeFileSync(file, next.text);
  }
  if (problems.length) {
    process.stdout.write(`docs: the figures drifted:\n${problems.map((p) => `  ${p}`).join('\n')}\nrerun: npm run rehearse:all -- --json FILE && npm run docs -- --from FILE\n`);
    return 1;
  }
  process.stdout.write(`docs: ${blocks} generated block(s) ${check ? 'up to date' : 'written'}, ${figures.scenarios.length} scenarios${fresh && check ? ', the fresh rehearsal matches the kept figures' : ''}\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (err) {
    // A block the kept figures cannot render (a scenario named in it is not kept): said, exit 1.
    process.stderr.write(`docs: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
