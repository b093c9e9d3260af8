/**
 * What Lambda's read operations describe, checked field by field against the response syntax of
 * the API reference (FunctionConfiguration, AliasConfiguration), through the real SDK v3 client.
 * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
 * https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html
 */
import { GetFunctionCommand, GetFunctionConfigurationCommand, LambdaClient, TagResourceCommand, ListVersionsByFunctionCommand, PublishVersionCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const ROLE = 'arn:aws:iam::123456789012:role/fn-role';
const CODE = 'exports.handler = async () => "ok";\n';
let codeDir: string;
let lab: Lab;
let client: LambdaClient;

beforeEach(async () => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-lambda-descriptions-'));
  writeFileSync(join(codeDir, 'index.js'), CODE);
  lab = new Lab({ warm: false });
  await lab.start();
  lab.lambda.createFunction({ name: 'fn', handler: 'index.handler', codeDir, role: ROLE, runtime: 'nodejs22.x', architectures: ['arm64'] });
  client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await lab.stop();
  rmSync(codeDir, { recursive: true, force: true });
});

describe('GetFunctionConfiguration', () => {
  it('describes every field of the response syntax the lab can know', async () => {
    const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }));
    expect(c).toMatchObject({
      FunctionName: 'fn',
      FunctionArn: ARN,
      Role: ROLE,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      CodeSize: Buffer.byteLength(CODE),
      Description: '',
      Timeout: 3,
      MemorySize: 128,
      Version: '$LATEST',
      PackageType: 'Zip',
      Architectures: ['arm64'],
      EphemeralStorage: { Size: 512 },
      TracingConfig: { Mode: 'PassThrough' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/fn' },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      State: 'Active',
      LastUpdateStatus: 'Successful',
    });
    // LastModified: ISO 8601 as Lambda writes it, 2026-01-01T00:00:00.000+0000.
    expect(c.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(c.CodeSha256).toHaveLength(44);
    expect(c.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives $LATEST a new RevisionId and LastModified on each change, and keeps a published version\'s', async () => {
    const before = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }));
    const v1 = await client.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await lab.advance(60);
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Description: 'changed' }));
    const after = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }));
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(after.LastModified).not.toBe(before.LastModified);
    const again = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(again).toMatchObject({ FunctionArn: `${ARN}:1`, Version: '1', RevisionId: v1.RevisionId, LastModified: v1.LastModified, Description: '' });
  });
});

describe('ListVersionsByFunction', () => {
  it('gives $LATEST its qualified ARN, ending :$LATEST, and each version its own', async () => {
    await client.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    const versions = (await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }))).Versions!;
    expect(versions.map((v) => [v.Version, v.FunctionArn])).toEqual([['$LATEST', `${ARN}:$LATEST`], ['1', `${ARN}:1`]]);
    for (const v of versions) expect(v).toMatchObject({ Role: ROLE, CodeSize: Buffer.byteLength(CODE), PackageType: 'Zip', State: 'Active', Architectures: ['arm64'] });
  });
});

describe('GetFunction', () => {
  it('carries the function\'s tags once it has some, and none before', async () => {
    expect((await client.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Tags).toBeUndefined();
    await client.send(new TagResourceCommand({ Resource: ARN, Tags: { team: 'payments' } }));
    expect((await client.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Tags).toEqual({ team: 'payments' });
  });
});
