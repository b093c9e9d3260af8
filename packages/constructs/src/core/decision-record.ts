import { resolveAlarmName } from './config';
import type { DeploymentSnapshot, Verdict } from './types';

export const DECISION_RECORD_TYPE = 'canary-watchdog.decision';
export const DECISION_SCHEMA_VERSION = 1;

/** What the watchdog did about a verdict. */
export type ActionTaken =
  | 'none'
  | 'stop-deployment'
  | 'fail-bake'
  | 'succeed-bake'
  /** Shadow mode: the action the watchdog would have taken. */
  | 'shadow';

/**
 * One decision, as written to the log and to EventBridge: enough for an operator to see which
 * layer and signal decided, with what value against what threshold on how many samples.
 */
export interface DecisionRecord {
  readonly type: typeof DECISION_RECORD_TYPE;
  readonly schemaVersion: typeof DECISION_SCHEMA_VERSION;
  readonly at: string;
  readonly trigger: string;
  readonly deploymentId: string;
  readonly application: string;
  readonly deploymentGroup: string;
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  readonly trafficPercent: number;
  readonly stage: Verdict['stage'];
  readonly action: Verdict['action'];
  readonly layer: string | null;
  readonly reasons: Verdict['reasons'];
  /** At bake-end: why the bake hook is not reported yet (absent when it may end). */
  readonly deferred?: string;
  readonly layers: Verdict['layers'];
  readonly evidence: Verdict['evidence'];
  readonly actionTaken: ActionTaken;
  /**
   * `ok`, `already-ended` (a repeated stop is harmless), `already-reported`, `would ...` (shadow),
   * a sentence when the action had to change (a lost fail-bake stopped instead), or `error: ...`.
   */
  readonly actionResult: string;
}

export function decisionRecord(
  snapshot: DeploymentSnapshot,
  verdict: Verdict,
  now: number,
  trigger: string,
  actionTaken: ActionTaken,
  actionResult: string,
): DecisionRecord {
  const real = (text: string) => resolveAlarmName(text, snapshot.targetVersion);
  return {
    type: DECISION_RECORD_TYPE,
    schemaVersion: DECISION_SCHEMA_VERSION,
    at: new Date(now).toISOString(),
    trigger,
    deploymentId: snapshot.deploymentId,
    application: snapshot.application,
    deploymentGroup: snapshot.deploymentGroup,
    functionName: snapshot.functionName,
    alias: snapshot.alias,
    currentVersion: snapshot.currentVersion,
    targetVersion: snapshot.targetVersion,
    trafficPercent: Math.round(snapshot.newVersionWeight * 10000) / 100,
    stage: verdict.stage,
    action: verdict.action,
    layer: verdict.layer,
    // Alarm names are judged as templates (`-v{version}` matches every version's alarm); the record
    // names the alarm of this release's target version, the one a reader finds in CloudWatch.
    reasons: verdict.reasons.map(real),
    ...(verdict.deferred !== undefined ? { deferred: real(verdict.deferred) } : {}),
    layers: verdict.layers,
    evidence: verdict.evidence.map((e) => ({ ...e, signal: real(e.signal), note: real(e.note), ...(e.threshold !== undefined && e.threshold !== null ? { threshold: real(e.threshold) } : {}) })),
    actionTaken,
    actionResult,
  };
}

/**
 * Whether a record ends its deployment's story: the watchdog stopped the release, failed its bake
 * or succeeded it, and the action took (ok, or already done). Nothing is recorded after it: a
 * later run that still finds the deployment in progress (CodeDeploy rolling it back) leaves it
 * alone. A shadow record, or an action that failed, is not final: later runs judge again.
 */
export function isFinal(r: DecisionRecord | undefined): boolean {
  if (!r) return false;
  const ends = r.actionTaken === 'stop-deployment' || r.actionTaken === 'fail-bake' || r.actionTaken === 'succeed-bake';
  return ends && !r.actionResult.startsWith('error');
}

/** One line for humans: "rollback by new-version: errors failed: 9 of 40 (22.50 %) ...". */
export function summarize(r: DecisionRecord): string {
  return `${r.deploymentId} ${r.functionName}:${r.alias} v${r.currentVersion}->v${r.targetVersion} at ${r.trafficPercent} % ` +
    `[${r.stage}] ${r.action}${r.layer ? ` by ${r.layer}` : ''}: ${r.reasons[0] ?? ''}`;
}

/**
 * How many decision records the state table keeps per deployment, newest last. A record with its
 * evidence is a few KB; fifty stay well inside DynamoDB's 400 KB item, and `keepDecisions` drops
 * the oldest first should they not.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
 */
export const DECISIONS_KEPT = 50;
/** The bytes (as JSON) the kept records may take: room for the rest of the item under 400 KB. */
export const DECISIONS_MAX_BYTES = 300_000;

/**
 * Whether a record says something its predecessor did not: the first one, or a change of stage,
 * action, deciding layer, action taken or its result, deferral, traffic share, or any layer's
 * outcome. Only such records are kept, so a steady run writes nothing.
 */
export function isNews(prev: DecisionRecord | undefined, next: DecisionRecord): boolean {
  if (!prev) return true;
  const same = (['stage', 'action', 'layer', 'actionTaken', 'actionResult', 'deferred', 'trafficPercent'] as const).every((k) => prev[k] === next[k]);
  const outcomes = (r: DecisionRecord) => r.layers.map((l) => `${l.name}=${l.outcome}`).join(',');
  return !same || outcomes(prev) !== outcomes(next);
}

/** The records to keep after `next`: at most DECISIONS_KEPT and DECISIONS_MAX_BYTES, oldest dropped first, `next` always kept. */
export function keepDecisions(kept: readonly DecisionRecord[], next: DecisionRecord): DecisionRecord[] {
  const out = [...kept, next].slice(-DECISIONS_KEPT);
  let bytes = out.reduce((n, r) => n + JSON.stringify(r).length, 0);
  while (out.length > 1 && bytes > DECISIONS_MAX_BYTES) bytes -= JSON.stringify(out.shift()).length;
  return out;
}

/**
 * How often a deployment's decision goes to EventBridge when nothing changed: every 20 minutes.
 * News (see `isNews`) is always sent; this periodic record lets a consumer that joined late or
 * lost an event see every deployment in progress within 20 minutes. 20 is the number of phases
 * the deployments are spread over: at the 200 deployments the cost goal is set for, about 10
 * periodic records a minute, one PutEvents call (10 entries at most per call), and shorter than
 * the 30-minute canary of the default configuration, so each canary stage gets one.
 */
export const DECISION_EVENT_EVERY_MINUTES = 20;

/** A deployment's phase among DECISION_EVENT_EVERY_MINUTES minutes (FNV-1a of its id): spreads the periodic records over the minutes. */
export function decisionEventPhase(deploymentId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deploymentId.length; i++) h = Math.imul(h ^ deploymentId.charCodeAt(i), 0x01000193) >>> 0;
  return h % DECISION_EVENT_EVERY_MINUTES;
}

/**
 * Whether a record goes to EventBridge (every record goes to the log): when it is news against
 * the last kept record, or when `periodic` (a scheduled run, one a minute) falls in the
 * deployment's minute of every DECISION_EVENT_EVERY_MINUTES. A missed scheduled run delays that
 * periodic record by one period at most; news never waits.
 */
export function sendsEvent(prev: DecisionRecord | undefined, next: DecisionRecord, now: number, periodic: boolean): boolean {
  if (isNews(prev, next)) return true;
  return periodic && Math.floor(now / 60_000) % DECISION_EVENT_EVERY_MINUTES === decisionEventPhase(next.deploymentId);
}
