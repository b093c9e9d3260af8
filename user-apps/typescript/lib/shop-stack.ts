import * as cdk from 'aws-cdk-lib/core';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  AlarmLayer,
  ConfigDelivery,
  ConfigFormat,
  GuardedFunction,
  InsufficientAction,
  PreexistingAlarms,
  ProbeStatus,
  ReleaseWatchdog,
  ReservedConcurrency,
  Rollout,
  WatchdogMode,
} from 'canary-watchdog';

/**
 * A user's shop: every public construct of canary-watchdog, in the ways a user combines them.
 * .ci/user-app installs the packed package into a copy of this app, type-checks it with cdk
 * init's tsconfig made stricter, synthesizes it and rehearses scenarios/ on its assembly.
 */
export class ShopStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const watchdog = new ReleaseWatchdog(this, 'Watchdog', {
      reservedConcurrency: ReservedConcurrency.of({ watchdog: 3 }),
      mode: WatchdogMode.ENFORCE,
      configDelivery: ConfigDelivery.STATE_TABLE,
      policy: {
        blindAfter: 4,
        preexistingAlarms: PreexistingAlarms.IGNORE,
        insufficient: { 'final-shift': { probes: InsufficientAction.ROLLBACK } },
      },
    });

    // A NodejsFunction created from its entry: canary, config checks, probes, a function URL on the alias.
    const checkout = new GuardedFunction(this, 'Checkout', {
      watchdog,
      entry: 'src/checkout.ts',
      environment: { PAYMENTS_URL: 'https://payments.internal/v2', CURRENCY: 'EUR', CHARGE_TIMEOUT_MS: '3000' },
      rollout: Rollout.canary({ percent: 10, minutes: 10 }),
      configChecks: [
        { key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 2000 },
        { key: 'CURRENCY', oneOf: ['EUR', 'USD'] },
      ],
      probes: [
        { name: 'health', event: { rawPath: '/health' }, expect: { body: [{ path: '$.statusCode', equalTo: 200 }], maxLatencyMs: 1000 } },
      ],
    });
    checkout.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    // After construction: another probe and check, a caller allowed to invoke the alias, and an
    // alarm of your own on the new version's metrics, judged by the watchdog in the service layer.
    checkout.addProbe({ name: 'charge', event: { rawPath: '/charges' }, expect: { status: ProbeStatus.SUCCESS } });
    checkout.addConfigCheck({ key: 'CHARGE_TIMEOUT_MS', format: ConfigFormat.INTEGER });
    checkout.grantInvoke(new iam.Role(this, 'CheckoutCaller', { assumedBy: new iam.AccountRootPrincipal() }));
    checkout.addAlarm(
      new cloudwatch.Alarm(this, 'CheckoutNewVersionErrors', {
        metric: checkout.metricErrors({ period: cdk.Duration.minutes(1) }),
        threshold: 60, // a tenth of the requests at 10 req/s: far above the 0.5 % a good release fails
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // An existing function, guarded as it is: linear rollout, your own alarms and a custom layer.
    const inventoryFn = new lambda.Function(this, 'InventoryFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(
        "exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ sku: (event.queryStringParameters || {}).sku || 'none', inStock: true }) });",
      ),
      timeout: cdk.Duration.seconds(5),
    });
    const slowInventory = new cloudwatch.Alarm(this, 'InventorySlow', {
      metric: inventoryFn.metricDuration({ statistic: 'p90', period: cdk.Duration.minutes(1) }),
      threshold: 2000,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const downstream = new cloudwatch.Alarm(this, 'WarehouseErrors', {
      metric: new cloudwatch.Metric({ namespace: 'Shop/Warehouse', metricName: 'Errors', statistic: 'Sum', period: cdk.Duration.minutes(1) }),
      threshold: 5,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const inventory = new GuardedFunction(this, 'Inventory', {
      watchdog,
      existingFunction: inventoryFn,
      rollout: Rollout.linear({ percent: 20, everyMinutes: 2 }),
      bakeMinutes: 5,
      maxErrorRate: 0.02,
      probes: [
        { name: 'in-stock', event: { queryStringParameters: { sku: 'sku-1' } }, expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.body.inStock', equalTo: true }] } },
      ],
      extraAlarms: [slowInventory],
      customLayers: [{ name: 'downstream', alarms: [downstream] }],
    });
    inventory.addAlarm(
      new cloudwatch.Alarm(this, 'InventorySlowNewVersion', {
        metric: inventory.metricDuration({ statistic: 'p90', period: cdk.Duration.minutes(1) }),
        threshold: 2500,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      AlarmLayer.custom('downstream'),
    );
    // API Gateway integrates with the alias, so CodeDeploy's traffic shifting applies to it. The cast:
    // under exactOptionalPropertyTypes aws-cdk-lib's Alias is not assignable to IFunction (its `role`
    // getter returns `IRole | undefined`; https://github.com/aws/aws-cdk/pull/38082).
    new apigateway.LambdaRestApi(this, 'InventoryApi', { handler: inventory.alias as lambda.IFunction });

    // The other rollouts: everything at once, and one of CodeDeploy's predefined configurations.
    new GuardedFunction(this, 'Receipts', {
      watchdog,
      entry: 'src/checkout.ts',
      environment: { PAYMENTS_URL: 'https://payments.internal/v2' },
      rollout: Rollout.allAtOnce(),
      bakeMinutes: 0,
      probes: [{ name: 'health', event: { rawPath: '/health' }, expect: { status: ProbeStatus.SUCCESS } }],
    });
    // No `watchdog` prop: ReleaseWatchdog.of(this) finds the stack's one watchdog.
    new GuardedFunction(this, 'Refunds', {
      entry: 'src/checkout.ts',
      environment: { PAYMENTS_URL: 'https://payments.internal/v2' },
      rollout: Rollout.predefined('CodeDeployDefault.LambdaLinear10PercentEvery1Minute'),
      dashboard: false,
      probes: [{ name: 'health', event: { rawPath: '/health' }, expect: { status: ProbeStatus.SUCCESS } }],
    });
  }
}
