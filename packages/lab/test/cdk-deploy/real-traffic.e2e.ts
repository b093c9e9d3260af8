/**
 * Real user traffic through `cdk deploy` into the lab (issue 25): a lab started with the sample's
 * traffic file (`lab --traffic`, each function's requests running its real code, at most 2 a
 * second for real at --speed 60), then `canary-watchdog deploy` of a code change to the orders
 * function that throws for bulk orders of every SKU but sku-1, which the probes never send: the
 * new-version layer stops it before 100 % and the command exits 1 with that reason. So is a change
 * that calls the payments service twice while it answers 2.6 s late (POST /_lab/network): its real
 * requests outlast the 5 s timeout. A good code change completes. Run by .ci/cdk-deploy (slow: not part of `npm test`).
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { root, startUserProject, type UserProject } from './user-project';

let project: UserProject;
beforeAll(async () => {
  project = await startUserProject((app) => {
    // The sample's traffic file, each function capped at 2 real invocations a lab second (the lab runs 60 times faster than the wall clock).
    const file = join(app, 'sample', 'traffic.yaml');
    const doc = parseYaml(readFileSync(file, 'utf8')) as { functions: Record<string, { realRps?: number }> };
    for (const f of Object.values(doc.functions)) f.realRps = 2;
    const capped = join(app, 'sample', 'traffic-e2e.yaml');
    writeFileSync(capped, stringify(doc));
    return ['--traffic', capped];
  });
}, 120_000);

afterAll(() => project.stop());

const cli = process.env.CANARY_WATCHDOG_CLI ?? join(root, 'packages/lab/bin/canary-watchdog.js');
const json = () => join(mkdtempSync(join(tmpdir(), 'deploy-')), 'out.json');
const deploy = (out: string) =>
  project.run(process.execPath, [cli, 'deploy', '--interval', '1', '--json', out, '--cdk', join(root, 'node_modules/.bin/cdk'), '--', '--require-approval', 'never', '--no-notices', '--no-color']);

/** What payments.internal answers the functions from now on (the lab's control API). */
const setPayments = (answer: { status: number; latencyMs?: number }) => fetch(`${project.endpoint}/_lab/network`, { method: 'POST', body: JSON.stringify({ hosts: { 'payments.internal': answer } }) });

/** Make the copy's orders handler the given change (sample/changes/*.ts), keeping the original beside it as orders-v1.ts once. */
function changeOrders(change: string): void {
  const functions = join(project.app, 'sample', 'functions');
  const v1 = join(functions, 'orders-v1.ts');
  if (!existsSync(v1)) renameSync(join(functions, 'orders.ts'), v1);
  const code = readFileSync(join(project.app, 'sample', 'changes', change), 'utf8').replace("'../functions/orders'", "'./orders-v1'").replace("'../functions/http'", "'./http'");
  writeFileSync(join(functions, 'orders.ts'), code);
}

it('with the sample traffic running, a code change that throws on real requests the probes never send is stopped before 100 % (exit 1, the new-version layer), so is one that times out under a slow dependency, and a good change completes', async () => {
  const started = Date.now();
  const mark = (what: string) => process.stdout.write(`real-traffic e2e: ${what} at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  expect((await project.cdk('bootstrap', 'aws://123456789012/us-east-1')).status).toBe(0);
  const created = await deploy(json());
  expect(created.status).toBe(0);
  mark('created');
  // Traffic started for each guarded function as the stack deployed it.
  expect(project.labOut()).toMatch(/user traffic from \S+traffic-e2e\.yaml \(real code\)/);

  changeOrders('orders-bulk-discount.ts');
  const bad = json();
  const broken = await deploy(bad);
  mark('bulk-discount change deployed');
  expect({ status: broken.status, out: broken.out }).toMatchObject({ status: 1, out: expect.stringMatching(/rolled back by layer new-version at \d+(\.\d+)? %/) });
  expect(broken.out).toMatch(/release failed: d-[A-Z0-9]+ \(\S+\/\S+\) rolled-back/);
  const records = (JSON.parse(readFileSync(bad, 'utf8')) as { stacks: { OrdersService: { deployments: { outcome: string; decisions: { layer?: string; trafficPercent: number; actionTaken: string }[] }[] } } }).stacks.OrdersService.deployments;
  const stopped = records.flatMap((d) => d.decisions).find((r) => r.actionTaken === 'stop-deployment' || r.actionTaken === 'fail-bake');
  expect(stopped).toMatchObject({ layer: 'new-version' });
  expect(stopped!.trafficPercent).toBeLessThan(100);

  // The payments service both versions call answers 2.6 s late: a change that calls it twice for a
  // stored order outlasts the function's 5 s timeout on real requests the probes (dry runs) never send.
  const slow = await setPayments({ status: 200, latencyMs: 2600 });
  expect(slow.status).toBe(200);
  changeOrders('orders-capture.ts');
  const timing = json();
  const timedOut = await deploy(timing);
  mark('capture change deployed under a slow payments service');
  expect({ status: timedOut.status, out: timedOut.out }).toMatchObject({ status: 1, out: expect.stringMatching(/rolled back by layer new-version at \d+(\.\d+)? %/) });
  const timeoutRecords = (JSON.parse(readFileSync(timing, 'utf8')) as { stacks: { OrdersService: { deployments: { decisions: { layer?: string; trafficPercent: number; actionTaken: string }[] }[] } } }).stacks.OrdersService.deployments;
  const stoppedSlow = timeoutRecords.flatMap((d) => d.decisions).find((r) => r.actionTaken === 'stop-deployment' || r.actionTaken === 'fail-bake');
  expect(stoppedSlow).toMatchObject({ layer: 'new-version' });
  expect(stoppedSlow!.trafficPercent).toBeLessThan(100);
  // The payments service answers on time again.
  expect((await setPayments({ status: 200 })).status).toBe(200);

  changeOrders('orders-request-id.ts');
  const good = await deploy(json());
  mark('request-id change deployed');
  expect({ status: good.status, out: good.out }).toMatchObject({ status: 0, out: expect.stringMatching(/[1-9]\d* guarded release\(s\) completed in 1 stack\(s\)/) });
}, 900_000);
