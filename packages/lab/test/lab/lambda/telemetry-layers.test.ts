/**
 * The lab finds the telemetry extension in both of its layers: the x86_64 and the arm64 build,
 * each a LayerVersion whose content holds `extensions/canary-watchdog-telemetry` (Lambda starts
 * every file in a layer's extensions/ folder). https://docs.aws.amazon.com/lambda/latest/dg/extensions-api.html
 */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedFunction, ProbeStatus, ReleaseWatchdog } from 'canary-watchdog';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

it('runs the extension for a guarded function of each architecture, and not for a function without it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-layers-'));
  const app = new App({ outdir: dir });
  const stack = new Stack(app, 'Shop');
  const watchdog = new ReleaseWatchdog(stack, 'Watchdog');
  const fn = (id: string, architecture: lambda.Architecture, functionName: string) =>
    new lambda.Function(stack, id, { functionName, runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'), architecture });
  for (const [id, arch, name, telemetry] of [
    ['X86', lambda.Architecture.X86_64, 'orders-x86', true],
    ['Arm', lambda.Architecture.ARM_64, 'orders-arm', true],
    ['Off', lambda.Architecture.ARM_64, 'orders-off', false],
  ] as const) {
    new GuardedFunction(stack, `${id}Guard`, { watchdog, existingFunction: fn(id, arch, name), telemetry, probes: [{ name: 'health', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
  }
  app.synth();
  const lab = new Lab({ seed: 1 });
  await lab.start();
  try {
    const report = await lab.loadAssembly(dir);
    expect(report.functions).toEqual(expect.arrayContaining(['orders-x86', 'orders-arm', 'orders-off']));
    expect([lab.telemetry.enabled('orders-x86'), lab.telemetry.enabled('orders-arm'), lab.telemetry.enabled('orders-off')]).toEqual([true, true, false]);
    // Both layers are the extension's: neither is reported as unmodelled.
    expect(report.unmodelled['AWS::Lambda::LayerVersion']).toBeUndefined();
  } finally {
    await lab.stop();
  }
}, 120_000);
