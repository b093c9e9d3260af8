import { METRIC, type WatchdogConfig } from '../core/config';
import type { ProbeJudgement } from '../core/probes';
import type { Datapoint, DeploymentPort, FunctionPort, MetricsPort, RegistryPort } from '../aws/ports';
import { errorText, mapLimit } from '../aws/util';
import { currentConfig, discover, type ConfigSource } from './discover';
import { point } from './pre-traffic';
import { probeOnce } from './probing';
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
      a.guard.probes.map((probe) => ({ fn: a.appSpec.functionName, version, probe })),
    ),
  );
  for (let r = 0; r < opts.rounds; r++) {
    if (r > 0) await deps.sleep(opts.intervalMs);
    rounds++;
    const results: { fn: string; version: string; at: number; j: ProbeJudgement }[] = await mapLimit(jobs, INVOKE_CONCURRENCY, async (job) => {
      const at = deps.now();
      return { fn: job.fn, version: job.version, at, j: await probeOnce(deps.functions, job.fn, job.version, job.probe, deps.now) };
    });
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
