import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Limits on the physical names the constructs generate, each from the API reference of its service.
 */
export const NAME_LIMITS = {
  /** https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (FunctionName: 64 without the ARN) */
  functionName: 64,
  /** https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html (Name) */
  aliasName: 128,
  /** https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (AlarmName) */
  alarmName: 255,
  /** https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html (DashboardName) */
  dashboardName: 255,
  /** https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateApplication.html and API_CreateDeploymentGroup.html */
  codeDeployName: 100,
  /** https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html (Value) */
  dimensionValue: 1024,
} as const;

/**
 * `text` as it is when it fits in `maxLength` and has only `allowed` characters; otherwise the
 * allowed characters, cut to fit (and of trailing dashes), then `-` and 8 hex characters of a hash of the whole text, so
 * that a cut or cleaned name stays unique and the same from synth to synth. Names that fit keep
 * their readable form, so they do not change (a name change replaces the resource).
 */
export function fitName(text: string, maxLength: number, allowed: RegExp = /[A-Za-z0-9_-]/): string {
  const clean = [...text].filter((c) => allowed.test(c)).join('');
  if (clean === text && text.length <= maxLength) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();
  return `${clean.slice(0, maxLength - hash.length - 1).replace(/[-_]+$/, '')}-${hash}`;
}

/** The stack's name and the construct's path below the stack, joined by `-`: unique within an app. */
export function stackPathName(construct: IConstruct): string {
  const stack = Stack.of(construct);
  const below = construct.node.scopes.slice(stack.node.scopes.length).map((c) => c.node.id);
  return [stack.stackName, ...below].join('-');
}
