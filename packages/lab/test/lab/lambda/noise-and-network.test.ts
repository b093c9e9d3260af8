import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { initDurationOf } from '../../../src/lab/lambda';

/** One stack: `callee` (version 1, alias live with a function URL), and `caller`, which invokes it and fetches. */
function assembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-noise-'));
  const callee = 'exports.handler = async () => ({ statusCode: 200, body: "ok" });';
  const caller = [
    "const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');",
    "const https = require('node:https');",
    'const client = new LambdaClient({});',
    'const viaRequest = (url) => new Promise((resolve) => { const req = https.request(url, (res) => { res.resume(); resolve({ status: res.statusCode }); }); req.on("error", (e) => resolve({ error: e.message })); req.end(); });',
    'exports.handler = async (e) => {',
    '  if (e.invoke) { const t = Date.now(); const out = await client.send(new InvokeCommand({ FunctionName: "callee", Qualifier: "1" })); return { roundTripMs: Date.now() - t, error: out.FunctionError }; }',
    '  if (e.fetch) { try { return { status: (await fetch(e.fetch)).status }; } catch (err) { return { error: err.message, cause: err.cause && err.cause.message }; } }',
    '  return viaRequest(e.request);',
    '};',
  ].join('\n');
  const fn = (name: string, code: string, env: Record<string, string> = {}) => ({
    Type: 'AWS::Lambda::Function',
    Properties: { FunctionName: name, Handler: 'index.handler', Code: { ZipFile: code }, Timeout: 10, Environment: { Variables: env } },
  });
  const template = {
    Resources: {
      Callee: fn('callee', callee),
      CalleeVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Callee' } } },
      CalleeAlias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Callee' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['CalleeVersion', 'Version'] } } },
      CalleeUrl: { Type: 'AWS::Lambda::Url', Properties: { AuthType: 'AWS_IAM', Qualifier: 'live', TargetFunctionArn: { 'Fn::GetAtt': ['Callee', 'Arn'] } } },
      Caller: fn('caller', caller, { PAYMENTS_URL: 'https://payments.internal/v2' }),
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

const sdk = (lab: Lab) => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
const invoke = async (lab: Lab, FunctionName: string, event: unknown = {}, Qualifier?: string) => {
  const out = await new LambdaClient(sdk(lab)).send(new InvokeCommand({ FunctionName, Qualifier, LogType: 'Tail', Payload: Buffer.from(JSON.stringify(event)) }));
  return { ...out, payload: JSON.parse(Buffer.from(out.Payload!).toString()) as Record<string, unknown>, tail: Buffer.from(out.LogResult ?? '', 'base64').toString() };
};

describe('the lab: noise, HTTP 500s, function URL metrics and the network', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ seed: 5 });
    await lab.start();
    await lab.loadAssembly(assembly());
  });
  afterEach(async () => lab.stop());

  it('charges a cold start once per execution environment: a separate Init Duration on the REPORT line, outside Duration, and in the caller\'s round trip', async () => {
    lab.lambda.setNoise('callee', { coldStartMs: 1000 });
    const first = await invoke(lab, 'callee', {}, '1');
    const report = /^REPORT .*$/m.exec(first.tail)![0];
    expect(report).toMatch(/\tInit Duration: 1000\.00 ms\t/);
    expect(Number(/Duration: ([\d.]+) ms/.exec(report)![1])).toBeLessThan(1000);
    expect((await invoke(lab, 'callee', {}, '1')).tail).not.toContain('Init Duration');

    // A caller in the lab waits for the init phase: its own clock moves past it.
    const fresh = new Lab({ seed: 5 });
    await fresh.start();
    await fresh.loadAssembly(assembly());
    try {
      fresh.lambda.setNoise('callee', { coldStartMs: 1000 });
      const cold = (await invoke(fresh, 'caller', { invoke: true })).payload;
      const warm = (await invoke(fresh, 'caller', { invoke: true })).payload;
      expect(cold.roundTripMs).toBeGreaterThanOrEqual(1000);
      expect(warm.roundTripMs).toBeLessThan(1000);
    } finally {
      await fresh.stop();
    }
  }, 30_000);

  it("charges a version its own init (initMs) rather than the noise's, and spreads inits by coldStartSigma", async () => {
    lab.lambda.setNoise('callee', { coldStartMs: 1000 });
    lab.lambda.setBehaviour('callee', '1', { initMs: 1600 });
    expect(/^REPORT .*$/m.exec((await invoke(lab, 'callee', {}, '1')).tail)![0]).toMatch(/\tInit Duration: 1600\.00 ms\t/);
    const draws = [0.3, 0.9, 0.6, 0.1];
    const rand = () => draws.shift()!;
    expect(initDurationOf({ initMs: 400 }, { coldStartMs: 1000 }, rand)).toBe(400);
    expect(initDurationOf({}, { coldStartMs: 1000 }, rand)).toBe(1000);
    expect(initDurationOf({}, {}, rand)).toBeUndefined();
    const spread = [initDurationOf({ initMs: 400 }, { coldStartSigma: 0.3 }, rand), initDurationOf({ initMs: 400 }, { coldStartSigma: 0.3 }, rand)];
    expect(spread.every((ms) => ms !== undefined && ms > 150 && ms < 1100 && ms !== 400)).toBe(true);
  }, 30_000);

  it('fails the noisy function\'s invocations at the transient rate, and no other function\'s', async () => {
    lab.lambda.setNoise('callee', { transientErrorRate: 1 });
    const out = await invoke(lab, 'callee', {}, 'live');
    expect(out.FunctionError).toBe('Unhandled');
    expect(out.payload).toMatchObject({ errorType: 'LabTransientError' });
    expect((await invoke(lab, 'caller', { fetch: 'https://payments.internal/v2' })).FunctionError).toBeUndefined();
  }, 30_000);

  it('answers HTTP 500 without a function error at httpErrorRate', async () => {
    lab.lambda.setBehaviour('callee', '1', { httpErrorRate: 1 });
    const out = await invoke(lab, 'callee', {}, 'live');
    expect(out.FunctionError).toBeUndefined();
    expect(out.payload).toEqual({ statusCode: 500, body: '{"error":"injected by the lab (httpErrorRate)"}' });
  }, 30_000);

  it('publishes function URL metrics per executed version for traffic through an alias with a URL: 5xx = function errors + HTTP 500s, which are not Errors', async () => {
    lab.lambda.setBehaviour('callee', '1', { errorRate: 0.1, httpErrorRate: 0.2 });
    lab.traffic.set('callee', 'live', 10);
    await lab.advance(60);
    const dims = [
      { Name: 'FunctionName', Value: 'callee' },
      { Name: 'Resource', Value: 'callee:live' },
      { Name: 'ExecutedVersion', Value: '1' },
    ];
    const query = (MetricName: string) => ({ Id: MetricName.toLowerCase(), MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName, Dimensions: dims }, Period: 60, Stat: 'Sum' } });
    const read = async () => {
      const out = await new CloudWatchClient(sdk(lab)).send(
        new GetMetricDataCommand({ StartTime: new Date(lab.now() - 600_000), EndTime: new Date(lab.now()), MetricDataQueries: ['UrlRequestCount', 'Url5xxCount', 'Url4xxCount', 'Errors', 'Invocations'].map(query) }),
      );
      return Object.fromEntries(out.MetricDataResults!.map((r) => [r.Id, r.Values?.reduce((a, b) => a + b, 0) ?? 0]));
    };
    // Not before Lambda's publishing delay.
    expect((await read()).urlrequestcount).toBe(0);
    await lab.advance(70);
    const m = await read();
    expect(m.urlrequestcount).toBe(m.invocations);
    expect(m.urlrequestcount).toBeGreaterThan(500);
    expect(m.url4xxcount).toBe(0);
    expect(m.errors / m.invocations).toBeGreaterThan(0.05);
    expect(m.url5xxcount - m.errors).toBeGreaterThan(0.1 * m.invocations);
  }, 30_000);

  it('fails each second\'s user requests above a version\'s capacity, and none below it', async () => {
    lab.lambda.setBehaviour('callee', '1', { capacityRps: 15 });
    lab.traffic.set('callee', 'live', 10);
    await lab.advance(60);
    expect(lab.traffic.tally('callee', 'live').get('1')).toMatchObject({ requests: 600, failures: 0 });
    lab.traffic.set('callee', 'live', 40);
    await lab.advance(60);
    // 40 a second against a capacity of 15: 25 of each second's requests fail.
    expect(lab.traffic.tally('callee', 'live').get('1')).toMatchObject({ requests: 600 + 2400, failures: 60 * 25 });
  }, 30_000);

  it('lets a network override make a named host fail or answer another status', async () => {
    lab.lambda.setNetwork({ 'payments.internal': 'unreachable', 'status.example': { status: 503 } });
    expect((await invoke(lab, 'caller', { fetch: 'https://payments.internal/v2' })).payload).toMatchObject({ error: 'fetch failed' });
    expect((await invoke(lab, 'caller', { request: 'https://status.example/' })).payload).toEqual({ status: 503 });
  }, 30_000);
});
