/** Shared fixtures for handler tests: the environment the constructs would set, and AWS replies. */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { resetSettings } from '../../lambda/shared';

export const T0 = Date.parse('2026-11-28T10:00:00Z');
export const MIN = 60_000;

export function guard(over: Record<string, unknown> = {}) {
  return {
    application: 'orders-app',
    deploymentGroup: 'orders-dg',
    functionName: 'orders',
    alias: 'live',
    probes: [{ name: 'list', event: { rawPath: '/orders' }, expect: { status: 'success', body: [{ path: '$.statusCode', equals: 200 }] } }],
    configChecks: [{ key: 'TABLE_NAME' }, { key: 'PRICING_URL', format: 'url' }],
    alarms: { service: ['orders-5xx'] },
    ...over,
  };
}

export function setEnv(config: Record<string, unknown> = { guards: [guard()] }): void {
  process.env.CANARY_WATCHDOG_CONFIG = JSON.stringify(config);
  process.env.CANARY_WATCHDOG_STATE_TABLE = 'watchdog-state';
  process.env.CANARY_WATCHDOG_EVENT_BUS = 'default';
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  resetSettings();
}

export const appSpec = (current = '1', target = '2') =>
  [
    'version: 0.0',
    'Resources:',
    '  - orders:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    '        Name: orders',
    '        Alias: live',
    `        CurrentVersion: "${current}"`,
    `        TargetVersion: "${target}"`,
  ].join('\n');

export function deploymentInfo(id: string, over: Record<string, unknown> = {}) {
  return {
    deploymentId: id,
    applicationName: 'orders-app',
    deploymentGroupName: 'orders-dg',
    status: 'InProgress' as const,
    createTime: new Date(T0),
    deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent10Minutes',
    creator: 'CloudFormation' as const,
    revision: { revisionType: 'AppSpecContent' as const, appSpecContent: { content: appSpec() } },
    ...over,
  };
}

/** An Invoke response payload as the SDK types it (a Uint8Array with helpers the runtime does not use). */
export const payload = (text: string) => Buffer.from(text) as unknown as import('@aws-sdk/client-lambda').InvokeCommandOutput['Payload'];

/** A configuration whose one guard's probe expects this status code. */
export const expectingStatus = (status: number) => ({ guards: [guard({ probes: [{ name: 'list', event: { rawPath: '/orders' }, expect: { status: 'success', body: [{ path: '$.statusCode', equals: status }] } }] })] });

/** Read the configuration from the state table's #config item (the state-table source), answering with `config`. */
export function configInTable(ddb: AwsClientStub<DynamoDBDocumentClient>, config: unknown): void {
  delete process.env.CANARY_WATCHDOG_CONFIG;
  process.env.CANARY_WATCHDOG_CONFIG_SOURCE = 'state-table';
  resetSettings();
  answerConfig(ddb, config);
}

/** Change what the #config item holds, without the functions knowing (as a deploy does). */
export function answerConfig(ddb: AwsClientStub<DynamoDBDocumentClient>, config: unknown): void {
  ddb.on(GetCommand, { Key: { deploymentId: '#config' } }).resolves({ Item: { deploymentId: '#config', config: JSON.stringify(config) } });
}
