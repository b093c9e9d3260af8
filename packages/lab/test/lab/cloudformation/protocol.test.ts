/**
 * CloudFormation on the lab's endpoint, spoken to by the real SDK v3 client (awsQuery): the change
 * set life cycle the CDK CLI drives, stacks, events, resources, templates and AWS's errors.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListExportsCommand,
  ListStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { crc32 } from 'node:zlib';
import { Lab } from '../../../src/lab/lab';

let lab: Lab;
let cfn: CloudFormationClient;
const config = () => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  cfn = new CloudFormationClient(config());
});
afterEach(() => lab.stop());

/** A bootstrap-like stack: a named bucket, a version parameter, a named role, a recorded policy. */
const template = (version = '30') =>
  JSON.stringify({
    Parameters: { Qualifier: { Type: 'String', Default: 'hnb659fds' } },
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'cdk-${Qualifier}-assets-${AWS::AccountId}-${AWS::Region}' } }, DeletionPolicy: 'Retain' },
      Version: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Name: { 'Fn::Sub': '/cdk-bootstrap/${Qualifier}/version' }, Value: version } },
      DeployRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: { 'Fn::Sub': 'cdk-${Qualifier}-deploy-role-${AWS::AccountId}-${AWS::Region}' }, AssumeRolePolicyDocument: {} } },
      Policy: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', Roles: [{ Ref: 'DeployRole' }], PolicyDocument: {} } },
    },
    Outputs: { BucketName: { Value: { Ref: 'Bucket' } }, BucketDomainName: { Value: { 'Fn::Sub': '${Bucket.RegionalDomainName}' } }, BootstrapVersion: { Value: { 'Fn::GetAtt': ['Version', 'Value'] } } },
  });

async function until(stackName: string, done: (s: Stack) => boolean): Promise<Stack> {
  for (let i = 0; i < 200; i++) {
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0];
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${stackName} did not settle`);
}

async function deploy(stackName: string, body: string, type: 'CREATE' | 'UPDATE' = 'CREATE') {
  const { Id } = await cfn.send(new CreateChangeSetCommand({ StackName: stackName, ChangeSetName: 'cdk-deploy-change-set', ChangeSetType: type, TemplateBody: body, Capabilities: ['CAPABILITY_NAMED_IAM'] }));
  return Id!;
}

describe('a stack created through a change set', () => {
  it('goes REVIEW_IN_PROGRESS, then CREATE_COMPLETE with its outputs; its bucket, parameter and role exist', async () => {
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Stack with id CDKToolkit does not exist' });
    const id = await deploy('CDKToolkit', template());
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks![0].StackStatus).toBe('REVIEW_IN_PROGRESS');
    const cs = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: id }));
    expect(cs).toMatchObject({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    expect(cs.Changes?.map((c) => [c.ResourceChange?.Action, c.ResourceChange?.LogicalResourceId])).toEqual([
      ['Add', 'Bucket'],
      ['Add', 'Version'],
      ['Add', 'DeployRole'],
      ['Add', 'Policy'],
    ]);
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'CDKToolkit' }));
    const stack = await until('CDKToolkit', (s) => !s.StackStatus!.endsWith('IN_PROGRESS'));
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    expect(Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]))).toEqual({
      BucketName: 'cdk-hnb659fds-assets-123456789012-us-east-1',
      BucketDomainName: 'cdk-hnb659fds-assets-123456789012-us-east-1.s3.us-east-1.amazonaws.com',
      BootstrapVersion: '30',
    });
    expect(lab.s3.hasBucket('cdk-hnb659fds-assets-123456789012-us-east-1')).toBe(true);
    expect((await new SSMClient(config()).send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }))).Parameter?.Value).toBe('30');
    const role = await new STSClient(config()).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1', RoleSessionName: 'cdk' }));
    expect(role.AssumedRoleUser?.Arn).toContain('assumed-role/cdk-hnb659fds-deploy-role-123456789012-us-east-1/cdk');
  });

  it('reports a resource the lab does not model in its event and resource status reason, never dropping it', async () => {
    await deploy('CDKToolkit', template());
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'CDKToolkit' }));
    await until('CDKToolkit', (s) => s.StackStatus === 'CREATE_COMPLETE');
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'CDKToolkit' }))).StackEvents!;
    expect(events[0]).toMatchObject({ LogicalResourceId: 'CDKToolkit', ResourceStatus: 'CREATE_COMPLETE' });
    expect(events.find((e) => e.LogicalResourceId === 'Policy' && e.ResourceStatus === 'CREATE_COMPLETE')?.ResourceStatusReason).toBe('recorded only: the lab does not model AWS::IAM::Policy');
    const times = events.map((e) => e.Timestamp!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: 'CDKToolkit' }))).StackResources!;
    expect(resources.map((r) => [r.LogicalResourceId, r.ResourceStatus]).sort()).toEqual([
      ['Bucket', 'CREATE_COMPLETE'],
      ['DeployRole', 'CREATE_COMPLETE'],
      ['Policy', 'CREATE_COMPLETE'],
      ['Version', 'CREATE_COMPLETE'],
    ]);
    expect(JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: 'CDKToolkit' }))).TemplateBody!)).toEqual(JSON.parse(template()));
  });

  it('an update without changes gives a FAILED change set saying so, as CloudFormation does', async () => {
    await deploy('CDKToolkit', template());
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'CDKToolkit' }));
    await until('CDKToolkit', (s) => s.StackStatus === 'CREATE_COMPLETE');
    const id = await deploy('CDKToolkit', template(), 'UPDATE');
    expect(await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: id }))).toMatchObject({
      Status: 'FAILED',
      ExecutionStatus: 'UNAVAILABLE',
      StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set.",
    });
  });

  it('refuses a template with named IAM resources without CAPABILITY_NAMED_IAM', async () => {
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'S', ChangeSetName: 'c', ChangeSetType: 'CREATE', TemplateBody: template(), Capabilities: ['CAPABILITY_IAM'] }))).rejects.toMatchObject({
      name: 'InsufficientCapabilitiesException',
      message: 'Requires capabilities : [CAPABILITY_NAMED_IAM]',
    });
  });

  it('reads the template of a change set from S3 (TemplateURL) and summarizes one', async () => {
    lab.s3.createBucket('assets');
    await lab.s3.handle({ method: 'PUT', path: '/assets/t.json', query: new URLSearchParams(), headers: {}, body: Buffer.from(template()) });
    const { Id } = await cfn.send(new CreateChangeSetCommand({ StackName: 'S', ChangeSetName: 'c', ChangeSetType: 'CREATE', TemplateURL: 'https://s3.us-east-1.amazonaws.com/assets/t.json', Capabilities: ['CAPABILITY_NAMED_IAM'] }));
    expect((await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: Id }))).Status).toBe('CREATE_COMPLETE');
    const summary = await cfn.send(new GetTemplateSummaryCommand({ TemplateBody: template() }));
    expect(summary.Capabilities).toEqual(['CAPABILITY_NAMED_IAM']);
    expect(summary.Parameters?.[0]).toMatchObject({ ParameterKey: 'Qualifier', DefaultValue: 'hnb659fds' });
  });

  it('DeleteStack keeps a Retain bucket, deletes the parameter and ends DELETE_COMPLETE', async () => {
    await deploy('CDKToolkit', template());
    const before = await cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }));
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'CDKToolkit' }));
    await until('CDKToolkit', (s) => s.StackStatus === 'CREATE_COMPLETE');
    await cfn.send(new DeleteStackCommand({ StackName: 'CDKToolkit' }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: before.Stacks![0].StackId }))).Stacks![0].StackStatus).toBe('DELETE_COMPLETE');
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).rejects.toMatchObject({ message: 'Stack with id CDKToolkit does not exist' });
    expect(lab.s3.hasBucket('cdk-hnb659fds-assets-123456789012-us-east-1')).toBe(true);
    expect(lab.ssm.value('/cdk-bootstrap/hnb659fds/version')).toBeUndefined();
  });

  it('ListStacks lists deleted stacks too, filtered by status; a status that does not exist is a ValidationError', async () => {
    await deploy('CDKToolkit', template());
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'CDKToolkit' }));
    await until('CDKToolkit', (s) => s.StackStatus === 'CREATE_COMPLETE');
    await cfn.send(new DeleteStackCommand({ StackName: 'CDKToolkit' }));
    await deploy('Other', template().replace(/hnb659fds/g, 'other'));
    const all = (await cfn.send(new ListStacksCommand({}))).StackSummaries!;
    expect(all.map((s) => [s.StackName, s.StackStatus])).toEqual([
      ['CDKToolkit', 'DELETE_COMPLETE'],
      ['Other', 'REVIEW_IN_PROGRESS'],
    ]);
    expect((await cfn.send(new ListStacksCommand({ StackStatusFilter: ['REVIEW_IN_PROGRESS'] }))).StackSummaries!.map((s) => s.StackName)).toEqual(['Other']);
    await expect(cfn.send(new ListStacksCommand({ StackStatusFilter: ['DONE' as never] }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('StackStatusFilter: "DONE" is not a stack status') });
  });

  it('an operation the lab does not model is an awsQuery error naming it', async () => {
    await expect(cfn.send(new ListExportsCommand({}))).rejects.toMatchObject({ name: 'InvalidAction', message: expect.stringContaining('CloudFormation.ListExports is not supported by the lab') });
  });
});

/** A zip archive of stored (uncompressed) files, as a Lambda deployment package. https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT */
function zipOf(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(fileName.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    central.push(entry, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

describe('a function updated through a change set', () => {
  const fnTemplate = (key: string, timeout: number, runtime = 'nodejs22.x') =>
    JSON.stringify({
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'quote', Runtime: runtime, Handler: 'index.handler', Timeout: timeout, Role: 'arn:aws:iam::123456789012:role/r', Code: { S3Bucket: 'assets', S3Key: key } } },
      },
    });
  const answer = async () => JSON.parse(Buffer.from((await new LambdaClient(config()).send(new InvokeCommand({ FunctionName: 'quote' }))).Payload!).toString()) as string;

  beforeEach(async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'assets' }));
    for (const v of ['v1', 'v2']) await s3.send(new PutObjectCommand({ Bucket: 'assets', Key: `${v}.zip`, Body: zipOf({ 'index.js': `exports.handler = async () => '${v}';` }) }));
  });

  it('runs the new code from S3 and takes the new timeout, as UpdateFunctionCode and UpdateFunctionConfiguration would', async () => {
    await deploy('Quote', fnTemplate('v1.zip', 3));
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }));
    expect((await until('Quote', (s) => !s.StackStatus!.endsWith('IN_PROGRESS'))).StackStatus).toBe('CREATE_COMPLETE');
    expect(await answer()).toBe('v1');

    await deploy('Quote', fnTemplate('v2.zip', 9), 'UPDATE');
    expect(await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }))).toMatchObject({ Status: 'CREATE_COMPLETE' });
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }));
    expect((await until('Quote', (s) => !s.StackStatus!.endsWith('IN_PROGRESS'))).StackStatus).toBe('UPDATE_COMPLETE');
    expect(await answer()).toBe('v2');
    expect((await new LambdaClient(config()).send(new GetFunctionConfigurationCommand({ FunctionName: 'quote' }))).Timeout).toBe(9);
  });

  it('an executed change set and the others of its stack are gone; deleting one by name then still succeeds, as the CDK CLI expects', async () => {
    await deploy('Quote', fnTemplate('v1.zip', 3));
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }));
    await until('Quote', (s) => s.StackStatus === 'CREATE_COMPLETE');
    await expect(cfn.send(new DescribeChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }))).rejects.toMatchObject({ name: 'ChangeSetNotFoundException' });
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }));
    await expect(cfn.send(new DeleteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Nope' }))).rejects.toMatchObject({ name: 'ValidationError' });
    await deploy('Quote', fnTemplate('v2.zip', 3), 'UPDATE');
    await expect(deploy('Quote', fnTemplate('v2.zip', 4), 'UPDATE')).rejects.toMatchObject({ name: 'AlreadyExistsException' });
  });

  it('refuses, at the change set, a change it does not model, naming the property', async () => {
    await deploy('Quote', fnTemplate('v1.zip', 3));
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }));
    await until('Quote', (s) => s.StackStatus === 'CREATE_COMPLETE');
    await deploy('Quote', fnTemplate('v1.zip', 3, 'nodejs24.x'), 'UPDATE');
    expect(await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: 'cdk-deploy-change-set', StackName: 'Quote' }))).toMatchObject({ Status: 'FAILED', StatusReason: expect.stringContaining('changing Runtime is not modelled') });
  });
});
