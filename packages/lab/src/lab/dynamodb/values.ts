import { LabError } from '../kernel';
import { canonicalNumber } from './numbers';
import { isReserved, reservedMessage } from './reserved-words';

export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

export const validation = (m: string) => new LabError('ValidationException', m);
/** A member of the wrong JSON type: DynamoDB's deserializer answers SerializationException. */
export const serialization = (m: string) => new LabError('SerializationException', m);

const TYPES = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'] as const;
const SET_NAMES = { SS: 'string', NS: 'number', BS: 'binary' } as const;

/**
 * Check one attribute value in DynamoDB's JSON shape: exactly one data type, each of its JSON
 * type, numbers that parse, sets that are non-empty and without duplicates, NULL only `true`.
 * `at` names the field in the error (`Item.Price`).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
 */
export function checkValue(v: unknown, at: string): AttributeValue {
  const EMPTY = 'One or more parameter values were invalid: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes';
  if (v === null || v === undefined) throw validation(EMPTY);
  if (typeof v !== 'object' || Array.isArray(v)) throw serialization(`Unexpected value type in payload: ${at} must be an attribute value such as {"S": "..."}, got ${JSON.stringify(v)}`);
  const av = v as AttributeValue;
  const set = TYPES.filter((t) => av[t] !== undefined && av[t] !== null);
  if (set.length === 0) throw validation(EMPTY);
  if (set.length > 1) throw validation('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
  const [type] = set;
  const x = av[type];
  switch (type) {
    case 'S':
    case 'B':
      if (typeof x !== 'string') throw serialization(`Unexpected value type in payload: ${at}.${type} must be a string`);
      break;
    case 'N':
      if (typeof x !== 'string') throw serialization(`Unexpected value type in payload: ${at}.N must be a string`);
      // Stored as DynamoDB stores it, so that keys, comparisons and replies see one spelling per value.
      av.N = canonicalNumber(x);
      break;
    case 'BOOL':
      if (typeof x !== 'boolean') throw serialization(`Unexpected value type in payload: ${at}.BOOL must be a boolean`);
      break;
    case 'NULL':
      if (x !== true) throw validation('One or more parameter values were invalid: Null attribute value types must have the value of true');
      break;
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(x) || !x.every((m) => typeof m === 'string')) throw serialization(`Unexpected field type: ${at}.${type} must be a list of strings`);
      // AWS's messages differ by set type (the double space included).
      if (!x.length) throw validation(type === 'BS' ? 'One or more parameter values were invalid: Binary sets should not be empty' : `One or more parameter values were invalid: An ${SET_NAMES[type]} set  may not be empty`);
      const norm = type === 'NS' ? x.map((m: string) => canonicalNumber(m)) : x;
      if (type === 'NS') av.NS = norm;
      if (new Set(norm).size !== x.length) {
        throw validation(type === 'NS' ? 'Input collection contains duplicates' : `One or more parameter values were invalid: Input collection [${x.join(', ')}]${type === 'BS' ? 'of type BS' : ''} contains duplicates.`);
      }
      break;
    }
    case 'L':
      if (!Array.isArray(x)) throw serialization(`Unexpected field type: ${at}.L must be a list of attribute values`);
      x.forEach((m, i) => checkValue(m, `${at}[${i}]`));
      break;
    case 'M':
      checkMap(x, `${at}.M`, checkValue);
      break;
  }
  return av;
}

/** A JSON object whose every member is checked by `each`; anything else is a SerializationException. */
export function checkMap<T>(v: unknown, at: string, each: (x: unknown, at: string) => T): Record<string, T> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw serialization(`Unexpected field type: ${at} must be a map, got ${JSON.stringify(v)}`);
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(v)) out[k] = each(x, `${at}.${k}`);
  return out;
}

export const checkItem = (v: unknown, at: string): Item => checkMap(v, at, checkValue);

/** The expression parameters of an operation, in the order DynamoDB names them when none is given. */
export type ExpressionField = 'ProjectionExpression' | 'ConditionExpression' | 'UpdateExpression' | 'KeyConditionExpression' | 'FilterExpression';

/**
 * ExpressionAttributeNames and ExpressionAttributeValues of a request, checked: keys spelt `#name`
 * and `:value`, maps not empty, values valid attribute values.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html
 */
export function expressionInputs(i: Record<string, unknown>): { names: Record<string, string>; values: Item } {
  const names =
    i.ExpressionAttributeNames === undefined
      ? {}
      : checkMap(i.ExpressionAttributeNames, 'ExpressionAttributeNames', (x, at) => {
          if (typeof x !== 'string') throw serialization(`Unexpected value type in payload: ${at} must be a string`);
          return x;
        });
  const values =
    i.ExpressionAttributeValues === undefined
      ? {}
      : checkMap(i.ExpressionAttributeValues, 'ExpressionAttributeValues', (x, at) => {
          try {
            return checkValue(x, at);
          } catch (e) {
            // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html
            throw e instanceof LabError && e.code === 'ValidationException' ? validation(`ExpressionAttributeValues contains invalid value: ${e.message} for key ${at.slice('ExpressionAttributeValues.'.length)}`) : e;
          }
        });
  for (const [field, map, sigil] of [
    ['ExpressionAttributeNames', names, '#'],
    ['ExpressionAttributeValues', values, ':'],
  ] as const) {
    if (i[field] === undefined) continue;
    const keys = Object.keys(map);
    if (!keys.length) throw validation(`${field} must not be empty`);
    const bad = keys.find((k) => !k.startsWith(sigil));
    if (bad !== undefined) throw validation(`${field} contains invalid key: Syntax error; key: "${bad}"`);
  }
  return { names, values };
}

/**
 * Every ExpressionAttributeNames and ExpressionAttributeValues entry must be used by one of the
 * request's expressions, and either map needs an expression to be used by: DynamoDB refuses the
 * request otherwise ("Value provided in ExpressionAttributeNames unused in expressions: keys:
 * {#x}"), so the lab must not quietly accept it. Expressions hold no string literals, so every
 * `#name` and `:value` token in them is a use. PutItem and DeleteItem prefix the message with "1
 * validation error detected: " as DynamoDB does for them (measured on the live service).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html
 */
export function checkPlaceholdersUsed(i: Record<string, unknown>, fields: readonly ExpressionField[], prefixed = false): void {
  const { names, values } = expressionInputs(i);
  const given = fields.filter((f) => i[f] !== undefined);
  if (!given.length) {
    if (i.ExpressionAttributeNames !== undefined) throw validation('ExpressionAttributeNames can only be specified when using expressions');
    if (i.ExpressionAttributeValues !== undefined) throw validation(`ExpressionAttributeValues can only be specified when using expressions: ${fields.map((f) => `${f} is null`).join(' and ')}`);
    return;
  }
  const text = given.map((f) => (typeof i[f] === 'string' ? (i[f] as string) : '')).join(' ');
  const used = new Set(text.match(/[#:][A-Za-z0-9_]+/g) ?? []);
  for (const [field, map] of [
    ['ExpressionAttributeNames', names],
    ['ExpressionAttributeValues', values],
  ] as const) {
    const unused = Object.keys(map).filter((k) => !used.has(k));
    if (unused.length) throw validation(`${prefixed ? '1 validation error detected: ' : ''}Value provided in ${field} unused in expressions: keys: {${unused.join(', ')}}`);
  }
}

/** A member that takes one of a fixed set of strings, refused as DynamoDB refuses a value outside it. */
export function enumOf<T extends string>(v: unknown, at: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw serialization(`Unexpected value type in payload: ${at} must be a string`);
  if (!allowed.includes(v as T)) throw validation(`1 validation error detected: Value '${v}' at '${at}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return v as T;
}

/** A boolean member such as ConsistentRead; another JSON type is a SerializationException. */
export function booleanOf(v: unknown, at: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw serialization(`Unexpected value type in payload: ${at} must be a boolean`);
  return v;
}

/** Which ReturnValues an operation accepts; an invalid value is refused as DynamoDB refuses it. */
export type ReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
const RETURN_VALUES: readonly ReturnValues[] = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];

/**
 * ReturnValues of PutItem and DeleteItem (NONE, ALL_OLD) or UpdateItem (all five).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-request-ReturnValues
 */
export function returnValues(v: unknown, allowed: 'put-delete' | 'update'): ReturnValues {
  if (v === undefined) return 'NONE';
  if (typeof v !== 'string' || !RETURN_VALUES.includes(v as ReturnValues)) {
    throw validation(`1 validation error detected: Value '${String(v)}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [${RETURN_VALUES.join(', ')}]`);
  }
  if (allowed === 'put-delete' && v !== 'NONE' && v !== 'ALL_OLD') throw validation('ReturnValues can only be ALL_OLD or NONE');
  return v as ReturnValues;
}

/**
 * Parse a ProjectionExpression: a comma-separated list of top-level attribute names, direct or
 * through ExpressionAttributeNames. Nested paths are refused, never ignored.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html
 */
export function parseProjection(expr: unknown, names: Record<string, string>): string[] | undefined {
  if (expr === undefined) return undefined;
  if (typeof expr !== 'string') throw serialization('Unexpected value type in payload: ProjectionExpression must be a string');
  if (!expr.trim()) throw validation('Invalid ProjectionExpression: The expression can not be empty;');
  const seen = new Set<string>();
  const paths = expr.split(',').map((part) => {
    const token = part.trim();
    if (/^#?\w+([.[].*)$/.test(token)) throw validation(`Invalid ProjectionExpression: nested document path ${token} is not supported by the lab (top-level attributes only)`);
    if (!/^#?\w+$/.test(token)) throw validation(`Invalid ProjectionExpression: Syntax error; token: ${JSON.stringify(token)}`);
    if (!token.startsWith('#')) {
      if (isReserved(token)) throw validation(reservedMessage('ProjectionExpression', token));
      return token;
    }
    const name = names[token];
    if (name === undefined) throw validation(`Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: ${token}`);
    return name;
  });
  for (const p of paths) {
    if (seen.has(p)) throw validation(overlapMessage('ProjectionExpression', p));
    seen.add(p);
  }
  return paths;
}

/** AWS's message for a (top-level) path named twice in one expression. */
export const overlapMessage = (expression: string, path: string) =>
  `Invalid ${expression}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${path}], path two: [${path}]`;

/** The item with only the projected attributes (all of them without a projection). */
export function project(item: Item, attributes: readonly string[] | undefined): Item {
  if (!attributes) return item;
  const out: Item = {};
  for (const a of attributes) if (item[a] !== undefined) out[a] = item[a];
  return out;
}

/**
 * An item's size as DynamoDB counts it: attribute names plus values (strings and binaries by
 * bytes, numbers about one byte per two significant digits, 1 byte for BOOL and NULL, 3 bytes of overhead per
 * list or map). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);
}

function valueSize(v: AttributeValue): number {
  const [[type, x]] = Object.entries(v);
  switch (type) {
    case 'S':
      return Buffer.byteLength(x as string);
    case 'B':
      return Buffer.from(x as string, 'base64').length;
    case 'N': {
      // Significant digits: the mantissa without its sign, point, exponent, leading and trailing zeros.
      const digits = (x as string).trim().replace(/[eE].*$/, '').replace(/[^0-9]/g, '').replace(/^0+/, '').replace(/0+$/, '');
      return Math.ceil(digits.length / 2) + 1;
    }
    case 'SS':
    case 'NS':
    case 'BS':
      return (x as string[]).reduce((n, m) => n + valueSize({ [type[0]]: m }), 0);
    case 'L':
      return 3 + (x as AttributeValue[]).reduce((n, m) => n + 1 + valueSize(m), 0);
    case 'M':
      return 3 + Object.entries(x as Item).reduce((n, [k, m]) => n + 1 + Buffer.byteLength(k) + valueSize(m), 0);
    default:
      return 1;
  }
}
