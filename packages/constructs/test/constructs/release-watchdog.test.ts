import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConfigDelivery, GuardedFunction, ReleaseWatchdog, ReservedConcurrency, WatchdogMode, type ReleaseWatchdogProps } from '../../src';
import { parseWatchdogConfig } from '../../src/core/config';
import { build, inlineFunction, joinToText, resourcesOfType } from './helpers';

describe('ReleaseWatchdog', () => {
  const { template: tpl } = build();
  const template = tpl();
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const byDescription = (d: string) => functions.find(([, f]) => f.Properties.Description === `canary-watchdog ${d}`)!;

  it('creates the watchdog, both hooks and the prober on a current Node.js runtime', () => {
    for (const d of ['watchdog', 'pre-traffic', 'post-traffic', 'prober']) {
      expect(byDescription(d)[1].Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler' });
    }
  });

  it('names the hooks CodeDeployHook_*, the only functions AWSCodeDeployRoleForLambdaLimited may invoke', () => {
    expect(byDescription('pre-traffic')[1].Properties.FunctionName).toMatch(/^CodeDeployHook_Shop-Watchdog-pre$/);
    expect(byDescription('post-traffic')[1].Properties.FunctionName).toMatch(/^CodeDeployHook_Shop-Watchdog-post$/);
  });

  it("raises the guarded group's heartbeat alarm after 3 minutes without that group's heartbeat, missing data breaching", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Shop-Orders-A8B1F509-heartbeat',
      Namespace: 'CanaryWatchdog',
      MetricName: 'WatchdogHeartbeat',
      Dimensions: [
        { Name: 'DeploymentGroup', Value: 'Shop-Orders-A8B1F509/Shop-Orders-A8B1F509' },
        { Name: 'Watchdog', Value: 'Shop-Watchdog-00DD11F1' },
      ],
      Statistic: 'SampleCount',
      Period: 60,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
  });

  it('runs the watchdog and the prober every minute', () => {
    const [, rule] = resourcesOfType(template, 'AWS::Events::Rule').find(([, r]) => r.Properties.ScheduleExpression)!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect((rule.Properties.Targets as unknown[]).length).toBe(2);
  });

  it('triggers on state changes of the guarded deployments and alarms', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.codedeploy'], 'detail-type': ['CodeDeploy Deployment State-change Notification'], detail: { application: ['Shop-Orders-A8B1F509'] } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        // The version-scoped alarms by prefix, so the rule stays the same from release to release.
        detail: {
          alarmName: Match.arrayEquals([
            'Shop-Orders-A8B1F509-alias-error-rate',
            { prefix: 'Shop-Orders-A8B1F509-probe-failures-v' },
            { prefix: 'Shop-Orders-A8B1F509-new-version-error-rate-v' },
            { prefix: 'Shop-Orders-A8B1F509-new-version-throttle-rate-v' },
            { prefix: 'Shop-Orders-A8B1F509-new-version-p99duration-v' },
          ]),
        },
      },
    });
  });

  it('keeps deployment state in a DynamoDB table keyed by deploymentId with a TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'deploymentId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('hands every runtime function a configuration the runtime parser accepts', () => {
    for (const d of ['watchdog', 'pre-traffic', 'post-traffic', 'prober']) {
      const env = (byDescription(d)[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const config = parseWatchdogConfig(JSON.parse(joinToText(env.CANARY_WATCHDOG_CONFIG)));
      expect(config.guards).toHaveLength(1);
      expect(config.guards[0]).toMatchObject({
        application: 'Shop-Orders-A8B1F509',
        deploymentGroup: 'Shop-Orders-A8B1F509',
        functionName: 'ref-Fn9270CBC0',
        alias: 'live',
        alarms: {
          // Templates: the configuration does not change per release, the alarms' names do.
          probes: ['Shop-Orders-A8B1F509-probe-failures-v{version}'],
          'new-version': [
            'Shop-Orders-A8B1F509-new-version-error-rate-v{version}',
            'Shop-Orders-A8B1F509-new-version-throttle-rate-v{version}',
            'Shop-Orders-A8B1F509-new-version-p99duration-v{version}',
          ],
          service: ['Shop-Orders-A8B1F509-alias-error-rate'],
        },
      });
      expect(env.CANARY_WATCHDOG_STATE_TABLE).toEqual({ Ref: expect.stringMatching(/^WatchdogState/) });
    }
  });

  describe('least privilege', () => {
    const statements = (desc: string) => {
      const roleRef = (byDescription(desc)[1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      return resourcesOfType(template, 'AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleRef))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement);
    };
    const withAction = (desc: string, action: string) => statements(desc).filter((s) => [s.Action].flat().includes(action));

    it('never grants a * action', () => {
      for (const d of ['watchdog', 'pre-traffic', 'post-traffic', 'prober']) {
        expect(statements(d).flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
      }
    });

    it('lets the watchdog stop only the guarded deployment groups', () => {
      const [s] = withAction('watchdog', 'codedeploy:StopDeployment');
      expect(JSON.stringify(s.Resource)).toContain('deploymentgroup:');
      expect(JSON.stringify(s.Resource)).toContain('OrdersApplication');
      expect(s.Resource).not.toEqual('*');
    });

    it('lets the prober and the pre-traffic hook invoke only the guarded function versions', () => {
      for (const d of ['prober', 'pre-traffic']) {
        const [s] = withAction(d, 'lambda:InvokeFunction');
        expect(s.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Fn9270CBC0', 'Arn'] }, ':*']] });
      }
      expect(withAction('watchdog', 'lambda:InvokeFunction')).toEqual([]);
    });

    it('limits PutMetricData to the CanaryWatchdog namespace', () => {
      for (const d of ['watchdog', 'pre-traffic', 'prober']) {
        const [s] = withAction(d, 'cloudwatch:PutMetricData');
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CanaryWatchdog' } });
      }
    });

    it('lets the watchdog describe only the guarded alarms, the version-scoped ones of every version by their name template', () => {
      const [s] = withAction('watchdog', 'cloudwatch:DescribeAlarms');
      const resources = [s.Resource].flat().map(joinToText);
      expect(resources).toHaveLength(5);
      expect(resources).toEqual([
        expect.stringMatching(/^<OrdersAliasErrorRate[0-9A-F]{8}\.Arn>$/),
        ...['probe-failures', 'new-version-error-rate', 'new-version-throttle-rate', 'new-version-p99duration'].map(
          (n) => `arn:ref-AWS::Partition:cloudwatch:ref-AWS::Region:ref-AWS::AccountId:alarm:Shop-Orders-A8B1F509-${n}-v*`,
        ),
      ]);
    });

    it('keeps the watchdog configuration, its role and the alarm rule free of the published version, so a release changes none of them', () => {
      const versionId = Object.keys(template.findResources('AWS::Lambda::Version'))[0];
      const own = [...['watchdog', 'pre-traffic', 'post-traffic', 'prober'].map((d) => byDescription(d)), ...resourcesOfType(template, 'AWS::Events::Rule'), ...resourcesOfType(template, 'AWS::IAM::Policy')];
      for (const [id, r] of own) expect([id, JSON.stringify(r)]).toEqual([id, expect.not.stringContaining(versionId)]);
    });

    it('gives the state table to the runtime by need: the registry is read by the watchdog and the prober, written by the watchdog and the pre-traffic hook; the hooks read their own answers and bakes (BatchGetItem)', () => {
      // What each is allowed (the deny of the configuration item is isolation.test.ts's).
      const tableActions = (d: string) => statements(d).filter((s) => s.Effect === 'Allow' && /"\w*State[0-9A-F]{8}"/.test(JSON.stringify(s.Resource))).flatMap((s) => [s.Action].flat()).sort();
      // DeleteItem ends a release's telemetry watch, on #watch# keys only (isolation.test.ts).
      expect(tableActions('watchdog')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
      // The stream actions are the event source mapping's (the telemetry extension's writes with failures).
      expect(tableActions('watchdog (events)')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeStream', 'dynamodb:GetItem', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:UpdateItem']);
      // UpdateItem adds probe invocations to the deployments' probe records, on #probed# keys only.
      expect(tableActions('prober')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      const proberUpdate = statements('prober').find((st) => st.Effect === 'Allow' && [st.Action].flat().includes('dynamodb:UpdateItem'));
      expect(proberUpdate?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['#probed#*'] } });
      expect(tableActions('pre-traffic')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
      expect(tableActions('post-traffic')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
    });

    it('lets the watchdog report the bake hook of the guarded groups', () => {
      expect(withAction('watchdog', 'codedeploy:PutLifecycleEventHookExecutionStatus')).toHaveLength(1);
    });
  });

  it('reserves 2 concurrent executions for each runtime function by default, so account-wide throttling cannot starve them', () => {
    for (const d of ['watchdog', 'pre-traffic', 'post-traffic', 'prober']) {
      expect([d, byDescription(d)[1].Properties.ReservedConcurrentExecutions]).toEqual([d, 2]);
    }
  });

  it.each<[string, ReservedConcurrency, Record<string, number | undefined>]>([
    ['given values, the others at their defaults', ReservedConcurrency.of({ watchdog: 3, prober: 1 }), { watchdog: 3, 'pre-traffic': 2, 'post-traffic': 2, prober: 1 }],
    ['none', ReservedConcurrency.none(), { watchdog: undefined, 'pre-traffic': undefined, 'post-traffic': undefined, prober: undefined }],
  ])('reserves %s', (_name, reservedConcurrency, expected) => {
    const app = new App();
    const stack = new Stack(app, 'R');
    new ReleaseWatchdog(stack, 'W', { reservedConcurrency });
    const fns = resourcesOfType(Template.fromStack(stack), 'AWS::Lambda::Function');
    const got = Object.fromEntries(Object.keys(expected).map((d) => [d, fns.find(([, f]) => f.Properties.Description === `canary-watchdog ${d}`)![1].Properties.ReservedConcurrentExecutions]));
    expect(got).toEqual(expected);
  });

  it('rejects a reservation of 0, which would stop the function', () => {
    expect(() => new ReleaseWatchdog(new Stack(new App(), 'S'), 'W', { reservedConcurrency: ReservedConcurrency.of({ prober: 0 }) })).toThrow(
      'S/W: reservedConcurrency: prober must be a whole number of at least 1 (0 would stop the function; use ReservedConcurrency.none() to reserve nothing), got 0',
    );
  });

  it('rejects an out-of-range prober round count', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new ReleaseWatchdog(stack, 'W', { proberRounds: 0 })).toThrow('S/W: proberRounds: must be an integer from 1 to 12, got 0');
  });

  // Enum props reach the construct as plain strings from JavaScript and through jsii from other languages.
  it.each<[string, ReleaseWatchdogProps, string]>([
    ['mode', { mode: 'dry-run' as WatchdogMode }, 'S/W: mode: must be one of enforce, shadow, got "dry-run"'],
    ['configDelivery', { configDelivery: 'ssm' as ConfigDelivery }, 'S/W: configDelivery: must be one of environment, state-table, got "ssm"'],
  ])('rejects an unknown %s, naming the allowed values', (_prop, props, message) => {
    expect(() => new ReleaseWatchdog(new Stack(new App(), 'S'), 'W', props)).toThrow(message);
  });

  it("fails synth when the configuration would not fit Lambda's 4 KB environment", () => {
    const app = new App();
    const stack = new Stack(app, 'Big');
    const watchdog = new ReleaseWatchdog(stack, 'W');
    for (let i = 0; i < 12; i++) {
      new GuardedFunction(stack, `F${i}`, { watchdog, existingFunction: inlineFunction(stack, `Fn${i}`), dashboard: false });
    }
    expect(() => app.synth()).toThrow(/Big\/W: guards: the watchdog configuration of 12 guarded function\(s\) takes about \d+ bytes, over Lambda's 4096-byte environment limit/);
  });

  it("fails synth when the stack would exceed CloudFormation's 500 resources, saying how many guarded functions fit", () => {
    const app = new App();
    const stack = new Stack(app, 'Huge');
    const watchdog = new ReleaseWatchdog(stack, 'W', { configDelivery: ConfigDelivery.STATE_TABLE });
    for (let i = 0; i < 50; i++) new GuardedFunction(stack, `F${i}`, { watchdog, existingFunction: inlineFunction(stack, `Fn${i}`) });
    expect(() => app.synth()).toThrow(/Huge: the stack has \d+ resources with 50 guarded functions; CloudFormation allows 500 per stack\. Each guarded function here takes about \d+: split them over several stacks, each with its own ReleaseWatchdog\./);
  });

  it('shares one watchdog between guarded functions of one stack', () => {
    const app = new App();
    const stack = new Stack(app, 'Two');
    const watchdog = new ReleaseWatchdog(stack, 'W');
    new GuardedFunction(stack, 'A', { watchdog, existingFunction: inlineFunction(stack, 'FnA') });
    new GuardedFunction(stack, 'B', { watchdog, existingFunction: inlineFunction(stack, 'FnB') });
    const t = Template.fromStack(stack);
    // Per function: its heartbeat and 4 layer alarms.
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2 * 5);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    t.resourceCountIs('AWS::Lambda::Function', 5 + 2);
    // One CodeDeploy service role for both groups, with AWS's policy for Lambda deployments once.
    const codedeployRoles = Object.entries(t.findResources('AWS::IAM::Role')).filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('codedeploy.amazonaws.com'),
    );
    expect(codedeployRoles).toHaveLength(1);
    const [roleId, role] = codedeployRoles[0];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns).match(/AWSCodeDeployRoleForLambdaLimited/g)).toHaveLength(1);
    for (const g of Object.values(t.findResources('AWS::CodeDeploy::DeploymentGroup'))) {
      expect(g.Properties.ServiceRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });
});
