/**
 * The user's path, end to end, with the unmodified AWS CDK CLI, in a copy of the project: a lab
 * started with `--empty --clock real --speed 60`, `cdk bootstrap`, `cdk deploy` of the sample app
 * (synthesized by the CLI from the copy's cdk.json), a broken pricing value in cdk.json's context
 * that makes `cdk deploy` fail with the old version still serving, a good one that deploys after
 * the canary and the bake (with a code change to the Python shipping function, released beside it),
 * then a broken code change to the pricing function that fails too. The
 * only change to the CLI is its endpoint. Run by .ci/cdk-deploy (slow: not part of `npm test`).
 */
import { InvokeCommand, GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startUserProject, type UserProject } from './user-project';

let project: UserProject;
let app = '';
beforeAll(async () => {
  project = await startUserProject();
  app = project.app;
}, 60_000);

afterAll(() => project.stop());

const sdk = () => project.sdk();
const cdk = (...args: string[]) => project.cdk(...args);

/** `cdk deploy` of the copy, which must end with `status` (0, or not 0). */
async function deploy(expectSuccess: boolean): Promise<string> {
  const r = await cdk('deploy', '--require-approval', 'never');
  if ((r.status === 0) !== expectSuccess) throw new Error(`cdk deploy exited ${r.status}, expected ${expectSuccess ? 0 : 'non-zero'}:\n${r.out}\n--- lab ---\n${project.labOut()}`);
  return r.out;
}

const setContext = (key: string, value: unknown) => project.setContext(key, value);

const functionName = 'OrdersService-PricingApiFunctionE656641C';
const pricingAlias = async () => {
  const stack = (await new CloudFormationClient(sdk()).send(new DescribeStacksCommand({ StackName: 'OrdersService' }))).Stacks![0];
  return { status: stack.StackStatus, version: (await new LambdaClient(sdk()).send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion };
};
/** The sample's Python function: its live alias's version, and a quote through it. */
const shippingFunction = 'OrdersService-ShippingQuoteFunctionC3276BA7';
const shipping = async () => {
  const lambda = new LambdaClient(sdk());
  const out = await lambda.send(new InvokeCommand({ FunctionName: shippingFunction, Qualifier: 'live', Payload: JSON.stringify({ rawPath: '/shipping', queryStringParameters: { zone: 'EU', weightKg: '2.5' } }) }));
  const answer = JSON.parse(Buffer.from(out.Payload!).toString()) as { statusCode: number; body: string };
  return { version: (await lambda.send(new GetAliasCommand({ FunctionName: shippingFunction, Name: 'live' }))).FunctionVersion, executed: out.ExecutedVersion, statusCode: answer.statusCode, body: JSON.parse(answer.body) as Record<string, unknown> };
};
const quote = async () => {
  const out = await new LambdaClient(sdk()).send(new InvokeCommand({ FunctionName: functionName, Qualifier: 'live', Payload: JSON.stringify({ rawPath: '/price', queryStringParameters: { sku: 'sku-1', qty: '1' } }) }));
  return JSON.parse(Buffer.from(out.Payload!).toString()) as { statusCode: number };
};

it('cdk bootstrap, cdk deploy, a broken configuration and a broken code release that fail the deploy and leave the old version serving, and a good one', async () => {
  const started = Date.now();
  // Progress in the CI step's output: where a slow run spends its time.
  const mark = (what: string) => process.stdout.write(`cdk-deploy e2e: ${what} at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const bootstrap = await cdk('bootstrap', 'aws://123456789012/us-east-1');
  mark('bootstrapped');
  expect(bootstrap.out).toContain('Environment aws://123456789012/us-east-1 bootstrapped');
  expect(bootstrap.status).toBe(0);

  await deploy(true);
  mark('first deploy done');
  expect(await pricingAlias()).toEqual({ status: 'CREATE_COMPLETE', version: '1' });
  // The Python function: version 1 published, its alias live, its real code answering in a python3 process.
  expect(await shipping()).toEqual({ version: '1', executed: '1', statusCode: 200, body: { zone: 'EU', weightKg: 2.5, cents: 850, currency: 'USD' } });
  const hostPython = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
  if (hostPython !== '3.14') expect(project.labOut()).toContain(`lab: python3.14 functions run on this host's Python ${hostPython}`);

  // TAX_RATE must be a number: the pre-traffic hook's configuration check fails the deployment.
  setContext('orders-service:taxRate', 'abc');
  expect(await deploy(false)).toMatch(/UPDATE_FAILED +\| AWS::Lambda::Alias .*CodeDeploy deployment d-[A-Z0-9]+ failed: The BeforeAllowTraffic hook CodeDeployHook_OrdersService-Watchdog-pre reported Failed/);
  mark('broken configuration refused');
  expect(await pricingAlias()).toEqual({ status: 'UPDATE_ROLLBACK_COMPLETE', version: '1' });

  // A good configuration, and in the same deploy a change to the Python function's code: both releases pass their hooks and canaries.
  setContext('orders-service:taxRate', 0.09);
  const pySource = join(app, 'sample/functions/shipping/shipping_quote.py');
  writeFileSync(pySource, readFileSync(pySource, 'utf8').replace('"currency": os.environ.get("CURRENCY", "USD")}', '"currency": os.environ.get("CURRENCY", "USD"), "service": "shipping"}'));
  await deploy(true);
  mark('good configuration and Python change released');
  expect(await pricingAlias()).toEqual({ status: 'UPDATE_COMPLETE', version: '3' });
  expect(await shipping()).toEqual({ version: '2', executed: '2', statusCode: 200, body: { zone: 'EU', weightKg: 2.5, cents: 850, currency: 'USD', service: 'shipping' } });

  // A code change: CDK uploads a new asset and publishes a new version; its probe fails before any user traffic.
  const source = join(app, 'sample/functions/pricing.ts');
  writeFileSync(source, readFileSync(source, 'utf8').replace('return q ? json(200, q)', "return q ? json(500, { error: 'broken build' })"));
  expect(await deploy(false)).toMatch(/UPDATE_FAILED +\| AWS::Lambda::Alias .*CodeDeploy deployment d-[A-Z0-9]+ failed: The BeforeAllowTraffic hook CodeDeployHook_OrdersService-Watchdog-pre reported Failed/);
  expect(await pricingAlias()).toEqual({ status: 'UPDATE_ROLLBACK_COMPLETE', version: '3' });
  expect((await quote()).statusCode).toBe(200);
  expect((await shipping()).version).toBe('2');
  // A measurement, not a check (speed goals live in benchmarks): printed in the CI step's output.
  process.stdout.write(`cdk-deploy e2e: bootstrap, 4 deploys with 4 synths, 4 releases (one of them Python) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}, 900_000); // 178 s under a load average of 12 on 2 cores; 90 s idle
