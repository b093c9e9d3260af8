import { InputError } from '../core/validate';
import type { IConstruct } from 'constructs';

/**
 * A construct configuration error, found at synth time. The message starts with the construct
 * path, names the prop and says what it allows.
 */
export class GuardValidationError extends Error {
  /** The construct at fault. Not enumerable: Node prints an uncaught error's own properties, and a construct is its whole tree. */
  declare readonly scope: IConstruct;

  constructor(
    scope: IConstruct,
    public readonly prop: string,
    message: string,
  ) {
    super(`${scope.node.path}: ${prop}: ${message}`);
    this.name = 'GuardValidationError';
    Object.defineProperty(this, 'scope', { value: scope, enumerable: false });
  }
}

/** A problem a pure validation helper found: the prop and what is wrong with it. */
export interface PropProblem {
  readonly prop: string;
  readonly message: string;
}

/** Throw the first problem found by a pure validation helper. */
export function throwFirst(scope: IConstruct, problems: readonly PropProblem[]): void {
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

/**
 * An enum prop's value, checked at run time: callers in JavaScript, or through jsii from another
 * language with a string cast, can pass any value. Undefined stays undefined.
 */
export function oneOfEnum<E extends string>(scope: IConstruct, prop: string, value: E | undefined, values: Record<string, E>): E | undefined {
  if (value === undefined) return undefined;
  const allowed = Object.values(values);
  if (!allowed.includes(value)) throw new GuardValidationError(scope, prop, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}
