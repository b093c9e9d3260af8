import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ConfigDelivery, GuardedFunction, PreexistingAlarms, ProbeStatus, ReleaseWatchdog, Rollout } from '../../src';
import { fitName } from '../../src/constructs/physical-names';
import { alarmNameOf, inlineFunction, joinToText } from './helpers';

/**
 * Every physical name the constructs may set, with AWS's limit for it:
 * - Lambda FunctionName 64: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
 * - Lambda alias Name 128: https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
 * - CloudWatch AlarmName 255: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 *   and https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
 * - DashboardName 255, A-Z a-z 0-9 - _: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
 * - CodeDeploy application, deployment group and deployment config names 100:
 *   https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateApplication.html,
 *   API_CreateDeploymentGroup.html, API_CreateDeploymentConfig.html
 * - EventBridge rule Name 64: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
 * - DynamoDB TableName 255: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
 * - CloudWatch Logs logGroupName 512: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
 * - IAM role name 64: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
 */
const LIMITS: [type: string, prop: string, max: number, pattern?: RegExp][] = [
  ['AWS::Lambda::Function', 'FunctionName', 64, /^[a-zA-Z0-9_-]+$/],
  ['AWS::Lambda::Alias', 'Name', 128, /^[a-zA-Z0-9_-]+$/],
  ['AWS::CloudWatch::Alarm', 'AlarmName', 255],
  ['AWS::CloudWatch::CompositeAlarm', 'AlarmName', 255],
  ['AWS::CloudWatch::Dashboard', 'DashboardName', 255, /^[A-Za-z0-9_-]+$/],
  ['AWS::CodeDeploy::Application', 'ApplicationName', 100],
  ['AWS::CodeDeploy::DeploymentGroup', 'DeploymentGroupName', 100],
  ['AWS::CodeDeploy::DeploymentConfig', 'DeploymentConfigName', 100],
  ['AWS::Events::Rule', 'Name', 64],
  ['AWS::DynamoDB::Table', 'TableName', 255],
  ['AWS::Logs::LogGroup', 'LogGroupName', 512],
  ['AWS::IAM::Role', 'RoleName', 64],
];

/** The largest Lambda version number a name must hold: 10 digits (2^32 - 1), far beyond any function's history. */
const LONGEST_VERSION = '4294967295';

/** Every physical name set in the template, by resource type, a version-scoped alarm's with the longest version. */
function physicalNames(template: Template): { type: string; id: string; name: string; max: number; pattern?: RegExp }[] {
  return LIMITS.flatMap(([type, prop, max, pattern]) =>
    Object.entries(template.findResources(type))
      .filter(([, r]) => r.Properties?.[prop] !== undefined)
      .map(([id, r]) => ({
        type,
        id,
        name: type === 'AWS::CloudWatch::Alarm' ? alarmNameOf(r.Properties).replace('{version}', LONGEST_VERSION) : joinToText(r.Properties[prop]),
        max,
        pattern,
      })),
  );
}

/** A stack with everything that sets a name: hooks, custom rollout, composite alarm, dashboard, function URL, config item. */
function fullStack(app: App, stackName: string, opts: { id?: string; aliasName?: string; watchdogId?: string } = {}): Stack {
  const stack = new Stack(app, stackName);
  const deep = new Construct(new Construct(stack, `Platform${'p'.repeat(100)}`), `Release${'r'.repeat(100)}`);
  const watchdog = new ReleaseWatchdog(deep, opts.watchdogId ?? 'Watchdog', { configDelivery: ConfigDelivery.STATE_TABLE, policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
  const g = new GuardedFunction(new Construct(stack, `Service${'s'.repeat(150)}`), opts.id ?? 'Orders', {
    watchdog,
    existingFunction: inlineFunction(stack),
    aliasName: opts.aliasName,
    rollout: Rollout.linear({ percent: 7, everyMinutes: 3 }),
    probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }],
    extraAlarms: Array.from({ length: 6 }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `Extra${i}`, `extra-${i}`)),
  });
  g.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  return stack;
}

// CloudFormation stack names: at most 128 characters, a letter first, then letters, digits and dashes.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
const LONGEST_STACK = `orders-service-production-eu-west-1-${'x'.repeat(128 - 36)}`;

describe('physical names at the limits', () => {
  const app = new App();
  const longest = Template.fromStack(fullStack(app, LONGEST_STACK, { id: `Orders${'o'.repeat(250)}`, aliasName: 'a'.repeat(128), watchdogId: `Watchdog${'w'.repeat(250)}` }));
  const names = physicalNames(longest);

  it('sets the names this test bounds (hooks, alarms, composite, dashboard, CodeDeploy)', () => {
    const types = new Set(names.map((n) => n.type));
    for (const t of ['AWS::Lambda::Function', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm', 'AWS::CloudWatch::Dashboard', 'AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentGroup']) {
      expect(types).toContain(t);
    }
    expect(LONGEST_STACK).toHaveLength(128);
  });

  it("keeps every generated name within its service's limit and character set, with a 128-character stack name, 250-character ids and a 128-character alias", () => {
    const over = names.filter((n) => n.name.length > n.max || (n.pattern && !n.pattern.test(n.name)));
    expect(over.map((n) => `${n.type} ${n.id}: ${n.name.length} > ${n.max}: ${n.name}`)).toEqual([]);
  });

  it('names both hooks CodeDeployHook_*, cut with a hash to 64 characters', () => {
    const hooks = names.filter((n) => n.type === 'AWS::Lambda::Function').map((n) => n.name);
    expect(hooks).toHaveLength(2);
    for (const h of hooks) expect(h).toMatch(/^CodeDeployHook_orders-service-production-eu-west-1-[0-9A-F]{8}-(pre|post)$/);
  });

  it('keeps names unique: no two resources share one', () => {
    const byType = new Map<string, string[]>();
    for (const n of names) byType.set(n.type, [...(byType.get(n.type) ?? []), n.name]);
    for (const [, list] of byType) expect(new Set(list).size).toBe(list.length);
  });

  it('fits the post-traffic hook of a 36-character stack name, which used to be 65 characters', () => {
    const stack = new Stack(new App(), 'orders-service-production-eu-west-1a');
    const w = new ReleaseWatchdog(stack, 'Watchdog');
    const name = stack.resolve((w.postTrafficHook.node.defaultChild as lambda.CfnFunction).functionName) as string;
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^CodeDeployHook_orders-service-production-eu-west-1-[0-9A-F]{8}-post$/);
  });

  it('tells apart stacks whose 128-character names differ only in the last character', () => {
    const other = physicalNames(Template.fromStack(fullStack(new App(), `${LONGEST_STACK.slice(0, -1)}y`, { id: `Orders${'o'.repeat(250)}`, watchdogId: `Watchdog${'w'.repeat(250)}` })));
    const mine = new Set(names.filter((n) => n.type !== 'AWS::Lambda::Alias').map((n) => n.name));
    expect(other.filter((n) => n.type !== 'AWS::Lambda::Alias' && mine.has(n.name)).map((n) => n.name)).toEqual([]);
  });

  it('tells apart two watchdogs of one stack with the same id under different parents', () => {
    const stack = new Stack(new App(), LONGEST_STACK);
    const hooks = ['Blue', 'Green'].map((parent) => {
      const w = new ReleaseWatchdog(new Construct(stack, parent), 'Watchdog');
      return stack.resolve((w.preTrafficHook.node.defaultChild as lambda.CfnFunction).functionName) as string;
    });
    expect(hooks[0]).not.toBe(hooks[1]);
  });

  it('gives the same names on every synth', () => {
    const again = physicalNames(Template.fromStack(fullStack(new App(), LONGEST_STACK, { id: `Orders${'o'.repeat(250)}`, aliasName: 'a'.repeat(128), watchdogId: `Watchdog${'w'.repeat(250)}` })));
    expect(again).toEqual(names);
  });
});

describe('fitName', () => {
  it.each<[string, string, number, string | RegExp]>([
    ['keeps a name that fits as it is', 'Shop-Watchdog', 64, 'Shop-Watchdog'],
    ['cuts a long name to the limit with a hash of the whole', 'a'.repeat(70), 64, /^a{55}-[0-9A-F]{8}$/],
    ['hashes a name it had to clean, so cleaning cannot merge two names', 'My.Watchdog', 64, /^MyWatchdog-[0-9A-F]{8}$/],
  ])('%s', (_what, text, max, expected) => {
    const name = fitName(text, max);
    if (typeof expected === 'string') expect(name).toBe(expected);
    else expect(name).toMatch(expected);
    expect(name.length).toBeLessThanOrEqual(max);
  });

  it('gives different names to texts that differ only past the cut', () => {
    expect(fitName(`${'a'.repeat(70)}1`, 64)).not.toBe(fitName(`${'a'.repeat(70)}2`, 64));
  });
});
