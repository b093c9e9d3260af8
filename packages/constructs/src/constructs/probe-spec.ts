/**
 * Probes as a guarded function declares them: the jsii form of the runtime's probe
 * configuration (`core/probes.ts`), which stays the JSON the runtime, the scenarios and the CLI
 * read. The one difference is `equalTo`: jsii forbids members named `equals` (they clash with
 * Java's and C#'s `equals`), so the construct writes it to the runtime configuration as `equals`.
 */

import { InputError } from '../core/validate';

/** What a probe invocation must end in. */
export enum ProbeStatus {
  /** The invocation returns without a function error. */
  SUCCESS = 'success',
  /** The invocation returns a function error (Handled or Unhandled). */
  ERROR = 'error',
}

/** An expectation on a JSON value found at `path` in the probe's response. */
export interface BodyExpectation {
  /** `$`, `$.a.b`, `$.items[0].id`. A string that holds JSON (an API Gateway `body`) is parsed on the way. */
  readonly path: string;
  /**
   * The value must equal this JSON value (deep equality).
   * @default not checked
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON value; jsii's JSON type
  readonly equalTo?: any;
  /**
   * A regular expression the value (as a string) must match.
   * @default not checked
   */
  readonly matches?: string;
  /**
   * Whether a value must be (true) or must not be (false) at `path`.
   * @default not checked
   */
  readonly exists?: boolean;
}

/** What must come back from a probe invocation; at least one of status, body and maxLatencyMs. */
export interface ProbeExpectation {
  /**
   * Whether the invocation must succeed or fail.
   * @default ProbeStatus.SUCCESS when body expectations are given, else not checked
   */
  readonly status?: ProbeStatus;
  /**
   * Expectations on the JSON response.
   * @default none
   */
  readonly body?: BodyExpectation[];
  /**
   * Slowest acceptable invocation, ms.
   * @default not checked
   */
  readonly maxLatencyMs?: number;
}

/** A synthetic check: an event the new version is invoked with, and what must come back. */
export interface ProbeSpec {
  /** Unique per guarded function; names the probe in metrics and decision records. */
  readonly name: string;
  /**
   * The invocation's event, any JSON value.
   * @default {}
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON value; jsii's JSON type
  readonly event?: any;
  readonly expect: ProbeExpectation;
}

/**
 * The runtime configuration's form of declared probes (`equalTo` written as `equals`). A body
 * expectation that says `equals` itself (JavaScript callers escape the type check) is an error
 * naming `equalTo`, so the construct accepts one spelling only.
 */
export function probesForRuntime(probes: readonly ProbeSpec[], path: string): Record<string, unknown>[] {
  return probes.map((p, i) => ({
    ...p,
    expect: {
      ...p.expect,
      ...(Array.isArray(p.expect?.body)
        ? {
            body: p.expect.body.map(({ equalTo, ...b }, j) => {
              if ('equals' in b) throw new InputError(`${path}[${i}].expect.body[${j}].equals: the construct calls it equalTo`, `${path}[${i}].expect.body[${j}].equals`);
              return { ...b, ...(equalTo !== undefined ? { equals: equalTo } : {}) };
            }),
          }
        : {}),
    },
  }));
}
