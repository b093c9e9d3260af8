/**
 * SSM Parameter Store as the AWS CLI reads it (`aws ssm get-parameter`, `get-parameters-by-path`):
 * version selectors, SecureString values only with WithDecryption, listing a hierarchy.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 */
import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Lab } from '../../../src/lab/lab';

let lab: Lab;
let ssm: SSMClient;

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  ssm = new SSMClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});
afterEach(() => lab.stop());

const put = (Name: string, Value: string, Type: 'String' | 'SecureString' = 'String', Overwrite = false) => ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite }));

describe('SSM parameters', () => {
  it('name:version reads an older version and says which selector it answered', async () => {
    await put('/app/mode', 'sandbox');
    await put('/app/mode', 'live', 'String', true);
    expect((await ssm.send(new GetParameterCommand({ Name: '/app/mode' }))).Parameter).toMatchObject({ Value: 'live', Version: 2 });
    const first = (await ssm.send(new GetParameterCommand({ Name: '/app/mode:1' }))).Parameter;
    expect(first).toMatchObject({ Name: '/app/mode', Value: 'sandbox', Version: 1, Selector: ':1', ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/mode' });
    expect((await ssm.send(new GetParametersCommand({ Names: ['/app/mode:2', '/nope:1'] }))).Parameters?.map((p) => p.Value)).toEqual(['live']);
    await expect(ssm.send(new GetParameterCommand({ Name: '/app/mode:9' }))).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
    await expect(ssm.send(new GetParameterCommand({ Name: '/nope:1' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    await expect(ssm.send(new GetParameterCommand({ Name: '/app/mode:prod' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('labels') });
  });

  it('a SecureString answers its value only WithDecryption; without, an opaque ciphertext', async () => {
    await put('/app/key', 's3cret', 'SecureString');
    const plain = (await ssm.send(new GetParameterCommand({ Name: '/app/key', WithDecryption: true }))).Parameter;
    expect(plain).toMatchObject({ Type: 'SecureString', Value: 's3cret' });
    const hidden = (await ssm.send(new GetParameterCommand({ Name: '/app/key' }))).Parameter?.Value;
    expect(hidden).not.toContain('s3cret');
    expect(hidden).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((await ssm.send(new GetParametersCommand({ Names: ['/app/key'] }))).Parameters?.[0].Value).toBe(hidden);
  });

  it('GetParametersByPath lists one level, or the whole tree with Recursive, in pages of MaxResults', async () => {
    for (const n of ['/app/a', '/app/b', '/app/deep/c', '/other/d']) await put(n, n);
    const level = await ssm.send(new GetParametersByPathCommand({ Path: '/app' }));
    expect(level.Parameters?.map((p) => p.Name)).toEqual(['/app/a', '/app/b']);
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: '/app/', Recursive: true, MaxResults: 2, NextToken }));
      expect(page.Parameters!.length).toBeLessThanOrEqual(2);
      names.push(...page.Parameters!.map((p) => p.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(names).toEqual(['/app/a', '/app/b', '/app/deep/c']);
    await expect(ssm.send(new GetParametersByPathCommand({ Path: 'app' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Path') });
    await expect(ssm.send(new GetParametersByPathCommand({ Path: '/app', MaxResults: 11 }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('MaxResults') });
  });
});
