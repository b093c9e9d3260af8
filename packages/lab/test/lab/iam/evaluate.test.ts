/**
 * The lab's policy evaluation, one case a row, each row also run through @cloud-copilot/iam-simulate
 * (a test oracle only: AGPL-3.0) so that the two agree on every case the lab relies on.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { evaluate, unsupportedOperator, type AuthRequest, type Decision, type Statement } from '../../../src/lab/iam/evaluate';

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/state`;
const OTHER_TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/other`;
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:checkout`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/checkout-role`;

/** The guarded function's statements as the integrator's design gives them. */
const own = (fn: string): Statement[] => [
  { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`#watch#${fn}#*`] } } },
  { Effect: 'Deny', Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'], Resource: TABLE, Condition: { 'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': [`#watch#${fn}#*`] } } },
  { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*' },
  { Effect: 'Deny', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'CanaryWatchdog' } } },
];

const rows: [string, Statement[], AuthRequest, Decision][] = [
  ['an Allow of the action on the resource allows', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['no statement: implicitly denied', [], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'ImplicitDeny'],
  ['another resource: implicitly denied', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE }], { action: 'dynamodb:GetItem', resource: OTHER_TABLE, context: {} }, 'ImplicitDeny'],
  ['an explicit Deny beats a broad Allow', [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'dynamodb:*', Resource: TABLE }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'ExplicitDeny'],
  ['action wildcards match case-insensitively', [{ Effect: 'Allow', Action: 'DynamoDB:Get*', Resource: '*' }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['a ? in an action is one character', [{ Effect: 'Allow', Action: 'dynamodb:?etItem', Resource: '*' }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['resource wildcards match within the ARN', [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:*:${ACCOUNT}:function:check*` }], { action: 'lambda:InvokeFunction', resource: FN, context: {} }, 'Allow'],
  ['an unqualified function ARN does not grant a qualified one', [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: FN }], { action: 'lambda:InvokeFunction', resource: `${FN}:live`, context: {} }, 'ImplicitDeny'],
  ['NotAction allows every other action', [{ Effect: 'Allow', NotAction: 'dynamodb:DeleteItem', Resource: '*' }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['NotAction does not allow the named action', [{ Effect: 'Allow', NotAction: 'dynamodb:*', Resource: '*' }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'ImplicitDeny'],
  ['NotResource denies everything but the named resource', [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'dynamodb:*', NotResource: TABLE }], { action: 'dynamodb:GetItem', resource: OTHER_TABLE, context: {} }, 'ExplicitDeny'],
  ['NotResource leaves the named resource alone', [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'dynamodb:*', NotResource: TABLE }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['ForAllValues:StringLike: every leading key in the prefix', own('checkout'), { action: 'dynamodb:GetItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#watch#checkout#v2'] } }, 'Allow'],
  ['ForAllValues:StringLike: the #config item is not allowed', own('checkout'), { action: 'dynamodb:GetItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#config'] } }, 'ImplicitDeny'],
  ['ForAllValues:StringLike: another function\u2019s counters are not allowed', own('checkout'), { action: 'dynamodb:GetItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#watch#payments#v1'] } }, 'ImplicitDeny'],
  ['ForAnyValue:StringNotLike: a write outside the prefix is explicitly denied', own('checkout'), { action: 'dynamodb:UpdateItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#config'] } }, 'ExplicitDeny'],
  ['ForAnyValue:StringNotLike: one key outside the prefix among several is enough', own('checkout'), { action: 'dynamodb:BatchWriteItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#watch#checkout#v1', '#active'] } }, 'ExplicitDeny'],
  ['ForAnyValue:StringNotLike: the own write passes the deny', own('checkout'), { action: 'dynamodb:UpdateItem', resource: TABLE, context: { 'dynamodb:LeadingKeys': ['#watch#checkout#v1'] } }, 'Allow'],
  ['ForAllValues on a missing key is true (the Allow applies)', own('checkout'), { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['ForAnyValue on a missing key is false (the Deny does not apply)', [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }, ...own('checkout')], { action: 'dynamodb:PutItem', resource: TABLE, context: {} }, 'Allow'],
  ['StringEquals on cloudwatch:namespace: the watchdog namespace is denied', own('checkout'), { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'CanaryWatchdog' } }, 'ExplicitDeny'],
  ['StringEquals on cloudwatch:namespace: another namespace passes', own('checkout'), { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'Checkout' } }, 'Allow'],
  ['condition keys compare case-insensitively', [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'CloudWatch:Namespace': 'X' } } }, { Effect: 'Allow', Action: '*', Resource: '*' }], { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'X' } }, 'ExplicitDeny'],
  ['condition values compare case-sensitively', [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'X' } } }, { Effect: 'Allow', Action: '*', Resource: '*' }], { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'x' } }, 'Allow'],
  ['several values of one key are ORed', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] } } }], { action: 'dynamodb:UpdateItem', resource: TABLE, context: { 'dynamodb:ReturnValues': 'UPDATED_NEW' } }, 'Allow'],
  ['several values of a negated operator are NORed', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'dynamodb:ReturnValues': ['ALL_OLD', 'ALL_NEW'] } } }], { action: 'dynamodb:UpdateItem', resource: TABLE, context: { 'dynamodb:ReturnValues': 'ALL_NEW' } }, 'ImplicitDeny'],
  ['several keys of one operator are ANDed', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'dynamodb:ReturnValues': 'NONE', 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } } }], { action: 'dynamodb:Query', resource: TABLE, context: { 'dynamodb:ReturnValues': 'NONE', 'dynamodb:Select': 'ALL_ATTRIBUTES' } }, 'ImplicitDeny'],
  ['a missing key makes a positive operator false', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'ImplicitDeny'],
  ['a missing key makes a negated operator true', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'dynamodb:Select': 'ALL_ATTRIBUTES' } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['...IfExists is true on a missing key', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['...IfExists still checks a present key', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } } }], { action: 'dynamodb:Query', resource: TABLE, context: { 'dynamodb:Select': 'ALL_ATTRIBUTES' } }, 'ImplicitDeny'],
  ['ForAllValues:StringEquals on dynamodb:Attributes: a projection within the list', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE, Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'count'] } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: { 'dynamodb:Attributes': ['pk', 'count'] } }, 'Allow'],
  ['ForAllValues:StringEquals on dynamodb:Attributes: one attribute outside the list', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE, Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'count'] } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: { 'dynamodb:Attributes': ['pk', 'mode'] } }, 'ImplicitDeny'],
  ['Null true: the key must be absent', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Null: { 'dynamodb:Select': 'true' } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: {} }, 'Allow'],
  ['ArnLike on aws:PrincipalArn', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/checkout-*` } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: { 'aws:PrincipalArn': ROLE } }, 'Allow'],
  ['StringEquals on aws:RequestedRegion elsewhere', [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } }], { action: 'dynamodb:GetItem', resource: TABLE, context: { 'aws:RequestedRegion': 'us-east-1' } }, 'ImplicitDeny'],
  ['policy variables take the request value', [{ Effect: 'Allow', Action: '*', Resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/\${aws:PrincipalTag/team}` }], { action: 'dynamodb:GetItem', resource: TABLE, context: { 'aws:PrincipalTag/team': 'state' } }, 'Allow'],
];

const document = (statements: Statement[]) => ({ Version: '2012-10-17', Statement: statements });

describe('identity-policy evaluation', () => {
  it.each(rows)('%s', (_name, statements, req, expected) => {
    expect(evaluate([document(statements)], req)).toBe(expected);
  });

  // The same rows through iam-simulate: where the two disagree, the lab's reading needs a reason.
  it.each(rows)('agrees with iam-simulate: %s', async (_name, statements, req, expected) => {
    const result = await runSimulation(
      {
        request: { principal: ROLE, action: req.action, resource: { resource: req.resource, accountId: ACCOUNT }, contextVariables: Object.fromEntries(Object.entries(req.context).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]])) },
        identityPolicies: statements.length ? [{ name: 'p', policy: document(statements) }] : [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: undefined,
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    expect(result.overallResult).toBe({ Allow: 'Allowed', ExplicitDeny: 'ExplicitlyDenied', ImplicitDeny: 'ImplicitlyDenied' }[expected]);
  });

  it('names an operator it does not evaluate, and the ones it does', () => {
    expect(unsupportedOperator('ForAnyValue:StringNotLike')).toBeUndefined();
    expect(unsupportedOperator('NumericLessThanIfExists')).toBeUndefined();
    expect(unsupportedOperator('IpAddress')).toMatch(/^condition operator IpAddress is not evaluated by the lab; it knows StringEquals, .*Null/);
  });
});
