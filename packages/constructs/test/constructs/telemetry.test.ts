import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { GuardedFunction, ProbeStatus, ReleaseWatchdog } from '../../src';
import { TELEMETRY_STREAM_FILTER, TELEMETRY_TABLE_ENV } from '../../src/aws/telemetry';
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

  const guardIn = (stack: Stack, watchdog: ReleaseWatchdog, id: string, fn: lambda.Function, props: { telemetry?: boolean } = {}) =>
    new GuardedFunction(stack, id, { watchdog, existingFunction: fn, probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }], ...props });
  const fresh = () => {
    const stack = new Stack(new App(), 'Shop');
    return { stack, watchdog: new ReleaseWatchdog(stack, 'Watchdog') };
  };
  /** The layer a function has, and that layer's properties. */
  const layerOf = (t: Template, fnId: string) => {
    const [, fn] = resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith(fnId))!;
    const refs = fn.Properties.Layers as { Ref: string }[];
    expect(refs).toHaveLength(1);
    return t.toJSON().Resources[refs[0].Ref] as { Properties: { CompatibleArchitectures?: string[]; Content: { S3Key: unknown } } };
  };

  it.each([
    ['Python', lambda.Runtime.PYTHON_3_13, 'index.handler'],
    ['Java', lambda.Runtime.JAVA_21, 'example.Handler::handleRequest'],
    ['.NET', lambda.Runtime.DOTNET_8, 'App::App.Function::Handler'],
    ['Ruby', lambda.Runtime.RUBY_3_3, 'index.handler'],
    ['custom-runtime', lambda.Runtime.PROVIDED_AL2023, 'bootstrap'],
  ])('counts a %s function too: the native extension needs no runtime of its own', (_name, runtime, handler) => {
    const { stack, watchdog } = fresh();
    const g = guardIn(stack, watchdog, 'Orders', new lambda.Function(stack, 'Fn', { runtime, handler, code: lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Code', 'code'), 'fn.zip'), memorySize: 128 }));
    expect(g.telemetry).toBe(true);
    const t = Template.fromStack(stack);
    expect(layerOf(t, 'Fn').Properties.CompatibleArchitectures).toEqual(['x86_64']);
    // No memory warning: the extension's peak is about 14 MB resident (measured, BENCHMARKS.md).
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('telemetry extension runs in'))).toHaveLength(0);
  });

  it('gives each function the layer of its architecture, one layer per architecture in use', () => {
    const { stack, watchdog } = fresh();
    const fn = (id: string, architecture: lambda.Architecture) => new lambda.Function(stack, id, { runtime: lambda.Runtime.PYTHON_3_13, handler: 'index.handler', code: lambda.Code.fromInline('x'), architecture });
    guardIn(stack, watchdog, 'A', fn('FnA', lambda.Architecture.ARM_64));
    guardIn(stack, watchdog, 'B', fn('FnB', lambda.Architecture.X86_64));
    guardIn(stack, watchdog, 'C', fn('FnC', lambda.Architecture.ARM_64));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    const a = layerOf(t, 'FnA');
    expect(a.Properties.CompatibleArchitectures).toEqual(['arm64']);
    expect(layerOf(t, 'FnC')).toBe(a);
    expect(layerOf(t, 'FnB').Properties.CompatibleArchitectures).toEqual(['x86_64']);
    // Each layer's content is the binary built for its architecture.
    expect(a.Properties.Content.S3Key).not.toEqual(layerOf(t, 'FnB').Properties.Content.S3Key);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  it('guards a container image without the fast signal, with a note naming the two Dockerfile lines that add it', () => {
    const { stack, watchdog } = fresh();
    const image = new lambda.Function(stack, 'Img', { runtime: lambda.Runtime.FROM_IMAGE, handler: lambda.Handler.FROM_IMAGE, code: lambda.Code.fromEcrImage(new ecr.Repository(stack, 'Repo')), architecture: lambda.Architecture.ARM_64 });
    const g = guardIn(stack, watchdog, 'Orders', image);
    expect(g.telemetry).toBe(false);
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::LayerVersion', 0);
    Annotations.fromStack(stack).hasInfo(
      '/Shop/Orders',
      Match.stringLikeRegexp('container image, guarded without the fast signal.*Dockerfile, then set telemetry: true: COPY node_modules/canary-watchdog/assets/telemetry-layer-arm64/extensions/ /opt/extensions/ ; RUN chmod 755 /opt/extensions/canary-watchdog-telemetry$'),
    );
  });

  it('with telemetry: true, counts a container image that carries the extension itself: no layer, the table and its rights only', () => {
    const { stack, watchdog } = fresh();
    const image = new lambda.Function(stack, 'Img', { runtime: lambda.Runtime.FROM_IMAGE, handler: lambda.Handler.FROM_IMAGE, code: lambda.Code.fromEcrImage(new ecr.Repository(stack, 'Repo')) });
    const g = guardIn(stack, watchdog, 'Orders', image, { telemetry: true });
    expect(g.telemetry).toBe(true);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    const [, fn] = resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith('Img'))!;
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables[TELEMETRY_TABLE_ENV]).toEqual({ Ref: expect.stringMatching(/^WatchdogState/) });
    expect(Annotations.fromStack(stack).findInfo('/Shop/Orders', Match.stringLikeRegexp('Dockerfile'))).toHaveLength(0);
  });

  it('a Node.js function at the default 128 MB gets no memory warning any more', () => {
    const { stack } = build();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('telemetry'))).toHaveLength(0);
  });
});
