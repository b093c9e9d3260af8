/**
 * The real telemetry extension calls DynamoDB as the function it runs in: it gets the function's
 * credentials, so its GetItem of the watch item and its UpdateItem of the counts are evaluated
 * against the function's execution role, as on AWS.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-extensions.html
 */
import { watchKey } from 'canary-watchdog/lib/aws/telemetry';
import type { PolicyDocument } from '../../../src/lab/iam';
import { extensionWorld } from '../lambda/extension-world';

const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/state-table';
const ROLE = 'arn:aws:iam::123456789012:role/orders-role';

async function world(policy: PolicyDocument) {
  const w = await extensionWorld({ role: ROLE });
  w.lab.iam.setStack('App', { roles: [ROLE], policies: new Map([[ROLE, [{ name: 'p', document: policy }]]]), attached: new Map(), managed: new Map() });
  w.watch('2', 'd-1');
  return w;
}

describe('lab: the telemetry extension writes with its function\u2019s role', () => {
  let w: Awaited<ReturnType<typeof world>>;
  afterEach(async () => w?.lab.stop());

  it('writes the counts into its own watch item, which the guarded role may update (LeadingKeys #watch#<function>#*)', async () => {
    w = await world({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE_ARN, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#watch#orders#*'] } } }],
    });
    await w.invoke(3, 1);
    await w.advance(1000);
    await w.invoke(1);
    expect(w.lab.telemetry.writes).toHaveLength(1);
    expect(w.lab.telemetry.denied).toEqual([]);
    expect(w.item(watchKey('orders', '2'))).toMatchObject({ telemetryInvocations: 3, telemetryErrors: 1 });
  });

  it('counts nothing and records the AccessDenied when the role may not read its watch item', async () => {
    w = await world({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE_ARN, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#watch#other#*'] } } }],
    });
    await w.invoke(3, 1);
    await w.advance(1000);
    await w.invoke(1);
    expect(w.lab.telemetry.writes).toEqual([]);
    expect(w.lab.telemetry.denied[0]).toEqual({
      at: Date.UTC(2026, 0, 1),
      functionName: 'orders',
      version: '2',
      operation: 'GetItem',
      message: `User: arn:aws:sts::123456789012:assumed-role/orders-role/orders is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action`,
    });
    expect(w.item(watchKey('orders', '2'))?.telemetryInvocations).toBe(0);
  });
});
