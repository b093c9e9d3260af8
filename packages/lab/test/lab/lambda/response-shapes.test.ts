/**
 * Lambda's read operations, each reply checked against the operation's output shape in botocore's
 * service model: no member the shape lacks, every value of the shape's type, and every field the
 * template lets the lab know present (omitted, as AWS omits it, when the template does not set it).
 * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
 */
import { Lab } from '../../../src/lab/lab';
import { loadModel, missing, shapeProblems } from '../shapes/check';

const model = loadModel('lambda');
const LAYER = 'arn:aws:lambda:us-east-1:123456789012:layer:shared:3';
const template = {
  Resources: {
    Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
    Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.0.0.0/24' } },
    Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'fn', VpcId: { Ref: 'Vpc' } } },
    Layer: { Type: 'AWS::Lambda::LayerVersion', Properties: { LayerName: 'tools', Content: { S3Bucket: 'b', S3Key: 'k' } } },
    Full: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'full', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Code: { ZipFile: 'exports.handler = async () => "ok";' },
        Layers: [{ Ref: 'Layer' }, LAYER],
        VpcConfig: { SubnetIds: [{ Ref: 'Subnet' }], SecurityGroupIds: [{ 'Fn::GetAtt': ['Sg', 'GroupId'] }] },
        DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
        KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        TracingConfig: { Mode: 'Active' },
        EphemeralStorage: { Size: 1024 },
        SnapStart: { ApplyOn: 'PublishedVersions' },
      },
    },
    FullVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Full' } } },
    Live: {
      Type: 'AWS::Lambda::Alias',
      Properties: { FunctionName: { Ref: 'Full' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['FullVersion', 'Version'] }, Description: 'what users call' },
    },
    Plain: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'plain', Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: 'exports.handler = async () => 1;' } } },
  },
};

/** Every FunctionConfiguration field the lab knows for a function whatever its template says. */
const ALWAYS = ['FunctionName', 'FunctionArn', 'Runtime', 'Handler', 'CodeSize', 'Description', 'Timeout', 'MemorySize', 'LastModified', 'CodeSha256', 'Version', 'Environment', 'TracingConfig', 'RevisionId', 'State', 'LastUpdateStatus', 'PackageType', 'Architectures', 'EphemeralStorage', 'SnapStart', 'LoggingConfig'];
/** What the `Full` template sets, besides. */
const FROM_TEMPLATE = ['Role', 'Layers[].Arn', 'VpcConfig.SubnetIds', 'VpcConfig.SecurityGroupIds', 'VpcConfig.VpcId', 'VpcConfig.Ipv6AllowedForDualStack', 'DeadLetterConfig.TargetArn', 'KMSKeyArn'];
/** Fields only set for what `Plain` lacks, which AWS leaves out. */
const ABSENT_WHEN_UNSET = ['Role', 'Layers', 'VpcConfig', 'DeadLetterConfig', 'KMSKeyArn'];

let lab: Lab;
beforeAll(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  await lab.loadDeployedStack({ stackName: 'shapes', template: template as never, assemblyDir: '/nonexistent' });
});
afterAll(() => lab.stop());

const get = async (path: string, method = 'GET') => {
  const res = await fetch(`${lab.endpoint}/2015-03-31/functions/${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
};

describe('FunctionConfiguration', () => {
  it.each([
    ['GetFunctionConfiguration', 'full/configuration', (b: Record<string, unknown>) => b],
    ['GetFunctionConfiguration', 'full/configuration?Qualifier=1', (b: Record<string, unknown>) => b],
    ['GetFunction', 'full', (b: Record<string, unknown>) => b.Configuration],
    ['ListVersionsByFunction', 'full/versions', (b: Record<string, unknown>) => (b.Versions as unknown[])[1]],
  ])('%s %s: every member in the output shape, and every field the template sets', async (op, path, config) => {
    const body = await get(path);
    expect(shapeProblems(model, op, body)).toEqual([]);
    expect(missing(config(body), [...ALWAYS, ...FROM_TEMPLATE])).toEqual([]);
  });

  it('describes the layers, VPC, dead-letter queue and key the template names', async () => {
    const c = await get('full/configuration');
    expect(c).toMatchObject({
      Layers: [{ Arn: 'arn:aws:lambda:us-east-1:123456789012:layer:tools:1' }, { Arn: LAYER }],
      VpcConfig: { SubnetIds: [expect.stringMatching(/^subnet-/)], SecurityGroupIds: [expect.stringMatching(/^sg-/)], VpcId: expect.stringMatching(/^vpc-/), Ipv6AllowedForDualStack: false },
      DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
      KMSKeyArn: template.Resources.Full.Properties.KmsKeyArn,
      TracingConfig: { Mode: 'Active' },
      EphemeralStorage: { Size: 1024 },
    });
  });

  it('turns SnapStart on for published versions only when the template applies it to them', async () => {
    expect((await get('full/configuration')).SnapStart).toEqual({ ApplyOn: 'PublishedVersions', OptimizationStatus: 'Off' });
    expect((await get('full/configuration?Qualifier=1')).SnapStart).toEqual({ ApplyOn: 'PublishedVersions', OptimizationStatus: 'On' });
    expect((await get('plain/configuration?Qualifier=$LATEST')).SnapStart).toEqual({ ApplyOn: 'None', OptimizationStatus: 'Off' });
  });

  it('leaves out what the template does not set, as AWS does', async () => {
    const c = await get('plain/configuration');
    expect(shapeProblems(model, 'GetFunctionConfiguration', c)).toEqual([]);
    expect(missing(c, ALWAYS)).toEqual([]);
    expect(ABSENT_WHEN_UNSET.filter((k) => k in c)).toEqual([]);
  });

  it('PublishVersion answers with the version it made, in the same shape', async () => {
    const body = await get('plain/versions', 'POST');
    expect(shapeProblems(model, 'PublishVersion', body)).toEqual([]);
    expect(missing(body, ALWAYS)).toEqual([]);
    expect(body.Version).toBe('1');
  });
});

describe('AliasConfiguration', () => {
  it.each([
    ['GetAlias', 'full/aliases/live', (b: Record<string, unknown>) => b],
    ['ListAliases', 'full/aliases', (b: Record<string, unknown>) => (b.Aliases as unknown[])[0]],
  ])('%s: every member in the output shape, with the description the template gives', async (op, path, alias) => {
    const body = await get(path);
    expect(shapeProblems(model, op, body)).toEqual([]);
    expect(alias(body)).toEqual({
      AliasArn: 'arn:aws:lambda:us-east-1:123456789012:function:full:live',
      Name: 'live', FunctionVersion: '1', Description: 'what users call', RevisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('an alias weighted between two versions describes RoutingConfig in its shape', async () => {
    const published = await get('full/versions', 'POST');
    expect(published.Version).toBe('1');
    // A second version (a new environment variable), then 10 % of the alias's traffic to it.
    const update = await fetch(`${lab.endpoint}/2015-03-31/functions/full/configuration`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Environment: { Variables: { RELEASE: '2' } } }) });
    expect(update.status).toBe(200);
    expect((await get('full/versions', 'POST')).Version).toBe('2');
    const routed = await fetch(`${lab.endpoint}/2015-03-31/functions/full/aliases/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }) });
    expect(routed.status).toBe(200);
    const alias = await get('full/aliases/live');
    expect(shapeProblems(model, 'GetAlias', alias)).toEqual([]);
    expect(alias.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.1 } });
  });
});
