/**
 * Scale of the constructs: `cdk synth` time and CloudFormation resource count for N guarded
 * functions, against the same N plain functions with a plain LambdaDeploymentGroup.
 * Run: npx tsx bench/scale.ts [--quick]
 */
import { App, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigDelivery, GuardedFunction, ProbeStatus, ReleaseWatchdog } from 'canary-watchdog';

const code = lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });');
const fnProps = { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code };

/** Guarded functions per stack when an app spreads them (each stack has its own watchdog). */
export const PER_STACK = 25;

/**
 * Synthesize n functions: in one stack (`perStack` = n), or spread over stacks of `perStack`.
 * Resources are counted over every stack of the app.
 */
function synth(n: number, guarded: boolean, perStack = n, validate = true): { ms: number; resources: number | null; stacks: number; error?: string } {
  const before = process.env.CDK_VALIDATION;
  // CDK's built-in CloudFormation template validation (the WASM cfn-lint) runs inside app.synth()
  // unless CDK_VALIDATION is false.
  if (!validate) process.env.CDK_VALIDATION = 'false';
  try {
    return synthOnce(n, guarded, perStack);
  } finally {
    if (before === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = before;
  }
}

function synthOnce(n: number, guarded: boolean, perStack: number): { ms: number; resources: number | null; stacks: number; error?: string } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'scale-')) });
  const stacks = Math.max(1, Math.ceil(n / Math.max(1, perStack)));
  const t = performance.now();
  try {
    for (let s = 0; s < stacks; s++) {
      const stack = new Stack(app, `Scale${s}`);
      const watchdog = guarded ? new ReleaseWatchdog(stack, 'Watchdog', { configDelivery: ConfigDelivery.STATE_TABLE }) : undefined;
      for (let i = s * perStack; i < Math.min(n, (s + 1) * perStack); i++) {
        const fn = new lambda.Function(stack, `Fn${i}`, fnProps);
        if (watchdog) {
          new GuardedFunction(stack, `G${i}`, { watchdog, existingFunction: fn, probes: [{ name: 'ok', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
        } else {
          const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: fn.currentVersion });
          new codedeploy.LambdaDeploymentGroup(stack, `Dg${i}`, { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES });
        }
      }
    }
    const assembly = app.synth();
    let resources = 0;
    for (let s = 0; s < stacks; s++) resources += Object.keys((assembly.getStackByName(`Scale${s}`).template as { Resources: Record<string, unknown> }).Resources).length;
    return { ms: performance.now() - t, resources, stacks };
  } catch (err) {
    const message = (err as Error).message;
    return { ms: performance.now() - t, resources: null, stacks, error: message.split('\n').find((l) => /500|resources/i.test(l)) ?? message.slice(0, 200) };
  }
}

/**
 * Per size: N guarded against N plain functions in one app (spread over stacks of PER_STACK
 * guarded functions, plain ones likewise), and N guarded in one stack (which CloudFormation's
 * 500-resource limit refuses beyond some N).
 */
export function runScale(sizes: readonly number[]) {
  synth(1, true); // warm-up: module loading and the runtime bundle
  return sizes.map((n) => ({
    n,
    guarded: synth(n, true, PER_STACK),
    plain: synth(n, false, PER_STACK),
    /** The same apps without CDK's template validation: the constructs' own share of the time. */
    guardedNoValidation: synth(n, true, PER_STACK, false),
    plainNoValidation: synth(n, false, PER_STACK, false),
    oneStack: synth(n, true),
  }));
}

/** The most guarded functions one stack holds (resources grow linearly with N). */
export function maxPerStack(): { perFunction: number; fixed: number; max: number } {
  const one = synth(1, true).resources ?? 0;
  const two = synth(2, true).resources ?? 0;
  const perFunction = two - one;
  const fixed = one - perFunction;
  return { perFunction, fixed, max: Math.floor((500 - fixed) / perFunction) };
}

if (require.main === module) {
  const sizes = process.argv.includes('--quick') ? [1, 10, 50] : [1, 10, 50, 200];
  console.log(JSON.stringify(runScale(sizes), null, 2));
}
