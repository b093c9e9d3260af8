/**
 * `watch` against the lab running the sample app, through the real SDK clients: a bad release is
 * rolled back (exit 1, the deciding layer's reason and evidence), a good one completes (exit 0).
 * The lab's clock is virtual: each poll's sleep advances it, so the test takes seconds and reads
 * the same AWS calls a real-clock run does.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STAGES } from 'canary-watchdog/lib/core/types';
import { EXIT } from '../../src/cli/exit-codes';
import { Watcher, type WatchClients, type WatchTarget } from '../../src/cli/watch';
import { Lab } from '../../src/lab/lab';
import { synthSampleApp } from '../../src/lab/sample-app';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI } from './run-cli';

let assembly: string;
let lab: Lab;
beforeAll(() => {
  assembly = synthSampleApp();
}, 120_000);
afterEach(async () => lab?.stop());

function clients(): WatchClients {
  const cfg = { endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } };
  return { codedeploy: new CodeDeployClient(cfg), lambda: new LambdaClient(cfg), dynamodb: new DynamoDBClient(cfg), cloudformation: new CloudFormationClient(cfg) };
}

async function watch(target: WatchTarget, columns = 80) {
  let out = '';
  const watcher = new Watcher(clients(), {
    target,
    intervalMs: 30_000,
    timeoutMs: 3 * 3600_000,
    columns,
    out: (s) => (out += s),
    // One poll every 30 lab seconds.
    sleep: async (ms) => void (await lab.advance(ms / 1000)),
    now: () => lab.now(),
  });
  const result = await watcher.run();
  return { result, out };
}

async function labWithTraffic() {
  lab = new Lab({ seed: 3 });
  await lab.start();
  await lab.loadAssembly(assembly);
  const r = lab.release('PricingApi');
  lab.traffic.set(r.functionName, r.alias, 20);
  await lab.advance(120);
  return r;
}

describe('canary-watchdog watch on the lab', () => {
  it("exits 1 on a bad release, with the deciding layer's reason and evidence, within the terminal's width", async () => {
    const r = await labWithTraffic();
    const { deploymentId } = await lab.deploy(r.functionName, { behaviour: { errorRate: 0.3 } });
    const { result, out } = await watch({ deployment: deploymentId }, 80);
    expect(result.exitCode).toBe(EXIT.failed);
    expect(result.deployments[0]).toMatchObject({ deploymentId, status: 'Stopped', outcome: 'rolled-back' });
    expect(result.deployments[0].reason).toMatch(/^layer \S+: /);
    expect(out).toMatch(new RegExp(`${deploymentId} rolled back by layer \\S+`));
    expect(out).toMatch(/why: /);
    expect(out).toMatch(/evidence: \S+\/\S+ failed: observed/);
    expect(out).toMatch(/traffic \d+(\.\d+)? % new/);
    // Wrapped lines joined: the state line names each layer's outcome.
    // The telemetry signal may already have failed the release by the time the state line is drawn.
    expect(out.replace(/\n\s+/g, ' ')).toMatch(/layers config healthy, .*new-version (insufficient|failed)/);
    const decisions = result.deployments[0].decisions;
    expect(decisions.at(-1)).toMatchObject({ action: 'rollback' });
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  }, 120_000);

  it('exits 0 on a good release found through --application and --group, with the decision records in order', async () => {
    const r = await labWithTraffic();
    const { deploymentId } = await lab.deploy(r.functionName, {});
    const { result, out } = await watch({ application: r.application, group: r.deploymentGroup });
    expect(result.exitCode).toBe(EXIT.ok);
    expect(result.deployments[0]).toMatchObject({ deploymentId, status: 'Succeeded', outcome: 'completed' });
    expect(out).toContain('COMPLETED');
    const stages = result.deployments[0].decisions.map((d) => d.stage);
    expect(stages).toContain('bake');
    // Stages only move forward, and the bake's end is recorded.
    const order = stages.map((s) => STAGES.indexOf(s));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(stages.at(-1)).toBe('bake-end');
  }, 120_000);

  it('runs as a command against a real-clock lab through AWS_ENDPOINT_URL: exit 1, the reason on standard error, and --json', async () => {
    lab = new Lab({ seed: 3, clock: 'real', speed: 60 });
    await lab.start();
    await lab.loadAssembly(assembly);
    const r = lab.release('PricingApi');
    lab.traffic.set(r.functionName, r.alias, 20);
    // Three lab minutes of steady traffic and watchdog runs (heartbeats) before the release.
    await new Promise((ok) => setTimeout(ok, 3000));
    const { deploymentId } = await lab.deploy(r.functionName, { behaviour: { errorRate: 0.3 } });
    const json = join(mkdtempSync(join(tmpdir(), 'watch-')), 'out.json');
    const env = { ...process.env, AWS_ENDPOINT_URL: lab.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab' };
    const child = spawn(process.execPath, [CLI, 'watch', '--deployment', deploymentId, '--interval', '0.5', '--json', json], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((ok) => child.on('exit', ok));
    // What decides depends on wall-clock timing: the probes' alarm or the error rate, or, when the
    // injected errors fail all three attempts of a probe before traffic, the pre-traffic hook.
    expect({ code, stderr }).toMatchObject({ code: EXIT.failed, stderr: expect.stringMatching(new RegExp(`^${deploymentId} rolled-back: (layer (new-version|probes)|pre-traffic hook): `, 'm')) });
    const byHook = stderr.includes('rolled-back: pre-traffic hook: ');
    expect(stdout).toContain(byHook ? 'pre-traffic hook reported Failed' : 'rolled back by layer');
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written).toMatchObject({ target: { deployment: deploymentId }, exitCode: EXIT.failed, deployments: [{ deploymentId, outcome: 'rolled-back' }] });
    if (byHook) expect(written.deployments[0].preTraffic).toMatchObject({ type: 'canary-watchdog.pre-traffic', status: 'Failed' });
    else expect(written.deployments[0].decisions.at(-1)).toMatchObject({ type: 'canary-watchdog.decision', action: 'rollback' });
  }, 120_000);
});
