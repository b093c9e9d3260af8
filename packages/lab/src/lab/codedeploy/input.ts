/**
 * Readers for CodeDeploy request fields. Each one either returns a well-typed value or throws a
 * LabError whose message names the field, so an operation validates everything before it
 * changes any state.
 */
import { LabError } from '../kernel';

export type Rec = Record<string, unknown>;

const describe = (v: unknown): string => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v));

/** Malformed field: CodeDeploy answers InvalidInputException for shapes it cannot read. */
export const invalidInput = (message: string) => new LabError('InvalidInputException', message);

export function optString(input: Rec, field: string, path = field): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidInput(`${path}: expected a string, got ${describe(v)}`);
  return v;
}

/**
 * A name field: required (`requiredCode` when missing or empty) and 1-100 characters
 * (`invalidCode` otherwise), as CodeDeploy's application, group and config names are.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateApplication.html
 */
export function name(input: Rec, field: string, requiredCode: string, invalidCode: string, path = field): string {
  const v = optString(input, field, path);
  if (v === undefined || v === '') throw new LabError(requiredCode, `${path} is required`);
  if (v.length > 100) throw new LabError(invalidCode, `${path}: at most 100 characters, got ${v.length}`);
  return v;
}

export function optBool(input: Rec, field: string, path = field): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidInput(`${path}: expected a boolean, got ${describe(v)}`);
  return v;
}

export function optRecord(input: Rec, field: string, path = field): Rec | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidInput(`${path}: expected an object, got ${describe(v)}`);
  return v as Rec;
}

export function optArray(input: Rec, field: string, path = field): unknown[] | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidInput(`${path}: expected a list, got ${describe(v)}`);
  return v;
}

export function optStringList(input: Rec, field: string, path = field): string[] | undefined {
  const list = optArray(input, field, path);
  if (!list) return undefined;
  return list.map((v, i) => {
    if (typeof v !== 'string') throw invalidInput(`${path}[${i}]: expected a string, got ${describe(v)}`);
    return v;
  });
}

export function optInteger(input: Rec, field: string, path = field): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidInput(`${path}: expected an integer, got ${describe(v)}`);
  return v;
}

/** A timestamp as awsJson sends it: epoch seconds, possibly fractional. Returns epoch ms. */
export function optTimestamp(input: Rec, field: string, path = field): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidInput(`${path}: expected a timestamp in epoch seconds, got ${describe(v)}`);
  return v * 1000;
}

export function asRecord(v: unknown, path: string): Rec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidInput(`${path}: expected an object, got ${describe(v)}`);
  return v as Rec;
}
