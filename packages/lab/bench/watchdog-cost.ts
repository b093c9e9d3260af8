/**
 * Watchdog cost: AWS API calls and wall time of one evaluation with N concurrent deployments,
 * against the lab (the real bundled watchdog, its real SDK calls), and the monthly AWS cost of
 * guarding N functions from the prices in ../shared/AWS-FACTS.md.
 * Run: npx tsx bench/watchdog-cost.ts [--quick]
 */
import { join } from 'node:path';
import { runtimeHandlerDir } from 'canary-watchdog/lib/constructs/runtime-bundle';
import { Lab } from '../src/lab/lab';
import { RECONCILE_EVERY_MS } from 'canary-watchdog/lib/runtime/discover';
import { CodeDeployDeployments } from 'canary-watchdog/lib/aws/codedeploy';
import { DynamoStateStore } from 'canary-watchdog/lib/aws/state';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const inline = 'exports.handler = async () => ({ statusCode: 200 });';

/** One watchdog run's API calls, per operation, and wall time. */
export interface RunCost {
  readonly calls: number;
  readonly byOperation: Record<string, number>;
  readonly wallMs: number;
  readonly decisions: number;
}

/**
 * `staggerSeconds` begins the deployments that far apart instead of in one minute, on a 10 %
 * every 10 minutes linear config so that none ends while the others begin.
 *
 * The steady evaluation (deployments found in the registry) and the reconciling one (every
 * guarded group listed, every RECONCILE_EVERY_MS): a minute later, and 10 minutes after that.
 * A first run before both pays the cold start and fills the registry, as the first evaluation
 * of a new deployment does.
 */
export async function evaluationCost(n: number, opts: { staggerSeconds?: number } = {}): Promise<RunCost & { n: number; reconcile: RunCost }> {
  const lab = new Lab({ seed: 1 });
  await lab.start();
  try {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const code = mkdtempSync(join(tmpdir(), 'cost-fn-'));
    writeFileSync(join(code, 'index.js'), inline);
    lab.dynamodb.createTable('state', 'deploymentId');
    const cd = lab.codedeploy.service.operations;
    const guards = [];
    for (let i = 0; i < n; i++) {
      const name = `fn-${i}`;
      lab.lambda.createFunction({ name, handler: 'index.handler', codeDir: code, environment: { V: '1' } });
      lab.lambda.publishVersion(name);
      lab.lambda.createAlias(name, 'live', { functionVersion: '1' });
      lab.lambda.updateConfiguration(name, { V: '2' });
      lab.lambda.publishVersion(name);
      await cd.CreateApplication({ applicationName: `app-${i}`, computePlatform: 'Lambda' });
      await cd.CreateDeploymentGroup({ applicationName: `app-${i}`, deploymentGroupName: `dg-${i}`, deploymentConfigName: opts.staggerSeconds ? 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes' : 'CodeDeployDefault.LambdaCanary10Percent30Minutes', serviceRoleArn: 'arn:aws:iam::123456789012:role/x' });
      for (const a of ['errors', 'service']) {
        await lab.cloudwatch.service.operations.PutMetricAlarm({ AlarmName: `${name}-${a}`, Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: name }], Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
      }
      guards.push({ application: `app-${i}`, deploymentGroup: `dg-${i}`, functionName: name, alias: 'live', alarms: { 'new-version': [`${name}-errors`], service: [`${name}-service`] }, probes: [{ name: 'ok', event: {}, expect: { status: 'success' } }] });
    }
    lab.lambda.createFunction({
      name: 'watchdog',
      handler: 'index.handler',
      codeDir: runtimeHandlerDir('watchdog'),
      timeoutSeconds: 50,
      environment: { CANARY_WATCHDOG_CONFIG: JSON.stringify({ guards }), CANARY_WATCHDOG_STATE_TABLE: 'state', POWERTOOLS_LOG_LEVEL: 'WARN' },
    });
    const sdk = { endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } };
    const deployments = new CodeDeployDeployments(new CodeDeployClient(sdk));
    const state = new DynamoStateStore(new DynamoDBClient(sdk), 'state', () => lab.now());
    const registry = state;
    for (let i = 0; i < n; i++) {
      const appSpec = JSON.stringify({ version: 0.0, Resources: [{ f: { Type: 'AWS::Lambda::Function', Properties: { Name: `fn-${i}`, Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }] });
      const id = lab.codedeploy.createDeploymentFor(`app-${i}`, `dg-${i}`, appSpec);
      // What each guarded deployment's pre-traffic hook records before traffic shifts: when
      // shifting began (from then on the watchdog takes the new version's share from the schedule,
      // not from GetAlias) and the deployment as the hook described it (steady runs read it
      // instead of BatchGetDeployments), with the real adapter.
      const [info] = await deployments.describe([id]);
      await state.updateIfAbsent(id, 'trafficShiftStartedAt', { trafficShiftStartedAt: lab.now(), deployment: info });
      await registry.addActive([id]);
      // Deployments begun apart (as on AWS) have windows of their own; the default, all in one minute.
      if (opts.staggerSeconds) await lab.advance(opts.staggerSeconds);
    }
    await lab.advance(120);
    const event = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
    const run = async (): Promise<RunCost> => {
      const before = new Map(lab.server.requests);
      const t = performance.now();
      const r = await lab.lambda.invoke('watchdog', event, 'bench');
      const wallMs = performance.now() - t;
      const byOperation: Record<string, number> = {};
      for (const [k, v] of lab.server.requests) {
        const d = v - (before.get(k) ?? 0);
        if (d) byOperation[k] = d;
      }
      const decisions = (r.payload as { decisions?: unknown[] }).decisions?.length ?? -1;
      return { calls: Object.values(byOperation).reduce((a, b) => a + b, 0), byOperation, wallMs: Math.round(wallMs), decisions };
    };
    await run();
    await lab.advance(60);
    const steady = await run();
    await lab.advance(RECONCILE_EVERY_MS / 1000);
    const reconcile = await run();
    return { n, ...steady, reconcile };
  } finally {
    await lab.stop();
  }
}

/** Monthly cost of guarding n functions (us-east-1 prices from AWS-FACTS.md), and of one 1-minute Synthetics canary each. */
export function monthlyCost(n: number, callsPerEvaluation: number): { watchdog: number; synthetics: number; detail: Record<string, number> } {
  const minutes = 30 * 24 * 60;
  // Standard alarms are billed per metric they read, metric math included: per function the
  // probe alarm (2), error rate (2), throttle rate (4: the new version's and the alias's), p99 (1),
  // alias error rate (2) and the group's heartbeat (1): 12 alarm metrics at $0.10.
  const alarms = n * 12 * 0.1;
  // ProbeFailure/ProbeLatency per version (2 versions), ConfigCheckFailure, the group's heartbeat.
  const customMetrics = (2 * 2 + 1 + 1) * 0.3 * n;
  const getMetricData = ((16 * n) / 1000) * 0.01 * minutes * (n ? 0.05 : 0); // 16 metrics per deployment, deployments in progress 5 % of the time
  const invocations = minutes * (1 + 1); // watchdog + prober every minute
  const lambdaRequests = (invocations / 1e6) * 0.2;
  const lambdaCompute = minutes * (0.256 * 0.3 + 0.256 * 1.0) * 0.0000166667; // ~0.3 s watchdog, ~1 s prober at 256 MB
  const watchdog = alarms + customMetrics + getMetricData + lambdaRequests + lambdaCompute;
  void callsPerEvaluation;
  return { watchdog, synthetics: n * 0.0012 * minutes, detail: { alarms, customMetrics, getMetricData, lambdaRequests, lambdaCompute } };
}

if (require.main === module) {
  void (async () => {
    const sizes = process.argv.includes('--quick') ? [1, 10, 50] : [1, 10, 50, 200];
    for (const n of sizes) {
      const c = await evaluationCost(n);
      const m = monthlyCost(n, c.calls);
      console.log(JSON.stringify({ ...c, monthly: { watchdog: +m.watchdog.toFixed(2), synthetics: +m.synthetics.toFixed(2) } }));
    }
    process.exit(0);
  })();
}
