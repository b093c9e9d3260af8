import { DEFAULT_THRESHOLDS, parseWatchdogConfig } from 'canary-watchdog/lib/core/config';
import { isNews, type DecisionRecord } from 'canary-watchdog/lib/core/decision-record';
import { basename } from 'node:path';
import { InputError } from 'canary-watchdog/lib/core/validate';
import { INJECTED } from '../lab/faults';
import { Lab, type FaultSpec, type GuardedRelease } from '../lab/lab';
import { ENV } from 'canary-watchdog/lib/runtime/env';
import { costPerMinute, type CostMinute } from './capacity';
import type { Scenario, Stage } from './scenario';
import { codeChange, DEFAULT_REAL_RPS, initialNetwork, scenarioNetwork, userEvents, userTrafficOf, type UserTraffic } from './real-traffic';
import { applyWatchdogSettings, configOf } from './watchdog-settings';
import { unpublishAlarmMetric } from './alarm-faults';

export type Strategy = 'watchdog' | 'native';
export const STRATEGIES: readonly Strategy[] = ['watchdog', 'native'];

export interface TimelineEvent {
  /** Seconds since the deployment began. */
  readonly t: number;
  readonly what: string;
}

export interface StrategyResult {
  readonly outcome: 'completed' | 'rolled-back' | 'unfinished';
  readonly maxTrafficPercent: number;
  /** From the first failed (or, for a slower release, first) user or probe request of the new version to the stop or failed hook. */
  readonly detectionSeconds: number | null;
  readonly userRequestsToNewVersion: number;
  readonly failedUserRequests: number;
  readonly decidedBy: { readonly layer: string; readonly signal: string } | null;
  /** Shadow mode: a decision record says enforce mode would have stopped the release (actionResult "would stop-deployment" or "would fail-bake"). */
  readonly wouldHaveRolledBack: boolean;
  readonly deploymentIds: readonly string[];
  readonly timeline: readonly TimelineEvent[];
  /** Per 10 s: new version's traffic share, and per minute error rates and p99 by version. */
  readonly series: {
    readonly t: number[];
    readonly weight: number[];
    readonly minutes: { t: number; version: string; requests: number; errors: number; p99: number | null }[];
  };
  /** What the new version's user requests were and where their failures came from (real code, injected behaviour, noise). */
  readonly userTraffic?: UserTraffic;
  /** Layer outcomes of the watchdog's decisions over time. */
  readonly layers: { t: number; layers: Record<string, string> }[];
  /** Per minute: the state table's write units (by kind of item) and the telemetry extension's added latency. */
  readonly cost: readonly CostMinute[];
  readonly virtualMinutes: number;
  readonly wallMs: number;
  /** Stages the release entered: 1 without `stages`. */
  readonly stagesReached: number;
  /**
   * The share of all user requests the new version served: the sum over the stages reached of
   * trafficShare x (the new version's requests / all requests of that stage), both counted over
   * the `traffic.minutes` from the stage's deployment start (the same window for both
   * strategies). Without `stages`, one stage with trafficShare 1.
   */
  readonly fleetExposure: number;
  /** With `stages`: what each stage reached saw, in order. */
  readonly stages?: readonly StageResult[];
  /** The watchdog's decision records that said something new (as its state table keeps them), every stage's in order: what `explain` reads. */
  readonly decisions: readonly DecisionRecord[];
  /** The pre-traffic hook's record when it failed the release (which then has no rollback record): what `explain` shows for it. */
  readonly preTraffic?: { readonly type: 'canary-watchdog.pre-traffic'; readonly deploymentId: string; readonly status: string; readonly reasons: readonly string[] };
}

/** One stage of a staged release. */
export interface StageResult {
  readonly name: string;
  readonly trafficShare: number;
  /** passed: completed and baked, so the next stage started. */
  readonly outcome: 'passed' | 'rolled-back' | 'unfinished';
  readonly maxTrafficPercent: number;
  /** User requests of the stage in the window of `traffic.minutes` from its deployment's start. */
  readonly requests: number;
  readonly userRequestsToNewVersion: number;
  readonly failedUserRequests: number;
  readonly detectionSeconds: number | null;
  readonly decidedBy: StrategyResult['decidedBy'];
  /** The new version's share of the stage's requests. */
  readonly exposure: number;
}

export interface Progress {
  (p: { scenario: string; strategy: Strategy; minute: number; of: number; weight: number; status: string; layers: string }): void;
}

/** A rehearsal that cannot be judged: a function it depends on could not run. */
export class RehearsalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalError';
  }
}

/**
 * Fails the rehearsal when the watchdog, a hook or the prober failed at all (they report failures
 * of what they call as data, so an error of theirs is a crash) or logged that it is misconfigured
 * or crashed (the handlers catch those to fail closed), or when a guarded function's own code
 * failed to load (init error, handler missing) beyond what the scenario injects. A rehearsal
 * without them would be decided by the heartbeat alarm or by failed probes, and "pass".
 */
class RunWatch {
  private seen = 0;
  private seenLogs = 0;
  private readonly runtime: Set<string>;
  private readonly guarded: Set<string>;
  /** `function:version` of the scenario's own code change (`release.code`): its failing to load is the scenario's outcome. */
  readonly changedCode = new Set<string>();

  constructor(private readonly lab: Lab) {
    this.runtime = new Set(lab.lambda.functionNames().filter((n) => lab.lambda.getConfiguration(n).description.startsWith('canary-watchdog ')));
    this.guarded = new Set(lab.releases.map((r) => r.functionName));
  }

  /** Runtime functions the scenario makes hang (`faults.hooks`): their injected timeouts are its outcome. */
  readonly hung = new Set<string>();

  check(): void {
    const all = this.lab.lambda.invocations;
    for (; this.seen < all.length; this.seen++) {
      const i = all[this.seen];
      if (!i.error || (i.error.injected && this.hung.has(i.functionName))) continue;
      const what = this.runtime.has(i.functionName)
        ? `${this.lab.lambda.getConfiguration(i.functionName).description} (${i.functionName}) failed`
        : this.guarded.has(i.functionName) && i.error.init && !i.error.injected && !this.changedCode.has(`${i.functionName}:${i.executedVersion}`)
          ? `guarded function ${i.functionName} version ${i.executedVersion} failed to load`
          : undefined;
      if (what) throw new RehearsalError(`${what} at ${new Date(i.at).toISOString()}: ${i.error.type}: ${i.error.message}; the rehearsal is not a result`);
    }
    const logs = this.lab.lambda.logs;
    for (; this.seenLogs < logs.length; this.seenLogs++) {
      const l = logs[this.seenLogs];
      if (!this.runtime.has(l.functionName) || !l.line.includes('"ERROR"')) continue;
      let entry: { level?: string; message?: string; error?: unknown };
      try {
        entry = JSON.parse(l.line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.level === 'ERROR' && /\b(misconfigured|crashed)\b/.test(entry.message ?? '')) {
        const error = typeof entry.error === 'string' ? entry.error : JSON.stringify(entry.error);
        // A handler that could not read its configuration because of a fault the scenario injected
        // (the state table down) failed closed, as it should: that is the scenario's outcome.
        if (/\bmisconfigured\b/.test(entry.message ?? '') && error.includes(INJECTED)) continue;
        throw new RehearsalError(`${this.lab.lambda.getConfiguration(l.functionName).description} (${l.functionName}) ${entry.message} at ${new Date(l.at).toISOString()}: ${error}; the rehearsal is not a result`);
      }
    }
  }
}

/**
 * Only the watchdog's scheduled (full) runs publish heartbeats, the first a minute in; two of
 * them before the release keep the new heartbeat alarm from stopping it at creation.
 */
const WARM_UP_SECONDS = 180;
const STEP_SECONDS = 10;

/**
 * Run one scenario with one strategy. Without `stages`, one release on a fresh lab loaded from
 * `assembly`. With `stages`, the same release goes through them in order, each on a fresh lab
 * (its own deployment, alarms and watchdog) seeded with the scenario's seed plus the stage's
 * index, at the scenario's rate times the stage's traffic share; a stage starts only when the
 * one before it completed and then served the new version for its whole bake.
 */
export async function runStrategy(scenario: Scenario, strategy: Strategy, assembly: string, progress?: Progress, signal?: AbortSignal): Promise<StrategyResult> {
  if (!scenario.stages) {
    const one = await runRelease(scenario, strategy, assembly, { seed: scenario.seed, rps: scenario.traffic.rps }, progress, signal);
    return { ...one.result, stagesReached: 1, fleetExposure: exposure(one.result.userRequestsToNewVersion, one.requests) };
  }
  const runs: { stage: Stage; run: ReleaseRun }[] = [];
  for (const [i, stage] of scenario.stages.entries()) {
    const run = await runRelease(scenario, strategy, assembly, { seed: scenario.seed + i, rps: scenario.traffic.rps * stage.trafficShare, stage }, progress, signal);
    runs.push({ stage, run });
    // In waves, a stage starts only once the one before passed its gate; at once, every stage gets the release.
    if (!run.passed && !scenario.stagesAtOnce) break;
  }
  return combineStages(runs);
}

/** A share of requests, rounded to six decimals (0 when there were none). */
const exposure = (toNew: number, all: number) => (all ? Math.round((toNew / all) * 1e6) / 1e6 : 0);

/**
 * A staged release's result: `stages` says what each stage saw; the counts are summed over the
 * stages; the outcome, share, detection, deciding layer, charts and timeline are the last
 * stage's (where the release stopped, or the last of all); `fleetExposure` weighs each stage's
 * exposure by its traffic share.
 */
export function combineStages(runs: readonly { stage: Stage; run: ReleaseRun }[]): StrategyResult {
  const last = runs[runs.length - 1];
  const allPassed = runs.every((r) => r.run.passed);
  const stages: StageResult[] = runs.map(({ stage, run }) => ({
    name: stage.name,
    trafficShare: stage.trafficShare,
    outcome: run.passed ? 'passed' : run.result.outcome === 'completed' ? 'unfinished' : run.result.outcome,
    maxTrafficPercent: run.result.maxTrafficPercent,
    requests: run.requests,
    userRequestsToNewVersion: run.result.userRequestsToNewVersion,
    failedUserRequests: run.result.failedUserRequests,
    detectionSeconds: run.result.detectionSeconds,
    decidedBy: run.result.decidedBy,
    exposure: exposure(run.result.userRequestsToNewVersion, run.requests),
  }));
  const sum = (f: (r: ReleaseRun['result']) => number) => runs.reduce((a, r) => a + f(r.run.result), 0);
  return {
    ...last.run.result,
    outcome: allPassed ? 'completed' : last.run.result.outcome === 'completed' ? 'unfinished' : last.run.result.outcome,
    userRequestsToNewVersion: sum((r) => r.userRequestsToNewVersion),
    failedUserRequests: sum((r) => r.failedUserRequests),
    wouldHaveRolledBack: runs.some((r) => r.run.result.wouldHaveRolledBack),
    deploymentIds: runs.flatMap((r) => r.run.result.deploymentIds),
    decisions: runs.flatMap((r) => r.run.result.decisions),
    virtualMinutes: Math.round(sum((r) => r.virtualMinutes) * 10) / 10,
    wallMs: sum((r) => r.wallMs),
    stagesReached: runs.length,
    fleetExposure: Math.round(stages.reduce((a, s) => a + s.trafficShare * s.exposure, 0) * 1e6) / 1e6,
    stages,
  };
}

export interface ReleaseRun {
  readonly result: Omit<StrategyResult, 'stagesReached' | 'fleetExposure'>;
  /**
   * User requests to every version in the window of `traffic.minutes` from the deployment's
   * start: those sent, plus, when the run ended early after a rollback, those the rate sends in
   * the rest of the window (all to the old version).
   */
  readonly requests: number;
  /** A stage's gate: the release completed and the new version served the stage for its whole bake. */
  readonly passed: boolean;
}

/** One release on a fresh lab at `rps`; for a stage, whether it passed its gate (completed, then baked). */
async function runRelease(
  scenario: Scenario,
  strategy: Strategy,
  assembly: string,
  run: { seed: number; rps: number; stage?: Stage },
  progress?: Progress,
  signal?: AbortSignal,
): Promise<ReleaseRun> {
  const started = Date.now();
  // The native strategy invokes no function of its own (traffic is simulated in aggregate), so
  // its lab starts no execution environment ahead of need. Rehearsals run many short labs one
  // after another: each hands its threads on to the next.
  const lab = new Lab({ seed: run.seed, warm: strategy === 'watchdog', reuseThreads: true });
  await lab.start();
  try {
    await lab.loadAssembly(assembly);
    const guarded = lab.release(scenario.function);
    const fn = guarded.functionName;
    const functions = lab.lambda.functionNames();
    // The scheduled watchdog, and every watchdog function (the event-driven one too).
    const watchdogFn = functions.find((n) => isRuntime(lab, n, 'watchdog'));
    const watchdogFns = functions.filter((n) => isRuntime(lab, n, 'watchdog') || lab.lambda.getConfiguration(n).description === 'canary-watchdog watchdog (events)');
    const proberFn = functions.find((n) => isRuntime(lab, n, 'prober'));

    if (scenario.watchdog) await applyWatchdogSettings(lab, scenario.watchdog);
    for (const name of scenario.faults.alarms?.unpublished ?? []) await unpublishAlarmMetric(lab.cloudwatch.service.operations, name, scenario.source);
    // The old version behaves as the scenario says from the start; noise hits both versions.
    lab.lambda.setBehaviour(fn, lab.lambda.getAlias(fn, guarded.alias)!.functionVersion, scenario.current);
    if (scenario.noise.transientErrorRate || scenario.noise.coldStartMs || scenario.noise.coldStartSigma || scenario.noise.environmentLifetimeMinutes || scenario.noise.latencyJitter) lab.lambda.setNoise(fn, scenario.noise);
    lab.lambda.setNetwork(initialNetwork(scenario));
    const events = userEvents(scenario, lab, guarded);
    let via: { application: string; deploymentGroup: string } | undefined;
    if (strategy === 'native') {
      via = await nativeGroup(lab, guarded, watchdogFn);
      for (const f of [...watchdogFns, proberFn]) if (f) lab.eventbridge.disabledTargets.add(f);
      // The native user's functions carry no canary-watchdog layer: no telemetry extension runs.
      for (const f of functions) lab.telemetry.disable(f);
      for (const f of watchdogFns) lab.streams.disabledFunctions.add(f);
    } else if (scenario.faults.watchdog === 'down') {
      for (const f of watchdogFns) {
        lab.eventbridge.disabledTargets.add(f);
        lab.streams.disabledFunctions.add(f);
      }
    }
    // With events, user requests invoke the real code, at most `realRps` a second (a stage's share of it).
    const real = events ? { events, realRps: Math.max(1, (scenario.traffic.realRps ?? DEFAULT_REAL_RPS) * (run.stage?.trafficShare ?? 1)) } : undefined;
    lab.traffic.set(fn, guarded.alias, run.rps, scenario.traffic.burstiness ?? 0, scenario.traffic.errorBurstiness ?? 0, real);
    const watch = new RunWatch(lab);
    await lab.advance(scenario.traffic.warmUpMinutes === undefined ? WARM_UP_SECONDS : scenario.traffic.warmUpMinutes * 60);
    watch.check();

    const faults: FaultSpec[] = [];
    // Fault windows count from here: the release's deployment starts now.
    for (const [key, service] of [['cloudwatch', 'CloudWatch'], ['codedeploy', 'CodeDeploy'], ['lambda', 'Lambda'], ['dynamodb', 'DynamoDB']] as const) {
      const f = scenario.faults[key];
      if (f) faults.push({ service, ...f, ...(f === scenario.faults.dynamodb && scenario.faults.dynamodb.table ? { table: tableNamed(lab, scenario.faults.dynamodb.table, scenario.source) } : {}) });
    }
    lab.setFaults(faults);
    if (scenario.faults.hooks?.hang) hangHooks(lab, guarded, watch, scenario.source);

    const env = scenario.release.env ? { ...lab.lambda.getConfiguration(fn).env, ...scenario.release.env } : undefined;
    const { env: _e, code: codePath, ...behaviour } = scenario.release;
    const code = codePath ? codeChange(codePath) : undefined;
    const t0 = lab.now();
    const requestsBefore = requestsOf(lab, guarded);
    scenarioNetwork(lab, scenario, t0);
    const { version, deploymentId } = await lab.deploy(fn, { ...(env ? { env } : {}), ...(code ? { code } : {}), behaviour }, via);
    if (code) watch.changedCode.add(`${fn}:${version}`);
    // A dependency both versions use fails: their user requests and their real invocations (probes) alike.
    if (scenario.shared) shareFailure(lab, fn, [lab.lambda.getAlias(fn, guarded.alias)!.functionVersion, version], scenario.shared, t0);
    const proberDown = scenario.faults.prober;
    if (proberDown && proberFn) lab.scheduler.at(t0 + proberDown.downAfterMinutes * 60_000, 'the prober goes down (scenario fault)', () => void lab.eventbridge.disabledTargets.add(proberFn));

    const series: StrategyResult['series'] = { t: [], weight: [], minutes: [] };
    const decisionLog = new DecisionLog(lab);
    const end = t0 + scenario.traffic.minutes * 60_000;
    let finishedAt: number | undefined;
    let baked = false;
    while (lab.now() < end) {
      signal?.throwIfAborted();
      await lab.advance(STEP_SECONDS);
      watch.check();
      const routing = lab.lambda.getAlias(fn, guarded.alias)!;
      const w = routing.functionVersion === version ? 1 - (routing.additional?.weight ?? 0) : routing.additional?.version === version ? routing.additional.weight : 0;
      series.t.push((lab.now() - t0) / 1000);
      series.weight.push(w);
      const d = deployment(lab, deploymentId);
      const layers = progress ? (decisionLog.last(deploymentId)?.layers.map((l) => `${l.name}=${l.outcome}`).join(' ') ?? '') : '';
      progress?.({ scenario: scenario.name, strategy, minute: (lab.now() - t0) / 60_000, of: scenario.traffic.minutes, weight: w, status: run.stage ? `${run.stage.name} ${d.status}` : d.status, layers });
      if (finishedAt === undefined && ['Succeeded', 'Failed', 'Stopped'].includes(d.status)) finishedAt = lab.now();
      // A stage's gate opens once the release completed and the new version served the stage
      // for the whole bake; the stage keeps its traffic to the end, which its exposure counts.
      if (run.stage && !baked && d.status === 'Succeeded' && w === 1 && lab.now() - finishedAt! >= run.stage.bakeMinutes * 60_000) baked = true;
      // Once it ended, any rollback finished and the new version takes no more traffic, two more
      // minutes let the last metrics land. A release left serving traffic runs to the end, so
      // both strategies count failed requests over the same time.
      if (finishedAt !== undefined && w === 0 && lab.now() - finishedAt >= 120_000 && !inProgress(lab)) break;
    }
    lab.setFaults([]);
    const result = summarize(lab, guarded, version, deploymentId, t0, series, started, decisionLog);
    // A run that ended early after a rollback: the rest of the window's requests all go to the old version.
    const rest = Math.max(0, end - lab.now()) / 1000;
    return { result, requests: Math.round(requestsOf(lab, guarded) - requestsBefore + run.rps * rest), passed: baked && result.outcome === 'completed' };
  } finally {
    await lab.stop();
  }
}

/**
 * The guarded function's lifecycle hooks hang (`faults.hooks.hang`): every invocation runs to the
 * function's timeout and never reports a status, so CodeDeploy waits out its one-hour hook timeout.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
 */
function hangHooks(lab: Lab, guarded: GuardedRelease, watch: RunWatch, source: string): void {
  if (!guarded.beforeAllowTraffic && !guarded.afterAllowTraffic) throw new InputError(`${basename(source)}.faults.hooks: ${guarded.functionName}'s deployment has no lifecycle hook (BeforeAllowTraffic, AfterAllowTraffic) to hang`, `${basename(source)}.faults.hooks`);
  for (const hook of [guarded.beforeAllowTraffic, guarded.afterAllowTraffic]) {
    if (!hook) continue;
    // CodeDeploy invokes hooks unqualified ($LATEST).
    lab.lambda.setBehaviour(hook, '$LATEST', { timeoutRate: 1 });
    watch.hung.add(hook);
  }
}

/**
 * The scenario's shared failure: over its window both versions fail that share of requests on top
 * of their own behaviour (independent causes: 1 - (1 - own)(1 - shared)), then behave as before.
 */
function shareFailure(lab: Lab, fn: string, versions: readonly string[], shared: NonNullable<Scenario['shared']>, t0: number): void {
  const saved = versions.map((v) => [v, lab.lambda.behaviourOf(fn, v)] as const);
  const start = () => {
    for (const [v, b] of saved) lab.lambda.setBehaviour(fn, v, { ...b, errorRate: 1 - (1 - (b.errorRate ?? 0)) * (1 - shared.errorRate) });
  };
  const from = t0 + (shared.fromMinute ?? 0) * 60_000;
  if (from <= lab.now()) start();
  else lab.scheduler.at(from, 'a shared failure begins (scenario shared)', start);
  if (shared.toMinute !== undefined) {
    lab.scheduler.at(t0 + shared.toMinute * 60_000, 'the shared failure ends (scenario shared)', () => {
      for (const [v, b] of saved) lab.lambda.setBehaviour(fn, v, b);
    });
  }
}

/** One of the app's tables by its name or construct id (a generated name `<stack>-<logical id>`, and on AWS `-<suffix>`). */
export function tableNamed(lab: Lab, table: string, source: string): string {
  const names = lab.dynamodb.tableNames();
  // After the stack's name comes the logical id (then, on AWS, a random suffix); a construct id begins it.
  const found = names.find((n) => n === table) ?? names.find((n) => n.split('-').slice(1).some((part) => part.startsWith(table)));
  if (!found) throw new InputError(`${basename(source)}.faults.dynamodb.table: ${table} is none of the app's tables: ${names.join(', ')}`, `${basename(source)}.faults.dynamodb.table`);
  return found;
}

/** User requests through the guarded alias so far, every version. */
function requestsOf(lab: Lab, guarded: GuardedRelease): number {
  return [...lab.traffic.tally(guarded.functionName, guarded.alias).values()].reduce((a, t) => a + t.requests, 0);
}

function isRuntime(lab: Lab, name: string, handler: string): boolean {
  return lab.lambda.getConfiguration(name).description === `canary-watchdog ${handler}`;
}

interface DeploymentView {
  deploymentId: string;
  status: string;
  creator?: string;
  completeTime?: number;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string };
}

function deployment(lab: Lab, id: string): DeploymentView {
  return lab.codedeploy.deployments().find((d) => d.deploymentId === id) as unknown as DeploymentView;
}

function inProgress(lab: Lab): boolean {
  return lab.codedeploy.deployments().some((d) => ['Created', 'InProgress'].includes(String(d.status)));
}

/** The watchdog's decision records from the functions' logs, read once each as logs arrive. */
class DecisionLog {
  private read = 0;
  private readonly records: DecisionRecord[] = [];

  constructor(private readonly lab: Lab) {}

  of(deploymentId: string): DecisionRecord[] {
    const logs = this.lab.lambda.logs;
    for (; this.read < logs.length; this.read++) {
      const line = logs[this.read].line;
      if (!line.includes('"message":"decision"')) continue;
      try {
        const d = (JSON.parse(line) as { decision?: DecisionRecord }).decision;
        if (d) this.records.push(d);
      } catch {
        // A log line that is not JSON is not a decision.
      }
    }
    return this.records.filter((d) => d.deploymentId === deploymentId);
  }

  last(deploymentId: string): DecisionRecord | undefined {
    const all = this.of(deploymentId);
    return all[all.length - 1];
  }
}

/**
 * The native strategy: what a careful user sets up today following the CDK documentation. The
 * same function, rollout config and error-rate threshold, guarded only by CodeDeploy's own alarm
 * rollback on one alias-level error-rate alarm (1-minute period, 1 datapoint); no hooks, no
 * probes, no watchdog.
 */
async function nativeGroup(lab: Lab, guarded: GuardedRelease, watchdogFn: string | undefined): Promise<{ application: string; deploymentGroup: string }> {
  // The same error-rate threshold as the watchdog's, wherever its configuration is delivered.
  let maxErrorRate = DEFAULT_THRESHOLDS.maxErrorRate;
  if (watchdogFn) {
    const guard = parseWatchdogConfig(JSON.parse((await configOf(lab, watchdogFn)).raw)).guards.find((g) => g.functionName === guarded.functionName);
    if (guard) maxErrorRate = guard.thresholds.maxErrorRate;
  }
  const fn = guarded.functionName;
  const alarmName = `native-${fn}-alias-error-rate`;
  const dims = [
    { Name: 'FunctionName', Value: fn },
    { Name: 'Resource', Value: `${fn}:${guarded.alias}` },
  ];
  await lab.cloudwatch.service.operations.PutMetricAlarm({
    AlarmName: alarmName,
    Metrics: [
      { Id: 'e', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: dims }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 't', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: dims }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'rate', Expression: 'IF(t > 0, e / t, 0)', ReturnData: true },
    ],
    Threshold: maxErrorRate,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  });
  const group = (await lab.codedeploy.service.operations.GetDeploymentGroup({ applicationName: guarded.application, deploymentGroupName: guarded.deploymentGroup })) as {
    deploymentGroupInfo: { deploymentConfigName: string };
  };
  const application = `native-${guarded.application}`.slice(0, 100);
  await lab.codedeploy.service.operations.CreateApplication({ applicationName: application, computePlatform: 'Lambda' });
  await lab.codedeploy.service.operations.CreateDeploymentGroup({
    applicationName: application,
    deploymentGroupName: application,
    deploymentConfigName: group.deploymentGroupInfo.deploymentConfigName,
    alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: alarmName }] },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'] },
  });
  return { application, deploymentGroup: application };
}

function summarize(
  lab: Lab,
  guarded: GuardedRelease,
  version: string,
  deploymentId: string,
  t0: number,
  series: StrategyResult['series'],
  started: number,
  decisionLog: DecisionLog,
): ReleaseRun['result'] {
  const fn = guarded.functionName;
  const d = deployment(lab, deploymentId);
  const tl = lab.codedeploy.timeline(deploymentId);
  const rel = (at: number) => Math.round((at - t0) / 100) / 10;
  const weights = tl.filter((e) => e.type === 'traffic').map((e) => (e as { targetWeight: number }).targetWeight);
  const maxTrafficPercent = Math.round(Math.max(0, ...weights, ...series.weight) * 1000) / 10;
  const tally = lab.traffic.tally(fn, guarded.alias).get(version) ?? { requests: 0, failures: 0, firstFailureAt: undefined };
  const failedInvocation = lab.lambda.invocations.find((i) => i.functionName === fn && i.executedVersion === version && !i.ok);
  // A slower version harms every request it serves: its first request is its first bad one.
  const slow = (lab.lambda.behaviourOf(fn, version).latencyMs ?? 0) > 0;
  const firstRequest = slow ? Math.min(tally.requests ? lab.lambda.firstTrafficAt(fn, version) : Infinity, lab.lambda.invocations.find((i) => i.functionName === fn && i.executedVersion === version)?.at ?? Infinity) : Infinity;
  const firstFailure = Math.min(tally.firstFailureAt ?? Infinity, failedInvocation?.at ?? Infinity, firstRequest);
  const stopEntry = tl.find((e) => e.type === 'stop' || (e.type === 'hook' && (e.result === 'Failed' || e.result === 'TimedOut')));
  const records = decisionLog.of(deploymentId);
  const acting = records.find((r) => r.actionTaken === 'stop-deployment' || r.actionTaken === 'fail-bake');
  const wouldHaveRolledBack = records.some((r) => r.actionTaken === 'shadow' && /^would (stop-deployment|fail-bake)\b/.test(r.actionResult));
  const stopAt = acting ? Date.parse(acting.at) : stopEntry?.at;
  const detectionSeconds = stopAt !== undefined && Number.isFinite(firstFailure) ? Math.max(0, Math.round((stopAt - firstFailure) / 1000)) : null;

  let decidedBy: StrategyResult['decidedBy'] = null;
  let preTraffic: StrategyResult['preTraffic'];
  if (acting) {
    const signal = acting.evidence.find((e) => e.layer === acting.layer && e.outcome !== 'healthy' && e.outcome !== 'not-applicable');
    decidedBy = { layer: acting.layer ?? 'unknown', signal: signal?.signal ?? acting.reasons[0] ?? '' };
  } else if (stopEntry?.type === 'hook') {
    const hookLog = lab.lambda.logs.find((l) => l.line.includes('canary-watchdog.pre-traffic') && l.line.includes(deploymentId) && l.line.includes('"Failed"'));
    const hookRecord = hookLog ? (JSON.parse(hookLog.line) as { record: { deploymentId: string; status: string; reasons: string[] } }).record : undefined;
    if (hookRecord) preTraffic = { type: 'canary-watchdog.pre-traffic', deploymentId: hookRecord.deploymentId, status: hookRecord.status, reasons: hookRecord.reasons };
    const reason = hookRecord ? (hookRecord.reasons[0] ?? '') : `${stopEntry.hook} ${stopEntry.result}`;
    decidedBy = { layer: reason.startsWith('config') ? 'config' : reason.startsWith('probe') ? 'probes' : 'hook', signal: reason.replace(/^config: /, '') };
  } else if (stopEntry?.type === 'stop') {
    const polled = [...tl].reverse().find((e) => e.type === 'alarms') as { states: Record<string, string> } | undefined;
    const inAlarm = polled ? Object.entries(polled.states).filter(([, s]) => s === 'ALARM').map(([n]) => n) : [];
    decidedBy = { layer: 'codedeploy-alarm', signal: inAlarm.join(', ') || stopEntry.code };
  }

  const timeline: TimelineEvent[] = [];
  for (const e of tl) {
    if (e.type === 'traffic') timeline.push({ t: rel(e.at), what: `traffic ${Math.round(e.targetWeight * 100)} % to v${version}` });
    else if (e.type === 'hook' && e.result !== 'Invoked') timeline.push({ t: rel(e.at), what: `${e.hook} hook ${e.result}` });
    else if (e.type === 'stop') timeline.push({ t: rel(e.at), what: `stopped: ${e.code}${e.rollback ? ', rolling back' : ''}` });
    else if (e.type === 'status') timeline.push({ t: rel(e.at), what: `deployment ${e.status}` });
  }
  for (const r of records.filter((x) => x.actionTaken !== 'none')) timeline.push({ t: rel(Date.parse(r.at)), what: `watchdog ${r.actionTaken} (${r.layer ?? r.stage}): ${r.reasons[0] ?? ''}` });
  if (Number.isFinite(firstFailure)) timeline.push({ t: rel(firstFailure), what: `first failed request to v${version}` });
  timeline.sort((a, b) => a.t - b.t);

  const rollbackIds = lab.codedeploy.deployments().filter((x) => (x.rollbackInfo as { rollbackTriggeringDeploymentId?: string } | undefined)?.rollbackTriggeringDeploymentId === deploymentId).map((x) => String(x.deploymentId));
  const outcome: StrategyResult['outcome'] = d.status === 'Succeeded' ? 'completed' : ['Stopped', 'Failed'].includes(d.status) ? 'rolled-back' : 'unfinished';

  // Per-minute user-visible error rates and p99 by version, from the lab's own tallies.
  const minutes = lab.traffic.minuteStats(fn, guarded.alias).filter((m) => m.minute * 60_000 >= t0 - 60_000).map((m) => ({ ...m, t: (m.minute * 60_000 - t0) / 1000 }));
  const watchdogFn = lab.lambda.functionNames().find((n) => isRuntime(lab, n, 'watchdog'));
  const stateTable = watchdogFn ? lab.lambda.getConfiguration(watchdogFn).env[ENV.stateTable] : undefined;
  const cost = costPerMinute(lab.dynamodb.capacity.consumption(), stateTable, lab.telemetry.holds, new Set([fn]), t0);
  return {
    outcome,
    maxTrafficPercent,
    detectionSeconds,
    userRequestsToNewVersion: tally.requests,
    failedUserRequests: tally.failures,
    decidedBy,
    wouldHaveRolledBack,
    deploymentIds: [deploymentId, ...rollbackIds],
    timeline,
    series: { ...series, minutes: minutes.map(({ t, version: v, requests, errors, p99 }) => ({ t, version: v, requests, errors, p99 })) },
    userTraffic: userTrafficOf(lab.traffic.tally(fn, guarded.alias), version, lab.traffic.streamsOf(fn).find((x) => x.alias === guarded.alias)?.events),
    layers: records.map((r) => ({ t: rel(Date.parse(r.at)), layers: Object.fromEntries(r.layers.map((l) => [l.name, l.outcome])) })),
    cost,
    virtualMinutes: Math.round((lab.now() - t0) / 6000) / 10,
    wallMs: Date.now() - started,
    decisions: records.filter((r, i) => isNews(records[i - 1], r)),
    ...(preTraffic ? { preTraffic } : {}),
  };
}
