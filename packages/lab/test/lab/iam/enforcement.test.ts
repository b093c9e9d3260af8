/**
 * IAM in the lab, over loopback with the real SDK v3 clients: a stack's role and its policies
 * deployed through CloudFormation, assumed through the lab's STS; allowed calls pass, denied ones
 * fail in AWS's shape for each protocol; a function calls AWS as its own execution role.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { CloudFormationClient, CreateChangeSetCommand, DeleteStackCommand, DescribeStacksCommand, ExecuteChangeSetCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

const ACCOUNT = '123456789012';
const NS = 'CanaryWatchdog';
let lab: Lab;
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const DEFAULT: Creds = { accessKeyId: 'lab', secretAccessKey: 'lab' };
const config = (credentials: Creds = DEFAULT) => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
});
afterEach(() => lab.stop());

/** A function that reads one item of a table with its own credentials (signed by hand: the lab reads only the key id). */
const READER = `exports.handler = async (e) => {
  const res = await fetch(process.env.AWS_ENDPOINT_URL, { method: 'POST', headers: {
    'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem',
    authorization: 'AWS4-HMAC-SHA256 Credential=' + process.env.AWS_ACCESS_KEY_ID + '/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  }, body: JSON.stringify({ TableName: e.table, Key: { pk: { S: e.pk } } }) });
  return { status: res.status, body: await res.json() };
};`;

/** The guarded function's statements as the integrator designs them (its own counters, no watchdog namespace). */
const guardedPolicy = (fn: string) => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': ['State', 'Arn'] }, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`#watch#${fn}#*`] } } },
    { Effect: 'Deny', Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'], Resource: { 'Fn::GetAtt': ['State', 'Arn'] }, Condition: { 'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': [`#watch#${fn}#*`] } } },
    { Effect: 'Deny', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NS } } },
  ],
});

const template = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Resources: {
      State: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'state', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' } },
      Other: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'other', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' } },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
          ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }],
          Policies: [{ PolicyName: 'guarded', PolicyDocument: guardedPolicy('checkout') }],
        },
      },
      // A broad grant in a separate AWS::IAM::Policy: the Deny above still wins over it.
      Broad: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'broad',
          Roles: [{ Ref: 'Role' }],
          PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['cloudwatch:PutMetricData', 'dynamodb:Query'], Resource: '*' }, { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['Other', 'Arn'] }, Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'amount'] } } }] },
        },
      },
      Reader: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'checkout', Handler: 'index.handler', Runtime: 'nodejs22.x', Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { ZipFile: READER } } },
      ...extra,
    },
  });

async function deploy(stackName: string, body: string, type: 'CREATE' | 'UPDATE' = 'CREATE'): Promise<Stack> {
  const cfn = new CloudFormationClient(config());
  await cfn.send(new CreateChangeSetCommand({ StackName: stackName, ChangeSetName: 'cs', ChangeSetType: type, TemplateBody: body, Capabilities: ['CAPABILITY_NAMED_IAM'] }));
  await cfn.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: 'cs' }));
  for (;;) {
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0];
    if (!s.StackStatus!.endsWith('IN_PROGRESS')) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Credentials of the function's execution role, found as a client would: GetFunctionConfiguration, then AssumeRole. */
async function assumeFunctionRole(fn: string): Promise<Creds> {
  const { Role } = await new LambdaClient(config()).send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
  const out = await new STSClient(config()).send(new AssumeRoleCommand({ RoleArn: Role!, RoleSessionName: 'attacker' }));
  return { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
}

const denied = (action: string, resource: string, explicit: boolean, roleName: string) =>
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/attacker is not authorized to perform: ${action} on resource: ${resource} ${explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`}`;

const STATE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/state`;
const update = (pk: string) => new UpdateItemCommand({ TableName: 'state', Key: { pk: { S: pk } }, UpdateExpression: 'SET #m = :m', ExpressionAttributeNames: { '#m': 'mode' }, ExpressionAttributeValues: { ':m': { S: 'shadow' } } });

describe('a role a stack created, assumed through the lab STS', () => {
  let creds: Creds;
  let roleName: string;
  beforeEach(async () => {
    expect((await deploy('App', template())).StackStatus).toBe('CREATE_COMPLETE');
    creds = await assumeFunctionRole('checkout');
    roleName = lab.iam.principalOf(creds.accessKeyId)!.roleArn.split('/').pop()!;
  });

  it('GetFunctionConfiguration names the execution role, as AWS does', async () => {
    const c = await new LambdaClient(config()).send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
    expect(c.Role).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:role/App-Role-`));
  });

  it('may write its own telemetry item', async () => {
    await expect(new DynamoDBClient(config(creds)).send(update('#watch#checkout#v2'))).resolves.toBeDefined();
  });

  it('gets AccessDeniedException (400) with an explicit deny for UpdateItem on the configuration item', async () => {
    await expect(new DynamoDBClient(config(creds)).send(update('#config'))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: denied('dynamodb:UpdateItem', STATE, true, roleName),
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('gets AccessDeniedException for GetItem on another function\u2019s counters: no policy allows it', async () => {
    await expect(new DynamoDBClient(config(creds)).send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: '#watch#payments#v1' } } }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: denied('dynamodb:GetItem', STATE, false, roleName),
    });
  });

  it('dynamodb:Attributes: a projection within the allowed attributes passes, one outside is denied', async () => {
    const db = new DynamoDBClient(config(creds));
    const get = (projection: string) => new GetItemCommand({ TableName: 'other', Key: { pk: { S: 'a' } }, ProjectionExpression: projection });
    await expect(db.send(get('pk, amount'))).resolves.toBeDefined();
    await expect(db.send(get('pk, secret'))).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/other`, false, roleName) });
  });

  it('PutMetricData into the watchdog namespace is denied (AccessDenied, 403), another namespace passes', async () => {
    const cw = new CloudWatchClient(config(creds));
    const put = (ns: string) => new PutMetricDataCommand({ Namespace: ns, MetricData: [{ MetricName: 'Heartbeat', Value: 1 }] });
    await expect(cw.send(put(NS))).rejects.toMatchObject({ name: 'AccessDenied', message: denied('cloudwatch:PutMetricData', '*', true, roleName), $metadata: { httpStatusCode: 403 } });
    await expect(cw.send(put('Checkout'))).resolves.toBeDefined();
  });

  it('awsQuery: the denial is an ErrorResponse of type Sender, code AccessDenied, status 403', async () => {
    const res = await fetch(lab.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0` },
      body: new URLSearchParams({ Action: 'DescribeAlarms', Version: '2010-08-01' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(`<Type>Sender</Type><Code>AccessDenied</Code><Message>${denied('cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*`, false, roleName)}</Message>`);
  });

  it('Lambda REST: a call no policy allows is 403 AccessDeniedException on the function ARN', async () => {
    await expect(new LambdaClient(config(creds)).send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout', Qualifier: '$LATEST' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: denied('lambda:GetFunctionConfiguration', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:checkout:$LATEST`, false, roleName),
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('the lab default credentials keep full access', async () => {
    await expect(new DynamoDBClient(config()).send(update('#config'))).resolves.toBeDefined();
    await expect(new CloudWatchClient(config()).send(new DescribeAlarmsCommand({}))).resolves.toBeDefined();
  });

  it('a function calls AWS as its own execution role: GetItem outside its grant is denied', async () => {
    const invoke = async (table: string, pk: string) => {
      const out = await new LambdaClient(config()).send(new InvokeCommand({ FunctionName: 'checkout', Payload: Buffer.from(JSON.stringify({ table, pk })) }));
      return JSON.parse(Buffer.from(out.Payload!).toString()) as { status: number; body: { __type?: string; message?: string } };
    };
    expect(await invoke('state', '#watch#checkout#v1')).toMatchObject({ status: 200 });
    const config_ = await invoke('state', '#config');
    expect(config_).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
    expect(config_.body.message).toMatch(new RegExp(`^User: arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/checkout is not authorized to perform: dynamodb:GetItem on resource: ${STATE} because`));
  });

  it('a stack update changes the policies; a failed read of them refuses the change set', async () => {
    const db = new DynamoDBClient(config(creds));
    await expect(db.send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: '#config' } } }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const grant = { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'config', Roles: [{ Ref: 'Role' }], PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }] } } };
    expect((await deploy('App', template({ Grant: grant }), 'UPDATE')).StackStatus).toBe('UPDATE_COMPLETE');
    await expect(db.send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: '#config' } } }))).resolves.toBeDefined();
    expect((await deploy('App', template(), 'UPDATE')).StackStatus).toBe('UPDATE_COMPLETE');
    await expect(db.send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: '#config' } } }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('roles and policies the lab refuses or removes', () => {
  const roleOnly = (managed: string) =>
    JSON.stringify({
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'ops', AssumeRolePolicyDocument: {}, ManagedPolicyArns: [managed, { Ref: 'Mine' }] } },
        Mine: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:DescribeTable', Resource: '*' }] } } },
      },
    });

  it('an AWS managed policy the lab does not know fails the stack, naming it and the ones it knows', async () => {
    const s = await deploy('Ops', roleOnly('arn:aws:iam::aws:policy/PowerUserAccess'));
    expect(s.StackStatus).toBe('CREATE_FAILED');
    expect(s.StackStatusReason).toContain('the AWS managed policy arn:aws:iam::aws:policy/PowerUserAccess is not known to the lab');
    expect(s.StackStatusReason).toContain('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole');
  });

  it('a customer managed policy attached through ManagedPolicyArns applies, and a deleted stack takes its policies away', async () => {
    expect((await deploy('Ops', roleOnly('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'))).StackStatus).toBe('CREATE_COMPLETE');
    const arn = `arn:aws:iam::${ACCOUNT}:role/ops`;
    expect(lab.iam.policiesOf(arn).flatMap((p) => [p.Statement].flat().flatMap((s) => [s.Action].flat()))).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'dynamodb:DescribeTable']);
    await new CloudFormationClient(config()).send(new DeleteStackCommand({ StackName: 'Ops' }));
    expect(lab.iam.policiesOf(arn)).toEqual([]);
    expect(lab.iam.roleExists(arn)).toBe(false);
  });
});

describe('a cloud assembly loaded directly (the rehearsal)', () => {
  it('collects the same policies and gives the function its role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iam-assembly-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts: { App: { type: 'aws:cloudformation:stack', properties: { templateFile: 'App.template.json' } } } }));
    writeFileSync(join(dir, 'App.template.json'), template());
    await lab.loadAssembly(dir);
    const role = `arn:aws:iam::${ACCOUNT}:role/App-Role`;
    expect((await new LambdaClient(config()).send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }))).Role).toBe(role);
    expect(lab.iam.policiesOf(role)).toHaveLength(3);
    const out = await new LambdaClient(config()).send(new InvokeCommand({ FunctionName: 'checkout', Payload: Buffer.from(JSON.stringify({ table: 'state', pk: '#config' })) }));
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
  });
});
