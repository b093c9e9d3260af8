/**
 * Identity-policy evaluation, as AWS's policy evaluation logic describes it for one account with
 * no resource policy, boundary or SCP: an explicit Deny wins, otherwise an Allow is needed,
 * otherwise the request is implicitly denied.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *
 * The lab does not use @cloud-copilot/iam-simulate at run time: it is licensed AGPL-3.0 (this
 * project is Apache-2.0) and ships a 15 MB action catalogue; it serves as a test oracle only.
 */

/** A policy document as written in a template (after its intrinsic functions are resolved). */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Statement | readonly Statement[];
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** One action on one resource, with the request context its condition keys read. */
export interface AuthRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys (lower or mixed case: keys compare case-insensitively); a list is a multivalued key. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const list = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** The decision for a request under a principal's identity policies. */
export function evaluate(policies: readonly PolicyDocument[], req: AuthRequest): Decision {
  let allowed = false;
  for (const p of policies) {
    for (const s of list(p.Statement)) {
      if (!applies(s, req, p.Version)) continue;
      if (s.Effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

function applies(s: Statement, req: AuthRequest, version?: string): boolean {
  const action = s.Action !== undefined ? list(s.Action).some((a) => glob(a, true).test(req.action)) : !list(s.NotAction).some((a) => glob(a, true).test(req.action));
  if (!action) return false;
  const vars = version === '2012-10-17' ? req.context : undefined;
  const resource = s.Resource !== undefined ? list(s.Resource).some((r) => arnLike(substitute(r, vars), req.resource)) : !list(s.NotResource).some((r) => arnLike(substitute(r, vars), req.resource));
  if (!resource) return false;
  return Object.entries(s.Condition ?? {}).every(([op, keys]) => Object.entries(keys).every(([key, values]) => condition(op, contextValue(req.context, key), list(values as unknown).map((v) => substitute(String(v), vars)))));
}

/**
 * Policy variables (`${aws:username}`) take the request's value; one missing makes the string
 * match nothing. `${*}`, `${?}` and `${$}` stand for the characters themselves.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
function substitute(s: string, context?: AuthRequest['context']): string {
  if (!context || !s.includes('${')) return s;
  let missing = false;
  const out = s.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (name === '*' || name === '?' || name === '$') return `\u0000${name}`;
    const v = contextValue(context, name);
    if (typeof v === 'string') return v;
    missing = true;
    return '';
  });
  return missing ? '\u0001never' : out;
}

function contextValue(context: AuthRequest['context'], key: string): string | readonly string[] | undefined {
  const k = key.toLowerCase();
  for (const [name, v] of Object.entries(context)) if (name.toLowerCase() === k) return v;
  return undefined;
}

/** Compiled patterns: the same few policies are asked on every call. */
const compiled = new Map<string, RegExp>();

/** `*` any run of characters, `?` one; a `\u0000`-escaped character stands for itself. */
function glob(pattern: string, ignoreCase = false): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let cached = compiled.get(key);
  if (!cached) {
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, (cached = compileGlob(pattern, ignoreCase)));
  }
  return cached;
}

function compileGlob(pattern: string, ignoreCase: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\u0000') re += escapeRe(pattern[++i] ?? '');
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's');
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * ARN matching, for the Resource element and ArnLike: each of the six colon-separated parts is
 * matched apart (the resource part keeps its colons); `*` alone matches any ARN.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 */
export function arnLike(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return glob(pattern).test(arn);
  return p.every((part, i) => glob(part).test(a[i]));
}

function splitArn(s: string): string[] | undefined {
  const parts = s.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

type Match = (requested: string, policy: string) => boolean;

/** The condition operators the lab evaluates, each as a positive match and whether it is negated. */
const OPERATORS: Readonly<Record<string, { match: Match; negated: boolean }>> = {
  StringEquals: { match: (a, b) => a === b, negated: false },
  StringNotEquals: { match: (a, b) => a === b, negated: true },
  StringEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: true },
  StringLike: { match: (a, b) => glob(b).test(a), negated: false },
  StringNotLike: { match: (a, b) => glob(b).test(a), negated: true },
  NumericEquals: { match: (a, b) => Number(a) === Number(b), negated: false },
  NumericNotEquals: { match: (a, b) => Number(a) === Number(b), negated: true },
  NumericLessThan: { match: (a, b) => Number(a) < Number(b), negated: false },
  NumericLessThanEquals: { match: (a, b) => Number(a) <= Number(b), negated: false },
  NumericGreaterThan: { match: (a, b) => Number(a) > Number(b), negated: false },
  NumericGreaterThanEquals: { match: (a, b) => Number(a) >= Number(b), negated: false },
  Bool: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
  ArnEquals: { match: (a, b) => arnLike(b, a), negated: false },
  ArnLike: { match: (a, b) => arnLike(b, a), negated: false },
  ArnNotEquals: { match: (a, b) => arnLike(b, a), negated: true },
  ArnNotLike: { match: (a, b) => arnLike(b, a), negated: true },
};

/** The condition operators the lab knows, for error messages. */
export const KNOWN_OPERATORS = [...Object.keys(OPERATORS), 'Null'];

/** Why a condition operator cannot be evaluated by the lab, or undefined when it can. */
export function unsupportedOperator(op: string): string | undefined {
  const base = op.replace(/^(ForAllValues|ForAnyValue):/, '').replace(/IfExists$/, '');
  if (base === 'Null' || OPERATORS[base]) return undefined;
  return `condition operator ${op} is not evaluated by the lab; it knows ${KNOWN_OPERATORS.join(', ')} (with ForAllValues:/ForAnyValue: and ...IfExists)`;
}

/**
 * One operator on one key. A key missing from the request: false, true for a negated operator,
 * true with ...IfExists; ForAllValues is true and ForAnyValue false on a missing or empty key.
 * Several policy values are ORed (NORed for a negated operator).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
function condition(op: string, requested: string | readonly string[] | undefined, values: readonly string[]): boolean {
  const set = /^(ForAllValues|ForAnyValue):/.exec(op)?.[1];
  const rest = op.replace(/^(ForAllValues|ForAnyValue):/, '');
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (base === 'Null') return values.some((v) => (v.toLowerCase() === 'true') === (requested === undefined));
  const operator = OPERATORS[base];
  if (!operator) throw new Error(unsupportedOperator(op));
  const req = requested === undefined ? [] : list(requested);
  // A requested value satisfies the operator when it matches some policy value (none, negated).
  const satisfies = (r: string) => values.some((v) => operator.match(r, v)) !== operator.negated;
  if (set === 'ForAllValues') return req.every(satisfies);
  if (set === 'ForAnyValue') return req.some(satisfies);
  if (requested === undefined) return ifExists || operator.negated;
  return operator.negated ? req.every(satisfies) : req.some(satisfies);
}
