import { buildLayers, METRIC, type GuardConfig, type WatchdogConfig } from '../core/config';
import { parseLambdaAppSpec, type LambdaAppSpec } from '../core/appspec';
import { decisionRecord, isFinal, isNews, keepDecisions, sendsEvent, type ActionTaken, type DecisionRecord } from '../core/decision-record';
import { evaluate, INITIAL_STATE } from '../core/evaluate';
import { scheduledWeight } from '../core/rollout';
import { concurrentWindow, deploymentWindow, mergeTelemetryPoints, parseTelemetryPoints, planExceedanceReads, planReads, toObservations, withTelemetryPoint, type AlarmReading, type MetricQuery, type MetricReading, type TelemetryPoint } from '../core/observe';
import type { DeploymentSnapshot, EvaluationState, LayerSpec, Verdict, Window } from '../core/types';
import type { ActionPort, AliasPort, Datapoint, DecisionPort, DeploymentInfo, DeploymentPort, DeploymentState, MetricsPort, RegistryPort, SignalPort, StatePort, WatchEndPort, WatchRef } from '../aws/ports';
import { errorText, mapLimit } from '../aws/util';
import { ALL_GROUPS, currentConfig, discover, groupKey, readStates, type ActiveDeployment, type ConfigSource, type Discovery } from './discover';
import { judgeSignal } from '../core/signals';
import { signalKey } from '../core/types';
import type { EvaluationMemory } from './evaluation-memory';
import { probedKey, probedOf, telemetryObservations, telemetryPoint, watchedCounts, watchKey, type BaselineWatch } from '../aws/telemetry';
import { describeTrigger, guardsFor, type Trigger } from './triggers';

export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface WatchdogDeps {
  readonly config: WatchdogConfig;
  /** Where the configuration was read, to read it again for a deployment that began after that. */
  readonly configSource?: ConfigSource;
  /**
   * Why the configuration is the one read earlier (its refresh failed): the run judges by it, and
   * withholds every heartbeat, since a deploy may have changed it unseen.
   */
  readonly staleConfig?: string;
  readonly deployments: DeploymentPort;
  readonly actions: ActionPort;
  readonly aliases: AliasPort;
  readonly signals: SignalPort;
  readonly state: StatePort;
  /** Where active deployments are registered; without it every guarded group is listed on every run. */
  readonly registry?: RegistryPort;
  readonly decisions: DecisionPort;
  readonly metrics: MetricsPort;
  /** Where the telemetry watch of an ended deployment is removed (endWatches); without it, none is. */
  readonly watchEnd?: WatchEndPort;
  /** This environment's record of evaluations whose state could not be read or written. */
  readonly memory?: EvaluationMemory;
  readonly log: Log;
  readonly now: () => number;
}

export interface WatchdogRun {
  readonly trigger: string;
  readonly decisions: readonly DecisionRecord[];
  readonly errors: readonly string[];
  /** True when every guarded group's heartbeat was published (only full runs publish any). */
  readonly heartbeat: boolean;
  /**
   * Per deployment group (`application/deploymentGroup`): the groups whose heartbeat this run
   * published, and those it withheld with why. null for a run that judged only some groups (an
   * alarm or deployment event): it publishes no heartbeat, so it cannot cover for a full run
   * that withheld one.
   */
  readonly heartbeats: { readonly published: readonly string[]; readonly withheld: Readonly<Record<string, string>> } | null;
}

const ALIAS_CONCURRENCY = 8;

/**
 * One watchdog run: find the guarded deployments in progress, read every layer's signals in
 * batches, judge each deployment with the pure core, act on the verdict and record it.
 *
 * Only a full run (the schedule, or an event it does not recognise, which sweeps everything)
 * publishes heartbeats, one per guarded deployment group, and only for a group whose
 * deployments it all saw, judged and acted on. A group's heartbeat withheld for three minutes
 * puts that group's heartbeat alarm, first in its own CodeDeploy alarm list, in ALARM, and
 * CodeDeploy stops that group's release itself: a watchdog that cannot see or act fails closed,
 * and one deployment it cannot judge stops only its own group's release. Its own state is part
 * of what it must see: a deployment whose state item it cannot read or write withholds its
 * group's heartbeat and counts towards blindness (ownState).
 */
export async function runWatchdog(firstTrigger: Trigger, given: WatchdogDeps): Promise<WatchdogRun> {
  let trigger = firstTrigger;
  const { log } = given;
  let deps = given;
  let config = deps.config;
  const now = deps.now();
  const triggerText = describeTrigger(trigger);
  if (trigger.kind === 'unrecognised') log.warn('unrecognised event: evaluating every guarded deployment', { trigger: triggerText });

  if (trigger.kind === 'telemetry') {
    // A failing write is new evidence, but most are a good release's everyday failures: judge in
    // full only the deployments whose counts already fail the telemetry signal.
    const suspects = await telemetrySuspects(trigger.deploymentIds, trigger.watchKeys ?? [], deps, now);
    if (!suspects.length) {
      log.info('watchdog run', { trigger: triggerText, deployments: 0, note: 'telemetry counts do not fail the signal: nothing to judge in full' });
      return { trigger: triggerText, decisions: [], errors: [], heartbeat: false, heartbeats: null };
    }
    trigger = { kind: 'telemetry', deploymentIds: suspects, ...(trigger.watchKeys ? { watchKeys: trigger.watchKeys } : {}) };
  }
  const guards = guardsFor(trigger, config.guards);
  const extra = trigger.kind === 'deployment' ? [trigger.deploymentId] : trigger.kind === 'telemetry' ? [...trigger.deploymentIds] : [];
  const registry = deps.registry ? { registry: deps.registry, write: true, reconcile: guards.length === config.guards.length, now, state: deps.state } : undefined;
  const found = await discover(guards, deps.deployments, extra, registry);
  const errors = [...found.errors];
  // What keeps each group's heartbeat back: the discovery's errors, then this run's own.
  const withheld = new Map<string, string[]>([...found.groupErrors].map(([g, es]) => [g, [...es]]));
  const withhold = (group: string, message: string) => {
    errors.push(message);
    withheld.set(group, [...(withheld.get(group) ?? []), message]);
  };
  for (const w of found.warnings) log.warn('discovery', { warning: w });
  if (deps.watchEnd) await endWatches(found, deps.watchEnd, log);
  if (deps.staleConfig) withhold(ALL_GROUPS, deps.staleConfig);
  const current = await currentConfig(config, found, deps.configSource);
  if (current.warning) log.warn('configuration', { warning: current.warning });
  config = current.config;
  deps = { ...deps, config };
  // A telemetry event judges only the deployments whose counts it carries.
  const active = trigger.kind === 'telemetry' ? current.active.filter((a) => trigger.deploymentIds.includes(a.info.deploymentId)) : current.active;

  const ids = active.map((a) => a.info.deploymentId);
  // The discovery read the state already (or failed to: it is not read twice in one run).
  const read = found.states || found.stateFailure ? { states: found.states, failure: found.stateFailure } : ids.length ? await readStates(deps.state, ids) : {};
  const states = read.states ?? new Map<string, DeploymentState>();
  // A deployment whose state could not be read is judged without it, as 'state unreadable', and
  // its group's heartbeat is withheld; it is never taken for a new deployment, and nothing is
  // written over its history.
  const unread = new Set(read.failure?.ids ?? []);
  for (const a of active) {
    if (unread.has(a.info.deploymentId)) withhold(groupKey(a.info), `state read ${a.info.deploymentId}: ${read.failure!.message}`);
  }

  // The telemetry extension's counts: each deployment's from the watch item of its own function
  // and target version (as CodeDeploy's AppSpec names them), read in one batch.
  // The old version's item too, the release's baseline (the same batch).
  const watchKeys = active.flatMap((a) => (a.guard.telemetry ? [...watchKeysOf(a.appSpec), probedKey(a.info.deploymentId)] : []));
  let watches = new Map<string, object>();
  let watchError: string | undefined;
  if (watchKeys.length) {
    try {
      watches = await deps.state.get(watchKeys);
    } catch (err) {
      watchError = `watch items read: ${errorText(err)}`;
      errors.push(watchError);
    }
  }

  // Once the pre-traffic hook has recorded when shifting began, the weight follows from the
  // deployment config's schedule (and is 1 during the bake); the alias is read only before that,
  // which keeps one GetAlias per deployment out of most evaluations.
  const weights = await mapLimit(active, ALIAS_CONCURRENCY, async (a) => {
    const st = states.get(a.info.deploymentId);
    if (st?.bake) return 1;
    if (st?.trafficShiftStartedAt !== undefined) return scheduledWeight(a.rollout, (now - st.trafficShiftStartedAt) / 60_000);
    try {
      return await deps.aliases.weightOf(a.appSpec.functionName, a.appSpec.alias, a.appSpec.targetVersion);
    } catch (err) {
      withhold(groupKey(a.info), `GetAlias ${a.appSpec.functionName}:${a.appSpec.alias}: ${errorText(err)}`);
      return undefined;
    }
  });

  // Plan every deployment's reads, then read them all in as few batched calls as possible. The
  // absolute tests read the whole deployment; the comparison with the old version only the
  // minutes in which both versions served traffic.
  const plans = active.map((a, i) => {
    const snapshot = toSnapshot(a, states.get(a.info.deploymentId), weights[i]);
    const layers = buildLayers(a.guard, config.namespace);
    const window = deploymentWindow(a.info.createdAt, now);
    const concurrent = concurrentWindow(snapshot, now);
    const versions = { new: a.appSpec.targetVersion, old: a.appSpec.currentVersion };
    return { snapshot, layers, versions, window, concurrent, plan: planReads(layers, versions, window, concurrent) };
  });
  const prefixed: MetricQuery[] = plans.flatMap((p, i) => p.plan.metrics.map((q) => ({ ...q, key: `${i}|${q.key}` })));
  const alarmNames = [...new Set(plans.flatMap((p) => p.plan.alarmNames))];
  const [metricReadings, alarmReadings] = await Promise.all([
    prefixed.length ? deps.signals.readMetrics(prefixed) : Promise.resolve<Record<string, MetricReading>>({}),
    alarmNames.length ? deps.signals.readAlarms(alarmNames) : Promise.resolve<Record<string, AlarmReading>>({}),
  ]);
  const readingsOf = (i: number) =>
    Object.fromEntries(
      Object.entries(metricReadings)
        .filter(([k]) => k.startsWith(`${i}|`))
        .map(([k, v]) => [k.slice(`${i}|`.length), v]),
    );
  // A percentile below its stable sample count is judged by the share of the new version's
  // requests above a reference taken from the old version's percentile the first read returned:
  // a second read, batched for all deployments, only for the signals that need it.
  const second: MetricQuery[] = plans.flatMap((p, i) =>
    planExceedanceReads(p.layers, p.versions, toObservations(p.layers, p.versions, p.window, readingsOf(i), {}, p.concurrent), p.window, p.concurrent).map((q) => ({ ...q, key: `${i}|${q.key}` })),
  );
  if (second.length) Object.assign(metricReadings, await deps.signals.readMetrics(second));

  const decisions: DecisionRecord[] = [];
  const evented = new Set<DecisionRecord>();
  // Scheduled runs (one a minute) also send each deployment's periodic record in its phase.
  const periodic = trigger.kind === 'schedule';
  for (let i = 0; i < active.length; i++) {
    const a = active[i];
    const st = states.get(a.info.deploymentId);
    // No record follows the final one (see isFinal).
    if (isFinal(st?.decisions?.at(-1))) continue;
    const { snapshot, layers, versions, window, concurrent } = plans[i];
    const mine = readingsOf(i);
    const telemetry = telemetryWatched(layers, a, watches, window, now, watchError, st, concurrent, deps.memory?.recentPoints(a.info.deploymentId) ?? []);
    if (telemetry.point) deps.memory?.rememberPoint(a.info.deploymentId, telemetry.point);
    const observations = { ...toObservations(layers, versions, window, mine, alarmReadings, concurrent), ...telemetry.observations };
    const id = a.info.deploymentId;
    const own = ownState(id, st, unread.has(id) ? `state read: ${read.failure!.message}` : undefined, deps.memory);
    const { verdict, state: nextEval } = evaluate({ snapshot, layers, observations, state: own.evaluation, ...(own.unreadable ? { stateUnreadable: own.unreadable } : {}) }, config.policy, now);

    const { taken, result, bakeReported } = await act(a, st, verdict, deps);
    if (result.startsWith('error')) withhold(groupKey(a.info), `${a.info.deploymentId}: ${result}`);
    const record = decisionRecord(snapshot, verdict, now, triggerText, taken, result);
    decisions.push(record);
    // Evaluation state only matters while a layer is unreadable, and a record is kept only when
    // it says something new: a steady healthy run writes nothing, which keeps one DynamoDB write
    // per deployment out of every evaluation. A record is kept in the same write as the state.
    const counting = (e: EvaluationState | undefined) => Object.values(e?.consecutiveUnreadable ?? {}).some((n) => n > 0);
    const news = isNews(st?.decisions?.at(-1), record);
    if (sendsEvent(st?.decisions?.at(-1), record, now, periodic)) evented.add(record);
    if (unread.has(id)) {
      // Unknown state is not overwritten: the count is carried in memory until it reads again.
      deps.memory?.set(id, { evaluation: nextEval });
    } else if (bakeReported || news || counting(nextEval) || counting(st?.evaluation)) {
      // Both versions' telemetry counts ride along in a write made anyway (never one of its own):
      // each traffic step is news, so the fast signal gets a slice per step at no extra call.
      // The state keeps the first read of each minute, this environment's recent ones included.
      const points = telemetry.point ? [...telemetry.points, telemetry.point].reduce<TelemetryPoint[]>((kept, p) => withTelemetryPoint(kept, p), []) : undefined;
      try {
        await deps.state.update(id, {
          evaluation: nextEval,
          ...(points && JSON.stringify(points) !== JSON.stringify(telemetry.stored) ? { telemetryPoints: points } : {}),
          ...(news ? { decisions: keepDecisions(st?.decisions ?? [], record) } : {}),
          ...(bakeReported && st?.bake ? { bake: { ...st.bake, reported: bakeReported } } : {}),
        });
        deps.memory?.forget(id);
      } catch (err) {
        // The next run would read a stale count: it counts this failure instead (see ownState).
        const message = `state write ${id}: ${errorText(err)}`;
        withhold(groupKey(a.info), message);
        deps.memory?.set(id, { evaluation: nextEval, writeFailed: message });
      }
    } else deps.memory?.forget(id);
  }

  if (decisions.length) {
    try {
      // Every record goes to the log; to EventBridge only news and the periodic ones.
      await deps.decisions.publish(decisions, (r) => evented.has(r));
    } catch (err) {
      errors.push(`decision events: ${errorText(err)}`);
    }
  }

  const heartbeats = trigger.kind === 'schedule' || trigger.kind === 'unrecognised' ? await publishHeartbeats(config, withheld, now, deps, errors) : null;
  if (errors.length) log.warn('watchdog run finished with errors', { errors });
  const heartbeat = heartbeats !== null && Object.keys(heartbeats.withheld).length === 0;
  log.info('watchdog run', {
    trigger: triggerText,
    deployments: decisions.length,
    rollbacks: decisions.filter((d) => d.action === 'rollback').length,
    heartbeats: heartbeats ? { published: heartbeats.published.length, withheld: Object.keys(heartbeats.withheld) } : 'none (partial run)',
  });
  return { trigger: triggerText, decisions, errors, heartbeat, heartbeats };
}

/**
 * The watch ends when the deployment ends: remove the watch item of each ended deployment that the
 * discovery found (a state-change event, or the reconciling run), and retry the removals earlier
 * runs could not make. Each removal holds only while the item still watches that deployment, so a
 * redeploy of the same version stays watched. A removal that fails is a warning, kept for the next
 * run: the telemetry extension writes on until then (and the item expires a week after the
 * hook wrote it), which costs write units but hides nothing from any judgement.
 */
async function endWatches(found: Discovery, port: WatchEndPort, log: Log): Promise<void> {
  const key = (w: WatchRef) => `${w.deploymentId}|${w.functionName}|${w.version}`;
  const pending = new Set(found.unwatch.map(key));
  const targets = new Map<string, WatchRef>(found.unwatch.map((w) => [key(w), w]));
  for (const { guard, info } of found.ended) {
    if (!guard.telemetry || !info.appSpec) continue;
    try {
      const spec = parseLambdaAppSpec(info.appSpec);
      // Both watches the hook started: the release's and its baseline's (the old version's).
      for (const version of new Set([spec.targetVersion, spec.currentVersion])) {
        const w = { deploymentId: info.deploymentId, functionName: spec.functionName, version };
        targets.set(key(w), w);
      }
    } catch {
      // An AppSpec the watchdog cannot read named no watch item: the hook wrote none for it.
    }
  }
  if (!targets.size) return;
  const failed: WatchRef[] = [];
  const done: WatchRef[] = [];
  await mapLimit([...targets.values()], ALIAS_CONCURRENCY, async (w) => {
    try {
      const result = await port.unwatch(w);
      log.info('telemetry watch ended', { ...w, result });
      if (pending.has(key(w))) done.push(w);
    } catch (err) {
      log.warn('telemetry watch: could not remove the watch item of an ended deployment; the next run retries', { ...w, error: errorText(err) });
      if (!pending.has(key(w))) failed.push(w);
    }
  });
  try {
    await port.retryUnwatch(failed, done);
  } catch (err) {
    log.warn('telemetry watch: could not record the removals to retry', { error: errorText(err), failed: failed.map(key), done: done.map(key) });
  }
}

/**
 * Publish one heartbeat datapoint per guarded group that nothing withheld; errors that concern
 * every group (`*`) withhold them all. Each withheld group is logged as an error naming it.
 */
async function publishHeartbeats(
  config: WatchdogConfig,
  withheld: ReadonlyMap<string, readonly string[]>,
  now: number,
  deps: WatchdogDeps,
  errors: string[],
): Promise<NonNullable<WatchdogRun['heartbeats']>> {
  const all = withheld.get(ALL_GROUPS) ?? [];
  const why: Record<string, string> = {};
  const published: string[] = [];
  for (const group of [...new Set(config.guards.map(groupKey))]) {
    const reasons = [...all, ...(withheld.get(group) ?? [])];
    if (reasons.length) why[group] = reasons.join('; ');
    else published.push(group);
  }
  if (published.length) {
    const point = (dimensions: Record<string, string>): Datapoint => ({ metricName: METRIC.heartbeat, dimensions, value: 1, unit: 'Count', timestamp: now, storageResolution: 60 });
    const points = published.map((group) => point({ Watchdog: config.name, DeploymentGroup: group }));
    try {
      await deps.metrics.publish(config.namespace, points);
    } catch (err) {
      const message = `heartbeat: ${errorText(err)}`;
      errors.push(message);
      for (const group of published.splice(0)) why[group] = message;
    }
  }
  for (const [group, reason] of Object.entries(why)) {
    deps.log.error(`heartbeat withheld for ${group}: the watchdog did not see or could not act on every deployment of that group`, { group, reason });
  }
  return { published, withheld: why };
}

/** The watch items of a deployment: its target version's, then its old version's (the baseline). */
function watchKeysOf(spec: { functionName: string; targetVersion: string; currentVersion: string }): string[] {
  return [...new Set([watchKey(spec.functionName, spec.targetVersion), watchKey(spec.functionName, spec.currentVersion)])];
}

/**
 * The telemetry observations of one deployment, from its own version's watch item and its old
 * version's, with the points of earlier reads its state keeps; and this read's point, to keep.
 */
function telemetryWatched(
  layers: readonly LayerSpec[],
  a: ActiveDeployment,
  watches: ReadonlyMap<string, object>,
  window: Window,
  now: number,
  unreadable: string | undefined,
  st: DeploymentState | undefined,
  concurrent: Window | null,
  recent: readonly TelemetryPoint[],
) {
  const kept = parseTelemetryPoints(st?.telemetryPoints);
  // This environment's recent reads (best effort: another environment has none) add slice edges.
  const points = mergeTelemetryPoints(kept, recent);
  if (!a.guard.telemetry) return { observations: {}, points, stored: kept, point: undefined };
  // Once the final shift has passed, the concurrent window ends at it.
  const bothServedUntil = concurrent && concurrent.end < now ? concurrent.end : undefined;
  return { ...telemetryOfDeployment(layers, a.info.deploymentId, a.appSpec, watches, window, now, unreadable, { points, bothServedUntil }), points, stored: kept };
}

/**
 * A deployment's telemetry observations from the watch items read: each counts only while it
 * watches this deployment (watchedCounts); the old version's is the baseline.
 */
function telemetryOfDeployment(
  layers: readonly LayerSpec[],
  deploymentId: string,
  spec: { functionName: string; targetVersion: string; currentVersion: string },
  items: ReadonlyMap<string, object>,
  window: Window,
  now: number,
  unreadable?: string,
  kept: Pick<BaselineWatch, 'points' | 'bothServedUntil'> = {},
) {
  const of = (version: string) => watchedCounts(items.get(watchKey(spec.functionName, version)) as Readonly<Record<string, unknown>> | undefined, deploymentId);
  const baseline = spec.currentVersion !== spec.targetVersion ? of(spec.currentVersion) : undefined;
  // The probes' invocations are not user traffic: taken off each version's counts.
  const probed = items.get(probedKey(deploymentId)) as Readonly<Record<string, unknown>> | undefined;
  const probes = probed ? { release: probedOf(probed, spec.targetVersion), baseline: probedOf(probed, spec.currentVersion) } : undefined;
  const watch: BaselineWatch = {
    ...(baseline ? { item: baseline } : {}),
    ...(probes ? { probes } : {}),
    now,
    ...(kept.points?.length ? { points: kept.points } : {}),
    ...(kept.bothServedUntil !== undefined ? { bothServedUntil: kept.bothServedUntil } : {}),
  };
  const item = of(spec.targetVersion);
  return { observations: telemetryObservations(layers, item, window, unreadable, watch), point: unreadable === undefined ? telemetryPoint(item, watch) : undefined };
}

/**
 * The deployments of a telemetry batch whose counts fail their guard's telemetry signal now, read
 * with one BatchGetItem: the deployments' items and the watch items the records came from. A
 * deployment the watchdog cannot place (no state, no recorded deployment, no guard) or a state it
 * cannot read is judged in full: the cheap look never hides evidence. A deployment is judged by
 * its own version's watch item only (a record's item of another version is read for it apart).
 */
async function telemetrySuspects(ids: readonly string[], recordKeys: readonly string[], deps: WatchdogDeps, now: number): Promise<string[]> {
  let items: Map<string, DeploymentState | Record<string, unknown>>;
  try {
    items = await deps.state.get([...ids, ...recordKeys]);
  } catch {
    return [...ids];
  }
  const placed = new Map<string, { guard: GuardConfig; info: DeploymentInfo; spec: LambdaAppSpec }>();
  for (const id of ids) {
    const info = (items.get(id) as DeploymentState | undefined)?.deployment;
    const guard = info && deps.config.guards.find((g) => g.application === info.application && g.deploymentGroup === info.deploymentGroup);
    if (!guard || !info.appSpec) continue;
    try {
      placed.set(id, { guard, info, spec: parseLambdaAppSpec(info.appSpec) });
    } catch {
      // Judged in full, where discovery reports the AppSpec.
    }
  }
  const missing = [...new Set([...placed].flatMap(([id, p]) => [...watchKeysOf(p.spec), probedKey(id)]))].filter((k) => !items.has(k) && !recordKeys.includes(k));
  if (missing.length) {
    try {
      for (const [k, v] of await deps.state.get(missing)) items.set(k, v);
    } catch {
      return [...ids];
    }
  }
  return ids.filter((id) => {
    const p = placed.get(id);
    if (!p) return true;
    const { guard, info, spec } = p;
    const layers = buildLayers(guard, deps.config.namespace);
    // The points the state keeps, and the final shift once the bake has begun.
    const st = items.get(id) as DeploymentState | undefined;
    const points = mergeTelemetryPoints(parseTelemetryPoints(st?.telemetryPoints), deps.memory?.recentPoints(id) ?? []);
    const kept = { points, ...(st?.bake?.startedAt !== undefined ? { bothServedUntil: st.bake.startedAt } : {}) };
    const { observations, point } = telemetryOfDeployment(layers, id, spec, items, { start: info.createdAt, end: now }, now, undefined, kept);
    // These looks come every few seconds while failures come: their reads are the finest edges.
    if (point) deps.memory?.rememberPoint(id, point);
    return layers.some((l) =>
      l.signals.some((s) => s.kind === 'telemetry' && judgeSignal(s, observations[signalKey(l.name, s.name)], { layer: l.name, deploymentCreatedAt: info.createdAt, preexistingAlarms: deps.config.policy.preexistingAlarms, stage: 'shifting' }).outcome === 'failed'),
    );
  });
}

/**
 * The evaluation state to judge a deployment from, and why its own state is unreadable (if it
 * is). The state item holds the count, unless its read failed this run or its write failed last
 * run: then this environment's memory holds the newer count (it holds one only after a failure,
 * so it wins a tie), and the failure counts towards blindness (core STATE_LAYER) like an
 * unreadable signal.
 */
export function ownState(
  id: string,
  st: DeploymentState | undefined,
  readFailure: string | undefined,
  memory: EvaluationMemory | undefined,
): { evaluation: EvaluationState; unreadable?: string } {
  const remembered = memory?.get(id);
  const stored = st?.evaluation;
  const newer = remembered && (readFailure !== undefined || (remembered.evaluation.lastEvaluatedAt ?? 0) >= (stored?.lastEvaluatedAt ?? 0)) ? remembered : undefined;
  const evaluation = newer?.evaluation ?? stored ?? INITIAL_STATE;
  const unreadable = readFailure ?? (newer?.writeFailed ? `the previous evaluation's ${newer.writeFailed}` : undefined);
  return { evaluation, ...(unreadable ? { unreadable } : {}) };
}

function toSnapshot(a: ActiveDeployment, st: DeploymentState | undefined, weight: number | undefined): DeploymentSnapshot {
  return {
    deploymentId: a.info.deploymentId,
    application: a.info.application,
    deploymentGroup: a.info.deploymentGroup,
    functionName: a.appSpec.functionName,
    alias: a.appSpec.alias,
    status: a.info.status,
    currentVersion: a.appSpec.currentVersion,
    targetVersion: a.appSpec.targetVersion,
    createdAt: a.info.createdAt,
    // An unreadable alias weight is taken as the riskiest reading that changes no decision
    // silently: traffic has started (so the final-shift guard applies) but is not complete.
    newVersionWeight: weight ?? (st?.bake ? 1 : st?.trafficShiftStartedAt !== undefined ? 0.5 : 0),
    rollout: a.rollout,
    ...(st?.trafficShiftStartedAt !== undefined ? { trafficShiftStartedAt: st.trafficShiftStartedAt } : {}),
    ...(st?.bake ? { bake: { until: st.bake.until, ...(st.bake.startedAt !== undefined ? { startedAt: st.bake.startedAt } : {}) } } : {}),
  };
}

/**
 * Carry out a verdict. During the bake the AfterAllowTraffic hook is reported (Failed makes
 * CodeDeploy roll the alias back); otherwise a rollback is StopDeployment with auto-rollback.
 * A bake whose end is deferred is left running. In shadow mode nothing is stopped, and at the
 * bake's end the hook is reported Succeeded whatever the verdict, so CodeDeploy never times it
 * out: the record says what enforce mode would have done.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
 */
async function act(
  a: ActiveDeployment,
  st: DeploymentState | undefined,
  verdict: Verdict,
  deps: WatchdogDeps,
): Promise<{ taken: ActionTaken; result: string; bakeReported?: 'Succeeded' | 'Failed' }> {
  const id = a.info.deploymentId;
  const bake = st?.bake && !st.bake.reported ? st.bake : undefined;
  let want: ActionTaken = 'none';
  if (verdict.action === 'rollback') want = bake ? 'fail-bake' : 'stop-deployment';
  else if (bake && verdict.stage === 'bake-end' && !verdict.deferred) want = 'succeed-bake';
  if (want === 'none') return { taken: 'none', result: 'ok' };
  if (deps.config.mode === 'shadow') {
    if (want === 'succeed-bake') return report(deps, id, bake!.hookExecutionId, 'Succeeded', want, '');
    // The bake still ends, as it would without the watchdog: at bake-end, Succeeded.
    if (bake && verdict.stage === 'bake-end') return report(deps, id, bake.hookExecutionId, 'Succeeded', 'shadow', `would ${want}; `);
    return { taken: 'shadow', result: `would ${want}` };
  }
  if (want === 'succeed-bake') return report(deps, id, bake!.hookExecutionId, 'Succeeded', want, '');
  if (want === 'stop-deployment') return stop(deps, id, want, '');
  try {
    const result = await deps.actions.reportHook(id, bake!.hookExecutionId, 'Failed');
    if (result === 'already-reported') {
      // A concurrent run reported the hook first (Succeeded, at bake-end): the Failed report is
      // lost, so stop the deployment with rollback instead.
      return { ...(await stop(deps, id, 'stop-deployment', 'the bake hook had already been reported (Succeeded by a concurrent run); stopped with rollback: ')), bakeReported: 'Failed' };
    }
    return { taken: want, result, bakeReported: 'Failed' };
  } catch (err) {
    // The hook could not be reported: stop the deployment instead, so the release still ends.
    const stopped = await stop(deps, id, 'stop-deployment', '');
    return stopped.result.startsWith('error') ? { taken: want, result: `error: ${errorText(err)}; then StopDeployment: ${stopped.result.slice('error: '.length)}` } : stopped;
  }
}

async function report(
  deps: WatchdogDeps,
  id: string,
  hookExecutionId: string,
  status: 'Succeeded' | 'Failed',
  taken: ActionTaken,
  prefix: string,
): Promise<{ taken: ActionTaken; result: string; bakeReported?: 'Succeeded' | 'Failed' }> {
  try {
    const result = await deps.actions.reportHook(id, hookExecutionId, status);
    return { taken, result: prefix ? `${prefix}reported ${status}: ${result}` : result, bakeReported: status };
  } catch (err) {
    return { taken, result: `error: ${prefix}${errorText(err)}` };
  }
}

async function stop(deps: WatchdogDeps, id: string, taken: ActionTaken, prefix: string): Promise<{ taken: ActionTaken; result: string }> {
  try {
    return { taken, result: `${prefix}${await deps.actions.stopAndRollBack(id)}` };
  } catch (err) {
    return { taken, result: `error: ${prefix}${errorText(err)}` };
  }
}
