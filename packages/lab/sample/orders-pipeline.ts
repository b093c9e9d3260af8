import { Stack, Stage, type StackProps, type StageProps } from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { ReleaseWaves } from 'canary-watchdog';
import { OrdersServiceStack, type OrdersServiceProps } from './orders-service-stack';

/** The accounts and regions of the sample pipeline: placeholders, as in the CDK's own examples. */
export const PIPELINE_ENV = { account: '111111111111', region: 'us-east-1' };
export const BETA_ENV = { account: '222222222222', region: 'us-east-1' };
export const PROD_ENVS = [
  { account: '333333333333', region: 'us-east-1' },
  { account: '333333333333', region: 'eu-west-1' },
];

/** One deployment of the sample service: the orders service stack in one account and region. */
export class OrdersServiceStage extends Stage {
  readonly service: OrdersServiceStack;

  constructor(scope: Construct, id: string, props: StageProps & { readonly service: Omit<OrdersServiceProps, keyof StackProps> }) {
    super(scope, id, props);
    this.service = new OrdersServiceStack(this, 'OrdersService', props.service);
  }
}

export interface OrdersPipelineProps extends StackProps {
  readonly service: Omit<OrdersServiceProps, keyof StackProps>;
  /** `owner/repo` of the source. */
  readonly repository: string;
  /** ARN of the CodeStar connection to the repository (created once in the console). */
  readonly connectionArn: string;
}

/**
 * The sample's pipeline: synth, then three waves. Beta bakes 30 minutes, the first production
 * region 60 minutes, and the last region 15 (the end of the release; its bake only marks the
 * execution failed so that someone looks).
 */
export class OrdersPipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  readonly waves: ReleaseWaves;

  constructor(scope: Construct, id: string, props: OrdersPipelineProps) {
    super(scope, id, props);
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      // Stages in other accounts than the pipeline's need KMS-encrypted, shareable artifacts.
      crossAccountKeys: true,
      synth: new pipelines.ShellStep('Synth', {
        input: pipelines.CodePipelineSource.connection(props.repository, 'main', { connectionArn: props.connectionArn }),
        commands: ['npm ci', 'npm run bundle', 'cd packages/lab', 'npx cdk synth -a "npx tsx --tsconfig ../../tsconfig.json bin/pipeline.ts"'],
        primaryOutputDirectory: 'packages/lab/cdk.out',
      }),
    });
    const stage = (id: string, env: { account: string; region: string }) => new OrdersServiceStage(this, id, { env, service: props.service });
    this.waves = new ReleaseWaves(this, 'Waves', {
      pipeline: this.pipeline,
      waves: [
        { name: 'beta', stages: [stage('Beta', BETA_ENV)], bakeMinutes: 30 },
        { name: 'prod-first', stages: [stage('ProdUsEast1', PROD_ENVS[0])], bakeMinutes: 60 },
        { name: 'prod-rest', stages: [stage('ProdEuWest1', PROD_ENVS[1])], bakeMinutes: 15 },
      ],
    });
  }
}

/** The sample pipeline with the service's configuration from cdk.json's context, as bin/app.ts reads it. */
export function ordersPipelineFromContext(app: Construct): OrdersPipelineStack {
  const ctx = (key: string) => app.node.tryGetContext(`orders-service:${key}`);
  return new OrdersPipelineStack(app, 'OrdersPipeline', {
    env: PIPELINE_ENV,
    repository: ctx('repository') ?? 'my-org/orders-service',
    connectionArn: ctx('connectionArn') ?? `arn:aws:codeconnections:${PIPELINE_ENV.region}:${PIPELINE_ENV.account}:connection/00000000-0000-0000-0000-000000000000`,
    service: {
      prices: ctx('prices'),
      currency: ctx('currency'),
      taxRate: Number(ctx('taxRate')),
      maxItemsPerOrder: Number(ctx('maxItemsPerOrder')),
      paymentMode: ctx('paymentMode'),
    },
  });
}
