/**
 * The modelled telemetry extension writes as the function it runs in: its GetItem of the watch
 * item and its UpdateItem of the counts in it are evaluated against the function's
 * execution role, as the extension's calls are in AWS (it gets the function's credentials).
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-extensions.html
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { watchItemUpdate, watchKey } from 'canary-watchdog/lib/runtime/telemetry';
import { DynamoDbLab } from '../../../src/lab/dynamodb';
import { authorizationFor, IamLab, type PolicyDocument } from '../../../src/lab/iam';
import { Scheduler } from '../../../src/lab/kernel';
import { TelemetryExtensionModel } from '../../../src/lab/lambda/telemetry';

const T0 = Date.UTC(2026, 0, 1);
const TABLE = 'state-table';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`;
const ROLE = 'arn:aws:iam::123456789012:role/orders-role';

function world(policy: PolicyDocument) {
  const scheduler = new Scheduler('virtual', T0);
  const dynamodb = new DynamoDbLab({ now: () => scheduler.now() });
  dynamodb.createTable(TABLE, 'deploymentId');
  const iam = new IamLab();
  iam.setStack('App', { roles: [ROLE], policies: new Map([[ROLE, [{ name: 'p', document: policy }]]]), attached: new Map(), managed: new Map() });
  const model = new TelemetryExtensionModel(dynamodb, undefined, (fn, operation, input) => {
    const a = authorizationFor({ service: 'DynamoDB', operation, input }, { partitionKeyOf: (t) => dynamodb.partitionKeyOf(t), deploymentGroupOf: () => undefined })!;
    return iam.authorize(iam.issue(ROLE, fn).accessKeyId, a.requests, a.shape);
  });
  model.enable('orders', TABLE);
  // As the pre-traffic hook does: the version's watch item names the deployment.
  const u = watchItemUpdate(TABLE, 'orders', '2', 'd-1', T0 / 1000 + 3600);
  dynamodb.service.operations.UpdateItem({ ...u, Key: marshall(u.Key), ExpressionAttributeValues: marshall(u.ExpressionAttributeValues) });
  const item = (id: string) => unmarshall((dynamodb.service.operations.GetItem({ TableName: TABLE, Key: marshall({ deploymentId: id }) }) as { Item: Record<string, never> }).Item);
  return { scheduler, model, item };
}

describe('lab: the telemetry extension model writes with its function\u2019s role', () => {
  it('writes the counts into its own watch item, which the guarded role may update (LeadingKeys #watch#<function>#*)', async () => {
    const { scheduler, model, item } = world({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE_ARN, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#watch#orders#*'] } } }],
    });
    model.invoked('orders', '2', scheduler.now(), 3, 1);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toHaveLength(1);
    expect(model.denied).toEqual([]);
    expect(item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 3, telemetryErrors: 1 });
  });

  it('counts nothing and records the AccessDenied when the role may not read its watch item', async () => {
    const { scheduler, model, item } = world({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE_ARN, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#watch#other#*'] } } }],
    });
    model.invoked('orders', '2', scheduler.now(), 3, 1);
    await scheduler.advance(1000);
    model.invoked('orders', '2', scheduler.now(), 1, 0);
    expect(model.writes).toEqual([]);
    expect(model.denied[0]).toEqual({
      at: T0,
      functionName: 'orders',
      version: '2',
      operation: 'GetItem',
      message: `User: arn:aws:sts::123456789012:assumed-role/orders-role/orders is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action`,
    });
    expect(item(watchKey('orders', '2')).telemetryInvocations).toBe(0);
  });
});
