/**
 * Metric math: the subset the lab needs. Arithmetic (+ - * / ^, unary -), comparison
 * (== != < <= > >=) and logical operators (AND && OR ||), IF, FILL, ABS, CEIL, FLOOR,
 * TIME_SERIES, and SEARCH (always an empty result: the lab has no metric index to search).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
import { invalidValue } from './input';
import type { Series } from './store';

export type Node =
  | { readonly t: 'num'; readonly v: number }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'id'; readonly name: string }
  | { readonly t: 'neg'; readonly a: Node }
  | { readonly t: 'bin'; readonly op: string; readonly a: Node; readonly b: Node }
  | { readonly t: 'call'; readonly fn: string; readonly args: readonly Node[] };

interface Token {
  readonly k: 'num' | 'str' | 'id' | 'fn' | 'op' | 'end';
  readonly v: string;
  readonly at: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '^', '(', ')', ',', '[', ']'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ k: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (word) {
      const w = word[0];
      // Functions and keywords are upper case; ids start with a lower-case letter.
      out.push({ k: /^[a-z]/.test(w) ? 'id' : w === 'AND' || w === 'OR' ? 'op' : 'fn', v: w === 'AND' ? '&&' : w === 'OR' ? '||' : w, at: i });
      i += w.length;
      continue;
    }
    if (c === '"' || c === '\'' || c === '\u201c') {
      const close = c === '\u201c' ? '\u201d' : c;
      const j = src.indexOf(close, i + 1);
      if (j < 0) throw new MathError(`unterminated string at position ${i}`);
      out.push({ k: 'str', v: src.slice(i + 1, j), at: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new MathError(`unexpected character '${c}' at position ${i}`);
    out.push({ k: 'op', v: op, at: i });
    i += op.length;
  }
  out.push({ k: 'end', v: '', at: src.length });
  return out;
}

export class MathError extends Error {}

const LEVELS: readonly (readonly string[])[] = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>='], ['+', '-'], ['*', '/'], ['^']];

/** Parse an expression; throws MathError naming what is wrong and where. */
export function parseExpression(src: string): Node {
  const toks = tokenize(src);
  let pos = 0;
  const peek = () => toks[pos];
  const expect = (v: string) => {
    const t = toks[pos];
    if (t.k !== 'op' || t.v !== v) throw new MathError(`expected '${v}' at position ${t.at}`);
    pos++;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    for (;;) {
      const t = peek();
      if (t.k !== 'op' || !LEVELS[n].includes(t.v)) return left;
      pos++;
      // ^ is right-associative; the others associate to the left.
      const right = t.v === '^' ? level(n) : level(n + 1);
      left = { t: 'bin', op: t.v, a: left, b: right };
    }
  };
  const unary = (): Node => {
    const t = peek();
    if (t.k === 'op' && t.v === '-') {
      pos++;
      return { t: 'neg', a: unary() };
    }
    if (t.k === 'op' && t.v === '+') {
      pos++;
      return unary();
    }
    return primary();
  };
  const primary = (): Node => {
    const t = toks[pos++];
    if (t.k === 'num') return { t: 'num', v: Number(t.v) };
    if (t.k === 'str') return { t: 'str', v: t.v };
    if (t.k === 'id') return { t: 'id', name: t.v };
    if (t.k === 'fn') {
      // Bare keywords used as arguments (FILL(m1, REPEAT)) are calls without parentheses.
      if (peek().k !== 'op' || peek().v !== '(') return { t: 'call', fn: t.v, args: [] };
      pos++;
      const args: Node[] = [];
      if (!(peek().k === 'op' && peek().v === ')')) {
        args.push(level(0));
        while (peek().k === 'op' && peek().v === ',') {
          pos++;
          args.push(level(0));
        }
      }
      expect(')');
      return { t: 'call', fn: t.v, args };
    }
    if (t.k === 'op' && t.v === '(') {
      const inner = level(0);
      expect(')');
      return inner;
    }
    throw new MathError(t.k === 'end' ? 'unexpected end of expression' : `unexpected '${t.v}' at position ${t.at}`);
  };
  const root = level(0);
  if (peek().k !== 'end') throw new MathError(`unexpected '${peek().v}' at position ${peek().at}`);
  return root;
}

/** Every id an expression refers to. */
export function referencedIds(node: Node, out = new Set<string>()): Set<string> {
  switch (node.t) {
    case 'id':
      out.add(node.name);
      break;
    case 'neg':
      referencedIds(node.a, out);
      break;
    case 'bin':
      referencedIds(node.a, out);
      referencedIds(node.b, out);
      break;
    case 'call':
      node.args.forEach((a) => referencedIds(a, out));
      break;
    default:
      break;
  }
  return out;
}

export const SUPPORTED_FUNCTIONS = ['IF', 'FILL', 'ABS', 'CEIL', 'FLOOR', 'SQRT', 'TIME_SERIES', 'SEARCH', 'REPEAT'] as const;

type Value = number | Series;

export interface MathContext {
  /** The series of an id (a metric or another expression). */
  series(id: string): Series;
  /** Every bucket start in the query range (for FILL and TIME_SERIES). */
  readonly timeline: readonly number[];
}

const isSeries = (v: Value): v is Series => v instanceof Map;

function arith(op: string, x: number, y: number): number {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    // "If the value of a data point causes a function to attempt to divide by zero, the data point is dropped."
    case '/':
      return y === 0 ? NaN : x / y;
    case '^':
      return x ** y;
    case '==':
      return x === y ? 1 : 0;
    case '!=':
      return x !== y ? 1 : 0;
    case '<':
      return x < y ? 1 : 0;
    case '<=':
      return x <= y ? 1 : 0;
    case '>':
      return x > y ? 1 : 0;
    case '>=':
      return x >= y ? 1 : 0;
    case '&&':
      return x !== 0 && y !== 0 ? 1 : 0;
    case '||':
      return x !== 0 || y !== 0 ? 1 : 0;
    default:
      throw new MathError(`unsupported operator ${op}`);
  }
}

function sorted(s: Series): Series {
  return new Map([...s].sort((a, b) => a[0] - b[0]));
}

/**
 * Apply a binary operator. Between two time series the result has a point wherever either has
 * one, the missing side counting as 0 ("Missing values in a time series are treated as 0"); a time
 * with no data in either operand yields no point; a non-finite result (x/0) is dropped.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
function binary(op: string, a: Value, b: Value): Value {
  if (!isSeries(a) && !isSeries(b)) return arith(op, a, b);
  const out: Series = new Map();
  const times = new Set<number>([...(isSeries(a) ? a.keys() : []), ...(isSeries(b) ? b.keys() : [])]);
  for (const t of times) {
    const x = isSeries(a) ? (a.get(t) ?? 0) : a;
    const y = isSeries(b) ? (b.get(t) ?? 0) : b;
    const r = arith(op, x, y);
    if (Number.isFinite(r)) out.set(t, r);
  }
  return sorted(out);
}

function mapSeries(v: Value, f: (x: number) => number): Value {
  if (!isSeries(v)) return f(v);
  return new Map([...v].map(([t, x]) => [t, f(x)] as [number, number]).filter(([, x]) => Number.isFinite(x)));
}

/**
 * IF(condition, trueValue, falseValue), evaluated per timestamp of a time-series condition: a
 * true condition takes trueValue (0 where that series has no point), a false one takes falseValue
 * (dropped where that series has no point or falseValue is omitted).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#using-IF-expressions
 */
function ifValue(cond: Value, a: Value, b: Value | undefined): Value {
  if (!isSeries(cond)) return cond !== 0 ? a : (b ?? new Map());
  const out: Series = new Map();
  for (const [t, c] of cond) {
    if (c !== 0) out.set(t, isSeries(a) ? (a.get(t) ?? 0) : a);
    else if (b !== undefined) {
      const v = isSeries(b) ? b.get(t) : b;
      if (v !== undefined) out.set(t, v);
    }
  }
  return out;
}

export function evaluate(node: Node, ctx: MathContext): Value {
  switch (node.t) {
    case 'num':
      return node.v;
    case 'str':
      throw new MathError(`a string ("${node.v}") is not a value`);
    case 'id':
      return ctx.series(node.name);
    case 'neg':
      return mapSeries(evaluate(node.a, ctx), (x) => -x);
    case 'bin':
      return binary(node.op, evaluate(node.a, ctx), evaluate(node.b, ctx));
    case 'call':
      return call(node, ctx);
  }
}

function call(node: Extract<Node, { t: 'call' }>, ctx: MathContext): Value {
  const arity = (min: number, max = min) => {
    if (node.args.length < min || node.args.length > max) {
      throw new MathError(`${node.fn} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${node.args.length}`);
    }
  };
  switch (node.fn) {
    case 'IF': {
      arity(2, 3);
      const [c, a, b] = node.args.map((n) => evaluate(n, ctx));
      return ifValue(c, a, b);
    }
    case 'FILL': {
      arity(2);
      const s = evaluate(node.args[0], ctx);
      if (!isSeries(s)) throw new MathError('FILL takes a time series as its first argument');
      const filler = node.args[1];
      const out: Series = new Map();
      let last: number | undefined;
      const fill = filler.t === 'call' && filler.fn === 'REPEAT' ? undefined : evaluate(filler, ctx);
      for (const t of ctx.timeline) {
        const v = s.get(t);
        if (v !== undefined) {
          out.set(t, v);
          last = v;
          continue;
        }
        const f = fill === undefined ? last : isSeries(fill) ? fill.get(t) : fill;
        if (f !== undefined) out.set(t, f);
      }
      return out;
    }
    case 'ABS':
      arity(1);
      return mapSeries(evaluate(node.args[0], ctx), Math.abs);
    case 'CEIL':
      arity(1);
      return mapSeries(evaluate(node.args[0], ctx), Math.ceil);
    case 'FLOOR':
      arity(1);
      return mapSeries(evaluate(node.args[0], ctx), Math.floor);
    case 'SQRT':
      arity(1);
      return mapSeries(evaluate(node.args[0], ctx), Math.sqrt);
    case 'TIME_SERIES': {
      arity(1);
      const v = evaluate(node.args[0], ctx);
      if (isSeries(v)) throw new MathError('TIME_SERIES takes a scalar');
      return new Map(ctx.timeline.map((t) => [t, v] as [number, number]));
    }
    case 'SEARCH':
      // The lab keeps no searchable metric index: SEARCH answers an empty result.
      return new Map();
    default:
      throw new MathError(`unsupported function ${node.fn}; the lab supports ${SUPPORTED_FUNCTIONS.filter((f) => f !== 'REPEAT').join(', ')}`);
  }
}

/** Check an expression at the API boundary: parse errors become InvalidParameterValue naming the field. */
export function checkExpression(expr: string, field: string): Node {
  // A Metrics Insights query is SQL (SELECT ... FROM ...), valid on AWS: refused by name, never as a parse error.
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html
  if (/^\s*SELECT\s/i.test(expr)) {
    throw invalidValue(`The value ${expr} for parameter ${field} is a CloudWatch Metrics Insights query: Metrics Insights is not supported by the lab; use a MetricStat or a metric math expression.`);
  }
  try {
    return parseExpression(expr);
  } catch (err) {
    throw invalidValue(`The value ${expr} for parameter ${field} is invalid: ${(err as Error).message}.`);
  }
}

export function asSeries(v: Value, id: string): Series {
  if (!isSeries(v)) throw new MathError(`the expression ${id} yields a single number; the final result of an expression must be a time series`);
  return v;
}
