/**
 * CodeDeploy's resources as the lab keeps them (applications, deployment groups, deployment
 * configs, deployments), deterministic ids, and the deployment config rules.
 */
import { createHash } from 'node:crypto';
import type { LambdaAppSpec } from 'canary-watchdog/lib/core/appspec';
import { minutesToFinalShift, PREDEFINED_LAMBDA_CONFIGS, rolloutFromTrafficRouting } from 'canary-watchdog/lib/core/rollout';
import type { RolloutShape } from 'canary-watchdog/lib/core/types';
import { LAB_ACCOUNT, LAB_REGION, LabError } from '../kernel';

export interface Application {
  readonly applicationId: string;
  readonly applicationName: string;
  /** Epoch ms. */
  readonly createTime: number;
  readonly computePlatform: 'Lambda';
}

export interface AlarmConfiguration {
  readonly enabled: boolean;
  readonly ignorePollAlarmFailure: boolean;
  readonly alarms: readonly { readonly name: string }[];
}

export const ROLLBACK_EVENTS = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'] as const;
export type RollbackEvent = (typeof ROLLBACK_EVENTS)[number];

export interface AutoRollbackConfiguration {
  readonly enabled: boolean;
  readonly events: readonly RollbackEvent[];
}

export interface DeploymentGroup {
  readonly applicationName: string;
  readonly deploymentGroupId: string;
  readonly deploymentGroupName: string;
  readonly deploymentConfigName: string;
  readonly serviceRoleArn?: string;
  readonly alarmConfiguration: AlarmConfiguration;
  readonly autoRollbackConfiguration: AutoRollbackConfiguration;
}

/** GetDeploymentConfig's `trafficRoutingConfig`, as the wire carries it. */
export interface TrafficRoutingWire {
  readonly type: 'AllAtOnce' | 'TimeBasedCanary' | 'TimeBasedLinear';
  readonly timeBasedCanary?: { readonly canaryPercentage: number; readonly canaryInterval: number };
  readonly timeBasedLinear?: { readonly linearPercentage: number; readonly linearInterval: number };
}

export interface DeploymentConfig {
  readonly deploymentConfigId: string;
  readonly deploymentConfigName: string;
  /** Epoch ms. */
  readonly createTime: number;
  readonly trafficRoutingConfig: TrafficRoutingWire;
  readonly shape: RolloutShape;
  readonly predefined: boolean;
}

export type DeploymentStatus = 'Created' | 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
export const DEPLOYMENT_STATUSES = ['Created', 'Queued', 'InProgress', 'Baking', 'Succeeded', 'Failed', 'Stopped', 'Ready'] as const;

export type HookName = 'BeforeAllowTraffic' | 'AfterAllowTraffic';

/** One invocation of a lifecycle hook and what became of it. */
export interface HookExecution {
  readonly executionId: string;
  readonly deploymentId: string;
  readonly hook: HookName;
  readonly functionName: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped';
  readonly startTime: number;
  endTime?: number;
}

/** What happened to a deployment, in order; times are epoch ms. Rehearsal reports read this. */
export type TimelineEntry =
  | { readonly at: number; readonly type: 'status'; readonly status: DeploymentStatus; readonly message: string }
  | {
      readonly at: number;
      readonly type: 'traffic';
      /** Share of the alias's traffic on the target version, 0-1. */
      readonly targetWeight: number;
      readonly functionVersion: string;
      readonly additional?: { readonly version: string; readonly weight: number };
    }
  | {
      readonly at: number;
      readonly type: 'hook';
      readonly hook: HookName;
      readonly functionName: string;
      readonly executionId: string;
      readonly result: 'Invoked' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Skipped';
    }
  | {
      readonly at: number;
      readonly type: 'alarms';
      readonly states: Readonly<Record<string, string>>;
      readonly outcome: 'ok' | 'alarm' | 'poll-failure' | 'poll-failure-ignored';
    }
  | { readonly at: number; readonly type: 'stop'; readonly code: string; readonly message: string; readonly rollback: boolean }
  | { readonly at: number; readonly type: 'rollback'; readonly rollbackDeploymentId: string };

export type Creator = 'user' | 'autoscaling' | 'codeDeployRollback' | 'CodeDeploy' | 'CodeDeployAutoUpdate' | 'CloudFormation' | 'CloudFormationRollback';

export interface Deployment {
  readonly deploymentId: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly deploymentGroupId: string;
  readonly deploymentConfigName: string;
  readonly shape: RolloutShape;
  readonly creator: Creator;
  readonly description?: string;
  readonly revision: { readonly revisionType: 'AppSpecContent' | 'String'; readonly content: string; readonly sha256: string };
  readonly appSpec: LambdaAppSpec;
  readonly alarmConfiguration: AlarmConfiguration;
  readonly autoRollbackConfiguration: AutoRollbackConfiguration;
  status: DeploymentStatus;
  /** Epoch ms. */
  readonly createTime: number;
  startTime?: number;
  completeTime?: number;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  readonly statusMessages: string[];
  readonly timeline: TimelineEntry[];
  readonly hooks: HookExecution[];
}

/** Statuses in which a deployment holds its group (one deployment in progress per group). */
export const isActive = (d: Deployment) => d.status === 'Created' || d.status === 'InProgress';

const digest = (seed: string) => createHash('sha256').update(`canary-watchdog-lab:${seed}`).digest();

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `d-` and nine uppercase alphanumerics, derived from a counter so runs repeat exactly. */
export function deploymentIdFor(n: number): string {
  const h = digest(`deployment:${n}`);
  let s = '';
  for (let i = 0; i < 9; i++) s += ALPHANUMERIC[h[i] % ALPHANUMERIC.length];
  return `d-${s}`;
}

export const DEPLOYMENT_ID = /^d-[A-Z0-9]{9}$/;

/** A UUID-shaped id derived from a seed (application, group and config ids). */
export function uuidFor(seed: string): string {
  const h = digest(seed).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An opaque execution id, as CodeDeploy hands hooks (its real ids are long opaque strings). */
export function hookExecutionIdFor(deploymentId: string, hook: HookName, n: number): string {
  return digest(`hook:${deploymentId}:${hook}:${n}`).toString('base64url');
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const applicationArn = (app: string) => `arn:aws:codedeploy:${LAB_REGION}:${LAB_ACCOUNT}:application:${app}`;
export const deploymentGroupArn = (app: string, group: string) => `arn:aws:codedeploy:${LAB_REGION}:${LAB_ACCOUNT}:deploymentgroup:${app}/${group}`;

/**
 * Limits of a custom Lambda config: at most 99 % per increment, and at most 2,880 minutes from
 * the first traffic shift to the last.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html
 */
export const MAX_MINUTES_TO_FINAL_SHIFT = 2880;
/** Custom deployment configs per account. https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html */
export const MAX_CUSTOM_CONFIGS = 50;

export function wireOf(shape: RolloutShape): TrafficRoutingWire {
  switch (shape.type) {
    case 'all-at-once':
      return { type: 'AllAtOnce' };
    case 'canary':
      return { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: shape.percent, canaryInterval: shape.intervalMinutes } };
    case 'linear':
      return { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: shape.percent, linearInterval: shape.intervalMinutes } };
  }
}

/** The predefined Lambda configs, as GetDeploymentConfig describes them. */
export function predefinedConfigs(): DeploymentConfig[] {
  // AWS gives the predefined configs a fixed creation time; the lab uses the day Lambda support launched.
  const createTime = Date.UTC(2017, 10, 28);
  return Object.entries(PREDEFINED_LAMBDA_CONFIGS).map(([deploymentConfigName, shape]) => ({
    deploymentConfigId: uuidFor(`config:${deploymentConfigName}`),
    deploymentConfigName,
    createTime,
    trafficRoutingConfig: wireOf(shape),
    shape,
    predefined: true,
  }));
}

const badRouting = (message: string) => new LabError('InvalidTrafficRoutingConfigurationException', message);

/**
 * Validate a custom config's `trafficRoutingConfig` and turn it into a rollout shape.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_TrafficRoutingConfig.html
 */
export function shapeOfTrafficRouting(raw: Record<string, unknown> | undefined, configName: string): RolloutShape {
  if (!raw) throw badRouting('trafficRoutingConfig is required for a Lambda deployment config');
  const type = raw.type;
  if (type !== 'AllAtOnce' && type !== 'TimeBasedCanary' && type !== 'TimeBasedLinear') {
    throw badRouting(`trafficRoutingConfig.type: expected AllAtOnce, TimeBasedCanary or TimeBasedLinear, got ${JSON.stringify(type)}`);
  }
  const sub = type === 'TimeBasedCanary' ? 'timeBasedCanary' : type === 'TimeBasedLinear' ? 'timeBasedLinear' : undefined;
  if (sub) {
    const body = raw[sub];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRouting(`trafficRoutingConfig.${sub} is required when type is ${type}`);
    const prefix = sub === 'timeBasedCanary' ? 'canary' : 'linear';
    for (const f of [`${prefix}Percentage`, `${prefix}Interval`]) {
      const v = (body as Record<string, unknown>)[f];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw badRouting(`trafficRoutingConfig.${sub}.${f}: expected an integer, got ${JSON.stringify(v)}`);
    }
  }
  let shape: RolloutShape;
  try {
    shape = rolloutFromTrafficRouting(raw as Parameters<typeof rolloutFromTrafficRouting>[0], configName);
  } catch (err) {
    throw badRouting((err as Error).message);
  }
  const minutes = minutesToFinalShift(shape);
  if (minutes > MAX_MINUTES_TO_FINAL_SHIFT) {
    throw badRouting(`trafficRoutingConfig: the last traffic shift would come ${minutes} minutes after the first; CodeDeploy allows at most ${MAX_MINUTES_TO_FINAL_SHIFT}`);
  }
  return shape;
}
