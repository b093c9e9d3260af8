/**
 * The CLI's exit-status contract, a test per row of EXIT_CODES (src/cli/exit-codes.ts), each run
 * as a user runs the command. The rows that need a lab running a release are in
 * exit-contract.slow.ts.
 */
import { createServer, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, EXIT_CODES, exitCodeTable } from '../../src/cli/exit-codes';
import { Lab } from '../../src/lab/lab';
import { awsEnv, runCli } from './run-cli';

// Each test starts the CLI as a process (tsx compiles it first): seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

const tmp = () => mkdtempSync(join(tmpdir(), 'exit-contract-'));
/** Ports of this suite (45500-45549 are this worktree's): one where nothing listens, one held busy. */
const NOTHING_LISTENS = 45541;
const BUSY = 45542;
const ROOT = join(__dirname, '../../../..');
/** The CLI's own error lines (the AWS SDK may warn on standard error about the Node.js version first). */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));

describe('the exit status table', () => {
  it('has one row per status, 0, 1, 2, 3 and 130, and --help prints every row', async () => {
    expect(EXIT_CODES.map((r) => r.code)).toEqual([0, 1, 2, 3, 130]);
    const r = await runCli(['--help'], tmp());
    expect(r.code).toBe(EXIT.ok);
    for (const row of EXIT_CODES) expect(r.stdout).toContain(`\n  ${String(row.code).padStart(3)}  ${row.meaning}\n`);
  });
});

describe('0 completed', () => {
  it('exits 0 when the command did what was asked', async () => {
    const r = await runCli(['check-config', '-'], tmp(), JSON.stringify({ guards: [] }));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: '' });
  });
});

describe('2 bad input, caught before any work', () => {
  let busy: Server;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((ok) => busy.listen(BUSY, '127.0.0.1', ok));
  });
  afterAll(() => new Promise<void>((ok) => busy.close(() => ok())));

  it('lab --port on a busy port: 2, saying which port and what to do, before synthesizing anything', async () => {
    const started = Date.now();
    const r = await runCli(['lab', '--port', String(BUSY)], tmp());
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toBe(`error: --port ${BUSY}: 127.0.0.1:${BUSY} is already in use (another lab?): choose another port, or --port 0 for any free one\n`);
    expect(r.stdout).not.toMatch(/Bundling|Done in/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it.each([
    ['rehearse', ['rehearse', '--scenario', 'bad-code', '--app', '/nonexistent-app']],
    ['lab', ['lab', '--port', '0', '--app', '/nonexistent-app']],
  ])('%s --app that is not a cloud assembly: 2, naming the flag', async (_name, args) => {
    const r = await runCli(args, tmp());
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toBe('error: --app: /nonexistent-app is not a cloud assembly: no manifest.json (run npx cdk synth first)\n');
  });

  it('deploy in a folder without a CDK app (no cdk.json, no --app): 2 before calling AWS or cdk', async () => {
    const r = await runCli(['deploy', '--cdk', 'false', '--', '--require-approval', 'never'], tmp(), undefined, { env: awsEnv(`http://127.0.0.1:${NOTHING_LISTENS}`) });
    expect(r.code).toBe(EXIT.badInput);
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/^error: deploy: no CDK app here: no cdk\.json in \S+ and no --app; run it in your app's folder, or pass the app after --: deploy -- --app 'npx ts-node bin\/app\.ts'$/)]);
  });

  it.each([
    ['watch', ['watch', '--deployment', 'd-ABCDEFGHI']],
    ['deploy', ['deploy', '--cdk', 'false', '--', '--app', 'cdk.out']],
    ['explain --log-group', ['explain', '--log-group', 'watchdog-logs']],
  ])('%s without an AWS region: 2 at once, no retries, saying how to set one', async (_name, args) => {
    const started = Date.now();
    const r = await runCli(args, tmp(), undefined, { env: awsEnv(`http://127.0.0.1:${NOTHING_LISTENS}`, null) });
    expect(r.code).toBe(EXIT.badInput);
    expect(errors(r.stderr)).toEqual(['error: no AWS region: set AWS_REGION (export AWS_REGION=us-east-1), or a region in your AWS profile (~/.aws/config, chosen with AWS_PROFILE)']);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('against an empty lab: a synth failure under deploy (2), a stack that does not exist (2), no update begun (3)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = new Lab({ port: 0 });
    await lab.start();
  });
  afterAll(() => lab.stop());

  it('deploy whose app fails to synthesize: 2, not the 1 of a rolled-back release', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'app.js'), "throw new Error('the app is broken: no such prop taxRate');\n");
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'node bin/app.js' }));
    const r = await runCli(['deploy', '--interval', '0.2', '--cdk', join(ROOT, 'node_modules/.bin/cdk'), '--', '--require-approval', 'never', '--no-notices'], dir, undefined, { env: awsEnv(lab.endpoint) });
    expect(r.stderr).toContain('the app is broken');
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/error: cdk deploy failed \(status 1\) before any stack update began: the app did not synthesize, or cdk rejected its arguments \(see cdk's output above\)\n$/);
  }, 120_000);

  it('watch --stack NAME --wait-for-update 0 for a stack that does not exist: 2', async () => {
    const r = await runCli(['watch', '--stack', 'NoSuchStack', '--wait-for-update', '0'], tmp(), undefined, { env: awsEnv(lab.endpoint) });
    expect(r.code).toBe(EXIT.badInput);
    expect(errors(r.stderr)).toEqual(['error: --stack: NoSuchStack does not exist (in this account and region)']);
  });

  it('watch --stack when no update begins within --wait-for-update: 3, saying so (not 0)', async () => {
    const r = await runCli(['watch', '--stack', 'NoSuchStack', '--wait-for-update', '0.02', '--interval', '0.2'], tmp(), undefined, { env: awsEnv(lab.endpoint) });
    expect(r.code).toBe(EXIT.unobservable);
    expect(r.stdout).toContain('stack NoSuchStack: does not exist yet; waiting up to 0.02 min for it to be created');
    expect(errors(r.stderr)).toEqual(['error: stack NoSuchStack: no update began within 0.02 min of waiting (it does not exist); start cdk deploy first, raise --wait-for-update, or --wait-for-update 0 to report its last update']);
  });
});

describe('3 AWS or the lab unreachable', () => {
  it('watch against an endpoint where nothing listens: 3, saying what could not be read', async () => {
    const r = await runCli(['watch', '--deployment', 'd-ABCDEFGHI', '--interval', '0.1'], tmp(), undefined, { env: awsEnv(`http://127.0.0.1:${NOTHING_LISTENS}`) });
    expect(r.code).toBe(EXIT.unobservable);
    expect(r.stderr).toMatch(/GetDeployment failed 5 times in a row: .*ECONNREFUSED/);
  });
});

describe('the documented exit statuses', () => {
  it('docs/cli.md holds exactly the table the code prints (exitCodeTable)', () => {
    const docs = readFileSync(resolve(__dirname, '../../../../docs/cli.md'), 'utf8');
    expect(docs).toContain(exitCodeTable().trim());
  });
});
