/**
 * `canary-watchdog watch`: follow guarded releases to their verdict, on AWS or the lab (same code,
 * only AWS_ENDPOINT_URL differs). The verdict is CodeDeploy's deployment status; the why is the
 * watchdog's decision records, read from the deployment's item in the watchdog's state table
 * (the lab has no CloudWatch Logs, and the state table is where both keep them alike).
 *
 * The state table is found without the user naming it: the deployment's AppSpec names its
 * BeforeAllowTraffic hook, and the hook function's environment names the table.
 */
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStackResourcesCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentGroupsCommand, ListDeploymentsCommand, type DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { sdkClientConfig } from 'canary-watchdog/lib/aws/clients';
import { ACTIVE_STATUSES } from 'canary-watchdog/lib/aws/codedeploy';
import { errorName, errorText } from 'canary-watchdog/lib/aws/util';
import { parseLambdaAppSpec, type LambdaAppSpec } from 'canary-watchdog/lib/core/appspec';
import type { PreTrafficOutcome } from 'canary-watchdog/lib/aws/ports';
import type { DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { ENV } from 'canary-watchdog/lib/runtime/env';
import { CliError, EXIT, worstExit, type ExitCode } from './exit-codes';
import { sleepUnless } from './interrupt';
import { terminalSafe } from './terminal-text';

export interface WatchClients {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudformation: CloudFormationClient;
}

/**
 * Clients on the default credential chain and region; AWS_ENDPOINT_URL points them all at the lab.
 * Each call is bounded like the runtime's (a hung call is a failed read, retried at the next poll).
 */
export function defaultClients(): WatchClients {
  const bounded = sdkClientConfig();
  return { codedeploy: new CodeDeployClient(bounded), lambda: new LambdaClient(bounded), dynamodb: new DynamoDBClient(bounded), cloudformation: new CloudFormationClient(bounded) };
}

export type WatchTarget = { readonly deployment: string } | { readonly stack: string } | { readonly application: string; readonly group: string };

export interface WatchOptions {
  readonly target: WatchTarget;
  /** The state table, when the hook's environment cannot be read. */
  readonly table?: string;
  /** Wall-clock ms between polls. */
  readonly intervalMs: number;
  /** Give up (exit 3) after this many wall-clock ms. */
  readonly timeoutMs: number;
  /** Consecutive failed CodeDeploy reads before the verdict counts as unreadable. */
  readonly maxReadFailures?: number;
  /** Terminal width; lines are wrapped at spaces to fit it. */
  readonly columns: number;
  readonly out: (text: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Ctrl-C: stop following, and end each deployment not yet ended as `interrupted`. */
  readonly interrupt?: AbortSignal;
  /**
   * `--stack`: how long to wait for the stack's update to begin when it is not under way (watch
   * started before cdk deploy reached CloudFormation); 0 reports its last update.
   * @default DEFAULT_WAIT_FOR_UPDATE_MINUTES
   */
  readonly waitForUpdateMs?: number;
}

/** `watch --stack` waits this long for the update to begin: cdk synthesizes, publishes assets and creates a change set first. */
export const DEFAULT_WAIT_FOR_UPDATE_MINUTES = 15;

/** A stack's status and when it last changed, by CloudFormation's clock: a new value means a create or update began since. */
export const stackStamp = (s: Stack) => `${s.StackStatus}|${(s.LastUpdatedTime ?? s.CreationTime)?.toISOString()}`;

/** A stack under way (REVIEW_IN_PROGRESS is a change set waiting, not an update). */
const underWay = (s: Stack) => Boolean(s.StackStatus?.endsWith('_IN_PROGRESS')) && s.StackStatus !== 'REVIEW_IN_PROGRESS';

/** `failed`: CodeDeploy failed it (a hook reported Failed) without a rollback; `stopped`: stopped without one; `interrupted`: the user stopped the watch first. */
export type Outcome = 'completed' | 'rolled-back' | 'failed' | 'stopped' | 'unobservable' | 'interrupted';

/** One followed deployment's end: what `--json` writes. */
export interface FollowResult {
  readonly deploymentId: string;
  readonly application?: string;
  readonly deploymentGroup?: string;
  readonly status: string;
  readonly outcome: Outcome;
  /** Why it ended: the deciding record's layer and reasons, or CodeDeploy's error. */
  readonly reason?: string;
  readonly rollbackDeploymentId?: string;
  readonly decisions: readonly DecisionRecord[];
  /** The pre-traffic hook's record when it failed the release (no decision record says why then). */
  readonly preTraffic?: { readonly type: 'canary-watchdog.pre-traffic'; readonly deploymentId: string; readonly status: string; readonly reasons: readonly string[] };
}

export interface WatchResult {
  readonly exitCode: ExitCode;
  readonly deployments: readonly FollowResult[];
  /** Why the watch ended as it did, in one sentence. */
  readonly summary: string;
}

const ENDED = ['Succeeded', 'Failed', 'Stopped'];

/** Exit status of one outcome; the worst of several wins. */
export function exitCodeFor(outcome: Outcome): ExitCode {
  return outcome === 'completed' ? EXIT.ok : outcome === 'unobservable' ? EXIT.unobservable : outcome === 'interrupted' ? EXIT.interrupted : EXIT.failed;
}

/** Wrap `text` at spaces so that no line exceeds `width`; continuation lines get `indent`. A word longer than a line is never cut. */
export function wrap(text: string, width: number, indent = '    '): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length <= width || line.trim() === '') line = candidate;
    else {
      out.push(line);
      line = `${indent}${word}`;
    }
  }
  out.push(line);
  return out;
}

const pct = (share: number) => `${Math.round(share * 1000) / 10} %`;

/** A record's observed value in words: rates in percent, values with their unit. */
function observed(v: number | string | null, unit?: string): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  if (unit) return `${Math.round(v * 100) / 100} ${unit}`;
  return v >= 0 && v <= 1 && !Number.isInteger(v) ? `${(v * 100).toFixed(2)} %` : String(v);
}

/** The lines a rollback decision is explained with: layer, reasons, and the failing evidence. */
export function explainRollback(r: DecisionRecord): string[] {
  const lines = [`rolled back by layer ${r.layer ?? '(none)'} at ${r.trafficPercent} % [${r.stage}]; action ${r.actionTaken} (${r.actionResult})`];
  for (const reason of r.reasons) lines.push(`why: ${reason}`);
  const failing = r.evidence.filter((e) => e.outcome === 'failed' || e.outcome === 'unreadable');
  for (const e of failing.length ? failing : r.evidence.filter((x) => x.layer === r.layer)) {
    lines.push(`evidence: ${e.layer}/${e.signal} ${e.outcome}: observed ${observed(e.observed, e.unit)}${e.threshold ? ` against ${e.threshold}` : ''}${e.sampleSize !== null ? ` on ${e.sampleSize} samples` : ''}${e.note && !r.reasons.some((x) => x.includes(e.note)) ? ` (${e.note})` : ''}`);
  }
  return lines;
}

/** The traffic share of `version` on an alias: 1 when it is the alias's version, its weight when it is the additional one, else 0. */
export function shareOf(alias: { FunctionVersion?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } }, version: string): number {
  if (alias.FunctionVersion === version) return 1;
  return alias.RoutingConfig?.AdditionalVersionWeights?.[version] ?? 0;
}

/** Follows deployments through the given clients; one instance per command. */
export class Watcher {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tables = new Map<string, string>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly clients: WatchClients,
    private readonly opts: WatchOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(clients.dynamodb);
    this.sleep = opts.sleep ?? ((ms) => sleepUnless(opts.interrupt, ms));
    this.now = opts.now ?? Date.now;
  }

  /** One line of output, made terminal-safe (it quotes AWS), wrapped to the width. */
  private print(prefix: string, text: string): void {
    this.opts.out(`${wrap(terminalSafe(`${prefix}${text}`), Math.max(40, this.opts.columns)).join('\n')}\n`);
  }

  /** Follow what the target names until every deployment in it has a verdict. */
  async run(): Promise<WatchResult> {
    const t = this.opts.target;
    const deadline = this.now() + this.opts.timeoutMs;
    if ('deployment' in t) return this.summarize([await this.follow(t.deployment, deadline)]);
    if ('stack' in t) return this.followStack(t.stack, deadline);
    const id = await this.nextDeployment(t.application, t.group, deadline);
    if (!id && this.opts.interrupt?.aborted) return { exitCode: EXIT.interrupted, deployments: [], summary: `interrupted (SIGINT) while waiting for a deployment of ${t.application}/${t.group}` };
    if (!id) return { exitCode: EXIT.unobservable, deployments: [], summary: `no deployment of ${t.application}/${t.group} started before the timeout` };
    return this.summarize([await this.follow(id, deadline)]);
  }

  private summarize(results: FollowResult[], extra?: string): WatchResult {
    const exitCode = worstExit(results.map((r) => exitCodeFor(r.outcome)));
    if (exitCode === EXIT.interrupted) {
      // What finished so far, then where each unfinished release stood.
      const summary = `interrupted (SIGINT) after ${results.filter((r) => r.outcome !== 'interrupted').length} of ${results.length} verdict(s): ${results.map((r) => `${r.deploymentId} ${r.outcome === 'interrupted' ? `no verdict yet (${r.reason})` : `${r.outcome}${r.reason ? `: ${r.reason}` : ''}`}`).join('; ')}`;
      return { exitCode, deployments: results, summary };
    }
    const failed = results.filter((r) => r.outcome !== 'completed');
    const summary =
      extra ??
      (failed.length
        ? failed.map((r) => `${r.deploymentId} ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`).join('; ')
        : `${results.length} deployment(s) completed`);
    return { exitCode, deployments: results, summary };
  }

  /** The deployment in progress in the group, or the next one to start there (polled until the deadline). */
  async nextDeployment(application: string, group: string, deadline: number): Promise<string | undefined> {
    this.print('', `waiting for a deployment of ${application}/${group}`);
    for (;;) {
      const res = await this.clients.codedeploy.send(new ListDeploymentsCommand({ applicationName: application, deploymentGroupName: group, includeOnlyStatuses: ACTIVE_STATUSES }));
      const ids = res.deployments ?? [];
      if (ids.length) return ids[0];
      if (this.now() >= deadline || this.opts.interrupt?.aborted) return undefined;
      await this.sleep(this.opts.intervalMs);
    }
  }

  /**
   * Every guarded deployment the stack's current update starts: deployments of the stack's
   * CodeDeploy deployment groups created since the update began (CloudFormation's own clock,
   * as CodeDeploy's: no local time is compared), until the stack update and each deployment ended.
   */
  async followStack(stackName: string, deadline: number): Promise<WatchResult> {
    const cfn = this.clients.cloudformation;
    const notBegun = await this.waitForUpdate(stackName, deadline);
    if (notBegun) return notBegun;
    const began = await this.updateBegan(stackName);
    const groups = await this.guardedGroups(stackName);
    this.print('', `stack ${stackName}: update began ${began.toISOString()}; guarded deployment groups: ${groups.map((g) => `${g.application}/${g.group}`).join(', ') || 'none'}`);
    const followed = new Map<string, Promise<FollowResult>>();
    let status: string;
    let reason: string | undefined;
    for (;;) {
      for (const g of groups) {
        const ids = (await this.clients.codedeploy.send(new ListDeploymentsCommand({ applicationName: g.application, deploymentGroupName: g.group, createTimeRange: { start: began } }))).deployments ?? [];
        for (const id of ids) if (!followed.has(id)) followed.set(id, this.follow(id, deadline, true));
      }
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
      status = stack?.StackStatus ?? 'UNKNOWN';
      reason = stack?.StackStatusReason;
      if (!status.endsWith('_IN_PROGRESS') || this.now() >= deadline || this.opts.interrupt?.aborted) break;
      await this.sleep(this.opts.intervalMs);
    }
    const results = (await Promise.all(followed.values())).filter((r) => r.status !== 'skipped');
    if (this.opts.interrupt?.aborted) {
      const so = this.summarize(results);
      if (so.exitCode === EXIT.interrupted) return so;
      return { exitCode: EXIT.interrupted, deployments: results, summary: `interrupted (SIGINT) while stack ${stackName} was ${status}${results.length ? `; verdicts so far: ${so.summary}` : ''}` };
    }
    if (status.endsWith('_IN_PROGRESS')) return { exitCode: EXIT.unobservable, deployments: results, summary: `stack ${stackName} still ${status} at the timeout` };
    this.print('', `stack ${stackName}: ${status}${reason ? ` (${reason})` : ''}`);
    if (results.length) return this.summarize(results);
    const ok = status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE';
    return { exitCode: ok ? EXIT.ok : EXIT.failed, deployments: [], summary: `stack ${stackName} ${status} without a guarded deployment${reason ? `: ${reason}` : ''}` };
  }

  /** The stack's CodeDeploy deployment groups, with their applications. */
  private async guardedGroups(stackName: string): Promise<{ application: string; group: string }[]> {
    const resources = (await this.clients.cloudformation.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources ?? [];
    const groupNames = new Set(resources.filter((r) => r.ResourceType === 'AWS::CodeDeploy::DeploymentGroup').map((r) => r.PhysicalResourceId!));
    const groups: { application: string; group: string }[] = [];
    for (const app of resources.filter((r) => r.ResourceType === 'AWS::CodeDeploy::Application')) {
      const listed = (await this.clients.codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: app.PhysicalResourceId! }))).deploymentGroups ?? [];
      for (const g of listed) if (groupNames.has(g)) groups.push({ application: app.PhysicalResourceId!, group: g });
    }
    return groups;
  }

  /** The stack, or undefined when it does not exist (yet). */
  private async describeStack(stackName: string): Promise<Stack | undefined> {
    try {
      return (await this.clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    } catch (err) {
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html: a ValidationError names a stack that does not exist.
      if (errorName(err) === 'ValidationError' && /does not exist/.test(errorText(err))) return undefined;
      throw err;
    }
  }

  /** The deployments in progress in the groups. */
  private async activeDeployments(groups: readonly { application: string; group: string }[]): Promise<string[]> {
    const ids: string[] = [];
    for (const g of groups) {
      ids.push(...((await this.clients.codedeploy.send(new ListDeploymentsCommand({ applicationName: g.application, deploymentGroupName: g.group, includeOnlyStatuses: ACTIVE_STATUSES }))).deployments ?? []));
    }
    return ids;
  }

  /**
   * `watch --stack` started before cdk deploy reached CloudFormation would otherwise report the
   * stack's last update: when the stack is not under way, wait (up to waitForUpdateMs) for an
   * update to begin: the stack under way or changed since (CloudFormation's clock, not ours), or
   * a new deployment in one of its guarded groups. Undefined once it began; the result otherwise.
   */
  private async waitForUpdate(stackName: string, deadline: number): Promise<WatchResult | undefined> {
    const waitMs = this.opts.waitForUpdateMs ?? DEFAULT_WAIT_FOR_UPDATE_MINUTES * 60_000;
    const first = await this.describeStack(stackName);
    if (!first && waitMs <= 0) throw new CliError(EXIT.badInput, `--stack: ${stackName} does not exist (in this account and region)`);
    if (waitMs <= 0 || (first && underWay(first))) return undefined;
    const until = Math.min(deadline, this.now() + waitMs);
    const minutes = `${+(waitMs / 60_000).toPrecision(3)} min`;
    let groups = first ? await this.guardedGroups(stackName) : [];
    const activeBefore = new Set(await this.activeDeployments(groups));
    this.print('', first ? `stack ${stackName}: ${first.StackStatus}; waiting up to ${minutes} for its update to begin` : `stack ${stackName}: does not exist yet; waiting up to ${minutes} for it to be created`);
    for (;;) {
      await this.sleep(this.opts.intervalMs);
      const now = await this.describeStack(stackName);
      if (now && (underWay(now) || !first || stackStamp(now) !== stackStamp(first))) return undefined;
      if (groups.length === 0 && now) groups = await this.guardedGroups(stackName);
      if ((await this.activeDeployments(groups)).some((id) => !activeBefore.has(id))) return undefined;
      if (this.opts.interrupt?.aborted) return { exitCode: EXIT.interrupted, deployments: [], summary: `interrupted (SIGINT) while waiting for stack ${stackName}'s update to begin` };
      if (this.now() >= until) {
        const state = now ? `it is ${now.StackStatus}` : 'it does not exist';
        return { exitCode: EXIT.unobservable, deployments: [], summary: `stack ${stackName}: no update began within ${minutes} of waiting (${state}); start cdk deploy first, raise --wait-for-update, or --wait-for-update 0 to report its last update` };
      }
    }
  }

  /** When the stack's current (or last) create or update began, from its own events. */
  private async updateBegan(stackName: string): Promise<Date> {
    let token: string | undefined;
    // Events come newest first, 100 a page; the update's start is among the first pages.
    for (let page = 0; page < 20; page++) {
      const res = await this.clients.cloudformation.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token }));
      const start = (res.StackEvents ?? []).find(
        (e) => e.ResourceType === 'AWS::CloudFormation::Stack' && e.LogicalResourceId === stackName && (e.ResourceStatus === 'UPDATE_IN_PROGRESS' || e.ResourceStatus === 'CREATE_IN_PROGRESS'),
      );
      if (start?.Timestamp) return start.Timestamp;
      token = res.NextToken;
      if (!token) break;
    }
    throw new CliError(EXIT.unobservable, `stack ${stackName}: no create or update start among its events`);
  }

  /** The state table of the watchdog guarding a release: the BeforeAllowTraffic hook's environment names it. */
  private async stateTable(spec: LambdaAppSpec): Promise<string | undefined> {
    if (this.opts.table) return this.opts.table;
    const hook = spec.hooks.beforeAllowTraffic ?? spec.hooks.afterAllowTraffic;
    if (!hook) return undefined;
    const known = this.tables.get(hook);
    if (known) return known;
    const cfg = await this.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: hook }));
    const table = cfg.Environment?.Variables?.[ENV.stateTable];
    if (table) this.tables.set(hook, table);
    return table;
  }

  /** The deployment's kept decision records, and the pre-traffic hook's answer (its reasons when it failed the release). */
  private async stateOf(table: string, deploymentId: string): Promise<{ decisions: DecisionRecord[]; preTraffic?: PreTrafficOutcome }> {
    const res = await this.doc.send(new GetCommand({ TableName: table, Key: { deploymentId }, ConsistentRead: true, ProjectionExpression: 'decisions, preTraffic' }));
    const preTraffic = res.Item?.preTraffic as PreTrafficOutcome | undefined;
    return { decisions: (res.Item?.decisions as DecisionRecord[] | undefined) ?? [], ...(preTraffic ? { preTraffic } : {}) };
  }

  /**
   * Follow one deployment to its end, printing its state line when it changes and each decision
   * record once. `guardedOnly`: a deployment without a watchdog hook, or one CodeDeploy created to
   * roll back another, is skipped (status `skipped`).
   */
  async follow(deploymentId: string, deadline: number, guardedOnly = false): Promise<FollowResult> {
    const maxFailures = this.opts.maxReadFailures ?? 5;
    let failures = 0;
    let info: DeploymentInfo | undefined;
    let spec: LambdaAppSpec | undefined;
    let table: string | undefined;
    let tableWarned = false;
    const records: DecisionRecord[] = [];
    let preTraffic: PreTrafficOutcome | undefined;
    const seen = new Set<string>();
    let lastState = '';
    const tag = deploymentId;
    const unobservable = (why: string): FollowResult => {
      this.print(`${tag} `, `verdict could not be read: ${why}`);
      return { deploymentId, application: info?.applicationName, deploymentGroup: info?.deploymentGroupName, status: info?.status ?? 'Unknown', outcome: 'unobservable', reason: why, decisions: records };
    };
    const readRecords = async () => {
      if (!table) return;
      try {
        const state = await this.stateOf(table, deploymentId);
        if (state.preTraffic && !preTraffic) {
          preTraffic = state.preTraffic;
          // A Failed hook's reasons are the release's verdict: printed once, in the line the command ends with.
          this.print(`${tag} `, `pre-traffic hook reported ${preTraffic.status}${preTraffic.status !== 'Failed' && preTraffic.reasons.length ? `: ${preTraffic.reasons.join('; ')}` : ''}`);
        }
        for (const r of state.decisions) {
          const key = `${r.at}|${r.trigger}|${r.stage}|${r.action}|${r.trafficPercent}`;
          if (seen.has(key)) continue;
          seen.add(key);
          records.push(r);
          this.print(`${tag} `, `${r.at} [${r.stage}] ${r.action}${r.layer ? ` by ${r.layer}` : ''} at ${r.trafficPercent} %${r.reasons[0] ? `: ${r.reasons[0]}` : ''}${r.deferred ? ` (bake deferred: ${r.deferred})` : ''}`);
        }
      } catch (err) {
        if (!tableWarned) this.print(`${tag} `, `decision records unreadable in ${table}: ${errorText(err)} (the verdict still comes from CodeDeploy)`);
        tableWarned = true;
      }
    };
    for (;;) {
      try {
        info = (await this.clients.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
        failures = 0;
      } catch (err) {
        if (errorName(err) === 'DeploymentDoesNotExistException' || errorName(err) === 'InvalidDeploymentIdException') {
          throw new CliError(EXIT.badInput, `--deployment: ${deploymentId} does not exist: ${errorText(err)}`);
        }
        if (++failures >= maxFailures) return unobservable(`GetDeployment failed ${failures} times in a row: ${errorText(err)}`);
        if (this.opts.interrupt?.aborted) return { deploymentId, status: info?.status ?? 'Unknown', outcome: 'interrupted', reason: `GetDeployment failing: ${errorText(err)}`, decisions: records };
        await this.sleep(this.opts.intervalMs);
        continue;
      }
      if (!info) return unobservable('GetDeployment returned no deployment');
      if (!spec) {
        const content = info.revision?.appSpecContent?.content ?? info.revision?.string?.content;
        if (content) spec = parseLambdaAppSpec(content);
        const isRollback = info.creator === 'codeDeployRollback' || info.creator === 'CloudFormationRollback' || Boolean(info.rollbackInfo?.rollbackTriggeringDeploymentId);
        if (guardedOnly && (isRollback || !spec || (!spec.hooks.beforeAllowTraffic && !spec.hooks.afterAllowTraffic))) {
          return { deploymentId, status: 'skipped', outcome: 'completed', decisions: [] };
        }
        if (spec) {
          this.print('', `${tag} ${spec.functionName}:${spec.alias} v${spec.currentVersion} -> v${spec.targetVersion} (CodeDeploy ${info.applicationName}/${info.deploymentGroupName}, ${info.deploymentConfigName})`);
          try {
            table = await this.stateTable(spec);
          } catch (err) {
            this.print(`${tag} `, `cannot read the hook's environment for the state table: ${errorText(err)}; pass --table`);
          }
          if (!table && !this.opts.table) this.print(`${tag} `, 'no watchdog hook in the AppSpec: showing CodeDeploy status only (pass --table to read decision records)');
        }
      }
      await readRecords();
      const status = info.status ?? 'Unknown';
      let share: number | undefined;
      if (spec && !ENDED.includes(status)) {
        try {
          share = shareOf(await this.clients.lambda.send(new GetAliasCommand({ FunctionName: spec.functionName, Name: spec.alias })), spec.targetVersion);
        } catch {
          share = undefined;
        }
      }
      const last = records.at(-1);
      const state = [
        status,
        share !== undefined ? `traffic ${pct(share)} new` : undefined,
        last ? `stage ${last.stage}` : undefined,
        last?.layers.length ? `layers ${last.layers.map((l) => `${l.name} ${l.outcome}`).join(', ')}` : undefined,
      ].filter(Boolean).join(' | ');
      if (state !== lastState) {
        this.print(`${tag} `, state);
        lastState = state;
      }
      if (ENDED.includes(status)) return this.ended(info, deploymentId, readRecords, () => records, () => preTraffic);
      if (this.opts.interrupt?.aborted) {
        const where = `${lastState}${records.length ? `; last decision ${records.at(-1)!.action} at ${records.at(-1)!.trafficPercent} %` : ''}`;
        this.print(`${tag} `, `interrupted: no verdict yet: ${where}`);
        return { deploymentId, application: info.applicationName, deploymentGroup: info.deploymentGroupName, status, outcome: 'interrupted', reason: where, decisions: records };
      }
      if (this.now() >= deadline) return unobservable(`still ${status} at the timeout`);
      await this.sleep(this.opts.intervalMs);
    }
  }

  /** The end of one deployment: its outcome, and on a rollback the deciding record (read again briefly: it is written just after the stop). */
  private async ended(info: DeploymentInfo, deploymentId: string, readRecords: () => Promise<void>, current: () => DecisionRecord[], preTraffic: () => PreTrafficOutcome | undefined): Promise<FollowResult> {
    const status = info.status!;
    const deciding = () => current().filter((r) => r.action === 'rollback').at(-1);
    if (status !== 'Succeeded') {
      for (let i = 0; i < 3 && !deciding(); i++) {
        await this.sleep(this.opts.intervalMs);
        await readRecords();
      }
    }
    const outcome: Outcome = status === 'Succeeded' ? 'completed' : info.rollbackInfo?.rollbackDeploymentId || deciding() ? 'rolled-back' : status === 'Failed' ? 'failed' : 'stopped';
    const d = deciding();
    const error = info.errorInformation?.message;
    // A release the pre-traffic hook failed has no rollback record: the hook's reasons say why.
    const hook = preTraffic();
    const hookReason = hook?.status === 'Failed' ? `pre-traffic hook: ${hook.reasons.join('; ')}` : undefined;
    const reason = status === 'Succeeded' ? undefined : d ? `layer ${d.layer ?? '(none)'}: ${d.reasons.join('; ')}` : hookReason ?? error ?? status;
    const why = d ? explainRollback(d) : hookReason ? ['why: the pre-traffic hook failed it before any traffic (its reasons end the output)'] : [`why: ${reason}`];
    const lines = status === 'Succeeded' ? ['COMPLETED: every traffic shift and hook succeeded'] : [`${outcome.toUpperCase()} (${status})`, ...why];
    if (info.rollbackInfo?.rollbackDeploymentId) lines.push(`rollback deployment: ${info.rollbackInfo.rollbackDeploymentId}`);
    for (const l of lines) this.print(`${deploymentId} `, l);
    return {
      deploymentId,
      application: info.applicationName,
      deploymentGroup: info.deploymentGroupName,
      status,
      outcome,
      ...(reason ? { reason } : {}),
      ...(info.rollbackInfo?.rollbackDeploymentId ? { rollbackDeploymentId: info.rollbackInfo.rollbackDeploymentId } : {}),
      decisions: current(),
      ...(hook?.status === 'Failed' ? { preTraffic: { type: 'canary-watchdog.pre-traffic' as const, deploymentId, status: hook.status, reasons: hook.reasons } } : {}),
    };
  }
}
