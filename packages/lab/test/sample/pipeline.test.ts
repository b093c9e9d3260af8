import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ordersPipelineFromContext, OrdersServiceStage } from '../../sample/orders-pipeline';
import cdkJson from '../../cdk.json';

// The sample pipeline as bin/pipeline.ts builds it: explicit environments and a connection source, so no lookup.
const app = new App({ context: cdkJson.context });
const pipelineStack = ordersPipelineFromContext(app);
const template = Template.fromStack(pipelineStack);
const stages = pipelineStack.node.findAll().filter((c): c is OrdersServiceStage => c instanceof OrdersServiceStage);

type PipelineStage = { Name: string; Actions: { Name: string; RunOrder: number; Region?: string; ActionTypeId: { Provider: string } }[] };
const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as { Properties: { Stages: PipelineStage[] } }[];
const pipelineStages = pipeline.Properties.Stages;

describe('sample pipeline', () => {
  it('synthesizes offline, with no context lookup', () => {
    const assembly = app.synth();
    expect(assembly.manifest.missing ?? []).toEqual([]);
  });

  it('releases in three waves: beta, then the first production region, then the other', () => {
    expect(pipelineStages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Beta', 'ProdUsEast1', 'ProdEuWest1']);
    expect(stages.map((s) => `${s.stageName} ${s.account} ${s.region}`)).toEqual(['Beta 222222222222 us-east-1', 'ProdUsEast1 333333333333 us-east-1', 'ProdEuWest1 333333333333 eu-west-1']);
  });

  it('bakes each wave after its deploy, before the next wave starts', () => {
    for (const name of ['Beta', 'ProdUsEast1', 'ProdEuWest1']) {
      const stage = pipelineStages.find((s) => s.Name === name)!;
      const deploy = stage.Actions.find((a) => a.Name === 'OrdersService.Deploy')!;
      const bake = stage.Actions.find((a) => a.Name === `Bake-${name}`)!;
      expect(deploy.ActionTypeId.Provider).toBe('CloudFormation');
      expect(bake.ActionTypeId.Provider).toBe('CodeBuild');
      expect(bake.RunOrder).toBeGreaterThan(deploy.RunOrder);
    }
    const bakeOf = (stage: string, minutes: number, timeout: number) =>
      template.hasResourceProperties('AWS::CodeBuild::Project', {
        TimeoutInMinutes: timeout,
        Environment: Match.objectLike({
          EnvironmentVariables: Match.arrayWith([
            { Name: 'STAGE_NAME', Type: 'PLAINTEXT', Value: stage },
            { Name: 'STACK_NAMES', Type: 'PLAINTEXT', Value: `${stage}-OrdersService` },
            { Name: 'BAKE_SECONDS', Type: 'PLAINTEXT', Value: String(minutes * 60) },
          ]),
        }),
      });
    bakeOf('Beta', 30, 50);
    bakeOf('ProdUsEast1', 60, 80);
    bakeOf('ProdEuWest1', 15, 35);
  });

  it("guards every stage's stacks: each function's alias is released by CodeDeploy under watch", () => {
    expect(stages).toHaveLength(3);
    for (const stage of stages) {
      const stacks = stage.node.findAll().filter((c): c is Stack => Stack.isStack(c));
      expect(stacks.map((s) => s.stackName)).toEqual([`${stage.stageName}-OrdersService`]);
      const t = Template.fromStack(stacks[0]);
      const aliases = Object.values(t.findResources('AWS::Lambda::Alias', { Properties: { Name: 'live' } }));
      expect(aliases).toHaveLength(3); // OrdersApi, PricingApi and the Python ShippingQuote
      for (const alias of aliases) {
        // The stack update waits for the CodeDeploy release, its watchdog's hooks before and after the shift included.
        expect(alias.UpdatePolicy).toEqual({
          CodeDeployLambdaAliasUpdate: {
            ApplicationName: expect.anything(),
            DeploymentGroupName: expect.anything(),
            BeforeAllowTrafficHook: { Ref: expect.stringMatching(/^WatchdogPreTrafficHook/) },
            AfterAllowTrafficHook: { Ref: expect.stringMatching(/^WatchdogPostTrafficHook/) },
          },
        });
      }
      t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 3);
      t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) } });
    }
  });

  it('reads the production account through its CDK lookup role, and beta through its own', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]))
      .filter((s) => s.Action === 'sts:AssumeRole')
      .map((s) => JSON.stringify(s.Resource))
      .filter((r) => r.includes('lookup-role'));
    expect(roles.sort()).toEqual(
      ['222222222222-us-east-1', '333333333333-eu-west-1', '333333333333-us-east-1'].map((e) => JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${e.split('-')[0]}:role/cdk-hnb659fds-lookup-role-${e}`]] })).sort(),
    );
  });
});
