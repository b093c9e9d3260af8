/**
 * The guard never obeys what it guards (issue 21), played on the lab with the sample app's own
 * roles: a client acts as a guarded function's execution role, found through
 * GetFunctionConfiguration and assumed through the lab's STS, as an attacker holding that
 * function's credentials would.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { watchKey } from 'canary-watchdog/lib/aws/telemetry';
import { Lab } from '../../../src/lab/lab';
import { synthSampleApp } from '../../../src/lab/sample-app';

let assembly: string;
let lab: Lab;
beforeAll(async () => {
  assembly = synthSampleApp();
  lab = new Lab({ seed: 1 });
  await lab.start();
  await lab.loadAssembly(assembly);
}, 120_000);
afterAll(async () => lab?.stop());

const region = 'us-east-1';
const admin = () => ({ endpoint: lab.endpoint, region, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });

/** Credentials of the function's execution role, through GetFunctionConfiguration and STS AssumeRole. */
async function actAs(functionName: string) {
  const role = (await new LambdaClient(admin()).send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))).Role;
  expect(role).toMatch(/^arn:aws:iam::\d{12}:role\//);
  const out = await new STSClient(admin()).send(new AssumeRoleCommand({ RoleArn: role!, RoleSessionName: 'attacker' }));
  const c = out.Credentials!;
  return { endpoint: lab.endpoint, region, maxAttempts: 1, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

/** The watchdog's state table: the one holding the configuration item (the sample delivers it there). */
const stateTable = () => lab.dynamodb.tableNames().find((t) => (lab.dynamodb.service.operations.GetItem({ TableName: t, Key: { deploymentId: { S: '#config' } } }) as { Item?: unknown }).Item !== undefined)!;

const denied = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  expect(err?.name).toMatch(/^AccessDenied(Exception)?$/);
  expect(err?.message).toMatch(/^User: arn:aws:sts::\d{12}:assumed-role\/[^/]+\/attacker is not authorized to perform: /);
  return err!;
};

describe("acting as a guarded function's role", () => {
  const orders = () => lab.release('OrdersApi').functionName;
  const pricing = () => lab.release('PricingApi').functionName;

  it('cannot change the configuration item: UpdateItem on #config is AccessDenied, and the item is unchanged', async () => {
    const table = stateTable();
    const before = JSON.stringify(lab.dynamodb.service.operations.GetItem({ TableName: table, Key: { deploymentId: { S: '#config' } } }));
    const ddb = new DynamoDBClient(await actAs(orders()));
    const err = await denied(
      ddb.send(new UpdateItemCommand({ TableName: table, Key: { deploymentId: { S: '#config' } }, UpdateExpression: 'SET #c = :c', ExpressionAttributeNames: { '#c': 'config' }, ExpressionAttributeValues: { ':c': { S: '{"mode":"shadow","guards":[]}' } } })),
    );
    expect(err.message).toContain('dynamodb:UpdateItem');
    expect(JSON.stringify(lab.dynamodb.service.operations.GetItem({ TableName: table, Key: { deploymentId: { S: '#config' } } }))).toBe(before);
  }, 30_000);

  it('cannot read the configuration, the registry or the table as a whole', async () => {
    const table = stateTable();
    const ddb = new DynamoDBClient(await actAs(orders()));
    await denied(ddb.send(new GetItemCommand({ TableName: table, Key: { deploymentId: { S: '#config' } } })));
    await denied(ddb.send(new GetItemCommand({ TableName: table, Key: { deploymentId: { S: '#active' } } })));
    await denied(ddb.send(new ScanCommand({ TableName: table })));
  }, 30_000);

  it("cannot add to another function's counts", async () => {
    const ddb = new DynamoDBClient(await actAs(orders()));
    await denied(
      ddb.send(new UpdateItemCommand({ TableName: stateTable(), Key: { deploymentId: { S: watchKey(pricing(), '1') } }, UpdateExpression: 'ADD #e :e', ExpressionAttributeNames: { '#e': 'telemetryErrors' }, ExpressionAttributeValues: { ':e': { N: '1000' } } })),
    );
  }, 30_000);

  it("cannot put metrics into the watchdog's namespace (forged heartbeats), while its own namespace is its business", async () => {
    const cw = new CloudWatchClient(await actAs(orders()));
    const err = await denied(cw.send(new PutMetricDataCommand({ Namespace: 'CanaryWatchdog', MetricData: [{ MetricName: 'WatchdogHeartbeat', Value: 1 }] })));
    expect(err.message).toContain('cloudwatch:PutMetricData');
  }, 30_000);

  it('may write its own telemetry counts, and read its own watch item', async () => {
    const ddb = new DynamoDBClient(await actAs(orders()));
    const Key = { deploymentId: { S: watchKey(orders(), '1') } };
    await ddb.send(new UpdateItemCommand({ TableName: stateTable(), Key, UpdateExpression: 'ADD #n :n', ExpressionAttributeNames: { '#n': 'telemetryInvocations' }, ExpressionAttributeValues: { ':n': { N: '3' } } }));
    const got = await ddb.send(new GetItemCommand({ TableName: stateTable(), Key, ConsistentRead: true }));
    expect(got.Item?.telemetryInvocations).toEqual({ N: '3' });
  }, 30_000);

  it("the lab's default credentials keep full access", async () => {
    const ddb = new DynamoDBClient(admin());
    const got = await ddb.send(new GetItemCommand({ TableName: stateTable(), Key: { deploymentId: { S: '#config' } } }));
    expect(got.Item?.config).toBeDefined();
  }, 30_000);
});
