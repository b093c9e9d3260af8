import { buildLayers, METRIC, type WatchdogConfig } from '../core/config';
import { decisionRecord, type ActionTaken, type DecisionRecord } from '../core/decision-record';
import { evaluate, INITIAL_STATE } from '../core/evaluate';
import { scheduledWeight } from '../core/rollout';
import { deploymentWindow, planReads, toObservations, type AlarmReading, type MetricQuery, type MetricReading } from '../core/observe';
import type { DeploymentSnapshot, EvaluationState } from '../core/types';
import type { ActionPort, AliasPort, DecisionPort, DeploymentPort, DeploymentState, MetricsPort, RegistryPort, SignalPort, StatePort } from '../aws/ports';
import { errorText, mapLimit } from '../aws/util';
import { discover, type ActiveDeployment } from './discover';
import { describeTrigger, guardsFor, type Trigger } from './triggers';

export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface WatchdogDeps {
  readonly config: WatchdogConfig;
  readonly deployments: DeploymentPort;
  readonly actions: ActionPort;
  readonly aliases: AliasPort;
  readonly signals: SignalPort;
  readonly state: StatePort;
  /** Where active deployments are registered; without it every guarded group is listed on every run. */
  readonly registry?: RegistryPort;
  readonly decisions: DecisionPort;
  readonly metrics: MetricsPort;
  readonly log: Log;
  readonly now: () => number;
}

export interface WatchdogRun {
  readonly trigger: string;
  readonly decisions: readonly DecisionRecord[];
  readonly errors: readonly string[];
  /** False when the run did not see or could not act on everything: CodeDeploy's heartbeat alarm then takes over. */
  readonly heartbeat: boolean;
}

const ALIAS_CONCURRENCY = 8;

/**
 * One watchdog run: find the guarded deployments in progress, read every layer's signals in
 * batches, judge each deployment with the pure core, act on the verdict and record it.
 *
 * The heartbeat is published only when the run saw every guarded group and carried out every
 * action it decided. Otherwise it is withheld, and after three silent minutes the heartbeat
 * alarm, which sits in every deployment group's own alarm list, makes CodeDeploy stop the
 * deployment: a watchdog that cannot see or act fails closed.
 */
export async function runWatchdog(trigger: Trigger, deps: WatchdogDeps): Promise<WatchdogRun> {
  const { config, log } = deps;
  const now = deps.now();
  const triggerText = describeTrigger(trigger);
  if (trigger.kind === 'unrecognised') log.warn('unrecognised event: evaluating every guarded deployment', { trigger: triggerText });

  const guards = guardsFor(trigger, config.guards);
  const extra = trigger.kind === 'deployment' ? [trigger.deploymentId] : [];
  const registry = deps.registry ? { registry: deps.registry, write: true, reconcile: guards.length === config.guards.length, now } : undefined;
  const found = await discover(guards, deps.deployments, extra, registry);
  const errors = [...found.errors];
  for (const w of found.warnings) log.warn('discovery', { warning: w });

  const ids = found.active.map((a) => a.info.deploymentId);
  let states = new Map<string, DeploymentState>();
  if (ids.length) {
    try {
      states = await deps.state.get(ids);
    } catch (err) {
      // Without state the bake cannot be ended and blindness restarts from zero: record, go on.
      errors.push(`state read: ${errorText(err)}`);
    }
  }

  // Once the pre-traffic hook has recorded when shifting began, the weight follows from the
  // deployment config's schedule (and is 1 during the bake); the alias is read only before that,
  // which keeps one GetAlias per deployment out of most evaluations.
  const weights = await mapLimit(found.active, ALIAS_CONCURRENCY, async (a) => {
    const st = states.get(a.info.deploymentId);
    if (st?.bake) return 1;
    if (st?.trafficShiftStartedAt !== undefined) return scheduledWeight(a.rollout, (now - st.trafficShiftStartedAt) / 60_000);
    try {
      return await deps.aliases.weightOf(a.appSpec.functionName, a.appSpec.alias, a.appSpec.targetVersion);
    } catch (err) {
      errors.push(`GetAlias ${a.appSpec.functionName}:${a.appSpec.alias}: ${errorText(err)}`);
      return undefined;
    }
  });

  // Plan every deployment's reads, then read them all in as few batched calls as possible.
  const plans = found.active.map((a) => {
    const layers = buildLayers(a.guard, config.namespace);
    const window = deploymentWindow(a.info.createdAt, now);
    return { layers, window, plan: planReads(layers, { new: a.appSpec.targetVersion, old: a.appSpec.currentVersion }, window) };
  });
  const prefixed: MetricQuery[] = plans.flatMap((p, i) => p.plan.metrics.map((q) => ({ ...q, key: `${i}|${q.key}` })));
  const alarmNames = [...new Set(plans.flatMap((p) => p.plan.alarmNames))];
  const [metricReadings, alarmReadings] = await Promise.all([
    prefixed.length ? deps.signals.readMetrics(prefixed) : Promise.resolve<Record<string, MetricReading>>({}),
    alarmNames.length ? deps.signals.readAlarms(alarmNames) : Promise.resolve<Record<string, AlarmReading>>({}),
  ]);

  const decisions: DecisionRecord[] = [];
  let actionFailed = false;
  for (let i = 0; i < found.active.length; i++) {
    const a = found.active[i];
    const st = states.get(a.info.deploymentId);
    const weight = weights[i];
    const mine = Object.fromEntries(
      Object.entries(metricReadings)
        .filter(([k]) => k.startsWith(`${i}|`))
        .map(([k, v]) => [k.slice(`${i}|`.length), v]),
    );
    const observations = toObservations(plans[i].layers, plans[i].window, mine, alarmReadings);
    const snapshot = toSnapshot(a, st, weight);
    const { verdict, state: nextEval } = evaluate(
      { snapshot, layers: plans[i].layers, observations, state: st?.evaluation ?? INITIAL_STATE },
      config.policy,
      now,
    );

    const { taken, result, bakeReported } = await act(a, st, verdict.action, verdict.stage, deps);
    if (result.startsWith('error')) {
      actionFailed = true;
      errors.push(`${a.info.deploymentId}: ${result}`);
    }
    const record = decisionRecord(snapshot, verdict, now, triggerText, taken, result);
    decisions.push(record);
    // Evaluation state only matters while a layer is unreadable: a steady healthy run writes
    // nothing, which keeps one DynamoDB write per deployment out of every evaluation.
    const counting = (e: EvaluationState | undefined) => Object.values(e?.consecutiveUnreadable ?? {}).some((n) => n > 0);
    if (bakeReported || counting(nextEval) || counting(st?.evaluation)) {
      try {
        await deps.state.update(a.info.deploymentId, {
          evaluation: nextEval,
          ...(bakeReported && st?.bake ? { bake: { ...st.bake, reported: bakeReported } } : {}),
        });
      } catch (err) {
        errors.push(`state write ${a.info.deploymentId}: ${errorText(err)}`);
      }
    }
  }

  if (decisions.length) {
    try {
      await deps.decisions.publish(decisions);
    } catch (err) {
      errors.push(`decision events: ${errorText(err)}`);
    }
  }

  const sawEverything = found.errors.length === 0 && weights.every((w) => w !== undefined);
  const heartbeat = sawEverything && !actionFailed;
  if (heartbeat) {
    try {
      await deps.metrics.publish(config.namespace, [
        { metricName: METRIC.heartbeat, dimensions: { Watchdog: config.name }, value: 1, unit: 'Count', timestamp: now, storageResolution: 60 },
      ]);
    } catch (err) {
      errors.push(`heartbeat: ${errorText(err)}`);
    }
  } else {
    log.error('heartbeat withheld: the watchdog did not see or could not act on every guarded deployment', { errors });
  }
  if (errors.length) log.warn('watchdog run finished with errors', { errors });
  log.info('watchdog run', { trigger: triggerText, deployments: decisions.length, rollbacks: decisions.filter((d) => d.action === 'rollback').length, heartbeat });
  return { trigger: triggerText, decisions, errors, heartbeat };
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
    ...(st?.bake ? { bake: { until: st.bake.until } } : {}),
  };
}

/**
 * Carry out a verdict. During the bake the AfterAllowTraffic hook is reported (Failed makes
 * CodeDeploy roll the alias back); otherwise a rollback is StopDeployment with auto-rollback.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
 */
async function act(
  a: ActiveDeployment,
  st: DeploymentState | undefined,
  action: 'proceed' | 'rollback',
  stage: string,
  deps: WatchdogDeps,
): Promise<{ taken: ActionTaken; result: string; bakeReported?: 'Succeeded' | 'Failed' }> {
  const id = a.info.deploymentId;
  const bake = st?.bake && !st.bake.reported ? st.bake : undefined;
  let want: ActionTaken = 'none';
  if (action === 'rollback') want = bake ? 'fail-bake' : 'stop-deployment';
  else if (bake && stage === 'bake-end') want = 'succeed-bake';
  if (want === 'none') return { taken: 'none', result: 'ok' };
  if (deps.config.mode === 'shadow') return { taken: 'shadow', result: `would ${want}` };
  try {
    if (want === 'stop-deployment') return { taken: want, result: await deps.actions.stopAndRollBack(id) };
    const status = want === 'fail-bake' ? 'Failed' : 'Succeeded';
    const result = await deps.actions.reportHook(id, bake!.hookExecutionId, status);
    return { taken: want, result, bakeReported: status };
  } catch (err) {
    if (want === 'fail-bake') {
      // The hook could not be reported: stop the deployment instead, so the release still ends.
      try {
        return { taken: 'stop-deployment', result: await deps.actions.stopAndRollBack(id) };
      } catch (err2) {
        return { taken: want, result: `error: ${errorText(err)}; then StopDeployment: ${errorText(err2)}` };
      }
    }
    return { taken: want, result: `error: ${errorText(err)}` };
  }
}

