import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnWaitConditionHandle, Stack, Stage, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { GuardedFunction, ReleaseWaves, type ReleaseWave, type ReleaseWavesProps } from '../../src';
import { BAKE_SCRIPT } from '../../src/constructs/release-waves';
import { inlineFunction } from './helpers';

const PIPELINE_ENV = { account: '111111111111', region: 'us-east-1' };

/** A stage with one stack holding one guarded function (and, if asked, an unguarded second stack). */
function guardedStage(scope: App | Stack, id: string, env: Environment = PIPELINE_ENV, opts: { unguarded?: boolean } = {}): Stage {
  const stage = new Stage(scope, id, { env });
  const stack = new Stack(stage, 'Service');
  new GuardedFunction(stack, 'Orders', { existingFunction: inlineFunction(stack), dashboard: false });
  // A stack of shared infrastructure, with no function to guard.
  if (opts.unguarded) new CfnWaitConditionHandle(new Stack(stage, 'Network'), 'Shared');
  return stage;
}

function pipelineStack(app: App) {
  const stack = new Stack(app, 'Pipeline', { env: PIPELINE_ENV });
  const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
    crossAccountKeys: true,
    synth: new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('my-org/app', 'main', { connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/x' }),
      commands: ['npx cdk synth'],
    }),
  });
  return { stack, pipeline };
}

function waves(build: (app: App, stack: Stack) => ReleaseWave[], props: Partial<ReleaseWavesProps> = {}) {
  const app = new App();
  const { stack, pipeline } = pipelineStack(app);
  const rw = new ReleaseWaves(stack, 'Waves', { pipeline, waves: build(app, stack), ...props });
  return { app, stack, rw, template: () => Template.fromStack(stack) };
}

/** The pipeline's stages as `Name: action#runOrder, ...`. */
function stagesOf(template: Template): string[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as { Properties: { Stages: { Name: string; Actions: { Name: string; RunOrder: number }[] }[] } }[];
  return pipeline.Properties.Stages.map((s) => `${s.Name}: ${s.Actions.map((a) => `${a.Name}#${a.RunOrder}`).join(', ')}`);
}

describe('ReleaseWaves', () => {
  it('deploys the waves in order, each stage followed by its bake step', () => {
    const { template } = waves((app) => [
      { name: 'beta', stages: [guardedStage(app, 'Beta')], bakeMinutes: 5 },
      { name: 'prod-1', stages: [guardedStage(app, 'Prod1')] },
      { name: 'prod-rest', stages: [guardedStage(app, 'Prod2'), guardedStage(app, 'Prod3')], bakeMinutes: 0 },
    ]);
    const t = template();
    expect(stagesOf(t).slice(-3)).toEqual([
      'Beta: Service.Prepare#1, Service.Deploy#2, Bake-Beta#3',
      'Prod1: Service.Prepare#1, Service.Deploy#2, Bake-Prod1#3',
      'prod-rest: Prod2.Service.Prepare#1, Prod3.Service.Prepare#1, Prod2.Service.Deploy#2, Prod3.Service.Deploy#2, Prod2.Bake-Prod2#3, Prod3.Bake-Prod3#3',
    ]);
    // Each bake lasts the wave's bake (30 minutes by default), within a CodeBuild timeout 20 minutes longer.
    const env = (stage: string, bake: number) => Match.arrayWith([
      { Name: 'STAGE_NAME', Type: 'PLAINTEXT', Value: stage },
      Match.objectLike({ Name: 'DEPLOYMENT_GROUPS', Value: Match.stringLikeRegexp(`^${stage}Service-Orders-[0-9A-F]{8}/${stage}Service-Orders-[0-9A-F]{8}$`) }),
      { Name: 'BAKE_SECONDS', Type: 'PLAINTEXT', Value: String(bake * 60) },
    ]);
    t.hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 25, Environment: Match.objectLike({ EnvironmentVariables: env('Beta', 5) }) });
    t.hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 50, Environment: Match.objectLike({ EnvironmentVariables: env('Prod1', 30) }) });
    t.hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 20, Environment: Match.objectLike({ EnvironmentVariables: env('Prod3', 0) }) });
  });

  it("lets a same-account bake step read only the stage's groups and stacks", () => {
    const { template } = waves((app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta')] }]);
    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: ['cloudwatch:DescribeAlarms', 'codedeploy:ListDeployments'], Effect: 'Allow', Resource: '*' },
          {
            Action: 'codedeploy:GetDeploymentGroup',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, Match.stringLikeRegexp('^:codedeploy:us-east-1:111111111111:deploymentgroup:BetaService-Orders-')]] },
          },
          { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:us-east-1:111111111111:stack/Beta-Service/*']] } },
        ]),
      },
    });
  });

  it("reads a stage in another account through that account's CDK lookup role", () => {
    const { template } = waves((app) => [{ name: 'prod', stages: [guardedStage(app, 'Prod', { account: '333333333333', region: 'eu-west-1' })] }], { bootstrapQualifier: 'custom1' });
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:role/cdk-custom1-lookup-role-333333333333-eu-west-1']] };
    const t = template();
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: arn }]) } });
    t.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({ EnvironmentVariables: Match.arrayWith([{ Name: 'STAGE_REGION', Type: 'PLAINTEXT', Value: 'eu-west-1' }, { Name: 'ASSUME_ROLE_ARN', Type: 'PLAINTEXT', Value: arn }]) }),
    });
  });

  it.each<[string, (app: App) => ReleaseWave[], Partial<ReleaseWavesProps>, string]>([
    ['no waves', () => [], {}, 'Pipeline/Waves: waves: must name at least one wave, for example beta, then production'],
    ['a wave without stages', () => [{ name: 'beta', stages: [] }], {}, 'Pipeline/Waves: waves[0].stages: wave "beta" has no stages; give it at least one or remove it'],
    ['a bake above 1440 minutes', (app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta')], bakeMinutes: 1441 }], {}, 'Pipeline/Waves: waves[0].bakeMinutes: must be a whole number of minutes from 0 to 1440, got 1441'],
    ['a negative default bake', (app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta')] }], { bakeMinutes: -1 }, 'Pipeline/Waves: bakeMinutes: must be a whole number of minutes from 0 to 1440, got -1'],
    ['a poll faster than 10 s', (app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta')] }], { pollSeconds: 5 }, 'Pipeline/Waves: pollSeconds: must be a whole number of seconds from 10 to 600, got 5'],
    [
      'two waves of one name',
      (app) => [{ name: 'prod', stages: [guardedStage(app, 'A')] }, { name: 'prod', stages: [guardedStage(app, 'B')] }],
      {},
      'Pipeline/Waves: waves[1].name: duplicate wave name "prod" (also waves[0]); each must be unique',
    ],
    [
      'two stages of one name',
      (app) => {
        const other = new App();
        return [{ name: 'beta', stages: [guardedStage(app, 'Prod')] }, { name: 'prod', stages: [guardedStage(other, 'Prod')] }];
      },
      {},
      'Pipeline/Waves: waves[1].stages[0]: duplicate stage name "Prod" (also waves[0].stages[0]); each stage is deployed once',
    ],
    [
      'a stage without an explicit environment',
      (app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta', {})] }],
      {},
      'Pipeline/Waves: waves[0].stages[0]: stage "Beta" needs an explicit env { account, region }: its bake step reads that account and region',
    ],
  ])('rejects %s, naming the prop', (_name, build, props, message) => {
    expect(() => waves(build, props)).toThrow(message);
  });

  it('rejects a stage stack without a GuardedFunction unless allowUnguardedStacks is set', () => {
    expect(() => waves((app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta', PIPELINE_ENV, { unguarded: true })] }])).toThrow(
      'Pipeline/Waves: waves[0].stages[0]: stack Beta/Network of stage "Beta" holds no GuardedFunction: its releases would not be guarded; guard its functions, or set allowUnguardedStacks for a stack without functions',
    );
    const { template } = waves((app) => [{ name: 'beta', stages: [guardedStage(app, 'Beta', PIPELINE_ENV, { unguarded: true })] }], { allowUnguardedStacks: true });
    template().hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({ EnvironmentVariables: Match.arrayWith([{ Name: 'STACK_NAMES', Type: 'PLAINTEXT', Value: 'Beta-Service Beta-Network' }]) }),
    });
  });

  it('rejects a stage with no GuardedFunction at all, even with allowUnguardedStacks', () => {
    const build = (app: App) => {
      const stage = new Stage(app, 'Beta', { env: PIPELINE_ENV });
      new CfnWaitConditionHandle(new Stack(stage, 'Network'), 'Shared');
      return [{ name: 'beta', stages: [stage] }];
    };
    expect(() => waves(build, { allowUnguardedStacks: true })).toThrow('Pipeline/Waves: waves[0].stages[0]: stage "Beta" holds no GuardedFunction: nothing in it is released under guard');
  });
});

/**
 * The bake script, run by bash against a fake `aws` that answers from files and logs its calls:
 * the script's decisions (verdict, bake, exit code) without AWS.
 */
describe('the bake step script', () => {
  const hasBash = spawnSync('bash', ['--version']).status === 0;
  const run = (answers: Record<string, string>, env: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'bake-'));
    for (const [op, out] of Object.entries(answers)) writeFileSync(join(dir, op), out);
    // The fake CLI: logs "<service> <operation> <args>" and the credentials it sees; answers from the file named for the operation.
    writeFileSync(
      join(dir, 'aws'),
      `#!/usr/bin/env bash\necho "$* key=\${AWS_ACCESS_KEY_ID:-none} region=$AWS_REGION" >> "${dir}/calls"\nf="${dir}/$2"\nif [ -f "$f" ]; then cat "$f"; fi\n`,
    );
    chmodSync(join(dir, 'aws'), 0o755);
    const result = spawnSync('bash', ['-c', BAKE_SCRIPT], {
      encoding: 'utf8',
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        STAGE_NAME: 'Beta',
        STAGE_REGION: 'eu-west-1',
        STACK_NAMES: 'Beta-Service',
        DEPLOYMENT_GROUPS: 'app-1/group-1 app-2/group-2',
        BAKE_SECONDS: '2',
        POLL_SECONDS: '1',
        ...env,
      },
    });
    let calls: string[] = [];
    try {
      calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    } catch {
      // no call made
    }
    return { status: result.status, out: result.stdout + result.stderr, calls };
  };
  const healthy = {
    'describe-stacks': '2026-01-02T10:00:00+00:00\t2025-12-01T09:00:00+00:00\n',
    'list-deployments': '\n',
    'get-deployment-group': 'heartbeat-alarm\tnative-composite\n',
    'describe-alarms': '\n',
  };
  (hasBash ? it : it.skip)('passes after watching the groups\' alarms for the whole bake', () => {
    // 4 s, so that a check slowed by a loaded machine (over a second) still leaves room for one between the first and the last.
    const { status, out, calls } = run(healthy, { BAKE_SECONDS: '4' });
    expect(out).toContain('Beta: every release since 2026-01-02T10:00:00+00:00 completed; baking 4 s on: heartbeat-alarm native-composite heartbeat-alarm native-composite');
    expect(out).toContain('Beta: baked 4 s with no alarm in ALARM');
    expect(status).toBe(0);
    expect(calls).toContainEqual(expect.stringMatching(/^deploy list-deployments --application-name app-2 --deployment-group-name group-2 --create-time-range start=2026-01-02T10:00:00\+00:00 --include-only-statuses Failed Stopped .* region=eu-west-1$/));
    // One check at the start, one a second, and one at the end: at least three in 4 s.
    expect(calls.filter((c) => c.startsWith('cloudwatch describe-alarms --state-value ALARM')).length).toBeGreaterThanOrEqual(3);
  });

  (hasBash ? it : it.skip)('takes the creation time of a stack never updated', () => {
    const { out } = run({ ...healthy, 'describe-stacks': 'None\t2025-12-01T09:00:00+00:00\n' });
    expect(out).toContain('every release since 2025-12-01T09:00:00+00:00 completed');
  });

  (hasBash ? it : it.skip)('fails at once, naming the deployment, when a release of the stage was rolled back', () => {
    const { status, out, calls } = run({ ...healthy, 'list-deployments': 'd-ROLLEDBACK\n' });
    expect(status).toBe(1);
    expect(out).toContain('Beta: verdict: app-1/group-1 rolled back (deployment d-ROLLEDBACK since 2026-01-02T10:00:00+00:00); stopping before the next wave');
    expect(calls.some((c) => c.startsWith('cloudwatch'))).toBe(false);
  });

  (hasBash ? it : it.skip)('fails the bake when an alarm is in ALARM, naming it', () => {
    const { status, out } = run({ ...healthy, 'describe-alarms': 'native-composite\n' });
    expect(status).toBe(1);
    expect(out).toContain('Beta: bake failed: in ALARM: native-composite; stopping before the next wave');
  });

  (hasBash ? it : it.skip)("reads another account with the lookup role's credentials", () => {
    const { status, calls } = run({ ...healthy, 'assume-role': 'AKIAFAKE\tsecret\ttoken\n' }, { ASSUME_ROLE_ARN: 'arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-eu-west-1', BAKE_SECONDS: '0' });
    expect(status).toBe(0);
    expect(calls[0]).toMatch(/^sts assume-role --role-arn arn:aws:iam::333333333333:role\/cdk-hnb659fds-lookup-role-333333333333-eu-west-1 .* key=none/);
    expect(calls.slice(1).every((c) => c.includes('key=AKIAFAKE'))).toBe(true);
  });

  it('is valid bash', () => {
    if (hasBash) execFileSync('bash', ['-n', '-c', BAKE_SCRIPT]);
  });
});
