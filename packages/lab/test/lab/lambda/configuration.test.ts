/**
 * A function's configuration as `aws lambda get-function` / `list-versions-by-function` show it:
 * $LATEST carries the SHA-256 of its code, the one a version published from it keeps.
 * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
 */
import { GetFunctionCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

let codeDir: string;
let lab: Lab;
let client: LambdaClient;

beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'lab-lambda-config-'));
  writeFileSync(join(codeDir, 'index.js'), 'exports.handler = async (e) => e;');
});
afterAll(() => rmSync(codeDir, { recursive: true, force: true }));

beforeEach(async () => {
  lab = new Lab({ warm: false });
  await lab.start();
  lab.lambda.createFunction({ name: 'fn', handler: 'index.handler', codeDir });
  client = new LambdaClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' }, maxAttempts: 1 });
});
afterEach(() => lab.stop());

const sha = async (Qualifier?: string) => (await client.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier }))).Configuration?.CodeSha256;

describe('Lambda CodeSha256', () => {
  it('$LATEST has the base64 SHA-256 of its code before any version is published', async () => {
    expect(await sha()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('a published version keeps the CodeSha256 $LATEST had; new code changes both', async () => {
    const before = await sha();
    lab.lambda.publishVersion('fn');
    expect(await sha('1')).toBe(before);
    expect(await sha('$LATEST')).toBe(before);
    lab.lambda.publishVersion('fn', {}, 'new code');
    expect(await sha('2')).not.toBe(before);
    expect(await sha()).toBe(await sha('2'));
    const listed = (await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }))).Versions?.map((v) => [v.Version, v.CodeSha256 === before]);
    expect(listed).toEqual([['$LATEST', false], ['1', true], ['2', false]]);
  });
});
