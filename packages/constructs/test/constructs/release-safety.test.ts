import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfigFormat, GuardedFunction, InsufficientAction, PreexistingAlarms, ProbeStatus, ReleaseWatchdog, WatchdogMode, type ProbeSpec, type ReleaseWatchdogProps } from '../../src';
import { parseWatchdogConfig, type WatchdogConfig } from '../../src/core/config';
import { findCycle } from './cycles';
import { alarmNameOf, inlineFunction, joinToText, resourcesOfType } from './helpers';

const PROBE: ProbeSpec[] = [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }];

/** A stack with one watchdog and guarded functions `ids`, each with one user alarm. */
function stackWith(watchdogProps: ReleaseWatchdogProps, ids: string[] = ['Orders'], after?: (g: GuardedFunction[]) => void, probes: ProbeSpec[] = PROBE) {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog', watchdogProps);
  const guarded = ids.map(
    (id) =>
      new GuardedFunction(stack, id, {
        watchdog,
        existingFunction: inlineFunction(stack, `${id}Fn`),
        probes,
        extraAlarms: [cloudwatch.Alarm.fromAlarmName(stack, `${id}UserAlarm`, `${id.toLowerCase()}-table-errors`)],
        customLayers: [{ name: 'downstream', alarms: [cloudwatch.Alarm.fromAlarmName(stack, `${id}Downstream`, `${id.toLowerCase()}-payments-latency`)] }],
        dashboard: false,
      }),
  );
  after?.(guarded);
  const template = Template.fromStack(stack);
  return { app, stack, watchdog, guarded, template };
}

/** The alarm names in each deployment group's CodeDeploy list, Refs resolved to AlarmName (the version as `{version}`), by group name. */
function codeDeployLists(template: Template): Record<string, string[]> {
  const names = Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, a]) => [id, alarmNameOf(a.Properties)]));
  return Object.fromEntries(
    resourcesOfType(template, 'AWS::CodeDeploy::DeploymentGroup').map(([, g]) => [
      g.Properties.DeploymentGroupName as string,
      ((g.Properties.AlarmConfiguration as { Alarms?: { Name: string | { Ref: string } }[] } | undefined)?.Alarms ?? []).map((a) => (typeof a.Name === 'string' ? a.Name : names[a.Name.Ref])),
    ]),
  );
}

function runtimeConfig(template: Template): WatchdogConfig {
  const fn = resourcesOfType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === 'canary-watchdog watchdog')![1];
  return parseWatchdogConfig(JSON.parse(joinToText((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.CANARY_WATCHDOG_CONFIG)));
}

describe('per-group heartbeat (one bad deployment stops only its own group)', () => {
  const { template } = stackWith({}, ['Orders', 'Pricing']);

  it("puts each group's own heartbeat alarm first in that group's list, and no other group's", () => {
    const lists = codeDeployLists(template);
    expect(Object.keys(lists).sort()).toEqual(['Shop-Orders-A8B1F509', 'Shop-Pricing-70B202D4']);
    for (const [group, alarms] of Object.entries(lists)) {
      expect(alarms[0]).toBe(`${group}-heartbeat`);
      expect(alarms.filter((a) => a.endsWith('-heartbeat'))).toEqual([`${group}-heartbeat`]);
    }
  });

  it("watches the heartbeat of that group's dimension only", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Shop-Pricing-70B202D4-heartbeat',
      Dimensions: [
        { Name: 'DeploymentGroup', Value: 'Shop-Pricing-70B202D4/Shop-Pricing-70B202D4' },
        { Name: 'Watchdog', Value: Match.anyValue() },
      ],
    });
  });
});

/** What CodeDeploy's list holds in every enforce mode: the group's heartbeat, then the version-scoped alarms. */
const HEARTBEAT_AND_VERSION_SCOPED = [
      'Shop-Orders-A8B1F509-heartbeat',
      'Shop-Orders-A8B1F509-probe-failures-v{version}',
      'Shop-Orders-A8B1F509-new-version-error-rate-v{version}',
      'Shop-Orders-A8B1F509-new-version-throttle-rate-v{version}',
      'Shop-Orders-A8B1F509-new-version-p99duration-v{version}',
];

describe("CodeDeploy's own alarm list follows preexistingAlarms and mode", () => {
  it('leaves the alias error rate, the user alarms and custom layers out under preexistingAlarms ignore (the default), yet the watchdog still judges them', () => {
    const { template } = stackWith({});
    expect(codeDeployLists(template)['Shop-Orders-A8B1F509']).toEqual([
      ...HEARTBEAT_AND_VERSION_SCOPED,
    ]);
    const guard = runtimeConfig(template).guards[0];
    expect(guard.alarms.service).toEqual(['Shop-Orders-A8B1F509-alias-error-rate', 'orders-table-errors']);
    expect(guard.customLayers).toEqual([{ name: 'downstream', alarms: ['orders-payments-latency'] }]);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { alarmName: Match.arrayWith(['Shop-Orders-A8B1F509-alias-error-rate', 'orders-table-errors', 'orders-payments-latency']) } },
    });
  });

  it('puts every layer in the list under preexistingAlarms rollback', () => {
    const { template } = stackWith({ policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    expect(codeDeployLists(template)['Shop-Orders-A8B1F509']).toEqual([
      ...HEARTBEAT_AND_VERSION_SCOPED,
      'Shop-Orders-A8B1F509-alias-error-rate',
      'orders-table-errors',
      'orders-payments-latency',
    ]);
  });

  it('puts no watchdog alarm in the list in shadow mode, and rolls back on alarm only where there are alarms', () => {
    const { template } = stackWith({ mode: WatchdogMode.SHADOW });
    expect(codeDeployLists(template)['Shop-Orders-A8B1F509']).toEqual([]);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayEquals(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST']) },
    });
    expect(runtimeConfig(template).mode).toBe('shadow');
  });
});

describe('function URL 5xx (silent HTTP 500s)', () => {
  it('adds the new-version HTTP 5xx alarm and httpMetrics when a function URL is added to the alias after construction', () => {
    const { template } = stackWith({}, ['Orders'], ([g]) => g.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }));
    const [, alarm] = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([, a]) => alarmNameOf(a.Properties) === 'Shop-Orders-A8B1F509-new-version-http-5xx-rate-v{version}')!;
    const metrics = (alarm.Properties.Metrics as { Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string }[] } } }[]);
    expect(metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual(['Url5xxCount', 'UrlRequestCount']);
    for (const m of metrics.filter((x) => x.MetricStat)) expect(m.MetricStat!.Metric.Dimensions.map((d) => d.Name).sort()).toEqual(['ExecutedVersion', 'FunctionName', 'Resource']);
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(t >= 20, IF(e / t > 0.05 + 2.326 * SQRT(0.0475 / t), e / t, 0), 0)');
    const guard = runtimeConfig(template).guards[0];
    expect(guard.httpMetrics).toBe('function-url');
    expect(guard.alarms['new-version']).toContain('Shop-Orders-A8B1F509-new-version-http-5xx-rate-v{version}');
    expect(codeDeployLists(template)['Shop-Orders-A8B1F509']).toContain('Shop-Orders-A8B1F509-new-version-http-5xx-rate-v{version}');
  });

  it('adds neither without a function URL', () => {
    const { template } = stackWith({});
    expect(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => alarmNameOf(a.Properties))).not.toContain('Shop-Orders-A8B1F509-new-version-http-5xx-rate-v{version}');
    expect('httpMetrics' in runtimeConfig(template).guards[0]).toBe(false);
  });
});

describe('releases that nothing checks', () => {
  it('warns at synth, naming the function, when a guarded function has no probes', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack), dashboard: false });
    Annotations.fromStack(stack).hasWarning('/Shop/Orders', Match.stringLikeRegexp('^Shop/Fn has no probes: at low traffic its releases can reach 100 % on no evidence'));
  });

  it('does not warn when the function has probes', () => {
    const { stack } = stackWith({});
    Annotations.fromStack(stack).hasNoWarning('/Shop/Orders', Match.stringLikeRegexp('no probes'));
  });

  it("renders a policy that demands new-version evidence at the final shift into the runtime's config", () => {
    const { template } = stackWith({ policy: { insufficient: { 'final-shift': { 'new-version': InsufficientAction.ROLLBACK, probes: InsufficientAction.ROLLBACK } } } });
    expect(runtimeConfig(template).policy.insufficient['final-shift']).toEqual({ 'new-version': 'rollback', probes: 'rollback' });
  });

  it("writes a probe's equalTo into the runtime's config as equals, the runtime's own field", () => {
    const probe = { name: 'ok', event: { rawPath: '/ok' }, expect: { body: [{ path: '$.statusCode', equalTo: 200 }, { path: '$.body', matches: 'ok' }] } };
    const { template } = stackWith({}, ['Orders'], undefined, [probe]);
    expect(runtimeConfig(template).guards[0].probes).toEqual([
      { name: 'ok', event: { rawPath: '/ok' }, expect: { body: [{ path: '$.statusCode', equals: 200 }, { path: '$.body', matches: 'ok' }] } },
    ]);
  });

  it.each<[string, ReleaseWatchdogProps['policy'], string]>([
    ['an unknown action', { insufficient: { 'final-shift': { 'new-version': 'stop' as never } } }, 'Shop/W: policy.insufficient.final-shift.new-version: expected one of proceed, rollback, got "stop"'],
    ['an unknown stage', { insufficient: { finalShift: {} } as never }, 'Shop/W: policy.insufficient.finalShift: unknown field'],
    ['an out-of-range blindAfter', { blindAfter: 0 }, 'Shop/W: policy.blindAfter: expected an integer from 1 to 60, got 0'],
  ])('rejects a policy with %s at synth, naming the prop', (_name, policy, message) => {
    expect(() => new ReleaseWatchdog(new Stack(new App(), 'Shop'), 'W', { policy })).toThrow(message);
  });
});

describe('reachability from the VPC the function runs in', () => {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    environment: { PAYMENTS_URL: 'https://payments.internal/v2' },
    vpc,
  });
  const g = new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: fn, probes: PROBE, configChecks: [{ key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 2000 }], dashboard: false });
  const template = Template.fromStack(stack);
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const [checkerId, checker] = functions.find(([, f]) => f.Properties.Description === 'canary-watchdog reach-check')!;
  const [, guarded] = functions.find(([id]) => id.startsWith('Fn'))!;

  it('runs a checker in the same subnets and security groups as the guarded function', () => {
    expect(g.reachabilityChecker).toBeDefined();
    expect(checker.Properties.VpcConfig).toEqual(guarded.Properties.VpcConfig);
  });

  it('names the checker in the guard config and lets the pre-traffic hook invoke it', () => {
    expect(joinToText(JSON.stringify(runtimeConfig(template).guards[0].reachabilityChecker))).toBe(`"ref-${checkerId}"`);
    const hookRole = (functions.find(([, f]) => f.Properties.Description === 'canary-watchdog pre-traffic')![1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const statements = resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === hookRole))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [checkerId, 'Arn'] } }));
  });

  it('forms no dependency cycle', () => {
    expect(findCycle(template.toJSON() as never)).toBeNull();
  });

  it('creates no checker for a function outside a VPC', () => {
    const { template: t } = stackWith({});
    expect(resourcesOfType(t, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Description === 'canary-watchdog reach-check')).toEqual([]);
    expect('reachabilityChecker' in runtimeConfig(t).guards[0]).toBe(false);
  });
});
