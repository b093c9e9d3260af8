import type { App } from 'aws-cdk-lib';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED, LAB_FILES } from './files';
import { LabError } from './kernel';

/** The sample app's assembly in the CLI package, synthesized when the package was built. */
export const SAMPLE_ASSEMBLY = join(LAB_FILES, 'sample-assembly');

/**
 * Synthesize the project's sample app into a fresh cloud assembly, as `npx cdk synth` would
 * (same context from cdk.json, over it `context`, asset paths recorded), without spawning the CDK CLI.
 */
export function synthSampleApp(outdir = mkdtempSync(join(tmpdir(), 'canary-watchdog-app-')), context: Record<string, unknown> = {}): string {
  if (BUNDLED) {
    // The packed CLI carries the sample synthesized (its build needs the repository's toolchain).
    if (Object.keys(context).length) throw new LabError('ValidationException', `the sample app's context (${Object.keys(context).join(', ')}) can be changed only from the repository; the installed CLI carries it synthesized`);
    if (!existsSync(SAMPLE_ASSEMBLY)) throw new LabError('ValidationException', `the CLI package has no sample app at ${SAMPLE_ASSEMBLY}: reinstall it, or give --app`);
    cpSync(SAMPLE_ASSEMBLY, outdir, { recursive: true });
    return outdir;
  }
  // Loaded here, not at the top: the installed CLI runs without aws-cdk-lib (a Python app has none).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App: CdkApp } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { OrdersServiceStack } = require('../../sample/orders-service-stack') as typeof import('../../sample/orders-service-stack');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cdkJson = JSON.parse(readFileSync(join(LAB_FILES, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new CdkApp({ outdir, context: { ...cdkJson.context, ...context, 'aws:cdk:enable-asset-metadata': true } });
  const ctx = (k: string) => app.node.tryGetContext(`orders-service:${k}`);
  new OrdersServiceStack(app, String(ctx('stackName') ?? 'OrdersService'), {
    prices: ctx('prices'),
    currency: ctx('currency'),
    taxRate: Number(ctx('taxRate')),
    maxItemsPerOrder: Number(ctx('maxItemsPerOrder')),
    paymentMode: ctx('paymentMode'),
    ...(ctx('probes') === false || ctx('probes') === 'false' ? { probes: false } : {}),
  });
  synthForLab(app);
  return outdir;
}

/**
 * Synthesize an app for the lab. CDK's built-in CloudFormation template validation takes seconds
 * and `npx cdk synth` already runs it for the same app; the lab only needs the assembly.
 */
export function synthForLab(app: App): void {
  const before = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    app.synth();
  } finally {
    if (before === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = before;
  }
}
