import { alarmNameMatches, type GuardConfig } from '../core/config';
import { WATCH_DEPLOYMENT_FIELD, WATCH_KEY_PREFIX } from '../aws/telemetry';

/** Why the watchdog runs. Anything it does not recognise triggers a full sweep: safe, never a crash. */
export type Trigger =
  | { readonly kind: 'schedule' }
  | { readonly kind: 'alarm'; readonly alarmName: string; readonly state: string }
  | { readonly kind: 'deployment'; readonly deploymentId: string; readonly application: string; readonly deploymentGroup: string; readonly state: string }
  /** `watchKeys`: the watch items the records came from (what to read with the deployments' state, in one call). */
  | { readonly kind: 'telemetry'; readonly deploymentIds: readonly string[]; readonly watchKeys?: readonly string[] }
  | { readonly kind: 'unrecognised'; readonly why: string };

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Classify an EventBridge event.
 * Alarm events: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 * CodeDeploy events: https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html
 */
export function parseTrigger(event: unknown): Trigger {
  if (typeof event !== 'object' || event === null) return { kind: 'unrecognised', why: `event is ${event === null ? 'null' : typeof event}` };
  const e = event as Record<string, unknown>;
  if (Array.isArray(e.Records)) return telemetryTrigger(e.Records);
  const type = e['detail-type'];
  const detail = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as Record<string, unknown>;
  if (e.source === 'aws.events' && type === 'Scheduled Event') return { kind: 'schedule' };
  if (e.source === 'aws.cloudwatch' && type === 'CloudWatch Alarm State Change') {
    const state = (detail.state as Record<string, unknown> | undefined)?.value;
    if (str(detail.alarmName)) return { kind: 'alarm', alarmName: detail.alarmName, state: str(state) ? state : 'unknown' };
    return { kind: 'unrecognised', why: 'alarm state change without detail.alarmName' };
  }
  if (e.source === 'aws.codedeploy' && type === 'CodeDeploy Deployment State-change Notification') {
    if (str(detail.deploymentId) && str(detail.application) && str(detail.deploymentGroup)) {
      return {
        kind: 'deployment',
        deploymentId: detail.deploymentId,
        application: detail.application,
        deploymentGroup: detail.deploymentGroup,
        state: str(detail.state) ? detail.state : 'unknown',
      };
    }
    return { kind: 'unrecognised', why: 'deployment state change without deploymentId, application and deploymentGroup' };
  }
  return { kind: 'unrecognised', why: `source ${JSON.stringify(e.source)}, detail-type ${JSON.stringify(type)}` };
}

/**
 * A batch from the state table's stream, which the event source mapping's filter limits to the
 * telemetry extension's writes that carried failures (aws/telemetry.ts): the deployments to
 * judge now, as the version's watch item (`#watch#...`) names them. That name is written by the
 * guarded function itself, so it only chooses what to judge: the watchdog judges a deployment by
 * the watch item of its own function and version (watchedCounts), whatever the record says.
 * Records of other items are left out; a batch with none is unrecognised (a full sweep: safe).
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
function telemetryTrigger(records: readonly unknown[]): Trigger {
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const r of records) {
    const rec = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const db = (rec.dynamodb ?? {}) as { Keys?: Record<string, { S?: unknown }>; NewImage?: Record<string, { S?: unknown }> };
    const key = db.Keys?.deploymentId?.S;
    const id = db.NewImage?.[WATCH_DEPLOYMENT_FIELD]?.S;
    if (rec.eventSource === 'aws:dynamodb' && str(key) && key.startsWith(WATCH_KEY_PREFIX) && str(id) && !id.startsWith('#')) {
      ids.add(id);
      keys.add(key);
    }
  }
  if (!ids.size) return { kind: 'unrecognised', why: `a batch of ${records.length} records without a deployment's telemetry` };
  return { kind: 'telemetry', deploymentIds: [...ids].sort(), watchKeys: [...keys].sort() };
}

/** The guards a trigger concerns: an alarm's guards, a deployment's group, or all of them. */
export function guardsFor(trigger: Trigger, guards: readonly GuardConfig[]): GuardConfig[] {
  if (trigger.kind === 'deployment') {
    return guards.filter((g) => g.application === trigger.application && g.deploymentGroup === trigger.deploymentGroup);
  }
  if (trigger.kind === 'alarm') {
    // A name template (`<prefix>-new-version-error-rate-v{version}`) matches its alarm for any version.
    const named = (names: readonly string[]) => names.some((n) => alarmNameMatches(n, trigger.alarmName));
    const mine = guards.filter((g) => Object.values(g.alarms).some(named) || g.customLayers.some((l) => named(l.alarms)));
    // An alarm the config does not name (a composite built over the layers, say) still deserves a look.
    return mine.length ? mine : [...guards];
  }
  return [...guards];
}

export function describeTrigger(t: Trigger): string {
  switch (t.kind) {
    case 'schedule':
      return 'schedule';
    case 'alarm':
      return `alarm ${t.alarmName} -> ${t.state}`;
    case 'deployment':
      return `deployment ${t.deploymentId} -> ${t.state}`;
    case 'telemetry':
      return `telemetry: failures counted for ${t.deploymentIds.join(', ')}`;
    case 'unrecognised':
      return `unrecognised event (${t.why})`;
  }
}
