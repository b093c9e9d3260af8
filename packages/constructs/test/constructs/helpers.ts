import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedFunction, ProbeStatus, ReleaseWatchdog, type GuardedFunctionProps } from '../../src';

export function inlineFunction(stack: Stack, id = 'Fn', environment: Record<string, string> = { TABLE_NAME: 'orders' }): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    environment,
  });
}

export function build(props: Partial<GuardedFunctionProps> = {}, opts: { env?: Record<string, string> } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  const guarded = new GuardedFunction(stack, 'Orders', {
    watchdog,
    existingFunction: inlineFunction(stack, 'Fn', opts.env),
    probes: [{ name: 'health', event: { rawPath: '/health' }, expect: { status: ProbeStatus.SUCCESS } }],
    configChecks: [{ key: 'TABLE_NAME' }],
    ...props,
  });
  return { app, stack, watchdog, guarded, template: () => Template.fromStack(stack) };
}

/** Resolve a Fn::Join of strings and Refs into text, Refs as `ref-LogicalId`. */
export function joinToText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v && 'Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(joinToText).join(sep);
  }
  if (v && 'Ref' in v) return `ref-${v.Ref as string}`;
  if (v && 'Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** An alarm's AlarmName as text, a published version's number (`Fn::GetAtt <Version>.Version`) as `{version}`. */
export function alarmNameOf(props: Record<string, unknown>): string {
  return joinToText(props.AlarmName).replace(/<[A-Za-z0-9]+\.Version>/g, '{version}');
}

export function resourcesOfType(template: Template, type: string): [string, { Properties: Record<string, unknown>; DependsOn?: string[]; UpdatePolicy?: unknown }][] {
  return Object.entries(template.findResources(type)) as never;
}
