/**
 * The lab's CodeDeploy, for the Lambda compute platform: applications, deployment groups,
 * deployment configs and deployments over awsJson1_1 (camelCase fields, epoch-second
 * timestamps), with the deployment engine in ./engine.
 * https://docs.aws.amazon.com/codedeploy/latest/APIReference/Welcome.html
 */
import { parseLambdaAppSpec, type LambdaAppSpec } from 'canary-watchdog/lib/core/appspec';
import { LabError, type JsonService, type Operation } from '../kernel';
import type { CloudWatchPort, LabContext, LambdaPort } from '../ports';
import { DeploymentEngine } from './engine';
import {
  asRecord,
  name,
  optArray,
  optBool,
  optRecord,
  optString,
  optStringList,
  optTimestamp,
  type Rec,
} from './input';
import {
  DEPLOYMENT_ID,
  DEPLOYMENT_STATUSES,
  MAX_CUSTOM_CONFIGS,
  predefinedConfigs,
  ROLLBACK_EVENTS,
  shapeOfTrafficRouting,
  uuidFor,
  wireOf,
  type AlarmConfiguration,
  type Application,
  type AutoRollbackConfiguration,
  type Creator,
  type Deployment,
  type DeploymentConfig,
  type DeploymentGroup,
  type RollbackEvent,
  type TimelineEntry,
} from './model';

export { DeploymentEngine, HOOK_TIMEOUT_MS, shiftOffsets } from './engine';
export type { Deployment, TimelineEntry } from './model';

export interface CodeDeployLabOptions {
  /**
   * Seconds between two polls of a deployment group's alarms. AWS does not publish the
   * interval (one public report observed about 2 minutes); the lab polls every minute, the
   * cadence at which CloudWatch evaluates a standard alarm, so a rehearsal shows the earliest
   * stop CodeDeploy could plausibly make. Raise it to 120 to rehearse the slower observation.
   * @default 60
   */
  readonly alarmPollSeconds?: number;
}

/** At most 10 alarms per deployment group. https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_AlarmConfiguration.html */
export const MAX_ALARMS = 10;
/** BatchGetDeployments takes at most 25 ids. https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_BatchGetDeployments.html */
export const MAX_BATCH_DEPLOYMENTS = 25;
/** Page size of the List* operations (AWS does not document it; 100 keeps pagination exercised). */
export const LIST_PAGE_SIZE = 100;
/** Default config of a Lambda group that names none (AWS's default is a Server config, which the lab lacks). */
export const DEFAULT_LAMBDA_CONFIG = 'CodeDeployDefault.LambdaAllAtOnce';

/** One page of a list operation: `nextToken` is the base64 of the next offset, issued only by the lab. */
function pageOf<T>(input: Rec, all: readonly T[]): { items: T[]; nextToken?: string } {
  const token = optString(input, 'nextToken');
  let offset = 0;
  if (token !== undefined) {
    const m = /^lab-page-(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!m) throw new LabError('InvalidNextTokenException', `nextToken: ${JSON.stringify(token)} was not issued by this service`);
    offset = Number(m[1]);
  }
  const next = offset + LIST_PAGE_SIZE < all.length ? Buffer.from(`lab-page-${offset + LIST_PAGE_SIZE}`).toString('base64') : undefined;
  return { items: all.slice(offset, offset + LIST_PAGE_SIZE), ...(next ? { nextToken: next } : {}) };
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export class CodeDeployLab {
  readonly service: JsonService;
  private readonly applications = new Map<string, Application>();
  private readonly groups = new Map<string, DeploymentGroup>();
  private readonly configs = new Map<string, DeploymentConfig>();
  private readonly engine: DeploymentEngine;

  constructor(
    private readonly ctx: LabContext,
    lambda: LambdaPort,
    cloudwatch: CloudWatchPort,
    opts: CodeDeployLabOptions = {},
  ) {
    const poll = opts.alarmPollSeconds ?? 60;
    if (!(poll > 0) || !Number.isFinite(poll)) throw new Error(`CodeDeployLab: alarmPollSeconds must be a positive number, got ${poll}`);
    this.engine = new DeploymentEngine(ctx, lambda, cloudwatch, poll * 1000);
    for (const c of predefinedConfigs()) this.configs.set(c.deploymentConfigName, c);
    const ops: Record<string, Operation> = {
      CreateApplication: (i) => this.createApplication(i),
      GetApplication: (i) => this.getApplication(i),
      CreateDeploymentGroup: (i) => this.createDeploymentGroup(i),
      GetDeploymentGroup: (i) => this.getDeploymentGroup(i),
      UpdateDeploymentGroup: (i) => this.updateDeploymentGroup(i),
      ListApplications: (i) => this.listApplications(i),
      ListDeploymentGroups: (i) => this.listDeploymentGroups(i),
      ListDeploymentConfigs: (i) => this.listDeploymentConfigs(i),
      CreateDeploymentConfig: (i) => this.createDeploymentConfig(i),
      GetDeploymentConfig: (i) => this.getDeploymentConfig(i),
      CreateDeployment: (i) => this.createDeployment(i),
      GetDeployment: (i) => this.getDeployment(i),
      BatchGetDeployments: (i) => this.batchGetDeployments(i),
      ListDeployments: (i) => this.listDeployments(i),
      StopDeployment: (i) => this.stopDeployment(i),
      PutLifecycleEventHookExecutionStatus: (i) => this.putLifecycleEventHookExecutionStatus(i),
    };
    this.service = { name: 'CodeDeploy', targetPrefix: 'CodeDeploy_20141006', operations: ops };
  }

  // ---- for the lab's control API and reports ---------------------------------------------

  /**
   * Start a deployment of `appSpecContent` (YAML or JSON) in a group; returns its id. The state
   * change events are published right after, in order.
   */
  createDeploymentFor(application: string, group: string, appSpecContent: string, creator: Creator = 'user'): string {
    const d = this.startDeployment({ applicationName: application, deploymentGroupName: group, revisionType: 'AppSpecContent', content: appSpecContent, creator });
    // A failing event listener is the listener's problem, not the caller's.
    this.engine.flush().catch(() => undefined);
    return d.deploymentId;
  }

  /** Every deployment, oldest first, as GetDeployment describes it. */
  deployments(): Record<string, unknown>[] {
    return this.engine.all().map((d) => this.info(d));
  }

  /** The application and deployment group of a deployment (what IAM authorizes its calls on). */
  deploymentGroupOf(deploymentId: string): { application: string; group: string } | undefined {
    const d = this.engine.all().find((x) => x.deploymentId === deploymentId);
    return d && { application: d.applicationName, group: d.deploymentGroupName };
  }

  /** Every deployment group, by application and group name. */
  deploymentGroups(): { applicationName: string; deploymentGroupName: string }[] {
    return [...this.groups.values()].map((g) => ({ applicationName: g.applicationName, deploymentGroupName: g.deploymentGroupName }));
  }

  /** What happened to a deployment, in order (weights, hook results, alarm polls, stop reason). */
  timeline(deploymentId: string): readonly TimelineEntry[] {
    return [...this.deployment(deploymentId).timeline];
  }

  // ---- applications ------------------------------------------------------------------------

  private createApplication(input: Rec) {
    const applicationName = name(input, 'applicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
    const platform = optString(input, 'computePlatform');
    if (platform !== 'Lambda') {
      throw new LabError(
        'InvalidComputePlatformException',
        `computePlatform: the lab emulates only the Lambda compute platform, got ${platform === undefined ? 'none (AWS would default to Server)' : JSON.stringify(platform)}`,
      );
    }
    if (this.applications.has(applicationName)) throw new LabError('ApplicationAlreadyExistsException', `An application with the name ${applicationName} already exists.`);
    const app: Application = { applicationId: uuidFor(`application:${applicationName}`), applicationName, createTime: this.ctx.scheduler.now(), computePlatform: 'Lambda' };
    this.applications.set(applicationName, app);
    return { applicationId: app.applicationId };
  }

  private getApplication(input: Rec) {
    const app = this.application(input);
    return {
      application: { applicationId: app.applicationId, applicationName: app.applicationName, createTime: seconds(app.createTime), linkedToGitHub: false, computePlatform: app.computePlatform },
    };
  }

  /**
   * ListApplications: names in creation order, a page at a time.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_ListApplications.html
   */
  private listApplications(input: Rec) {
    const { items, nextToken } = pageOf(input, [...this.applications.keys()]);
    return { applications: items, nextToken };
  }

  private application(input: Rec): Application {
    const applicationName = name(input, 'applicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
    const app = this.applications.get(applicationName);
    if (!app) throw new LabError('ApplicationDoesNotExistException', `No application found for name: ${applicationName}`);
    return app;
  }

  // ---- deployment groups ---------------------------------------------------------------------

  private createDeploymentGroup(input: Rec) {
    const app = this.application(input);
    const deploymentGroupName = name(input, 'deploymentGroupName', 'DeploymentGroupNameRequiredException', 'InvalidDeploymentGroupNameException');
    const serviceRoleArn = optString(input, 'serviceRoleArn');
    const deploymentConfigName = this.configName(input, 'deploymentConfigName') ?? DEFAULT_LAMBDA_CONFIG;
    const alarmConfiguration = alarmConfigurationOf(optRecord(input, 'alarmConfiguration'));
    const autoRollbackConfiguration = autoRollbackOf(optRecord(input, 'autoRollbackConfiguration'));
    const style = optRecord(input, 'deploymentStyle');
    if (style) {
      // Lambda deployments are blue/green with traffic control.
      // https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentStyle.html
      const type = optString(style, 'deploymentType', 'deploymentStyle.deploymentType');
      const option = optString(style, 'deploymentOption', 'deploymentStyle.deploymentOption');
      if ((type !== undefined && type !== 'BLUE_GREEN') || (option !== undefined && option !== 'WITH_TRAFFIC_CONTROL')) {
        throw new LabError('InvalidDeploymentStyleException', `deploymentStyle: a Lambda deployment group must be BLUE_GREEN with WITH_TRAFFIC_CONTROL, got ${JSON.stringify(style)}`);
      }
    }
    const key = groupKey(app.applicationName, deploymentGroupName);
    if (this.groups.has(key)) throw new LabError('DeploymentGroupAlreadyExistsException', `A deployment group with the name ${deploymentGroupName} already exists for application ${app.applicationName}.`);
    const group: DeploymentGroup = {
      applicationName: app.applicationName,
      deploymentGroupId: uuidFor(`group:${key}`),
      deploymentGroupName,
      deploymentConfigName,
      serviceRoleArn,
      alarmConfiguration,
      autoRollbackConfiguration,
    };
    this.groups.set(key, group);
    return { deploymentGroupId: group.deploymentGroupId };
  }

  private getDeploymentGroup(input: Rec) {
    const g = this.group(input);
    return {
      deploymentGroupInfo: {
        applicationName: g.applicationName,
        deploymentGroupId: g.deploymentGroupId,
        deploymentGroupName: g.deploymentGroupName,
        deploymentConfigName: g.deploymentConfigName,
        serviceRoleArn: g.serviceRoleArn,
        alarmConfiguration: g.alarmConfiguration,
        autoRollbackConfiguration: g.autoRollbackConfiguration,
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        computePlatform: 'Lambda',
        ...this.groupHistory(g),
      },
    };
  }

  /**
   * A group's last attempted and last successful deployments, and its target revision (the one its
   * last successful deployment installed). https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_LastDeploymentInfo.html
   */
  private groupHistory(g: DeploymentGroup): Record<string, unknown> {
    const mine = this.engine.all().filter((d) => d.applicationName === g.applicationName && d.deploymentGroupName === g.deploymentGroupName);
    const last = (d: Deployment | undefined) =>
      d && { deploymentId: d.deploymentId, status: d.status, ...(d.completeTime !== undefined ? { endTime: seconds(d.completeTime) } : {}), createTime: seconds(d.createTime) };
    const succeeded = mine.filter((d) => d.status === 'Succeeded').at(-1);
    return {
      ...(succeeded ? { targetRevision: revisionOut(succeeded) } : {}),
      ...(succeeded ? { lastSuccessfulDeployment: last(succeeded) } : {}),
      ...(mine.length ? { lastAttemptedDeployment: last(mine.at(-1)) } : {}),
    };
  }

  /**
   * The alarm and rollback settings of a group, and its deployment config; deployments already
   * created keep what they were created with.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_UpdateDeploymentGroup.html
   */
  private updateDeploymentGroup(input: Rec) {
    const g = this.group({ ...input, deploymentGroupName: input.currentDeploymentGroupName });
    const alarms = optRecord(input, 'alarmConfiguration');
    const rollback = optRecord(input, 'autoRollbackConfiguration');
    const config = this.configName(input, 'deploymentConfigName');
    const updated: DeploymentGroup = {
      ...g,
      ...(alarms ? { alarmConfiguration: alarmConfigurationOf(alarms) } : {}),
      ...(rollback ? { autoRollbackConfiguration: autoRollbackOf(rollback) } : {}),
      ...(config ? { deploymentConfigName: config } : {}),
    };
    this.groups.set(groupKey(g.applicationName, g.deploymentGroupName), updated);
    return { hooksNotCleanedUp: [] };
  }

  private listDeploymentGroups(input: Rec) {
    const app = this.application(input);
    const names = [...this.groups.values()].filter((g) => g.applicationName === app.applicationName).map((g) => g.deploymentGroupName);
    const { items, nextToken } = pageOf(input, names);
    return { applicationName: app.applicationName, deploymentGroups: items, nextToken };
  }

  private group(input: Rec): DeploymentGroup {
    const app = this.application(input);
    const deploymentGroupName = name(input, 'deploymentGroupName', 'DeploymentGroupNameRequiredException', 'InvalidDeploymentGroupNameException');
    const g = this.groups.get(groupKey(app.applicationName, deploymentGroupName));
    if (!g) throw new LabError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${deploymentGroupName}`);
    return g;
  }

  // ---- deployment configs --------------------------------------------------------------------

  /** An optional config name that must name an existing config. */
  private configName(input: Rec, field: string): string | undefined {
    const v = optString(input, field);
    if (v === undefined) return undefined;
    if (v === '' || v.length > 100) throw new LabError('InvalidDeploymentConfigNameException', `${field}: expected 1-100 characters, got ${JSON.stringify(v)}`);
    if (!this.configs.has(v)) throw new LabError('DeploymentConfigDoesNotExistException', `No deployment configuration found for name: ${v}`);
    return v;
  }

  private createDeploymentConfig(input: Rec) {
    const deploymentConfigName = name(input, 'deploymentConfigName', 'DeploymentConfigNameRequiredException', 'InvalidDeploymentConfigNameException');
    const platform = optString(input, 'computePlatform');
    if (platform !== 'Lambda') throw new LabError('InvalidComputePlatformException', `computePlatform: the lab emulates only Lambda deployment configs, got ${JSON.stringify(platform ?? null)}`);
    if (optRecord(input, 'minimumHealthyHosts')) throw new LabError('InvalidMinimumHealthyHostValueException', 'minimumHealthyHosts: not used by Lambda deployment configs');
    const shape = shapeOfTrafficRouting(optRecord(input, 'trafficRoutingConfig'), deploymentConfigName);
    if (this.configs.has(deploymentConfigName)) throw new LabError('DeploymentConfigAlreadyExistsException', `A deployment configuration with the name ${deploymentConfigName} already exists.`);
    const custom = [...this.configs.values()].filter((c) => !c.predefined).length;
    if (custom >= MAX_CUSTOM_CONFIGS) throw new LabError('DeploymentConfigLimitExceededException', `The account already has ${custom} custom deployment configurations, the maximum.`);
    const config: DeploymentConfig = {
      deploymentConfigId: uuidFor(`config:${deploymentConfigName}`),
      deploymentConfigName,
      createTime: this.ctx.scheduler.now(),
      trafficRoutingConfig: wireOf(shape),
      shape,
      predefined: false,
    };
    this.configs.set(deploymentConfigName, config);
    return { deploymentConfigId: config.deploymentConfigId };
  }

  /**
   * ListDeploymentConfigs: the predefined Lambda configs, then the custom ones in creation order.
   * AWS also lists its Server and ECS configs; the lab models only the Lambda platform.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_ListDeploymentConfigs.html
   */
  private listDeploymentConfigs(input: Rec) {
    const { items, nextToken } = pageOf(input, [...this.configs.keys()]);
    return { deploymentConfigsList: items, nextToken };
  }

  private getDeploymentConfig(input: Rec) {
    const n = name(input, 'deploymentConfigName', 'DeploymentConfigNameRequiredException', 'InvalidDeploymentConfigNameException');
    const c = this.configs.get(n);
    if (!c) throw new LabError('DeploymentConfigDoesNotExistException', `No deployment configuration found for name: ${n}`);
    return {
      deploymentConfigInfo: {
        deploymentConfigId: c.deploymentConfigId,
        deploymentConfigName: c.deploymentConfigName,
        createTime: seconds(c.createTime),
        computePlatform: 'Lambda',
        trafficRoutingConfig: c.trafficRoutingConfig,
      },
    };
  }

  // ---- deployments -------------------------------------------------------------------------

  private async createDeployment(input: Rec) {
    const revision = optRecord(input, 'revision');
    if (!revision) throw new LabError('RevisionRequiredException', 'revision is required');
    const revisionType = optString(revision, 'revisionType', 'revision.revisionType');
    let content: string | undefined;
    if (revisionType === 'AppSpecContent' || revisionType === 'String') {
      const field = revisionType === 'AppSpecContent' ? 'appSpecContent' : 'string';
      const body = optRecord(revision, field, `revision.${field}`);
      content = body && optString(body, 'content', `revision.${field}.content`);
      if (!content) throw new LabError('InvalidRevisionException', `revision.${field}.content is required when revisionType is ${revisionType}`);
    } else {
      throw new LabError('InvalidRevisionException', `revision.revisionType: the lab accepts AppSpecContent (or String) for Lambda, got ${JSON.stringify(revisionType ?? null)}`);
    }
    const description = optString(input, 'description');
    if (description !== undefined && description.length > 100) throw new LabError('DescriptionTooLongException', `description: at most 100 characters, got ${description.length}`);
    const d = this.startDeployment({
      applicationName: input.applicationName,
      deploymentGroupName: input.deploymentGroupName,
      deploymentConfigName: input.deploymentConfigName,
      autoRollbackConfiguration: input.autoRollbackConfiguration,
      revisionType,
      content,
      description,
      creator: 'user',
    });
    await this.engine.flush();
    return { deploymentId: d.deploymentId };
  }

  /** Validate everything, then create: a rejected request leaves no trace. */
  private startDeployment(req: {
    applicationName: unknown;
    deploymentGroupName: unknown;
    deploymentConfigName?: unknown;
    autoRollbackConfiguration?: unknown;
    revisionType: 'AppSpecContent' | 'String';
    content: string;
    description?: string;
    creator: Creator;
  }): Deployment {
    const g = this.group({ applicationName: req.applicationName, deploymentGroupName: req.deploymentGroupName });
    const configName = this.configName({ deploymentConfigName: req.deploymentConfigName }, 'deploymentConfigName') ?? g.deploymentConfigName;
    const rollbackOverride = req.autoRollbackConfiguration === undefined || req.autoRollbackConfiguration === null ? undefined : autoRollbackOf(asRecord(req.autoRollbackConfiguration, 'autoRollbackConfiguration'));
    let appSpec: LambdaAppSpec;
    try {
      appSpec = parseLambdaAppSpec(req.content);
    } catch (err) {
      throw new LabError('InvalidRevisionException', `revision: ${(err as Error).message}`);
    }
    const active = this.engine.activeIn(g.applicationName, g.deploymentGroupName);
    if (active) {
      // One deployment in progress per deployment group.
      // https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html
      throw new LabError(
        'DeploymentLimitExceededException',
        `The deployment group ${g.applicationName}/${g.deploymentGroupName} already has an active deployment: ${active.deploymentId} is a conflicting deployment in progress.`,
      );
    }
    return this.engine.create({
      applicationName: g.applicationName,
      deploymentGroupName: g.deploymentGroupName,
      deploymentGroupId: g.deploymentGroupId,
      deploymentConfigName: configName,
      shape: this.configs.get(configName)!.shape,
      creator: req.creator,
      description: req.description,
      revisionType: req.revisionType,
      content: req.content,
      appSpec,
      alarmConfiguration: g.alarmConfiguration,
      autoRollbackConfiguration: rollbackOverride ?? g.autoRollbackConfiguration,
    });
  }

  private deploymentIdOf(input: Rec, field = 'deploymentId'): string {
    const id = optString(input, field);
    if (id === undefined || id === '') throw new LabError('DeploymentIdRequiredException', `${field} is required`);
    if (!DEPLOYMENT_ID.test(id)) throw new LabError('InvalidDeploymentIdException', `${field}: ${JSON.stringify(id)} is not a deployment id (d- and nine letters or digits)`);
    return id;
  }

  private deployment(id: string): Deployment {
    const d = this.engine.get(id);
    if (!d) throw new LabError('DeploymentDoesNotExistException', `Deployment ${id} does not exist`);
    return d;
  }

  private getDeployment(input: Rec) {
    return { deploymentInfo: this.info(this.deployment(this.deploymentIdOf(input))) };
  }

  private batchGetDeployments(input: Rec) {
    const ids = optStringList(input, 'deploymentIds');
    if (!ids || ids.length === 0) throw new LabError('DeploymentIdRequiredException', 'deploymentIds is required');
    if (ids.length > MAX_BATCH_DEPLOYMENTS) throw new LabError('BatchLimitExceededException', `deploymentIds: at most ${MAX_BATCH_DEPLOYMENTS} ids, got ${ids.length}`);
    for (const [i, id] of ids.entries()) {
      if (!DEPLOYMENT_ID.test(id)) throw new LabError('InvalidDeploymentIdException', `deploymentIds[${i}]: ${JSON.stringify(id)} is not a deployment id`);
    }
    // Unknown ids are left out of the answer.
    const found = ids.map((id) => this.engine.get(id)).filter((d): d is Deployment => d !== undefined);
    return { deploymentsInfo: found.map((d) => this.info(d)) };
  }

  private listDeployments(input: Rec) {
    const appName = optString(input, 'applicationName');
    const groupName = optString(input, 'deploymentGroupName');
    let scope: DeploymentGroup | undefined;
    if (groupName !== undefined && appName === undefined) throw new LabError('ApplicationNameRequiredException', 'applicationName is required when deploymentGroupName is given');
    if (appName !== undefined) {
      if (groupName === undefined) throw new LabError('DeploymentGroupNameRequiredException', 'deploymentGroupName is required when applicationName is given');
      scope = this.group(input);
    }
    const statuses = optStringList(input, 'includeOnlyStatuses');
    for (const s of statuses ?? []) {
      if (!(DEPLOYMENT_STATUSES as readonly string[]).includes(s)) throw new LabError('InvalidDeploymentStatusException', `includeOnlyStatuses: ${JSON.stringify(s)} is not a deployment status`);
    }
    const range = optRecord(input, 'createTimeRange');
    const start = range && optTimestamp(range, 'start', 'createTimeRange.start');
    const end = range && optTimestamp(range, 'end', 'createTimeRange.end');
    if (start !== undefined && end !== undefined && start > end) throw new LabError('InvalidTimeRangeException', 'createTimeRange: start is after end');
    const matching = [...this.engine.all()]
      .reverse()
      .filter(
        (d) =>
          (!scope || (d.applicationName === scope.applicationName && d.deploymentGroupName === scope.deploymentGroupName)) &&
          (!statuses?.length || statuses.includes(d.status)) &&
          (start === undefined || d.createTime >= start) &&
          (end === undefined || d.createTime <= end),
      );
    const { items, nextToken } = pageOf(input, matching);
    return { deployments: items.map((d) => d.deploymentId), nextToken };
  }

  private async stopDeployment(input: Rec) {
    const autoRollbackEnabled = optBool(input, 'autoRollbackEnabled');
    const d = this.deployment(this.deploymentIdOf(input));
    await this.engine.stop(d, autoRollbackEnabled);
    return { status: 'Succeeded', statusMessage: `Deployment ${d.deploymentId} stopped${d.rollbackInfo?.rollbackDeploymentId ? `; rolled back by ${d.rollbackInfo.rollbackDeploymentId}` : ''}` };
  }

  private async putLifecycleEventHookExecutionStatus(input: Rec) {
    const deploymentId = this.deploymentIdOf(input);
    const executionId = optString(input, 'lifecycleEventHookExecutionId');
    if (!executionId) throw new LabError('InvalidLifecycleEventHookExecutionIdException', 'lifecycleEventHookExecutionId is required');
    const status = optString(input, 'status');
    if (status !== 'Succeeded' && status !== 'Failed') {
      throw new LabError('InvalidLifecycleEventHookExecutionStatusException', `status: only Succeeded or Failed can be reported, got ${JSON.stringify(status ?? null)}`);
    }
    const d = this.deployment(deploymentId);
    await this.engine.putHookStatus(d, executionId, status);
    return { lifecycleEventHookExecutionId: executionId };
  }

  /** GetDeployment's deploymentInfo. */
  private info(d: Deployment): Record<string, unknown> {
    const done = d.status === 'Succeeded' ? 1 : 0;
    // The revision the group's last successful deployment before this one installed.
    const all = this.engine.all();
    const previous = all
      .slice(0, all.indexOf(d))
      .filter((p) => p.applicationName === d.applicationName && p.deploymentGroupName === d.deploymentGroupName && p.status === 'Succeeded')
      .at(-1);
    return {
      applicationName: d.applicationName,
      deploymentGroupName: d.deploymentGroupName,
      deploymentConfigName: d.deploymentConfigName,
      deploymentId: d.deploymentId,
      ...(previous ? { previousRevision: revisionOut(previous) } : {}),
      revision: revisionOut(d),
      status: d.status,
      errorInformation: d.errorInformation && { ...d.errorInformation },
      createTime: seconds(d.createTime),
      startTime: seconds(d.startTime),
      completeTime: seconds(d.completeTime),
      deploymentOverview: {
        Pending: d.status === 'Created' ? 1 : 0,
        InProgress: d.status === 'InProgress' ? 1 : 0,
        Succeeded: done,
        Failed: d.status === 'Failed' ? 1 : 0,
        Skipped: d.status === 'Stopped' ? 1 : 0,
        Ready: 0,
      },
      description: d.description,
      creator: d.creator,
      // Settings of EC2/on-premises deployments, which a Lambda deployment has at their defaults.
      ignoreApplicationStopFailures: false,
      updateOutdatedInstancesOnly: false,
      instanceTerminationWaitTimeStarted: false,
      autoRollbackConfiguration: d.autoRollbackConfiguration,
      rollbackInfo: d.rollbackInfo && { ...d.rollbackInfo },
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      deploymentStatusMessages: [...d.statusMessages],
      computePlatform: 'Lambda',
    };
  }
}

/** A deployment's revision as RevisionLocation describes it. https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_RevisionLocation.html */
function revisionOut(d: Deployment): Record<string, unknown> {
  const body = { content: d.revision.content, sha256: d.revision.sha256 };
  return { revisionType: d.revision.revisionType, ...(d.revision.revisionType === 'AppSpecContent' ? { appSpecContent: body } : { string: body }) };
}

const groupKey = (app: string, group: string) => `${app}\u0000${group}`;

function alarmConfigurationOf(raw: Rec | undefined): AlarmConfiguration {
  if (!raw) return { enabled: false, ignorePollAlarmFailure: false, alarms: [] };
  const enabled = optBool(raw, 'enabled', 'alarmConfiguration.enabled') ?? false;
  const ignorePollAlarmFailure = optBool(raw, 'ignorePollAlarmFailure', 'alarmConfiguration.ignorePollAlarmFailure') ?? false;
  const list = optArray(raw, 'alarms', 'alarmConfiguration.alarms') ?? [];
  const alarms = list.map((a, i) => {
    const r = asRecord(a, `alarmConfiguration.alarms[${i}]`);
    const n = optString(r, 'name', `alarmConfiguration.alarms[${i}].name`);
    if (!n) throw new LabError('InvalidAlarmConfigException', `alarmConfiguration.alarms[${i}].name is required`);
    return { name: n };
  });
  if (alarms.length > MAX_ALARMS) throw new LabError('AlarmsLimitExceededException', `alarmConfiguration.alarms: at most ${MAX_ALARMS} alarms per deployment group, got ${alarms.length}`);
  const names = new Set(alarms.map((a) => a.name));
  if (names.size !== alarms.length) throw new LabError('InvalidAlarmConfigException', 'alarmConfiguration.alarms: an alarm is listed twice');
  return { enabled, ignorePollAlarmFailure, alarms };
}

function autoRollbackOf(raw: Rec | undefined): AutoRollbackConfiguration {
  if (!raw) return { enabled: false, events: [] };
  const enabled = optBool(raw, 'enabled', 'autoRollbackConfiguration.enabled') ?? false;
  const events = optStringList(raw, 'events', 'autoRollbackConfiguration.events') ?? [];
  for (const e of events) {
    if (!(ROLLBACK_EVENTS as readonly string[]).includes(e)) {
      throw new LabError('InvalidAutoRollbackConfigException', `autoRollbackConfiguration.events: ${JSON.stringify(e)} is not one of ${ROLLBACK_EVENTS.join(', ')}`);
    }
  }
  if (enabled && events.length === 0) throw new LabError('InvalidAutoRollbackConfigException', 'autoRollbackConfiguration: enabled needs at least one event');
  return { enabled, events: [...new Set(events)] as RollbackEvent[] };
}
