/**
 * The narrow interfaces the runtime talks to AWS through. The SDK v3 implementations live next
 * to this file; tests of the runtime drive the real SDK clients with aws-sdk-client-mock, and
 * the lab serves the same clients over loopback.
 */
import type { RolloutShape } from '../core/types';
import type { AlarmReading, MetricQuery, MetricReading, TelemetryPoint } from '../core/observe';
import type { DecisionRecord } from '../core/decision-record';
import type { EvaluationState } from '../core/types';
import type { ProbeResult } from '../core/probes';

/** A CodeDeploy deployment, as BatchGetDeployments describes it. */
export interface DeploymentInfo {
  readonly deploymentId: string;
  readonly application: string;
  readonly deploymentGroup: string;
  /** Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped. */
  readonly status: string;
  readonly createdAt: number;
  readonly deploymentConfigName: string;
  /** The AppSpec content (YAML or JSON); undefined when the revision is not an AppSpec string. */
  readonly appSpec?: string;
  /** True for the deployments CodeDeploy creates to roll back another one. */
  readonly isRollback: boolean;
}

export interface DeploymentPort {
  /** Ids of the group's deployments that have not ended. */
  listActive(application: string, deploymentGroup: string): Promise<string[]>;
  /** Describe deployments, batched (BatchGetDeployments takes up to 25 ids). */
  describe(ids: readonly string[]): Promise<DeploymentInfo[]>;
  /** The traffic shape of a deployment config, predefined or custom (cached). */
  rollout(configName: string): Promise<RolloutShape>;
}

export interface ActionPort {
  /** StopDeployment with autoRollbackEnabled. `already-ended` when it had already stopped or completed. */
  stopAndRollBack(deploymentId: string): Promise<'ok' | 'already-ended'>;
  /** PutLifecycleEventHookExecutionStatus. `already-reported` when that hook execution was already reported. */
  reportHook(deploymentId: string, hookExecutionId: string, status: 'Succeeded' | 'Failed'): Promise<'ok' | 'already-reported'>;
}

export interface AliasPort {
  /** Share of the alias's traffic going to `version` (0-1). */
  weightOf(functionName: string, alias: string, version: string): Promise<number>;
}

export interface FunctionPort {
  /** Environment variables of one published version. */
  environment(functionName: string, version: string): Promise<Record<string, string>>;
  /** Invoke one version synchronously with a JSON event. */
  invoke(functionName: string, version: string, event: unknown): Promise<ProbeResult>;
}

export interface SignalPort {
  /** DescribeAlarms in batches of 100 names; a failed batch reads as errors, never throws. */
  readAlarms(names: readonly string[]): Promise<Record<string, AlarmReading>>;
  /** GetMetricData in batches of 500 queries; a failed batch reads as errors, never throws. */
  readMetrics(queries: readonly MetricQuery[]): Promise<Record<string, MetricReading>>;
}

/** One custom datapoint: probe result, config check result or heartbeat. */
export interface Datapoint {
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit: 'Count' | 'Milliseconds';
  readonly timestamp: number;
  /** 1 for high-resolution (1-second) storage, 60 for standard. */
  readonly storageResolution: 1 | 60;
}

export interface MetricsPort {
  publish(namespace: string, points: readonly Datapoint[]): Promise<void>;
}

/** What is remembered about a deployment between invocations. */
export interface DeploymentState {
  readonly deploymentId: string;
  /** When the BeforeAllowTraffic hook reported Succeeded, epoch ms. */
  readonly trafficShiftStartedAt?: number;
  /**
   * The AfterAllowTraffic bake: its hook execution, when the hook was invoked (`startedAt`, epoch
   * ms: it must be reported within the hour), its deadline, and whether it was reported.
   */
  readonly bake?: { readonly hookExecutionId: string; readonly startedAt?: number; readonly until: number; readonly reported?: 'Succeeded' | 'Failed' };
  readonly evaluation?: EvaluationState;
  /**
   * The deployment as the BeforeAllowTraffic hook described it (status InProgress then). A steady
   * watchdog run takes it from here instead of calling BatchGetDeployments; the end of the
   * deployment reaches the watchdog as a CodeDeploy state-change event (which it describes), or
   * at the latest at the next reconciling run (RECONCILE_EVERY_MS), which describes every id.
   */
  readonly deployment?: DeploymentInfo;
  /** What the BeforeAllowTraffic hook answered, so that a duplicate invocation answers the same. */
  readonly preTraffic?: PreTrafficOutcome;
  /**
   * The watchdog's decision records that said something new (see `isNews`), oldest first, at most
   * DECISIONS_KEPT: what `canary-watchdog watch` reads, on AWS and on the lab alike.
   */
  readonly decisions?: readonly DecisionRecord[];
  /**
   * Both versions' telemetry counts at some of the watchdog's reads (core/observe.ts
   * TelemetryPoint), kept in the writes it makes anyway: the fast signal's time slices.
   */
  readonly telemetryPoints?: readonly TelemetryPoint[];
}

/** The pre-traffic hook's answer for one hook execution: the status it reported and why. */
export interface PreTrafficOutcome {
  readonly hookExecutionId: string;
  readonly status: 'Succeeded' | 'Failed';
  readonly reasons: string[];
}

/** Where the telemetry extension finds which deployment a function version's counts belong to. */
export interface WatchPort {
  /** `role` baseline: the version the release replaces, counted for comparison only (aws/telemetry.ts WatchRole). */
  watch(functionName: string, version: string, deploymentId: string, role?: 'release' | 'baseline'): Promise<void>;
}

/** Where probe invocations are recorded, so that the fast signal does not count them as user traffic (aws/telemetry.ts). */
export interface ProbeCountPort {
  recordProbes(deploymentId: string, tallies: readonly { version: string; invocations: number; errors: number }[]): Promise<void>;
}

/** One deployment's watch of its target version (the watch item `#watch#<function>#<version>`). */
export interface WatchRef {
  readonly deploymentId: string;
  readonly functionName: string;
  readonly version: string;
}

/**
 * Where the watch ends: the watchdog removes a deployment's watch item when the deployment ends,
 * and keeps the removals that failed for its next run (in the registry's item, which every run
 * reads: RegistryPort.activeDeployments returns them as `unwatch`).
 */
export interface WatchEndPort {
  /** Remove the version's watch item if it still watches the deployment; `not-watching` when it does not (or is gone). */
  unwatch(w: WatchRef): Promise<'removed' | 'not-watching'>;
  /** Keep removals to retry at the next run (`add`), forget those done (`done`). */
  retryUnwatch(add: readonly WatchRef[], done: readonly WatchRef[]): Promise<void>;
}

/**
 * Some deployments' state could not be read (their keys were still unprocessed when the time for
 * retries ran out). Their state is unknown, which is not the same as "no state yet": a caller
 * must neither treat them as new nor write over their history.
 */
export class StateReadError extends Error {
  constructor(
    message: string,
    /** The ids whose state is unknown. */
    readonly unread: readonly string[],
    /** What was read before the time ran out. */
    readonly read: ReadonlyMap<string, DeploymentState>,
  ) {
    super(message);
    this.name = 'StateReadError';
  }
}

export interface StatePort {
  /**
   * The state of each id that has an item; an id without one is absent from the map. Throws
   * StateReadError when some ids could not be read (any other error: none was read).
   */
  get(ids: readonly string[]): Promise<Map<string, DeploymentState>>;
  /** Set the given top-level fields, leaving the others as they are. */
  update(deploymentId: string, fields: Partial<Omit<DeploymentState, 'deploymentId'>>): Promise<void>;
  /**
   * Set the given fields only if the item has no `absent` field yet (a conditional write).
   * `false` when it already had one: another run wrote first, which is not an error.
   */
  updateIfAbsent(deploymentId: string, absent: keyof Omit<DeploymentState, 'deploymentId'>, fields: Partial<Omit<DeploymentState, 'deploymentId'>>): Promise<boolean>;
}

/**
 * The registry of guarded deployments that have not ended, kept in one state-table item: the
 * pre-traffic hook and deployment events add to it, the watchdog removes what ended. Discovery
 * reads it in one call instead of one ListDeployments per deployment group, and reconciles it
 * with a full listing every few minutes.
 */
export interface RegistryPort {
  /** The registered ids, when a full listing last reconciled them (epoch ms), and the watch removals to retry (WatchEndPort). */
  activeDeployments(): Promise<{ ids: string[]; reconciledAt?: number; unwatch?: WatchRef[] }>;
  /** Register ids (none is fine) and, when given, record a reconciliation time. */
  addActive(ids: readonly string[], reconciledAt?: number): Promise<void>;
  removeActive(ids: readonly string[]): Promise<void>;
}

export interface DecisionPort {
  /** Log every record; send to EventBridge those `toEvents` selects (all of them when absent). */
  publish(records: readonly DecisionRecord[], toEvents?: (r: DecisionRecord) => boolean): Promise<void>;
}
