import { InputError } from '../core/validate';
import type { IConstruct } from 'constructs';

/**
 * A construct configuration error, found at synth time. The message starts with the construct
 * path, names the prop and says what it allows.
 */
export class GuardValidationError extends Error {
  constructor(
    public readonly scope: IConstruct,
    public readonly prop: string,
    message: string,
  ) {
    super(`${scope.node.path}: ${prop}: ${message}`);
    this.name = 'GuardValidationError';
  }
}

/** Throw the first problem found by a pure validation helper. */
export function throwFirst(scope: IConstruct, problems: readonly { prop: string; message: string }[]): void {
  if (problems.length) throw new GuardValidationError(scope, problems[0].prop, problems[0].message);
}

/** Run a parser of the core; its InputError becomes a GuardValidationError naming the field as the prop. */
export function parseOrThrow<T>(scope: IConstruct, prop: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    // InputError messages start with the field's path ("probes[1].expect: ..."): keep it as the prop.
    const rest = err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
    throw new GuardValidationError(scope, err.path || prop, rest);
  }
}
