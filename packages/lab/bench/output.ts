/**
 * Where `npm run bench` writes. The committed figures (bench/results.json, BENCHMARKS.md) are
 * written by a full run, or when asked (`--write`); a `--quick` run (2 seeds) writes to a fresh
 * scratch folder, so that trying the benchmarks never overwrites the committed figures with
 * rough ones. `--out DIR` writes both files into DIR. `--seeds N` (the safety matrix's seeds; the
 * noisy matrix runs half as many) and `--trials N` (each false-rollback row's good releases) size a
 * run between the two; smaller than the full run, it too writes to scratch unless `--write`.
 * Checked before anything is measured.
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
  /** Safety matrix seeds (`--seeds`); undefined: the full or quick run's. */
  readonly seeds?: number;
  /** Good releases per false-rollback row (`--trials`); undefined: the full or quick run's. */
  readonly trials?: number;
}

/** The full run's sizes (run.ts): a sized run smaller than these is not the committed default. */
export const FULL_RUN = { seeds: 20, trials: 200 };

export const BENCH_FLAGS = ['--quick', '--write', '--out DIR', '--render', '--seeds N', '--trials N'];

function count(flag: string, v: string | undefined): number {
  const n = v === undefined || v.startsWith('--') ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw badInput(`${flag}: expected a whole number from 1 to 1000, got ${v === undefined || v.startsWith('--') ? 'nothing' : v}`);
  return n;
}

/** Read the bench's flags; `committed` is where the committed files live. */
export function benchOutput(argv: readonly string[], committed: { resultsJson: string; benchmarksMd: string }, scratch = () => mkdtempSync(join(tmpdir(), 'canary-watchdog-bench-'))): BenchOutput {
  let quick = false;
  let write = false;
  let render = false;
  let out: string | undefined;
  let seeds: number | undefined;
  let trials: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--write') write = true;
    else if (a === '--render') render = true;
    else if (a === '--seeds') seeds = count(a, argv[++i]);
    else if (a === '--trials') trials = count(a, argv[++i]);
    else if (a === '--out') {
      out = argv[++i];
      if (out === undefined || out.startsWith('--')) throw badInput('--out: expected a folder, got nothing');
    } else throw badInput(`${a}: unknown flag; allowed: ${BENCH_FLAGS.join(', ')}`);
  }
  if (quick && (seeds !== undefined || trials !== undefined)) throw badInput(`--quick and ${seeds !== undefined ? '--seeds' : '--trials'} exclude each other: --quick is a fixed try-out size`);
  const sized = { ...(seeds !== undefined ? { seeds } : {}), ...(trials !== undefined ? { trials } : {}) };
  const smaller = (seeds ?? FULL_RUN.seeds) < FULL_RUN.seeds || (trials ?? FULL_RUN.trials) < FULL_RUN.trials;
  if (write && out !== undefined) throw badInput('--write and --out exclude each other: --write writes the committed files, --out DIR writes into DIR');
  if (out !== undefined) {
    const dir = checkOutputFolder('--out', out);
    return { quick, render, ...sized, resultsJson: join(dir, 'results.json'), benchmarksMd: join(dir, 'BENCHMARKS.md'), committed: false };
  }
  // A quick run is a try-out: its 2-seed figures go to scratch unless asked for. --render rewrites
  // the committed BENCHMARKS.md from the committed results.json.
  if ((quick || smaller) && !write && !render) {
    const dir = scratch();
    return { quick, render, ...sized, resultsJson: join(dir, 'results.json'), benchmarksMd: join(dir, 'BENCHMARKS.md'), committed: false };
  }
  return { quick, render, ...sized, ...committed, committed: true };
}
