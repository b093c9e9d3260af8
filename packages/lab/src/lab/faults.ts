import { LabError, LAB_ACCOUNT, LAB_REGION } from './kernel';

/** The services whose API calls the lab can fail, throttle or slow down. */
export const FAULT_SERVICES = ['CloudWatch', 'CodeDeploy', 'Lambda', 'DynamoDB', 'EventBridge'] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];

/** The longest added latency of one call: Lambda's longest timeout (a call can hang that long). */
export const MAX_FAULT_LATENCY_MS = 900_000;
/** The latest a fault window may end, in minutes (a rehearsal's longest run). */
export const MAX_FAULT_MINUTE = 3000;

export interface FaultSpec {
  readonly service: FaultService;
  /** One operation, or every operation of the service. */
  readonly operation?: string;
  /** DynamoDB: only calls naming this table (their TableName), e.g. the user's own table; default every table. */
  readonly table?: string;
  /** Share of calls that fail with a 500 (DynamoDB: InternalServerError). */
  readonly errorRate?: number;
  /** Share of calls that are throttled (see `throttleError`). */
  readonly throttleRate?: number;
  /** Every call is answered this much later on the lab's clock (the caller's time runs on). */
  readonly latencyMs?: number;
  /** Every call fails with 503 ServiceUnavailable (an outage of the service). */
  readonly unavailable?: boolean;
  /**
   * The window, in minutes since the faults were set (a rehearsal sets them when its release's
   * deployment starts): active from `fromMinute` (default 0) up to, not including, `toMinute`
   * (default: to the end).
   */
  readonly fromMinute?: number;
  readonly toMinute?: number;
}

/** DynamoDB's reads: a throttled one gives a read throttling reason. */
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

/** What a fault does to one call: fail it, and how much later it is answered. */
export interface FaultOutcome {
  readonly error?: LabError;
  readonly latencyMs: number;
}

export const NO_FAULT: FaultOutcome = { latencyMs: 0 };

/** Ends the message of every error the lab injects, so that a reader (the rehearsal) can tell them from real failures. */
export const INJECTED = 'injected by the lab';

/** Why each fault spec is invalid, naming the field and the allowed values; empty when valid. */
export function faultSpecErrors(faults: readonly unknown[]): string[] {
  const errors: string[] = [];
  for (const [i, x] of faults.entries()) {
    const at = `faults[${i}]`;
    if (typeof x !== 'object' || x === null || Array.isArray(x)) {
      errors.push(`${at}: expected an object {service, operation?, errorRate?, throttleRate?, latencyMs?, unavailable?, fromMinute?, toMinute?}, got ${JSON.stringify(x)}`);
      continue;
    }
    const f = x as Record<string, unknown>;
    const allowed = ['service', 'operation', 'table', 'errorRate', 'throttleRate', 'latencyMs', 'unavailable', 'fromMinute', 'toMinute'];
    for (const k of Object.keys(f)) if (!allowed.includes(k)) errors.push(`${at}.${k}: unknown field; allowed: ${allowed.join(', ')}`);
    if (!FAULT_SERVICES.includes(f.service as FaultService)) errors.push(`${at}.service: expected one of ${FAULT_SERVICES.join(', ')}, got ${JSON.stringify(f.service)}`);
    if (f.table !== undefined && (f.service !== 'DynamoDB' || typeof f.table !== 'string' || !/^[a-zA-Z0-9_.-]{3,255}$/.test(f.table))) errors.push(`${at}.table: expected a DynamoDB table name (3-255 letters, digits, _ . -) with service DynamoDB, got ${JSON.stringify(f.table)}`);
    if (f.operation !== undefined && (typeof f.operation !== 'string' || !/^[A-Z][A-Za-z]+$/.test(f.operation))) errors.push(`${at}.operation: expected an operation name (e.g. GetItem), got ${JSON.stringify(f.operation)}`);
    const inRange = (k: string, min: number, max: number, what: string) => {
      const v = f[k];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max)) errors.push(`${at}.${k}: expected ${what} from ${min} to ${max}, got ${JSON.stringify(v)}`);
    };
    inRange('errorRate', 0, 1, 'a rate');
    inRange('throttleRate', 0, 1, 'a rate');
    inRange('latencyMs', 0, MAX_FAULT_LATENCY_MS, 'milliseconds');
    inRange('fromMinute', 0, MAX_FAULT_MINUTE, 'a minute');
    inRange('toMinute', 0, MAX_FAULT_MINUTE, 'a minute');
    if (f.unavailable !== undefined && typeof f.unavailable !== 'boolean') errors.push(`${at}.unavailable: expected true or false, got ${JSON.stringify(f.unavailable)}`);
    const from = typeof f.fromMinute === 'number' ? f.fromMinute : 0;
    if (typeof f.toMinute === 'number' && !(f.toMinute > from)) errors.push(`${at}.toMinute: expected a minute after fromMinute (${from}), got ${f.toMinute}`);
  }
  return errors;
}

/**
 * A throttled call, as each service answers it. DynamoDB throttles a hot key the same way in
 * on-demand and provisioned mode: ProvisionedThroughputExceededException carrying a
 * KeyRangeThroughputExceeded reason.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html
 */
export function throttleError(service: string, resource?: string, reason = 'TableWriteKeyRangeThroughputExceeded', note = ''): LabError {
  const suffix = note ? ` (${note})` : '';
  if (service === 'Lambda') return new LabError('TooManyRequestsException', `Rate exceeded${suffix}`, 429);
  if (service === 'DynamoDB') {
    return new LabError('ProvisionedThroughputExceededException', `The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.${suffix}`, 400, {
      ThrottlingReasons: [{ reason, resource: resource ?? `arn:aws:dynamodb:${LAB_REGION}:${LAB_ACCOUNT}:table/*` }],
    });
  }
  return new LabError('ThrottlingException', `Rate exceeded${suffix}`, 400);
}

/**
 * A failed call (500) and an outage (503), with DynamoDB's codes for each.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
export function serverError(service: string, operation: string, unavailable: boolean): LabError {
  if (unavailable) return new LabError('ServiceUnavailable', `${service} is currently unavailable (outage ${INJECTED})`, 503);
  return new LabError(service === 'DynamoDB' ? 'InternalServerError' : 'InternalFailure', `${service}.${operation} failed (fault ${INJECTED})`, 500);
}

/**
 * The faults in force, each with its window on the lab's clock. A call meets every spec that
 * names its service (and its operation, or none) and whose window holds `now`: the latencies add
 * up, and the first spec that fails it decides the error (outage, then throttle, then error).
 */
export class Faults {
  private specs: { spec: FaultSpec; from: number; to: number }[] = [];

  constructor(private readonly rand: () => number) {}

  /** Replace the faults; their windows count from `now`. Throws a ValidationException naming each bad field. */
  set(faults: readonly unknown[], now: number): void {
    const errors = faultSpecErrors(faults);
    if (errors.length) throw new LabError('ValidationException', errors.join('; '));
    this.specs = (faults as FaultSpec[]).map((spec) => ({ spec, from: now + (spec.fromMinute ?? 0) * 60_000, to: spec.toMinute === undefined ? Infinity : now + spec.toMinute * 60_000 }));
  }

  list(): FaultSpec[] {
    return this.specs.map((s) => s.spec);
  }

  /** What happens to one call of `service.operation` at `now`. */
  decide(service: string, operation: string, now: number, table?: string): FaultOutcome {
    let latencyMs = 0;
    let error: LabError | undefined;
    for (const { spec: f, from, to } of this.specs) {
      if (f.service !== service || (f.operation && f.operation !== operation) || (f.table !== undefined && f.table !== table) || now < from || now >= to) continue;
      latencyMs += f.latencyMs ?? 0;
      if (error) continue;
      if (f.unavailable) error = serverError(service, operation, true);
      else if (f.throttleRate && this.rand() < f.throttleRate) error = throttleError(service, undefined, READS.has(operation) ? 'TableReadKeyRangeThroughputExceeded' : 'TableWriteKeyRangeThroughputExceeded', INJECTED);
      else if (f.errorRate && this.rand() < f.errorRate) error = serverError(service, operation, false);
    }
    return error ? { error, latencyMs } : latencyMs ? { latencyMs } : NO_FAULT;
  }
}
