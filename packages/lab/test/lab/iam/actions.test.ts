/**
 * What each call asks IAM, one case a row: the action, the resource ARN and the condition keys
 * (dynamodb:LeadingKeys and dynamodb:Attributes as DynamoDB's fine-grained access control page
 * defines them, cloudwatch:namespace, qualified Lambda ARNs, CodeDeploy group ARNs).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
 */
import { authorizationFor, type Call, type Lookups } from '../../../src/lab/iam/actions';

const A = '123456789012';
const lookups: Lookups = {
  partitionKeyOf: (t) => ({ state: 'pk', other: 'id' })[t],
  deploymentGroupOf: (id) => (id === 'd-1' ? { application: 'app', group: 'dg' } : undefined),
};
const S = (s: string) => ({ S: s });

const rows: [string, Call, { action: string; resource: string; context: Record<string, unknown> }[]][] = [
  ['GetItem: the key\u2019s partition value and the projection\u2019s top-level names', { service: 'DynamoDB', operation: 'GetItem', input: { TableName: 'state', Key: { pk: S('#config') }, ProjectionExpression: '#m, counts.errors, ids[0]', ExpressionAttributeNames: { '#m': 'mode' } } }, [{ action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:LeadingKeys': ['#config'], 'dynamodb:Attributes': ['pk', 'mode', 'counts', 'ids'] } }]],
  ['UpdateItem: names in UpdateExpression and ConditionExpression, not functions or values', { service: 'DynamoDB', operation: 'UpdateItem', input: { TableName: 'state', Key: { pk: S('#watch#f#1') }, UpdateExpression: 'SET #n = if_not_exists(#n, :z) + :one ADD total :one REMOVE old', ConditionExpression: 'attribute_not_exists(locked) AND size(#n) < :max', ExpressionAttributeNames: { '#n': 'count' }, ReturnValues: 'ALL_NEW' } }, [{ action: 'dynamodb:UpdateItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:ReturnValues': 'ALL_NEW', 'dynamodb:LeadingKeys': ['#watch#f#1'], 'dynamodb:Attributes': ['pk', 'count', 'total', 'old', 'locked'] } }]],
  ['PutItem: every attribute of the item', { service: 'DynamoDB', operation: 'PutItem', input: { TableName: 'other', Item: { id: { N: '7' }, v: S('x') } } }, [{ action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/other`, context: { 'dynamodb:LeadingKeys': ['7'], 'dynamodb:Attributes': ['id', 'v'] } }]],
  ['Query: the partition value of the key condition, either side of =', { service: 'DynamoDB', operation: 'Query', input: { TableName: 'state', KeyConditionExpression: ':p = pk AND sk > :s', ExpressionAttributeValues: { ':p': S('#active'), ':s': S('a') }, Select: 'COUNT' } }, [{ action: 'dynamodb:Query', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:Select': 'COUNT', 'dynamodb:LeadingKeys': ['#active'], 'dynamodb:Attributes': ['pk', 'sk'] } }]],
  ['Scan: no leading keys', { service: 'DynamoDB', operation: 'Scan', input: { TableName: 'state' } }, [{ action: 'dynamodb:Scan', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: {} }]],
  ['BatchGetItem: one request per table with its own keys', { service: 'DynamoDB', operation: 'BatchGetItem', input: { RequestItems: { state: { Keys: [{ pk: S('a') }, { pk: S('b') }] }, other: { Keys: [{ id: S('c') }] } } } }, [
    { action: 'dynamodb:BatchGetItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:LeadingKeys': ['a', 'b'], 'dynamodb:Attributes': ['pk'] } },
    { action: 'dynamodb:BatchGetItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/other`, context: { 'dynamodb:LeadingKeys': ['c'], 'dynamodb:Attributes': ['id'] } },
  ]],
  ['TransactWriteItems: each entry as its own action on its table (ConditionCheck is ConditionCheckItem)', { service: 'DynamoDB', operation: 'TransactWriteItems', input: { TransactItems: [{ Put: { TableName: 'state', Item: { pk: S('a') } } }, { ConditionCheck: { TableName: 'other', Key: { id: S('b') }, ConditionExpression: 'attribute_exists(id)' } }] } }, [
    { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:LeadingKeys': ['a'], 'dynamodb:Attributes': ['pk'] } },
    { action: 'dynamodb:ConditionCheckItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/other`, context: { 'dynamodb:LeadingKeys': ['b'], 'dynamodb:Attributes': ['id'] } },
  ]],
  ['TransactGetItems: GetItem per entry', { service: 'DynamoDB', operation: 'TransactGetItems', input: { TransactItems: [{ Get: { TableName: 'state', Key: { pk: S('a') } } }] } }, [{ action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:LeadingKeys': ['a'], 'dynamodb:Attributes': ['pk'] } }]],
  ['BatchWriteItem: one request per table with its keys and attributes', { service: 'DynamoDB', operation: 'BatchWriteItem', input: { RequestItems: { state: [{ PutRequest: { Item: { pk: S('a'), v: S('x') } } }, { DeleteRequest: { Key: { pk: S('b') } } }] } } }, [
    { action: 'dynamodb:BatchWriteItem', resource: `arn:aws:dynamodb:us-east-1:${A}:table/state`, context: { 'dynamodb:LeadingKeys': ['a', 'b'], 'dynamodb:Attributes': ['pk', 'v'] } },
  ]],
  ['CreateTable: the new table\u2019s ARN', { service: 'DynamoDB', operation: 'CreateTable', input: { TableName: 'fresh' } }, [{ action: 'dynamodb:CreateTable', resource: `arn:aws:dynamodb:us-east-1:${A}:table/fresh`, context: {} }]],
  ['PutMetricData: the namespace key on *', { service: 'CloudWatch', operation: 'PutMetricData', input: { Namespace: 'CanaryWatchdog' } }, [{ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'CanaryWatchdog' } }]],
  ['SetAlarmState: the alarm ARN', { service: 'CloudWatch', operation: 'SetAlarmState', input: { AlarmName: 'a1' } }, [{ action: 'cloudwatch:SetAlarmState', resource: `arn:aws:cloudwatch:us-east-1:${A}:alarm:a1`, context: {} }]],
  ['Invoke through an alias: the alias ARN', { service: 'Lambda', operation: 'Invoke', input: { fn: 'checkout', Qualifier: 'live' } }, [{ action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:us-east-1:${A}:function:checkout:live`, context: {} }]],
  ['Invoke by qualified ARN', { service: 'Lambda', operation: 'Invoke', input: { fn: `arn:aws:lambda:us-east-1:${A}:function:checkout:3` } }, [{ action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:us-east-1:${A}:function:checkout:3`, context: {} }]],
  ['GetAlias: the alias ARN', { service: 'Lambda', operation: 'GetAlias', input: { fn: 'checkout', alias: 'live' } }, [{ action: 'lambda:GetAlias', resource: `arn:aws:lambda:us-east-1:${A}:function:checkout:live`, context: {} }]],
  ['PutLifecycleEventHookExecutionStatus: the deployment\u2019s group', { service: 'CodeDeploy', operation: 'PutLifecycleEventHookExecutionStatus', input: { deploymentId: 'd-1' } }, [{ action: 'codedeploy:PutLifecycleEventHookExecutionStatus', resource: `arn:aws:codedeploy:us-east-1:${A}:deploymentgroup:app/dg`, context: {} }]],
  ['FilterLogEvents: the log group ARN', { service: 'CloudWatchLogs', operation: 'FilterLogEvents', input: { logGroupName: '/aws/lambda/checkout' } }, [{ action: 'logs:FilterLogEvents', resource: `arn:aws:logs:us-east-1:${A}:log-group:/aws/lambda/checkout:*`, context: {} }]],
  ['PutEvents: the default bus', { service: 'EventBridge', operation: 'PutEvents', input: { Entries: [{ Source: 'x' }] } }, [{ action: 'events:PutEvents', resource: `arn:aws:events:us-east-1:${A}:event-bus/default`, context: {} }]],
];

describe('what a call asks IAM', () => {
  it.each(rows)('%s', (_name, call, expected) => {
    expect(authorizationFor(call, lookups)?.requests).toEqual(expected);
  });

  it('leaves the services it does not evaluate alone (S3, SSM, CloudFormation, STS, the control API)', () => {
    for (const service of ['S3', 'SSM', 'CloudFormation', 'STS', 'Lab']) expect(authorizationFor({ service, operation: 'Any', input: {} }, lookups)).toBeUndefined();
  });
});
