import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AlarmLayer, ConfigFormat, GuardedFunction, PreexistingAlarms, ProbeStatus, ReleaseWatchdog, WatchdogMode, type GuardedFunctionProps, type ReleaseWatchdogProps } from '../../src';
import { parseWatchdogConfig, type WatchdogConfig } from '../../src/core/config';
import { newestNodeRuntime } from '../../src/constructs/node-runtime';
import { inlineFunction, joinToText, resourcesOfType } from './helpers';

const HEALTH = { name: 'health', event: { rawPath: '/health' }, expect: { status: ProbeStatus.SUCCESS as const } };

function setup(props: Partial<GuardedFunctionProps> = {}, watchdogProps: ReleaseWatchdogProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog', watchdogProps);
  const guarded = new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack), dashboard: false, ...props });
  return { app, stack, watchdog, guarded };
}

function watchdogConfig(template: Template): WatchdogConfig {
  const [, fn] = resourcesOfType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === 'canary-watchdog watchdog')!;
  const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return parseWatchdogConfig(JSON.parse(joinToText(env.CANARY_WATCHDOG_CONFIG)));
}

/** CodeDeploy's own alarm list, each alarm as its name (imported alarms) or `ref-<logical id>`. */
function codeDeployAlarms(template: Template): string[] {
  const [, dg] = resourcesOfType(template, 'AWS::CodeDeploy::DeploymentGroup')[0];
  return (dg.Properties.AlarmConfiguration as { Alarms: { Name: unknown }[] }).Alarms.map((a) => joinToText(a.Name));
}

const userAlarms = (stack: Stack, n: number, from = 0) => Array.from({ length: n }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `User${from + i}`, `user-alarm-${from + i}`));

describe('GuardedFunction.addProbe', () => {
  it('gives a function declared without probes the probes layer: its alarm, its place in CodeDeploy\'s list and the watchdog configuration', () => {
    const { stack, guarded } = setup();
    guarded.addProbe(HEALTH);
    const t = Template.fromStack(stack);
    const [probeAlarmId] = resourcesOfType(t, 'AWS::CloudWatch::Alarm').find(([, a]) => joinToText(a.Properties.AlarmName).includes('probe-failures'))!;
    // Heartbeat first, then the probes alarm before the new-version alarms, as when declared in the props.
    expect(codeDeployAlarms(t)).toHaveLength(5);
    expect(codeDeployAlarms(t)[1]).toBe(`ref-${probeAlarmId}`);
    const [, alias] = resourcesOfType(t, 'AWS::Lambda::Alias')[0];
    expect(alias.DependsOn).toContain(probeAlarmId);
    const guard = watchdogConfig(t).guards[0];
    expect(guard.probes.map((p) => p.name)).toEqual(['health']);
    expect(guard.alarms.probes).toEqual(['Shop-Orders-A8B1F509-probe-failures-v{version}']);
    expect(Annotations.fromStack(stack).findWarning('/Shop/Orders', Match.stringLikeRegexp('has no probes'))).toHaveLength(0);
  });

  it('adds to the probes of the props, with one probes alarm', () => {
    const { stack, guarded } = setup({ probes: [HEALTH] });
    guarded.addProbe({ name: 'list-orders', event: { rawPath: '/orders' }, expect: { status: ProbeStatus.SUCCESS } });
    const t = Template.fromStack(stack);
    expect(watchdogConfig(t).guards[0].probes.map((p) => p.name)).toEqual(['health', 'list-orders']);
    expect(guarded.probes.map((p) => p.name)).toEqual(['health', 'list-orders']);
    expect(resourcesOfType(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => joinToText(a.Properties.AlarmName).includes('probe-failures'))).toHaveLength(1);
  });

  it.each([
    ['a name the props already use', HEALTH, 'Shop/Orders: probes: duplicate probe name "health"; each must be unique'],
    ['no expectation', { name: 'p', event: {}, expect: {} }, 'Shop/Orders: probes[1].expect: a probe needs at least one expectation: status, body or maxLatencyMs'],
    ['an unknown status', { name: 'p', event: {}, expect: { status: 'ok' as never } }, 'Shop/Orders: probes[1].expect.status: expected one of success, error, got "ok"'],
  ])('rejects a probe with %s, as the props do, and keeps the probes as they were', (_what, probe, message) => {
    const { guarded } = setup({ probes: [HEALTH] });
    expect(() => guarded.addProbe(probe)).toThrow(message);
    expect(guarded.probes.map((p) => p.name)).toEqual(['health']);
  });
});

describe('GuardedFunction.addConfigCheck', () => {
  it('hands the check to the watchdog configuration', () => {
    const { stack, guarded } = setup({ configChecks: [{ key: 'TABLE_NAME' }] });
    guarded.addConfigCheck({ key: 'TABLE_NAME_2', required: false, format: ConfigFormat.JSON });
    expect(watchdogConfig(Template.fromStack(stack)).guards[0].configChecks.map((c) => [c.key, c.required, c.format])).toEqual([
      ['TABLE_NAME', true, 'string'],
      ['TABLE_NAME_2', false, 'json'],
    ]);
  });

  it("fails synth when an added check requires a key the function's environment lacks", () => {
    const { app, guarded } = setup();
    guarded.addConfigCheck({ key: 'PAYMENTS_URL', format: ConfigFormat.URL });
    expect(() => app.synth()).toThrow(/Shop\/Orders: configChecks: PAYMENTS_URL is required by a config check but not defined in the function's environment \(defined: TABLE_NAME\)/);
  });

  it.each([
    ['a key the props already check', { key: 'TABLE_NAME' }, 'Shop/Orders: configChecks: duplicate config check key "TABLE_NAME"; each must be unique'],
    ['an unknown format', { key: 'X', format: 'yaml' as never }, 'Shop/Orders: configChecks[1].format: expected one of string, json, url, number, integer, boolean, got "yaml"'],
    ['reachability on a non-URL', { key: 'X', reachableWithinMs: 100 }, 'Shop/Orders: configChecks[1].reachableWithinMs: only a check with format "url" can test reachability (format is string)'],
  ])('rejects a check with %s, as the props do', (_what, check, message) => {
    const { guarded } = setup({ configChecks: [{ key: 'TABLE_NAME' }] });
    expect(() => guarded.addConfigCheck(check)).toThrow(message);
    expect(guarded.configChecks.map((c) => c.key)).toEqual(['TABLE_NAME']);
  });
});

describe('GuardedFunction.addAlarm', () => {
  it('puts an alarm in the service layer by default: the watchdog judges it, reads it and is triggered by it', () => {
    const { stack, guarded } = setup();
    guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Payments', 'payments-5xx'));
    const t = Template.fromStack(stack);
    expect(watchdogConfig(t).guards[0].alarms.service).toEqual(['Shop-Orders-A8B1F509-alias-error-rate', 'payments-5xx']);
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { alarmName: Match.arrayWith(['payments-5xx']) } } });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:DescribeAlarms', Resource: Match.arrayWith([Match.objectLike({ 'Fn::Join': Match.anyValue() })]) })]) },
    });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain(':alarm:payments-5xx');
    // preexistingAlarms ignore (the default): the service layer stays out of CodeDeploy's list.
    expect(codeDeployAlarms(t)).not.toContain('payments-5xx');
  });

  it("reaches CodeDeploy's list when the policy hands it the service layer, like extraAlarms", () => {
    const { stack, guarded } = setup({}, { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Payments', 'payments-5xx'));
    expect(codeDeployAlarms(Template.fromStack(stack))).toContain('payments-5xx');
  });

  it('joins a custom layer of the props by name, and opens a new one after them', () => {
    const { stack, guarded } = setup({ customLayers: [{ name: 'downstream', alarms: [cloudwatch.Alarm.fromAlarmName(new Stack(), 'D', 'db-errors')] }] });
    guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Queue', 'queue-age'), AlarmLayer.custom('business'));
    guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Cache', 'cache-errors'), AlarmLayer.custom('downstream'));
    expect(watchdogConfig(Template.fromStack(stack)).guards[0].customLayers).toEqual([
      { name: 'downstream', alarms: ['db-errors', 'cache-errors'] },
      { name: 'business', alarms: ['queue-age'] },
    ]);
  });

  it("combines added alarms into the composite alarm past CodeDeploy's 10", () => {
    const { stack, guarded } = setup({}, { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    for (const a of userAlarms(stack, 6)) guarded.addAlarm(a);
    const t = Template.fromStack(stack);
    expect(codeDeployAlarms(t)).toHaveLength(2);
    const [, composite] = resourcesOfType(t, 'AWS::CloudWatch::CompositeAlarm')[0];
    expect(JSON.stringify(composite.Properties.AlarmRule)).toContain('user-alarm-5');
  });

  it('rejects the alarm past 10 when combining is off, naming the count', () => {
    const { stack, guarded } = setup({ combineNativeAlarms: false }, { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    for (const a of userAlarms(stack, 5)) guarded.addAlarm(a);
    expect(() => guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'One', 'one-too-many'))).toThrow(
      "Shop/Orders: extraAlarms: 11 alarms for the deployment group (heartbeat, 4 layer alarms, 6 of yours) exceed CodeDeploy's limit of 10; allow combineNativeAlarms or pass fewer extraAlarms",
    );
  });

  it('rejects an alarm already guarded, by the props or by an earlier call: CodeDeploy rejects a list naming one alarm twice', () => {
    const other = new Stack();
    const payments = cloudwatch.Alarm.fromAlarmName(other, 'P', 'payments-5xx');
    const { stack, guarded } = setup({ extraAlarms: [payments] });
    expect(() => guarded.addAlarm(payments, AlarmLayer.custom('business'))).toThrow('Shop/Orders: addAlarm: the alarm Default/P is already guarded here; CodeDeploy rejects an alarm listed twice');
    const mine = new cloudwatch.Alarm(stack, 'Mine', { metric: guarded.metricErrors(), threshold: 1, evaluationPeriods: 1 });
    guarded.addAlarm(mine);
    expect(() => guarded.addAlarm(mine)).toThrow('Shop/Orders: addAlarm: the alarm Shop/Mine is already guarded here');
    // Another import of the same name is the same alarm to CodeDeploy.
    expect(() => guarded.addAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Again', 'payments-5xx'))).toThrow('Shop/Orders: addAlarm: the alarm Shop/Again is already guarded here');
  });

  it('rejects the same alarm twice in the props', () => {
    const a = cloudwatch.Alarm.fromAlarmName(new Stack(), 'A', 'a');
    expect(() => setup({ extraAlarms: [a], customLayers: [{ name: 'x', alarms: [a] }] })).toThrow(
      'Shop/Orders: extraAlarms: the alarm Default/A is given twice in extraAlarms and customLayers; CodeDeploy rejects an alarm listed twice',
    );
  });

  it.each(['service', 'probes', 'Payments', ''])('rejects the custom layer name %j', (name) => {
    expect(() => AlarmLayer.custom(name)).toThrow(
      `AlarmLayer.custom: layer name ${JSON.stringify(name)} must be lowercase letters, digits and dashes, and not a built-in layer (config, probes, new-version, service)`,
    );
  });
});

describe('adding after the guard is settled', () => {
  it.each<[string, (g: GuardedFunction, s: Stack) => void]>([
    ['addAlarm', (g, s) => g.addAlarm(cloudwatch.Alarm.fromAlarmName(s, 'Late', 'late'))],
    ['addProbe', (g) => g.addProbe(HEALTH)],
    ['addConfigCheck', (g) => g.addConfigCheck({ key: 'TABLE_NAME' })],
  ])('rejects %s once nativeAlarms was read, since it would go unwatched', (method, add) => {
    const { stack, guarded } = setup();
    expect(guarded.nativeAlarms.length).toBeGreaterThan(0);
    expect(() => add(guarded, stack)).toThrow(
      `Shop/Orders: ${method}: called after the guard was settled (layerAlarms, nativeAlarms or dashboard read, or the app synthesized); call it before`,
    );
  });
});

describe('GuardedFunction.grantInvoke', () => {
  it('grants invoking the alias, so the grantee takes part in releases', () => {
    const { stack, guarded } = setup();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    guarded.grantInvoke(role);
    const t = Template.fromStack(stack);
    const [aliasId] = resourcesOfType(t, 'AWS::Lambda::Alias')[0];
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: { Ref: aliasId } })] },
    });
  });
});

describe('GuardedFunction metrics', () => {
  const { stack, guarded } = setup();
  const t = Template.fromStack(stack);
  const versionId = Object.keys(t.findResources('AWS::Lambda::Version'))[0];
  const rendered = (m: cloudwatch.Metric) => {
    const c = m.toMetricConfig().metricStat!;
    return { metricName: c.metricName, statistic: c.statistic, period: c.period.toSeconds(), dimensions: stack.resolve(c.dimensions) };
  };
  const dims = [
    { name: 'FunctionName', value: { Ref: 'Fn9270CBC0' } },
    { name: 'Resource', value: { 'Fn::Join': ['', [{ Ref: 'Fn9270CBC0' }, ':live']] } },
    { name: 'ExecutedVersion', value: { 'Fn::GetAtt': [versionId, 'Version'] } },
  ];

  it.each<[string, () => cloudwatch.Metric, string, string]>([
    ['metricErrors', () => guarded.metricErrors(), 'Errors', 'Sum'],
    ['metricDuration', () => guarded.metricDuration(), 'Duration', 'Average'],
    ['metricInvocations', () => guarded.metricInvocations(), 'Invocations', 'Sum'],
  ])('%s scopes the metric to the current version through the alias (ExecutedVersion), as the layer alarms do', (_name, metric, metricName, statistic) => {
    expect(rendered(metric())).toEqual({ metricName, statistic, period: 60, dimensions: expect.arrayContaining(dims) });
    expect(rendered(metric()).dimensions).toHaveLength(3);
  });

  it('takes MetricOptions as CDK metrics do', () => {
    expect(rendered(guarded.metricDuration({ statistic: 'p90', period: Duration.minutes(5) }))).toMatchObject({ statistic: 'p90', period: 300 });
    expect(rendered(guarded.metricErrors({ period: Duration.minutes(5) }))).toMatchObject({ statistic: 'Sum', period: 300 });
  });
});

describe('ReleaseWatchdog.of and the default watchdog', () => {
  const newFunction = (stack: Stack, id: string) => inlineFunction(stack, `${id}Fn`);
  const watchdogFunctions = (stack: Stack) =>
    resourcesOfType(Template.fromStack(stack), 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Description === 'canary-watchdog watchdog');

  it('creates one watchdog for the guarded functions of a stack given none', () => {
    const stack = new Stack(new App(), 'Shop');
    const a = new GuardedFunction(stack, 'A', { existingFunction: newFunction(stack, 'A') });
    const b = new GuardedFunction(stack, 'B', { existingFunction: newFunction(stack, 'B') });
    expect(a.watchdog).toBe(b.watchdog);
    expect(a.watchdog.node.path).toBe('Shop/ReleaseWatchdog');
    expect(watchdogFunctions(stack)).toHaveLength(1);
    expect(watchdogConfig(Template.fromStack(stack)).guards).toHaveLength(2);
  });

  it("uses the stack's own watchdog when it has one", () => {
    const stack = new Stack(new App(), 'Shop');
    const mine = new ReleaseWatchdog(stack, 'Watchdog', { mode: WatchdogMode.SHADOW });
    const g = new GuardedFunction(stack, 'A', { existingFunction: newFunction(stack, 'A') });
    expect(g.watchdog).toBe(mine);
    expect(ReleaseWatchdog.of(g)).toBe(mine);
    expect(watchdogFunctions(stack)).toHaveLength(1);
  });

  it("finds the stack's watchdog however deep it sits, and never one of another stack", () => {
    const app = new App();
    new ReleaseWatchdog(new Stack(app, 'Shared'), 'Watchdog');
    const shop = new Stack(app, 'Shop');
    expect(ReleaseWatchdog.of(shop).node.path).toBe('Shop/ReleaseWatchdog');
    expect(ReleaseWatchdog.of(new Construct(shop, 'Api'))).toBe(ReleaseWatchdog.of(shop));
    const ops = new Stack(app, 'Ops');
    const deep = new ReleaseWatchdog(new Construct(new Construct(ops, 'Platform'), 'Release'), 'Watchdog');
    expect(ReleaseWatchdog.of(new Construct(ops, 'Api'))).toBe(deep);
  });

  it('recognizes a watchdog by a marker, not by class identity, so two copies of the library agree', () => {
    const stack = new Stack(new App(), 'Shop');
    expect(ReleaseWatchdog.isReleaseWatchdog(new ReleaseWatchdog(stack, 'W'))).toBe(true);
    expect(ReleaseWatchdog.isReleaseWatchdog(new Construct(stack, 'C'))).toBe(false);
    expect(ReleaseWatchdog.isReleaseWatchdog({ [Symbol.for('canary-watchdog.ReleaseWatchdog')]: true })).toBe(true);
  });

  it('asks which watchdog to use when the stack has several', () => {
    const stack = new Stack(new App(), 'Shop');
    new ReleaseWatchdog(stack, 'Blue');
    new ReleaseWatchdog(stack, 'Green');
    expect(() => new GuardedFunction(stack, 'A', { existingFunction: newFunction(stack, 'A') })).toThrow(
      'Shop/A: watchdog: the stack Shop holds 2 ReleaseWatchdogs (Shop/Blue, Shop/Green); pass watchdog to say which one guards this function',
    );
  });

  it('rejects a watchdog created after the default one, which would leave the earlier functions on the default', () => {
    const stack = new Stack(new App(), 'Shop');
    new GuardedFunction(stack, 'A', { existingFunction: newFunction(stack, 'A') });
    expect(() => new ReleaseWatchdog(stack, 'Watchdog')).toThrow(
      'Shop/Watchdog: ReleaseWatchdog: the stack already has the default watchdog Shop/ReleaseWatchdog, created for guarded functions given no watchdog; create this ReleaseWatchdog before them (they then use it) or pass watchdog to each',
    );
  });

  it('allows several explicit watchdogs in one stack (to split the configuration), each with its own name', () => {
    const stack = new Stack(new App(), 'Shop');
    const blue = new ReleaseWatchdog(stack, 'Blue');
    const green = new ReleaseWatchdog(stack, 'Green');
    expect(blue.watchdogName).not.toBe(green.watchdogName);
    expect(() => new ReleaseWatchdog(stack, 'Red', { watchdogName: blue.watchdogName })).toThrow(
      `Shop/Red: watchdogName: "${blue.watchdogName}" is already the name of Shop/Blue in this stack; each watchdog needs its own`,
    );
  });

  it('rejects a watchdog name CloudWatch cannot take as a dimension value', () => {
    const stack = new Stack(new App(), 'Shop');
    expect(() => new ReleaseWatchdog(stack, 'W', { watchdogName: ' ' })).toThrow('Shop/W: watchdogName: must be 1 to 1024 characters, not only spaces (it is a CloudWatch dimension value), got " "');
  });
});

describe('existingFunction and aliasName', () => {
  it.each([
    ['129 characters', 'a'.repeat(129)],
    ['only digits (a version number)', '42'],
    ['a dot', 'v1.2'],
    ['nothing', ''],
  ])('rejects an alias name of %s, by Lambda\'s rule', (_what, aliasName) => {
    expect(() => setup({ aliasName })).toThrow(
      `Shop/Orders: aliasName: must be 1 to 128 letters, digits, - and _, and not only digits (Lambda's alias name rule), got ${JSON.stringify(aliasName)} (${aliasName.length} characters)`,
    );
  });

  it('rejects guarding one function twice with the same alias, which Lambda would refuse at deploy', () => {
    const { stack, guarded } = setup();
    expect(() => new GuardedFunction(stack, 'Again', { existingFunction: guarded.function })).toThrow(
      'Shop/Again: existingFunction: Shop/Fn is already guarded by Shop/Orders with the alias live; guard a function once',
    );
  });

  it('accepts an alias name of 128 characters', () => {
    const { stack } = setup({ aliasName: 'a'.repeat(128) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Alias', { Name: 'a'.repeat(128) });
  });
});

describe('runtime defaults', () => {
  const nodejs = (n: number) => new lambda.Runtime(`nodejs${n}.x`, lambda.RuntimeFamily.NODEJS);

  it('picks the newest Node.js runtime aws-cdk-lib knows', () => {
    const runtimes = { NODEJS_18_X: nodejs(18), NODEJS_22_X: nodejs(22), NODEJS_26_X: nodejs(26), PYTHON_3_12: lambda.Runtime.PYTHON_3_12 };
    expect(newestNodeRuntime(runtimes).name).toBe('nodejs26.x');
  });

  it('refuses an aws-cdk-lib without Node.js 22 or newer, whose runtimes the bundles do not target', () => {
    expect(() => newestNodeRuntime({ NODEJS_18_X: nodejs(18), NODEJS_20_X: nodejs(20) })).toThrow(
      'canary-watchdog: the installed aws-cdk-lib knows no Node.js runtime of 22 or newer (newest: nodejs20.x); upgrade aws-cdk-lib or set runtime',
    );
  });

  it('gives a new guarded function the newest Node.js runtime of the installed aws-cdk-lib, not CDK\'s legacy nodejs16.x', () => {
    const stack = new Stack(new App(), 'Shop');
    const newest = Math.max(...Object.getOwnPropertyNames(lambda.Runtime).flatMap((n) => /^NODEJS_(\d+)_X$/.exec(n)?.[1] ?? []).map(Number));
    const g = new GuardedFunction(stack, 'A', { code: lambda.Code.fromInline('exports.handler = async () => 1;'), handler: 'index.handler' });
    expect(newest).toBeGreaterThanOrEqual(22);
    expect(g.function.runtime.name).toBe(`nodejs${newest}.x`);
    for (const fn of g.watchdog.functions()) expect(fn.runtime.name).toBe(`nodejs${newest}.x`);
  });

  it('keeps a runtime the user sets', () => {
    const stack = new Stack(new App(), 'Shop');
    const g = new GuardedFunction(stack, 'A', { code: lambda.Code.fromInline('exports.handler = async () => 1;'), handler: 'index.handler', runtime: lambda.Runtime.NODEJS_22_X });
    expect(g.function.runtime.name).toBe('nodejs22.x');
  });
});
