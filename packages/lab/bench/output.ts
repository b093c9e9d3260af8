/**
 * Where `npm run bench` writes. The committed figures (bench/results.json, BENCHMARKS.md) are
 * written by a full run, or when asked (`--write`); a `--quick` run (2 seeds) writes to a fresh
 * scratch folder, so that trying the benchmarks never overwrites the committed figures with
 * rough ones. `--out DIR` writes both files into DIR. Checked before anything is measured.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badInput } from '../src/cli/exit-codes';
import { checkOutputFolder } from '../src/cli/output-path';

export interface BenchOutput {
  readonly quick: boolean;
  /** Only render BENCHMARKS.md again from results.json. */
  readonly render: boolean;
  readonly resultsJson: string;
  readonly benchmarksMd: string;
  /** The committed files are written. */
  readonly committed: boolean;
}

export const BENCH_FLAGS = ['--quick', '--write', '--out DIR', '--render'];

/** Read the bench's flags; `committed` is where the committed files live. */
export function benchOutput(argv: readonly string[], committed: { resultsJson: string; benchmarksMd: string }, scratch = () => mkdtempSync(join(tmpdir(), 'canary-watchdog-bench-'))): BenchOutput {
  let quick = false;
  let write = false;
  let render = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--write') write = true;
    else if (a === '--render') render = true;
    else if (a === '--out') {
      out = argv[++i];
      if (out === undefined || out.startsWith('--')) throw badInput('--out: expected a folder, got nothing');
    } else throw badInput(`${a}: unknown flag; allowed: ${BENCH_FLAGS.join(', ')}`);
  }
  if (write && out !== undefined) throw badInput('--write and --out exclude each other: --write writes the committed files, --out DIR writes into DIR');
  if (out !== undefined) {
    const dir = checkOutputFolder('--out', out);
    return { quick, render, resultsJson: join(dir, 'results.json'), benchmarksMd: join(dir, 'BENCHMARKS.md'), committed: false };
  }
  // A quick run is a try-out: its 2-seed figures go to scratch unless asked for. --render rewrites
  // the committed BENCHMARKS.md from the committed results.json.
  if (quick && !write && !render) {
    const dir = scratch();
    return { quick, render, resultsJson: join(dir, 'results.json'), benchmarksMd: join(dir, 'BENCHMARKS.md'), committed: false };
  }
  return { quick, render, ...committed, committed: true };
}
