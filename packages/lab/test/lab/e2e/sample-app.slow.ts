import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Lab } from '../../../src/lab/lab';
import { synthSampleApp } from '../../../src/lab/sample-app';

// The sample app synthesized once, as `cdk synth` would, then loaded into fresh labs.
let assembly: string;
beforeAll(() => {
  assembly = synthSampleApp();
}, 60_000);

async function labWith(seed = 3): Promise<Lab> {
  const lab = new Lab({ seed });
  await lab.start();
  await lab.loadAssembly(assembly);
  return lab;
}

const sdk = (lab: Lab) => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
/** The ids in the watchdog's registry of active deployments (the state table's `#active` item). */
const registered = async (lab: Lab): Promise<string[]> => {
  for (const TableName of lab.dynamodb.tableNames()) {
    const out = (await Promise.resolve(lab.dynamodb.service.operations.GetItem({ TableName, Key: { deploymentId: { S: '#active' } } })).catch(() => ({}))) as { Item?: { ids?: { SS: string[] } } };
    if (out.Item) return out.Item.ids?.SS ?? [];
  }
  throw new Error('no registry item in any table');
};

const decisionsOf = (lab: Lab, id: string) =>
  lab.lambda.logs.filter((l) => l.line.includes('"message":"decision"')).map((l) => JSON.parse(l.line).decision).filter((d) => d.deploymentId === id);

describe('the lab running the sample app', () => {
  let lab: Lab;
  afterEach(async () => lab?.stop());

  it('loads every function, guarded alias and rule, and lists what it does not model', async () => {
    lab = new Lab({ seed: 1 });
    await lab.start();
    const report = await lab.loadAssembly(assembly);
    // Five runtime functions (the scheduled and the event-driven watchdog among them), the three
    // guarded ones (two Node.js, one Python), and the provider of the #config custom resource.
    expect(report.functions).toHaveLength(9);
    expect(report.releases.map((r) => r.alias)).toEqual(['live', 'live', 'live']);
    expect(report.releases[0].beforeAllowTraffic).toMatch(/^CodeDeployHook_/);
    expect(Object.keys(report.unmodelled).sort()).toEqual(['AWS::CloudWatch::Dashboard', 'AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::Lambda::Permission', 'AWS::Logs::LogGroup']);
  });

  it('serves the loaded app to the real SDK clients: alias, invoke with the executed version, alarms', async () => {
    lab = await labWith();
    const r = lab.release('PricingApi');
    const lambda = new LambdaClient(sdk(lab));
    expect(await lambda.send(new GetAliasCommand({ FunctionName: r.functionName, Name: 'live' }))).toMatchObject({ FunctionVersion: '1' });
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: r.functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ rawPath: '/price', queryStringParameters: { sku: 'sku-1', qty: '2' } })) }),
    );
    expect(out.ExecutedVersion).toBe('1');
    expect(JSON.parse(JSON.parse(Buffer.from(out.Payload!).toString()).body)).toEqual({ sku: 'sku-1', qty: 2, unitPrice: 1299, tax: 208, total: 2806, currency: 'USD' });
    // One heartbeat alarm per guarded deployment group.
    const alarms = await new CloudWatchClient(sdk(lab)).send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'OrdersService-' }));
    expect(alarms.MetricAlarms?.map((a) => a.AlarmName).filter((n) => n!.endsWith('-heartbeat'))).toEqual([
      expect.stringMatching(/^OrdersService-OrdersApi-[0-9A-F]{8}-heartbeat$/),
      expect.stringMatching(/^OrdersService-PricingApi-[0-9A-F]{8}-heartbeat$/),
      expect.stringMatching(/^OrdersService-ShippingQuote-[0-9A-F]{8}-heartbeat$/),
    ]);
    // The Python function's real code answers through its alias, in a python3 process.
    const shipping = lab.release('ShippingQuote');
    const quote = await lambda.send(
      new InvokeCommand({ FunctionName: shipping.functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ rawPath: '/shipping', queryStringParameters: { zone: 'US', weightKg: '1.2' } })) }),
    );
    expect([quote.ExecutedVersion, quote.FunctionError]).toEqual(['1', undefined]);
    expect(JSON.parse(JSON.parse(Buffer.from(quote.Payload!).toString()).body)).toEqual({ zone: 'US', weightKg: 1.2, cents: 650 + 2 * 150, currency: 'USD' });
  }, 30_000);

  it('completes a good release: canary, final shift, bake, and the watchdog ends the bake', async () => {
    lab = await labWith();
    const r = lab.release('OrdersApi');
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(120);
    const listedBefore = lab.server.requests.get('CodeDeploy.ListDeployments') ?? 0;
    const { version, deploymentId } = await lab.deploy(r.functionName);
    await lab.advance(60);
    expect(lab.lambda.getAlias(r.functionName, 'live')).toEqual({ functionVersion: '1', additional: { version, weight: 0.1 } });
    // The pre-traffic hook registered it; the watchdog and the prober find it there.
    expect(await registered(lab)).toEqual([deploymentId]);
    await lab.advance(20 * 60);
    const cd = new CodeDeployClient(sdk(lab));
    expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status).toBe('Succeeded');
    expect(await registered(lab)).toEqual([]);
    // 21 minutes of watchdog and prober runs over two guarded groups: the groups are listed only
    // to reconcile the registry every 10 minutes, not by every run.
    expect((lab.server.requests.get('CodeDeploy.ListDeployments') ?? 0) - listedBefore).toBeLessThanOrEqual(2 * 3);
    expect(lab.lambda.getAlias(r.functionName, 'live')).toEqual({ functionVersion: version });
    expect(decisionsOf(lab, deploymentId).find((d) => d.actionTaken === 'succeed-bake')).toMatchObject({ stage: 'bake-end', action: 'proceed' });
  }, 60_000);

  it('rolls back a release whose errors start after the pre-traffic checks, before it takes full traffic', async () => {
    lab = await labWith();
    const r = lab.release('OrdersApi');
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(120);
    const { version, deploymentId } = await lab.deploy(r.functionName, { behaviour: { errorRate: 0.1, startsFailingAfterMinutes: 1 } });
    await lab.advance(15 * 60);
    const stop = decisionsOf(lab, deploymentId).find((d) => d.actionTaken === 'stop-deployment');
    expect(stop).toMatchObject({ action: 'rollback', trafficPercent: 10 });
    expect(['probes', 'new-version']).toContain(stop.layer);
    expect(lab.lambda.getAlias(r.functionName, 'live')).toEqual({ functionVersion: '1' });
    expect(lab.traffic.tally(r.functionName, 'live').get(version)!.requests).toBeLessThan(1000);
  }, 60_000);

  it('stops a configuration mistake in the pre-traffic hook, before any user request reaches it', async () => {
    lab = await labWith();
    const r = lab.release('PricingApi');
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(180);
    const env = { ...lab.lambda.getConfiguration(r.functionName).env, PRICE_LIST: '{"sku-1": 1299,' };
    const { version, deploymentId } = await lab.deploy(r.functionName, { env });
    await lab.advance(5 * 60);
    const d = lab.codedeploy.deployments().find((x) => x.deploymentId === deploymentId) as { status: string };
    expect(d.status).toBe('Failed');
    expect(lab.traffic.tally(r.functionName, 'live').get(version)).toBeUndefined();
    const hookLog = lab.lambda.logs.find((l) => l.line.includes('canary-watchdog.pre-traffic'));
    expect(hookLog?.line).toMatch(/PRICE_LIST: not valid JSON/);
  }, 60_000);

  it('carries 200 requests a second through a release, and the AWS/Lambda metrics add up to what was sent', async () => {
    lab = await labWith(5);
    const r = lab.release('PricingApi');
    lab.traffic.set(r.functionName, r.alias, 200);
    await lab.advance(180);
    const { version } = await lab.deploy(r.functionName);
    await lab.advance(20 * 60);
    lab.traffic.set(r.functionName, r.alias, 0);
    await lab.advance(180);
    const sent = [...lab.traffic.tally(r.functionName, 'live').values()].reduce((n, t) => n + t.requests, 0);
    const out = (await new CloudWatchClient(sdk(lab)).send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.UTC(2026, 0, 1)),
        EndTime: new Date(lab.now()),
        MetricDataQueries: [{ Id: 'i', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: r.functionName }, { Name: 'Resource', Value: `${r.functionName}:live` }] }, Period: 3600, Stat: 'Sum' } }],
      }),
    )).MetricDataResults![0].Values!;
    expect(sent).toBeGreaterThan(200 * 60 * 20);
    // Every simulated request through the alias is counted exactly once (probes invoke versions).
    expect(out.reduce((a, b) => a + b, 0)).toBe(sent);
    expect(lab.lambda.getAlias(r.functionName, 'live')).toEqual({ functionVersion: version });
  }, 90_000);

  it('lets CodeDeploy roll back on its own when the watchdog is down: the heartbeat alarm', async () => {
    lab = await labWith();
    const r = lab.release('OrdersApi');
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(120);
    const watchdogFn = lab.lambda.functionNames().find((n) => /^OrdersService-Watchdog[0-9A-F]{8}$/.test(n))!;
    lab.eventbridge.disabledTargets.add(watchdogFn);
    const { deploymentId } = await lab.deploy(r.functionName);
    await lab.advance(10 * 60);
    const d = lab.codedeploy.deployments().find((x) => x.deploymentId === deploymentId) as { status: string; errorInformation?: { code: string } };
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(lab.lambda.getAlias(r.functionName, 'live')).toEqual({ functionVersion: '1' });
  }, 60_000);
});
