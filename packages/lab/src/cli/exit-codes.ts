/**
 * The exit status of every canary-watchdog command, so that a pipeline can act on it without
 * reading the output. Worst wins: a command that meets bad input stops at once with 2 and runs
 * nothing; 3 means no verdict could be reached, which a pipeline must not read as "safe".
 */
import { InputError } from 'canary-watchdog/lib/core/validate';

export const EXIT = {
  /** The command did what was asked: the release completed, every expectation was met. */
  ok: 0,
  /** The release was rolled back or stopped, or a scenario missed its expectations. */
  failed: 1,
  /** Bad input: an unknown flag or value, a file that cannot be read or written, a scenario or configuration that does not validate. */
  badInput: 2,
  /** Could not observe: the verdict could not be read (the watchdog, a hook or the prober could not run, AWS or the lab did not answer). */
  unobservable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table as `--help` prints it, and as the README shows it. */
export const EXIT_CODE_HELP = [
  'Exit status (every command):',
  '  0  ok: the release completed, every expectation was met',
  '  1  the release was rolled back or stopped, or an expectation was not met',
  '  2  bad input: flags, arguments, files or output paths; checked before any long work',
  '  3  could not observe: no verdict (the watchdog, a hook or the prober could not run, or AWS or the lab did not answer)',
].join('\n');

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
