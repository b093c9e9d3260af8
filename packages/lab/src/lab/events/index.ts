import { LAB_ACCOUNT, LAB_REGION, LabError, type JsonService, type LabEvent } from '../kernel';
import type { LabContext } from '../ports';

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

/**
 * EventBridge: the default bus's rules (schedules and patterns) invoking Lambda targets
 * asynchronously, and PutEvents (the watchdog's decision events land in `putEvents`).
 */
export class EventsLab {
  private readonly rules: RuleSpec[] = [];
  private seq = 0;
  readonly putEvents: { at: number; entry: Record<string, unknown> }[] = [];
  /** When set, invocations of these functions are dropped (a dead watchdog, say). */
  readonly disabledTargets = new Set<string>();

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

  private nextId(): string {
    return `lab-event-${++this.seq}`;
  }

  private dispatch(e: LabEvent, at: number): void {
    const envelope = toEnvelope(e, at, this.nextId());
    for (const rule of this.rules) if (rule.eventPattern && matches(rule.eventPattern, envelope)) this.deliver(rule, envelope);
  }

  private deliver(rule: RuleSpec, envelope: Record<string, unknown>): void {
    for (const t of rule.targets) if (!this.disabledTargets.has(t)) this.invokeAsync(t, envelope);
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
        const out = [];
        for (const raw of entries as Record<string, unknown>[]) {
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
          this.putEvents.push({ at: this.ctx.scheduler.now(), entry: { ...raw, Detail: detail } });
          await this.ctx.events.publish({ source: raw.Source, detailType: raw.DetailType, detail, resources: (raw.Resources as string[]) ?? [] });
          out.push({ EventId: this.nextId() });
        }
        return { FailedEntryCount: out.filter((o) => 'ErrorCode' in o).length, Entries: out };
      },
    },
  };
}
