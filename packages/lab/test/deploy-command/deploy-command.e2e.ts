/**
 * `canary-watchdog deploy` end to end: the unmodified CDK CLI run by the command against a lab
 * (`lab --empty --clock real --speed 60`, same code path as AWS: only AWS_ENDPOINT_URL differs).
 * The first deploy creates the stack (no guarded release: exit 0); a broken configuration is
 * stopped by the pre-traffic hook (exit 1 with the hook's reason, not a CloudFormation status);
 * a good change completes (exit 0). Run by .ci/cdk-deploy (slow: not part of `npm test`).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, startUserProject, type UserProject } from '../cdk-deploy/user-project';

let project: UserProject;
beforeAll(async () => {
  project = await startUserProject();
}, 60_000);

afterAll(() => project.stop());

const json = () => join(mkdtempSync(join(tmpdir(), 'deploy-')), 'out.json');

/** The CLI: the repository's, or the installed CLI package's (CANARY_WATCHDOG_CLI, set by .ci/cdk-deploy after npm run dist). */
const cli = process.env.CANARY_WATCHDOG_CLI ?? join(root, 'packages/lab/bin/canary-watchdog.js');

/** `canary-watchdog deploy` in the copy, with the CDK CLI the project installed. */
const deploy = (out: string) =>
  project.run(process.execPath, [cli, 'deploy', '--interval', '1', '--json', out, '--cdk', join(root, 'node_modules/.bin/cdk'), '--', '--require-approval', 'never', '--no-notices', '--no-color']);

it('follows the releases cdk deploy starts and exits with their verdict: 0 created, 1 with the hook\'s reason, 0 completed', async () => {
  const started = Date.now();
  const boot = await project.cdk('bootstrap', 'aws://123456789012/us-east-1');
  expect(boot.status).toBe(0);

  const first = json();
  const created = await deploy(first);
  expect({ status: created.status, out: created.out }).toMatchObject({ status: 0, out: expect.stringContaining('0 guarded release(s) completed in 1 stack(s)') });

  // TAX_RATE must be a number: the pre-traffic hook's configuration check fails the release.
  project.setContext('orders-service:taxRate', 'abc');
  const bad = json();
  const broken = await deploy(bad);
  expect(broken.status).toBe(1);
  expect(broken.out).toMatch(/release failed: d-[A-Z0-9]+ \(\S+\/\S+\) rolled-back: pre-traffic hook: .*TAX_RATE/);
  const badJson = JSON.parse(readFileSync(bad, 'utf8'));
  expect(badJson).toMatchObject({ exitCode: 1, stacks: { OrdersService: { exitCode: 1 } } });
  expect(badJson.cdkStatus).not.toBe(0);

  project.setContext('orders-service:taxRate', 0.09);
  const good = json();
  const fixed = await deploy(good);
  expect({ status: fixed.status, out: fixed.out }).toMatchObject({ status: 0, out: expect.stringMatching(/[1-9]\d* guarded release\(s\) completed in 1 stack\(s\)/) });
  expect(JSON.parse(readFileSync(good, 'utf8')).stacks.OrdersService.deployments.every((d: { outcome: string; decisions: unknown[] }) => d.outcome === 'completed' && d.decisions.length > 0)).toBe(true);
  process.stdout.write(`deploy-command e2e: bootstrap and 3 deploys in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}, 900_000); // its real-clock lab slows with the machine's load (over 400 s at a load average of 20)
