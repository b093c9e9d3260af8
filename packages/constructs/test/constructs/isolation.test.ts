/**
 * The guard never obeys what it guards: a guarded function's role reaches only its own watch
 * items in the state table, and cannot write the watchdog's metrics (issue 21). The lab's IAM
 * tests play the same policies through STS; these pin the statements as synthesized.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfigDelivery, GuardedFunction, ProbeStatus, ReleaseWatchdog } from '../../src';
import { build, joinToText, resourcesOfType } from './helpers';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Every statement of every policy attached to the role whose logical id starts with `rolePrefix`. */
function statementsOfRole(t: Template, rolePrefix: string): Statement[] {
  const [[roleId, role]] = resourcesOfType(t, 'AWS::IAM::Role').filter(([id]) => id.startsWith(rolePrefix));
  const inline = resourcesOfType(t, 'AWS::IAM::Policy').filter(([, p]) => list(p.Properties.Roles).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })));
  const managedIds = list(role.Properties.ManagedPolicyArns).flatMap((a) => ((a as { Ref?: string }).Ref ? [(a as { Ref: string }).Ref] : []));
  const managed = resourcesOfType(t, 'AWS::IAM::ManagedPolicy').filter(([id, p]) => managedIds.includes(id) || list(p.Properties.Roles).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })));
  return [...inline, ...managed].flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (s: Statement) => list(s.Action).map(String);
const mentionsTable = (s: Statement) => JSON.stringify(s.Resource).includes('WatchdogState');

describe("a guarded function's role and the watchdog's state", () => {
  it('may read and add to its own watch items only: GetItem and UpdateItem with a LeadingKeys condition on #watch#<function>#*', () => {
    const t = build().template();
    const allows = statementsOfRole(t, 'FnServiceRole').filter((s) => s.Effect === 'Allow' && mentionsTable(s));
    expect(allows).toHaveLength(1);
    expect(actionsOf(allows[0]).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const keys = allows[0].Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    expect(list(keys).map(joinToText)).toEqual([`#watch#ref-${resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith('Fn'))![0]}#*`]);
  });

  it("denies every other action on the table and its stream, and GetItem/UpdateItem of any other key, whatever the user's own policies allow", () => {
    const t = build().template();
    const denies = statementsOfRole(t, 'FnServiceRole').filter((s) => s.Effect === 'Deny' && mentionsTable(s));
    const everythingElse = denies.find((s) => s.NotAction !== undefined);
    expect(list(everythingElse?.NotAction).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(everythingElse?.Resource)).toMatch(/"\/\*"/);
    const otherKeys = denies.find((s) => s.Condition?.['ForAnyValue:StringNotLike']);
    expect(actionsOf(otherKeys!).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(list(otherKeys!.Condition!['ForAnyValue:StringNotLike']['dynamodb:LeadingKeys']).map(joinToText)[0]).toMatch(/^#watch#ref-Fn[0-9A-F]{8}#\*$/);
  });

  it('with telemetry: false, denies the whole state table', () => {
    const t = build({ telemetry: false }).template();
    const statements = statementsOfRole(t, 'FnServiceRole').filter(mentionsTable);
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    expect(statements.some((s) => s.Effect === 'Deny' && actionsOf(s).includes('dynamodb:*') && s.Condition === undefined)).toBe(true);
  });

  it.each([true, false])("denies PutMetricData into the watchdog's namespace (telemetry %p)", (telemetry) => {
    const t = build({ telemetry }).template();
    const deny = statementsOfRole(t, 'FnServiceRole').find((s) => s.Effect === 'Deny' && actionsOf(s).includes('cloudwatch:PutMetricData'));
    expect(deny?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CanaryWatchdog' } });
  });

  it('denies reporting its own lifecycle hooks or continuing its own deployment', () => {
    const t = build().template();
    const deny = statementsOfRole(t, 'FnServiceRole').find((s) => s.Effect === 'Deny' && actionsOf(s).includes('codedeploy:PutLifecycleEventHookExecutionStatus'));
    expect(actionsOf(deny!).sort()).toEqual(['codedeploy:ContinueDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus']);
  });

  it("isolates a role the user brings, next to the user's own broad grants", () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    const role = new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*', 'cloudwatch:*'], resources: ['*'] }));
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'), role, memorySize: 256 });
    new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: fn, probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
    const statements = statementsOfRole(Template.fromStack(stack), 'Mine');
    expect(statements.filter((s) => s.Effect === 'Deny').length).toBeGreaterThanOrEqual(3);
  });
});

describe("the watchdog's own roles", () => {
  it('every role that may PutMetricData may do so only in the namespace', () => {
    const t = build().template();
    for (const [, p] of [...resourcesOfType(t, 'AWS::IAM::Policy'), ...resourcesOfType(t, 'AWS::IAM::ManagedPolicy')]) {
      for (const s of (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (s.Effect === 'Allow' && actionsOf(s).some((a) => a === 'cloudwatch:PutMetricData' || a === 'cloudwatch:*' || a === '*')) {
          expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CanaryWatchdog' } });
        }
      }
    }
  });

  it.each(['WatchdogServiceRole', 'WatchdogPreTrafficHookServiceRole', 'WatchdogPostTrafficHookServiceRole', 'WatchdogProberServiceRole'])(
    '%s cannot write the configuration item (only the deploy-time custom resource writes it)',
    (rolePrefix) => {
      const t = build().template();
      const deny = statementsOfRole(t, rolePrefix).find((s) => s.Effect === 'Deny' && mentionsTable(s));
      expect(actionsOf(deny!).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
      expect(deny!.Condition).toEqual({ 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['#config'] } });
    },
  );

  describe('DeleteItem, to end a telemetry watch when its deployment ends', () => {
    const roleOf = (t: Template, description: string) => {
      const [, fn] = resourcesOfType(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === description)!;
      return ((fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
    };
    const deletes = (t: Template, description: string) => statementsOfRole(t, roleOf(t, description)).filter((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a === 'dynamodb:DeleteItem' || a === 'dynamodb:*' || a === '*'));

    it.each(['canary-watchdog watchdog', 'canary-watchdog watchdog (events)'])('%s may delete watch items only (#watch#*, a LeadingKeys condition), in the state table', (description) => {
      const t = build().template();
      const allowed = deletes(t, description);
      expect(allowed).toHaveLength(1);
      expect(actionsOf(allowed[0])).toEqual(['dynamodb:DeleteItem']);
      expect(mentionsTable(allowed[0])).toBe(true);
      expect(allowed[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#watch#*'] } });
    });

    it.each(['canary-watchdog pre-traffic', 'canary-watchdog post-traffic', 'canary-watchdog prober'])('%s may delete nothing (guard: only the roles that end watches)', (description) => {
      const t = build().template();
      expect(deletes(t, description)).toEqual([]);
    });
  });

  it('the deploy-time custom resource may put the configuration item and no other', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog', { configDelivery: ConfigDelivery.STATE_TABLE });
    new GuardedFunction(stack, 'Orders', { watchdog, code: lambda.Code.fromInline('exports.handler = async () => ({})'), handler: 'index.handler', memorySize: 256, probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
    const policies = resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const puts = policies.filter((s) => actionsOf(s).includes('dynamodb:PutItem') && s.Effect === 'Allow');
    expect(puts).toHaveLength(1);
    expect(puts[0].Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['#config'] } });
  });
});

describe('scheduled runs cannot be starved by event-driven ones', () => {
  const fnId = (t: Template, description: string) => resourcesOfType(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === description)![0];
  const targetsOf = (t: Template, ruleId: RegExp) =>
    resourcesOfType(t, 'AWS::Events::Rule')
      .filter(([id]) => ruleId.test(id))
      .flatMap(([, r]) => (r.Properties.Targets as { Arn: unknown }[]).map((x) => JSON.stringify(x.Arn)));

  it('the schedule invokes the scheduled watchdog; alarm, deployment and stream events another function, each with its own reserved concurrency', () => {
    const t = build().template();
    const scheduled = fnId(t, 'canary-watchdog watchdog');
    const events = fnId(t, 'canary-watchdog watchdog (events)');
    expect(scheduled).not.toEqual(events);
    expect(targetsOf(t, /EveryMinute/).some((a) => a.includes(scheduled))).toBe(true);
    expect(targetsOf(t, /EveryMinute/).some((a) => a.includes(events))).toBe(false);
    for (const rule of [/DeploymentStateChange/, /AlarmStateChange/]) expect(targetsOf(t, rule)).toEqual([expect.stringContaining(events)]);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: events } });
    const reserved = (id: string) => (t.toJSON().Resources[id].Properties as { ReservedConcurrentExecutions?: number }).ReservedConcurrentExecutions;
    expect(reserved(scheduled)).toBe(2);
    expect(reserved(events)).toBe(2);
  });

  it('the event watchdog has what the scheduled one has to judge and act', () => {
    const t = build().template();
    const actions = (description: string) => {
      const [, fn] = resourcesOfType(t, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === description)!;
      const roleId = ((fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
      return new Set(statementsOfRole(t, roleId).filter((s) => s.Effect === 'Allow').flatMap(actionsOf));
    };
    const scheduled = actions('canary-watchdog watchdog');
    const events = actions('canary-watchdog watchdog (events)');
    for (const a of scheduled) expect([a, events.has(a)]).toEqual([a, true]);
  });
});
