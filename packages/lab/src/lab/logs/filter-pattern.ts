/**
 * CloudWatch Logs filter patterns, compiled to a predicate over one log event's message:
 * term patterns (`ERROR`, `"two words"`, `?ERROR ?WARN`, `ERROR -Exiting`), JSON patterns
 * (`{ $.level = "ERROR" && $.latency > 100 }`) and space-delimited patterns
 * (`[ip, user, ..., status >= 400, bytes]`). Regular expressions (`%...%`) are refused by name.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */

/** A pattern the lab cannot compile: its message names the syntax. */
export class FilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterPatternError';
  }
}

export type Matcher = (message: string) => boolean;

/** Compile a filter pattern; the empty pattern matches every event. */
export function compileFilterPattern(pattern: string): Matcher {
  const p = pattern.trim();
  if (p === '') return () => true;
  if (p.includes('%')) refuseRegex(p);
  if (p.startsWith('{')) return jsonPattern(p);
  if (p.startsWith('[')) return spaceDelimitedPattern(p);
  return termPattern(p);
}

function refuseRegex(p: string): void {
  // A % inside a quoted term is a literal character; outside one it opens a regular expression.
  const outside = p.replace(/"(?:[^"\\]|\\.)*"/g, '');
  if (outside.includes('%')) throw new FilterPatternError(`filterPattern ${JSON.stringify(p)}: regular-expression filter patterns (%...%) are not supported by the lab; use term, JSON or space-delimited patterns`);
}

/**
 * Terms: every plain term must appear (case-sensitive), a `-term` must not, and of the `?term`s
 * at least one must appear. Quoted terms may hold spaces and punctuation.
 */
function termPattern(p: string): Matcher {
  const all: string[] = [];
  const none: string[] = [];
  const any: string[] = [];
  for (const m of p.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
    const term = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    (m[1] === '?' ? any : m[1] === '-' ? none : all).push(term);
  }
  if (any.length && (all.length || none.length)) {
    throw new FilterPatternError(`filterPattern ${JSON.stringify(p)}: ?term (any of) cannot be combined with plain or -term terms in one pattern`);
  }
  return (m) => all.every((t) => m.includes(t)) && !none.some((t) => m.includes(t)) && (!any.length || any.some((t) => m.includes(t)));
}

// ---- a small tokenizer shared by the JSON and space-delimited grammars ----

type Token = { kind: 'op' | 'word' | 'string' | 'punct'; text: string };

function tokenize(src: string, what: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new FilterPatternError(`${what}: unterminated string`);
      out.push({ kind: 'string', text: s });
      i = j + 1;
    } else if (src.startsWith('&&', i) || src.startsWith('||', i) || src.startsWith('!=', i) || src.startsWith('>=', i) || src.startsWith('<=', i)) {
      out.push({ kind: 'op', text: src.slice(i, i + 2) });
      i += 2;
    } else if ('=<>'.includes(c)) {
      out.push({ kind: 'op', text: c });
      i++;
    } else if ('(),'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else {
      let j = i;
      while (j < src.length && !/[\s"=<>!&|(),]/.test(src[j])) j++;
      if (j === i) throw new FilterPatternError(`${what}: unexpected ${JSON.stringify(src[i])}`);
      out.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    }
  }
  return out;
}

type Compare = '=' | '!=' | '<' | '>' | '<=' | '>=';
const COMPARES = ['=', '!=', '<', '>', '<=', '>='];

const isNumber = (t: Token) => t.kind === 'word' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t.text);

/** A comparison's value, checked when the pattern compiles: <, >, <= and >= compare numbers only. */
function comparison(op: string, value: Token | undefined, field: string, what: string): (actual: unknown) => boolean {
  if (!value || (value.kind !== 'word' && value.kind !== 'string')) throw new FilterPatternError(`${what}: expected a value after ${field} ${op}`);
  if (op !== '=' && op !== '!=' && !isNumber(value)) throw new FilterPatternError(`${what}: ${op} compares numbers; ${JSON.stringify(value.text)} is not a number`);
  return (actual) => compareValue(actual, op as Compare, value);
}

/** A value compared as AWS compares it: numbers numerically, strings exactly with `*` as a wildcard. */
function compareValue(actual: unknown, op: Compare, expected: Token): boolean {
  if (isNumber(expected)) {
    const a = typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : NaN;
    if (Number.isNaN(a)) return op === '!=';
    const e = Number(expected.text);
    return op === '=' ? a === e : op === '!=' ? a !== e : op === '<' ? a < e : op === '>' ? a > e : op === '<=' ? a <= e : a >= e;
  }
  if (actual === undefined || actual === null || typeof actual === 'object') return op === '!=' && actual !== undefined;
  const re = new RegExp(`^${expected.text.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  const hit = re.test(String(actual));
  return op === '=' ? hit : !hit;
}

// ---- JSON patterns ----

/** `{ $.a.b[0] OP value }` with `&&`, `||`, parentheses, IS NULL, NOT EXISTS, IS TRUE, IS FALSE. */
function jsonPattern(p: string): Matcher {
  const what = `filterPattern ${JSON.stringify(p)}`;
  if (!p.endsWith('}')) throw new FilterPatternError(`${what}: a JSON pattern is enclosed in { }`);
  const tokens = tokenize(p.slice(1, -1), what);
  let i = 0;
  const peek = () => tokens[i];
  const expect = (text: string) => {
    if (peek()?.text !== text) throw new FilterPatternError(`${what}: expected ${text}${peek() ? `, found ${JSON.stringify(peek().text)}` : ' at the end'}`);
    i++;
  };
  type Node = (doc: unknown) => boolean;
  const orExpr = (): Node => {
    const parts = [andExpr()];
    while (peek()?.text === '||') {
      i++;
      parts.push(andExpr());
    }
    return (d) => parts.some((n) => n(d));
  };
  const andExpr = (): Node => {
    const parts = [primary()];
    while (peek()?.text === '&&') {
      i++;
      parts.push(primary());
    }
    return (d) => parts.every((n) => n(d));
  };
  const primary = (): Node => {
    if (peek()?.text === '(') {
      i++;
      const n = orExpr();
      expect(')');
      return n;
    }
    const sel = peek();
    if (!sel || sel.kind !== 'word' || !sel.text.startsWith('$')) throw new FilterPatternError(`${what}: expected a selector such as $.level${sel ? `, found ${JSON.stringify(sel.text)}` : ''}`);
    i++;
    const path = selectorPath(sel.text, what);
    const next = peek();
    if (next?.kind === 'word' && ['IS', 'NOT'].includes(next.text.toUpperCase())) {
      i++;
      const word = peek()?.text.toUpperCase();
      i++;
      if (next.text.toUpperCase() === 'NOT' && word === 'EXISTS') return (d) => lookup(d, path) === undefined;
      if (next.text.toUpperCase() === 'IS' && word === 'NULL') return (d) => lookup(d, path) === null;
      if (next.text.toUpperCase() === 'IS' && word === 'TRUE') return (d) => lookup(d, path) === true;
      if (next.text.toUpperCase() === 'IS' && word === 'FALSE') return (d) => lookup(d, path) === false;
      throw new FilterPatternError(`${what}: expected IS NULL, IS TRUE, IS FALSE or NOT EXISTS after ${sel.text}`);
    }
    if (!next || next.kind !== 'op' || !COMPARES.includes(next.text)) throw new FilterPatternError(`${what}: expected one of ${COMPARES.join(' ')} after ${sel.text}`);
    i++;
    const test = comparison(next.text, peek(), sel.text, what);
    i++;
    return (d) => test(lookup(d, path));
  };
  const root = orExpr();
  if (i < tokens.length) throw new FilterPatternError(`${what}: unexpected ${JSON.stringify(tokens[i].text)}`);
  return (message) => {
    let doc: unknown;
    try {
      doc = JSON.parse(message);
    } catch {
      return false;
    }
    return typeof doc === 'object' && doc !== null && root(doc);
  };
}

function selectorPath(sel: string, what: string): (string | number)[] {
  const m = /^\$((?:\.[A-Za-z0-9_@-]+|\[\d+\])*)$/.exec(sel);
  if (!m) throw new FilterPatternError(`${what}: the lab models selectors of keys and array indexes ($.a.b[0]), not ${sel}`);
  return [...m[1].matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((x) => (x[1] !== undefined ? x[1] : Number(x[2])));
}

function lookup(doc: unknown, path: (string | number)[]): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

// ---- space-delimited patterns ----

/**
 * `[a, b = "x*", ..., c >= 400 && c < 500]`: the message's fields are split on spaces, with text
 * inside "" or [] one field; `...` stands for any number of fields.
 */
function spaceDelimitedPattern(p: string): Matcher {
  const what = `filterPattern ${JSON.stringify(p)}`;
  if (!p.endsWith(']')) throw new FilterPatternError(`${what}: a space-delimited pattern is enclosed in [ ]`);
  const tokens = tokenize(p.slice(1, -1), what);
  type Field = { ellipsis: true } | { ellipsis: false; test: (v: string) => boolean };
  const fields: Field[] = [];
  let i = 0;
  while (i < tokens.length) {
    const name = tokens[i];
    if (name.kind !== 'word') throw new FilterPatternError(`${what}: expected a field name, found ${JSON.stringify(name.text)}`);
    i++;
    if (name.text === '...') {
      fields.push({ ellipsis: true });
    } else {
      const alternatives: ((v: string) => boolean)[][] = [[]];
      while (i < tokens.length && tokens[i].text !== ',') {
        const t = tokens[i];
        if (t.text === '&&' || t.text === '||') {
          if (t.text === '||') alternatives.push([]);
          i++;
          const again = tokens[i];
          if (again?.text !== name.text) throw new FilterPatternError(`${what}: after ${t.text}, the condition names the same field ${name.text}`);
          i++;
          continue;
        }
        if (t.kind !== 'op' || !COMPARES.includes(t.text)) throw new FilterPatternError(`${what}: expected one of ${COMPARES.join(' ')} or , after ${name.text}, found ${JSON.stringify(t.text)}`);
        alternatives.at(-1)!.push(comparison(t.text, tokens[i + 1], name.text, what));
        i += 2;
      }
      fields.push({ ellipsis: false, test: (v) => alternatives.some((conds) => conds.every((c) => c(v))) });
    }
    if (i < tokens.length) {
      if (tokens[i].text !== ',') throw new FilterPatternError(`${what}: expected , between fields`);
      i++;
    }
  }
  const matchFrom = (values: string[], vi: number, fi: number): boolean => {
    if (fi === fields.length) return vi === values.length;
    const f = fields[fi];
    if (f.ellipsis) {
      for (let k = vi; k <= values.length; k++) if (matchFrom(values, k, fi + 1)) return true;
      return false;
    }
    return vi < values.length && f.test(values[vi]) && matchFrom(values, vi + 1, fi + 1);
  };
  return (message) => matchFrom(splitFields(message), 0, 0);
}

/** A message's space-delimited fields: text in "" or [] is one field, without its delimiters. */
function splitFields(message: string): string[] {
  return [...message.matchAll(/"([^"]*)"|\[([^\]]*)\]|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}
