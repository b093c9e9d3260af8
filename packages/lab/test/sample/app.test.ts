import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrdersServiceStack } from '../../sample/orders-service-stack';
import { parseWatchdogConfig } from 'canary-watchdog/lib/core/config';
import { findCycle } from '../../../constructs/test/constructs/cycles';
import { joinToText, resourcesOfType } from '../../../constructs/test/constructs/helpers';
import cdkJson from '../../cdk.json';

// The sample app as bin/app.ts builds it, with the context from cdk.json.
const app = new App({ context: cdkJson.context });
const ctx = (k: string) => app.node.tryGetContext(`orders-service:${k}`);
const stack = new OrdersServiceStack(app, 'OrdersService', {
  prices: ctx('prices'),
  currency: ctx('currency'),
  taxRate: ctx('taxRate'),
  maxItemsPerOrder: ctx('maxItemsPerOrder'),
  paymentMode: ctx('paymentMode'),
});
const nag = new AwsSolutionsChecks(app);
Validations.of(app).addPlugins(nag);
const template = Template.fromStack(stack);

describe('sample app', () => {
  it('passes the cdk-nag AwsSolutions pack with no unacknowledged finding', () => {
    const report = nag.validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('guards two functions with one watchdog, each behind an IAM-authenticated function URL on its alias', () => {
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    template.resourceCountIs('AWS::Lambda::Url', 2);
    for (const [, url] of resourcesOfType(template, 'AWS::Lambda::Url')) {
      expect(url.Properties).toMatchObject({ AuthType: 'AWS_IAM', Qualifier: 'live' });
    }
  });

  it("includes the user's own alarm in the orders service layer", () => {
    // The sample's configuration outgrows Lambda's 4 KB environment: the state table's #config item holds it.
    const [, item] = resourcesOfType(template, 'Custom::AWS').find(([id]) => id.startsWith('WatchdogConfigItem'))!;
    const put = JSON.parse(joinToText(item.Properties.Create)) as { parameters: { Item: { config: { S: string } } } };
    const config = parseWatchdogConfig(JSON.parse(put.parameters.Item.config.S));
    const orders = config.guards.find((g) => g.functionName.includes('OrdersApi'))!;
    expect(orders.alarms.service).toContainEqual(expect.stringMatching(/^ref-OrdersTableSystemErrors/));
    expect(orders.probes.map((p) => p.name)).toEqual(['validate-order', 'read-missing-order', 'reject-zero-qty', 'reject-over-limit', 'unknown-route']);
    const pricing = config.guards.find((g) => g.functionName.includes('PricingApi'))!;
    expect(pricing.probes[0].expect.body).toContainEqual({ path: '$.body.total', equals: 2806 });
  });

  it('bundles the functions with local esbuild and synthesizes without cycles', () => {
    expect(findCycle(template.toJSON() as never)).toBeNull();
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 } } });
  });
});
