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
