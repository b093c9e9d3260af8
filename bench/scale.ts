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
import { GuardedFunction, ReleaseWatchdog } from '../lib';

const code = lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });');
const fnProps = { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code };

function synth(n: number, guarded: boolean): { ms: number; resources: number | null; error?: string } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'scale-')) });
  const stack = new Stack(app, 'Scale');
  const t = performance.now();
  try {
    const watchdog = guarded ? new ReleaseWatchdog(stack, 'Watchdog', { configDelivery: 'state-table' }) : undefined;
    for (let i = 0; i < n; i++) {
      const fn = new lambda.Function(stack, `Fn${i}`, fnProps);
      if (watchdog) {
        new GuardedFunction(stack, `G${i}`, { watchdog, function: fn, probes: [{ name: 'ok', event: {}, expect: { status: 'success' } }] });
      } else {
        const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: fn.currentVersion });
        new codedeploy.LambdaDeploymentGroup(stack, `Dg${i}`, { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES });
      }
    }
    const assembly = app.synth();
    const template = assembly.getStackByName('Scale').template as { Resources: Record<string, unknown> };
    return { ms: performance.now() - t, resources: Object.keys(template.Resources).length };
  } catch (err) {
    return { ms: performance.now() - t, resources: null, error: (err as Error).message.split('\n').find((l) => l.includes('CloudFormation allows')) ?? (err as Error).message.slice(0, 200) };
  }
}

export function runScale(sizes: readonly number[]) {
  synth(1, true); // warm-up: module loading and the runtime bundle
  return sizes.map((n) => ({ n, guarded: synth(n, true), plain: synth(n, false) }));
}

if (require.main === module) {
  const sizes = process.argv.includes('--quick') ? [1, 10, 50] : [1, 10, 50, 200];
  console.log(JSON.stringify(runScale(sizes), null, 2));
}
