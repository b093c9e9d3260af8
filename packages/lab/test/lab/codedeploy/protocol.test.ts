import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  paginateListApplications,
  paginateListDeploymentConfigs,
} from '@aws-sdk/client-codedeploy';
import { CodeDeployLab } from '../../../src/lab/codedeploy';
import { LabEventBus, Scheduler } from '../../../src/lab/kernel';
import { LabServer } from '../../../src/lab/server';
import { appSpec, FakeCloudWatch, FakeLambda, START } from './fakes';

const ROLE = 'arn:aws:iam::123456789012:role/codedeploy';

let server: LabServer;
let endpoint: string;
let client: CodeDeployClient;
let scheduler: Scheduler;
let lambda: FakeLambda;
let cloudwatch: FakeCloudWatch;
let lab: CodeDeployLab;

beforeEach(async () => {
  scheduler = new Scheduler('virtual', START);
  lambda = new FakeLambda(scheduler).addFunction('fn', ['1', '2'], { live: '1' }).addFunction('CodeDeployHook_pre');
  cloudwatch = new FakeCloudWatch();
  lab = new CodeDeployLab({ scheduler, events: new LabEventBus(scheduler) }, lambda, cloudwatch);
  server = new LabServer([lab.service], []);
  endpoint = await server.listen();
  client = new CodeDeployClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterEach(async () => {
  client.destroy();
  await server.close();
});

async function setupGroup(extra: Record<string, unknown> = {}) {
  await client.send(new CreateApplicationCommand({ applicationName: 'app', computePlatform: 'Lambda' }));
  await client.send(
    new CreateDeploymentGroupCommand({
      applicationName: 'app',
      deploymentGroupName: 'dg',
      serviceRoleArn: ROLE,
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
      ...extra,
    }),
  );
  cloudwatch.states.errors = 'OK';
}

/** The error the SDK raised: its name (AWS's code), status and message. */
async function sdkError(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

describe('CodeDeploy over the wire with the real SDK client', () => {
  it('runs a full Lambda deployment: hook, canary, success', async () => {
    await setupGroup();
    const app = await client.send(new GetApplicationCommand({ applicationName: 'app' }));
    expect(app.application).toMatchObject({ applicationName: 'app', computePlatform: 'Lambda' });
    expect(app.application?.createTime).toEqual(new Date(START));

    const group = await client.send(new GetDeploymentGroupCommand({ applicationName: 'app', deploymentGroupName: 'dg' }));
    expect(group.deploymentGroupInfo).toMatchObject({
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'errors' }] },
      autoRollbackConfiguration: { enabled: true },
      computePlatform: 'Lambda',
    });
    expect((await client.send(new ListDeploymentGroupsCommand({ applicationName: 'app' }))).deploymentGroups).toEqual(['dg']);

    const content = appSpec({ before: 'CodeDeployHook_pre' });
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: 'dg', revision: { revisionType: 'AppSpecContent', appSpecContent: { content } } }),
    );
    expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);
    const hook = lambda.invocations[0];
    expect(hook).toMatchObject({ fn: 'CodeDeployHook_pre', payload: { DeploymentId: deploymentId } });

    await scheduler.advance(10_000);
    const put = await client.send(
      new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: hook.payload.LifecycleEventHookExecutionId, status: 'Succeeded' }),
    );
    expect(put.lifecycleEventHookExecutionId).toBe(hook.payload.LifecycleEventHookExecutionId);
    expect(lambda.getAlias('fn', 'live')).toEqual({ functionVersion: '1', additional: { version: '2', weight: 0.1 } });

    const running = await client.send(new ListDeploymentsCommand({ applicationName: 'app', deploymentGroupName: 'dg', includeOnlyStatuses: ['InProgress'] }));
    expect(running.deployments).toEqual([deploymentId]);

    await scheduler.advance(300_000);
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({
      deploymentId,
      applicationName: 'app',
      deploymentGroupName: 'dg',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      status: 'Succeeded',
      creator: 'user',
      computePlatform: 'Lambda',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    });
    expect(deploymentInfo?.createTime).toEqual(new Date(START));
    expect(deploymentInfo?.completeTime).toEqual(new Date(START + 310_000));
    expect(deploymentInfo?.deploymentStatusMessages?.length).toBeGreaterThan(0);

    const batch = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [deploymentId!, 'd-AAAAAAAAA'] }));
    expect(batch.deploymentsInfo?.map((d) => d.status)).toEqual(['Succeeded']);
    expect((await client.send(new ListDeploymentsCommand({ applicationName: 'app', deploymentGroupName: 'dg', includeOnlyStatuses: ['InProgress'] }))).deployments).toEqual([]);

    const stop = await sdkError(client.send(new StopDeploymentCommand({ deploymentId })));
    expect(stop).toMatchObject({ name: 'DeploymentAlreadyCompletedException', status: 400 });
  });

  it('stops on an alarm and shows the rollback deployment on both sides', async () => {
    await setupGroup();
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: 'dg', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } } }),
    );
    cloudwatch.states.errors = 'ALARM';
    await scheduler.advance(60_000);
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
    const rollbackId = deploymentInfo?.rollbackInfo?.rollbackDeploymentId;
    const rb = await client.send(new GetDeploymentCommand({ deploymentId: rollbackId }));
    expect(rb.deploymentInfo).toMatchObject({ status: 'Succeeded', creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: deploymentId } });
    expect(lambda.getAlias('fn', 'live')).toEqual({ functionVersion: '1' });
    const all = await client.send(new ListDeploymentsCommand({ applicationName: 'app', deploymentGroupName: 'dg' }));
    expect(all.deployments).toEqual([rollbackId, deploymentId]);
  });

  it('describes predefined and custom deployment configs', async () => {
    const predefined = await client.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes' }));
    expect(predefined.deploymentConfigInfo).toMatchObject({
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 3 } },
    });
    await client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Canary5For15',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 5, canaryInterval: 15 } },
      }),
    );
    const custom = await client.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Canary5For15' }));
    expect(custom.deploymentConfigInfo?.trafficRoutingConfig).toEqual({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 5, canaryInterval: 15 } });
  });

  it('lists the predefined Lambda configs and the custom ones', async () => {
    await client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Linear20Every2',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 20, linearInterval: 2 } },
      }),
    );
    const names: string[] = [];
    for await (const page of paginateListDeploymentConfigs({ client }, {})) names.push(...(page.deploymentConfigsList ?? []));
    // https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda
    const predefined = [5, 10, 15, 30].map((m) => `CodeDeployDefault.LambdaCanary10Percent${m}Minutes`);
    predefined.push(...['1Minute', '2Minutes', '3Minutes', '10Minutes'].map((m) => `CodeDeployDefault.LambdaLinear10PercentEvery${m}`), 'CodeDeployDefault.LambdaAllAtOnce');
    expect([...names].sort()).toEqual([...predefined, 'Linear20Every2'].sort());
  });

  it('pages ListApplications, and the paginator returns every application once', async () => {
    const created = Array.from({ length: 201 }, (_, i) => `app-${String(i).padStart(3, '0')}`);
    for (const applicationName of created) await client.send(new CreateApplicationCommand({ applicationName, computePlatform: 'Lambda' }));
    const first = await client.send(new ListApplicationsCommand({}));
    expect(first.applications).toHaveLength(100);
    expect(first.nextToken).toEqual(expect.any(String));
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListApplications({ client }, {})) {
      pages++;
      names.push(...(page.applications ?? []));
    }
    expect(pages).toBe(3);
    expect(names).toEqual(created);
  }, 30_000);
});

describe('malformed requests get AWS-shaped errors and change nothing', () => {
  const canary = (canaryPercentage: number, canaryInterval: number) => ({ type: 'TimeBasedCanary' as const, timeBasedCanary: { canaryPercentage, canaryInterval } });
  const cases: { name: string; send: () => Promise<unknown>; error: string; message?: string }[] = [
    {
      name: 'an eleventh alarm',
      send: () =>
        client.send(
          new CreateDeploymentGroupCommand({
            applicationName: 'app',
            deploymentGroupName: 'dg2',
            serviceRoleArn: ROLE,
            alarmConfiguration: { enabled: true, alarms: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}` })) },
          }),
        ),
      error: 'AlarmsLimitExceededException',
      message: 'alarmConfiguration.alarms',
    },
    {
      name: 'an unknown rollback event',
      send: () =>
        client.send(
          new CreateDeploymentGroupCommand({
            applicationName: 'app',
            deploymentGroupName: 'dg2',
            serviceRoleArn: ROLE,
            autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_WHENEVER' as never] },
          }),
        ),
      error: 'InvalidAutoRollbackConfigException',
      message: 'autoRollbackConfiguration.events',
    },
    {
      name: 'a group for an unknown application',
      send: () => client.send(new CreateDeploymentGroupCommand({ applicationName: 'nope', deploymentGroupName: 'dg2', serviceRoleArn: ROLE })),
      error: 'ApplicationDoesNotExistException',
    },
    {
      name: 'a group with an unknown config',
      send: () => client.send(new CreateDeploymentGroupCommand({ applicationName: 'app', deploymentGroupName: 'dg2', serviceRoleArn: ROLE, deploymentConfigName: 'Nope' })),
      error: 'DeploymentConfigDoesNotExistException',
    },
    {
      name: 'a group that exists',
      send: () => client.send(new CreateDeploymentGroupCommand({ applicationName: 'app', deploymentGroupName: 'dg', serviceRoleArn: ROLE })),
      error: 'DeploymentGroupAlreadyExistsException',
    },
    {
      name: 'an application that exists',
      send: () => client.send(new CreateApplicationCommand({ applicationName: 'app', computePlatform: 'Lambda' })),
      error: 'ApplicationAlreadyExistsException',
    },
    {
      name: 'a canary of 100 %',
      send: () => client.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'c100', computePlatform: 'Lambda', trafficRoutingConfig: canary(100, 5) })),
      error: 'InvalidTrafficRoutingConfigurationException',
    },
    {
      name: 'a linear config past 2,880 minutes',
      send: () =>
        client.send(
          new CreateDeploymentConfigCommand({
            deploymentConfigName: 'slow',
            computePlatform: 'Lambda',
            trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 1, linearInterval: 30 } },
          }),
        ),
      error: 'InvalidTrafficRoutingConfigurationException',
      message: '2880',
    },
    {
      name: 'an AppSpec without Resources',
      send: () =>
        client.send(new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: 'dg', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'version: 0.0\n' } } })),
      error: 'InvalidRevisionException',
      message: 'Resources',
    },
    {
      name: 'an S3 revision',
      send: () =>
        client.send(new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: 'dg', revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k', bundleType: 'zip' } } })),
      error: 'InvalidRevisionException',
    },
    {
      name: 'a deployment to an unknown group',
      send: () =>
        client.send(new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: 'nope', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } } })),
      error: 'DeploymentGroupDoesNotExistException',
    },
    { name: 'a malformed deployment id', send: () => client.send(new GetDeploymentCommand({ deploymentId: 'deploy-1' })), error: 'InvalidDeploymentIdException' },
    { name: 'an unknown deployment id', send: () => client.send(new StopDeploymentCommand({ deploymentId: 'd-ZZZZZZZZZ' })), error: 'DeploymentDoesNotExistException' },
    {
      name: '26 ids in one batch',
      send: () => client.send(new BatchGetDeploymentsCommand({ deploymentIds: Array.from({ length: 26 }, () => 'd-AAAAAAAAA') })),
      error: 'BatchLimitExceededException',
    },
    {
      name: 'an unknown status filter',
      send: () => client.send(new ListDeploymentsCommand({ applicationName: 'app', deploymentGroupName: 'dg', includeOnlyStatuses: ['Done' as never] })),
      error: 'InvalidDeploymentStatusException',
    },
    {
      name: 'a forged next token',
      send: () => client.send(new ListDeploymentsCommand({ applicationName: 'app', deploymentGroupName: 'dg', nextToken: 'forged' })),
      error: 'InvalidNextTokenException',
    },
    {
      name: 'a forged ListApplications token',
      send: () => client.send(new ListApplicationsCommand({ nextToken: 'bGFiLXBhZ2UteA==' })),
      error: 'InvalidNextTokenException',
    },
    {
      name: 'a Server application',
      send: () => client.send(new CreateApplicationCommand({ applicationName: 'srv', computePlatform: 'Server' })),
      error: 'InvalidComputePlatformException',
    },
  ];

  it.each(cases)('$name -> $error', async ({ send, error, message }) => {
    await setupGroup();
    const e = await sdkError(send());
    expect(e).toMatchObject({ name: error, status: 400 });
    if (message) expect(e.message).toContain(message);
    // State intact: the group, its config and its (empty) deployment list are as before.
    const group = await client.send(new GetDeploymentGroupCommand({ applicationName: 'app', deploymentGroupName: 'dg' }));
    expect(group.deploymentGroupInfo?.deploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect((await client.send(new ListDeploymentGroupsCommand({ applicationName: 'app' }))).deploymentGroups).toEqual(['dg']);
    expect((await client.send(new ListDeploymentsCommand({}))).deployments).toEqual([]);
    expect(lab.deployments()).toEqual([]);
  });

  it('answers fields of the wrong type with InvalidInputException naming the field', async () => {
    await setupGroup();
    const raw = async (op: string, body: unknown) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${op}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { __type: string; message: string } };
    };
    const cases: [string, unknown, string, string][] = [
      ['CreateApplication', { applicationName: 42, computePlatform: 'Lambda' }, 'InvalidInputException', 'applicationName'],
      ['CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'x', alarmConfiguration: { enabled: 'yes' } }, 'InvalidInputException', 'alarmConfiguration.enabled'],
      ['CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'x', alarmConfiguration: { alarms: 'errors' } }, 'InvalidInputException', 'alarmConfiguration.alarms'],
      ['CreateDeployment', { applicationName: 'app', deploymentGroupName: 'dg', revision: 'appspec' }, 'InvalidInputException', 'revision'],
      ['StopDeployment', { deploymentId: 'd-AAAAAAAAA', autoRollbackEnabled: 'true' }, 'InvalidInputException', 'autoRollbackEnabled'],
      ['BatchGetDeployments', { deploymentIds: [1, 2] }, 'InvalidInputException', 'deploymentIds[0]'],
      ['CreateDeploymentConfig', { deploymentConfigName: 'x', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 'ten', canaryInterval: 5 } } }, 'InvalidTrafficRoutingConfigurationException', 'canaryPercentage'],
      ['GetDeployment', {}, 'DeploymentIdRequiredException', 'deploymentId'],
    ];
    for (const [op, body, code, field] of cases) {
      const res = await raw(op, body);
      expect({ op, status: res.status, code: res.body.__type }).toEqual({ op, status: 400, code });
      expect(res.body.message).toContain(field);
    }
    expect((await client.send(new ListDeploymentGroupsCommand({ applicationName: 'app' }))).deploymentGroups).toEqual(['dg']);
    expect(lab.deployments()).toEqual([]);
  });
});
