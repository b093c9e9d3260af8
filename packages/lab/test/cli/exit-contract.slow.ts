/**
 * The CLI's exit-status contract, the rows that need a lab running releases (see
 * exit-contract.test.ts for the others): 130 interrupted, after printing what finished.
 * Slow (a rehearsal, a synthesized sample app): run by CI's slow-tests step.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit-codes';
import { Lab } from '../../src/lab/lab';
import { synthSampleApp } from '../../src/lab/sample-app';
import { awsEnv, runCli } from './run-cli';

const tmp = () => mkdtempSync(join(tmpdir(), 'exit-contract-'));

describe('1 rolled back or failed release', () => {
  it('rehearse whose scenario misses its expectations (the watchdog rolls back a release expected to complete): 1, naming the unmet expectation', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'expects-completed.yaml'), 'name: expects-completed\nfunction: OrdersApi\ntraffic: { rps: 20, minutes: 20 }\nseed: 3\nrelease: { errorRate: 0.3 }\nexpect: { outcome: completed }\n');
    const r = await runCli(['rehearse', '--scenario', join(dir, 'expects-completed.yaml')], dir);
    expect(r.code).toBe(EXIT.failed);
    expect(r.stdout).toMatch(/^FAIL expects-completed$/m);
    expect(r.stderr).toMatch(/^some scenarios did not meet their expectations$/m);
  }, 300_000);
});

describe('130 interrupted, after printing the results finished so far', () => {
  it('rehearse: Ctrl-C after the first scenario finished prints its summary, writes --json with it, and exits 130', async () => {
    const dir = tmp();
    const json = join(dir, 'out.json');
    let sent = false;
    const r = await runCli(['rehearse', '--scenario', 'bad-code', '--scenario', 'good-release', '--scenario', 'slow-burn', '--parallel', '1', '--json', json], dir, undefined, {
      onStdout: (out, child) => {
        if (!sent && /^(ok {2}|FAIL) bad-code$/m.test(out)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stdout).toMatch(/^bad-code\s+(pass|FAIL) \| /m);
    expect(r.stdout).not.toMatch(/^slow-burn\s+(pass|FAIL) \| /m);
    expect(r.stdout).toMatch(/interrupted: 1 of 3 scenarios finished \(shown above\)/);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ interrupted: true, scenarios: [{ name: 'bad-code' }] });
    expect(r.stderr).toMatch(/^interrupted \(SIGINT\)/m);
  }, 600_000);

  describe('watch', () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = new Lab({ seed: 3 });
      await lab.start();
      await lab.loadAssembly(synthSampleApp());
    }, 180_000);
    afterAll(() => lab.stop());

    it('Ctrl-C while a release is in progress prints where it stood and exits 130', async () => {
      const r0 = lab.release('PricingApi');
      // The lab's clock is virtual and not advanced: the deployment stays in progress.
      const { deploymentId } = await lab.deploy(r0.functionName, {});
      let sent = false;
      const r = await runCli(['watch', '--deployment', deploymentId, '--interval', '0.2'], tmp(), undefined, {
        env: awsEnv(lab.endpoint),
        onStdout: (out, child) => {
          if (!sent && out.includes(`${deploymentId} InProgress`)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      });
      expect(sent).toBe(true);
      expect(r.code).toBe(EXIT.interrupted);
      expect(r.stdout).toMatch(new RegExp(`${deploymentId} interrupted: no verdict yet: InProgress`));
      expect(r.stderr).toMatch(new RegExp(`^interrupted \\(SIGINT\\) after 0 of 1 verdict\\(s\\): ${deploymentId} no verdict yet \\(InProgress`, 'm'));
    }, 120_000);
  });
});
