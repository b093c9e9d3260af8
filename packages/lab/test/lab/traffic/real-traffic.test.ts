import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import type { EventSource } from '../../../src/lab/user-events';
import { initialNetwork, userTrafficOf } from '../../../src/rehearsal/real-traffic';
import { parseScenario } from '../../../src/rehearsal/scenario';

/**
 * `shop`: version 1 answers 200 for every SKU; its alias `live` has a function URL. The tests
 * publish version 2 from `NEW_CODE` and send half the alias's requests to it.
 */
const OLD_CODE = 'exports.handler = async (e) => ({ statusCode: 200, body: e.sku });';
const NEW_CODE = [
  'exports.handler = async (e) => {',
  "  if (e.sku === 'b') throw new TypeError('no tier for ' + e.sku);",
  "  if (e.sku === 'c') return { statusCode: 503, body: 'stock service down' };",
  "  if (e.sku === 'slow') { const r = await fetch('https://payments.internal/authorize'); return { statusCode: r.status }; }",
  '  return { statusCode: 200, body: e.sku };',
  '};',
].join('\n');

function assembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-real-traffic-'));
  const template = {
    Resources: {
      Shop: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop', Handler: 'index.handler', Code: { ZipFile: OLD_CODE }, Timeout: 3 } },
      ShopVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Shop' } } },
      ShopAlias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Shop' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['ShopVersion', 'Version'] } } },
      ShopUrl: { Type: 'AWS::Lambda::Url', Properties: { AuthType: 'AWS_IAM', Qualifier: 'live', TargetFunctionArn: { 'Fn::GetAtt': ['Shop', 'Arn'] } } },
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

/** Publish NEW_CODE as version 2 and route `weight` of the alias to it. */
function releaseNewCode(lab: Lab, weight: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-real-traffic-new-'));
  writeFileSync(join(dir, 'index.js'), NEW_CODE);
  lab.lambda.updateCode('shop', { dir, handler: 'index.handler' });
  const v2 = lab.lambda.publishVersion('shop');
  lab.lambda.setAliasRouting('shop', 'live', { functionVersion: '1', additional: { version: v2, weight } });
  return v2;
}

const events = (skus: Record<string, number>): EventSource => ({ kind: 'list', from: 'test', events: Object.entries(skus).map(([sku, weight]) => ({ event: { sku }, weight })) });

/** A metric's sum over the lab's whole history. */
async function sum(lab: Lab, metric: string, dims: Record<string, string>): Promise<number> {
  const cw = new CloudWatchClient({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
  const out = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(lab.now() - 3_600_000),
      EndTime: new Date(lab.now()),
      MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: 60, Stat: 'Sum' } }],
    }),
  );
  return (out.MetricDataResults?.[0].Values ?? []).reduce((a, b) => a + b, 0);
}

describe('user traffic that runs the real code (traffic events)', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ seed: 3 });
    await lab.start();
    await lab.loadAssembly(assembly());
  });
  afterEach(async () => lab.stop());

  it("runs each version's real code: the new code's exceptions are Errors of its ExecutedVersion, its 503 answers Url5xxCount, and the old version fails none", async () => {
    const v2 = releaseNewCode(lab, 0.5);
    lab.traffic.set('shop', 'live', 10, 0, 0, { events: events({ a: 2, b: 1, c: 1 }), realRps: 1000 });
    await lab.advance(180);
    const tally = lab.traffic.tally('shop', 'live');
    const old = tally.get('1')!;
    const fresh = tally.get(v2)!;
    expect(old.failures).toBe(0);
    expect(fresh.real).toBe(fresh.requests);
    // b (a quarter of the events) throws, c answers 503: about half of the new version's requests fail.
    expect(fresh.failures / fresh.requests).toBeGreaterThan(0.35);
    expect(fresh.failures / fresh.requests).toBeLessThan(0.65);
    expect(fresh.sources).toEqual({ code: fresh.failures, injected: 0, noise: 0, throttled: 0 });
    const userInvocations = lab.lambda.invocations.filter((i) => i.source === 'user' && i.executedVersion === v2);
    expect(userInvocations.length).toBe(fresh.requests);
    const thrown = userInvocations.filter((i) => !i.ok).length;
    expect(thrown).toBeGreaterThan(0);
    // Stop the traffic and let the last minutes be published (a minute late, as Lambda's).
    lab.traffic.set('shop', 'live', 0);
    await lab.advance(150);
    const dims = { FunctionName: 'shop', Resource: 'shop:live', ExecutedVersion: v2 };
    expect(await sum(lab, 'Invocations', dims)).toBe(fresh.requests);
    expect(await sum(lab, 'Errors', dims)).toBe(thrown);
    expect(await sum(lab, 'Url5xxCount', dims)).toBe(fresh.failures);
    expect(await sum(lab, 'Url5xxCount', dims)).toBeGreaterThan(await sum(lab, 'Errors', dims));
    expect(await sum(lab, 'Errors', { FunctionName: 'shop', Resource: 'shop:live', ExecutedVersion: '1' })).toBe(0);
  }, 60_000);

  it('invokes a seeded sample for real at high rates and counts the rest in proportion, saying the share and the margin', async () => {
    const v2 = releaseNewCode(lab, 0.5);
    lab.traffic.set('shop', 'live', 100, 0, 0, { events: events({ a: 1, b: 1 }), realRps: 10 });
    await lab.advance(120);
    const fresh = lab.traffic.tally('shop', 'live').get(v2)!;
    expect(fresh.requests).toBeGreaterThan(9000 * 0.5 * 0.2);
    expect(fresh.real / fresh.requests).toBeGreaterThan(0.05);
    expect(fresh.real / fresh.requests).toBeLessThan(0.2);
    // Half the events throw: the counted rate follows the real one.
    expect(fresh.failures / fresh.requests).toBeGreaterThan(0.4);
    expect(fresh.failures / fresh.requests).toBeLessThan(0.6);
    const u = userTrafficOf(lab.traffic.tally('shop', 'live'), v2, 'test');
    expect(u.realShare).toBeCloseTo(fresh.real / fresh.requests, 5);
    expect(u.failureRateMargin95).toBeGreaterThan(0.005);
    expect(u.failureRateMargin95).toBeLessThan(0.05);
    // Each real invocation is one, the rest are not invocations at all.
    expect(lab.lambda.invocations.filter((i) => i.source === 'user').length).toBe([...lab.traffic.tally('shop', 'live').values()].reduce((a, t) => a + t.real, 0));
  }, 60_000);

  it('applies injected behaviour on top of the real code, and tells its failures from the code\'s', async () => {
    const v2 = releaseNewCode(lab, 1);
    lab.lambda.setBehaviour('shop', v2, { errorRate: 0.5 });
    lab.traffic.set('shop', 'live', 10, 0, 0, { events: events({ a: 1, b: 1 }), realRps: 1000 });
    await lab.advance(120);
    const s = lab.traffic.tally('shop', 'live').get(v2)!.sources;
    expect(s.injected).toBeGreaterThan(0);
    expect(s.code).toBeGreaterThan(0);
    expect(s.injected + s.code).toBe(lab.traffic.tally('shop', 'live').get(v2)!.failures);
  }, 60_000);

  it('a dependency slower than the timeout times the real handler out (Sandbox.Timedout)', async () => {
    const v2 = releaseNewCode(lab, 1);
    lab.lambda.setNetwork({ 'payments.internal': { status: 200, latencyMs: 4000 } });
    lab.traffic.set('shop', 'live', 2, 0, 0, { events: events({ slow: 1 }), realRps: 1000 });
    await lab.advance(20);
    const user = lab.lambda.invocations.filter((i) => i.source === 'user' && i.executedVersion === v2);
    expect(user.length).toBeGreaterThan(0);
    expect(user.every((i) => i.error?.type === 'Sandbox.Timedout' && !i.error.injected)).toBe(true);
    // A fast answer is no timeout (the guard against blaming every fetch).
    lab.lambda.setNetwork({ 'payments.internal': { status: 200, latencyMs: 100 } });
    const before = lab.lambda.invocations.length;
    await lab.advance(20);
    expect(lab.lambda.invocations.slice(before).filter((i) => i.source === 'user').every((i) => i.ok)).toBe(true);
  }, 60_000);

  it('without events, user requests follow the behaviour and invoke no code, as before', async () => {
    const v2 = releaseNewCode(lab, 0.5);
    lab.lambda.setBehaviour('shop', v2, { errorRate: 0.2 });
    lab.traffic.set('shop', 'live', 20, 0, 0);
    await lab.advance(120);
    const fresh = lab.traffic.tally('shop', 'live').get(v2)!;
    expect(lab.lambda.invocations.filter((i) => i.source === 'user')).toHaveLength(0);
    expect(fresh.real).toBe(0);
    expect(fresh.failures / fresh.requests).toBeGreaterThan(0.1);
    expect(fresh.failures / fresh.requests).toBeLessThan(0.3);
    expect(fresh.sources.injected).toBe(fresh.failures);
  }, 60_000);
});

describe('a scenario whose events are a traffic file with hosts (network)', () => {
  it('starts from the file\'s host answers, the scenario\'s own over them, a windowed host healthy until its window', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-network-'));
    writeFileSync(join(dir, 'traffic.yaml'), 'functions: { OrdersApi: { rps: 1, events: [{}] } }\nnetwork:\n  payments.internal: { status: 200, latencyMs: 2600 }\n  stock.internal: { status: 200, latencyMs: 50 }\n');
    const scenario = parseScenario(
      { name: 'n', description: 'd', traffic: { rps: 1, minutes: 1, events: 'traffic.yaml' }, network: { 'stock.internal': { status: 503 }, 'cache.internal': { status: 503, fromMinute: 1 } }, expect: { outcome: 'completed' } },
      join(dir, 'n.yaml'),
    );
    expect(initialNetwork(scenario)).toEqual({ 'payments.internal': { status: 200, latencyMs: 2600 }, 'stock.internal': { status: 503 }, 'cache.internal': { status: 200 } });
  });
});
