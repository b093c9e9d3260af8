/**
 * Small readers for untrusted JSON (configuration, events, API replies). Each names the path of
 * the field it rejects and what it allows, so a bad input never turns into a vague crash.
 */

export class InputError extends Error {
  constructor(
    message: string,
    public readonly path: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export type Json = unknown;

export function fail(path: string, expected: string, got: unknown): never {
  throw new InputError(`${path}: expected ${expected}, got ${describe(got)}`, path);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

export function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
  return v as Record<string, unknown>;
}

/** Reject fields the schema does not know: a typo must not silently fall back to a default. */
export function onlyKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new InputError(`${path}.${k}: unknown field; allowed fields are ${allowed.join(', ')}`, `${path}.${k}`);
    }
  }
}

export function str(v: unknown, path: string, opts: { pattern?: RegExp; patternText?: string } = {}): string {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'a non-empty string', v);
  if (opts.pattern && !opts.pattern.test(v)) fail(path, opts.patternText ?? `a string matching ${opts.pattern}`, v);
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined ? undefined : str(v, path);
}

export function num(v: unknown, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const range =
    (opts.integer ? 'an integer' : 'a number') +
    (opts.min !== undefined && opts.max !== undefined
      ? ` from ${opts.min} to ${opts.max}`
      : opts.min !== undefined
        ? ` >= ${opts.min}`
        : opts.max !== undefined
          ? ` <= ${opts.max}`
          : '');
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, range, v);
  if (opts.integer && !Number.isInteger(v)) fail(path, range, v);
  if (opts.min !== undefined && v < opts.min) fail(path, range, v);
  if (opts.max !== undefined && v > opts.max) fail(path, range, v);
  return v;
}

export function optNum(v: unknown, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  return v === undefined ? undefined : num(v, path, opts);
}

export function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'true or false', v);
  return v;
}

export function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(path, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

export function arr<T>(v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

export function optArr<T>(v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
  return v === undefined ? [] : arr(v, path, item);
}

export function unique(values: readonly string[], path: string, what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new InputError(`${path}: duplicate ${what} ${JSON.stringify(v)}; each must be unique`, path);
    seen.add(v);
  }
}

/** A string that must compile as a regular expression. */
export function regex(v: unknown, path: string): string {
  const source = str(v, path);
  try {
    new RegExp(source);
  } catch (err) {
    throw new InputError(`${path}: not a valid regular expression: ${(err as Error).message}`, path);
  }
  return source;
}
