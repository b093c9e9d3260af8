/**
 * A user's project for the slow end-to-end tests of the real CDK CLI: a copy of the lab package's
 * app, sample and cdk.json with the root tsconfig and lock file (node_modules and the construct
 * package linked, as a user's install would provide them), and a lab started with
 * `--empty --clock real --speed 60` on a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '../../../..');

export interface UserProject {
  /** The copy's sample app folder (packages/lab in the copy): cdk runs here. */
  readonly app: string;
  readonly endpoint: string;
  /** What the lab printed so far. */
  labOut(): string;
  /** The environment that points the CDK CLI and the SDK at the lab. */
  env(): NodeJS.ProcessEnv;
  /** SDK client configuration for the lab. */
  sdk(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Run a command in the copy; resolves to its exit status and output (stdout and stderr). */
  run(command: string, args: readonly string[]): Promise<{ status: number | null; out: string }>;
  /** Run the CDK CLI in the copy. */
  cdk(...args: string[]): Promise<{ status: number | null; out: string }>;
  /** Edit the copy's cdk.json context, as a user would. */
  setContext(key: string, value: unknown): void;
  stop(): Promise<void>;
}

/** `labArgs`: more arguments for the lab, given the copy's app folder (`--traffic FILE`). */
export async function startUserProject(labArgs: (app: string) => string[] = () => []): Promise<UserProject> {
  const copy = mkdtempSync(join(tmpdir(), 'cdk-user-project-'));
  const app = join(copy, 'packages/lab');
  mkdirSync(app, { recursive: true });
  for (const f of ['bin', 'sample', 'cdk.json']) cpSync(join(root, 'packages/lab', f), join(app, f), { recursive: true });
  for (const f of ['tsconfig.json', 'package.json', 'package-lock.json']) cpSync(join(root, f), join(copy, f));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  symlinkSync(join(root, 'packages/constructs'), join(copy, 'packages/constructs'));

  // A free port, or the one CANARY_WATCHDOG_E2E_LAB_PORT names (a machine shared by several runs).
  const port = process.env.CANARY_WATCHDOG_E2E_LAB_PORT ?? '0';
  const lab: ChildProcess = spawn(process.execPath, [join(root, 'packages/lab/bin/canary-watchdog.js'), 'lab', '--port', port, '--empty', '--clock', 'real', '--speed', '60', ...labArgs(app)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let labOut = '';
  const endpoint = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the lab printed no endpoint: ${labOut}`)), 30_000);
    lab.stdout!.on('data', (d: Buffer) => {
      labOut += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(labOut);
      if (m && labOut.includes('Ctrl-C')) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
  });
  const env = () => ({ ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab', AWS_REGION: 'us-east-1', CDK_DISABLE_CLI_TELEMETRY: 'true' });
  const run = (command: string, args: readonly string[]): Promise<{ status: number | null; out: string }> => {
    const child = spawn(command, args, { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise((r) => child.on('exit', (status) => r({ status, out })));
  };
  return {
    app,
    endpoint,
    labOut: () => labOut,
    env,
    sdk: () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } }),
    run,
    cdk: (...args) => run(join(root, 'node_modules/.bin/cdk'), [...args, '--no-notices', '--no-color']),
    setContext(key, value) {
      const file = join(app, 'cdk.json');
      const json = JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> };
      json.context[key] = value;
      writeFileSync(file, JSON.stringify(json, null, 2));
    },
    async stop() {
      const exited = new Promise((r) => lab.once('exit', r));
      lab.kill('SIGINT');
      await exited;
    },
  };
}
