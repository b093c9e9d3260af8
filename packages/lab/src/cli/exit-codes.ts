/**
 * The exit status of every canary-watchdog command, so that a pipeline can act on it without
 * reading the output. This module is the one source of the table: `--help` prints EXIT_CODES and
 * the docs show the same rows (exitCodeTable). Worst wins: a command that meets bad input stops at
 * once with 2 and runs nothing; 3 means no verdict could be reached, which a pipeline must not read
 * as "safe"; 130 means the user stopped it (Ctrl-C), after it printed what had finished.
 */
import { InputError } from 'canary-watchdog/lib/core/validate';

export const EXIT = {
  /** The command did what was asked: the release completed, every expectation was met. */
  ok: 0,
  /** The release was rolled back, failed or stopped, or a scenario missed its expectations. */
  failed: 1,
  /** Bad input, caught before any work: flags, files, output paths, a busy port, no CDK app, no region, an app that does not synthesize. */
  badInput: 2,
  /** Could not observe: AWS or the lab did not answer, or the watchdog, a hook or the prober could not run. */
  unobservable: 3,
  /** Interrupted (SIGINT, Ctrl-C), after printing the results finished so far: 128 + SIGINT's number, as shells report it. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One row of the exit status table: the status, what it means, and the cases it covers. */
export interface ExitCodeRow {
  readonly code: ExitCode;
  readonly meaning: string;
  readonly cases: string;
}

/** The exit status table, as `--help` prints it and the docs show it. */
export const EXIT_CODES: readonly ExitCodeRow[] = [
  { code: EXIT.ok, meaning: 'completed: the release completed, every expectation was met', cases: 'every guarded release `watch` or `deploy` followed completed; every rehearsed scenario met its expectations; `explain` and `check-config` printed their result; `lab` stopped with Ctrl-C (its normal end)' },
  {
    code: EXIT.failed,
    meaning: 'rolled back or failed release: rolled back, failed or stopped, or an expectation was not met',
    cases: 'a release rolled back, failed (a hook reported Failed) or stopped; `cdk deploy` failed once a stack update had begun; a scenario missed its expectations',
  },
  {
    code: EXIT.badInput,
    meaning: 'bad input, caught before any work',
    cases:
      'an unknown flag or value; a file that cannot be read; an output path whose folder is missing or not writable; a scenario or configuration that does not validate; `--app` that is not a cloud assembly; `deploy` without a CDK app (no `cdk.json`, no `--app`); a busy `--port`; no AWS region (set `AWS_REGION`; never retried); an app that does not synthesize under `deploy`; `watch --deployment` that does not exist, or `--stack` that does not exist with `--wait-for-update 0`; `explain` input without any decision record',
  },
  {
    code: EXIT.unobservable,
    meaning: 'AWS or the lab unreachable: no verdict could be read',
    cases: 'AWS or the lab did not answer (five CodeDeploy reads failed in a row); the watchdog, a hook or the prober could not run; `--timeout` expired before the verdict; `watch --stack` saw no update begin within `--wait-for-update`',
  },
  { code: EXIT.interrupted, meaning: 'interrupted (Ctrl-C), after printing the results finished so far', cases: 'SIGINT: `rehearse` prints the finished scenarios\' summary (and writes `--json`), `watch` and `deploy` the verdicts reached so far and where each unfinished release stood' },
];

/** The table as `--help` prints it. */
export const EXIT_CODE_HELP = ['Exit status (every command):', ...EXIT_CODES.map((r) => `  ${String(r.code).padStart(3)}  ${r.meaning}`)].join('\n');

/** The table as the docs show it (Markdown). */
export function exitCodeTable(): string {
  return ['| status | meaning | when |', '|---|---|---|', ...EXIT_CODES.map((r) => `| ${r.code} | ${r.meaning} | ${r.cases} |`)].join('\n');
}

/** An error that ends a command with a given status and a message for standard error. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad input, as a CliError: names what was wrong. */
export const badInput = (message: string): CliError => new CliError(EXIT.badInput, message);

/** The exit status an error ends a command with: bad input 2; a CliError its own; anything else 3 (no verdict). */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof InputError) return EXIT.badInput;
  return EXIT.unobservable;
}

/** Worst wins: interrupted (130) over could not observe (3) over rolled back (1) over bad input (2) over completed (0). */
export function worstExit(codes: readonly ExitCode[]): ExitCode {
  const rank: Record<ExitCode, number> = { [EXIT.ok]: 0, [EXIT.badInput]: 1, [EXIT.failed]: 2, [EXIT.unobservable]: 3, [EXIT.interrupted]: 4 };
  return codes.reduce<ExitCode>((w, c) => (rank[c] > rank[w] ? c : w), EXIT.ok);
}
