import { METRIC, type WatchdogConfig } from '../core/config';
import type { Datapoint, DeploymentPort, FunctionPort, MetricsPort, ProbeCountPort, RegistryPort } from '../aws/ports';
import { errorText, mapLimit } from '../aws/util';
import { currentConfig, discover, type ConfigSource } from './discover';
import { point } from './pre-traffic';
import { probeOnce, tallyProbes, type ProbeOutcome } from './probing';
import type { Log } from './watchdog';

export interface ProberDeps {
  readonly config: WatchdogConfig;
  /** Where the configuration was read, to read it again for a deployment that began after that. */
  readonly configSource?: ConfigSource;
  readonly deployments: DeploymentPort;
  /** The watchdog's registry of active deployments, read only; without it every group is listed. */
  readonly registry?: RegistryPort;
  readonly functions: FunctionPort;
  readonly metrics: MetricsPort;
  /** Where each round's probe invocations are recorded, so that the fast signal does not count them. */
  readonly probeCounts?: ProbeCountPort;
  readonly log: Log;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface ProberOptions {
  /** Probe rounds per invocation. EventBridge schedules run at most once a minute, so one
   * invocation probes several times. @default 6 */
  readonly rounds: number;
  /** Pause between rounds, ms. @default 10000 (6 rounds cover a minute) */
  readonly intervalMs: number;
}

export const DEFAULT_PROBER_OPTIONS: ProberOptions = { rounds: 6, intervalMs: 10_000 };

/**
 * A round's probe invocations of each telemetry-guarded deployment, per version, into its probe
 * record: one UpdateItem per deployment and round, right after the round, so that the watchdog
 * takes them off the telemetry counts within seconds of the extension's writes. A failed write is
 * an error of the run (those probes then count as user traffic), never a reason to stop probing.
 */
async function recordRound(results: readonly { deploymentId: string; telemetry: boolean; version: string; j: ProbeOutcome }[], deps: ProberDeps, errors: string[]): Promise<void> {
  if (!deps.probeCounts) return;
  const byDeployment = new Map<string, Map<string, ProbeOutcome[]>>();
  for (const r of results.filter((x) => x.telemetry)) {
    const versions = byDeployment.get(r.deploymentId) ?? new Map<string, ProbeOutcome[]>();
    versions.set(r.version, [...(versions.get(r.version) ?? []), r.j]);
    byDeployment.set(r.deploymentId, versions);
  }
  await mapLimit([...byDeployment], INVOKE_CONCURRENCY, async ([id, versions]) => {
    try {
      await deps.probeCounts!.recordProbes(id, [...versions].map(([v, outcomes]) => tallyProbes(v, outcomes)));
    } catch (err) {
      errors.push(`probe record ${id}: ${errorText(err)}`);
    }
  });
}
const INVOKE_CONCURRENCY = 10;

export interface ProberRun {
  readonly rounds: number;
  readonly invocations: number;
  readonly failures: number;
  readonly errors: readonly string[];
}

/**
 * During in-progress deployments, invoke the new version, and the old one for comparison, with
 * every declared probe, and publish high-resolution (1-second storage) probe metrics per
 * function and version.
 */
export async function runProber(deps: ProberDeps, opts: ProberOptions = DEFAULT_PROBER_OPTIONS): Promise<ProberRun> {
  const guards = deps.config.guards.filter((g) => g.probes.length > 0);
  const found = await discover(guards, deps.deployments, [], deps.registry ? { registry: deps.registry, write: false, reconcile: false, now: deps.now() } : undefined);
  const errors = [...found.errors];
  for (const w of found.warnings) deps.log.warn('discovery', { warning: w });
  const current = await currentConfig(deps.config, found, deps.configSource);
  if (current.warning) deps.log.warn('configuration', { warning: current.warning });
  let invocations = 0;
  let failures = 0;
  let rounds = 0;
  if (found.active.length === 0) return { rounds, invocations, failures, errors };

  const jobs = current.active.flatMap((a) =>
    [a.appSpec.targetVersion, a.appSpec.currentVersion].flatMap((version) =>
      a.guard.probes.map((probe) => ({ deploymentId: a.info.deploymentId, telemetry: a.guard.telemetry === true, fn: a.appSpec.functionName, version, probe })),
    ),
  );
  for (let r = 0; r < opts.rounds; r++) {
    if (r > 0) await deps.sleep(opts.intervalMs);
    rounds++;
    const results: { deploymentId: string; telemetry: boolean; fn: string; version: string; at: number; j: ProbeOutcome }[] = await mapLimit(jobs, INVOKE_CONCURRENCY, async (job) => {
      const at = deps.now();
      return { deploymentId: job.deploymentId, telemetry: job.telemetry, fn: job.fn, version: job.version, at, j: await probeOnce(deps.functions, job.fn, job.version, job.probe, deps.now) };
    });
    await recordRound(results, deps, errors);
    const points: Datapoint[] = results.flatMap((x) => [
      point(METRIC.probeFailure, x.fn, x.version, x.j.passed ? 0 : 1, 'Count', x.at),
      point(METRIC.probeLatency, x.fn, x.version, x.j.latencyMs, 'Milliseconds', x.at),
    ]);
    invocations += results.length;
    for (const x of results.filter((y) => !y.j.passed)) {
      failures++;
      deps.log.warn('probe failed', { functionName: x.fn, version: x.version, probe: x.j.probe, failures: x.j.failures });
    }
    try {
      await deps.metrics.publish(current.config.namespace, points);
    } catch (err) {
      errors.push(`PutMetricData: ${errorText(err)}`);
    }
  }
  return { rounds, invocations, failures, errors };
}
