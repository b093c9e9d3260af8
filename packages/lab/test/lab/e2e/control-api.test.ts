import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, CreateDeploymentCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/lab';

/** A one-function cloud assembly with inline code: the smallest app the lab can load. */
function tinyAssembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-app-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '40.0.0', artifacts: { Tiny: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Tiny.template.json' } } } }));
  const template = {
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'tiny',
          Handler: 'index.handler',
          Runtime: 'nodejs24.x',
          Code: { ZipFile: 'exports.handler = async (e) => ({ greeting: process.env.GREETING, echo: e, at: Date.now() });' },
          Environment: { Variables: { GREETING: 'hello' } },
        },
      },
      Alarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { AlarmName: 'tiny-errors', Namespace: 'Tiny', MetricName: 'Failures', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }], Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' },
      },
      App: { Type: 'AWS::CodeDeploy::Application', Properties: { ApplicationName: 'tiny-app', ComputePlatform: 'Lambda' } },
      Group: {
        Type: 'AWS::CodeDeploy::DeploymentGroup',
        Properties: {
          ApplicationName: { Ref: 'App' },
          DeploymentGroupName: 'tiny-group',
          DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
          AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: 'Alarm' } }] },
          AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_STOP_ON_ALARM'] },
          ServiceRoleArn: 'arn:aws:iam::123456789012:role/x',
        },
      },
    },
  };
  writeFileSync(join(dir, 'Tiny.template.json'), JSON.stringify(template));
  return dir;
}

let lab: Lab;
let cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
beforeEach(async () => {
  lab = new Lab({ seed: 1 });
  await lab.start();
  await lab.loadAssembly(tinyAssembly());
  cfg = { endpoint: lab.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } };
});
afterEach(() => lab.stop());

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${lab.endpoint}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the lab through the SDK and its control API', () => {
  it('publishes a version, shifts it linearly through a CodeDeploy deployment, and rolls back when an alarm fires', async () => {
    const lambda = new LambdaClient(cfg);
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'tiny', Name: 'live', FunctionVersion: v1.Version }));
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tiny', Environment: { Variables: { GREETING: 'bonjour' } } }));
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
    expect([v1.Version, v2.Version]).toEqual(['1', '2']);
    const appSpec = { version: 0.0, Resources: [{ tiny: { Type: 'AWS::Lambda::Function', Properties: { Name: 'tiny', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }] };
    const cd = new CodeDeployClient(cfg);
    const { deploymentId } = await cd.send(
      new CreateDeploymentCommand({ applicationName: 'tiny-app', deploymentGroupName: 'tiny-group', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } } }),
    );
    const weight = async () => (await lambda.send(new GetAliasCommand({ FunctionName: 'tiny', Name: 'live' }))).RoutingConfig?.AdditionalVersionWeights?.['2'];
    expect(await weight()).toBe(0.1);
    expect((await post('/_lab/clock/advance', { seconds: 120 })).body).toEqual({ now: '2026-01-01T00:02:00.000Z' });
    expect(await weight()).toBeCloseTo(0.3, 5);
    // A failure reported at 00:02:30: the alarm evaluates the minute at 00:03 and goes to
    // ALARM; CodeDeploy's next poll stops the deployment and rolls back.
    await new CloudWatchClient(cfg).send(
      new PutMetricDataCommand({ Namespace: 'Tiny', MetricData: [{ MetricName: 'Failures', Dimensions: [{ Name: 'FunctionName', Value: 'tiny' }], Value: 1, Timestamp: new Date('2026-01-01T00:02:30Z') }] }),
    );
    await post('/_lab/clock/advance', { seconds: 120 });
    const d = await cd.send(new GetDeploymentCommand({ deploymentId }));
    expect(d.deploymentInfo).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' }, rollbackInfo: { rollbackDeploymentId: expect.stringMatching(/^d-/) } });
    expect(await lambda.send(new GetAliasCommand({ FunctionName: 'tiny', Name: 'live' }))).toMatchObject({ FunctionVersion: '1' });
  });

  it('invokes a version with its own environment, reports the executed version, and keeps the clock virtual inside the function', async () => {
    const lambda = new LambdaClient(cfg);
    await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tiny', Environment: { Variables: { GREETING: 'hej' } } }));
    await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'tiny', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0 } } }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'tiny', Qualifier: '2', Payload: Buffer.from('{"a":1}') }));
    expect(out.ExecutedVersion).toBe('2');
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ greeting: 'hej', echo: { a: 1 }, at: Date.UTC(2026, 0, 1) });
    const viaAlias = await lambda.send(new InvokeCommand({ FunctionName: 'tiny:live' }));
    expect(viaAlias.ExecutedVersion).toBe('1');
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tiny', Qualifier: '1' }))).Environment?.Variables).toEqual({ GREETING: 'hello' });
    expect((await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'tiny' }))).Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'tiny', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 1 } } }));
    const routed = await Promise.all(Array.from({ length: 5 }, () => lambda.send(new InvokeCommand({ FunctionName: 'tiny', Qualifier: 'live' }))));
    expect(routed.map((r) => r.ExecutedVersion)).toEqual(['2', '2', '2', '2', '2']);
    // LogType Tail: the log tail ends with the REPORT line and its duration.
    const tail = await lambda.send(new InvokeCommand({ FunctionName: 'tiny', Qualifier: '1', LogType: 'Tail' }));
    expect(Buffer.from(tail.LogResult!, 'base64').toString()).toMatch(/^START RequestId: \S+ Version: 1\nEND RequestId: \S+\nREPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms/);
    expect(out.LogResult).toBeUndefined();
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'tiny', LogType: 'Full' as 'Tail' }))).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringMatching(/None or Tail/) });
  });

  it.each<[string, () => Promise<unknown>, RegExp]>([
    ['an unknown function', () => new LambdaClient(cfg).send(new GetAliasCommand({ FunctionName: 'nope', Name: 'live' })), /Function not found/],
    ['an alias on an unpublished version', () => new LambdaClient(cfg).send(new CreateAliasCommand({ FunctionName: 'tiny', Name: 'live', FunctionVersion: '9' })), /Function not found: .*:9/],
    ['a weight above 1', async () => {
      const l = new LambdaClient(cfg);
      await l.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
      await l.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tiny', Environment: { Variables: { GREETING: 'x' } } }));
      await l.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
      return l.send(new CreateAliasCommand({ FunctionName: 'tiny', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } }));
    }, /weight must be from 0.0 to 1.0, got 1.5/],
  ])('answers %s with an AWS-shaped error', async (_n, call, message) => {
    await expect(call()).rejects.toThrow(message);
  });

  it.each<[string, string, unknown, number, RegExp]>([
    ['malformed JSON', '/_lab/clock/advance', '{"seconds":', 400, /request body is not JSON/],
    ['a negative advance', '/_lab/clock/advance', { seconds: -5 }, 400, /seconds: expected a number >= 0, got -5/],
    ['an unknown fault service', '/_lab/faults', { faults: [{ service: 'S3' }] }, 400, /faults\[0\].service: expected one of CloudWatch, CodeDeploy, Lambda, DynamoDB, EventBridge, got "S3"/],
    ['a fault rate above 1', '/_lab/faults', { faults: [{ service: 'CloudWatch', throttleRate: 2 }] }, 400, /faults\[0\].throttleRate: expected a rate from 0 to 1, got 2/],
    ['a release of an unguarded app', '/_lab/release', {}, 404, /no guarded function is loaded/],
    ['an unknown behaviour', '/_lab/release', { behaviour: { fast: true } }, 400, /behaviour.fast: unknown field/],
  ])('rejects %s and leaves the clock where it was', async (_n, path, body, status, message) => {
    const r = await post(path, body);
    expect(r.status).toBe(status);
    expect(String(r.body.message)).toMatch(message);
    expect((await (await fetch(`${lab.endpoint}/_lab/clock`)).json())).toEqual({ now: '2026-01-01T00:00:00.000Z' });
  });

  it('throttles an API at the configured rate, with the SDK retrying', async () => {
    await post('/_lab/faults', { faults: [{ service: 'Lambda', operation: 'GetAlias', throttleRate: 1 }] });
    await expect(new LambdaClient({ ...cfg, maxAttempts: 2 }).send(new GetAliasCommand({ FunctionName: 'tiny', Name: 'live' }))).rejects.toThrow(/Rate exceeded/);
    expect(lab.server.requests.get('Lambda.GetAlias')).toBe(2);
  });

  it('resets to the start: the clock back, versions and aliases gone, the app loaded again', async () => {
    const lambda = new LambdaClient(cfg);
    await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'tiny', Name: 'live', FunctionVersion: '1' }));
    await post('/_lab/clock/advance', { seconds: 600 });
    const r = await post('/_lab/reset', {});
    expect(r.body).toEqual({ now: '2026-01-01T00:00:00.000Z', loaded: ['Tiny'] });
    await expect(lambda.send(new GetAliasCommand({ FunctionName: 'tiny', Name: 'live' }))).rejects.toThrow(/Alias not found/);
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'tiny' }))).Version).toBe('1');
  });

  it('answers an operation it does not emulate with a clear error, never a silent success', async () => {
    const res = await fetch(lab.endpoint, { method: 'POST', headers: { 'x-amz-target': 'CodeDeploy_20141006.DeleteApplication', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException', message: 'CodeDeploy.DeleteApplication is not supported by the lab' });
  });
});
