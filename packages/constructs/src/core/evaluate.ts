import { minutesToFinalShift } from './rollout';
import { VERSION_SCOPED_LAYERS } from './native-alarms';
import { judgeSignal, releaseIsBetter } from './signals';
import type {
  DeploymentSnapshot,
  EvaluationState,
  Evidence,
  LayerResult,
  LayerSpec,
  Observations,
  Policy,
  Stage,
  Verdict,
} from './types';
import { InsufficientAction, PreexistingAlarms, signalKey, worstOutcome } from './types';

/**
 * The default policy, and why:
 * - blindAfter 3: three one-minute evaluations without a layer's signals is longer than any
 *   single CloudWatch hiccup we have seen reported, yet short of a 5-minute canary's end.
 *   Argo Rollouts' consecutiveErrorLimit default is 4 measurements; CodeDeploy itself stops a
 *   deployment at the first failed alarm poll unless ignorePollAlarmFailure is set.
 * - finalShiftGuardSeconds 120: the watchdog runs every minute, so at least one evaluation
 *   falls inside the two minutes before the final shift, with a minute of slack for delays.
 * - insufficient evidence: proceed while the new version takes little traffic (the blast
 *   radius is small and the evidence is still arriving), but never let the final shift happen,
 *   nor the bake end, on insufficient evidence from the probes layer: probes are the one
 *   signal the watchdog controls the volume of, so having none means something is broken.
 * - preexistingAlarms ignore: an alarm that was already in ALARM before the release began is
 *   not evidence against the release (it would block the fix for that very alarm); the
 *   version-scoped layers still judge the release.
 */
export const DEFAULT_POLICY: Policy = {
  blindAfter: 3,
  minSecondsBetweenCountedEvaluations: 30,
  finalShiftGuardSeconds: 120,
  insufficient: {
    'final-shift': { probes: InsufficientAction.ROLLBACK },
    'bake-end': { probes: InsufficientAction.ROLLBACK },
  },
  preexistingAlarms: PreexistingAlarms.IGNORE,
};

export const INITIAL_STATE: EvaluationState = { consecutiveUnreadable: {} };

/** The comparisons that can show a release better than the old version: its failed requests (fewer throttles cannot). */
const ATTRIBUTING_SIGNALS: readonly string[] = ['errors', 'http-5xx', 'telemetry-errors'];

/** The layers whose evidence is the new version's own (config checks, probes, its metrics and telemetry). */
const VERSION_SCOPED: readonly string[] = ['config', ...VERSION_SCOPED_LAYERS];

/**
 * The watchdog's own state (its DynamoDB item) as a layer of evidence: a run that could not read
 * or write it has lost the counts and the history it judges with, so it counts towards blindness
 * exactly like an unreadable signal (blindAfter, the same-moment rule, a deferred bake end). It
 * appears in a verdict only while unreadable, after the guard's own layers.
 */
export const STATE_LAYER = 'watchdog-state';

/**
 * Probe samples count as fresh for this many minutes, counted from the start of the minute. The
 * prober runs once a minute (6 rounds 10 s apart) and publishes after each round, so at a
 * minute's evaluation the last run's samples are 10-60 s old; 2 minutes still hold a run's
 * samples after one missed or late run (a schedule hiccup is not a rollback), while a prober
 * that has missed two runs in a row is silent: insufficient evidence, never healthy.
 */
export const FRESH_PROBE_MINUTES = 2;

/**
 * Minutes after the bake's deadline before its end is judged. Lambda sends its metrics in
 * one-minute periods about a minute after each minute ends, and a layer alarm needs 2 of 3
 * one-minute periods (evaluated once a minute), so the bake's last minute is in CloudWatch about
 * a minute after the deadline and in the alarms' state about two; a third minute is margin for a
 * late datapoint and the watchdog's own one-minute schedule.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
 */
export const BAKE_SETTLE_MINUTES = 3;

/**
 * CodeDeploy fails a lifecycle hook not reported within one hour of its invocation; the watchdog
 * stops waiting for evidence this many minutes before that (a missed run and a retry), and then
 * fails the bake rather than let it time out or end blind.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
 */
export const HOOK_LIMIT_MINUTES = 60;
export const HOOK_MARGIN_MINUTES = 3;

/** When a bake must have been reported at the latest (epoch ms), with the margin taken off. */
export function bakeReportDeadline(snapshot: DeploymentSnapshot): number | undefined {
  if (!snapshot.bake) return undefined;
  // Without the hook's own start time, the final shift (after which CodeDeploy invokes it) is the earliest it can be.
  const startedAt =
    snapshot.bake.startedAt ?? (snapshot.trafficShiftStartedAt ?? snapshot.createdAt) + minutesToFinalShift(snapshot.rollout) * 60_000;
  return startedAt + (HOOK_LIMIT_MINUTES - HOOK_MARGIN_MINUTES) * 60_000;
}

/** Where the deployment stands at `now`. */
export function deriveStage(snapshot: DeploymentSnapshot, policy: Policy, now: number): Stage {
  const w = snapshot.newVersionWeight;
  if (w >= 1) {
    if (snapshot.bake) return now >= snapshot.bake.until ? 'bake-end' : 'bake';
    return 'complete';
  }
  if (w <= 0 && snapshot.trafficShiftStartedAt === undefined) return 'pre-traffic';
  const start = snapshot.trafficShiftStartedAt ?? snapshot.createdAt;
  const finalAt = start + minutesToFinalShift(snapshot.rollout) * 60_000;
  return finalAt - now <= policy.finalShiftGuardSeconds * 1000 ? 'final-shift' : 'shifting';
}

export function insufficientAction(policy: Policy, stage: Stage, layer: string): InsufficientAction {
  const byLayer = policy.insufficient[stage];
  return byLayer?.[layer] ?? byLayer?.['*'] ?? InsufficientAction.PROCEED;
}

export interface EvaluationInput {
  readonly snapshot: DeploymentSnapshot;
  readonly layers: readonly LayerSpec[];
  readonly observations: Observations;
  readonly state: EvaluationState;
  /** Why the deployment's own state could not be read or written (absent when it was): see STATE_LAYER. */
  readonly stateUnreadable?: string;
}

export interface EvaluationResult {
  readonly verdict: Verdict;
  readonly state: EvaluationState;
}

/**
 * Judge every layer, in order, and decide. A layer asks for rollback when one of its signals
 * failed, when it has been unreadable for `blindAfter` consecutive evaluations ("blind"), or
 * when its evidence is insufficient at a stage where the policy says that means rollback.
 * The first such layer in order decides; every layer's evidence is kept in the verdict.
 */
export function evaluate(input: EvaluationInput, policy: Policy, now: number): EvaluationResult {
  const { snapshot, layers, observations, state, stateUnreadable } = input;
  const stage = deriveStage(snapshot, policy, now);
  const sameMoment =
    state.lastEvaluatedAt !== undefined && now - state.lastEvaluatedAt < policy.minSecondsBetweenCountedEvaluations * 1000;

  const evidence: Evidence[] = [];
  const layerResults: LayerResult[] = [];
  const reasons: string[] = [];
  const nextUnreadable: Record<string, number> = {};
  let decidingLayer: string | null = null;
  // At bake-end, what is missing (unreadable not yet blind, insufficient where required) defers
  // the end instead of deciding it: evidence may still come, and ending a bake cannot be undone.
  const missing: { layer: string; reason: string }[] = [];

  // Attribution: an alarm of the service or a custom layer is not the release's when the
  // version-scoped layers show the new version significantly better than the old one (a fix
  // shipped during an incident). Without such evidence, or with a version-scoped layer failing,
  // an ALARM fails as always.
  const scoped = layers.filter((l) => VERSION_SCOPED.includes(l.name));
  const better = releaseIsBetter(scoped.flatMap((l) => l.signals.filter((s) => ATTRIBUTING_SIGNALS.includes(s.name)).map((s) => ({ spec: s, obs: observations[signalKey(l.name, s.name)] }))));
  for (const layer of layers) {
    const notAttributed = better !== undefined && !VERSION_SCOPED.includes(layer.name) ? { notAttributed: better } : {};
    const items = layer.signals.map((s) =>
      judgeSignal(s, observations[signalKey(layer.name, s.name)], {
        layer: layer.name,
        deploymentCreatedAt: snapshot.createdAt,
        preexistingAlarms: policy.preexistingAlarms,
        stage,
        ...notAttributed,
      }),
    );
    evidence.push(...items);
    const outcome = worstOutcome(items.map((e) => e.outcome));
    const previous = state.consecutiveUnreadable[layer.name] ?? 0;
    // A second evaluation within the same moment (an alarm event next to the schedule) does
    // not count twice towards blindness.
    const unreadable = outcome === 'unreadable' ? (sameMoment ? Math.max(previous, 1) : previous + 1) : 0;
    nextUnreadable[layer.name] = unreadable;
    layerResults.push({ name: layer.name, outcome, consecutiveUnreadable: unreadable });

    const layerReasons: string[] = [];
    if (outcome === 'failed') {
      for (const e of items.filter((i) => i.outcome === 'failed')) layerReasons.push(`${layer.name}/${e.signal} failed: ${e.note}`);
    } else if (outcome === 'unreadable' && unreadable >= policy.blindAfter) {
      const what = items.filter((i) => i.outcome === 'unreadable').map((i) => `${i.signal} (${i.note})`);
      layerReasons.push(
        `blind: ${layer.name} unreadable for ${unreadable} consecutive evaluations (limit ${policy.blindAfter}): ${what.join('; ')}`,
      );
    } else if (stage === 'bake-end' && outcome === 'unreadable') {
      const what = items.filter((i) => i.outcome === 'unreadable').map((i) => `${i.signal} (${i.note})`);
      missing.push({ layer: layer.name, reason: `${layer.name} unreadable (${unreadable} of ${policy.blindAfter} before blind): ${what.join('; ')}` });
    } else if (outcome === 'unreadable' && insufficientAction(policy, stage, layer.name) === 'rollback') {
      // Where the policy demands evidence, a layer that cannot be read has none either.
      const what = items.filter((i) => i.outcome === 'unreadable').map((i) => `${i.signal} (${i.note})`);
      layerReasons.push(`no evidence from ${layer.name} at stage ${stage}, which requires it: unreadable: ${what.join('; ')}`);
    } else if (outcome === 'insufficient' && insufficientAction(policy, stage, layer.name) === 'rollback') {
      const what = items.filter((i) => i.outcome === 'insufficient').map((i) => `${i.signal} (${i.note})`);
      const reason = `insufficient evidence from ${layer.name} at stage ${stage}, which the policy does not accept: ${what.join('; ')}`;
      if (stage === 'bake-end') missing.push({ layer: layer.name, reason });
      else layerReasons.push(reason);
    }
    if (layerReasons.length) {
      decidingLayer ??= layer.name;
      reasons.push(...layerReasons);
    }
  }

  if (stateUnreadable !== undefined) {
    const previous = state.consecutiveUnreadable[STATE_LAYER] ?? 0;
    const unreadable = sameMoment ? Math.max(previous, 1) : previous + 1;
    nextUnreadable[STATE_LAYER] = unreadable;
    layerResults.push({ name: STATE_LAYER, outcome: 'unreadable', consecutiveUnreadable: unreadable });
    if (unreadable >= policy.blindAfter) {
      decidingLayer ??= STATE_LAYER;
      reasons.push(`blind: ${STATE_LAYER} unreadable for ${unreadable} consecutive evaluations (limit ${policy.blindAfter}): ${stateUnreadable}`);
    } else if (stage === 'bake-end') {
      missing.push({ layer: STATE_LAYER, reason: `${STATE_LAYER} unreadable (${unreadable} of ${policy.blindAfter} before blind): ${stateUnreadable}` });
    } else if (insufficientAction(policy, stage, STATE_LAYER) === 'rollback') {
      decidingLayer ??= STATE_LAYER;
      reasons.push(`no evidence from ${STATE_LAYER} at stage ${stage}, which requires it: ${stateUnreadable}`);
    }
  }

  let deferred: string | undefined;
  if (stage === 'bake-end' && decidingLayer === null) {
    const end = bakeEnd(snapshot, missing, now);
    if (end.fail) {
      decidingLayer = missing[0]?.layer ?? null;
      reasons.push(end.fail);
    } else deferred = end.defer;
  }
  const action = decidingLayer === null && !reasons.length ? 'proceed' : 'rollback';
  if (deferred) reasons.push(deferred);
  if (action === 'proceed') reasons.push(proceedReason(layerResults, stage));
  const excused = better !== undefined ? evidence.filter((e) => e.outcome === 'insufficient' && e.observed === 'ALARM' && !VERSION_SCOPED.includes(e.layer)) : [];
  if (action === 'proceed' && excused.length) {
    reasons.push(`not attributed to the release: ${excused.map((e) => `${e.layer}/${e.signal}`).join(', ')} in ALARM while ${better}`);
  }
  return {
    verdict: { action, layer: decidingLayer, stage, reasons, evidence, layers: layerResults, ...(deferred ? { deferred } : {}) },
    state: { lastEvaluatedAt: sameMoment ? state.lastEvaluatedAt : now, consecutiveUnreadable: nextUnreadable },
  };
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * Whether the bake may end now: only once its last minutes can have been published and
 * evaluated (BAKE_SETTLE_MINUTES after its deadline) and no layer is unreadable or short of the
 * evidence the policy asks for at bake-end. Until then the end is deferred; when deferring would
 * pass the hook's one-hour limit (less a margin), the bake fails instead.
 */
function bakeEnd(snapshot: DeploymentSnapshot, missing: readonly { reason: string }[], now: number): { defer?: string; fail?: string } {
  const settledAt = snapshot.bake!.until + BAKE_SETTLE_MINUTES * 60_000;
  const why: string[] = [];
  if (now < settledAt) why.push(`waiting for the bake's last minute of metrics to be published and evaluated`);
  why.push(...missing.map((m) => m.reason));
  if (!why.length) return {};
  const deadline = bakeReportDeadline(snapshot)!;
  if (now >= deadline) {
    return {
      fail: `bake-end could not be confirmed before ${iso(deadline)} (the AfterAllowTraffic hook's one-hour limit less ${HOOK_MARGIN_MINUTES} minutes): ${why.join('; ')}`,
    };
  }
  const until = now < settledAt ? settledAt : Math.min(now + 60_000, deadline);
  return { defer: `bake-end deferred until ${now < settledAt ? iso(until) : `at least ${iso(until)}`} (failed at ${iso(deadline)} if still so): ${why.join('; ')}` };
}

function proceedReason(layers: readonly LayerResult[], stage: Stage): string {
  const by = (o: string) => layers.filter((l) => l.outcome === o).map((l) => l.name);
  const parts = [`stage ${stage}`];
  const healthy = by('healthy');
  if (healthy.length) parts.push(`healthy: ${healthy.join(', ')}`);
  const insufficient = by('insufficient');
  if (insufficient.length) parts.push(`insufficient evidence, accepted at this stage: ${insufficient.join(', ')}`);
  const unreadable = layers.filter((l) => l.outcome === 'unreadable');
  if (unreadable.length) parts.push(`unreadable, not yet blind: ${unreadable.map((l) => `${l.name} (${l.consecutiveUnreadable})`).join(', ')}`);
  return `proceed: ${parts.join('; ')}`;
}
