/**
 * S3 listings as `aws s3 ls` reads them: ListBuckets, and ListObjectsV2 with a delimiter (folders
 * as CommonPrefixes) and with EncodingType=url, which the AWS CLI sets on every listing.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Lab } from '../../../src/lab/lab';

let lab: Lab;
let s3: S3Client;

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  s3 = new S3Client({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1, forcePathStyle: true });
});
afterEach(() => lab.stop());

const put = (Bucket: string, ...keys: string[]) => Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))));

describe('S3 listings', () => {
  it('ListBuckets names every bucket with its creation date, in name order', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'zeta-bucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha-bucket' }));
    const out = await s3.send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toEqual(['alpha-bucket', 'zeta-bucket']);
    expect(out.Buckets?.[0].CreationDate).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(out.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ListObjectsV2 with a delimiter rolls the keys under each folder into one CommonPrefix', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'files' }));
    await put('files', 'top.txt', 'dir/a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'other/d.txt');
    const root = await s3.send(new ListObjectsV2Command({ Bucket: 'files', Delimiter: '/' }));
    expect(root.Contents?.map((c) => c.Key)).toEqual(['top.txt']);
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/', 'other/']);
    expect([root.KeyCount, root.Delimiter, root.IsTruncated]).toEqual([3, '/', false]);
    const dir = await s3.send(new ListObjectsV2Command({ Bucket: 'files', Delimiter: '/', Prefix: 'dir/' }));
    expect(dir.Contents?.map((c) => c.Key)).toEqual(['dir/a.txt', 'dir/b.txt']);
    expect(dir.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/sub/']);
  });

  it('pages a delimited listing with a folder counting as one entry and never listed twice', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'files' }));
    await put('files', 'a.txt', 'dir/1', 'dir/2', 'dir/3', 'z.txt');
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'files', Delimiter: '/', MaxKeys: 1, ContinuationToken }));
      expect(page.KeyCount).toBe(1);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    expect(seen).toEqual(['a.txt', 'dir/', 'z.txt']);
  });

  it('EncodingType=url answers url-encoded keys and says so', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'files' }));
    await put('files', 'a b+c.txt');
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'files', EncodingType: 'url' }));
    expect(out.EncodingType).toBe('url');
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a+b%2Bc.txt']);
    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'files', EncodingType: 'base64' as 'url' }))).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
  });

  it('listing a bucket that does not exist is NoSuchBucket', async () => {
    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'nope-bucket', Delimiter: '/' }))).rejects.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
  });
});
