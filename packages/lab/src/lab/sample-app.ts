import { App } from 'aws-cdk-lib';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OrdersServiceStack } from '../../sample/orders-service-stack';

/**
 * Synthesize the project's sample app into a fresh cloud assembly, as `npx cdk synth` would
 * (same context from cdk.json, over it `context`, asset paths recorded), without spawning the CDK CLI.
 */
export function synthSampleApp(outdir = mkdtempSync(join(tmpdir(), 'canary-watchdog-app-')), context: Record<string, unknown> = {}): string {
  const cdkJson = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ outdir, context: { ...cdkJson.context, ...context, 'aws:cdk:enable-asset-metadata': true } });
  const ctx = (k: string) => app.node.tryGetContext(`orders-service:${k}`);
  new OrdersServiceStack(app, String(ctx('stackName') ?? 'OrdersService'), {
    prices: ctx('prices'),
    currency: ctx('currency'),
    taxRate: Number(ctx('taxRate')),
    maxItemsPerOrder: Number(ctx('maxItemsPerOrder')),
    paymentMode: ctx('paymentMode'),
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
