import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import { ConfigDelivery, ConfigFormat, GuardedFunction, ProbeStatus, ReleaseWatchdog, Rollout } from 'canary-watchdog';

export interface OrdersServiceProps extends StackProps {
  /** Price list: SKU -> unit price in cents. */
  readonly prices: Readonly<Record<string, number>>;
  readonly currency: 'USD' | 'EUR' | 'GBP';
  readonly taxRate: number;
  readonly maxItemsPerOrder: number;
  readonly paymentMode: 'live' | 'sandbox';
  /** `false`: no probes on any function (context `orders-service:probes`): what `threat-model` finds without them. @default true */
  readonly probes?: boolean;
}

const fnDefaults = {
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(5),
  // Local esbuild, never Docker; the Node.js runtime provides the AWS SDK v3.
  bundling: { externalModules: ['@aws-sdk/*'], target: 'node20' },
  // The repository's npm workspaces share one lock file, at its root.
  depsLockFilePath: join(__dirname, '..', '..', '..', 'package-lock.json'),
  projectRoot: join(__dirname, '..', '..', '..'),
};

/**
 * The sample service: an orders API, a pricing API (Node.js) and a shipping quote API (Python),
 * each a Lambda function behind its `live` alias with an IAM-authenticated function URL,
 * released through canary-watchdog.
 */
export class OrdersServiceStack extends Stack {
  readonly watchdog: ReleaseWatchdog;
  readonly orders: GuardedFunction;
  readonly pricing: GuardedFunction;
  /** A Python function (stdlib only), guarded like the others. */
  readonly shipping: GuardedFunction;

  constructor(scope: Construct, id: string, props: OrdersServiceProps) {
    super(scope, id, props);
    // Three guarded functions with 11 probes and 8 checks between them outgrow Lambda's 4 KB
    // environment: the configuration lives in the state table.
    this.watchdog = new ReleaseWatchdog(this, 'Watchdog', { configDelivery: ConfigDelivery.STATE_TABLE });

    const table = new dynamodb.Table(this, 'Orders', {
      partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The user's own alarm: the orders table failing on the service side.
    const tableErrors = new cloudwatch.Alarm(this, 'OrdersTableSystemErrors', {
      alarmName: `${this.stackName}-orders-table-system-errors`,
      metric: table.metricSystemErrorsForOperations({
        operations: [dynamodb.Operation.PUT_ITEM, dynamodb.Operation.GET_ITEM],
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.orders = new GuardedFunction(this, 'OrdersApi', {
      ...fnDefaults,
      watchdog: this.watchdog,
      entry: join(__dirname, 'functions', 'orders.ts'),
      logGroup: new logs.LogGroup(this, 'OrdersApiLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      environment: {
        TABLE_NAME: table.tableName,
        MAX_ITEMS_PER_ORDER: String(props.maxItemsPerOrder),
        PAYMENT_MODE: props.paymentMode,
        // The payments service live orders are authorized with (a dependency outside the app).
        PAYMENTS_URL: 'https://payments.internal/authorize',
      },
      rollout: Rollout.canary({ percent: 10, minutes: 5 }),
      bakeMinutes: 10,
      maxErrorRate: 0.02,
      configChecks: [
        { key: 'TABLE_NAME' },
        { key: 'MAX_ITEMS_PER_ORDER', format: ConfigFormat.INTEGER },
        { key: 'PAYMENT_MODE', oneOf: ['live', 'sandbox'] },
      ],
      probes: props.probes === false ? [] : [
        {
          name: 'validate-order',
          event: {
            rawPath: '/orders',
            requestContext: { http: { method: 'POST' } },
            queryStringParameters: { dryRun: 'true' },
            body: JSON.stringify({ sku: 'sku-1', qty: 2 }),
          },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 200 }, { path: '$.body.valid', equalTo: true }], maxLatencyMs: 1000 },
        },
        {
          name: 'read-missing-order',
          event: { rawPath: '/orders/probe-does-not-exist', requestContext: { http: { method: 'GET' } } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 404 }, { path: '$.body.error', equalTo: 'no such order' }] },
        },
        // The order rules users rely on: a zero quantity and one above the limit are refused.
        {
          name: 'reject-zero-qty',
          event: { rawPath: '/orders', requestContext: { http: { method: 'POST' } }, queryStringParameters: { dryRun: 'true' }, body: JSON.stringify({ sku: 'sku-1', qty: 0 }) },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 400 }, { path: '$.body.error', equalTo: 'qty must be a whole number of at least 1' }] },
        },
        {
          name: 'reject-over-limit',
          event: {
            rawPath: '/orders',
            requestContext: { http: { method: 'POST' } },
            queryStringParameters: { dryRun: 'true' },
            body: JSON.stringify({ sku: 'sku-1', qty: props.maxItemsPerOrder + 1 }),
          },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 400 }, { path: '$.body.error', equalTo: `qty above the limit of ${props.maxItemsPerOrder} items per order` }] },
        },
        {
          name: 'unknown-route',
          event: { rawPath: '/no-such-route', requestContext: { http: { method: 'GET' } } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 404 }] },
        },
      ],
      extraAlarms: [tableErrors],
    });
    table.grant(this.orders.function, 'dynamodb:PutItem', 'dynamodb:GetItem');

    const pricingEnv = { PRICE_LIST: JSON.stringify(props.prices), CURRENCY: props.currency, TAX_RATE: String(props.taxRate) };
    const [probeSku, probeUnit] = Object.entries(props.prices)[0];
    this.pricing = new GuardedFunction(this, 'PricingApi', {
      ...fnDefaults,
      watchdog: this.watchdog,
      entry: join(__dirname, 'functions', 'pricing.ts'),
      logGroup: new logs.LogGroup(this, 'PricingApiLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      environment: pricingEnv,
      rollout: Rollout.linear({ percent: 20, everyMinutes: 2 }),
      bakeMinutes: 5,
      maxP99LatencyMs: 500,
      configChecks: [
        { key: 'PRICE_LIST', format: ConfigFormat.JSON },
        { key: 'CURRENCY', oneOf: ['USD', 'EUR', 'GBP'] },
        { key: 'TAX_RATE', format: ConfigFormat.NUMBER },
      ],
      probes: props.probes === false ? [] : [
        {
          name: 'quote-known-sku',
          event: { rawPath: '/price', requestContext: { http: { method: 'GET' } }, queryStringParameters: { sku: probeSku, qty: '2' } },
          expect: {
            status: ProbeStatus.SUCCESS,
            body: [
              { path: '$.statusCode', equalTo: 200 },
              { path: '$.body.total', equalTo: 2 * probeUnit + Math.round(2 * probeUnit * props.taxRate) },
              { path: '$.body.currency', equalTo: props.currency },
            ],
            maxLatencyMs: 500,
          },
        },
      ],
    });

    // A Python function, guarded the same way: the telemetry extension is a native binary, so it
    // gets the layer of its architecture as the Node.js functions do.
    const shippingRates = { EU: { baseCents: 490, perKgCents: 120 }, US: { baseCents: 650, perKgCents: 150 } };
    const shippingFunction = new lambda.Function(this, 'ShippingQuoteFunction', {
      runtime: lambda.Runtime.PYTHON_3_14,
      architecture: lambda.Architecture.ARM_64,
      handler: 'shipping_quote.handler',
      code: lambda.Code.fromAsset(join(__dirname, 'functions', 'shipping')),
      memorySize: 256,
      timeout: Duration.seconds(5),
      logGroup: new logs.LogGroup(this, 'ShippingQuoteLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      environment: { SHIPPING_RATES: JSON.stringify(shippingRates), CURRENCY: props.currency },
    });
    const parcelCents = (zone: keyof typeof shippingRates, kg: number) => shippingRates[zone].baseCents + Math.ceil(kg) * shippingRates[zone].perKgCents;
    this.shipping = new GuardedFunction(this, 'ShippingQuote', {
      watchdog: this.watchdog,
      existingFunction: shippingFunction,
      rollout: Rollout.canary({ percent: 10, minutes: 5 }),
      bakeMinutes: 5,
      configChecks: [
        { key: 'SHIPPING_RATES', format: ConfigFormat.JSON },
        { key: 'CURRENCY', oneOf: ['USD', 'EUR', 'GBP'] },
      ],
      probes: props.probes === false ? [] : [
        {
          name: 'quote-eu-parcel',
          event: { rawPath: '/shipping', requestContext: { http: { method: 'GET' } }, queryStringParameters: { zone: 'EU', weightKg: '2.5' } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 200 }, { path: '$.body.cents', equalTo: parcelCents('EU', 2.5) }, { path: '$.body.currency', equalTo: props.currency }], maxLatencyMs: 500 },
        },
        {
          name: 'quote-us-parcel',
          event: { rawPath: '/shipping', requestContext: { http: { method: 'GET' } }, queryStringParameters: { zone: 'US', weightKg: '1' } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 200 }, { path: '$.body.cents', equalTo: parcelCents('US', 1) }] },
        },
        {
          name: 'reject-overweight',
          event: { rawPath: '/shipping', requestContext: { http: { method: 'GET' } }, queryStringParameters: { zone: 'EU', weightKg: '31' } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 400 }] },
        },
        // Two more HTTP-status checks: with five probes a minute, HTTP 500s answered without an
        // error are seen by the probes in the canary too, not only by the new version's metrics.
        {
          name: 'quote-us-heavy-parcel',
          event: { rawPath: '/shipping', requestContext: { http: { method: 'GET' } }, queryStringParameters: { zone: 'US', weightKg: '12' } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 200 }, { path: '$.body.cents', equalTo: parcelCents('US', 12) }] },
        },
        {
          name: 'unknown-zone',
          event: { rawPath: '/shipping', requestContext: { http: { method: 'GET' } }, queryStringParameters: { zone: 'XX', weightKg: '1' } },
          expect: { status: ProbeStatus.SUCCESS, body: [{ path: '$.statusCode', equalTo: 404 }] },
        },
      ],
    });

    // Function URLs on the aliases, so users go through the weighted alias; IAM-authenticated.
    this.orders.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.pricing.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.shipping.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    this.acknowledgeNagFindings();
  }

  /** cdk-nag AwsSolutions findings this design accepts, each with its reason. */
  private acknowledgeNagFindings(): void {
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only lets each function write its own CloudWatch Logs; CDK attaches it to every function role.',
    });
  }
}
