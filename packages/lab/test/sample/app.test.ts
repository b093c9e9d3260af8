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

  it('guards three functions with one watchdog, each behind an IAM-authenticated function URL on its alias', () => {
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 3);
    template.resourceCountIs('AWS::Lambda::Url', 3);
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

  it('guards a Python function (stdlib only, its code folder as the asset) with the telemetry layer of its architecture and its probes', () => {
    const [, fn] = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ShippingQuoteFunction'))!;
    expect(fn.Properties).toMatchObject({ Runtime: 'python3.14', Handler: 'shipping_quote.handler', Architectures: ['arm64'] });
    expect((fn.Properties.Environment as { Variables: object }).Variables).toHaveProperty('CANARY_WATCHDOG_TELEMETRY_TABLE');
    const layers = (fn.Properties.Layers as { Ref: string }[]).map((l) => template.toJSON().Resources[l.Ref]);
    expect(layers).toEqual([expect.objectContaining({ Type: 'AWS::Lambda::LayerVersion', Properties: expect.objectContaining({ CompatibleArchitectures: ['arm64'] }) })]);
    const [, item] = resourcesOfType(template, 'Custom::AWS').find(([id]) => id.startsWith('WatchdogConfigItem'))!;
    const put = JSON.parse(joinToText(item.Properties.Create)) as { parameters: { Item: { config: { S: string } } } };
    const shipping = parseWatchdogConfig(JSON.parse(put.parameters.Item.config.S)).guards.find((g) => g.functionName.includes('ShippingQuote'))!;
    expect(shipping.probes.map((p) => p.name)).toEqual(['quote-eu-parcel', 'quote-us-parcel', 'reject-overweight', 'quote-us-heavy-parcel', 'unknown-zone']);
    // EU: 490 cents and 120 a started kilogram, so 2.5 kg is 490 + 3 * 120.
    expect(shipping.probes[0].expect.body).toContainEqual({ path: '$.body.cents', equals: 850 });
  });

  it('bundles the functions with local esbuild and synthesizes without cycles', () => {
    expect(findCycle(template.toJSON() as never)).toBeNull();
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 } } });
  });
});
