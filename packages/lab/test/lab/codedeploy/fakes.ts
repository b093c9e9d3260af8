/** Fakes of the ports CodeDeploy uses, and a ready-made lab on a virtual clock. */
import { CodeDeployLab } from '../../../src/lab/codedeploy';
import { LabEventBus, Scheduler } from '../../../src/lab/kernel';
import type { AliasRouting, CloudWatchPort, LambdaPort } from '../../../src/lab/ports';

export const START = Date.UTC(2026, 0, 1, 0, 0, 0);

export class FakeLambda implements LambdaPort {
  readonly functions = new Map<string, { versions: Set<string>; aliases: Map<string, AliasRouting> }>();
  readonly routings: { at: number; fn: string; alias: string; routing: AliasRouting }[] = [];
  readonly invocations: { at: number; fn: string; payload: { DeploymentId: string; LifecycleEventHookExecutionId: string } }[] = [];

  constructor(private readonly clock: { now(): number }) {}

  addFunction(name: string, versions: string[] = [], aliases: Record<string, string> = {}): this {
    this.functions.set(name, { versions: new Set(versions), aliases: new Map(Object.entries(aliases).map(([a, v]) => [a, { functionVersion: v }])) });
    return this;
  }

  getAlias(fn: string, alias: string): AliasRouting | undefined {
    return this.functions.get(fn)?.aliases.get(alias);
  }

  setAliasRouting(fn: string, alias: string, routing: AliasRouting): void {
    const f = this.functions.get(fn);
    if (!f) throw new Error(`function ${fn} not found`);
    f.aliases.set(alias, routing);
    this.routings.push({ at: (this.clock.now() - START) / 1000, fn, alias, routing });
  }

  invokeAsync(fn: string, payload: unknown): void {
    this.invocations.push({ at: (this.clock.now() - START) / 1000, fn, payload: payload as FakeLambda['invocations'][number]['payload'] });
  }

  functionExists(fn: string): boolean {
    return this.functions.has(fn);
  }

  versionExists(fn: string, version: string): boolean {
    return this.functions.get(fn)?.versions.has(version) ?? false;
  }
}

export class FakeCloudWatch implements CloudWatchPort {
  readonly states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> = {};
  failing = false;
  polls = 0;

  put(): void {}

  alarmStates(names: readonly string[]) {
    this.polls++;
    if (this.failing) throw new Error('Rate exceeded');
    return Object.fromEntries(names.map((n) => [n, this.states[n]]));
  }
}

export interface GroupOptions {
  readonly config?: string;
  readonly alarms?: string[];
  readonly ignorePollAlarmFailure?: boolean;
  readonly rollbackEvents?: string[];
}

/** A lab with function `fn` (versions 1 and 2, alias live -> 1) and hook functions. */
export async function makeLab(group: GroupOptions = {}, alarmPollSeconds = 60) {
  const scheduler = new Scheduler('virtual', START);
  const events = new LabEventBus(scheduler);
  const lambda = new FakeLambda(scheduler).addFunction('fn', ['1', '2'], { live: '1' }).addFunction('CodeDeployHook_pre').addFunction('CodeDeployHook_post');
  const cloudwatch = new FakeCloudWatch();
  const cd = new CodeDeployLab({ scheduler, events }, lambda, cloudwatch, { alarmPollSeconds });
  const ops = cd.service.operations;
  await ops.CreateApplication({ applicationName: 'app', computePlatform: 'Lambda' });
  await ops.CreateDeploymentGroup({
    applicationName: 'app',
    deploymentGroupName: 'dg',
    serviceRoleArn: 'arn:aws:iam::123456789012:role/cd',
    deploymentConfigName: group.config ?? 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    ...(group.alarms ? { alarmConfiguration: { enabled: true, ignorePollAlarmFailure: group.ignorePollAlarmFailure ?? false, alarms: group.alarms.map((name) => ({ name })) } } : {}),
    ...(group.rollbackEvents ? { autoRollbackConfiguration: { enabled: true, events: group.rollbackEvents } } : {}),
  });
  const seconds = (s: number) => scheduler.advance(s * 1000);
  /** Advance to `s` seconds after START. */
  const at = (s: number) => scheduler.advance(START + s * 1000 - scheduler.now());
  const deploy = async (hooks: { before?: string; after?: string } = {}, extra: Record<string, unknown> = {}) => {
    const out = (await ops.CreateDeployment({ applicationName: 'app', deploymentGroupName: 'dg', revision: revision(appSpec(hooks)), ...extra })) as { deploymentId: string };
    return out.deploymentId;
  };
  const info = async (id: string) => ((await ops.GetDeployment({ deploymentId: id })) as { deploymentInfo: Record<string, unknown> }).deploymentInfo;
  return { scheduler, events, lambda, cloudwatch, cd, ops, seconds, at, deploy, info };
}

export function appSpec(hooks: { before?: string; after?: string } = {}, versions: [string, string] = ['1', '2']): string {
  const lines = [
    'version: 0.0',
    'Resources:',
    '  - myFunction:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    '        Name: fn',
    '        Alias: live',
    `        CurrentVersion: "${versions[0]}"`,
    `        TargetVersion: "${versions[1]}"`,
  ];
  const h = [...(hooks.before ? [`  - BeforeAllowTraffic: ${hooks.before}`] : []), ...(hooks.after ? [`  - AfterAllowTraffic: ${hooks.after}`] : [])];
  return [...lines, ...(h.length ? ['Hooks:', ...h] : [])].join('\n') + '\n';
}

export const revision = (content: string) => ({ revisionType: 'AppSpecContent', appSpecContent: { content } });
