import { createHash } from 'node:crypto';
import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService, type LabEvent } from '../kernel';
import type { LabContext } from '../ports';
import { asDecision, DecisionLog } from './decisions';

export interface RuleSpec {
  readonly name: string;
  /** `rate(1 minute)`, `rate(5 minutes)`. */
  readonly scheduleExpression?: string;
  readonly eventPattern?: Record<string, unknown>;
  /** Lambda function names to invoke. */
  readonly targets: readonly string[];
}

/** The JSON EventBridge hands a target. */
export function toEnvelope(e: LabEvent, at: number, id: string): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': e.detailType,
    source: e.source,
    account: LAB_ACCOUNT,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LAB_REGION,
    resources: e.resources ?? [],
    detail: e.detail,
  };
}

/**
 * Does an event match a pattern? Each field of the pattern is an array of allowed values or a
 * nested pattern; arrays in the event match if any element matches.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [k, allowed] of Object.entries(pattern)) {
    const v = event[k];
    if (Array.isArray(allowed)) {
      const values = Array.isArray(v) ? v : [v];
      const ok = allowed.some((a) => {
        if (a !== null && typeof a === 'object') {
          const o = a as Record<string, unknown>;
          if ('prefix' in o) return values.some((x) => typeof x === 'string' && x.startsWith(String(o.prefix)));
          if ('exists' in o) return (v !== undefined) === Boolean(o.exists);
          if ('anything-but' in o) return values.every((x) => ![o['anything-but']].flat().includes(x));
          return false;
        }
        return values.includes(a);
      });
      if (!ok) return false;
    } else if (allowed !== null && typeof allowed === 'object') {
      if (v === null || typeof v !== 'object' || !matches(allowed as Record<string, unknown>, v as Record<string, unknown>)) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** `rate(N minute|minutes|hour|hours)` in ms. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html */
export function rateMs(expr: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr.trim());
  if (!m) throw new LabError('ValidationException', `ScheduleExpression: the lab supports rate(N minute|minutes|hour|hours|day|days), got ${expr}`);
  const n = Number(m[1]);
  const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return n * unit;
}

/** The one bus the lab models. */
const DEFAULT_BUS = 'default';
const BUS_ARN = `arn:aws:events:${LAB_REGION}:${LAB_ACCOUNT}:event-bus/${DEFAULT_BUS}`;
/** PutEvents takes at most 256 KB of entries in one request. */
const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/**
 * A PutEvents entry's size as EventBridge counts it: Time 14 bytes when given, then the UTF-8
 * bytes of Source, DetailType, Detail and each resource.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export function putEventsEntrySize(entry: Record<string, unknown>): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  let size = entry.Time !== undefined ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const r of entry.Resources) size += bytes(r);
  return size;
}

/** A rule as ListRules and DescribeRule answer it. */
function ruleOut(r: RuleSpec, enabled: boolean) {
  return {
    Name: r.name,
    Arn: `arn:aws:events:${LAB_REGION}:${LAB_ACCOUNT}:rule/${r.name}`,
    State: enabled ? 'ENABLED' : 'DISABLED',
    EventBusName: DEFAULT_BUS,
    ...(r.eventPattern ? { EventPattern: JSON.stringify(r.eventPattern) } : {}),
    ...(r.scheduleExpression ? { ScheduleExpression: r.scheduleExpression } : {}),
  };
}

/**
 * EventBridge: the default bus's rules (schedules and patterns) invoking Lambda targets
 * asynchronously, and PutEvents (the watchdog's decision events land in `putEvents`).
 */
export class EventsLab {
  private readonly rules: RuleSpec[] = [];
  private seq = 0;
  /** The id (and Time, when given) a PutEvents entry's event carries to the rules it matches. */
  private readonly putMeta = new WeakMap<LabEvent, { id: string; time?: number }>();
  readonly putEvents: { at: number; entry: Record<string, unknown> }[] = [];
  /** The watchdog's decision records, from its events here and (wired by the lab) its log lines. */
  readonly decisions = new DecisionLog();
  /** When set, invocations of these functions are dropped (a dead watchdog, say). */
  readonly disabledTargets = new Set<string>();
  /** Rules disabled by DisableRule: they deliver nothing until EnableRule. */
  private readonly disabledRules = new Set<string>();

  constructor(
    private readonly ctx: LabContext,
    private readonly invokeAsync: (functionName: string, event: unknown) => void,
  ) {
    ctx.events.subscribe((e, at) => this.dispatch(e, at));
  }

  addRule(rule: RuleSpec): void {
    this.rules.push(rule);
    if (rule.scheduleExpression) {
      const every = rateMs(rule.scheduleExpression);
      this.ctx.scheduler.every(every, `rule ${rule.name}`, (at) => {
        const e: LabEvent = { source: 'aws.events', detailType: 'Scheduled Event', detail: {}, resources: [`arn:aws:events:${LAB_REGION}:${LAB_ACCOUNT}:rule/${rule.name}`] };
        this.deliver(rule, toEnvelope(e, at, this.nextId()));
      });
    }
  }

  ruleNames(): string[] {
    return this.rules.map((r) => r.name);
  }

  /** A UUID-shaped id, one per event, unique in this lab and the same on every run (the seed of the run does not matter). */
  private nextId(): string {
    const h = createHash('sha256').update(`lab-event|${++this.seq}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** A bus name or ARN the lab models, else the error AWS gives for a bus that does not exist. */
  private checkBus(bus: unknown): LabError | undefined {
    if (bus === undefined || bus === DEFAULT_BUS || bus === BUS_ARN) return undefined;
    return new LabError('ResourceNotFoundException', `Event bus ${String(bus)} does not exist.`);
  }

  private dispatch(e: LabEvent, at: number): void {
    const meta = this.putMeta.get(e);
    const envelope = toEnvelope(e, meta?.time ?? at, meta?.id ?? this.nextId());
    for (const rule of this.rules) if (rule.eventPattern && matches(rule.eventPattern, envelope)) this.deliver(rule, envelope);
  }

  /** A disabled rule matches nothing and its schedule invokes nothing. https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DisableRule.html */
  private deliver(rule: RuleSpec, envelope: Record<string, unknown>): void {
    if (this.disabledRules.has(rule.name)) return;
    for (const t of rule.targets) if (!this.disabledTargets.has(t)) this.invokeAsync(t, envelope);
  }

  /** The rule a request names (Name, EventBusName), or the error AWS gives. */
  private ruleNamed(i: Record<string, unknown>): RuleSpec {
    // A rule name: 1 to 64 of letters, digits, '.', '-' and '_'.
    if (typeof i.Name !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(i.Name)) {
      throw new LabError('ValidationException', `1 validation error detected: Value ${JSON.stringify(i.Name ?? null)} at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64`);
    }
    const busError = this.checkBus(i.EventBusName);
    if (busError) throw busError;
    const rule = this.rules.find((r) => r.name === i.Name);
    if (!rule) throw new LabError('ResourceNotFoundException', `Rule ${i.Name} does not exist on EventBus ${DEFAULT_BUS}.`);
    return rule;
  }

  readonly service: JsonService = {
    name: 'EventBridge',
    targetPrefix: 'AWSEvents',
    operations: {
      PutEvents: async (i) => {
        const entries = i.Entries;
        if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
          throw new LabError('ValidationException', 'Entries: expected 1 to 10 entries');
        }
        if (entries.some((e) => e === null || typeof e !== 'object' || Array.isArray(e))) throw new LabError('ValidationException', 'Entries: each entry must be an object');
        const total = (entries as Record<string, unknown>[]).reduce((n, e) => n + putEventsEntrySize(e), 0);
        // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
        if (total > MAX_PUT_EVENTS_BYTES) throw new LabError('ValidationException', `Total size of the entries in the request is over the limit: ${total} bytes, at most ${MAX_PUT_EVENTS_BYTES}.`);
        const out = [];
        for (const raw of entries as Record<string, unknown>[]) {
          // An entry for a bus that does not exist fails on its own. (AWS long accepted such
          // entries and dropped them, aws/aws-sdk#186; its service team reports this corrected.
          // The lab fails them, so a misnamed bus never looks like a delivered event.)
          const busError = this.checkBus(raw.EventBusName);
          if (busError) {
            out.push({ ErrorCode: busError.code, ErrorMessage: busError.message });
            continue;
          }
          if (raw.Time !== undefined && !(typeof raw.Time === 'number' && Number.isFinite(raw.Time))) {
            out.push({ ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid: expected a timestamp (epoch seconds)' });
            continue;
          }
          if (typeof raw?.Source !== 'string' || typeof raw?.DetailType !== 'string' || typeof raw?.Detail !== 'string') {
            out.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail (a JSON string) are required' });
            continue;
          }
          let detail: Record<string, unknown>;
          try {
            detail = JSON.parse(raw.Detail) as Record<string, unknown>;
          } catch {
            out.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' });
            continue;
          }
          if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
            out.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object' });
            continue;
          }
          const id = this.nextId();
          const event: LabEvent = { source: raw.Source, detailType: raw.DetailType, detail, resources: Array.isArray(raw.Resources) ? raw.Resources.map(String) : [] };
          this.putMeta.set(event, { id, ...(typeof raw.Time === 'number' ? { time: raw.Time * 1000 } : {}) });
          this.putEvents.push({ at: this.ctx.scheduler.now(), entry: { ...raw, Detail: detail, EventId: id } });
          const decision = asDecision(detail);
          if (decision) this.decisions.add(decision);
          await this.ctx.events.publish(event);
          out.push({ EventId: id });
        }
        return { FailedEntryCount: out.filter((o) => 'ErrorCode' in o).length, Entries: out };
      },
      ListRules: (i) => {
        // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListRules.html
        const busError = this.checkBus(i.EventBusName);
        if (busError) throw busError;
        if (i.NamePrefix !== undefined && typeof i.NamePrefix !== 'string') throw new LabError('ValidationException', `NamePrefix: expected a string, got ${JSON.stringify(i.NamePrefix)}`);
        if (i.Limit !== undefined && !(Number.isInteger(i.Limit) && (i.Limit as number) >= 1 && (i.Limit as number) <= 100)) {
          throw new LabError('ValidationException', `Limit: expected an integer from 1 to 100, got ${JSON.stringify(i.Limit)}`);
        }
        const names = this.rules.map((r) => r.name).filter((n) => n.startsWith((i.NamePrefix as string | undefined) ?? '')).sort();
        const start = i.NextToken === undefined ? 0 : Number(i.NextToken);
        if (!Number.isInteger(start) || start < 0 || start > names.length) throw new LabError('ValidationException', `NextToken: not a token this lab returned: ${JSON.stringify(i.NextToken)}`);
        const end = start + ((i.Limit as number | undefined) ?? 100);
        const rules = names.slice(start, end).map((n) => this.rules.find((r) => r.name === n)!);
        return { Rules: rules.map((r) => ruleOut(r, !this.disabledRules.has(r.name))), ...(end < names.length ? { NextToken: String(end) } : {}) };
      },
      // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html
      DescribeRule: (i) => {
        const rule = this.ruleNamed(i);
        return { ...ruleOut(rule, !this.disabledRules.has(rule.name)), CreatedBy: LAB_ACCOUNT };
      },
      // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DisableRule.html
      DisableRule: (i) => {
        this.disabledRules.add(this.ruleNamed(i).name);
        return {};
      },
      // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_EnableRule.html
      EnableRule: (i) => {
        this.disabledRules.delete(this.ruleNamed(i).name);
        return {};
      },
      // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListEventBuses.html
      ListEventBuses: (i) => {
        if (i.NamePrefix !== undefined && typeof i.NamePrefix !== 'string') throw new LabError('ValidationException', `NamePrefix: expected a string, got ${JSON.stringify(i.NamePrefix)}`);
        if (i.Limit !== undefined && !(Number.isInteger(i.Limit) && (i.Limit as number) >= 1 && (i.Limit as number) <= 100)) {
          throw new LabError('ValidationException', `Limit: expected an integer from 1 to 100, got ${JSON.stringify(i.Limit)}`);
        }
        // The lab has one bus, so every answer is one page.
        return { EventBuses: DEFAULT_BUS.startsWith((i.NamePrefix as string | undefined) ?? '') ? [{ Name: DEFAULT_BUS, Arn: BUS_ARN }] : [] };
      },
    },
  };
}
