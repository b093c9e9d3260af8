import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetDeploymentCommand, GetDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuardedFunction, PreexistingAlarms, ProbeStatus, ReleaseWatchdog } from 'canary-watchdog';
import { parsePolicy } from 'canary-watchdog/lib/core/config';
import { Lab } from '../../../src/lab/lab';
import { synthSampleApp } from '../../../src/lab/sample-app';
import { applyWatchdogSettings } from '../../../src/rehearsal/watchdog-settings';

let assembly: string;
beforeAll(() => {
  assembly = synthSampleApp();
}, 60_000);

const sdk = (lab: Lab) => ({ endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });

describe('version-scoped alarms in the lab', () => {
  let lab: Lab;
  afterEach(async () => lab?.stop());

  it('a fix released during an incident under preexistingAlarms ignore is not stopped by the old version\'s error-rate alarm', async () => {
    lab = new Lab({ seed: 37 });
    await lab.start();
    await lab.loadAssembly(assembly);
    await applyWatchdogSettings(lab, { policy: parsePolicy({ preexistingAlarms: PreexistingAlarms.IGNORE }, 'policy') });
    const r = lab.release('OrdersApi');
    lab.lambda.setBehaviour(r.functionName, '1', { errorRate: 0.3 });
    lab.traffic.set(r.functionName, r.alias, 20);
    await lab.advance(8 * 60);

    const cw = new CloudWatchClient(sdk(lab));
    const errorRateAlarms = async () =>
      ((await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'OrdersService-OrdersApi-' }))).MetricAlarms ?? []).filter((a) => /-new-version-error-rate/.test(a.AlarmName!));
    // The incident: the alarm that watches version 1's error rate is in ALARM.
    const before = await errorRateAlarms();
    expect(before.map((a) => a.StateValue)).toEqual(['ALARM']);

    const { version, deploymentId } = await lab.deploy(r.functionName, { behaviour: { errorRate: 0.005 } });
    const cd = new CodeDeployClient(sdk(lab));
    // CodeDeploy polls its alarm list at the deployment's start and every minute after.
    await lab.advance(60);
    expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status).not.toBe('Stopped');

    // The release replaced the alarm: a new one, named for the new version, born without the
    // old state; the group's list names it, and the old alarm is gone.
    expect(before[0].AlarmName).toMatch(/-new-version-error-rate-v1$/);
    const after = await errorRateAlarms();
    expect(after.map((a) => a.AlarmName)).toEqual([before[0].AlarmName!.replace(/-v1$/, `-v${version}`)]);
    expect(after[0].StateValue).not.toBe('ALARM');
    const group = await cd.send(new GetDeploymentGroupCommand({ applicationName: r.application, deploymentGroupName: r.deploymentGroup }));
    const listed = group.deploymentGroupInfo?.alarmConfiguration?.alarms?.map((a) => a.name) ?? [];
    expect(listed).toContain(after[0].AlarmName);
    expect(listed).not.toContain(before[0].AlarmName);

    await lab.advance(25 * 60);
    expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status).toBe('Succeeded');
  }, 90_000);

  it('replaces them at every release, re-pointing the composite alarm that combines them and keeping the next release on the new names', async () => {
    // More alarms than CodeDeploy's 10 under preexistingAlarms rollback: the layers are combined
    // into one composite alarm whose rule names the version-scoped alarms.
    const dir = mkdtempSync(join(tmpdir(), 'combined-app-'));
    const app = new App({ outdir: dir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'Combined');
    const watchdog = new ReleaseWatchdog(stack, 'Watchdog', { policy: { preexistingAlarms: PreexistingAlarms.ROLLBACK } });
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });') });
    const extraAlarms = Array.from(
      { length: 6 },
      (_, i) => new cloudwatch.Alarm(stack, `Extra${i}`, { alarmName: `combined-extra-${i}`, metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: `M${i}` }), threshold: 1, evaluationPeriods: 1 }),
    );
    new GuardedFunction(stack, 'Api', { watchdog, existingFunction: fn, dashboard: false, extraAlarms, probes: [{ name: 'ok', event: {}, expect: { status: ProbeStatus.SUCCESS } }] });
    app.synth();

    lab = new Lab({ seed: 5 });
    await lab.start();
    await lab.loadAssembly(dir);
    const r = lab.release('Combined');
    // Two scheduled watchdog runs publish the heartbeat before the first release.
    await lab.advance(180);
    const cw = new CloudWatchClient(sdk(lab));
    const cd = new CodeDeployClient(sdk(lab));
    const composite = async () => (await cw.send(new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }))).CompositeAlarms ?? [];
    const layerNames = async () =>
      ((await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'Combined-Api-' }))).MetricAlarms ?? []).map((a) => a.AlarmName!).filter((n) => !n.endsWith('-heartbeat'));
    const listed = async () =>
      (await cd.send(new GetDeploymentGroupCommand({ applicationName: r.application, deploymentGroupName: r.deploymentGroup }))).deploymentGroupInfo?.alarmConfiguration?.alarms?.map((a) => a.name);

    const [any] = await composite();
    expect(any.AlarmName).toMatch(/-any-layer$/);
    expect(any.AlarmRule).toMatch(/-new-version-error-rate-v1"\)/);
    const listedBefore = await listed();
    expect(listedBefore).toHaveLength(2);

    for (const expected of ['2', '3']) {
      const { version, deploymentId } = await lab.deploy(r.functionName);
      expect(version).toBe(expected);
      const names = await layerNames();
      // Four version-scoped alarms, all named for the new version; the alias-wide one keeps its name.
      expect(names.filter((n) => /-v\d+$/.test(n))).toEqual(
        ['new-version-error-rate', 'new-version-p99duration', 'new-version-throttle-rate', 'probe-failures'].map((n) => expect.stringMatching(new RegExp(`-${n}-v${version}$`))),
      );
      expect(names).toContain(names.find((n) => n.endsWith('-alias-error-rate')));
      const rule = (await composite())[0].AlarmRule!;
      for (const n of names.filter((x) => /-v\d+$/.test(x))) expect(rule).toContain(`alarm:${n}")`);
      expect(rule).not.toMatch(new RegExp(`-v${Number(version) - 1}"\\)`));
      // The group lists the heartbeat and the composite, whose names stay.
      expect(await listed()).toEqual(listedBefore);
      await lab.advance(20 * 60);
      expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo).toMatchObject({ status: 'Succeeded' });
    }
  }, 120_000);
});
