/**
 * Strategy runs in child processes (the CLI's rehearse and threat-model): the same results as in
 * process, errors and aborts carried back, and a child that dies is a clear error, never a hang.
 */
import { spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { synthSampleApp } from '../../src/lab/sample-app';
import { StrategyProcesses, STRATEGY_RUNNER_ENV } from '../../src/rehearsal/processes';
import { runStrategy } from '../../src/rehearsal/runner';
import { loadScenarios } from '../../src/rehearsal/scenario';

const BIN = join(__dirname, '..', '..', 'bin', 'canary-watchdog.js');
const processes = new StrategyProcesses(2, { script: BIN, execArgv: [] });
afterAll(() => processes.close());
let app: string;
beforeAll(() => {
  app = synthSampleApp();
});

const essentials = (r: Awaited<ReturnType<typeof runStrategy>>) => ({
  outcome: r.outcome,
  maxTrafficPercent: r.maxTrafficPercent,
  failedUserRequests: r.failedUserRequests,
  userRequestsToNewVersion: r.userRequestsToNewVersion,
  detectionSeconds: r.detectionSeconds,
  decidedBy: r.decidedBy,
  timeline: r.timeline,
});

describe('StrategyProcesses', () => {
  it('gives the same result as a run in this process, progress included', async () => {
    const [scenario] = loadScenarios(['bad-code']);
    const progress: number[] = [];
    const [child, here] = await Promise.all([processes.run(scenario, 'watchdog', app, (p) => progress.push(p.minute)), runStrategy(scenario, 'watchdog', app)]);
    expect(essentials(child)).toEqual(essentials(here));
    expect(progress.length).toBeGreaterThan(0);
  }, 120_000);

  it('carries a scenario with real traffic events (loaded again in the child, as a module of events is code)', async () => {
    const [scenario] = loadScenarios(['real-traffic-bug']);
    const r = await processes.run({ ...scenario, traffic: { ...scenario.traffic, minutes: 3 } }, 'native', app);
    expect(r.userTraffic?.requests).toBeGreaterThan(0);
  }, 120_000);

  it('rejects with the child\'s error', async () => {
    const [scenario] = loadScenarios(['bad-code']);
    await expect(processes.run(scenario, 'watchdog', join(app, 'no-such-assembly'))).rejects.toThrow(/no-such-assembly/);
  }, 60_000);

  it('leaves no abort listener behind on a signal shared by many runs', async () => {
    const [scenario] = loadScenarios(['bad-code']);
    const shared = new AbortController();
    for (let i = 0; i < 3; i++) await expect(processes.run(scenario, 'native', join(app, 'no-such-assembly'), undefined, shared.signal)).rejects.toThrow();
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  }, 60_000);

  it('stops a run when its signal aborts', async () => {
    const [scenario] = loadScenarios(['good-release']);
    const abort = new AbortController();
    const run = processes.run(scenario, 'native', app, () => abort.abort(new Error('stop now')), abort.signal);
    await expect(run).rejects.toThrow();
  }, 120_000);

  it('says which run was lost when its process dies, and keeps serving the next ones', async () => {
    const own = new StrategyProcesses(1, { script: BIN, execArgv: [] });
    try {
      const [scenario] = loadScenarios(['good-release']);
      const pids: number[] = [];
      const run = own.run(scenario, 'native', app, () => {
        if (!pids.length) {
          pids.push(1);
          // The child is the only process the pool started: find it by its environment.
          spawnSync('pkill', ['-KILL', '-f', '-P', String(process.pid), BIN]);
        }
      });
      await expect(run).rejects.toThrow(/the process rehearsing good-release \(native\) ended \(SIGKILL\) before its result/);
      const [bad] = loadScenarios(['bad-code']);
      await expect(own.run(bad, 'native', app)).resolves.toMatchObject({ outcome: 'rolled-back' });
    } finally {
      own.close();
    }
  }, 180_000);

  it('refuses a size that is not a positive integer', () => {
    expect(() => new StrategyProcesses(0)).toThrow('StrategyProcesses: size must be a positive integer, got 0');
  });

  it('the CLI refuses the runner variable without an IPC channel (exit 2), naming it', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { env: { ...process.env, [STRATEGY_RUNNER_ENV]: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(`error: ${STRATEGY_RUNNER_ENV} is set, but this process was not started by the CLI (no IPC channel)`);
  }, 60_000);
});
