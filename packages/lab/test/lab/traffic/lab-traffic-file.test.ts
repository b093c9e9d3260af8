import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';
import { parseTrafficFile } from '../../../src/lab/user-events';

/** A guarded function `shop` (construct Shop): its alias `live` is released through CodeDeploy. */
function guardedAssembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-traffic-file-'));
  const template = {
    Resources: {
      ShopFunction1A2B: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop', Handler: 'index.handler', Code: { ZipFile: "exports.handler = async (e) => { if (e.qty > 9) throw new Error('bulk'); return { statusCode: 200 }; };" } } },
      ShopVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'ShopFunction1A2B' } } },
      ShopAlias: {
        Type: 'AWS::Lambda::Alias',
        Properties: { FunctionName: { Ref: 'ShopFunction1A2B' }, Name: 'live', FunctionVersion: { 'Fn::GetAtt': ['ShopVersion', 'Version'] } },
        UpdatePolicy: { CodeDeployLambdaAliasUpdate: { ApplicationName: 'a', DeploymentGroupName: 'g' } },
      },
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

const file = (key: string) => parseTrafficFile({ functions: { [key]: { rps: 4, events: [{ qty: 1 }, { event: { qty: 12 }, weight: 1 }] } } }, 'traffic.yaml');
const userInvocations = (lab: Lab) => lab.lambda.invocations.filter((i) => i.source === 'user');
const post = (lab: Lab, body: unknown) => fetch(`${lab.endpoint}/_lab/traffic`, { method: 'POST', body: JSON.stringify(body) });

describe('lab --traffic: a traffic file per function', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ seed: 2 });
    await lab.start();
  });
  afterEach(async () => lab.stop());

  it.each([['by construct id', 'Shop'], ['by function name', 'shop']])('starts the real traffic of a function named %s as soon as a stack deploys it', async (_, key) => {
    expect(lab.setUserTraffic(file(key))).toEqual([]);
    await lab.loadAssembly(guardedAssembly());
    await lab.advance(30);
    const user = userInvocations(lab);
    // Every request ran the real code (4 a second, all real): the bulk ones threw.
    expect(user.length).toBe(120);
    expect(user.filter((i) => !i.ok).length).toBeGreaterThan(20);
    expect(user.every((i) => i.ok || i.error?.message === 'bulk')).toBe(true);
  }, 30_000);

  it('starts nothing for a function the file does not name', async () => {
    lab.setUserTraffic(file('Basket'));
    await lab.loadAssembly(guardedAssembly());
    await lab.advance(10);
    expect(userInvocations(lab)).toHaveLength(0);
  });

  it('changes the rate through the control API keeping the events, goes back to simulated requests with events: null, and names a bad field', async () => {
    await lab.loadAssembly(guardedAssembly());
    expect(lab.setUserTraffic(file('shop'))).toEqual(['shop:live']);
    const changed = await post(lab, { function: 'shop', rps: 1 });
    expect(await changed.json()).toMatchObject({ function: 'shop', rps: 1, events: 'traffic.yaml.functions.shop.events (inline)', realRps: 1 });
    await lab.advance(10);
    expect(userInvocations(lab)).toHaveLength(10);
    await post(lab, { function: 'shop', rps: 5, events: null });
    await lab.advance(10);
    expect(userInvocations(lab)).toHaveLength(10);
    const inline = await post(lab, { function: 'shop', rps: 2, events: [{ qty: 3 }], realRps: 1 });
    expect(await inline.json()).toMatchObject({ realRps: 1 });
    await lab.advance(10);
    expect(userInvocations(lab).length).toBeGreaterThan(10);
    const bad = await post(lab, { function: 'shop', rps: 2, events: [42] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('events[0]: expected a Lambda event (a JSON object) or { event, weight }, got 42');
    const noEvents = await post(lab, { function: 'shop', rps: 2, events: null, realRps: 3 });
    expect(await noEvents.text()).toContain('realRps: only with events');
  }, 30_000);
});

/** `shop` calls payments.internal (the PAYMENTS_URL a stack sets) and answers its status, or the failure's code. */
function payingAssembly(): string {
  const dir = guardedAssembly();
  const template = JSON.parse(readFileSync(join(dir, 'S.template.json'), 'utf8'));
  template.Resources.ShopFunction1A2B.Properties = {
    ...template.Resources.ShopFunction1A2B.Properties,
    Timeout: 3,
    Environment: { Variables: { PAYMENTS_URL: 'https://payments.internal/v1' } },
    Code: { ZipFile: 'exports.handler = async () => { const r = await fetch(process.env.PAYMENTS_URL); return { statusCode: r.status }; };' },
  };
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify(template));
  return dir;
}

describe('lab --traffic: the hosts a traffic file names (network)', () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = new Lab({ seed: 2 });
    await lab.start();
  });
  afterEach(async () => lab.stop());
  const withNetwork = (network: unknown) => parseTrafficFile({ functions: { shop: { rps: 2, events: [{}] } }, network }, 'traffic.yaml');

  it('makes a dependency answer late from the start, over the answers a deployed stack\'s environment gives its hosts', async () => {
    lab.setUserTraffic(withNetwork({ 'payments.internal': { status: 200, latencyMs: 4000 } }));
    await lab.loadAssembly(payingAssembly());
    expect(lab.lambda.networkMap()['payments.internal']).toEqual({ status: 200, latencyMs: 4000 });
    await lab.advance(5);
    const user = userInvocations(lab);
    // 4 s late against a 3 s timeout: every request times out.
    expect(user.length).toBe(10);
    expect(user.every((i) => !i.ok && /timed out/i.test(i.error?.message ?? ''))).toBe(true);
  }, 30_000);

  it('names a bad host entry, and refuses a window (a traffic file has no release to count minutes from)', () => {
    expect(() => withNetwork({ 'payments.internal': { status: 700 } })).toThrow('traffic.yaml.network.payments.internal.status: expected');
    expect(() => withNetwork({ 'payments.internal': { status: 503, fromMinute: 1 } })).toThrow(
      'traffic.yaml.network.payments.internal: a traffic file\'s hosts answer for the whole run, without fromMinute or toMinute (windows count from a release\'s start: give them in a scenario, or change a host with POST /_lab/network while the lab runs)',
    );
  });

  it('changes what a host answers while the lab runs (POST /_lab/network), and names a bad field', async () => {
    await lab.loadAssembly(payingAssembly());
    lab.setUserTraffic(withNetwork(undefined));
    await lab.advance(3);
    expect(userInvocations(lab).every((i) => i.ok)).toBe(true);
    const down = await fetch(`${lab.endpoint}/_lab/network`, { method: 'POST', body: JSON.stringify({ hosts: { 'payments.internal': 'unreachable' } }) });
    expect(down.status).toBe(200);
    expect(await down.json()).toMatchObject({ hosts: { 'payments.internal': 'unreachable' } });
    const before = userInvocations(lab).length;
    await lab.advance(3);
    expect(userInvocations(lab).slice(before).every((i) => !i.ok)).toBe(true);
    const bad = await fetch(`${lab.endpoint}/_lab/network`, { method: 'POST', body: JSON.stringify({ hosts: { 'payments.internal': { status: 200, latencyMs: -1 } } }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('hosts.payments.internal.latencyMs: expected');
    const none = await fetch(`${lab.endpoint}/_lab/network`, { method: 'POST', body: JSON.stringify({ host: {} }) });
    expect(await none.text()).toContain('hosts: expected');
  }, 30_000);
});
