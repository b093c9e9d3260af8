/**
 * Checks every command makes before any work (before synthesizing an app, starting a lab, running
 * cdk or calling AWS), so that bad input ends at once with 2 and says what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../lab/kernel';
import { readAssembly } from '../lab/loader';
import { badInput } from './exit-codes';

/** `--app DIR` is a synthesized cloud assembly with at least one stack. */
export function checkCloudAssembly(dir: string): void {
  try {
    readAssembly(dir);
  } catch (err) {
    // Not a cloud assembly, or one whose manifest or template is not JSON.
    if (err instanceof LabError || err instanceof SyntaxError) throw badInput(`--app: ${err.message}`);
    throw err;
  }
}

/** A busy `--port`, as bad input that says what to do. */
export const portInUse = (port: number, host = '127.0.0.1') => badInput(`--port ${port}: ${host}:${port} is already in use (another lab?): choose another port, or --port 0 for any free one`);

/** The lab's `--port` is free on 127.0.0.1 (0, any free port, always is). */
export async function checkPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portInUse(port, host));
      else if (err.code === 'EACCES') reject(badInput(`--port ${port}: not allowed to listen on ${host}:${port} (ports below 1024 need privileges): choose a port from 1024, or --port 0`));
      else reject(err);
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/**
 * The AWS region the SDK clients will use, resolved as they resolve it (AWS_REGION, then the
 * profile's region in the shared config file). A missing region is bad input, never retried.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html
 */
export async function checkRegion(client: { config: { region: () => Promise<string> } }): Promise<string> {
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch {
    region = undefined;
  }
  if (!region) throw badInput('no AWS region: set AWS_REGION (export AWS_REGION=us-east-1), or a region in your AWS profile (~/.aws/config, chosen with AWS_PROFILE)');
  return region;
}

/** Whether cdk arguments name the app (`--app X`, `--app=X`, `-a X`). */
export const namesApp = (args: readonly string[]): boolean => args.some((a) => a === '--app' || a === '-a' || a.startsWith('--app='));

/** The `app` of a cdk.json file, if the file exists and names one. */
function cdkJsonApp(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const app = (JSON.parse(readFileSync(file, 'utf8')) as { app?: unknown }).app;
    return typeof app === 'string' && app ? app : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `deploy` has an app to deploy, found where the CDK CLI looks: `--app` in the arguments, the
 * folder's cdk.json, or ~/.cdk.json.
 * https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd.html (--app)
 */
export function checkCdkApp(cwd: string, args: readonly string[], home = homedir()): void {
  if (namesApp(args) || cdkJsonApp(join(cwd, 'cdk.json')) || cdkJsonApp(join(home, '.cdk.json'))) return;
  throw badInput(`deploy: no CDK app here: no cdk.json in ${cwd} and no --app; run it in your app's folder, or pass the app after --: deploy -- --app 'npx ts-node bin/app.ts'`);
}
