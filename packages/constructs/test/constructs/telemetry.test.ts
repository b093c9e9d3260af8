import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedFunction, ProbeStatus, ReleaseWatchdog } from '../../src';
import { TELEMETRY_STREAM_FILTER, TELEMETRY_TABLE_ENV } from '../../src/runtime/telemetry';
import { build, joinToText, resourcesOfType } from './helpers';

const configOf = (template: Template): { guards: { telemetry?: boolean }[] } => {
  const [, fn] = resourcesOfType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Description === 'canary-watchdog watchdog')!;
  const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return JSON.parse(joinToText(env.CANARY_WATCHDOG_CONFIG)) as { guards: { telemetry?: boolean }[] };
};

describe('the telemetry extension on a guarded function', () => {
  it('adds the layer and the table name, and tells the watchdog to judge its counts', () => {
    const { template } = build();
    const t = template();
    const layers = resourcesOfType(t, 'AWS::Lambda::LayerVersion');
    expect(layers).toHaveLength(1);
    const [[layerId]] = layers;
    const [, fn] = resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith('Fn'))!;
    expect(fn.Properties.Layers).toEqual([{ Ref: layerId }]);
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables[TELEMETRY_TABLE_ENV]).toEqual({ Ref: expect.stringMatching(/^WatchdogState/) });
    // Its role's access to the table: isolation.test.ts.
    expect(configOf(t).guards[0].telemetry).toBe(true);
  });

  it("streams the state table to the watchdog, filtered to the extension's writes with failures", () => {
    const t = build().template();
    t.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WatchdogState'), 'StreamArn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^WatchdogEventWatchdog[0-9A-F]{8}$') },
      StartingPosition: 'LATEST',
      MaximumBatchingWindowInSeconds: 1,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 60,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(TELEMETRY_STREAM_FILTER) }] },
    });
  });

  it('one layer and one mapping serve every guarded function of a watchdog; each function has its own isolation policy', () => {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    for (const n of ['A', 'B', 'C']) {
      new GuardedFunction(stack, n, { watchdog, probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }], code: lambda.Code.fromInline('exports.handler = async () => ({})'), handler: 'index.handler', memorySize: 256 });
    }
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(resourcesOfType(t, 'AWS::IAM::Policy').filter(([id]) => /^[ABC]GuardIsolation/.test(id))).toHaveLength(3);
  });

  it('telemetry: false leaves the function as it was', () => {
    const t = build({ telemetry: false }).template();
    t.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(configOf(t).guards[0].telemetry).toBeUndefined();
  });

  it('is off by default on a runtime without node, and refused there when asked for', () => {
    const python = (stack: Stack) => new lambda.Function(stack, 'Py', { runtime: lambda.Runtime.PYTHON_3_13, handler: 'index.handler', code: lambda.Code.fromInline('def handler(e, c): return {}') });
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
    const g = new GuardedFunction(stack, 'Orders', { watchdog, existingFunction: python(stack), probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
    expect(g.telemetry).toBe(false);
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::LayerVersion', 0);
    const stack2 = new Stack(new App(), 'Shop2');
    const watchdog2 = new ReleaseWatchdog(stack2, 'Watchdog');
    expect(() => new GuardedFunction(stack2, 'Orders', { watchdog: watchdog2, existingFunction: python(stack2), telemetry: true })).toThrow(
      /telemetry: the telemetry extension is a Node.js program and python3.13 has no node; use a Node.js runtime or telemetry: false/,
    );
  });

  it('warns at synth when the function has less than 256 MB (the extension takes about 64 MB)', () => {
    const { stack } = build();
    Annotations.fromStack(stack).hasWarning('/Shop/Orders', Match.stringLikeRegexp('the telemetry extension runs in the function.s memory .* the function has 128 MB'));
  });
});
