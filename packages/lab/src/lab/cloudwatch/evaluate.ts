/**
 * Alarm evaluation as pure functions: the metric-alarm rule over an evaluation range, and the
 * composite-alarm rule language. No clock, no storage: the lab feeds them what it has read.
 */

export type StateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export const STATE_VALUES: readonly StateValue[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
export const TREAT_MISSING: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

export type Comparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export const COMPARISONS: readonly Comparison[] = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'];

export const COMPARISON_TEXT: Record<Comparison, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export function breaches(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

export interface AlarmRule {
  readonly threshold: number;
  readonly comparison: Comparison;
  /** N: EvaluationPeriods. */
  readonly evaluationPeriods: number;
  /** M: DatapointsToAlarm (defaults to N). */
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

/** One period of the evaluation range: its start (epoch ms) and its value, undefined when missing. */
export interface RangePoint {
  readonly at: number;
  readonly value: number | undefined;
}

export interface EvaluatedPoint {
  readonly at: number;
  /** undefined for a missing period filled in by TreatMissingData. */
  readonly value: number | undefined;
  readonly breaching: boolean;
}

export interface Verdict {
  /** The new state; undefined keeps the current one (TreatMissingData `ignore`). */
  readonly state: StateValue | undefined;
  /** The datapoints the verdict rests on, newest first. */
  readonly evaluated: readonly EvaluatedPoint[];
  /** How many missing periods were filled in with the TreatMissingData setting. */
  readonly filled: number;
  /** How many periods of the range have no data. */
  readonly missing: number;
  readonly why: 'threshold' | 'all-missing' | 'too-few' | 'premature';
}

/**
 * Evaluate a metric alarm over its evaluation range (oldest period first; the range is wider than
 * N). With N or more real datapoints the N most recent decide and TreatMissingData is not used;
 * with fewer, missing periods are filled in with the TreatMissingData setting as few times as
 * possible, every real datapoint in the range taking part; with none at all, `missing` gives
 * INSUFFICIENT_DATA and `ignore` keeps the current state. M of the N must breach for ALARM.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 */
export function evaluateRange(range: readonly RangePoint[], rule: AlarmRule): Verdict {
  const { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData: treat } = rule;
  const real = range.filter((p) => p.value !== undefined).map((p) => ({ ...p, breaching: breaches(p.value!, rule.comparison, rule.threshold) }));
  const missing = range.length - real.length;
  const newestFirst = (pts: EvaluatedPoint[]) => [...pts].reverse();
  const fill = (count: number): EvaluatedPoint[] => {
    // Filled periods are the most recent missing ones, so a verdict names real times.
    const gaps = range.filter((p) => p.value === undefined).slice(-count);
    return gaps.map((p) => ({ at: p.at, value: undefined, breaching: treat === 'breaching' }));
  };
  const decide = (pts: EvaluatedPoint[]): StateValue => (pts.filter((p) => p.breaching).length >= m ? 'ALARM' : 'OK');

  if (real.length >= n) {
    const pts = real.slice(-n);
    return { state: decide(pts), evaluated: newestFirst(pts), filled: 0, missing, why: 'threshold' };
  }
  if (real.length === 0) {
    const pts = treat === 'breaching' || treat === 'notBreaching' ? fill(n) : [];
    const state = treat === 'missing' ? 'INSUFFICIENT_DATA' : treat === 'ignore' ? undefined : decide(pts);
    return { state, evaluated: newestFirst(pts), filled: pts.length, missing, why: 'all-missing' };
  }
  if (treat === 'breaching' || treat === 'notBreaching') {
    const pts = [...real, ...fill(n - real.length)].sort((a, b) => a.at - b.at);
    return { state: decide(pts), evaluated: newestFirst(pts), filled: n - real.length, missing, why: 'threshold' };
  }
  // `missing` and `ignore` with some data but fewer than N datapoints: the real datapoints decide
  // when they can (M already breaching -> ALARM; any non-breaching one among them -> OK).
  const breaching = real.filter((p) => p.breaching).length;
  if (breaching >= m || breaching < real.length) {
    return { state: breaching >= m ? 'ALARM' : 'OK', evaluated: newestFirst(real), filled: 0, missing, why: 'threshold' };
  }
  // Only breaching datapoints, fewer than M. To avoid premature transitions the alarm goes to
  // ALARM when the oldest breaching datapoint is at least M periods old and every more recent
  // period is breaching or missing; otherwise there is not enough data yet.
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
  const age = range.length - range.findIndex((p) => p.value !== undefined);
  if (age >= m) return { state: treat === 'missing' ? 'ALARM' : undefined, evaluated: newestFirst(real), filled: 0, missing, why: 'premature' };
  return { state: treat === 'missing' ? 'INSUFFICIENT_DATA' : undefined, evaluated: newestFirst(real), filled: 0, missing, why: 'too-few' };
}

// ---------------------------------------------------------------------------------------------
// Composite alarm rules.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html

export type RuleNode =
  | { readonly t: 'const'; readonly v: boolean }
  | { readonly t: 'state'; readonly state: StateValue; readonly alarm: string }
  | { readonly t: 'not'; readonly a: RuleNode }
  | { readonly t: 'and' | 'or'; readonly a: RuleNode; readonly b: RuleNode };

export class RuleError extends Error {}

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:[^:]*:[^:]*:alarm:(.+)$/;

/** An alarm named in a rule by name or by ARN, as a name. */
export function alarmNameOf(ref: string): string {
  return ALARM_ARN.exec(ref)?.[1] ?? ref;
}

/**
 * Parse an AlarmRule: ALARM("name"), OK("name"), INSUFFICIENT_DATA("name") (name or ARN, quoted
 * or bare), TRUE, FALSE, NOT, AND, OR and parentheses; NOT binds tightest, then AND, then OR.
 */
export function parseRule(src: string): RuleNode {
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const word = (): string | undefined => {
    ws();
    const m = /^[A-Z_]+/.exec(src.slice(i));
    return m?.[0];
  };
  const take = (s: string) => {
    ws();
    if (!src.startsWith(s, i)) throw new RuleError(`expected '${s}' at position ${i}`);
    i += s.length;
  };
  const or = (): RuleNode => {
    let left = and();
    while (word() === 'OR') {
      i += 2;
      left = { t: 'or', a: left, b: and() };
    }
    return left;
  };
  const and = (): RuleNode => {
    let left = not();
    while (word() === 'AND') {
      i += 3;
      left = { t: 'and', a: left, b: not() };
    }
    return left;
  };
  const not = (): RuleNode => {
    if (word() === 'NOT') {
      i += 3;
      return { t: 'not', a: not() };
    }
    return atom();
  };
  const atom = (): RuleNode => {
    ws();
    if (src[i] === '(') {
      i++;
      const inner = or();
      take(')');
      return inner;
    }
    const w = word();
    if (w === 'TRUE' || w === 'FALSE') {
      i += w.length;
      return { t: 'const', v: w === 'TRUE' };
    }
    if (w === 'ALARM' || w === 'OK' || w === 'INSUFFICIENT_DATA') {
      i += w.length;
      take('(');
      ws();
      let ref: string;
      if (src[i] === '"') {
        const end = src.indexOf('"', i + 1);
        if (end < 0) throw new RuleError(`unterminated alarm name at position ${i}`);
        ref = src.slice(i + 1, end);
        i = end + 1;
      } else {
        const end = src.indexOf(')', i);
        if (end < 0) throw new RuleError(`expected ')' after the alarm name at position ${i}`);
        ref = src.slice(i, end).trim();
        i = end;
      }
      if (!ref) throw new RuleError(`empty alarm name at position ${i}`);
      take(')');
      return { t: 'state', state: w, alarm: alarmNameOf(ref) };
    }
    throw new RuleError(i >= src.length ? 'unexpected end of the rule' : `unexpected '${src.slice(i, i + 12)}' at position ${i}`);
  };
  const root = or();
  ws();
  if (i < src.length) throw new RuleError(`unexpected '${src.slice(i, i + 12)}' at position ${i}`);
  return root;
}

export function ruleAlarms(node: RuleNode, out = new Set<string>()): Set<string> {
  if (node.t === 'state') out.add(node.alarm);
  else if (node.t === 'not') ruleAlarms(node.a, out);
  else if (node.t === 'and' || node.t === 'or') {
    ruleAlarms(node.a, out);
    ruleAlarms(node.b, out);
  }
  return out;
}

/** TRUE puts the composite alarm in ALARM, FALSE in OK. An alarm that does not exist is in no state. */
export function evaluateRule(node: RuleNode, stateOf: (name: string) => StateValue | undefined): boolean {
  switch (node.t) {
    case 'const':
      return node.v;
    case 'state':
      return stateOf(node.alarm) === node.state;
    case 'not':
      return !evaluateRule(node.a, stateOf);
    case 'and':
      return evaluateRule(node.a, stateOf) && evaluateRule(node.b, stateOf);
    case 'or':
      return evaluateRule(node.a, stateOf) || evaluateRule(node.b, stateOf);
  }
}
