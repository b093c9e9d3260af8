import { LabError } from '../kernel';
import { enumOf, expressionInputs, validation, type AttributeValue, type Item } from './values';
import { canonicalNumber, compareNumbers } from './numbers';
import { isReserved } from './reserved-words';

/** Which expression is parsed: DynamoDB names it in every error (`Invalid FilterExpression: ...`). */
export type ExpressionKind = 'ConditionExpression' | 'FilterExpression' | 'KeyConditionExpression';

/**
 * A failed condition, in DynamoDB's own shape: HTTP 400, ConditionalCheckFailedException, "The
 * conditional request failed", with the item as stored in `Item` when the request asked for it
 * with ReturnValuesOnConditionCheckFailure ALL_OLD (and there is one). The code is plain like the
 * lab's other errors: the error-type header carries it, and the AWS CLI and SDKs name the error by it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#API_UpdateItem_Errors
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ConditionalCheckFailedException.html
 */
export const conditionalCheckFailed = (item?: Item) =>
  new LabError('ConditionalCheckFailedException', 'The conditional request failed', 400, item ? { Item: item } : undefined);

export type Operand = { readonly kind: 'path'; readonly name: string } | { readonly kind: 'value'; readonly token: string; readonly value: AttributeValue };
type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type Condition =
  | { readonly kind: 'compare'; readonly op: Comparator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly operand: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly operand: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'exists'; readonly negated: boolean; readonly name: string }
  | { readonly kind: 'begins_with'; readonly operand: Operand; readonly prefix: Operand }
  | { readonly kind: 'not'; readonly inner: Condition }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition };

/** Functions DynamoDB has that the lab refuses instead of ignoring. */
const UNSUPPORTED_FUNCTIONS = new Set(['size', 'contains', 'attribute_type']);
const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);

/**
 * Parse a condition expression: comparisons (`= <> < <= > >=`), `BETWEEN`, `IN`,
 * `attribute_exists`, `attribute_not_exists`, `begins_with`, `NOT`, `AND`, `OR` and parentheses,
 * with DynamoDB's precedence (NOT, then AND, then OR), on top-level attributes named directly or
 * through ExpressionAttributeNames. Anything else (nested paths, size, contains, attribute_type)
 * is refused with a ValidationException that names it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 */
export function parseCondition(expr: unknown, names: Record<string, string>, values: Record<string, AttributeValue>, kind: ExpressionKind = 'ConditionExpression'): Condition {
  const invalid = (m: string) => validation(`Invalid ${kind}: ${m}`);
  if (typeof expr !== 'string') throw invalid('expected a string');
  if (!expr.trim()) throw invalid('The expression can not be empty;');
  const tokens = tokenize(expr, invalid);
  let pos = 0;
  const peek = () => tokens[pos];
  const upper = () => peek()?.toUpperCase();
  const near = () => (pos < tokens.length ? `near "${tokens.slice(pos, pos + 3).join(' ')}"` : 'at the end of the expression');
  const expect = (t: string) => {
    if (upper() !== t.toUpperCase()) throw invalid(`expected ${t} ${near()} in ${JSON.stringify(expr)}`);
    pos++;
  };

  const operand = (): Operand => {
    const t = peek();
    if (t === undefined || t === '(' || t === ')' || t === ',' || COMPARATORS.has(t)) throw invalid(`expected an attribute or a value ${near()} in ${JSON.stringify(expr)}`);
    pos++;
    if (t.startsWith(':')) {
      const value = values[t];
      if (value === undefined) throw validation(`Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${t}`);
      return { kind: 'value', token: t, value };
    }
    if (peek() === '(') {
      if (UNSUPPORTED_FUNCTIONS.has(t)) throw validation(`Invalid ${kind}: function ${t} is not supported by the lab (it models attribute_exists, attribute_not_exists and begins_with)`);
      throw invalid(`a function (${t}) cannot be used as an operand here`);
    }
    return { kind: 'path', name: pathName(t, names, invalid) };
  };

  const fn = (name: string): Condition => {
    if (UNSUPPORTED_FUNCTIONS.has(name)) throw validation(`Invalid ${kind}: function ${name} is not supported by the lab (it models attribute_exists, attribute_not_exists and begins_with)`);
    if (name !== 'attribute_exists' && name !== 'attribute_not_exists' && name !== 'begins_with') throw invalid(`Invalid function name; function: ${name}`);
    expect('(');
    const first = operand();
    let out: Condition;
    if (name === 'begins_with') {
      expect(',');
      out = { kind: 'begins_with', operand: first, prefix: operand() };
    } else {
      if (first.kind !== 'path') throw invalid(`Operator or function requires a document path; operator or function: ${name}`);
      out = { kind: 'exists', negated: name === 'attribute_not_exists', name: first.name };
    }
    expect(')');
    return out;
  };

  const primary = (): Condition => {
    const t = peek();
    if (t === '(') {
      pos++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (t !== undefined && /^[A-Za-z_]\w*$/.test(t) && tokens[pos + 1] === '(' && !['AND', 'OR', 'NOT', 'IN', 'BETWEEN'].includes(t.toUpperCase())) {
      pos++;
      return fn(t);
    }
    const left = operand();
    const op = upper();
    if (op !== undefined && COMPARATORS.has(op)) {
      pos++;
      return { kind: 'compare', op: op as Comparator, left, right: operand() };
    }
    if (op === 'BETWEEN') {
      pos++;
      const low = operand();
      expect('AND');
      const high = operand();
      if (low.kind === 'value' && high.kind === 'value' && (compare(low.value, high.value) ?? 0) > 0) {
        throw invalid(`The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: ${shown(low.value)}, upper bound operand: ${shown(high.value)}`);
      }
      return { kind: 'between', operand: left, low, high };
    }
    if (op === 'IN') {
      pos++;
      expect('(');
      const list = [operand()];
      while (peek() === ',') {
        pos++;
        list.push(operand());
      }
      expect(')');
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
      if (list.length > 100) throw invalid('the IN operator takes at most 100 values');
      return { kind: 'in', operand: left, list };
    }
    throw invalid(`expected a comparator, BETWEEN or IN ${near()} in ${JSON.stringify(expr)}`);
  };

  const not = (): Condition => {
    if (upper() === 'NOT') {
      pos++;
      return { kind: 'not', inner: not() };
    }
    return primary();
  };
  const and = (): Condition => {
    let left = not();
    while (upper() === 'AND') {
      pos++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const or = (): Condition => {
    let left = and();
    while (upper() === 'OR') {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  const out = or();
  if (pos < tokens.length) throw invalid(`unexpected ${near()} in ${JSON.stringify(expr)}`);
  return out;
}

/** A value as DynamoDB shows it in a message: `AttributeValue: {N:2}`. */
const shown = (v: AttributeValue) => `AttributeValue: {${Object.entries(v).map(([t, x]) => `${t}:${typeof x === 'string' ? x : JSON.stringify(x)}`).join(', ')}}`;

function tokenize(expr: string, invalid: (m: string) => LabError): string[] {
  const out: string[] = [];
  // An operator or punctuation; a name, #name or :value (with any nested path kept whole, to be refused by name); anything else.
  const re = /\s*(?:(<>|<=|>=|[=<>(),])|([#:]?\w+(?:\.#?\w+|\[\d+\])*)|(\S))/y;
  while (re.lastIndex < expr.length) {
    const m = re.exec(expr);
    if (!m) break; // only whitespace is left
    if (m[3] !== undefined) throw invalid(`unexpected character ${JSON.stringify(m[3])} in ${JSON.stringify(expr)}`);
    out.push(m[1] ?? m[2]);
  }
  return out;
}

function pathName(token: string, names: Record<string, string>, invalid: (m: string) => LabError): string {
  if (/[.[]/.test(token)) throw invalid(`nested document path ${token} is not supported by the lab (top-level attributes only)`);
  if (!token.startsWith('#')) {
    if (isReserved(token)) throw invalid(`Attribute name is a reserved keyword; reserved keyword: ${token}`);
    return token;
  }
  const name = names[token];
  if (name === undefined) throw invalid(`An expression attribute name used in the document path is not defined; attribute name: ${token}`);
  return name;
}

/**
 * Evaluate a parsed condition against the item as stored (an absent item has no attributes).
 * Comparisons follow DynamoDB: numbers numerically, strings and binaries by their bytes; an
 * ordering between different types, or with a missing attribute, is false; `<>` with a missing
 * attribute is true (no value is not equal to a value).
 */
export function holds(c: Condition, item: Item | undefined): boolean {
  const value = (o: Operand): AttributeValue | undefined => (o.kind === 'value' ? o.value : item?.[o.name]);
  switch (c.kind) {
    case 'exists':
      return (item?.[c.name] !== undefined) !== c.negated;
    case 'not':
      return !holds(c.inner, item);
    case 'and':
      return holds(c.left, item) && holds(c.right, item);
    case 'or':
      return holds(c.left, item) || holds(c.right, item);
    case 'compare': {
      const a = value(c.left);
      const b = value(c.right);
      if (c.op === '=') return a !== undefined && b !== undefined && equal(a, b);
      if (c.op === '<>') return !(a !== undefined && b !== undefined && equal(a, b));
      const order = compare(a, b);
      if (order === undefined) return false;
      return c.op === '<' ? order < 0 : c.op === '<=' ? order <= 0 : c.op === '>' ? order > 0 : order >= 0;
    }
    case 'between': {
      const low = value(c.low);
      const high = value(c.high);
      const x = value(c.operand);
      const lo = compare(x, low);
      const hi = compare(x, high);
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const x = value(c.operand);
      return x !== undefined && c.list.some((o) => {
        const y = value(o);
        return y !== undefined && equal(x, y);
      });
    }
    case 'begins_with': {
      const x = scalar(value(c.operand));
      const p = scalar(value(c.prefix));
      if (!x || !p || x.type !== p.type || x.type === 'N') return false;
      return x.bytes.subarray(0, p.bytes.length).equals(p.bytes);
    }
  }
}

function scalar(v: AttributeValue | undefined): { type: 'N' | 'S' | 'B'; bytes: Buffer; n: string } | undefined {
  if (!v) return undefined;
  if (typeof v.N === 'string') return { type: 'N', bytes: Buffer.alloc(0), n: v.N };
  if (typeof v.S === 'string') return { type: 'S', bytes: Buffer.from(v.S, 'utf8'), n: '' };
  if (typeof v.B === 'string') return { type: 'B', bytes: Buffer.from(v.B, 'base64'), n: '' };
  return undefined;
}

/** Order of two scalars of one type (N, S or B); undefined when they cannot be ordered. */
export function compare(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  const x = scalar(a);
  const y = scalar(b);
  if (!x || !y || x.type !== y.type) return undefined;
  // Numbers by decimal value (./numbers.ts), never as binary floats.
  if (x.type === 'N') return compareNumbers(x.n, y.n);
  return Buffer.compare(x.bytes, y.bytes);
}

function equal(a: AttributeValue, b: AttributeValue): boolean {
  const [ta] = Object.keys(a);
  const [tb] = Object.keys(b);
  if (ta !== tb) return false;
  const x = a[ta];
  const y = b[tb];
  switch (ta) {
    case 'N':
      return compareNumbers(x as string, y as string) === 0;
    case 'SS':
    case 'BS':
      return sameMembers(x as string[], y as string[], String);
    case 'NS':
      return sameMembers(x as string[], y as string[], canonicalNumber);
    case 'L': {
      const l = x as AttributeValue[];
      const r = y as AttributeValue[];
      return l.length === r.length && l.every((v, i) => equal(v, r[i]));
    }
    case 'M': {
      const l = x as Item;
      const r = y as Item;
      const keys = Object.keys(l);
      return keys.length === Object.keys(r).length && keys.every((k) => r[k] !== undefined && equal(l[k], r[k]));
    }
    default:
      return x === y;
  }
}

function sameMembers(a: string[], b: string[], norm: (m: string) => string): boolean {
  const x = new Set(a.map(norm));
  const y = new Set(b.map(norm));
  return x.size === y.size && [...x].every((m) => y.has(m));
}

/** The condition of a write, parsed, and what a failure returns. */
export interface WriteCondition {
  readonly condition?: Condition;
  readonly onFailure: 'ALL_OLD' | 'NONE';
}

/**
 * The condition of a write, if any: parsed up front, so a malformed condition is refused before
 * anything is written. The legacy `Expected` parameter is refused rather than ignored.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-request-ReturnValuesOnConditionCheckFailure
 */
export function conditionOf(input: Record<string, unknown>): WriteCondition {
  if (input.Expected !== undefined || input.ConditionalOperator !== undefined) {
    throw validation('the lab does not model the legacy Expected / ConditionalOperator parameters: use ConditionExpression');
  }
  const onFailure = enumOf(input.ReturnValuesOnConditionCheckFailure, 'returnValuesOnConditionCheckFailure', ['ALL_OLD', 'NONE'], 'NONE');
  if (input.ConditionExpression === undefined) return { onFailure };
  const { names, values } = expressionInputs(input);
  return { condition: parseCondition(input.ConditionExpression, names, values), onFailure };
}

/** Throw ConditionalCheckFailedException unless the condition (if any) holds for the stored item. */
export function check(w: WriteCondition, item: Item | undefined): void {
  if (w.condition && !holds(w.condition, item)) throw conditionalCheckFailed(w.onFailure === 'ALL_OLD' ? item : undefined);
}
