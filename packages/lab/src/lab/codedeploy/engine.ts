/**
 * The life of a Lambda deployment, driven by the lab's scheduler: BeforeAllowTraffic hook,
 * traffic shifting on the alias, AfterAllowTraffic hook; alarm polling throughout; stops,
 * failures and rollbacks. State changes happen synchronously; the events they raise are
 * published afterwards, in order, so no listener ever sees a half-made change.
 */
import type { LambdaAppSpec } from 'canary-watchdog/lib/core/appspec';
import { scheduledWeight } from 'canary-watchdog/lib/core/rollout';
import type { RolloutShape } from 'canary-watchdog/lib/core/types';
import { LAB_REGION, LabError, type LabEvent } from '../kernel';
import type { AliasRouting, CloudWatchPort, LabContext, LambdaPort } from '../ports';
import {
  applicationArn,
  deploymentGroupArn,
  deploymentIdFor,
  hookExecutionIdFor,
  isActive,
  sha256,
  type Deployment,
  type DeploymentStatus,
  type HookExecution,
  type HookName,
  type RollbackEvent,
  type TimelineEntry,
} from './model';

/**
 * A lifecycle hook must report within one hour or the deployment fails.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#appspec-hooks-lambda
 */
export const HOOK_TIMEOUT_MS = 60 * 60 * 1000;

/** What a new deployment is made of: the deployment's own fields, and its revision as given. */
export type NewDeployment = Pick<
  Deployment,
  | 'applicationName'
  | 'deploymentGroupName'
  | 'deploymentGroupId'
  | 'deploymentConfigName'
  | 'shape'
  | 'creator'
  | 'description'
  | 'appSpec'
  | 'alarmConfiguration'
  | 'autoRollbackConfiguration'
> & { readonly revisionType: 'AppSpecContent' | 'String'; readonly content: string };

const EVENT_STATE: Partial<Record<DeploymentStatus, string>> = { InProgress: 'START', Succeeded: 'SUCCESS', Failed: 'FAILURE', Stopped: 'STOP' };

export class DeploymentEngine {
  private readonly byId = new Map<string, Deployment>();
  private readonly ordered: Deployment[] = [];
  private readonly executions = new Map<string, HookExecution>();
  /** Scheduled tasks of each active deployment, cancelled when it ends. */
  private readonly tasks = new Map<string, Set<number>>();
  /** The timeout task of each hook execution. */
  private readonly timeouts = new Map<string, number>();
  private readonly outbox: LabEvent[] = [];
  private counter = 0;
  private hookCounter = 0;

  constructor(
    private readonly ctx: LabContext,
    private readonly lambda: LambdaPort,
    private readonly cloudwatch: CloudWatchPort,
    private readonly alarmPollMs: number,
  ) {}

  private now(): number {
    return this.ctx.scheduler.now();
  }

  get(deploymentId: string): Deployment | undefined {
    return this.byId.get(deploymentId);
  }

  /** Every deployment, oldest first. */
  all(): readonly Deployment[] {
    return this.ordered;
  }

  activeIn(applicationName: string, deploymentGroupName: string): Deployment | undefined {
    return this.ordered.find((d) => d.applicationName === applicationName && d.deploymentGroupName === deploymentGroupName && isActive(d));
  }

  /**
   * Create a deployment and start it at once (Created, then InProgress at the same instant).
   * The events it raises wait in the outbox: call `flush`.
   */
  create(spec: NewDeployment): Deployment {
    const d = this.register(spec);
    this.start(d);
    return d;
  }

  /**
   * Stop a deployment on request. `autoRollbackEnabled` unset falls back to the deployment's
   * DEPLOYMENT_STOP_ON_REQUEST setting.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html
   */
  async stop(d: Deployment, autoRollbackEnabled: boolean | undefined): Promise<void> {
    if (!isActive(d)) throw new LabError('DeploymentAlreadyCompletedException', `Deployment ${d.deploymentId} has already completed with status ${d.status}`);
    const rollback = autoRollbackEnabled ?? this.rollbackOn(d, 'DEPLOYMENT_STOP_ON_REQUEST');
    this.end(d, 'Stopped', { code: 'MANUAL_STOP', message: 'The deployment was stopped by the user (StopDeployment).' }, rollback);
    await this.flush();
  }

  /**
   * Take a hook's report. Only Succeeded and Failed may be reported.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html
   */
  async putHookStatus(d: Deployment, executionId: string, status: 'Succeeded' | 'Failed'): Promise<void> {
    const exec = this.executions.get(executionId);
    if (!exec || exec.deploymentId !== d.deploymentId) {
      throw new LabError('InvalidLifecycleEventHookExecutionIdException', `lifecycleEventHookExecutionId ${executionId} is not a hook execution of deployment ${d.deploymentId}`);
    }
    if (exec.status !== 'InProgress') {
      throw new LabError('LifecycleEventAlreadyCompletedException', `The ${exec.hook} lifecycle event of deployment ${d.deploymentId} has already completed with status ${exec.status}`);
    }
    exec.status = status;
    exec.endTime = this.now();
    this.cancelTask(d, this.timeouts.get(executionId));
    this.timeouts.delete(executionId);
    this.record(d, { at: this.now(), type: 'hook', hook: exec.hook, functionName: exec.functionName, executionId, result: status });
    if (status === 'Failed') {
      this.end(d, 'Failed', { code: 'HOOK_EXECUTION_FAILURE', message: `The ${exec.hook} hook ${exec.functionName} reported Failed.` }, this.rollbackOn(d, 'DEPLOYMENT_FAILURE'));
    } else if (exec.hook === 'BeforeAllowTraffic') {
      this.beginShifting(d);
    } else {
      this.end(d, 'Succeeded');
    }
    await this.flush();
  }

  // ---- lifecycle -------------------------------------------------------------------------

  private register(spec: NewDeployment, rollbackOf?: Deployment): Deployment {
    let id = deploymentIdFor(++this.counter);
    while (this.byId.has(id)) id = deploymentIdFor(++this.counter);
    const now = this.now();
    const d: Deployment = {
      deploymentId: id,
      applicationName: spec.applicationName,
      deploymentGroupName: spec.deploymentGroupName,
      deploymentGroupId: spec.deploymentGroupId,
      deploymentConfigName: spec.deploymentConfigName,
      shape: spec.shape,
      creator: spec.creator,
      description: spec.description,
      revision: { revisionType: spec.revisionType, content: spec.content, sha256: sha256(spec.content) },
      appSpec: spec.appSpec,
      alarmConfiguration: spec.alarmConfiguration,
      autoRollbackConfiguration: spec.autoRollbackConfiguration,
      status: 'Created',
      createTime: now,
      statusMessages: [],
      timeline: [{ at: now, type: 'status', status: 'Created', message: rollbackOf ? `Rollback of ${rollbackOf.deploymentId}` : 'Deployment created' }],
      hooks: [],
    };
    this.byId.set(id, d);
    this.ordered.push(d);
    this.tasks.set(id, new Set());
    return d;
  }

  private start(d: Deployment): void {
    this.transition(d, 'InProgress', 'Deployment in progress');
    const problem = this.checkLambda(d, true);
    if (problem) {
      this.end(d, 'Failed', problem, this.rollbackOn(d, 'DEPLOYMENT_FAILURE'));
      return;
    }
    if (d.alarmConfiguration.enabled && d.alarmConfiguration.alarms.length) {
      // First poll when the deployment starts, then every alarmPollMs while it runs.
      this.poll(d);
      if (!isActive(d)) return;
    }
    const before = d.appSpec.hooks.beforeAllowTraffic;
    if (before) this.invokeHook(d, 'BeforeAllowTraffic', before);
    else this.beginShifting(d);
  }

  /** Refuse a deployment whose function, versions or alias do not match the AppSpec. */
  private checkLambda(d: Deployment, checkAlias: boolean): { code: string; message: string } | undefined {
    const { functionName: fn, alias, currentVersion, targetVersion } = d.appSpec;
    if (!this.lambda.functionExists(fn)) return { code: 'INVALID_LAMBDA_FUNCTION', message: `The Lambda function ${fn} in the AppSpec does not exist.` };
    for (const v of [currentVersion, targetVersion]) {
      if (!this.lambda.versionExists(fn, v)) return { code: 'INVALID_LAMBDA_CONFIGURATION', message: `Version ${v} of Lambda function ${fn} does not exist.` };
    }
    const routing = this.lambda.getAlias(fn, alias);
    if (!routing) return { code: 'INVALID_LAMBDA_CONFIGURATION', message: `Alias ${alias} of Lambda function ${fn} does not exist.` };
    if (checkAlias && routing.functionVersion !== currentVersion) {
      return {
        code: 'INVALID_LAMBDA_CONFIGURATION',
        message: `Alias ${fn}:${alias} points to version ${routing.functionVersion}, not to the AppSpec's CurrentVersion ${currentVersion}.`,
      };
    }
    return undefined;
  }

  private invokeHook(d: Deployment, hook: HookName, functionName: string): void {
    const at = this.now();
    const exec: HookExecution = {
      executionId: hookExecutionIdFor(d.deploymentId, hook, ++this.hookCounter),
      deploymentId: d.deploymentId,
      hook,
      functionName,
      status: 'InProgress',
      startTime: at,
    };
    this.executions.set(exec.executionId, exec);
    d.hooks.push(exec);
    this.record(d, { at, type: 'hook', hook, functionName, executionId: exec.executionId, result: 'Invoked' });
    d.statusMessages.push(`${hook}: invoked ${functionName}`);
    if (!this.lambda.functionExists(functionName)) {
      this.failHook(d, exec, 'Failed', `The ${hook} hook function ${functionName} does not exist.`);
      return;
    }
    const timeout = this.schedule(d, at + HOOK_TIMEOUT_MS, `codedeploy ${d.deploymentId} ${hook} timeout`, () => {
      if (exec.status !== 'InProgress' || !isActive(d)) return;
      this.failHook(d, exec, 'TimedOut', `The ${hook} hook ${functionName} did not report a status within one hour.`);
    });
    this.timeouts.set(exec.executionId, timeout);
    try {
      // Hooks are invoked asynchronously (InvocationType Event) with these two fields.
      // https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#appspec-hooks-lambda
      this.lambda.invokeAsync(functionName, { DeploymentId: d.deploymentId, LifecycleEventHookExecutionId: exec.executionId });
    } catch (err) {
      if (exec.status === 'InProgress' && isActive(d)) this.failHook(d, exec, 'Failed', `Invoking the ${hook} hook ${functionName} failed: ${(err as Error).message}`);
    }
  }

  private failHook(d: Deployment, exec: HookExecution, result: 'Failed' | 'TimedOut', message: string): void {
    exec.status = 'Failed';
    exec.endTime = this.now();
    this.record(d, { at: this.now(), type: 'hook', hook: exec.hook, functionName: exec.functionName, executionId: exec.executionId, result });
    const code = result === 'TimedOut' ? 'TIMEOUT' : 'HOOK_EXECUTION_FAILURE';
    this.end(d, 'Failed', { code, message }, this.rollbackOn(d, 'DEPLOYMENT_FAILURE'));
  }

  /**
   * Shift traffic on the config's timetable: a canary shifts its percentage at once and the
   * rest after the interval; a linear config shifts its percentage at the start of each
   * interval until all traffic has moved.
   * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda
   */
  private beginShifting(d: Deployment): void {
    const t0 = this.now();
    const steps = shiftOffsets(d.shape);
    const apply = (i: number) => {
      if (!isActive(d)) return;
      const weight = scheduledWeight(d.shape, steps[i] / 60_000);
      if (!this.route(d, weight)) return;
      if (i === steps.length - 1) this.afterShifting(d);
    };
    apply(0);
    for (let i = 1; i < steps.length && isActive(d); i++) {
      this.schedule(d, t0 + steps[i], `codedeploy ${d.deploymentId} shift ${i}`, () => apply(i));
    }
  }

  private afterShifting(d: Deployment): void {
    const after = d.appSpec.hooks.afterAllowTraffic;
    if (after) this.invokeHook(d, 'AfterAllowTraffic', after);
    else this.end(d, 'Succeeded');
  }

  /** Point the alias: weight 1 moves it wholly to the target, anything less splits it. */
  private route(d: Deployment, weight: number): boolean {
    const { functionName, alias, currentVersion, targetVersion } = d.appSpec;
    const routing: AliasRouting =
      weight >= 1 ? { functionVersion: targetVersion } : { functionVersion: currentVersion, additional: { version: targetVersion, weight } };
    try {
      this.lambda.setAliasRouting(functionName, alias, routing);
    } catch (err) {
      this.end(d, 'Failed', { code: 'INVALID_LAMBDA_CONFIGURATION', message: `Updating alias ${functionName}:${alias} failed: ${(err as Error).message}` }, this.rollbackOn(d, 'DEPLOYMENT_FAILURE'));
      return false;
    }
    this.record(d, { at: this.now(), type: 'traffic', targetWeight: Math.min(1, weight), ...routing });
    d.statusMessages.push(`Traffic: ${Math.round(Math.min(1, weight) * 100)}% on version ${targetVersion}`);
    return true;
  }

  /**
   * Read the group's alarms. Any alarm in ALARM stops the deployment; an alarm that cannot be
   * read stops it too unless ignorePollAlarmFailure is set. INSUFFICIENT_DATA stops nothing.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_AlarmConfiguration.html
   */
  private poll(d: Deployment): void {
    const names = d.alarmConfiguration.alarms.map((a) => a.name);
    let states: Record<string, string | undefined>;
    let readError: string | undefined;
    try {
      states = this.cloudwatch.alarmStates(names);
    } catch (err) {
      states = {};
      readError = (err as Error).message;
    }
    const seen: Record<string, string> = {};
    for (const n of names) seen[n] = states[n] ?? 'UNREADABLE';
    const inAlarm = names.filter((n) => states[n] === 'ALARM');
    const unreadable = names.filter((n) => states[n] !== 'ALARM' && states[n] !== 'OK' && states[n] !== 'INSUFFICIENT_DATA');
    const ignore = d.alarmConfiguration.ignorePollAlarmFailure;
    const outcome = inAlarm.length ? 'alarm' : unreadable.length ? (ignore ? 'poll-failure-ignored' : 'poll-failure') : 'ok';
    this.record(d, { at: this.now(), type: 'alarms', states: seen, outcome });
    if (outcome === 'alarm') {
      this.end(d, 'Stopped', { code: 'ALARM_ACTIVE', message: `The deployment was stopped because the following alarms were activated: ${inAlarm.join(', ')}.` }, this.rollbackOn(d, 'DEPLOYMENT_STOP_ON_ALARM'));
    } else if (outcome === 'poll-failure') {
      const why = readError ? `: ${readError}` : '';
      this.end(
        d,
        'Stopped',
        { code: 'ALARM_ACTIVE', message: `The deployment was stopped because the state of these alarms could not be retrieved${why}: ${unreadable.join(', ')}.` },
        this.rollbackOn(d, 'DEPLOYMENT_STOP_ON_ALARM'),
      );
    } else {
      this.schedule(d, this.now() + this.alarmPollMs, `codedeploy ${d.deploymentId} alarm poll`, () => {
        if (isActive(d)) this.poll(d);
      });
    }
  }

  private rollbackOn(d: Deployment, event: RollbackEvent): boolean {
    // A rollback deployment is never itself rolled back.
    if (d.creator === 'codeDeployRollback') return false;
    return d.autoRollbackConfiguration.enabled && d.autoRollbackConfiguration.events.includes(event);
  }

  private end(d: Deployment, status: 'Succeeded' | 'Failed' | 'Stopped', error?: { code: string; message: string }, rollback = false): void {
    if (!isActive(d)) return;
    const at = this.now();
    for (const exec of d.hooks) {
      if (exec.status !== 'InProgress') continue;
      exec.status = 'Skipped';
      exec.endTime = at;
      this.record(d, { at, type: 'hook', hook: exec.hook, functionName: exec.functionName, executionId: exec.executionId, result: 'Skipped' });
    }
    this.cancelTasks(d);
    for (const exec of d.hooks) this.timeouts.delete(exec.executionId);
    if (error) d.errorInformation = { ...error };
    if (status === 'Stopped' && error) this.record(d, { at, type: 'stop', code: error.code, message: error.message, rollback });
    this.transition(d, status, error?.message ?? 'Deployment succeeded');
    if (rollback) this.rollback(d);
  }

  /**
   * A rollback is a new deployment (creator codeDeployRollback) that returns the alias to the
   * version it pointed to before; both deployments name each other in rollbackInfo. It redeploys
   * the last good revision, lifecycle hooks included: BeforeAllowTraffic runs before the alias
   * moves back and AfterAllowTraffic after, so a hook that fails a rollback leaves the alias where
   * it was (the hooks let rollbacks through for that reason).
   * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html
   */
  private rollback(orig: Deployment): void {
    const spec = orig.appSpec;
    const appSpec: LambdaAppSpec = { ...spec, currentVersion: spec.targetVersion, targetVersion: spec.currentVersion };
    const content = JSON.stringify({
      version: 0.0,
      Resources: [
        {
          [spec.functionName]: {
            Type: 'AWS::Lambda::Function',
            Properties: { Name: spec.functionName, Alias: spec.alias, CurrentVersion: appSpec.currentVersion, TargetVersion: appSpec.targetVersion },
          },
        },
      ],
      ...(spec.hooks.beforeAllowTraffic || spec.hooks.afterAllowTraffic
        ? {
            Hooks: [
              ...(spec.hooks.beforeAllowTraffic ? [{ BeforeAllowTraffic: spec.hooks.beforeAllowTraffic }] : []),
              ...(spec.hooks.afterAllowTraffic ? [{ AfterAllowTraffic: spec.hooks.afterAllowTraffic }] : []),
            ],
          }
        : {}),
    });
    const rb = this.register(
      {
        applicationName: orig.applicationName,
        deploymentGroupName: orig.deploymentGroupName,
        deploymentGroupId: orig.deploymentGroupId,
        // The rollback moves all traffic back in one step.
        deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
        shape: { type: 'all-at-once' },
        creator: 'codeDeployRollback',
        revisionType: 'AppSpecContent',
        content,
        appSpec,
        alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
        autoRollbackConfiguration: { enabled: false, events: [] },
      },
      orig,
    );
    orig.rollbackInfo = { rollbackDeploymentId: rb.deploymentId, rollbackMessage: `Deployment ${orig.deploymentId} was rolled back by deployment ${rb.deploymentId}.` };
    rb.rollbackInfo = { rollbackTriggeringDeploymentId: orig.deploymentId, rollbackMessage: `Rollback of deployment ${orig.deploymentId}.` };
    this.record(orig, { at: this.now(), type: 'rollback', rollbackDeploymentId: rb.deploymentId });
    this.transition(rb, 'InProgress', `Rolling back ${orig.deploymentId}`);
    const problem = this.checkLambda(rb, false);
    if (problem) {
      this.end(rb, 'Failed', problem);
      return;
    }
    const before = appSpec.hooks.beforeAllowTraffic;
    if (before) this.invokeHook(rb, 'BeforeAllowTraffic', before);
    else this.beginShifting(rb);
  }

  private transition(d: Deployment, status: DeploymentStatus, message: string): void {
    const at = this.now();
    d.status = status;
    if (status === 'InProgress') d.startTime = at;
    if (status === 'Succeeded' || status === 'Failed' || status === 'Stopped') d.completeTime = at;
    d.statusMessages.push(message);
    this.record(d, { at, type: 'status', status, message });
    const state = EVENT_STATE[status];
    if (!state) return;
    // https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html
    this.outbox.push({
      source: 'aws.codedeploy',
      detailType: 'CodeDeploy Deployment State-change Notification',
      resources: [applicationArn(d.applicationName), deploymentGroupArn(d.applicationName, d.deploymentGroupName)],
      detail: {
        instanceGroupId: d.deploymentGroupId,
        region: LAB_REGION,
        application: d.applicationName,
        deploymentId: d.deploymentId,
        state,
        deploymentGroup: d.deploymentGroupName,
      },
    });
  }

  private record(d: Deployment, e: TimelineEntry): void {
    d.timeline.push(e);
  }

  private schedule(d: Deployment, at: number, label: string, run: () => void): number {
    const set = this.tasks.get(d.deploymentId)!;
    const id = this.ctx.scheduler.at(at, label, async () => {
      set.delete(id);
      run();
      await this.flush();
    });
    set.add(id);
    return id;
  }

  private cancelTask(d: Deployment, id: number | undefined): void {
    if (id === undefined) return;
    this.ctx.scheduler.cancel(id);
    this.tasks.get(d.deploymentId)!.delete(id);
  }

  private cancelTasks(d: Deployment): void {
    const set = this.tasks.get(d.deploymentId)!;
    for (const id of set) this.ctx.scheduler.cancel(id);
    set.clear();
  }

  /** Publish the events raised so far, in the order they were raised. */
  async flush(): Promise<void> {
    while (this.outbox.length) await this.ctx.events.publish(this.outbox.shift()!);
  }
}

/** Offsets (ms from the first shift) of each traffic shift of a config. */
export function shiftOffsets(shape: RolloutShape): number[] {
  const minute = 60_000;
  switch (shape.type) {
    case 'all-at-once':
      return [0];
    case 'canary':
      return [0, shape.intervalMinutes * minute];
    case 'linear':
      return Array.from({ length: Math.ceil(100 / shape.percent) }, (_, k) => k * shape.intervalMinutes * minute);
  }
}
