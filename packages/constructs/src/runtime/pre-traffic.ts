import { configSince, type ConfigSource } from './discover';
import { parseLambdaAppSpec } from '../core/appspec';
import { checkEnvironment, judgeReachability, type ConfigCheckResult } from '../core/config-checks';
import { METRIC, type GuardConfig, type WatchdogConfig } from '../core/config';
import type { ActionPort, Datapoint, DeploymentInfo, DeploymentPort, FunctionPort, MetricsPort, PreTrafficOutcome, ProbeCountPort, RegistryPort, StatePort, WatchPort } from '../aws/ports';
import { errorText } from '../aws/util';
import { parseHookEvent } from './hook-event';
import { PRE_TRAFFIC_PROBE_ATTEMPTS, probeWithRetries, tallyProbes, type RetriedProbe } from './probing';
import type { Log } from './watchdog';

/** Answers an HTTP GET within a time limit: a status, or an error such as a timeout; through the
 * guard's reachability checker function when `checker` names one. */
export type HttpCheck = (url: string, timeoutMs: number, checker?: string) => Promise<{ status?: number; error?: string; elapsedMs: number }>;

export interface PreTrafficDeps {
  readonly config: WatchdogConfig;
  /** Where the configuration was read, to read it again when the deployment began after that. */
  readonly configSource?: ConfigSource;
  readonly deployments: DeploymentPort;
  readonly functions: FunctionPort;
  readonly actions: ActionPort;
  readonly metrics: MetricsPort;
  readonly state: StatePort;
  /** Where the deployment is registered for the watchdog and the prober to find it. */
  readonly registry?: RegistryPort;
  /** Where the telemetry extension learns which deployment the new version's counts belong to. */
  readonly watch?: WatchPort;
  /** Where the probes' invocations are recorded, so that the fast signal does not count them as user traffic. */
  readonly probeCounts?: ProbeCountPort;
  readonly http: HttpCheck;
  readonly log: Log;
  readonly now: () => number;
}

export interface PreTrafficResult {
  readonly deploymentId?: string;
  /** What was reported to CodeDeploy (in shadow mode always Succeeded). */
  readonly status: 'Succeeded' | 'Failed' | 'unreported';
  readonly reasons: readonly string[];
  readonly configChecks: readonly ConfigCheckResult[];
  readonly probes: readonly RetriedProbe[];
  /** Shadow mode: enforce mode would have reported Failed, for `reasons`. */
  readonly wouldHave?: 'Failed';
  /** A rollback deployment, let through without checks. */
  readonly rollback?: true;
  /** A repeated invocation of a hook execution already answered: that answer, repeated. */
  readonly duplicate?: true;
}

/** What the hook answers, before it is reported. */
interface Answer {
  readonly status: 'Succeeded' | 'Failed';
  readonly reasons: string[];
  readonly configChecks: ConfigCheckResult[];
  readonly probes: RetriedProbe[];
  readonly wouldHave?: 'Failed';
  readonly rollback?: true;
  readonly duplicate?: true;
  readonly note?: string;
}

/**
 * BeforeAllowTraffic: check the new version's configuration and run the probes against it
 * before any user request reaches it. Any exception, timeout or malformed event reports Failed:
 * a check that could not run is not a check that passed. Three exceptions, each recorded:
 * a rollback deployment is let through at once (CodeDeploy runs the hooks of a rollback too,
 * and failing one can leave the alias split); a repeated invocation of a hook execution already
 * answered repeats that answer (Lambda may deliver an asynchronous invocation more than once);
 * in shadow mode the hook reports Succeeded and records what enforce mode would have done.
 */
export async function runPreTraffic(event: unknown, deps: PreTrafficDeps): Promise<PreTrafficResult> {
  const parsed = parseHookEvent(event);
  if ('error' in parsed) {
    // Without the ids there is nothing to report to; CodeDeploy fails the hook after one hour.
    deps.log.error('pre-traffic hook: malformed event, cannot report', { error: parsed.error });
    return { status: 'unreported', reasons: [parsed.error], configChecks: [], probes: [] };
  }
  const { deploymentId, hookExecutionId } = parsed;
  let shadow = deps.config.mode === 'shadow';
  let configChecks: ConfigCheckResult[] = [];
  let probes: RetriedProbe[] = [];
  const reasons: string[] = [];
  let shiftRecorded = false;
  let described: DeploymentInfo | undefined;
  // Traffic shifting starts once this hook succeeds: the watchdog times the final shift from
  // here, and finds the deployment in the registry. The start is written only if absent, so a
  // repeated invocation does not move the schedule.
  const recordShift = async () => {
    // With the deployment as described here, which saves the watchdog's steady runs a BatchGetDeployments.
    if (!(await deps.state.updateIfAbsent(deploymentId, 'trafficShiftStartedAt', { trafficShiftStartedAt: deps.now(), ...(described ? { deployment: described } : {}) }))) {
      deps.log.warn('pre-traffic hook: traffic shift start already recorded by an earlier run, kept', { deploymentId });
    }
    await deps.registry?.addActive([deploymentId]);
    shiftRecorded = true;
  };
  try {
    const [info] = await deps.deployments.describe([deploymentId]);
    if (!info) throw new Error(`deployment ${deploymentId} not found`);
    described = info;
    // The release's own configuration (its deploy wrote it before the deployment began), not one read before that.
    const current = await configSince(deps.config, info.createdAt, deps.configSource);
    if (current.warning) deps.log.warn('pre-traffic hook: configuration', { warning: current.warning });
    const config = current.config;
    shadow = config.mode === 'shadow';
    if (info.isRollback) {
      return await answer(deps, deploymentId, hookExecutionId, {
        status: 'Succeeded',
        reasons: [],
        configChecks: [],
        probes: [],
        rollback: true,
        note: 'rollback deployment: let through at once, without checks or probes (failing it could leave the alias split)',
      });
    }
    const prior = (await deps.state.get([deploymentId])).get(deploymentId)?.preTraffic;
    if (prior?.hookExecutionId === hookExecutionId) return await answer(deps, deploymentId, hookExecutionId, replay(prior, shadow));

    const guard = findGuard(config, info.application, info.deploymentGroup);
    if (!info.appSpec) throw new Error(`deployment ${deploymentId} has no AppSpec content`);
    const appSpec = parseLambdaAppSpec(info.appSpec);
    const fn = appSpec.functionName;
    const version = appSpec.targetVersion;
    if (guard.telemetry && deps.watch) {
      // The old version first: its environments, unwatched until now, find their item up to
      // WATCH_RECHECK_SECONDS later, and the release's counts are compared with it. Without an
      // item the fast signal is missing (the telemetry signal stays insufficient) or judged
      // without its baseline, while every other layer still judges: a warning, not a failed hook.
      const watches: [string, 'release' | 'baseline'][] = [...(appSpec.currentVersion !== version ? [[appSpec.currentVersion, 'baseline'] as [string, 'baseline']] : []), [version, 'release']];
      for (const [v, role] of watches) {
        try {
          await deps.watch.watch(fn, v, deploymentId, role);
        } catch (err) {
          deps.log.warn(`pre-traffic hook: could not write the telemetry watch item of the ${role === 'release' ? 'new' : 'old'} version; the fast signal is ${role === 'release' ? 'missing' : 'judged without its baseline'} for this release`, { deploymentId, version: v, error: errorText(err) });
        }
      }
    }

    // Configuration checks run once: a missing key or a bad URL does not flake.
    const env = await deps.functions.environment(fn, version);
    const checked = checkEnvironment(guard.configChecks, env);
    const reach = await Promise.all(checked.reachability.map(async (t) => judgeReachability(t, await deps.http(t.url, t.timeoutMs, guard.reachabilityChecker))));
    configChecks = [...checked.results, ...reach];

    // Probes run even when a configuration check failed: their results tell the operator more.
    const probed = await Promise.all(guard.probes.map((p) => probeWithRetries(deps.functions, fn, version, p, deps.now, PRE_TRAFFIC_PROBE_ATTEMPTS)));
    probes = probed.map((p) => p.verdict);
    if (guard.telemetry && deps.watch && deps.probeCounts) {
      // Counted by the extension since the watch began, so recorded for the watchdog to take off.
      try {
        await deps.probeCounts.recordProbes(deploymentId, [tallyProbes(version, probed.flatMap((p) => p.attempts.map((a) => a.judgement)))]);
      } catch (err) {
        deps.log.warn("pre-traffic hook: could not record the probes' invocations; the fast signal counts them as user traffic", { deploymentId, error: errorText(err) });
      }
    }

    // Every attempt is published, passed or failed, so the probes layer counts them all.
    const t = deps.now();
    const points: Datapoint[] = [
      ...configChecks.map((c) => point(METRIC.configCheckFailure, fn, version, c.passed ? 0 : 1, 'Count', t)),
      ...probed.flatMap((p) =>
        p.attempts.flatMap((a) => [
          point(METRIC.probeFailure, fn, version, a.judgement.passed ? 0 : 1, 'Count', a.at),
          point(METRIC.probeLatency, fn, version, a.judgement.latencyMs, 'Milliseconds', a.at),
        ]),
      ),
    ];
    if (points.length) await deps.metrics.publish(config.namespace, points);

    reasons.push(
      ...configChecks.filter((c) => !c.passed).map((c) => `config: ${c.message}`),
      ...probes.filter((p) => !p.passed).map((p) => `probe ${p.probe}: ${p.failures.join('; ')}${p.attempts > 1 ? ` (${p.attempts} of ${p.attempts} attempts failed)` : ''}`),
    );
    // A deployment the watchdog could not find must not shift traffic, so a failed write fails
    // the hook. Shadow mode lets a failing release through, so it records the shift as well.
    if (reasons.length === 0 || shadow) await recordShift();
  } catch (err) {
    reasons.push(`pre-traffic hook error: ${errorText(err)}`);
  }
  if (shadow && !shiftRecorded) {
    try {
      await recordShift();
    } catch (err) {
      deps.log.warn('pre-traffic hook (shadow): could not record the traffic shift; the watchdog finds the deployment by listing', { deploymentId, error: errorText(err) });
    }
  }
  const enforced = reasons.length ? 'Failed' : 'Succeeded';
  const own: Answer = {
    status: shadow ? 'Succeeded' : enforced,
    reasons,
    configChecks,
    probes,
    ...(shadow && enforced === 'Failed' ? { wouldHave: 'Failed' as const } : {}),
  };
  return answer(deps, deploymentId, hookExecutionId, await settle(deps, deploymentId, hookExecutionId, own, shadow));
}

/** An answer stored by an earlier run of the same hook execution, given again. */
function replay(prior: PreTrafficOutcome, shadow: boolean): Answer {
  return {
    status: prior.status,
    reasons: [...prior.reasons],
    configChecks: [],
    probes: [],
    // In shadow mode a Succeeded answer with reasons is one that enforce mode would have failed.
    ...(shadow && prior.status === 'Succeeded' && prior.reasons.length ? { wouldHave: 'Failed' as const } : {}),
    duplicate: true,
    note: 'repeated invocation of a hook execution already answered: the earlier answer, given again without running the checks',
  };
}

/**
 * Store this run's answer unless a concurrent run of the same hook execution stored one first,
 * in which case that one is given: both runs then report the same status. A failed write is a
 * warning only: the stored answer serves repeated invocations, and CodeDeploy keeps the first
 * report of a hook execution anyway.
 */
async function settle(deps: PreTrafficDeps, deploymentId: string, hookExecutionId: string, own: Answer, shadow: boolean): Promise<Answer> {
  const outcome: PreTrafficOutcome = { hookExecutionId, status: own.status, reasons: own.reasons };
  try {
    if (await deps.state.updateIfAbsent(deploymentId, 'preTraffic', { preTraffic: outcome })) return own;
    const stored = (await deps.state.get([deploymentId])).get(deploymentId)?.preTraffic;
    if (stored?.hookExecutionId === hookExecutionId) return replay(stored, shadow);
    // An answer for another hook execution is replaced by this one's.
    await deps.state.update(deploymentId, { preTraffic: outcome });
  } catch (err) {
    deps.log.warn('pre-traffic hook: could not store its answer for repeated invocations', { deploymentId, error: errorText(err) });
  }
  return own;
}

/** Report the answer; "already completed" means an earlier invocation reported it: done. */
async function answer(deps: PreTrafficDeps, deploymentId: string, hookExecutionId: string, a: Answer): Promise<PreTrafficResult> {
  const { status, reasons, configChecks, probes } = a;
  const flags = {
    ...(a.wouldHave ? { wouldHave: a.wouldHave } : {}),
    ...(a.rollback ? { rollback: a.rollback } : {}),
    ...(a.duplicate ? { duplicate: a.duplicate } : {}),
  };
  let reportResult: 'ok' | 'already-reported';
  try {
    reportResult = await deps.actions.reportHook(deploymentId, hookExecutionId, status);
  } catch (err) {
    deps.log.error('pre-traffic hook: could not report status', { deploymentId, status, error: errorText(err) });
    return { deploymentId, status: 'unreported', reasons: [...reasons, `report failed: ${errorText(err)}`], configChecks, probes, ...flags };
  }
  const level = status === 'Failed' ? 'error' : a.wouldHave ? 'warn' : 'info';
  deps.log[level]('pre-traffic hook', {
    record: { type: 'canary-watchdog.pre-traffic', deploymentId, status, reasons, configChecks, probes, ...flags, ...(a.note ? { note: a.note } : {}), reportResult },
  });
  return { deploymentId, status, reasons, configChecks, probes, ...flags };
}

export function findGuard(config: WatchdogConfig, application: string, deploymentGroup: string): GuardConfig {
  const g = config.guards.find((x) => x.application === application && x.deploymentGroup === deploymentGroup);
  if (!g) {
    throw new Error(
      `deployment group ${application}/${deploymentGroup} is not in the watchdog's configuration ` +
        `(guarded: ${config.guards.map((x) => `${x.application}/${x.deploymentGroup}`).join(', ') || 'none'})`,
    );
  }
  return g;
}

export function point(metricName: string, functionName: string, version: string, value: number, unit: Datapoint['unit'], timestamp: number): Datapoint {
  return { metricName, dimensions: { FunctionName: functionName, Version: version }, value, unit, timestamp, storageResolution: 1 };
}
