import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GuardedFunction, PreexistingAlarms, ReleaseWatchdog, Rollout } from '../../src';
import { findCycle } from './cycles';
import { alarmNameOf, build, inlineFunction, resourcesOfType } from './helpers';

const { guarded, template: tpl } = build();
const template = tpl();
const versionId = Object.keys(template.findResources('AWS::Lambda::Version'))[0];
const alarmsByName = (): Record<string, Record<string, unknown> & { id: string }> =>
  Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, a]) => [alarmNameOf(a.Properties), { id, ...a.Properties }]));

describe('GuardedFunction', () => {
  it('publishes a version and points the live alias at it', () => {
    template.resourceCountIs('AWS::Lambda::Version', 1);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] } });
  });

  it('hands alias updates to CodeDeploy with both hooks', () => {
    const [, alias] = resourcesOfType(template, 'AWS::Lambda::Alias')[0];
    expect(alias.UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: expect.stringMatching(/^OrdersApplication/) },
        DeploymentGroupName: { Ref: expect.stringMatching(/^OrdersDeploymentGroup/) },
        BeforeAllowTrafficHook: { Ref: expect.stringMatching(/^WatchdogPreTrafficHook/) },
        AfterAllowTrafficHook: { Ref: expect.stringMatching(/^WatchdogPostTrafficHook/) },
      },
    });
  });

  it('drops the post-traffic hook when there is no bake', () => {
    const [, alias] = resourcesOfType(build({ bakeMinutes: 0 }).template(), 'AWS::Lambda::Alias')[0];
    expect((alias.UpdatePolicy as { CodeDeployLambdaAliasUpdate: Record<string, unknown> }).CodeDeployLambdaAliasUpdate.AfterAllowTrafficHook).toBeUndefined();
  });

  it('rolls back automatically on failure, on alarm and on stop request, and fails closed on unreadable alarms', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayEquals(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']) },
      AlarmConfiguration: { Enabled: true, IgnorePollAlarmFailure: false },
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    });
  });

  it("puts the watchdog heartbeat alarm first in CodeDeploy's own alarm list", () => {
    const [, dg] = resourcesOfType(template, 'AWS::CodeDeploy::DeploymentGroup')[0];
    const alarms = (dg.Properties.AlarmConfiguration as { Alarms: { Name: { Ref: string } }[] }).Alarms;
    expect(alarms[0].Name.Ref).toMatch(/^OrdersHeartbeatAlarm/);
    // Heartbeat, probes, 3 new-version alarms; the alias error rate stays out under preexistingAlarms ignore.
    expect(alarms).toHaveLength(5);
  });

  it('binds the new-version alarms to the published version with the ExecutedVersion dimension', () => {
    const a = alarmsByName()['Shop-Orders-A8B1F509-new-version-error-rate-v{version}'];
    const metrics = (a.Metrics as { Id: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] } } }[]).filter((m) => m.MetricStat);
    expect(metrics.map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual(['Errors', 'Invocations']);
    for (const m of metrics) {
      expect(m.MetricStat!.Metric.Dimensions).toHaveLength(3);
      expect(m.MetricStat!.Metric.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'FunctionName', Value: { Ref: 'Fn9270CBC0' } },
          { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: 'Fn9270CBC0' }, ':live']] } },
          { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } },
        ]),
      );
    }
    expect((a.Metrics as { Expression?: string }[]).find((m) => m.Expression)?.Expression).toBe('IF(t >= 20, IF(e / t > 0.05 + 2.326 * SQRT(0.0475 / t), e / t, 0), 0)');
  });

  it('judges probes of the new version per minute from failures and invocations, by significance', () => {
    const a = alarmsByName()['Shop-Orders-A8B1F509-probe-failures-v{version}'] as unknown as { Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string } }[]; Threshold: number; EvaluationPeriods: number; DatapointsToAlarm: number };
    const stats = a.Metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat!.Metric.MetricName, m.MetricStat!.Stat, m.MetricStat!.Period]);
    expect(stats.sort()).toEqual([['ProbeFailure', 'SampleCount', 60], ['ProbeFailure', 'Sum', 60]]);
    for (const m of a.Metrics.filter((x) => x.MetricStat)) {
      expect(m.MetricStat!.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: 'Fn9270CBC0' } }, { Name: 'Version', Value: { 'Fn::GetAtt': [versionId, 'Version'] } }]);
    }
    expect(a.Metrics.find((m) => m.Expression)?.Expression).toBe('IF(t >= 3, IF(e / t > 0.05 + 3.09 * SQRT(0.0475 / t), e / t, 0), 0)');
    expect([a.Threshold, a.EvaluationPeriods, a.DatapointsToAlarm]).toEqual([0.05, 1, 1]);
  });

  it('sets TreatMissingData explicitly on every layer alarm', () => {
    for (const [name, a] of Object.entries(alarmsByName())) {
      expect([name, a.TreatMissingData]).toEqual([name, name.endsWith('heartbeat') ? 'breaching' : 'notBreaching']);
    }
  });

  it('defaults the p99 limit to 80 % of the function timeout', () => {
    expect(alarmsByName()['Shop-Orders-A8B1F509-new-version-p99duration-v{version}']).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 2400 });
  });

  it('updates the version-scoped alarms before the alias, so a deployment never reads the old version', () => {
    const [, alias] = resourcesOfType(template, 'AWS::Lambda::Alias')[0];
    expect(alias.DependsOn).toEqual(expect.arrayContaining(Object.entries(alarmsByName()).filter(([name]) => !name.endsWith('heartbeat')).map(([, a]) => a.id)));
  });

  it('names each version-scoped alarm for the version it watches, so each release replaces it with an alarm born without the old state', () => {
    const names = Object.values(alarmsByName()).map((a) => a.AlarmName);
    for (const suffix of ['probe-failures', 'new-version-error-rate', 'new-version-throttle-rate', 'new-version-p99duration']) {
      expect(names).toContainEqual({ 'Fn::Join': ['', [`Shop-Orders-A8B1F509-${suffix}-v`, { 'Fn::GetAtt': [versionId, 'Version'] }]] });
    }
    // The alias-wide alarm watches both versions: its name stays.
    expect(names).toContain('Shop-Orders-A8B1F509-alias-error-rate');
  });

  it('forms no dependency cycle between alias, alarms, hooks and deployment group', () => {
    expect(findCycle(template.toJSON() as never)).toBeNull();
  });

  it("adds a row to its watchdog's dashboard with traffic, errors and latency split by version, probes and alarm states", () => {
    const [, dash] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const s of ['Shop/Orders: traffic by version', 'Shop/Orders: errors by version', 'Shop/Orders: p99 duration by version', 'Shop/Orders: probe failure rate by version', 'Shop/Orders: release guard alarms', 'ExecutedVersion,FunctionName,Resource']) {
      expect(body).toContain(s);
    }
  });

  it('exposes its parts', () => {
    expect(guarded.alias.aliasName).toBe('live');
    expect(guarded.layerAlarms.map((a) => a.layer)).toEqual(['probes', 'new-version', 'new-version', 'new-version', 'service']);
  });

  describe('rollouts', () => {
    it.each([
      [Rollout.canary({ percent: 10, minutes: 30 }), { DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' }, 0],
      [Rollout.linear({ percent: 10, everyMinutes: 1 }), { DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute' }, 0],
      [Rollout.allAtOnce(), { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }, 0],
      [Rollout.predefined('CodeDeployDefault.LambdaCanary10Percent15Minutes'), { DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent15Minutes' }, 0],
    ])('uses a predefined config where one matches (%#)', (rollout, dg, custom) => {
      const t = build({ rollout }).template();
      t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', dg);
      t.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', custom);
    });

    it.each([
      [Rollout.canary({ percent: 5, minutes: 15 }), { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 5, CanaryInterval: 15 } }],
      [Rollout.linear({ percent: 25, everyMinutes: 3 }), { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 25, LinearInterval: 3 } }],
    ])('creates a custom config otherwise (%#)', (rollout, routing) => {
      const t = build({ rollout }).template();
      t.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { ComputePlatform: 'Lambda', TrafficRoutingConfig: routing });
    });

    it('shares one custom config between functions with the same rollout', () => {
      const app = new App();
      const stack = new Stack(app, 'S');
      const watchdog = new ReleaseWatchdog(stack, 'W');
      for (const id of ['A', 'B']) new GuardedFunction(stack, id, { watchdog, existingFunction: inlineFunction(stack, `Fn${id}`), rollout: Rollout.canary({ percent: 5, minutes: 15 }) });
      Template.fromStack(stack).resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 1);
    });

    it('rejects an unknown predefined config, listing the known ones', () => {
      expect(() => Rollout.predefined('CodeDeployDefault.Fast')).toThrow(/^Rollout.predefined: unknown config "CodeDeployDefault.Fast"; allowed: CodeDeployDefault.LambdaAllAtOnce, /);
    });
  });

  describe("CodeDeploy's 10-alarm limit", () => {
    const extra = (stack: Stack, n: number) =>
      Array.from({ length: n }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `Extra${i}`, `user-alarm-${i}`));

    // preexistingAlarms rollback: the service layer (extraAlarms) goes into CodeDeploy's list.
    it('keeps 10 alarms as they are', () => {
      const app = new App();
      const stack = new Stack(app, 'S');
      const watchdog = new ReleaseWatchdog(stack, 'W', { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
      const g = new GuardedFunction(stack, 'G', { watchdog, existingFunction: inlineFunction(stack), extraAlarms: extra(stack, 5) });
      expect(g.nativeAlarms).toHaveLength(10);
      Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    });

    it('combines the layer and user alarms into one composite alarm past 10, keeping the heartbeat on its own', () => {
      const app = new App();
      const stack = new Stack(app, 'S');
      const watchdog = new ReleaseWatchdog(stack, 'W', { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
      const g = new GuardedFunction(stack, 'G', { watchdog, existingFunction: inlineFunction(stack), extraAlarms: extra(stack, 6) });
      expect(g.nativeAlarms).toHaveLength(2);
      const t = Template.fromStack(stack);
      const [, composite] = resourcesOfType(t, 'AWS::CloudWatch::CompositeAlarm')[0];
      expect(composite.Properties.AlarmName).toMatch(/^S-G-[0-9A-F]{8}-any-layer$/);
      const rule = JSON.stringify(composite.Properties.AlarmRule);
      for (const n of ['user-alarm-0', 'user-alarm-5', 'GNewVersionErrorRate']) expect(rule).toContain(n);
      expect(rule).not.toContain('Heartbeat');
      const [, dg] = resourcesOfType(t, 'AWS::CodeDeploy::DeploymentGroup')[0];
      expect((dg.Properties.AlarmConfiguration as { Alarms: unknown[] }).Alarms).toHaveLength(2);
    });
  });
});

describe('synth output', () => {
  it('announces the layers guarding each release', () => {
    const { stack } = build({ maxErrorRate: 0.02 });
    Annotations.fromStack(stack).hasInfo(
      '/Shop/Orders',
      'canary-watchdog guards live with canary 10 % for 5 min, bake 10 min. Layers: config (1 checks: TABLE_NAME); probes (1: health; alarm below 95 % success); ' +
        'new-version (ExecutedVersion: errors > 2 %, throttles > 5 %, p99 > 2400 ms, after 20 invocations; and versus the old version); service (alias error rate). ' +
        "CodeDeploy's own alarms: 5 (heartbeat first).",
    );
  });
});
