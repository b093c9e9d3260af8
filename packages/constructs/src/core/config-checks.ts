import { bool, InputError, num, obj, onlyKeys, oneOf, optArr, regex, str, unique } from './validate';

/** How a configuration value must read. */
export enum ConfigFormat {
  /** Any text. */
  STRING = 'string',
  /** A JSON document. */
  JSON = 'json',
  /** An http or https URL. */
  URL = 'url',
  /** A finite number. */
  NUMBER = 'number',
  /** A whole number. */
  INTEGER = 'integer',
  /** `true` or `false`. */
  BOOLEAN = 'boolean',
}

export const CONFIG_FORMATS: readonly ConfigFormat[] = Object.values(ConfigFormat);

/**
 * A check on one environment variable of the new version. Configuration is more dangerous than
 * code: a wrong value ships without a build failing, so it is checked before any user traffic.
 */
export interface ConfigCheck {
  readonly key: string;
  /** @default true */
  readonly required: boolean;
  /** @default ConfigFormat.STRING */
  readonly format: ConfigFormat;
  /** A regular expression the whole value must match. */
  readonly pattern?: string;
  /** The value must be one of these. */
  readonly oneOf?: string[];
  /** For `url`: the endpoint must answer (any HTTP status below 500) within this many ms. */
  readonly reachableWithinMs?: number;
}

export interface ConfigCheckResult {
  readonly key: string;
  readonly passed: boolean;
  readonly message: string;
}

/** A reachability test the edge must run: the pure part cannot open sockets. */
export interface ReachabilityTest {
  readonly key: string;
  readonly url: string;
  readonly timeoutMs: number;
}

export function parseConfigChecks(v: unknown, path: string): ConfigCheck[] {
  const checks = optArr(v, path, parseConfigCheck);
  unique(checks.map((c) => c.key), path, 'config check key');
  return checks;
}

function parseConfigCheck(v: unknown, path: string): ConfigCheck {
  const o = obj(v, path);
  onlyKeys(o, path, ['key', 'required', 'format', 'pattern', 'oneOf', 'reachableWithinMs']);
  const format = o.format === undefined ? ConfigFormat.STRING : oneOf(o.format, `${path}.format`, CONFIG_FORMATS);
  if (o.pattern !== undefined) regex(o.pattern, `${path}.pattern`);
  if (o.reachableWithinMs !== undefined && format !== 'url') {
    throw new InputError(`${path}.reachableWithinMs: only a check with format "url" can test reachability (format is ${format})`, `${path}.reachableWithinMs`);
  }
  return {
    key: str(o.key, `${path}.key`, { pattern: /^[a-zA-Z]\w*$/, patternText: 'an environment variable name ([a-zA-Z][a-zA-Z0-9_]*)' }),
    required: o.required === undefined ? true : bool(o.required, `${path}.required`),
    format,
    ...(o.pattern !== undefined ? { pattern: o.pattern as string } : {}),
    ...(o.oneOf !== undefined ? { oneOf: nonEmpty(optArr(o.oneOf, `${path}.oneOf`, (x, p) => str(x, p)), `${path}.oneOf`) } : {}),
    ...(o.reachableWithinMs !== undefined
      ? { reachableWithinMs: num(o.reachableWithinMs, `${path}.reachableWithinMs`, { min: 1, max: 60_000, integer: true }) }
      : {}),
  };
}

function nonEmpty<T>(xs: T[], path: string): T[] {
  if (xs.length === 0) throw new InputError(`${path}: expected at least one allowed value, got an empty list`, path);
  return xs;
}

/**
 * Check the new version's environment. Pure: returns the results it can decide and the
 * reachability tests the caller must run (only for values that passed every other check).
 */
export function checkEnvironment(
  checks: readonly ConfigCheck[],
  env: Readonly<Record<string, string>>,
): { results: ConfigCheckResult[]; reachability: ReachabilityTest[] } {
  const results: ConfigCheckResult[] = [];
  const reachability: ReachabilityTest[] = [];
  for (const c of checks) {
    const value = env[c.key];
    if (value === undefined || value === '') {
      results.push({
        key: c.key,
        passed: !c.required,
        message: c.required ? `${c.key} is required but ${value === undefined ? 'not set' : 'empty'}` : `${c.key} is not set (optional)`,
      });
      continue;
    }
    const problem = formatProblem(c, value);
    if (problem) {
      results.push({ key: c.key, passed: false, message: `${c.key}: ${problem}` });
      continue;
    }
    if (c.reachableWithinMs !== undefined) {
      reachability.push({ key: c.key, url: value, timeoutMs: c.reachableWithinMs });
    } else {
      results.push({ key: c.key, passed: true, message: `${c.key} is a valid ${c.format}` });
    }
  }
  return { results, reachability };
}

function formatProblem(c: ConfigCheck, value: string): string | null {
  switch (c.format) {
    case 'json':
      try {
        JSON.parse(value);
      } catch (err) {
        return `not valid JSON (${(err as Error).message})`;
      }
      break;
    case 'url': {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        return `not a valid URL: ${JSON.stringify(value)}`;
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return `URL scheme must be http or https, got ${u.protocol}`;
      break;
    }
    case 'number':
      if (value.trim() === '' || !Number.isFinite(Number(value))) return `not a number: ${JSON.stringify(value)}`;
      break;
    case 'integer':
      if (!/^-?\d+$/.test(value.trim())) return `not an integer: ${JSON.stringify(value)}`;
      break;
    case 'boolean':
      if (value !== 'true' && value !== 'false') return `not a boolean (true or false): ${JSON.stringify(value)}`;
      break;
    case 'string':
      break;
  }
  if (c.pattern !== undefined && !new RegExp(`^(?:${c.pattern})$`).test(value)) {
    return `${JSON.stringify(value)} does not match /${c.pattern}/`;
  }
  if (c.oneOf !== undefined && !c.oneOf.includes(value)) {
    return `${JSON.stringify(value)} is not one of ${c.oneOf.join(', ')}`;
  }
  return null;
}

/** Judge a reachability answer: any HTTP status below 500 within the time limit is reachable. */
export function judgeReachability(
  test: ReachabilityTest,
  answer: { status?: number; error?: string; elapsedMs: number },
): ConfigCheckResult {
  if (answer.error !== undefined) {
    return { key: test.key, passed: false, message: `${test.key}: ${test.url} did not answer within ${test.timeoutMs} ms: ${answer.error}` };
  }
  if (answer.status === undefined) {
    return { key: test.key, passed: false, message: `${test.key}: ${test.url} gave no HTTP status` };
  }
  if (answer.elapsedMs > test.timeoutMs) {
    return { key: test.key, passed: false, message: `${test.key}: ${test.url} answered HTTP ${answer.status} after ${answer.elapsedMs} ms, later than ${test.timeoutMs} ms` };
  }
  if (answer.status >= 500) {
    return { key: test.key, passed: false, message: `${test.key}: ${test.url} answered HTTP ${answer.status} (server error)` };
  }
  return { key: test.key, passed: true, message: `${test.key}: ${test.url} answered HTTP ${answer.status} in ${answer.elapsedMs} ms` };
}
