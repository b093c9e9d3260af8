import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(__dirname, '../../bin/canary-watchdog.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  /** The child's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called on each chunk of standard output with all of it so far, and the child (to signal it). */
  readonly onStdout?: (stdout: string, child: ChildProcess) => void;
}

/** Run the CLI as a user would; resolves to its exit status and output. */
export function runCli(args: string[], cwd: string, stdin?: string, opts: RunCliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: opts.env ?? process.env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(stdout, child);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the output streams are read to their end.
  return new Promise((r) => child.on('close', (code, signal) => r({ code: code ?? (signal ? -1 : null), stdout, stderr })));
}

/** The environment of a CLI run against an endpoint (a lab, or a port where nothing listens), in us-east-1 unless `region` is null. */
export function awsEnv(endpoint: string, region: string | null = 'us-east-1'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
  delete env.AWS_REGION;
  delete env.AWS_DEFAULT_REGION;
  delete env.AWS_PROFILE;
  if (region !== null) env.AWS_REGION = region;
  return env;
}
