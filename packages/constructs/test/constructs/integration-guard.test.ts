import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { GuardedFunction, ReleaseWatchdog, UNGUARDED_INTEGRATION } from '../../src';
import { inlineFunction } from './helpers';

// An integration with the guarded function itself, not its alias, reaches $LATEST: CodeDeploy
// shifts only the alias, so that traffic never meets the canary (issue 24, "guard the guard's use").
function app(integrate: (g: GuardedFunction, stack: Stack) => void) {
  const a = new App();
  const stack = new Stack(a, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  const g = new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: inlineFunction(stack, 'Fn'), dashboard: false });
  integrate(g, stack);
  return { stack };
}

const errorsOf = (stack: Stack) => Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('bypass')).map((e) => `${e.id}: ${String(e.entry.data)}`);

describe('integrations that bypass the canary fail the synth', () => {
  it.each<[string, (g: GuardedFunction, stack: Stack) => void, string]>([
    ['a function URL on the function', (g) => void (g.function as lambda.Function).addFunctionUrl(), '/Shop/Fn/FunctionUrl/Resource'],
    ['a function URL on $LATEST', (g, s) => void new lambda.CfnUrl(s, 'LatestUrl', { authType: 'NONE', targetFunctionArn: g.function.functionArn, qualifier: '$LATEST' }), '/Shop/LatestUrl'],
    ['an SQS event source on the function', (g, s) => (g.function as lambda.Function).addEventSource(new sources.SqsEventSource(new sqs.Queue(s, 'Q'))), '/Shop/Fn/SqsEventSource:ShopQ52BFD4CA/Resource'],
    ['an EventBridge rule targeting the function', (g, s) => void new events.Rule(s, 'Nightly', { schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(g.function)] }), '/Shop/Nightly/Resource'],
    ['a REST API integrated with the function', (g, s) => void new apigw.LambdaRestApi(s, 'Api', { handler: g.function }), '/Shop/Api/Default/ANY/Resource'],
  ])('%s', (_name, integrate, path) => {
    const { stack } = app(integrate);
    const errors = errorsOf(stack);
    expect(errors.find((e) => e.startsWith(`${path}:`))).toMatch(/integrates with Shop\/Fn unqualified \(\$LATEST\), so its requests bypass the canary of the alias live/);
    // It says how to fix it and how to acknowledge it.
    expect(errors[0]).toContain('guarded.alias');
    expect(errors[0]).toContain(`Validations.of(...).acknowledge({ id: '${UNGUARDED_INTEGRATION}'`);
  });
});

describe('what is not a bypass (the guard against an overcorrection)', () => {
  it.each<[string, (g: GuardedFunction, stack: Stack) => void]>([
    ['nothing but the guard itself (its version, alias, alarms, hooks, policies)', () => undefined],
    ['a function URL on the alias', (g) => void g.alias.addFunctionUrl()],
    ['an SQS event source on the alias', (g, s) => g.alias.addEventSource(new sources.SqsEventSource(new sqs.Queue(s, 'Q')))],
    ['a REST API integrated with the alias', (g, s) => void new apigw.LambdaRestApi(s, 'Api', { handler: g.alias })],
    ['a rule targeting the alias', (g, s) => void new events.Rule(s, 'Nightly', { schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(g.alias)] })],
    ['an IAM grant to a role (which name it calls is not in the template)', (g, s) => void g.function.grantInvoke(new iam.Role(s, 'Caller', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }))],
    ['an unrelated function with a URL', (_g, s) => void inlineFunction(s, 'Other').addFunctionUrl()],
  ])('%s', (_name, integrate) => {
    const { stack } = app(integrate);
    expect(errorsOf(stack)).toEqual([]);
  });
});

describe('acknowledged, it is reported, not an error', () => {
  it('on the resource or an enclosing construct, with the reason', () => {
    const { stack } = app((g) => {
      const url = (g.function as lambda.Function).addFunctionUrl();
      Validations.of(url).acknowledge({ id: UNGUARDED_INTEGRATION, reason: 'an internal debug URL, not user traffic' });
    });
    expect(errorsOf(stack)).toEqual([]);
    expect(Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('acknowledged: an internal debug URL, not user traffic')).length).toBe(1);
  });

  it('another id does not acknowledge it', () => {
    const { stack } = app((g) => {
      const url = (g.function as lambda.Function).addFunctionUrl();
      Validations.of(url).acknowledge({ id: 'canary-watchdog:no-probes', reason: 'x' });
    });
    expect(errorsOf(stack)).toHaveLength(1);
  });
});
