import { arr, bool, InputError, obj, onlyKeys, oneOf, optArr, optNum, regex, str, unique } from './validate';

/** An expectation on a JSON value found at `path` in the probe's response. */
export interface BodyExpectation {
  /** `$`, `$.a.b`, `$.items[0].id`. A string that holds JSON (an API Gateway `body`) is parsed on the way. */
  readonly path: string;
  readonly equals?: unknown;
  /** A regular expression the value (as a string) must match. */
  readonly matches?: string;
  readonly exists?: boolean;
}

export interface ProbeExpectation {
  /** `success`: the invocation must not return a function error; `error`: it must. */
  readonly status?: 'success' | 'error';
  readonly body?: readonly BodyExpectation[];
  readonly maxLatencyMs?: number;
}

/** A synthetic check: an event the new version is invoked with, and what must come back. */
export interface ProbeSpec {
  readonly name: string;
  readonly event: unknown;
  readonly expect: ProbeExpectation;
}

/** What one probe invocation returned. */
export interface ProbeResult {
  /** Lambda's X-Amz-Function-Error (Handled / Unhandled), if any. */
  readonly functionError?: string;
  /** The response payload as text. */
  readonly payload: string;
  readonly latencyMs: number;
}

export interface ProbeJudgement {
  readonly probe: string;
  readonly passed: boolean;
  readonly latencyMs: number;
  readonly failures: readonly string[];
}

export function parseProbes(v: unknown, path: string): ProbeSpec[] {
  const probes = optArr(v, path, parseProbe);
  unique(probes.map((p) => p.name), path, 'probe name');
  return probes;
}

export function parseProbe(v: unknown, path: string): ProbeSpec {
  const o = obj(v, path);
  onlyKeys(o, path, ['name', 'event', 'expect']);
  const e = obj(o.expect, `${path}.expect`);
  onlyKeys(e, `${path}.expect`, ['status', 'body', 'maxLatencyMs']);
  const expect: ProbeExpectation = {
    ...(e.status !== undefined ? { status: oneOf(e.status, `${path}.expect.status`, ['success', 'error'] as const) } : {}),
    ...(e.body !== undefined ? { body: arr(e.body, `${path}.expect.body`, parseBodyExpectation) } : {}),
    ...(e.maxLatencyMs !== undefined ? { maxLatencyMs: optNum(e.maxLatencyMs, `${path}.expect.maxLatencyMs`, { min: 1 }) } : {}),
  };
  if (expect.status === undefined && !expect.body?.length && expect.maxLatencyMs === undefined) {
    throw new InputError(`${path}.expect: a probe needs at least one expectation: status, body or maxLatencyMs`, `${path}.expect`);
  }
  return { name: str(o.name, `${path}.name`), event: o.event ?? {}, expect };
}

function parseBodyExpectation(v: unknown, path: string): BodyExpectation {
  const o = obj(v, path);
  onlyKeys(o, path, ['path', 'equals', 'matches', 'exists']);
  const p = str(o.path, `${path}.path`, { pattern: /^\$(\.[^.[\]]+|\[\d+\])*$/, patternText: 'a JSON path such as $.body.items[0].id' });
  if (o.equals === undefined && o.matches === undefined && o.exists === undefined) {
    throw new InputError(`${path}: a body expectation needs one of equals, matches, exists`, path);
  }
  if (o.matches !== undefined) regex(o.matches, `${path}.matches`);
  return {
    path: p,
    ...(o.equals !== undefined ? { equals: o.equals } : {}),
    ...(o.matches !== undefined ? { matches: o.matches as string } : {}),
    ...(o.exists !== undefined ? { exists: bool(o.exists, `${path}.exists`) } : {}),
  };
}

const MISSING = Symbol('missing');

/** Resolve a `$.a.b[0]` path, parsing strings that hold JSON on the way down. */
export function resolvePath(root: unknown, path: string): unknown {
  const tokens = path.slice(1).match(/\.[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = root;
  for (const t of tokens) {
    if (typeof cur === 'string') {
      try {
        cur = JSON.parse(cur);
      } catch {
        return MISSING;
      }
    }
    if (cur === null || typeof cur !== 'object') return MISSING;
    const key = t.startsWith('[') ? Number(t.slice(1, -1)) : t.slice(1);
    if (Array.isArray(cur) && typeof key !== 'number') return MISSING;
    // Own properties only: `$.constructor` is not part of any response.
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return MISSING;
    const next = (cur as Record<string | number, unknown>)[key];
    if (next === undefined) return MISSING;
    cur = next;
  }
  return cur;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Judge one probe invocation against its expectations. Pure. */
export function judgeProbe(spec: ProbeSpec, result: ProbeResult): ProbeJudgement {
  const failures: string[] = [];
  const { expect } = spec;
  const status = result.functionError ? 'error' : 'success';
  // With no explicit status, a probe that declares body expectations expects success.
  const wanted = expect.status ?? (expect.body?.length ? 'success' : undefined);
  if (wanted && status !== wanted) {
    failures.push(
      `expected ${wanted}, got ${status}${result.functionError ? ` (${result.functionError}: ${truncate(result.payload)})` : ''}`,
    );
  }
  if (expect.maxLatencyMs !== undefined && result.latencyMs > expect.maxLatencyMs) {
    failures.push(`latency ${result.latencyMs} ms above ${expect.maxLatencyMs} ms`);
  }
  if (expect.body?.length) {
    let body: unknown = MISSING;
    try {
      body = JSON.parse(result.payload);
    } catch {
      failures.push(`response is not JSON: ${truncate(result.payload)}`);
    }
    if (body !== MISSING) {
      for (const b of expect.body) {
        const v = resolvePath(body, b.path);
        if (b.exists !== undefined && (v !== MISSING) !== b.exists) {
          failures.push(`${b.path} ${b.exists ? 'is missing' : 'exists but should not'}`);
        }
        if (b.equals !== undefined && (v === MISSING || !deepEqual(v, b.equals))) {
          failures.push(`${b.path} is ${v === MISSING ? 'missing' : JSON.stringify(v)}, expected ${JSON.stringify(b.equals)}`);
        }
        if (b.matches !== undefined) {
          const text = v === MISSING ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
          if (text === undefined || !new RegExp(b.matches).test(text)) {
            failures.push(`${b.path} is ${text === undefined ? 'missing' : JSON.stringify(text)}, expected to match /${b.matches}/`);
          }
        }
      }
    }
  }
  return { probe: spec.name, passed: failures.length === 0, latencyMs: result.latencyMs, failures };
}

function truncate(s: string, n = 200): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

