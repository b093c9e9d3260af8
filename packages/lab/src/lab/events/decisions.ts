import { DECISION_RECORD_TYPE, type DecisionRecord } from 'canary-watchdog/lib/core/decision-record';

/**
 * A decision record carried by one JSON line: a bare record, a log line with `decision` (the
 * watchdog's structured log), or an EventBridge event whose `detail` is one. Undefined otherwise.
 */
export function decisionIn(line: string): DecisionRecord | undefined {
  const t = line.trim();
  // A Lambda log line may carry a prefix (timestamp, request id, level) before its JSON.
  const start = t.indexOf('{');
  if (start < 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t.slice(start));
  } catch {
    return undefined;
  }
  return asDecision(v);
}

/** The decision record a parsed JSON value is or carries (`decision`, `detail`), if any. */
export function asDecision(v: unknown): DecisionRecord | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const candidate = (o.decision ?? o.detail ?? o) as Record<string, unknown> | null;
  return candidate !== null && typeof candidate === 'object' && candidate.type === DECISION_RECORD_TYPE ? (candidate as unknown as DecisionRecord) : undefined;
}

/**
 * The watchdog's decisions as the lab sees them. The watchdog writes each one twice, as a log
 * line and as an EventBridge event; whichever arrives first is kept and the other recognised as
 * the same decision (same deployment, time, stage, action and layer).
 */
export class DecisionLog {
  private readonly records: DecisionRecord[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners: ((r: DecisionRecord) => void)[] = [];

  /** Keep a record, telling the listeners once per decision; true when it was new. */
  add(r: DecisionRecord): boolean {
    const key = JSON.stringify([r.deploymentId, r.at, r.stage, r.action, r.layer, r.trigger]);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.records.push(r);
    for (const l of this.listeners) l(r);
    return true;
  }

  /** Keep the decision a log line carries, if it carries one. */
  addLogLine(line: string): void {
    const r = decisionIn(line);
    if (r) this.add(r);
  }

  subscribe(fn: (r: DecisionRecord) => void): void {
    this.listeners.push(fn);
  }

  /** Every record, oldest first; only one deployment's when `deploymentId` is given. */
  list(deploymentId?: string): DecisionRecord[] {
    return this.records.filter((r) => deploymentId === undefined || r.deploymentId === deploymentId);
  }
}
