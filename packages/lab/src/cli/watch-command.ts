/** The `watch` and `deploy` commands' flags, checks and output, for bin/canary-watchdog.ts. */
import { writeFileSync } from 'node:fs';
import { runDeploy } from './deploy';
import { badInput, CliError, EXIT } from './exit-codes';
import { checkOutputFile } from './output-path';
import { checkCdkApp, checkRegion } from './preflight';
import { terminalSafe } from './terminal-text';
import { defaultClients, Watcher, type WatchClients, type WatchTarget } from './watch';

export interface FollowFlags {
  readonly json?: string;
  readonly interval: number;
  readonly timeout: number;
  readonly table?: string;
  /** Ctrl-C (see interrupt.ts). */
  readonly interrupt?: AbortSignal;
}

export interface WatchFlags extends FollowFlags {
  readonly deployment?: string;
  readonly stack?: string;
  readonly application?: string;
  readonly group?: string;
  /** With --stack: minutes to wait for the stack's update to begin. */
  readonly waitForUpdate?: number;
}

/** Exactly one thing to follow: --deployment, --stack, or --application with --group. */
export function watchTarget(f: WatchFlags): WatchTarget {
  const given = [f.deployment !== undefined, f.stack !== undefined, f.application !== undefined || f.group !== undefined].filter(Boolean).length;
  if (given !== 1) throw badInput('watch: give exactly one of --deployment ID, --stack NAME, or --application A with --group G');
  if (f.deployment !== undefined) return { deployment: f.deployment };
  if (f.stack !== undefined) return { stack: f.stack };
  if (!f.application || !f.group) throw badInput('watch: --application and --group go together (a CodeDeploy application and one of its deployment groups)');
  return { application: f.application, group: f.group };
}

const common = (f: FollowFlags, out: (s: string) => void) => ({
  intervalMs: f.interval * 1000,
  timeoutMs: f.timeout * 60_000,
  columns: process.stdout.columns || 100,
  out,
  ...(f.table ? { table: f.table } : {}),
  ...(f.interrupt ? { interrupt: f.interrupt } : {}),
});

function writeJson(file: string | undefined, value: unknown): void {
  if (file !== undefined) writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** `watch`: follow, print, write --json, and end with the verdict's exit status. */
export async function watchCommand(f: WatchFlags, clients: WatchClients = defaultClients(), out = (s: string) => void process.stdout.write(s)): Promise<void> {
  const target = watchTarget(f);
  if (f.json !== undefined) checkOutputFile('--json', f.json);
  await checkRegion(clients.codedeploy);
  const result = await new Watcher(clients, { ...common(f, out), target, ...(f.waitForUpdate !== undefined ? { waitForUpdateMs: f.waitForUpdate * 60_000 } : {}) }).run();
  writeJson(f.json, { target, exitCode: result.exitCode, summary: result.summary, deployments: result.deployments });
  // The summary quotes AWS (alarm reasons, CodeDeploy and CloudFormation messages): printed terminal-safe.
  if (result.exitCode !== EXIT.ok) throw new CliError(result.exitCode, terminalSafe(result.summary));
  out(`${terminalSafe(result.summary)}\n`);
}

/** `deploy`: run cdk deploy, follow its releases, end with their verdict. */
export async function deployCommand(args: readonly string[], f: FollowFlags & { cdk?: string }, clients: WatchClients = defaultClients(), out = (s: string) => void process.stdout.write(s)): Promise<void> {
  if (f.json !== undefined) checkOutputFile('--json', f.json);
  checkCdkApp(process.cwd(), args);
  await checkRegion(clients.codedeploy);
  const cdk = f.cdk ? f.cdk.split(' ').filter(Boolean) : undefined;
  const result = await runDeploy(clients, args, { ...common(f, out), ...(cdk ? { cdk } : {}) });
  writeJson(f.json, result);
  if (result.exitCode !== EXIT.ok) throw new CliError(result.exitCode, terminalSafe(result.exitCode === EXIT.failed ? `release failed: ${result.summary}` : result.summary));
  out(`${terminalSafe(result.summary)}\n`);
}
