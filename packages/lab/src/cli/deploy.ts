/**
 * `canary-watchdog deploy [cdk deploy args...]`: run the user's `cdk deploy`, follow every guarded
 * release it starts, and end with the releases' verdict rather than a CloudFormation status.
 */
import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { spawn } from 'node:child_process';
import { CliError, EXIT, worstExit, type ExitCode } from './exit-codes';
import { sleepUnless } from './interrupt';
import { stackStamp, Watcher, type WatchClients, type WatchOptions, type WatchResult } from './watch';

export interface DeployOptions extends Omit<WatchOptions, 'target'> {
  /** The command that runs the CDK CLI, before `deploy`. @default ['npx', 'cdk'] */
  readonly cdk?: readonly string[];
  readonly cwd?: string;
}

export interface DeployResult {
  readonly exitCode: ExitCode;
  readonly cdkStatus: number | null;
  readonly stacks: Readonly<Record<string, WatchResult>>;
  readonly summary: string;
}

/** Stacks whose status says an operation is under way, or that changed since `before`. */
export function stacksInMotion(before: ReadonlyMap<string, string>, now: readonly Stack[]): string[] {
  return now
    .filter((s) => s.StackName && (s.StackStatus?.endsWith('_IN_PROGRESS') || before.get(s.StackName) !== stackStamp(s)))
    .filter((s) => s.StackStatus !== 'REVIEW_IN_PROGRESS')
    .map((s) => s.StackName!);
}

async function listStacks(clients: WatchClients): Promise<Stack[]> {
  const out: Stack[] = [];
  let token: string | undefined;
  do {
    const res = await clients.cloudformation.send(new DescribeStacksCommand({ NextToken: token }));
    out.push(...(res.Stacks ?? []));
    token = res.NextToken;
  } while (token);
  return out;
}

/**
 * Run `cdk deploy` with `args` and follow, through `watch --stack`, every stack that starts an
 * update while it runs. The exit status is the worst of the releases'; a failed `cdk deploy`
 * without a rolled-back release is 1 with cdk's status as the reason, or 2 when no stack update
 * began at all (a synth failure).
 */
export async function runDeploy(clients: WatchClients, args: readonly string[], opts: DeployOptions): Promise<DeployResult> {
  const before = new Map((await listStacks(clients)).map((s) => [s.StackName!, stackStamp(s)]));
  const [cmd, ...pre] = opts.cdk ?? ['npx', 'cdk'];
  const child = spawn(cmd, [...pre, 'deploy', ...args], { cwd: opts.cwd ?? process.cwd(), stdio: ['inherit', 'inherit', 'inherit'], env: process.env });
  let cdkStatus: number | null | undefined;
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(new CliError(EXIT.badInput, `cannot run ${[cmd, ...pre].join(' ')}: ${err.message}`)));
    child.once('exit', (code) => resolve(code));
  }).then((code) => (cdkStatus = code));
  // Ctrl-C reaches cdk too (it is in the terminal's process group); a SIGINT sent to this process alone is passed on.
  const forward = () => cdkStatus === undefined && child.kill('SIGINT');
  opts.interrupt?.addEventListener('abort', forward, { once: true });
  const watching = new Map<string, Promise<WatchResult>>();
  const sleep = opts.sleep ?? ((ms: number) => sleepUnless(opts.interrupt, ms));
  for (;;) {
    const done = cdkStatus !== undefined || Boolean(opts.interrupt?.aborted);
    for (const name of stacksInMotion(before, await listStacks(clients))) {
      if (watching.has(name)) continue;
      // The stack is already under way or changed: its update began, nothing to wait for.
      watching.set(name, new Watcher(clients, { ...opts, target: { stack: name }, waitForUpdateMs: 0 }).run());
    }
    if (done) break;
    await Promise.race([exited, sleep(opts.intervalMs)]);
  }
  // cdk stops on SIGINT; one that does not within 10 s is left to the user's second Ctrl-C.
  await (opts.interrupt?.aborted ? Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]) : exited);
  opts.interrupt?.removeEventListener('abort', forward);
  const stacks: Record<string, WatchResult> = {};
  for (const [name, p] of watching) stacks[name] = await p;
  const results = Object.values(stacks);
  const rolledBack = results.flatMap((r) => r.deployments).filter((d) => d.outcome !== 'completed');
  let exitCode = worstExit(results.map((r) => r.exitCode));
  let summary = rolledBack.length
    ? rolledBack.map((d) => `${d.deploymentId} (${d.application}/${d.deploymentGroup}) ${d.outcome}${d.reason ? `: ${d.reason}` : ''}`).join('; ')
    : `${results.flatMap((r) => r.deployments).length} guarded release(s) completed in ${results.length} stack(s)`;
  if (opts.interrupt?.aborted) {
    exitCode = EXIT.interrupted;
    summary = `interrupted (SIGINT)${results.length ? `; ${results.map((r) => r.summary).join('; ')}` : ' before any guarded release began'}`;
  } else if (cdkStatus !== 0 && !results.length) {
    // cdk failed before any stack moved: the app did not synthesize, cdk rejected its arguments,
    // or the environment is not bootstrapped. Nothing was released: bad input, not a rollback.
    exitCode = EXIT.badInput;
    summary = `cdk deploy failed (status ${cdkStatus}) before any stack update began: the app did not synthesize, or cdk rejected its arguments (see cdk's output above)`;
  } else if (cdkStatus !== 0 && exitCode === EXIT.ok) {
    exitCode = EXIT.failed;
    summary = `cdk deploy exited with status ${cdkStatus} without a rolled-back release${results.length ? `; ${results.map((r) => r.summary).join('; ')}` : ''}`;
  }
  return { exitCode, cdkStatus: cdkStatus ?? null, stacks, summary };
}
