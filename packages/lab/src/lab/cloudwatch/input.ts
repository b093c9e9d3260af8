/**
 * Readers for CloudWatch API input: each takes the parsed JSON, checks one field and returns it
 * typed, or throws a LabError with the code CloudWatch uses. Field paths are written as AWS writes
 * them in its messages (`MetricData.member.1.Value`).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html
 */
import { LabError } from '../kernel';

export type Input = Record<string, unknown>;

export const invalidValue = (message: string) => new LabError('InvalidParameterValue', message);
export const invalidCombination = (message: string) => new LabError('InvalidParameterCombination', message);
export const missingParameter = (field: string) => new LabError('MissingParameter', `The parameter ${field} is required.`);
export const notFound = (message: string) => new LabError('ResourceNotFound', message, 404);

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v));

export function isObject(v: unknown): v is Input {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(v: unknown, field: string): Input {
  if (!isObject(v)) throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected a structure.`);
  return v;
}

interface StringRule {
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly string[];
}

export function optString(input: Input, key: string, field = key, rule: StringRule = {}): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected a string.`);
  const { min = 0, max = Infinity, allowed } = rule;
  if (v.length < min || v.length > max) {
    throw invalidValue(`The value for parameter ${field} must be between ${min} and ${max} characters long, got ${v.length}.`);
  }
  if (allowed && !allowed.includes(v)) {
    throw invalidValue(`The value ${v} for parameter ${field} is invalid. Valid values: ${allowed.join(', ')}.`);
  }
  return v;
}

export function reqString(input: Input, key: string, field = key, rule: StringRule = {}): string {
  const v = optString(input, key, field, { min: 1, ...rule });
  if (v === undefined) throw missingParameter(field);
  return v;
}

interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

export function optNumber(input: Input, key: string, field = key, rule: NumberRule = {}): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected a finite number.`);
  if (rule.integer && !Number.isInteger(v)) throw invalidValue(`The value ${v} for parameter ${field} is invalid: expected an integer.`);
  if (rule.min !== undefined && v < rule.min) throw invalidValue(`The value ${v} for parameter ${field} is invalid: must be at least ${rule.min}.`);
  if (rule.max !== undefined && v > rule.max) throw invalidValue(`The value ${v} for parameter ${field} is invalid: must be at most ${rule.max}.`);
  return v;
}

export function reqNumber(input: Input, key: string, field = key, rule: NumberRule = {}): number {
  const v = optNumber(input, key, field, rule);
  if (v === undefined) throw missingParameter(field);
  return v;
}

export function optBoolean(input: Input, key: string, field = key): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected true or false.`);
  return v;
}

export function optArray(input: Input, key: string, field = key, max = Infinity): unknown[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected a list.`);
  if (v.length > max) throw invalidValue(`The collection ${field} must not have a size greater than ${max}, got ${v.length}.`);
  return v;
}

export function reqArray(input: Input, key: string, field = key, max = Infinity): unknown[] {
  const v = optArray(input, key, field, max);
  if (v === undefined || v.length === 0) throw missingParameter(field);
  return v;
}

export function optStringList(input: Input, key: string, field = key, max = Infinity, rule: StringRule = {}): string[] | undefined {
  const list = optArray(input, key, field, max);
  return list?.map((_, i) => reqString(list as unknown as Input, String(i), `${field}.member.${i + 1}`, rule));
}

/** A timestamp: awsJson1_0 sends epoch seconds; an ISO string is accepted too. Returns epoch ms. */
export function optTime(input: Input, key: string, field = key): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw invalidValue(`The value ${show(v)} for parameter ${field} is invalid: expected a timestamp (epoch seconds).`);
}

export function reqTime(input: Input, key: string, field = key): number {
  const v = optTime(input, key, field);
  if (v === undefined) throw missingParameter(field);
  return v;
}

/** Epoch ms as awsJson1_0 returns timestamps: epoch seconds. */
export const seconds = (ms: number) => ms / 1000;

/** Dimensions as a list of {Name, Value}: at most 30, names unique. */
export function dimensions(input: Input, key: string, field = key): Record<string, string> {
  const list = optArray(input, key, field, 30) ?? [];
  const out: Record<string, string> = {};
  list.forEach((d, i) => {
    const path = `${field}.member.${i + 1}`;
    const o = object(d, path);
    const name = reqString(o, 'Name', `${path}.Name`, { max: 255 });
    const value = reqString(o, 'Value', `${path}.Value`, { max: 1024 });
    if (name in out) throw invalidValue(`The dimension ${name} appears more than once in ${field}.`);
    out[name] = value;
  });
  return out;
}

export const dimensionList = (dims: Readonly<Record<string, string>>) => Object.entries(dims).map(([Name, Value]) => ({ Name, Value }));

/** Units CloudWatch accepts. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html */
export const UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
] as const;

/** Ids of GetMetricData queries and alarm metrics: a lowercase letter, then letters, digits, underscores.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html */
export const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

/** Opaque page tokens: the index of the next item, base64url-encoded. */
export function pageToken(index: number): string {
  return Buffer.from(`lab:${index}`, 'utf8').toString('base64url');
}

export function readPageToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^lab:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw new LabError('InvalidNextToken', `The NextToken ${token} is invalid.`);
  return Number(m[1]);
}
