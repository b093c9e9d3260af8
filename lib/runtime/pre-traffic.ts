import { parseLambdaAppSpec } from '../core/appspec';
import { checkEnvironment, judgeReachability, type ConfigCheckResult } from '../core/config-checks';
import { METRIC, type GuardConfig, type WatchdogConfig } from '../core/config';
import type { ProbeJudgement } from '../core/probes';
import type { ActionPort, Datapoint, DeploymentPort, FunctionPort, MetricsPort, RegistryPort, StatePort } from '../aws/ports';
import { errorText } from '../aws/util';
import { parseHookEvent } from './hook-event';
import { probeOnce } from './probing';
import type { Log } from './watchdog';

/** Answers an HTTP GET within a time limit: a status, or an error such as a timeout; through the
 * guard's reachability checker function when `checker` names one. */
export type HttpCheck = (url: string, timeoutMs: number, checker?: string) => Promise<{ status?: number; error?: string; elapsedMs: number }>;

export interface PreTrafficDeps {
  readonly config: WatchdogConfig;
  readonly deployments: DeploymentPort;
  readonly functions: FunctionPort;
  readonly actions: ActionPort;
  readonly metrics: MetricsPort;
  readonly state: StatePort;
  /** Where the deployment is registered for the watchdog and the prober to find it. */
  readonly registry?: RegistryPort;
  readonly http: HttpCheck;
  readonly log: Log;
  readonly now: () => number;
}

export interface PreTrafficResult {
  readonly deploymentId?: string;
  readonly status: 'Succeeded' | 'Failed' | 'unreported';
  readonly reasons: readonly string[];
  readonly configChecks: readonly ConfigCheckResult[];
  readonly probes: readonly ProbeJudgement[];
}

/**
 * BeforeAllowTraffic: check the new version's configuration and run the probes against it
 * before any user request reaches it. Any exception, timeout or malformed event reports Failed:
 * a check that could not run is not a check that passed.
 */
export async function runPreTraffic(event: unknown, deps: PreTrafficDeps): Promise<PreTrafficResult> {
  const parsed = parseHookEvent(event);
  if ('error' in parsed) {
    // Without the ids there is nothing to report to; CodeDeploy fails the hook after one hour.
    deps.log.error('pre-traffic hook: malformed event, cannot report', { error: parsed.error });
    return { status: 'unreported', reasons: [parsed.error], configChecks: [], probes: [] };
  }
  const { deploymentId, hookExecutionId } = parsed;
  let configChecks: ConfigCheckResult[] = [];
  let probes: ProbeJudgement[] = [];
  let reasons: string[] = [];
  try {
    const [info] = await deps.deployments.describe([deploymentId]);
    if (!info) throw new Error(`deployment ${deploymentId} not found`);
    const guard = findGuard(deps.config, info.application, info.deploymentGroup);
    if (!info.appSpec) throw new Error(`deployment ${deploymentId} has no AppSpec content`);
    const appSpec = parseLambdaAppSpec(info.appSpec);
    const fn = appSpec.functionName;
    const version = appSpec.targetVersion;

    const env = await deps.functions.environment(fn, version);
    const checked = checkEnvironment(guard.configChecks, env);
    const reach = await Promise.all(checked.reachability.map(async (t) => judgeReachability(t, await deps.http(t.url, t.timeoutMs, guard.reachabilityChecker))));
    configChecks = [...checked.results, ...reach];

    // Probes run even when a configuration check failed: their results tell the operator more.
    probes = await Promise.all(guard.probes.map((p) => probeOnce(deps.functions, fn, version, p, deps.now)));

    const t = deps.now();
    const points: Datapoint[] = [
      ...configChecks.map((c) => point(METRIC.configCheckFailure, fn, version, c.passed ? 0 : 1, 'Count', t)),
      ...probes.flatMap((p) => [
        point(METRIC.probeFailure, fn, version, p.passed ? 0 : 1, 'Count', t),
        point(METRIC.probeLatency, fn, version, p.latencyMs, 'Milliseconds', t),
      ]),
    ];
    if (points.length) await deps.metrics.publish(deps.config.namespace, points);

    reasons = [
      ...configChecks.filter((c) => !c.passed).map((c) => `config: ${c.message}`),
      ...probes.filter((p) => !p.passed).map((p) => `probe ${p.probe}: ${p.failures.join('; ')}`),
    ];
    if (reasons.length === 0) {
      // Traffic shifting starts once this hook succeeds: the watchdog times the final shift from
      // here, and finds the deployment in the registry. A deployment the watchdog could not find
      // must not shift traffic, so a failed write fails the hook.
      await deps.state.update(deploymentId, { trafficShiftStartedAt: deps.now() });
      await deps.registry?.addActive([deploymentId]);
    }
  } catch (err) {
    reasons.push(`pre-traffic hook error: ${errorText(err)}`);
  }
  const status = reasons.length ? 'Failed' : 'Succeeded';
  try {
    await deps.actions.reportHook(deploymentId, hookExecutionId, status);
  } catch (err) {
    deps.log.error('pre-traffic hook: could not report status', { deploymentId, status, error: errorText(err) });
    return { deploymentId, status: 'unreported', reasons: [...reasons, `report failed: ${errorText(err)}`], configChecks, probes };
  }
  deps.log[status === 'Succeeded' ? 'info' : 'error']('pre-traffic hook', {
    record: { type: 'canary-watchdog.pre-traffic', deploymentId, status, reasons, configChecks, probes },
  });
  return { deploymentId, status, reasons, configChecks, probes };
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
