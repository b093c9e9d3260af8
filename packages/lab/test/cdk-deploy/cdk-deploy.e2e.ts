/**
 * The user's path, end to end, with the unmodified AWS CDK CLI: a lab started with
 * `--empty --clock real --speed 60`, `cdk bootstrap`, `cdk deploy` of the sample app, a broken
 * pricing value that makes `cdk deploy` fail with the old version still serving, and a good one
 * that deploys after the canary and the bake. The only change to the CLI is its endpoint.
 * Run by .ci/cdk-deploy (slow: not part of `npm test`).
 */
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { synthSampleApp } from '../../src/lab/sample-app';

const root = resolve(__dirname, '../../../..');
let lab: ChildProcess;
let endpoint = '';

beforeAll(async () => {
  lab = spawn(process.execPath, [join(root, 'packages/lab/bin/canary-watchdog.js'), 'lab', '--port', '0', '--empty', '--clock', 'real', '--speed', '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  endpoint = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the lab printed no endpoint: ${out}`)), 30_000);
    lab.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes('Ctrl-C')) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
  });
}, 60_000);

afterAll(async () => {
  const exited = new Promise((r) => lab.once('exit', r));
  lab.kill('SIGINT');
  await exited;
});

const env = () => ({ ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab', AWS_REGION: 'us-east-1', CDK_DISABLE_CLI_TELEMETRY: 'true' });
const sdk = () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });

/** Run the CDK CLI in an empty folder; resolves to its exit status and output. */
function cdk(...args: string[]): Promise<{ status: number | null; out: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'cdk-user-'));
  const child = spawn(join(root, 'node_modules/.bin/cdk'), [...args, '--no-notices', '--no-color'], { cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((r) => child.on('exit', (status) => r({ status, out })));
}

const pricingAlias = async () => {
  const stack = (await new CloudFormationClient(sdk()).send(new DescribeStacksCommand({ StackName: 'OrdersService' }))).Stacks![0];
  const functionName = 'OrdersService-PricingApiFunctionE656641C';
  return { status: stack.StackStatus, version: (await new LambdaClient(sdk()).send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion };
};

it('cdk bootstrap, cdk deploy, a broken release that fails the deploy and leaves the old version serving, then a good one', async () => {
  const started = Date.now();
  const bootstrap = await cdk('bootstrap', 'aws://123456789012/us-east-1');
  expect(bootstrap.out).toContain('Environment aws://123456789012/us-east-1 bootstrapped');
  expect(bootstrap.status).toBe(0);

  const first = await cdk('deploy', '--app', synthSampleApp(), '--require-approval', 'never');
  expect(first.status).toBe(0);
  expect(await pricingAlias()).toEqual({ status: 'CREATE_COMPLETE', version: '1' });

  // TAX_RATE must be a number: the pre-traffic hook's configuration check fails the deployment.
  const broken = await cdk('deploy', '--app', synthSampleApp(undefined, { 'orders-service:taxRate': 'abc' }), '--require-approval', 'never');
  expect(broken.status).not.toBe(0);
  expect(broken.out).toMatch(/UPDATE_FAILED +\| AWS::Lambda::Alias .*CodeDeploy deployment d-[A-Z0-9]+ failed: The BeforeAllowTraffic hook CodeDeployHook_OrdersService-Watchdog-pre reported Failed/);
  expect(await pricingAlias()).toEqual({ status: 'UPDATE_ROLLBACK_COMPLETE', version: '1' });

  const good = await cdk('deploy', '--app', synthSampleApp(undefined, { 'orders-service:taxRate': 0.09 }), '--require-approval', 'never');
  expect(good.status).toBe(0);
  expect(await pricingAlias()).toEqual({ status: 'UPDATE_COMPLETE', version: '3' });
  expect(Date.now() - started).toBeLessThan(120_000);
}, 180_000);
