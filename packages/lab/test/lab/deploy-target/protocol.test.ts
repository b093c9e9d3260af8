/**
 * STS, SSM and S3 on the lab's one endpoint, spoken to by the real SDK v3 clients (awsQuery,
 * awsJson1_1, restXml): the calls `cdk bootstrap` and `cdk deploy` make, and AWS's errors.
 */
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketLocationCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Readable } from 'node:stream';
import { Lab } from '../../../src/lab/lab';

let lab: Lab;
const config = () => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
});
afterEach(() => lab.stop());

describe('STS', () => {
  it('GetCallerIdentity answers the lab account', async () => {
    const sts = new STSClient(config());
    expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/lab' });
  });

  it('AssumeRole of a role no stack created is AccessDenied, of a created role gives credentials that identify as the role', async () => {
    const sts = new STSClient(config());
    const RoleArn = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1';
    await expect(sts.send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'cdk' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    lab.roles.add(RoleArn);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'cdk' }));
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-deploy-role-123456789012-us-east-1/cdk');
    expect(out.Credentials?.Expiration!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    const as = new STSClient({ ...config(), credentials: { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! } });
    expect((await as.send(new GetCallerIdentityCommand({}))).Arn).toBe(out.AssumedRoleUser?.Arn);
  });

  it.each([
    [{ RoleSessionName: 'a' }, 'RoleSessionName: expected 2 to 64 characters'],
    [{ RoleSessionName: 'cdk', DurationSeconds: 600 }, 'DurationSeconds: expected 900 to 3600'],
    [{ RoleSessionName: 'cdk', RoleArn: 'deploy-role' }, 'RoleArn: expected arn:aws:iam::<account>:role/<name>'],
  ])('AssumeRole refuses %j with a ValidationError naming the field', async (input, message) => {
    const sts = new STSClient(config());
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/r', ...input }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining(message) });
  });
});

describe('SSM', () => {
  it('GetParameter reads the bootstrap version; a missing parameter is ParameterNotFound; GetParameters lists the unknown names', async () => {
    const ssm = new SSMClient(config());
    await expect(ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    await ssm.send(new PutParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '30', Type: 'String' }));
    const p = (await ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }))).Parameter;
    expect(p).toMatchObject({ Value: '30', Version: 1, Type: 'String', ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/cdk-bootstrap/hnb659fds/version' });
    expect(p?.LastModifiedDate).toEqual(new Date('2026-01-01T00:00:00Z'));
    const both = await ssm.send(new GetParametersCommand({ Names: ['/cdk-bootstrap/hnb659fds/version', '/nope'] }));
    expect(both.Parameters?.map((x) => x.Value)).toEqual(['30']);
    expect(both.InvalidParameters).toEqual(['/nope']);
  });

  it('PutParameter of an existing name without Overwrite is ParameterAlreadyExists', async () => {
    const ssm = new SSMClient(config());
    await ssm.send(new PutParameterCommand({ Name: 'p', Value: '1', Type: 'String' }));
    await expect(ssm.send(new PutParameterCommand({ Name: 'p', Value: '2', Type: 'String' }))).rejects.toMatchObject({ name: 'ParameterAlreadyExists' });
    expect((await ssm.send(new PutParameterCommand({ Name: 'p', Value: '2', Type: 'String', Overwrite: true }))).Version).toBe(2);
  });
});

describe('S3', () => {
  const Bucket = 'cdk-hnb659fds-assets-123456789012-us-east-1';

  it('creates a bucket, stores an object from a stream (aws-chunked), heads, gets and lists it', async () => {
    const s3 = new S3Client(config());
    await expect(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await s3.send(new CreateBucketCommand({ Bucket }));
    expect((await s3.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint).toBeUndefined();
    const body = Buffer.from('{"Resources":{}}');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'abc.json', Body: Readable.from([body]), ContentLength: body.length }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'abc.json' }))).ContentLength).toBe(body.length);
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'abc.json' }))).Body?.transformToString()).toBe('{"Resources":{}}');
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'missing.zip' }))).rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'abc', MaxKeys: 1 }));
    expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['abc.json', body.length]]);
    expect(listed.KeyCount).toBe(1);
  });

  it('assembles a multipart upload from its parts, and refuses a first part under 5 MiB', async () => {
    const s3 = new S3Client(config());
    await s3.send(new CreateBucketCommand({ Bucket }));
    const big = Buffer.alloc(5 * 1024 * 1024, 1);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'asset.zip' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'asset.zip', UploadId, PartNumber: 1, Body: big }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key: 'asset.zip', UploadId, PartNumber: 2, Body: Buffer.from('tail') }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'asset.zip', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    expect(done.ETag).toMatch(/-2"$/);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'asset.zip' }))).ContentLength).toBe(big.length + 4);

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'small.zip' }));
    const s1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'small.zip', UploadId: small.UploadId, PartNumber: 1, Body: Buffer.from('a') }));
    const s2 = await s3.send(new UploadPartCommand({ Bucket, Key: 'small.zip', UploadId: small.UploadId, PartNumber: 2, Body: Buffer.from('b') }));
    await expect(
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'small.zip', UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }] } })),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'small.zip', UploadId: small.UploadId }));
  });

  it('refuses a bad bucket name with InvalidBucketName', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await expect(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Bucket' }))).rejects.toMatchObject({ name: 'InvalidBucketName' });
  });
});
